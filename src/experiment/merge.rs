//! `crisis-sim merge`: combines the `results.json` of shards (`run --shard I/N`) into the results
//! one unsharded run would have written, byte for byte. Refuses shards of different scenarios,
//! seeds, versions or shard counts, and overlapping or missing shards, saying which.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::experiment::{Results, Shard};
use crate::output::{ParsedResults, RESULTS_FILE, parse_results};
use crate::stats::FigureDef;

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("nothing to merge: give the shards' output directories or results.json files")]
    NoInputs,
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a crisis-sim results.json: {reason}", path.display())]
    NotResults { path: PathBuf, reason: String },
    #[error("{} holds the results of a whole run, not a shard (not one shard of a sharded run)", path.display())]
    NotAShard { path: PathBuf },
    #[error("{} differs from {} in {what}: {found} vs {expected}; shards must come from the same scenario, seed, version and shard count", path.display(), first.display())]
    Mismatch {
        path: PathBuf,
        first: PathBuf,
        what: &'static str,
        found: String,
        expected: String,
    },
    #[error("shard {index}/{count} is given twice: {} and {}", first.display(), second.display())]
    Overlap {
        index: u32,
        count: u32,
        first: PathBuf,
        second: PathBuf,
    },
    #[error("missing shard{} {} of {count}", if .missing.len() == 1 { "" } else { "s" }, .missing.iter().map(u32::to_string).collect::<Vec<_>>().join(", "))]
    Missing { missing: Vec<u32>, count: u32 },
}

/// The `results.json` an input names: the file itself, or the one inside a directory.
pub fn results_path(input: &Path) -> PathBuf {
    if input.is_dir() {
        input.join(RESULTS_FILE)
    } else {
        input.to_path_buf()
    }
}

/// Reads one shard's results.
pub fn read(input: &Path) -> Result<(PathBuf, ParsedResults), MergeError> {
    let path = results_path(input);
    let text = std::fs::read_to_string(&path).map_err(|source| MergeError::Read {
        path: path.clone(),
        source,
    })?;
    let parsed = parse_results(&text).map_err(|reason| MergeError::NotResults {
        path: path.clone(),
        reason,
    })?;
    Ok((path, parsed))
}

/// What must be the same in every shard of one run, described for a message that names what
/// differs: version, scenario, seed, shard count and policies (figures are compared apart).
fn identity(parsed: &ParsedResults, shard: Shard) -> [(&'static str, String); 5] {
    let results = &parsed.results;
    [
        ("version", parsed.version.clone()),
        (
            "scenario",
            format!(
                "{} ({})",
                results.scenario.fingerprint, results.scenario.name
            ),
        ),
        ("seed", results.seed.to_string()),
        (
            "shard count",
            format!(
                "{} of {} replications",
                shard.count, shard.total_replications
            ),
        ),
        (
            "policies",
            results
                .policies
                .iter()
                .map(|p| format!("{} ({} {})", p.info.label, p.info.rule, p.info.params))
                .collect::<Vec<_>>()
                .join("; "),
        ),
    ]
}

/// Where two figure lists first differ, for a message (not the whole lists: with hourly
/// figures they run to hundreds of entries).
fn first_difference(found: &[FigureDef], expected: &[FigureDef]) -> (String, String) {
    let describe = |figures: &[FigureDef], i: usize| match figures.get(i) {
        Some(f) => format!("figure {} is `{}` ({}, {})", i + 1, f.key, f.label, f.unit),
        None => format!("{} figures", figures.len()),
    };
    let i = found
        .iter()
        .zip(expected)
        .position(|(a, b)| a != b)
        .unwrap_or(found.len().min(expected.len()));
    (describe(found, i), describe(expected, i))
}

/// Merges shards (already read) into whole-run results.
pub fn merge(shards: &[(PathBuf, ParsedResults)]) -> Result<Results, MergeError> {
    let Some((first_path, first)) = shards.first() else {
        return Err(MergeError::NoInputs);
    };
    let reference = first.results.shard.ok_or_else(|| MergeError::NotAShard {
        path: first_path.clone(),
    })?;
    let mut by_index: BTreeMap<u32, &PathBuf> = BTreeMap::new();
    let mut summaries = BTreeMap::new();
    for (path, parsed) in shards {
        let results = &parsed.results;
        let shard = results
            .shard
            .ok_or_else(|| MergeError::NotAShard { path: path.clone() })?;
        // A hand-edited total would otherwise size the merged run (and its memory).
        let most = crate::scenario::MAX_REPLICATIONS;
        if shard.total_replications > most
            || shard.count == 0
            || shard.index == 0
            || shard.index > shard.count
            || shard.count > shard.total_replications
        {
            return Err(MergeError::NotResults {
                path: path.clone(),
                reason: format!(
                    "shard {}/{} of {} replications: expected 1 <= shard <= shards <= replications <= {most}",
                    shard.index, shard.count, shard.total_replications
                ),
            });
        }
        let mismatch = |what: &'static str, found: String, expected: String| MergeError::Mismatch {
            path: path.clone(),
            first: first_path.clone(),
            what,
            found,
            expected,
        };
        for ((what, found), (_, expected)) in identity(parsed, shard)
            .into_iter()
            .zip(identity(first, reference))
        {
            if found != expected {
                return Err(mismatch(what, found, expected));
            }
        }
        if results.figures != first.results.figures {
            let (found, expected) = first_difference(&results.figures, &first.results.figures);
            return Err(mismatch("figures", found, expected));
        }
        if let Some(earlier) = by_index.insert(shard.index, path) {
            return Err(MergeError::Overlap {
                index: shard.index,
                count: shard.count,
                first: earlier.clone(),
                second: path.clone(),
            });
        }
        let expected: Vec<u64> = shard.replications().collect();
        if results.replications != expected {
            return Err(MergeError::NotResults {
                path: path.clone(),
                reason: format!(
                    "shard {}/{} should hold replications {:?}, holds {:?}",
                    shard.index,
                    shard.count,
                    shard.replications(),
                    results.replications
                ),
            });
        }
        for (p, policy) in results.policies.iter().enumerate() {
            for (r, values) in results.replications.iter().zip(&policy.values) {
                summaries.insert((*r, p), values.clone());
            }
        }
    }
    let missing: Vec<u32> = (1..=reference.count)
        .filter(|i| !by_index.contains_key(i))
        .collect();
    if !missing.is_empty() {
        return Err(MergeError::Missing {
            missing,
            count: reference.count,
        });
    }
    let all: Vec<u64> = (0..u64::from(reference.total_replications)).collect();
    // Each shard warned about the same scenario: keep each warning once, in shard order.
    let mut warnings: Vec<String> = Vec::new();
    for (_, shard) in shards {
        for warning in &shard.results.warnings {
            if !warnings.contains(warning) {
                warnings.push(warning.clone());
            }
        }
    }
    let first = &first.results;
    let mut merged = Results::assemble(
        first.scenario.clone(),
        first.seed,
        None,
        first.figures.clone(),
        first.policies.iter().map(|p| p.info.clone()).collect(),
        &summaries,
        &all,
    );
    merged.warnings = warnings;
    Ok(merged)
}
