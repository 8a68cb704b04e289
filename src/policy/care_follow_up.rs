//! `care_follow_up`: police respond to every call first; for a share of the calls the
//! dispatcher judges care-eligible, a care team follows up after police clear, if one can start
//! within the window (else the follow-up is missed and counted). The common "compromise": it
//! spends care hours without freeing any police time.

use std::sync::Arc;

use serde::Deserialize;

use super::triage::Triage;
use super::{CallContext, Policy, PolicyError, Route, Routing, SystemView};
use crate::calls::rng::Purpose;
use crate::scenario::ResponderKind;

pub const NAME: &str = "care_follow_up";

#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CareFollowUpConfig {
    /// Share of eligible-judged calls a care team follows up.
    #[serde(default = "all")]
    pub follow_up_share: f64,
    /// The follow-up visit must start within this many hours of police clearing.
    #[serde(default = "two_days")]
    pub within_hours: f64,
    pub sensitivity: Option<f64>,
    pub specificity: Option<f64>,
}

fn all() -> f64 {
    1.0
}

fn two_days() -> f64 {
    48.0
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CareFollowUp {
    pub config: CareFollowUpConfig,
    pub triage: Triage,
}

pub(super) fn build(params: &toml::Table) -> Result<Arc<dyn Policy>, PolicyError> {
    let config: CareFollowUpConfig = super::parse_params(NAME, params)?;
    super::probability("follow_up_share", config.follow_up_share)?;
    super::minutes("within_hours", config.within_hours)?;
    Ok(Arc::new(CareFollowUp {
        config,
        triage: Triage::from_keys(config.sensitivity, config.specificity)?,
    }))
}

impl Policy for CareFollowUp {
    fn route(&self, call: &CallContext<'_>, _system: &SystemView) -> Routing {
        let eligible = self.triage.judges_eligible(call);
        let follow_up = eligible
            && self.config.within_hours > 0.0
            && call.uniform(Purpose::FollowUpChosen) < self.config.follow_up_share;
        Routing {
            route: Route::Police,
            triaged_eligible: eligible,
            follow_up_within_minutes: follow_up.then_some(self.config.within_hours * 60.0),
        }
    }

    fn uses(&self, kind: ResponderKind) -> bool {
        matches!(kind, ResponderKind::Police | ResponderKind::Care)
    }

    fn follows_up(&self) -> bool {
        true
    }
}
