//! `care_first`: a call the dispatcher judges care-eligible goes to a care team, waiting up to
//! `max_care_wait_minutes` for one to be free, then to police; every other call goes to police.
//! Triage errs both ways: some eligible calls go to police anyway, some ineligible calls go to
//! care (and that team then calls police backup, which the engine handles). Triage is given as
//! `sensitivity` / `specificity` like every policy, or as the older `eligible_sent_to_police`
//! (1 - sensitivity) / `ineligible_sent_to_care` (1 - specificity).

use std::sync::Arc;

use serde::Deserialize;

use super::triage::{Triage, TriageParams};
use super::{CallContext, Policy, PolicyError, Route, Routing, SystemView};
use crate::scenario::ResponderKind;

pub const NAME: &str = "care_first";

/// Parameters of `care_first` as written in a scenario.
#[derive(Clone, Copy, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CareFirstConfig {
    /// How long an eligible call may wait for a care team; 0 = overflow to police at once.
    #[serde(default)]
    pub max_care_wait_minutes: f64,
    /// Share of eligible calls the dispatcher sends to police anyway (1 - sensitivity).
    #[serde(default)]
    pub eligible_sent_to_police: f64,
    /// Share of ineligible calls the dispatcher sends to care (1 - specificity).
    #[serde(default)]
    pub ineligible_sent_to_care: f64,
    /// Share of eligible calls the dispatcher recognises (overrides `eligible_sent_to_police`).
    #[serde(default)]
    pub sensitivity: Option<f64>,
    /// Share of ineligible calls the dispatcher recognises as such.
    #[serde(default)]
    pub specificity: Option<f64>,
}

/// See the module docs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CareFirst {
    pub config: CareFirstConfig,
    pub triage: Triage,
}

impl CareFirst {
    pub fn new(config: CareFirstConfig) -> Result<Self, PolicyError> {
        let wait = config.max_care_wait_minutes;
        if !(wait.is_finite() && wait >= 0.0) {
            return Err(PolicyError {
                field: Some("max_care_wait_minutes".into()),
                expected: format!("a number of minutes >= 0, found {wait}"),
            });
        }
        super::probability("eligible_sent_to_police", config.eligible_sent_to_police)?;
        super::probability("ineligible_sent_to_care", config.ineligible_sent_to_care)?;
        let both = |old: f64, new: Option<f64>, old_name: &str, new_name: &str| {
            if old != 0.0 && new.is_some() {
                Err(PolicyError {
                    field: Some(new_name.into()),
                    expected: format!("either `{new_name}` or `{old_name}`, not both"),
                })
            } else {
                Ok(new.unwrap_or(1.0 - old))
            }
        };
        let triage = Triage::new(TriageParams {
            sensitivity: Some(both(
                config.eligible_sent_to_police,
                config.sensitivity,
                "eligible_sent_to_police",
                "sensitivity",
            )?),
            specificity: Some(both(
                config.ineligible_sent_to_care,
                config.specificity,
                "ineligible_sent_to_care",
                "specificity",
            )?),
        })?;
        Ok(Self { config, triage })
    }
}

pub(super) fn build(params: &toml::Table) -> Result<Arc<dyn Policy>, PolicyError> {
    Ok(Arc::new(CareFirst::new(super::parse_params(
        NAME, params,
    )?)?))
}

impl Policy for CareFirst {
    fn route(&self, call: &CallContext<'_>, _system: &SystemView) -> Routing {
        let triaged_eligible = self.triage.judges_eligible(call);
        let route = if triaged_eligible {
            Route::Care {
                max_wait_minutes: self.config.max_care_wait_minutes,
            }
        } else {
            Route::Police
        };
        Routing::to(route, triaged_eligible)
    }

    fn uses(&self, kind: ResponderKind) -> bool {
        matches!(kind, ResponderKind::Police | ResponderKind::Care)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calls::Call;
    use crate::scenario::{CallTypeId, Scenario, ZoneId};

    fn share_triaged_to_care(policy: &CareFirst, eligible: bool) -> f64 {
        let scenario = Scenario::default_scenario();
        let call_type = scenario
            .call_types
            .iter()
            .find(|t| t.care_eligible == eligible)
            .unwrap();
        let n = 100_000;
        let to_care = (0..n)
            .filter(|&id| {
                let call = Call {
                    id,
                    received_minutes: 0.0,
                    call_type: CallTypeId(0),
                    zone: ZoneId(0),
                    draw_key: crate::calls::rng::call_key(77, id),
                };
                let routing = policy.route(
                    &CallContext {
                        call: &call,
                        call_type,
                    },
                    &SystemView::default(),
                );
                matches!(routing.route, Route::Care { .. })
            })
            .count();
        to_care as f64 / n as f64
    }

    #[test]
    fn triage_errors_happen_at_the_configured_rates() {
        let policy = CareFirst::new(CareFirstConfig {
            max_care_wait_minutes: 5.0,
            eligible_sent_to_police: 0.2,
            ineligible_sent_to_care: 0.05,
            ..CareFirstConfig::default()
        })
        .unwrap();
        let eligible = share_triaged_to_care(&policy, true);
        let ineligible = share_triaged_to_care(&policy, false);
        assert!((eligible - 0.8).abs() < 0.005, "{eligible}");
        assert!((ineligible - 0.05).abs() < 0.003, "{ineligible}");
    }

    #[test]
    fn perfect_triage_sends_exactly_the_eligible_calls() {
        let policy = CareFirst::new(CareFirstConfig {
            max_care_wait_minutes: 0.0,
            eligible_sent_to_police: 0.0,
            ineligible_sent_to_care: 0.0,
            ..CareFirstConfig::default()
        })
        .unwrap();
        assert_eq!(share_triaged_to_care(&policy, true), 1.0);
        assert_eq!(share_triaged_to_care(&policy, false), 0.0);
    }

    #[test]
    fn bad_parameters_are_refused_with_the_field() {
        let err = CareFirst::new(CareFirstConfig {
            max_care_wait_minutes: -1.0,
            eligible_sent_to_police: 0.0,
            ineligible_sent_to_care: 0.0,
            ..CareFirstConfig::default()
        })
        .unwrap_err();
        assert_eq!(err.field.as_deref(), Some("max_care_wait_minutes"));
        let err = CareFirst::new(CareFirstConfig {
            max_care_wait_minutes: 0.0,
            eligible_sent_to_police: 1.5,
            ineligible_sent_to_care: 0.0,
            ..CareFirstConfig::default()
        })
        .unwrap_err();
        assert_eq!(err.field.as_deref(), Some("eligible_sent_to_police"));
    }
}
