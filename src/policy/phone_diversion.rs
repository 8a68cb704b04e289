//! `phone_diversion`: a share of the calls the dispatcher judges care-eligible is resolved on
//! the phone by a crisis-line (988) counsellor, from a pool of kind `counsellor`; nobody is
//! sent. Every other call, and a resolvable call that finds every counsellor busy, follows a
//! base policy (`then`, default `police_only`). The dispatcher's judgement is the base's, so
//! give triage keys to the base.

use std::sync::Arc;

use serde::Deserialize;

use super::{
    CallContext, Escalation, Policy, PolicyError, Route, Routing, SystemView, UnitChooser,
};
use crate::calls::rng::Purpose;
use crate::scenario::ResponderKind;

pub const NAME: &str = "phone_diversion";

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PhoneDiversionConfig {
    /// Share of eligible-judged calls a counsellor can resolve by phone.
    share_resolved_by_phone: f64,
    /// The base policy and its parameters, e.g. `{ policy = "care_first", max_care_wait_minutes = 10 }`.
    #[serde(default)]
    then: Option<toml::Table>,
}

#[derive(Debug)]
pub struct PhoneDiversion {
    pub share_resolved_by_phone: f64,
    pub base: Arc<dyn Policy>,
}

pub(super) fn build(params: &toml::Table) -> Result<Arc<dyn Policy>, PolicyError> {
    let config: PhoneDiversionConfig = super::parse_params(NAME, params)?;
    let share = super::probability("share_resolved_by_phone", config.share_resolved_by_phone)?;
    let mut then = config.then.unwrap_or_default();
    let rule = match then.remove("policy") {
        None => super::police_only::NAME.to_string(),
        Some(toml::Value::String(rule)) => rule,
        Some(other) => {
            return Err(PolicyError {
                field: Some("then.policy".into()),
                expected: format!("a policy name, found {other}"),
            });
        }
    };
    if rule == NAME {
        return Err(PolicyError {
            field: Some("then.policy".into()),
            expected: format!("a base policy other than `{NAME}`"),
        });
    }
    let (_, base) = super::build(&rule, &then).map_err(|err| PolicyError {
        field: Some(match err.field {
            Some(field) => format!("then.{field}"),
            None => "then".into(),
        }),
        expected: err.expected,
    })?;
    Ok(Arc::new(PhoneDiversion {
        share_resolved_by_phone: share,
        base,
    }))
}

impl Policy for PhoneDiversion {
    fn route(&self, call: &CallContext<'_>, system: &SystemView) -> Routing {
        let base = self.base.route(call, system);
        if base.triaged_eligible
            && call.uniform(Purpose::PhoneResolvable) < self.share_resolved_by_phone
        {
            Routing::to(Route::Phone, true)
        } else {
            base
        }
    }

    fn escalate(&self, call: &CallContext<'_>, why: Escalation, system: &SystemView) -> Route {
        match why {
            // The line is busy: the call goes where the base policy would have sent it.
            Escalation::LineBusy => self.base.route(call, system).route,
            other => self.base.escalate(call, other, system),
        }
    }

    /// The base policy picks the units, including the counsellor.
    fn unit_chooser(&self) -> Option<&dyn UnitChooser> {
        self.base.unit_chooser()
    }

    fn uses(&self, kind: ResponderKind) -> bool {
        kind == ResponderKind::Counsellor || self.base.uses(kind)
    }

    fn follows_up(&self) -> bool {
        self.base.follows_up()
    }
}
