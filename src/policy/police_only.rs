//! `police_only`: every call goes to police. The baseline every program is compared against.
//! It takes the triage keys (`sensitivity`, `specificity`) only to record the dispatcher's
//! judgement, which matters when it is the base of another policy (`phone_diversion`).

use std::sync::Arc;

use serde::Deserialize;

use super::triage::Triage;
use super::{CallContext, Policy, PolicyError, Route, Routing, SystemView};
use crate::scenario::ResponderKind;

pub const NAME: &str = "police_only";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PoliceOnlyConfig {
    sensitivity: Option<f64>,
    specificity: Option<f64>,
}

/// Every call goes to police.
#[derive(Debug, Clone, Copy)]
pub struct PoliceOnly {
    pub triage: Triage,
}

impl Default for PoliceOnly {
    fn default() -> Self {
        Self {
            triage: Triage::PERFECT,
        }
    }
}

pub(super) fn build(params: &toml::Table) -> Result<Arc<dyn Policy>, PolicyError> {
    let config: PoliceOnlyConfig = super::parse_params(NAME, params)?;
    Ok(Arc::new(PoliceOnly {
        triage: Triage::from_keys(config.sensitivity, config.specificity)?,
    }))
}

impl Policy for PoliceOnly {
    fn route(&self, call: &CallContext<'_>, _system: &SystemView) -> Routing {
        Routing::to(Route::Police, self.triage.judges_eligible(call))
    }

    fn uses(&self, kind: ResponderKind) -> bool {
        kind == ResponderKind::Police
    }
}
