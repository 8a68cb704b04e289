//! `results.json`: the scenario's identity, the run settings, every figure's definition, and
//! for each policy the estimates, the paired differences against the baseline and the
//! per-replication values (so results can be re-analysed or merged without a rerun). Keys are
//! sorted and floats printed shortest-exact, so the same run gives the same bytes, and values
//! read back are bit-identical to those written.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::experiment::{PolicyInfo, Results, ScenarioInfo, Shard};
use crate::stats::{CONFIDENCE_LEVEL, Estimate, FigureDef};

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
            let replications: Vec<Value> = results
                .replications
                .iter()
                .zip(&policy.values)
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
                "label": policy.info.label,
                "rule": policy.info.rule,
                "params": policy.info.params,
                "estimates": keyed(&policy.estimates),
                "difference_vs_baseline": policy.differences.as_deref().map(keyed),
                "replications": replications,
            })
        })
        .collect();
    let mut document = json!({
        "crisis_sim_version": env!("CARGO_PKG_VERSION"),
        "scenario": results.scenario,
        "seed": results.seed,
        "replications": results.replications.len(),
        "confidence_level": CONFIDENCE_LEVEL,
        "baseline": results.baseline().info.label,
        "figures": results.figures,
        "policies": policies,
    });
    if let (Some(shard), Value::Object(map)) = (results.shard, &mut document) {
        map.insert("shard".to_string(), json!(shard));
    }
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_else(|_| "{}".to_string());
    text.push('\n');
    text
}

/// The parts of `results.json` needed to rebuild [`Results`]; estimates are recomputed from
/// the per-replication values, which are the source of truth.
#[derive(Deserialize)]
struct ResultsFile {
    crisis_sim_version: String,
    scenario: ScenarioInfo,
    seed: u64,
    #[serde(default)]
    shard: Option<Shard>,
    figures: Vec<FigureDef>,
    policies: Vec<PolicyFile>,
}

#[derive(Deserialize)]
struct PolicyFile {
    label: String,
    rule: String,
    params: Value,
    replications: Vec<ReplicationFile>,
}

#[derive(Deserialize)]
struct ReplicationFile {
    replication: u64,
    /// `null` stands for an undefined figure (NaN).
    values: BTreeMap<String, Option<f64>>,
}

/// Results read back from a `results.json`.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedResults {
    /// The crisis-sim version that wrote the file.
    pub version: String,
    pub results: Results,
}

/// Reads `results.json` text back into [`Results`].
pub fn parse_results(text: &str) -> Result<ParsedResults, String> {
    let file: ResultsFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if file.policies.is_empty() {
        return Err("no policies".to_string());
    }
    let replications: Vec<u64> = file.policies[0]
        .replications
        .iter()
        .map(|r| r.replication)
        .collect();
    let mut summaries = BTreeMap::new();
    for (p, policy) in file.policies.iter().enumerate() {
        let mine: Vec<u64> = policy.replications.iter().map(|r| r.replication).collect();
        if mine != replications {
            return Err(format!(
                "policy `{}` holds other replications than `{}`",
                policy.label, file.policies[0].label
            ));
        }
        for replication in &policy.replications {
            let values = file
                .figures
                .iter()
                .map(|def| match replication.values.get(&def.key) {
                    Some(value) => Ok(value.unwrap_or(f64::NAN)),
                    None => Err(format!(
                        "replication {} of `{}` lacks figure `{}`",
                        replication.replication, policy.label, def.key
                    )),
                })
                .collect::<Result<Vec<f64>, String>>()?;
            summaries.insert((replication.replication, p), values);
        }
    }
    let policies = file
        .policies
        .iter()
        .map(|p| PolicyInfo {
            label: p.label.clone(),
            rule: p.rule.clone(),
            params: p.params.clone(),
        })
        .collect();
    Ok(ParsedResults {
        version: file.crisis_sim_version,
        results: Results::assemble(
            file.scenario,
            file.seed,
            file.shard,
            file.figures,
            policies,
            &summaries,
            &replications,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Scenario;
    use crate::experiment::{RunSettings, run};

    #[test]
    fn results_read_back_write_the_same_bytes() {
        let mut scenario = Scenario::default_scenario();
        scenario.horizon_days = 8.0;
        scenario.warmup_days = 1.0;
        let results = run(
            &scenario,
            &RunSettings {
                replications: 3,
                seed: 9,
                threads: Some(1),
            },
        )
        .unwrap();
        let text = results_json(&results);
        // Undefined figures (police_only's overflow share) round-trip through null.
        assert!(text.contains("\"eligible.overflow_share\": null"));
        let parsed = parse_results(&text).unwrap();
        assert_eq!(parsed.version, env!("CARGO_PKG_VERSION"));
        assert_same_text(&results_json(&parsed.results), &text);
    }

    /// Equal texts, or a panic naming the first differing line (not two whole files).
    fn assert_same_text(actual: &str, expected: &str) {
        for (n, (a, e)) in actual.lines().zip(expected.lines()).enumerate() {
            assert_eq!(a, e, "first difference at line {}", n + 1);
        }
        assert_eq!(
            actual.lines().count(),
            expected.lines().count(),
            "line counts"
        );
    }

    #[test]
    fn malformed_files_are_refused_with_a_reason() {
        assert!(parse_results("{}").unwrap_err().contains("missing field"));
        assert!(parse_results("not json").is_err());
    }
}
