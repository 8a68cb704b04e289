//! `results.json`: the scenario's identity, the run settings, every figure's definition, and
//! for each policy the estimates, the paired differences against the baseline and the
//! per-replication values (so results can be re-analysed or merged without a rerun). Keys are
//! sorted and floats printed shortest-exact, so the same run gives the same bytes.

use serde_json::{Map, Value, json};

use crate::experiment::Results;
use crate::stats::{CONFIDENCE_LEVEL, Estimate};

/// The file name `run` writes into its output directory.
pub const RESULTS_FILE: &str = "results.json";

/// The results as pretty-printed JSON, ending in a newline.
pub fn results_json(results: &Results) -> String {
    let keyed = |estimates: &[Estimate]| -> Value {
        Value::Object(
            results
                .figures
                .iter()
                .zip(estimates)
                .map(|(def, e)| (def.key.clone(), json!(e)))
                .collect::<Map<_, _>>(),
        )
    };
    let policies: Vec<Value> = results
        .policies
        .iter()
        .map(|policy| {
            let replications: Vec<Value> = policy
                .values
                .iter()
                .enumerate()
                .map(|(r, values)| {
                    json!({
                        "replication": r,
                        "values": results
                            .figures
                            .iter()
                            .zip(values)
                            .map(|(def, v)| (def.key.clone(), json!(v)))
                            .collect::<Map<_, _>>(),
                    })
                })
                .collect();
            json!({
                "label": policy.label,
                "rule": policy.rule,
                "params": serde_json::to_value(&policy.params).unwrap_or(Value::Null),
                "estimates": keyed(&policy.estimates),
                "difference_vs_baseline": policy.differences.as_deref().map(keyed),
                "replications": replications,
            })
        })
        .collect();
    let document = json!({
        "crisis_sim_version": env!("CARGO_PKG_VERSION"),
        "scenario": results.scenario,
        "seed": results.seed,
        "replications": results.replications,
        "confidence_level": CONFIDENCE_LEVEL,
        "baseline": results.baseline().label,
        "figures": results.figures,
        "policies": policies,
    });
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_else(|_| "{}".to_string());
    text.push('\n');
    text
}
