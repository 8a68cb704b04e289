//! The scenario file exactly as written: a serde mirror of the TOML with unknown keys refused.
//! Nothing here is checked beyond types; `Scenario::try_from_raw` does every value check once.

use serde::Deserialize;

use super::{AfterClear, FacilityKind, ResponderKind, Weekday};
use crate::scenario::distribution::{DurationSpec, TravelVariation};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub city: RawCity,
    #[serde(default)]
    pub run: RawRun,
    pub demand: RawDemand,
    pub zones: Vec<RawZone>,
    pub travel: RawTravel,
    pub call_types: Vec<RawCallType>,
    pub fleet: Vec<RawPool>,
    pub policies: Vec<RawPolicy>,
    /// Time an outcome adds to the responding unit after its on-scene time (optional).
    #[serde(default)]
    pub outcome_time: RawOutcomeTime,
    /// Receiving facilities: emergency departments, crisis centers, sobering centers, jails.
    #[serde(default)]
    pub facilities: Vec<RawFacility>,
    /// Where transports go: preference lists of facility names.
    pub transport: Option<RawTransport>,
    /// The downstream cost ledger (optional; a line left out is "not costed").
    pub costs: Option<RawCosts>,
    /// Call-processing time from received to dispatch, by priority (optional).
    pub dispatch_delay: Option<std::collections::BTreeMap<String, DurationSpec>>,
}

/// One `[[facilities]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFacility {
    pub name: String,
    pub kind: FacilityKind,
    pub zone: String,
    /// A number of beds or places, or the string "unlimited".
    pub beds: toml::Value,
    pub length_of_stay_hours: Option<DurationSpec>,
    pub handover_minutes: Option<DurationSpec>,
    pub used_by: Option<Vec<ResponderKind>>,
}

/// `[transport]`: the default preference lists.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTransport {
    /// Where a person the responders transport for care goes (the `er_transport` outcome).
    #[serde(default)]
    pub treatment: Vec<String>,
    /// Where a booked arrest goes.
    #[serde(default)]
    pub booking: Vec<String>,
}

/// `[costs]`: dollars per event, in the year's dollars the fleet costs use.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCosts {
    pub booking: Option<f64>,
    pub jail_bed_day: Option<f64>,
    pub jail_days_per_booking: Option<DurationSpec>,
    pub ed_visit: Option<f64>,
    pub ambulance_transport: Option<f64>,
    pub ambulance_share: Option<f64>,
    pub crisis_center_admission: Option<f64>,
    pub sobering_admission: Option<f64>,
    pub call_988: Option<f64>,
    pub force_claim_probability: Option<f64>,
    pub force_claim_mean: Option<f64>,
}

/// `[outcome_time.police]` and `[outcome_time.care]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutcomeTime {
    pub police: Option<RawOutcomeDurations>,
    pub care: Option<RawOutcomeDurations>,
}

/// Per outcome: how long it keeps the unit busy after the scene.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutcomeDurations {
    /// Transport and booking (police only).
    pub arrest: Option<DurationSpec>,
    /// Transport to the emergency department and the wait for handover (when the call has no
    /// facility to go to).
    pub er_transport: Option<DurationSpec>,
    /// Report writing after a reportable incident (an arrest, a use of force, a transport).
    pub report: Option<DurationSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCity {
    pub name: String,
    pub population: f64,
    pub horizon_days: f64,
    #[serde(default)]
    pub warmup_days: f64,
    /// A TOML local date (`2024-01-01`); sets the weekday of day 0 and the calendar of outputs.
    pub start_date: Option<toml::value::Datetime>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRun {
    #[serde(default = "default_replications")]
    pub replications: i64,
    #[serde(default = "default_seed")]
    pub seed: u64,
}

impl Default for RawRun {
    fn default() -> Self {
        Self {
            replications: default_replications(),
            seed: default_seed(),
        }
    }
}

fn default_replications() -> i64 {
    10
}

fn default_seed() -> u64 {
    1
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDemand {
    pub calls_per_day: f64,
    pub hour_of_day: Option<Vec<f64>>,
    pub day_of_week: Option<Vec<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawZone {
    pub name: String,
    pub share: f64,
    /// Where the zone is (projected units, as the stream's `x`, `y`): a call with coordinates
    /// and no zone goes to the zone of the nearest centre.
    pub center: Option<[f64; 2]>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTravel {
    pub minutes: Vec<Vec<f64>>,
    #[serde(default)]
    pub variation: TravelVariation,
    #[serde(default)]
    pub cv: f64,
    /// With `variation = "empirical"`: the factor's quantiles (scaled to mean 1).
    pub quantiles: Option<Vec<f64>>,
    /// A factor on every trip to calls of a priority (`2 = 1.2`): driving without lights and
    /// sirens to lower priorities, say.
    #[serde(default)]
    pub priority_factor: std::collections::BTreeMap<String, f64>,
    /// A factor distribution of its own for a priority's trips (`2 = [quantiles]`), used as
    /// given (not scaled to mean 1): a log's travel of that priority over the matrix's mean.
    #[serde(default)]
    pub priority_quantiles: std::collections::BTreeMap<String, Vec<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCallType {
    pub name: String,
    pub share: f64,
    pub priority: i64,
    pub care_eligible: bool,
    /// False for work that takes units but is not 911 demand (scheduled transports, say).
    #[serde(default = "yes")]
    pub demand: bool,
    pub on_scene: RawOnScene,
    #[serde(default)]
    pub outcomes: RawOutcomes,
    /// This call type's treatment preference list (overrides `[transport] treatment`).
    pub transport_to: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOnScene {
    pub police: DurationSpec,
    pub care: Option<DurationSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutcomes {
    #[serde(default)]
    pub police: RawPoliceOutcomes,
    #[serde(default)]
    pub care: RawCareOutcomes,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPoliceOutcomes {
    #[serde(default)]
    pub arrest: f64,
    #[serde(default)]
    pub booking: f64,
    #[serde(default)]
    pub force: f64,
    #[serde(default)]
    pub injury: f64,
    #[serde(default)]
    pub er_transport: f64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCareOutcomes {
    #[serde(default)]
    pub arrest: f64,
    #[serde(default)]
    pub booking: f64,
    #[serde(default)]
    pub force: f64,
    #[serde(default)]
    pub injury: f64,
    #[serde(default)]
    pub er_transport: f64,
    #[serde(default)]
    pub backup: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPool {
    pub name: String,
    pub kind: ResponderKind,
    pub count: i64,
    pub home_zones: Option<Vec<String>>,
    #[serde(default)]
    pub shifts: Vec<RawShift>,
    pub cost_per_unit_hour: Option<f64>,
    pub cost_per_unit_year: Option<f64>,
    #[serde(default)]
    pub after_clear: AfterClear,
    pub call_minutes: Option<DurationSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawShift {
    pub start_hour: f64,
    pub hours: f64,
    pub count: Option<i64>,
    pub days: Option<Vec<Weekday>>,
}

/// `policy` names the rule; every other key is that rule's parameter, checked by the rule.
#[derive(Debug, Deserialize)]
pub struct RawPolicy {
    pub policy: String,
    pub label: Option<String>,
    #[serde(flatten)]
    pub params: toml::Table,
}

fn yes() -> bool {
    true
}
