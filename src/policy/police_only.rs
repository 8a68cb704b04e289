//! `police_only`: every call goes to police. The baseline every program is compared against.

use std::sync::Arc;

use serde::Deserialize;

use super::{CallContext, Policy, PolicyError, Route, Routing, SystemView};
use crate::scenario::ResponderKind;

pub const NAME: &str = "police_only";

/// Takes no parameters.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PoliceOnlyConfig {}

/// Every call goes to police; the dispatcher's eligibility judgement is recorded as perfect.
#[derive(Debug, Default, Clone, Copy)]
pub struct PoliceOnly;

pub(super) fn build(params: &toml::Table) -> Result<Arc<dyn Policy>, PolicyError> {
    let PoliceOnlyConfig {} = super::parse_params(NAME, params)?;
    Ok(Arc::new(PoliceOnly))
}

impl Policy for PoliceOnly {
    fn route(&self, call: &CallContext<'_>, _system: &SystemView) -> Routing {
        Routing {
            route: Route::Police,
            triaged_eligible: call.call_type.care_eligible,
        }
    }

    fn uses(&self, kind: ResponderKind) -> bool {
        kind == ResponderKind::Police
    }
}
