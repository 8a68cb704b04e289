//! Dispatcher triage, a lever every policy takes: how often the call-taker recognises a
//! care-eligible call as eligible (sensitivity) and an ineligible one as not (specificity).
//! Many crisis calls are coded as something else in CAD (Durham NC: 1-2% coded mental health;
//! route-fifty.com, 2022), so "better triage" is a variant worth benchmarking on its own.

use serde::Deserialize;

use super::{CallContext, PolicyError};

/// Sensitivity and specificity of the dispatcher's eligibility judgement.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Triage {
    pub sensitivity: f64,
    pub specificity: f64,
}

/// The triage keys a policy's parameters may hold (both default to 1: perfect triage).
#[derive(Clone, Copy, Debug, Default, PartialEq, Deserialize)]
pub struct TriageParams {
    pub sensitivity: Option<f64>,
    pub specificity: Option<f64>,
}

impl Triage {
    pub const PERFECT: Triage = Triage {
        sensitivity: 1.0,
        specificity: 1.0,
    };

    pub fn new(params: TriageParams) -> Result<Self, PolicyError> {
        Ok(Self {
            sensitivity: super::probability("sensitivity", params.sensitivity.unwrap_or(1.0))?,
            specificity: super::probability("specificity", params.specificity.unwrap_or(1.0))?,
        })
    }

    /// From a policy's optional `sensitivity` and `specificity` keys.
    pub fn from_keys(
        sensitivity: Option<f64>,
        specificity: Option<f64>,
    ) -> Result<Self, PolicyError> {
        Self::new(TriageParams {
            sensitivity,
            specificity,
        })
    }

    /// Whether the dispatcher judges this call care-eligible. Every policy reads the call's
    /// one triage draw the same way, so a policy with better triage recognises every call a
    /// worse one does, and more: triage differences between policies are paired.
    #[inline]
    pub fn judges_eligible(&self, call: &CallContext<'_>) -> bool {
        // Perfect on this side: no draw needed (u >= 0 always holds, u < 0 never does).
        let (eligible, accuracy) = if call.call_type.care_eligible {
            (true, self.sensitivity)
        } else {
            (false, self.specificity)
        };
        if accuracy >= 1.0 {
            return eligible;
        }
        let u = call.triage_uniform();
        if eligible {
            u >= 1.0 - accuracy
        } else {
            u < 1.0 - accuracy
        }
    }
}
