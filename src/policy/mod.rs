//! Routing policies: the small strategy the engine asks "who goes to this call?". A policy sees
//! the call (its type, its triage draw) and a read-only view of the fleet, and answers with a
//! [`Routing`]; the engine carries the answer out (queues, backup, pairing a clinician, the
//! crisis line, follow-ups). When a route fails (no care team in time, the line busy) the
//! engine asks the policy again ([`Policy::escalate`]). A policy may also pick *which* unit
//! goes ([`UnitChooser`]); by default the nearest free one does. The event loop never changes
//! to add a policy.
//!
//! The rules: `police_only`, `care_first`, `care_with_backup`, `co_responder`,
//! `phone_diversion`, `care_follow_up`. Each takes the triage lever ([`Triage`]:
//! `sensitivity`, `specificity`) beside its own parameters.
//!
//! ## What a change touches
//! - **A new policy** is one new file here (a config struct with serde, unknown keys refused;
//!   an `impl Policy`; its tests) and one line in [`REGISTRY`]. A per-call random choice of its
//!   own uses [`CallContext::policy_uniform`] with a stream number of its choosing: no new
//!   [`Purpose`] and no engine change.
//! - **A new choice of unit** ("send the team already in that zone", "keep one car in
//!   reserve") is an `impl UnitChooser` beside the policy, returned by
//!   [`Policy::unit_chooser`]. [`FleetQuery`] shows free units by kind and zone.
//! - **A new kind of action** (a new [`Route`] variant) is the route here, its handling in
//!   `engine/dispatch/mod.rs` (`start_route`, and `escalate` if it can fail), and, if it sends
//!   a new kind of responder, that kind in `scenario` ([`ResponderKind`]) and its figures in
//!   `stats`.
//!
//! For example, a rule that sends every call the dispatcher judges eligible to care, with no
//! waiting, and prefers a team already in the call's zone:
//!
//! ```
//! use crisis_sim::policy::{
//!     CallContext, FleetQuery, Policy, Route, Routing, SystemView, Triage, UnitChooser,
//!     UnitRequest,
//! };
//! use crisis_sim::scenario::{ResponderKind, UnitId};
//!
//! #[derive(Debug)]
//! struct CareIfEligible {
//!     triage: Triage,
//! }
//!
//! impl Policy for CareIfEligible {
//!     fn route(&self, call: &CallContext<'_>, _system: &SystemView) -> Routing {
//!         let eligible = self.triage.judges_eligible(call);
//!         let route = if eligible { Route::Care { max_wait_minutes: 0.0 } } else { Route::Police };
//!         Routing::to(route, eligible)
//!     }
//!
//!     fn uses(&self, kind: ResponderKind) -> bool {
//!         matches!(kind, ResponderKind::Police | ResponderKind::Care)
//!     }
//!
//!     fn unit_chooser(&self) -> Option<&dyn UnitChooser> {
//!         Some(self)
//!     }
//! }
//!
//! impl UnitChooser for CareIfEligible {
//!     fn choose_unit(&self, request: &UnitRequest<'_>, fleet: &dyn FleetQuery) -> Option<UnitId> {
//!         fleet
//!             .free_in_zone(request.kind, request.call.zone)
//!             .or_else(|| fleet.nearest_free(request.kind, request.call.zone))
//!     }
//! }
//! ```

mod care_first;
mod care_follow_up;
mod care_with_backup;
mod co_responder;
mod phone_diversion;
mod police_only;
mod triage;

use std::fmt;
use std::sync::Arc;

pub use care_first::{CareFirst, CareFirstConfig};
pub use care_follow_up::{CareFollowUp, CareFollowUpConfig};
pub use care_with_backup::{CareWithBackup, CareWithBackupConfig};
pub use co_responder::{CoResponder, CoResponderConfig};
pub use phone_diversion::PhoneDiversion;
pub use police_only::PoliceOnly;
pub use triage::{Triage, TriageParams};

use crate::calls::Call;
use crate::calls::rng::{self, Purpose};
use crate::scenario::{CallType, KINDS, PoolId, ResponderKind, UnitId, ZoneId};

/// What the engine should send to a call.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Route {
    /// The nearest free police unit, or the police queue.
    Police,
    /// The nearest free care team. If none is free, wait up to `max_wait_minutes` for one, then
    /// escalate (by default to police). With no care team on duty at all, escalate at once (a
    /// dispatcher knows the van is off shift).
    Care { max_wait_minutes: f64 },
    /// A care team as in [`Route::Care`], with a police unit sent alongside it at once (at
    /// backup priority). If the call escalates to police, police go alone.
    CareWithPolice { max_wait_minutes: f64 },
    /// A police unit, and with it the nearest clinician free when the unit is sent (both stay
    /// until the call clears). With no clinician free, police go alone.
    CoResponse,
    /// A crisis-line counsellor resolves the call by phone and no unit goes. With no counsellor
    /// free, escalate at once (the line does not hold 911 calls).
    Phone,
}

impl Route {
    /// Whether the route sends the call to a care team (alone or with police alongside).
    pub fn is_care(self) -> bool {
        matches!(self, Route::Care { .. } | Route::CareWithPolice { .. })
    }
}

/// Why the engine asks a policy again: its first route could not be carried out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Escalation {
    /// No care team was on duty, or none came free within the wait.
    NoCareTeam,
    /// Every crisis-line counsellor was busy (or none was on duty).
    LineBusy,
}

/// A policy's answer: where the call goes, and whether the dispatcher judged it care-eligible.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Routing {
    pub route: Route,
    pub triaged_eligible: bool,
    /// After the call's units clear, send a care team to follow up if one can start within
    /// this many minutes (police-first with care follow-up). `None`: no follow-up.
    pub follow_up_within_minutes: Option<f64>,
}

impl Routing {
    /// A route with no follow-up.
    pub fn to(route: Route, triaged_eligible: bool) -> Self {
        Self {
            route,
            triaged_eligible,
            follow_up_within_minutes: None,
        }
    }
}

/// The call being routed.
#[derive(Clone, Copy, Debug)]
pub struct CallContext<'a> {
    pub call: &'a Call,
    pub call_type: &'a CallType,
}

impl CallContext<'_> {
    /// The call's own uniform draw for the dispatcher's triage decision: the same under every
    /// policy, so triage errors are paired across policies.
    pub fn triage_uniform(&self) -> f64 {
        self.call.uniform(Purpose::Triage)
    }

    /// The call's own uniform draw for a policy's per-call choice (e.g. which calls a crisis
    /// line can resolve), the same under every policy.
    pub fn uniform(&self, purpose: Purpose) -> f64 {
        self.call.uniform(purpose)
    }

    /// A uniform draw of the call's own for a policy's choice, on a stream numbered by the
    /// policy (any `u32`). Every policy asking for the same stream sees the same draw for the
    /// same call, and no stream moves a built-in draw: a new policy needs no new [`Purpose`].
    pub fn policy_uniform(&self, stream: u32) -> f64 {
        rng::policy_uniform(self.call.draw_key, stream)
    }
}

/// What a unit is asked to do at a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Job {
    /// The call's first unit.
    Primary,
    /// Police backup for a care team.
    Backup,
    /// A care team's follow-up visit after the call's units cleared.
    FollowUp,
    /// A clinician going with the police unit (co-response).
    Companion,
}

/// What a policy may see of the fleet when it picks a unit: free units by kind and zone, where
/// each unit is, and the zones nearest each call zone. The engine passes its own view.
pub trait FleetQuery {
    /// The free unit of `kind` with the shortest mean travel time to `zone` (ties: lower zone
    /// index, then lower pool index, then lower unit index): what the engine sends by default.
    fn nearest_free(&self, kind: ResponderKind, zone: ZoneId) -> Option<UnitId>;
    /// The lowest free unit of `kind` that is in `zone` now (lower pool first).
    fn free_in_zone(&self, kind: ResponderKind, zone: ZoneId) -> Option<UnitId>;
    /// Free units of `kind`.
    fn free_count(&self, kind: ResponderKind) -> u32;
    /// Units of `kind` on duty by schedule.
    fn on_duty_count(&self, kind: ResponderKind) -> u32;
    /// The zones units may come from for a call in `zone`, nearest first (zone indices).
    fn zones_nearest(&self, zone: ZoneId) -> &[usize];
    /// Where a unit is (on a call: where it will be when it clears).
    fn zone_of(&self, unit: UnitId) -> ZoneId;
    /// A unit's home zone.
    fn home_of(&self, unit: UnitId) -> ZoneId;
    fn pool_of(&self, unit: UnitId) -> PoolId;
    fn kind_of(&self, unit: UnitId) -> ResponderKind;
    /// Whether a unit is free now.
    fn is_free(&self, unit: UnitId) -> bool;
}

/// The engine asks for a unit: of which kind, for which call, to do what.
#[derive(Clone, Copy, Debug)]
pub struct UnitRequest<'a> {
    pub kind: ResponderKind,
    pub call: &'a Call,
    /// The call type's priority (1 most urgent).
    pub priority: u8,
    pub job: Job,
}

/// What a policy may know of the fleet when it routes a call (per responder kind, indexed by
/// `ResponderKind::index`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SystemView {
    pub free_units: [u32; KINDS],
    pub on_duty_units: [u32; KINDS],
}

/// A routing rule. Implementations hold only their parameters: the engine calls them from many
/// threads at once, and any randomness comes from the call's own draws.
pub trait Policy: Send + Sync + fmt::Debug {
    /// Who goes to this call? Asked once, when the call arrives.
    fn route(&self, call: &CallContext<'_>, system: &SystemView) -> Routing;

    /// Where the call goes when its route could not be carried out. Asked when it happens
    /// (a care wait runs out, the crisis line is busy). Police by default; an answer that
    /// cannot escalate further ([`Route::Phone`] again) is taken as police.
    fn escalate(&self, call: &CallContext<'_>, why: Escalation, system: &SystemView) -> Route {
        let _ = (call, why, system);
        Route::Police
    }

    /// The policy's own choice of units, if it makes one ([`UnitChooser`]); `None` (the
    /// default) sends the nearest free unit ([`FleetQuery::nearest_free`]). Asked once per
    /// replication, so the default costs nothing per call.
    fn unit_chooser(&self) -> Option<&dyn UnitChooser> {
        None
    }

    /// Whether this policy's program includes units of `kind`. Pools of a kind it never uses
    /// cost nothing and have no utilization under it (police-only has no care program).
    fn uses(&self, kind: ResponderKind) -> bool;

    /// Whether this policy ever asks for care follow-up visits (their figures are reported
    /// only in scenarios with such a policy).
    fn follows_up(&self) -> bool {
        false
    }

    /// Where people transported for care go under this policy: facility indices in order of
    /// preference, overriding the scenario's and the call types' lists. `None` (the default)
    /// keeps theirs. Asked once per replication.
    fn treatment_list(&self) -> Option<&[u16]> {
        None
    }
}

/// A policy with its own treatment preference list (`transport_to` on a `[[policies]]`
/// entry): every question goes to the rule it wraps, except where people are taken.
#[derive(Debug)]
pub struct WithTransport {
    pub rule: std::sync::Arc<dyn Policy>,
    pub treatment: Vec<u16>,
}

impl Policy for WithTransport {
    fn route(&self, call: &CallContext<'_>, system: &SystemView) -> Routing {
        self.rule.route(call, system)
    }

    fn escalate(&self, call: &CallContext<'_>, why: Escalation, system: &SystemView) -> Route {
        self.rule.escalate(call, why, system)
    }

    fn unit_chooser(&self) -> Option<&dyn UnitChooser> {
        self.rule.unit_chooser()
    }

    fn uses(&self, kind: ResponderKind) -> bool {
        self.rule.uses(kind)
    }

    fn follows_up(&self) -> bool {
        self.rule.follows_up()
    }

    fn treatment_list(&self) -> Option<&[u16]> {
        Some(&self.treatment)
    }
}

/// A policy's choice of which free unit goes. A policy that picks units implements this too and
/// returns itself from [`Policy::unit_chooser`].
pub trait UnitChooser: Send + Sync + fmt::Debug {
    /// Which free unit goes, when the engine needs one of `request.kind` and at least one is
    /// free. `None` leaves the job waiting in its queue (a unit that comes free later takes the
    /// head of the queue without asking). The answer must be a free unit of the requested kind.
    fn choose_unit(&self, request: &UnitRequest<'_>, fleet: &dyn FleetQuery) -> Option<UnitId>;
}

/// A policy parameter problem: the field (if one) and what was expected.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyError {
    pub field: Option<String>,
    pub expected: String,
}

type Builder = fn(&toml::Table) -> Result<Arc<dyn Policy>, PolicyError>;

/// Every policy by name: the names a scenario's `policy = "..."` may use.
pub const REGISTRY: &[(&str, Builder)] = &[
    (police_only::NAME, police_only::build),
    (care_first::NAME, care_first::build),
    (care_with_backup::NAME, care_with_backup::build),
    (co_responder::NAME, co_responder::build),
    (phone_diversion::NAME, phone_diversion::build),
    (care_follow_up::NAME, care_follow_up::build),
];

/// The valid policy names, for messages.
pub fn names() -> Vec<&'static str> {
    REGISTRY.iter().map(|(name, _)| *name).collect()
}

/// Builds the policy called `name` from its parameters.
pub fn build(
    name: &str,
    params: &toml::Table,
) -> Result<(&'static str, Arc<dyn Policy>), PolicyError> {
    let Some((rule, builder)) = REGISTRY.iter().find(|(n, _)| *n == name) else {
        return Err(PolicyError {
            field: None,
            expected: format!("one of {}, found `{name}`", quoted(&names())),
        });
    };
    builder(params).map(|policy| (*rule, policy))
}

/// Deserialises a policy's parameters, turning serde's message into a [`PolicyError`].
fn parse_params<T: serde::de::DeserializeOwned>(
    rule: &str,
    params: &toml::Table,
) -> Result<T, PolicyError> {
    params
        .clone()
        .try_into()
        .map_err(|err: toml::de::Error| PolicyError {
            field: None,
            expected: format!(
                "valid parameters for `{rule}`: {}",
                err.message().trim_end()
            ),
        })
}

/// Checks a probability parameter.
fn probability(field: &str, value: f64) -> Result<f64, PolicyError> {
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(PolicyError {
            field: Some(field.to_string()),
            expected: format!("a probability in [0, 1], found {value}"),
        })
    }
}

/// Checks a non-negative duration parameter.
fn minutes(field: &str, value: f64) -> Result<f64, PolicyError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(PolicyError {
            field: Some(field.to_string()),
            expected: format!("a duration >= 0, found {value}"),
        })
    }
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_policy_lists_the_valid_names() {
        let err = build("care_last", &toml::Table::new()).unwrap_err();
        assert!(err.expected.contains("`police_only`"), "{}", err.expected);
        assert!(err.expected.contains("`care_first`"), "{}", err.expected);
        assert!(err.expected.contains("`care_last`"), "{}", err.expected);
    }

    #[test]
    fn unknown_parameter_names_the_valid_ones() {
        let params: toml::Table = toml::from_str("max_wait = 3").unwrap();
        let err = build("care_first", &params).unwrap_err();
        assert!(err.expected.contains("max_wait"), "{}", err.expected);
        assert!(
            err.expected.contains("max_care_wait_minutes"),
            "{}",
            err.expected
        );
        let err = build("police_only", &params).unwrap_err();
        assert!(err.expected.contains("police_only"), "{}", err.expected);
    }
}
