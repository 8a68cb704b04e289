//! `care_with_backup`: calls the dispatcher judges care-eligible go to a care team, as under
//! `care_first`, and a share of them (e.g. where a weapon is mentioned) get a police unit sent
//! alongside at once. Police also come on request from the scene (the call type's
//! `outcomes.care.backup` rate). With no care team in time, police go alone.

use std::sync::Arc;

use serde::Deserialize;

use super::triage::Triage;
use super::{CallContext, Policy, PolicyError, Route, Routing, SystemView};
use crate::calls::rng::Purpose;
use crate::scenario::ResponderKind;

pub const NAME: &str = "care_with_backup";

#[derive(Clone, Copy, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CareWithBackupConfig {
    /// How long an eligible call may wait for a care team before police go instead.
    #[serde(default)]
    pub max_care_wait_minutes: f64,
    /// Share of care-routed calls that get police sent alongside from the start.
    pub police_alongside_share: f64,
    pub sensitivity: Option<f64>,
    pub specificity: Option<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CareWithBackup {
    pub config: CareWithBackupConfig,
    pub triage: Triage,
}

pub(super) fn build(params: &toml::Table) -> Result<Arc<dyn Policy>, PolicyError> {
    let config: CareWithBackupConfig = super::parse_params(NAME, params)?;
    super::minutes("max_care_wait_minutes", config.max_care_wait_minutes)?;
    super::probability("police_alongside_share", config.police_alongside_share)?;
    Ok(Arc::new(CareWithBackup {
        config,
        triage: Triage::from_keys(config.sensitivity, config.specificity)?,
    }))
}

impl Policy for CareWithBackup {
    fn route(&self, call: &CallContext<'_>, _system: &SystemView) -> Routing {
        let eligible = self.triage.judges_eligible(call);
        let max_wait_minutes = self.config.max_care_wait_minutes;
        let route = if !eligible {
            Route::Police
        } else if call.uniform(Purpose::PoliceAlongside) < self.config.police_alongside_share {
            Route::CareWithPolice { max_wait_minutes }
        } else {
            Route::Care { max_wait_minutes }
        };
        Routing::to(route, eligible)
    }

    fn uses(&self, kind: ResponderKind) -> bool {
        matches!(kind, ResponderKind::Police | ResponderKind::Care)
    }
}
