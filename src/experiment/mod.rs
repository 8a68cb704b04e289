//! Monte Carlo experiments: replications x policies run in parallel with rayon, collected in
//! index order and folded sequentially, so results are identical for any thread count, and for
//! any split of the replications into shards or resumed batches. Replication *r* of every
//! policy replays the same call stream with the same per-call draws, so policy differences are
//! paired.

pub mod batch;
pub mod checkpoint;
pub mod merge;
pub mod sweep;

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::calls::CallGenerator;
use crate::calls::stream::{StreamError, StreamFile};
use crate::engine;
use crate::engine::record::{FleetTotals, Observer};
use crate::output::log::{JobLog, LogPlan};
use crate::scenario::{PolicySpec, Scenario};
use crate::stats::figures as key;
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
    #[error("the thread count must be at least 1")]
    ZeroThreads,
    #[error("at least one replication is needed")]
    ZeroReplications,
    #[error(transparent)]
    Overloaded(#[from] Overloaded),
    #[error(
        "{what} make {runs} replication runs; at most {max} may run in one command, since each run's figures are held in memory (about 1.4 KB each). Ask for fewer (a run, not yet a sweep, can also be split with --shard and merged)",
        max = MAX_REPLICATION_RUNS
    )]
    TooManyRuns { what: String, runs: u64 },
}

/// The most (replication, policy) runs one command may hold: about 1.4 GB of figures.
pub const MAX_REPLICATION_RUNS: u64 = 1_000_000;

/// Refuses work past [`MAX_REPLICATION_RUNS`] before any of it starts. `what` says what was
/// multiplied ("10 replications x 2 policies").
pub fn check_runs(runs: u64, what: impl FnOnce() -> String) -> Result<(), ExperimentError> {
    if runs > MAX_REPLICATION_RUNS {
        return Err(ExperimentError::TooManyRuns { what: what(), runs });
    }
    Ok(())
}

/// A replication stopped because calls arrived faster than the fleet cleared them: a finding
/// about the city (its fleet is too small for its calls), not a failure of the run.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error(
    "the fleet cannot keep up with the calls under policy `{policy}`{at}: by day {day:.1} of replication {replication}, more than {max} calls were open at once, so the waiting queue grows without bound and response times would measure only the length of the horizon. Add units or shift hours, or lower calls_per_day; `crisis-sim validate` shows each pool's offered load",
    at = if point.is_empty() { String::new() } else { format!(" at {point}") },
    max = "1,000,000"
)]
pub struct Overloaded {
    pub policy: String,
    /// The sweep point (`care.count=3`), or empty.
    pub point: String,
    pub replication: u64,
    pub day: f64,
    pub open_calls: usize,
}

impl Overloaded {
    fn of(overload: engine::Overload, policy: &PolicySpec, replication: u64) -> Self {
        Self {
            policy: policy.label.clone(),
            point: String::new(),
            replication,
            day: overload.minutes / crate::scenario::MINUTES_PER_DAY,
            open_calls: overload.open_calls,
        }
    }
}

/// One finished replication of one policy: its figures in [`figure_defs`] order.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplicationSummary {
    /// Index into the scenario's policies.
    pub policy: usize,
    pub replication: u64,
    pub values: Vec<f64>,
}

/// Which part of a sharded experiment a result holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// 1-based, as in a Slurm `--array=1-N` job.
    pub index: u32,
    pub count: u32,
    /// Replications of the whole experiment (all shards).
    pub total_replications: u32,
}

impl Shard {
    /// The replication indices of this shard: a contiguous block, so shards never overlap and
    /// together cover `0..total_replications`.
    pub fn replications(&self) -> std::ops::Range<u64> {
        let total = u64::from(self.total_replications);
        let (i, n) = (u64::from(self.index), u64::from(self.count));
        (i - 1) * total / n..i * total / n
    }
}

/// Everything an experiment produced: per-replication figures and their estimates.
#[derive(Clone, Debug, PartialEq)]
pub struct Results {
    pub scenario: ScenarioInfo,
    pub seed: u64,
    /// The replication indices held, ascending (`0..n` for a whole run).
    pub replications: Vec<u64>,
    /// Set when these are one shard's partial results.
    pub shard: Option<Shard>,
    /// Every policy's figures are listed in this order.
    pub figures: Vec<FigureDef>,
    /// The first is the baseline.
    pub policies: Vec<PolicyResults>,
    /// What the user should know about these numbers, said when they were made (an overloaded
    /// fleet, a stream of other volume than the fleet's): reports show them beside the numbers.
    pub warnings: Vec<String>,
}

/// What identifies the scenario a result came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScenarioInfo {
    pub name: String,
    pub source: String,
    pub fingerprint: String,
    pub population: f64,
    pub horizon_days: f64,
    pub warmup_days: f64,
    pub start_date: String,
}

impl ScenarioInfo {
    pub fn of(scenario: &Scenario) -> Self {
        Self {
            name: scenario.name.clone(),
            source: scenario.source.clone(),
            fingerprint: scenario.fingerprint.clone(),
            population: scenario.population,
            horizon_days: scenario.horizon_days,
            warmup_days: scenario.warmup_days,
            start_date: scenario.start_date.to_string(),
        }
    }
}

/// A policy's identity in results.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyInfo {
    pub label: String,
    pub rule: String,
    pub params: serde_json::Value,
}

impl PolicyInfo {
    /// The `name` the scenario gives the policy, else its label.
    pub fn name(&self) -> &str {
        self.params
            .get("name")
            .and_then(serde_json::Value::as_str)
            .unwrap_or(&self.label)
    }

    pub fn of(spec: &PolicySpec) -> Self {
        Self {
            label: spec.label.clone(),
            rule: spec.rule.to_string(),
            params: serde_json::to_value(&spec.params).unwrap_or(serde_json::Value::Null),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct PolicyResults {
    pub info: PolicyInfo,
    /// `values[i][f]`: figure `f` of replication `replications[i]`.
    pub values: Vec<Vec<f64>>,
    /// One per figure.
    pub estimates: Vec<Estimate>,
    /// Paired difference against the baseline, one per figure (`None` for the baseline).
    pub differences: Option<Vec<Estimate>>,
}

impl PolicyResults {
    pub fn label(&self) -> &str {
        &self.info.label
    }

    /// How reports and charts call the policy: the `name` its scenario entry gives, else its
    /// label.
    pub fn name(&self) -> &str {
        self.info.name()
    }
}

impl Results {
    pub fn baseline(&self) -> &PolicyResults {
        &self.policies[0]
    }

    pub fn figure_index(&self, key: &str) -> Option<usize> {
        self.figures.iter().position(|f| f.key == key)
    }

    fn policy(&self, label: &str) -> Option<&PolicyResults> {
        self.policies.iter().find(|p| p.info.label == label)
    }

    /// The estimate of figure `key` for the policy labelled `label`.
    pub fn estimate(&self, label: &str, key: &str) -> Option<Estimate> {
        let f = self.figure_index(key)?;
        Some(self.policy(label)?.estimates[f])
    }

    /// The paired difference (policy - baseline) of figure `key` for policy `label`.
    pub fn difference(&self, label: &str, key: &str) -> Option<Estimate> {
        let f = self.figure_index(key)?;
        self.policy(label)?.differences.as_ref().map(|d| d[f])
    }

    /// What a policy's program costs per unit of what it avoids, against the baseline (with a
    /// `[costs]` ledger; empty otherwise, and for the baseline): the net public cost per police
    /// unit-hour freed, per jail booking avoided and per emergency-department visit avoided.
    /// Each is a ratio of paired differences with its 95% interval, undefined when the
    /// avoided quantity does not clearly change.
    pub fn cost_effectiveness(&self, policy: usize) -> Vec<(&'static str, &'static str, Estimate)> {
        let (Some(cost), true) = (self.figure_index(key::NET_PUBLIC_COST), policy > 0) else {
            return Vec::new();
        };
        let column = |p: usize, f: usize| -> Vec<f64> {
            self.policies[p].values.iter().map(|r| r[f]).collect()
        };
        let (cost_policy, cost_base) = (column(policy, cost), column(0, cost));
        [
            (
                key::COST_PER_POLICE_HOUR_FREED,
                "Net cost per police unit-hour freed",
                key::POLICE_BUSY_HOURS,
            ),
            (
                key::COST_PER_BOOKING_AVOIDED,
                "Net cost per jail booking avoided",
                key::BOOKINGS_PER_YEAR,
            ),
            (
                key::COST_PER_ED_VISIT_AVOIDED,
                "Net cost per emergency-department visit avoided",
                key::ED_VISITS_PER_YEAR,
            ),
        ]
        .into_iter()
        .filter_map(|(name, label, avoided)| {
            let f = self.figure_index(avoided)?;
            let estimate = Estimate::ratio_of_differences(
                (&cost_policy, &cost_base),
                (&column(policy, f), &column(0, f)),
            );
            Some((name, label, estimate))
        })
        .collect()
    }

    /// Builds results from per-replication summaries (any order, any source: a run, a
    /// checkpoint, shards). Every policy must have every replication in `replications`.
    pub fn assemble(
        scenario: ScenarioInfo,
        seed: u64,
        shard: Option<Shard>,
        figures: Vec<FigureDef>,
        policies: Vec<PolicyInfo>,
        summaries: &BTreeMap<(u64, usize), Vec<f64>>,
        replications: &[u64],
    ) -> Self {
        let per_policy: Vec<Vec<Vec<f64>>> = (0..policies.len())
            .map(|p| {
                replications
                    .iter()
                    .map(|&r| summaries[&(r, p)].clone())
                    .collect()
            })
            .collect();
        let column =
            |values: &[Vec<f64>], f: usize| -> Vec<f64> { values.iter().map(|r| r[f]).collect() };
        let policy_results = policies
            .into_iter()
            .zip(&per_policy)
            .enumerate()
            .map(|(p, (info, values))| {
                let estimates = (0..figures.len())
                    .map(|f| Estimate::from_samples(&column(values, f)))
                    .collect();
                let differences = (p > 0).then(|| {
                    (0..figures.len())
                        .map(|f| {
                            Estimate::paired_difference(
                                &column(values, f),
                                &column(&per_policy[0], f),
                            )
                        })
                        .collect()
                });
                PolicyResults {
                    info,
                    values: values.clone(),
                    estimates,
                    differences,
                }
            })
            .collect();
        Self {
            scenario,
            seed,
            replications: replications.to_vec(),
            shard,
            figures,
            policies: policy_results,
            warnings: Vec::new(),
        }
    }
}

/// The figure definitions a scenario's replications report, in order.
pub fn figure_defs(scenario: &Scenario) -> Vec<FigureDef> {
    let totals = FleetTotals::empty(scenario.pools.len(), scenario.facilities.len());
    ReplicationStats::new(scenario)
        .figures(scenario, &totals, |_| true)
        .into_iter()
        .map(|(def, _)| def)
        .collect()
}

/// One replication of one policy: the figures, in [`figure_defs`] order, or why there are
/// none (the fleet could not keep up).
pub fn run_replication(
    scenario: &Scenario,
    policy: &PolicySpec,
    seed: u64,
    replication: u64,
) -> Result<Vec<(FigureDef, f64)>, Overloaded> {
    let mut stats = ReplicationStats::new(scenario);
    let calls = CallGenerator::new(scenario, seed, replication);
    let totals = engine::simulate(scenario, policy.policy.as_ref(), calls, &mut stats);
    if let Some(overload) = totals.overload {
        return Err(Overloaded::of(overload, policy, replication));
    }
    Ok(stats.figures(scenario, &totals, |kind| policy.policy.uses(kind)))
}

/// Why a (replication, policy) job failed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("cannot write the log: {0}")]
    Log(#[source] std::io::Error),
    #[error(transparent)]
    Stream(#[from] StreamError),
    #[error(transparent)]
    Overloaded(#[from] Overloaded),
}

/// Simulates one replication of one policy on its calls: the scenario's synthetic stream, or
/// the replayed file's.
fn simulate_job<O: Observer + ?Sized>(
    scenario: &Scenario,
    policy: &PolicySpec,
    stream: Option<&StreamFile>,
    seed: u64,
    replication: u64,
    observer: &mut O,
) -> Result<FleetTotals, StreamError> {
    let policy = policy.policy.as_ref();
    match stream {
        None => Ok(engine::simulate(
            scenario,
            policy,
            CallGenerator::new(scenario, seed, replication),
            observer,
        )),
        Some(stream) => {
            let mut calls = stream.calls(scenario, seed, replication)?;
            let totals = engine::simulate(scenario, policy, &mut calls, observer);
            match calls.take_error() {
                Some(error) => Err(error),
                None => Ok(totals),
            }
        }
    }
}

/// One replication of one policy, on a replayed stream when `stream` is given, and writing
/// its per-call and per-unit log when `log` is given.
pub fn run_job(
    scenario: &Scenario,
    stream: Option<&StreamFile>,
    policy: usize,
    seed: u64,
    replication: u64,
    log: Option<&LogPlan>,
) -> Result<Vec<(FigureDef, f64)>, JobError> {
    let spec = &scenario.policies[policy];
    let mut stats = ReplicationStats::new(scenario);
    let totals = match log {
        None => simulate_job(scenario, spec, stream, seed, replication, &mut stats)?,
        Some(plan) => {
            let mut log =
                JobLog::create(plan, scenario, replication, policy).map_err(JobError::Log)?;
            let totals = simulate_job(
                scenario,
                spec,
                stream,
                seed,
                replication,
                &mut (&mut stats, &mut log),
            )?;
            log.finish().map_err(JobError::Log)?;
            totals
        }
    };
    if let Some(overload) = totals.overload {
        return Err(Overloaded::of(overload, spec, replication).into());
    }
    Ok(stats.figures(scenario, &totals, |kind| spec.policy.uses(kind)))
}

/// Runs the given (replication, policy) jobs in parallel on the current rayon pool, calling
/// `on_done` as each finishes (from worker threads, in completion order), and logging the
/// replications `log` names. Calls come from `stream` when given. Returns the summaries in
/// job order.
pub(crate) fn run_jobs(
    scenario: &Scenario,
    stream: Option<&StreamFile>,
    seed: u64,
    jobs: &[(u64, usize)],
    log: Option<&LogPlan>,
    on_done: &(dyn Fn(&ReplicationSummary) + Sync),
) -> Result<Vec<ReplicationSummary>, JobError> {
    jobs.par_iter()
        .map(|&(replication, policy)| {
            let log = log.filter(|plan| plan.logs(replication));
            let figures = run_job(scenario, stream, policy, seed, replication, log)?;
            let summary = ReplicationSummary {
                policy,
                replication,
                values: figures.into_iter().map(|(_, v)| v).collect(),
            };
            on_done(&summary);
            Ok(summary)
        })
        .collect()
}

/// Runs `work` on a pool of `threads` workers (all cores when `None`).
pub(crate) fn with_threads<T: Send>(
    threads: Option<usize>,
    work: impl FnOnce() -> T + Send,
) -> Result<T, ExperimentError> {
    match threads {
        None => Ok(work()),
        Some(0) => Err(ExperimentError::ZeroThreads),
        Some(threads) => rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|source| ExperimentError::Threads { threads, source })
            .map(|pool| pool.install(work)),
    }
}

/// Runs every policy of the scenario for `settings.replications` replications.
pub fn run(scenario: &Scenario, settings: &RunSettings) -> Result<Results, ExperimentError> {
    if settings.replications == 0 {
        return Err(ExperimentError::ZeroReplications);
    }
    let policies = scenario.policies.len() as u64;
    check_runs(u64::from(settings.replications) * policies, || {
        format!(
            "{} replications x {policies} policies",
            settings.replications
        )
    })?;
    let replications: Vec<u64> = (0..u64::from(settings.replications)).collect();
    let jobs: Vec<(u64, usize)> = replications
        .iter()
        .flat_map(|&r| (0..scenario.policies.len()).map(move |p| (r, p)))
        .collect();
    let summaries = match with_threads(settings.threads, || {
        run_jobs(scenario, None, settings.seed, &jobs, None, &|_| {})
    })? {
        Ok(summaries) => summaries,
        Err(JobError::Overloaded(overloaded)) => return Err(overloaded.into()),
        Err(other) => unreachable!("no log and no stream file, so no I/O to fail: {other}"),
    };
    let summaries = summaries
        .into_iter()
        .map(|s| ((s.replication, s.policy), s.values))
        .collect();
    Ok(Results::assemble(
        ScenarioInfo::of(scenario),
        settings.seed,
        None,
        figure_defs(scenario),
        scenario.policies.iter().map(PolicyInfo::of).collect(),
        &summaries,
        &replications,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_every_replication_once() {
        for (total, count) in [(10u32, 3u32), (7, 7), (5, 8), (1000, 16)] {
            let mut all: Vec<u64> = (1..=count)
                .flat_map(|index| {
                    Shard {
                        index,
                        count,
                        total_replications: total,
                    }
                    .replications()
                })
                .collect();
            all.sort_unstable();
            assert_eq!(
                all,
                (0..u64::from(total)).collect::<Vec<_>>(),
                "{total}/{count}"
            );
        }
    }

    #[test]
    fn assembling_in_any_order_gives_the_same_results() {
        let mut scenario = Scenario::default_scenario();
        scenario.horizon_days = 10.0;
        scenario.warmup_days = 1.0;
        let settings = RunSettings {
            replications: 4,
            seed: 5,
            threads: Some(2),
        };
        let whole = run(&scenario, &settings).unwrap();
        // Run replications one by one, newest first, and assemble.
        let mut summaries = BTreeMap::new();
        for r in (0..4u64).rev() {
            for s in run_jobs(&scenario, None, 5, &[(r, 1), (r, 0)], None, &|_| {}).unwrap() {
                summaries.insert((s.replication, s.policy), s.values);
            }
        }
        let assembled = Results::assemble(
            ScenarioInfo::of(&scenario),
            5,
            None,
            figure_defs(&scenario),
            scenario.policies.iter().map(PolicyInfo::of).collect(),
            &summaries,
            &[0, 1, 2, 3],
        );
        // (Compared as JSON: undefined figures are NaN, which never equals itself.)
        assert_eq!(
            crate::output::results_json(&whole),
            crate::output::results_json(&assembled)
        );
        assert_eq!(
            whole.figures.iter().map(|f| &f.key).collect::<Vec<_>>(),
            figure_defs(&scenario)
                .iter()
                .map(|f| &f.key)
                .collect::<Vec<_>>()
        );
    }
}
