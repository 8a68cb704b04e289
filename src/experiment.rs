//! Monte Carlo experiments: every policy x every replication, run in parallel with rayon,
//! collected in index order and folded sequentially, so results are identical for any thread
//! count. Replication *r* of every policy replays the same call stream with the same per-call
//! draws, so policy differences are paired.

use serde::Serialize;

use rayon::prelude::*;

use crate::calls::CallGenerator;
use crate::engine;
use crate::scenario::{PolicySpec, Scenario};
use crate::stats::{Estimate, FigureDef, ReplicationStats};

/// How to run an experiment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunSettings {
    pub replications: u32,
    pub seed: u64,
    /// Worker threads; `None` uses every core.
    pub threads: Option<usize>,
}

impl RunSettings {
    /// The scenario's own `[run]` settings.
    pub fn from_scenario(scenario: &Scenario) -> Self {
        Self {
            replications: scenario.replications,
            seed: scenario.seed,
            threads: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    #[error("cannot start {threads} worker threads: {source}")]
    Threads {
        threads: usize,
        #[source]
        source: rayon::ThreadPoolBuildError,
    },
    #[error("--threads must be at least 1")]
    ZeroThreads,
    #[error("--replications must be at least 1")]
    ZeroReplications,
}

/// Everything an experiment produced: per-replication figures and their estimates.
#[derive(Clone, Debug)]
pub struct Results {
    pub scenario: ScenarioInfo,
    pub seed: u64,
    pub replications: u32,
    /// Every policy's figures are listed in this order.
    pub figures: Vec<FigureDef>,
    /// The first is the baseline.
    pub policies: Vec<PolicyResults>,
}

/// What identifies the scenario a result came from.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScenarioInfo {
    pub name: String,
    pub source: String,
    pub fingerprint: String,
    pub population: f64,
    pub horizon_days: f64,
    pub warmup_days: f64,
    pub start_date: String,
}

#[derive(Clone, Debug)]
pub struct PolicyResults {
    pub label: String,
    pub rule: String,
    pub params: toml::Table,
    /// `values[r][f]`: figure `f` of replication `r`.
    pub values: Vec<Vec<f64>>,
    /// One per figure.
    pub estimates: Vec<Estimate>,
    /// Paired difference against the baseline, one per figure (`None` for the baseline).
    pub differences: Option<Vec<Estimate>>,
}

impl Results {
    pub fn baseline(&self) -> &PolicyResults {
        &self.policies[0]
    }

    pub fn figure_index(&self, key: &str) -> Option<usize> {
        self.figures.iter().position(|f| f.key == key)
    }

    /// The estimate of figure `key` for the policy labelled `label`.
    pub fn estimate(&self, label: &str, key: &str) -> Option<Estimate> {
        let f = self.figure_index(key)?;
        let policy = self.policies.iter().find(|p| p.label == label)?;
        Some(policy.estimates[f])
    }

    /// The paired difference (policy - baseline) of figure `key` for policy `label`.
    pub fn difference(&self, label: &str, key: &str) -> Option<Estimate> {
        let f = self.figure_index(key)?;
        let policy = self.policies.iter().find(|p| p.label == label)?;
        policy.differences.as_ref().map(|d| d[f])
    }
}

/// One replication of one policy: the figures, in a fixed order.
pub fn run_replication(
    scenario: &Scenario,
    policy: &PolicySpec,
    seed: u64,
    replication: u64,
) -> Vec<(FigureDef, f64)> {
    let mut stats = ReplicationStats::new(scenario);
    let calls = CallGenerator::new(scenario, seed, replication);
    let totals = engine::simulate(scenario, policy.policy.as_ref(), calls, &mut stats);
    stats.figures(scenario, &totals, |kind| policy.policy.uses(kind))
}

/// Runs every policy of the scenario for `settings.replications` replications.
pub fn run(scenario: &Scenario, settings: &RunSettings) -> Result<Results, ExperimentError> {
    if settings.replications == 0 {
        return Err(ExperimentError::ZeroReplications);
    }
    let work = || run_all(scenario, settings);
    match settings.threads {
        None => Ok(work()),
        Some(0) => Err(ExperimentError::ZeroThreads),
        Some(threads) => rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|source| ExperimentError::Threads { threads, source })
            .map(|pool| pool.install(work)),
    }
}

fn run_all(scenario: &Scenario, settings: &RunSettings) -> Results {
    let policies = &scenario.policies;
    let replications = settings.replications as usize;
    // Flat (replication, policy) jobs balance better than nesting; `collect` keeps index order.
    let runs: Vec<Vec<(FigureDef, f64)>> = (0..replications * policies.len())
        .into_par_iter()
        .map(|job| {
            let (replication, policy) = (job / policies.len(), job % policies.len());
            run_replication(
                scenario,
                &policies[policy],
                settings.seed,
                replication as u64,
            )
        })
        .collect();

    let figures: Vec<FigureDef> = runs[0].iter().map(|(def, _)| def.clone()).collect();
    let mut per_policy: Vec<Vec<Vec<f64>>> = vec![Vec::with_capacity(replications); policies.len()];
    for (job, run) in runs.into_iter().enumerate() {
        debug_assert!(
            run.iter()
                .map(|(d, _)| &d.key)
                .eq(figures.iter().map(|d| &d.key))
        );
        per_policy[job % policies.len()].push(run.into_iter().map(|(_, v)| v).collect());
    }
    let column =
        |values: &[Vec<f64>], f: usize| -> Vec<f64> { values.iter().map(|r| r[f]).collect() };
    let baseline_values = per_policy[0].clone();
    let policy_results = policies
        .iter()
        .zip(per_policy)
        .enumerate()
        .map(|(p, (spec, values))| {
            let estimates = (0..figures.len())
                .map(|f| Estimate::from_samples(&column(&values, f)))
                .collect();
            let differences = (p > 0).then(|| {
                (0..figures.len())
                    .map(|f| {
                        Estimate::paired_difference(
                            &column(&values, f),
                            &column(&baseline_values, f),
                        )
                    })
                    .collect()
            });
            PolicyResults {
                label: spec.label.clone(),
                rule: spec.rule.to_string(),
                params: spec.params.clone(),
                values,
                estimates,
                differences,
            }
        })
        .collect();
    Results {
        scenario: ScenarioInfo {
            name: scenario.name.clone(),
            source: scenario.source.clone(),
            fingerprint: scenario.fingerprint.clone(),
            population: scenario.population,
            horizon_days: scenario.horizon_days,
            warmup_days: scenario.warmup_days,
            start_date: scenario.start_date.to_string(),
        },
        seed: settings.seed,
        replications: settings.replications,
        figures,
        policies: policy_results,
    }
}
