//! Routing policies: the small strategy the engine asks "who goes to this call?". A policy sees
//! the call (its type, its triage draw) and a read-only view of the fleet, and answers with a
//! [`Route`]; the engine carries the answer out (nearest free unit, queues, fallback, backup).
//!
//! Adding a policy is one new file here: a config struct (serde, unknown keys refused), an
//! `impl Policy`, its tests, and one line in [`REGISTRY`]. For example, a rule that sends every
//! eligible call to care with no waiting and no triage error:
//!
//! ```
//! use crisis_sim::policy::{CallContext, Policy, Route, Routing, SystemView};
//!
//! #[derive(Debug)]
//! struct CareIfEligible;
//!
//! impl Policy for CareIfEligible {
//!     fn route(&self, call: &CallContext<'_>, _system: &SystemView) -> Routing {
//!         let eligible = call.call_type.care_eligible;
//!         Routing {
//!             route: if eligible { Route::Care { max_wait_minutes: 0.0 } } else { Route::Police },
//!             triaged_eligible: eligible,
//!         }
//!     }
//! }
//! ```

mod care_first;
mod police_only;

use std::fmt;
use std::sync::Arc;

pub use care_first::{CareFirst, CareFirstConfig};
pub use police_only::PoliceOnly;

use crate::calls::Call;
use crate::rng::Purpose;
use crate::scenario::{CallType, ResponderKind};

/// What the engine should send to a call.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Route {
    /// The nearest free police unit, or the police queue.
    Police,
    /// The nearest free care team. If none is free, wait up to `max_wait_minutes` for one, then
    /// police. With no care team on duty at all, police at once (a dispatcher knows the van is
    /// off shift).
    Care { max_wait_minutes: f64 },
}

/// A policy's answer: where the call goes, and whether the dispatcher judged it care-eligible.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Routing {
    pub route: Route,
    pub triaged_eligible: bool,
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
}

/// What a policy may know of the fleet when it routes a call (per responder kind, indexed by
/// `ResponderKind::index`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SystemView {
    pub free_units: [u32; 2],
    pub on_duty_units: [u32; 2],
}

/// A routing rule. Implementations hold only their parameters: the engine calls them from many
/// threads at once, and any randomness comes from the call's own draws.
pub trait Policy: Send + Sync + fmt::Debug {
    /// Who goes to this call?
    fn route(&self, call: &CallContext<'_>, system: &SystemView) -> Routing;

    /// Whether this policy's program includes units of `kind`. Pools of a kind it never uses
    /// cost nothing and have no utilization under it (police-only has no care program).
    fn uses(&self, kind: ResponderKind) -> bool {
        let _ = kind;
        true
    }
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
