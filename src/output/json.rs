//! `results.json`: the scenario's identity, the run settings, every figure's definition, and
//! for each policy the estimates, the paired differences against the baseline and the
//! per-replication values (so results can be re-analysed or merged without a rerun). Keys are
//! sorted and floats printed shortest-exact, so the same run gives the same bytes, and values
//! read back are bit-identical to those written.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::experiment::{PolicyInfo, Results, ScenarioInfo, Shard};
use crate::stats::{CONFIDENCE_LEVEL, Estimate, FigureDef};

/// The file name `run` writes into its output directory.
pub const RESULTS_FILE: &str = "results.json";

/// `results.json` as a type: what is written and what is read back. Estimates are written for
/// readers; on reading, they are recomputed from the per-replication values, which are the
/// source of truth.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResultsDocument {
    pub crisis_sim_version: String,
    pub scenario: ScenarioInfo,
    pub seed: u64,
    /// How many replications the file holds.
    pub replications: usize,
    pub confidence_level: f64,
    /// The baseline policy's label.
    pub baseline: String,
    pub figures: Vec<FigureDef>,
    pub policies: Vec<PolicyDocument>,
    /// Set in one shard's partial results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
    /// What the run warned about (an overloaded fleet, a stream of other volume than the
    /// fleet's); absent when nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// One policy in `results.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicyDocument {
    pub label: String,
    pub rule: String,
    /// The policy's parameters as the scenario gave them.
    pub params: serde_json::Value,
    /// By figure key.
    pub estimates: BTreeMap<String, Estimate>,
    /// Paired differences against the baseline, by figure key (`null` for the baseline).
    pub difference_vs_baseline: Option<BTreeMap<String, Estimate>>,
    /// With a `[costs]` ledger, against the baseline: net public cost per police unit-hour
    /// freed, per booking and per ED visit avoided (`null` where the avoided quantity does not
    /// clearly change). For readers: recomputed from the values on reading.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub cost_effectiveness: BTreeMap<String, Estimate>,
    pub replications: Vec<ReplicationDocument>,
}

/// One replication's figures in `results.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReplicationDocument {
    pub replication: u64,
    /// By figure key; `null` stands for an undefined figure (NaN).
    pub values: BTreeMap<String, Option<f64>>,
}

impl ResultsDocument {
    /// The document of a run's results.
    pub fn of(results: &Results) -> Self {
        let keyed = |estimates: &[Estimate]| -> BTreeMap<String, Estimate> {
            results
                .figures
                .iter()
                .zip(estimates)
                .map(|(def, e)| (def.key.clone(), *e))
                .collect()
        };
        let policies = results
            .policies
            .iter()
            .enumerate()
            .map(|(p, policy)| PolicyDocument {
                label: policy.info.label.clone(),
                rule: policy.info.rule.clone(),
                params: policy.info.params.clone(),
                estimates: keyed(&policy.estimates),
                difference_vs_baseline: policy.differences.as_deref().map(keyed),
                cost_effectiveness: results
                    .cost_effectiveness(p)
                    .into_iter()
                    .map(|(key, _, estimate)| (key.to_string(), estimate))
                    .collect(),
                replications: results
                    .replications
                    .iter()
                    .zip(&policy.values)
                    .map(|(&replication, values)| ReplicationDocument {
                        replication,
                        values: results
                            .figures
                            .iter()
                            .zip(values)
                            .map(|(def, &v)| (def.key.clone(), v.is_finite().then_some(v)))
                            .collect(),
                    })
                    .collect(),
            })
            .collect();
        Self {
            crisis_sim_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario: results.scenario.clone(),
            seed: results.seed,
            replications: results.replications.len(),
            confidence_level: CONFIDENCE_LEVEL,
            baseline: results.baseline().info.label.clone(),
            figures: results.figures.clone(),
            policies,
            shard: results.shard,
            warnings: results.warnings.clone(),
        }
    }

    /// The results this document holds, with every estimate recomputed from the values.
    pub fn results(&self) -> Result<Results, String> {
        let Some(first) = self.policies.first() else {
            return Err("no policies".to_string());
        };
        self.check_names()?;
        let replications: Vec<u64> = first.replications.iter().map(|r| r.replication).collect();
        let mut summaries = BTreeMap::new();
        for (p, policy) in self.policies.iter().enumerate() {
            let mine: Vec<u64> = policy.replications.iter().map(|r| r.replication).collect();
            if mine != replications {
                return Err(format!(
                    "policy `{}` holds other replications than `{}`",
                    policy.label, first.label
                ));
            }
            for replication in &policy.replications {
                let values = self
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
        let policies = self
            .policies
            .iter()
            .map(|p| PolicyInfo {
                label: p.label.clone(),
                rule: p.rule.clone(),
                params: p.params.clone(),
            })
            .collect();
        let mut results = Results::assemble(
            self.scenario.clone(),
            self.seed,
            self.shard,
            self.figures.clone(),
            policies,
            &summaries,
            &replications,
        );
        results.warnings = self.warnings.clone();
        Ok(results)
    }
}

/// Pretty JSON of a document, ending in a newline. Through `serde_json::Value`, whose maps are
/// sorted: keys come out in order, so the same run gives the same bytes, and floats are
/// printed shortest-exact, so values read back are bit-identical.
pub(crate) fn pretty<T: Serialize>(document: &T) -> String {
    let mut text = serde_json::to_value(document)
        .and_then(|value| serde_json::to_string_pretty(&value))
        .unwrap_or_else(|_| "{}".to_string());
    text.push('\n');
    text
}

/// The results as pretty-printed JSON, ending in a newline.
pub fn results_json(results: &Results) -> String {
    pretty(&ResultsDocument::of(results))
}

/// Results read back from a `results.json`.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedResults {
    /// The crisis-sim version that wrote the file.
    pub version: String,
    pub results: Results,
}

/// Reads `results.json` text back into [`Results`].
/// A name read back from a results or sweep file holds the scenario checker's limits: at most
/// `limit` characters, no control characters.
pub(crate) fn check_name(what: &str, name: &str, limit: usize) -> Result<(), String> {
    let length = name.chars().count();
    if length > limit {
        return Err(format!("{what} has {length} characters (at most {limit})"));
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(format!(
            "{what} holds the control character U+{:04X}",
            u32::from(c)
        ));
    }
    Ok(())
}

impl ResultsDocument {
    /// The names a chart or the report will draw hold the scenario checker's limits (a
    /// hand-edited file could put a megabyte, or control characters, into every chart).
    fn check_names(&self) -> Result<(), String> {
        let max = crate::scenario::MAX_NAME_CHARS;
        check_name("the scenario name", &self.scenario.name, max)?;
        for policy in &self.policies {
            check_name("a policy label", &policy.label, max)?;
            if let Some(name) = policy.params.get("name").and_then(|n| n.as_str()) {
                check_name("a policy name", name, max)?;
            }
        }
        // A warning is a sentence or two; the report prints each one.
        if self.warnings.len() > 100 {
            return Err(format!("{} warnings (at most 100)", self.warnings.len()));
        }
        for warning in &self.warnings {
            check_name("a warning", warning, 5 * max)?;
        }
        // Keys and labels join a few names (`care.utilization_by_hour.07`).
        for figure in &self.figures {
            check_name("a figure key", &figure.key, 3 * max)?;
            check_name("a figure label", &figure.label, 3 * max)?;
            check_name("a figure unit", &figure.unit, max)?;
        }
        Ok(())
    }
}

pub fn parse_results(text: &str) -> Result<ParsedResults, String> {
    let document: ResultsDocument = serde_json::from_str(text).map_err(|e| e.to_string())?;
    Ok(ParsedResults {
        results: document.results()?,
        version: document.crisis_sim_version,
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
