//! `co_responder`: a police officer and a mental-health clinician go together to calls the
//! dispatcher judges care-eligible. The clinician comes from a pool of kind `clinician`, paired
//! with the police unit when it is sent (the nearest free one); with none free, police go alone.
//! Both stay for the whole visit, so the program spends clinician hours without freeing police
//! time. Every other call goes to police.

use std::sync::Arc;

use serde::Deserialize;

use super::triage::Triage;
use super::{CallContext, Policy, PolicyError, Route, Routing, SystemView};
use crate::scenario::ResponderKind;

pub const NAME: &str = "co_responder";

#[derive(Clone, Copy, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoResponderConfig {
    pub sensitivity: Option<f64>,
    pub specificity: Option<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CoResponder {
    pub triage: Triage,
}

pub(super) fn build(params: &toml::Table) -> Result<Arc<dyn Policy>, PolicyError> {
    let config: CoResponderConfig = super::parse_params(NAME, params)?;
    Ok(Arc::new(CoResponder {
        triage: Triage::from_keys(config.sensitivity, config.specificity)?,
    }))
}

impl Policy for CoResponder {
    fn route(&self, call: &CallContext<'_>, _system: &SystemView) -> Routing {
        let eligible = self.triage.judges_eligible(call);
        Routing::to(
            if eligible {
                Route::CoResponse
            } else {
                Route::Police
            },
            eligible,
        )
    }

    fn uses(&self, kind: ResponderKind) -> bool {
        matches!(kind, ResponderKind::Police | ResponderKind::Clinician)
    }
}
