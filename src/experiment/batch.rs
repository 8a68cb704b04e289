//! Batches of replications: which ones to run (all, one shard of a cluster job, or as many as a
//! precision target needs), a checkpoint that saves each finished replication as it completes
//! so an interrupted batch resumes where it stopped, and progress reporting. Whatever the path
//! (one go, shards merged, resumed, any thread count) the final results are byte-identical,
//! because every replication's figures depend only on (scenario, seed, replication index).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use crate::experiment::checkpoint::{self, CheckpointError};
use crate::experiment::{
    self, ExperimentError, PolicyInfo, ReplicationSummary, Results, ScenarioInfo, Shard,
};
use crate::output::log::{self, LogPlan, WrittenLog};
use crate::scenario::Scenario;
use crate::stats::figures as key;

/// Figures whose precision `--target-ci` controls, for every policy (where defined and != 0).
pub const TARGET_FIGURES: &[&str] = &[
    key::RESPONSE_MEAN,
    key::RESPONSE_P90,
    key::ELIGIBLE_RESPONSE_P90,
    key::POLICE_HOURS_ON_ELIGIBLE,
];

/// The fewest replications a precision target may stop at (unless `max_replications` is
/// lower): an interval from a handful of replications can be narrow by chance, and runs that
/// stopped early covered the truth less often than 95% of the time.
pub const MIN_TARGET_REPLICATIONS: u32 = 20;

/// Keep adding replications until every [`TARGET_FIGURES`] CI half-width is within
/// `relative` of the figure's scale (its largest mean across policies), after at least
/// [`MIN_TARGET_REPLICATIONS`], or `max_replications` is reached.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TargetCi {
    pub relative: f64,
    pub max_replications: u32,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct BatchSettings {
    /// Replications (with a target: the first batch).
    pub replications: u32,
    pub seed: u64,
    pub threads: Option<usize>,
    /// `(index, count)`, 1-based: run only this shard of the replications.
    pub shard: Option<(u32, u32)>,
    pub target: Option<TargetCi>,
    /// Where finished replications are saved as they complete.
    pub checkpoint: Option<PathBuf>,
    /// Continue from the checkpoint instead of starting afresh.
    pub resume: bool,
    /// Replay this call-stream file instead of generating calls (the scenario must already
    /// be set up for it with [`crate::calls::stream::StreamFile::apply_to`]).
    pub stream: Option<std::sync::Arc<crate::calls::stream::StreamFile>>,
    /// Per-call and per-unit logs to write. Logged replications always run (never come from
    /// the checkpoint), so their rows exist.
    pub log: Option<LogPlan>,
}

/// Told about progress as replications finish (called from worker threads).
pub trait Progress: Sync {
    /// `total` (replication, policy) jobs are now planned, of which `done` are finished.
    fn set(&self, total: u64, done: u64);
    /// One more job finished.
    fn advance(&self);
    /// Something the user should know at once, while the batch goes on (the checkpoint could
    /// not be saved, say). Also kept in [`BatchOutcome::warnings`].
    fn warn(&self, message: &str) {
        let _ = message;
    }
}

/// Ignores progress.
pub struct NoProgress;

impl Progress for NoProgress {
    fn set(&self, _: u64, _: u64) {}
    fn advance(&self) {}
}

/// How a precision target ended.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetReport {
    pub relative: f64,
    pub reached: bool,
    pub replications: u32,
    /// The least precise figure: (policy, figure key, CI half-width / |mean|).
    pub widest: Option<(String, String, f64)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BatchOutcome {
    pub results: Results,
    /// The log files written.
    pub logs: Vec<WrittenLog>,
    /// Jobs taken from the checkpoint rather than run.
    pub resumed_jobs: usize,
    pub target: Option<TargetReport>,
    /// What went wrong along the way without stopping the batch (each also given to
    /// [`Progress::warn`] as it happened).
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error(transparent)]
    Experiment(#[from] ExperimentError),
    #[error(
        "shard {index} of {count}: expected 1 <= shard <= shards <= the replications ({replications})"
    )]
    BadShard {
        index: u32,
        count: u32,
        replications: u32,
    },
    #[error(
        "a precision target cannot be combined with sharding: the number of replications a target needs is only known as results come in"
    )]
    TargetWithShard,
    #[error("precision target {0}: expected a relative half-width in (0, 1), e.g. 0.02")]
    BadTarget(f64),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error(transparent)]
    Stream(#[from] crate::calls::stream::StreamError),
    #[error("cannot write the logs in {}: {source}", dir.display())]
    Log {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Runs a batch: the replications the settings select, minus those already in the checkpoint
/// when resuming, saving each to the checkpoint as it finishes.
pub fn run_batch(
    scenario: &Scenario,
    settings: &BatchSettings,
    progress: &dyn Progress,
) -> Result<BatchOutcome, BatchError> {
    if settings.replications == 0 {
        return Err(ExperimentError::ZeroReplications.into());
    }
    let shard = checked_shard_and_target(settings)?;
    // The replications this run may hold: a precision target may grow the run up to its
    // maximum, a shard runs its share. Work past the ceiling is refused before it starts, and
    // a checkpoint line outside them is damage.
    let possible = match (shard, settings.target) {
        (Some(shard), _) => shard.replications(),
        (None, Some(target)) => 0..u64::from(target.max_replications.max(settings.replications)),
        (None, None) => 0..u64::from(settings.replications),
    };
    let policy_count = scenario.policies.len() as u64;
    experiment::check_runs((possible.end - possible.start) * policy_count, || {
        let asked = match (shard, settings.target) {
            (Some(shard), _) => format!(
                "shard {}/{} of {} replications",
                shard.index, shard.count, settings.replications
            ),
            (None, Some(_)) => format!("up to {} replications (--max-replications)", possible.end),
            (None, None) => format!("{} replications", settings.replications),
        };
        format!("{asked} x {policy_count} policies")
    })?;
    let figures = experiment::figure_defs(scenario);
    let header = checkpoint::Header::of(scenario, settings.seed, shard, figures.len());
    let (mut done, checkpoint) = match &settings.checkpoint {
        None => (BTreeMap::new(), None),
        Some(path) => {
            let done = if settings.resume {
                checkpoint::read(path, &header, possible.clone())?
            } else {
                BTreeMap::new()
            };
            (
                done.clone(),
                Some(checkpoint::Writer::open(path, &header, &done)?),
            )
        }
    };
    let from_checkpoint: std::collections::BTreeSet<(u64, usize)> = done.keys().copied().collect();
    let policies = scenario.policies.len();

    let log_plan = settings.log.as_ref();
    let log_error = |source| BatchError::Log {
        dir: log_plan.map_or_else(PathBuf::new, |p| p.dir.clone()),
        source,
    };
    // Logged jobs run in this process (once each), even when the checkpoint has them.
    let logged = Mutex::new(std::collections::BTreeSet::new());
    let run_up_to = |replications: &[u64], done: &mut BTreeMap<(u64, usize), Vec<f64>>| {
        let jobs: Vec<(u64, usize)> = replications
            .iter()
            .flat_map(|&r| (0..policies).map(move |p| (r, p)))
            .collect();
        let total = jobs.len() as u64;
        let already_logged = logged.lock().map(|l| l.clone()).unwrap_or_default();
        let needs_log = |job: &(u64, usize)| {
            log_plan.is_some_and(|plan| plan.logs(job.0)) && !already_logged.contains(job)
        };
        let missing: Vec<(u64, usize)> = jobs
            .into_iter()
            .filter(|j| !done.contains_key(j) || needs_log(j))
            .collect();
        progress.set(total, total - missing.len() as u64);
        let on_done = |summary: &ReplicationSummary| {
            if let Some(writer) = &checkpoint
                && let Some(message) =
                    writer.append(summary.replication, summary.policy, &summary.values)
            {
                progress.warn(&message);
            }
            progress.advance();
        };
        let summaries = experiment::with_threads(settings.threads, || {
            experiment::run_jobs(
                scenario,
                settings.stream.as_deref(),
                settings.seed,
                &missing,
                log_plan,
                &on_done,
            )
        })?
        .map_err(|e| match e {
            experiment::JobError::Log(source) => log_error(source),
            experiment::JobError::Stream(e) => BatchError::Stream(e),
            experiment::JobError::Overloaded(e) => BatchError::Experiment(e.into()),
        })?;
        for summary in summaries {
            let job = (summary.replication, summary.policy);
            if needs_log(&job)
                && let Ok(mut logged) = logged.lock()
            {
                logged.insert(job);
            }
            done.insert(job, summary.values);
        }
        Ok::<(), BatchError>(())
    };
    let assemble = |replications: &[u64], done: &BTreeMap<(u64, usize), Vec<f64>>| {
        Results::assemble(
            ScenarioInfo::of(scenario),
            settings.seed,
            shard,
            figures.clone(),
            scenario.policies.iter().map(PolicyInfo::of).collect(),
            done,
            replications,
        )
    };

    let mut run = |replications: &[u64]| {
        run_up_to(replications, &mut done)?;
        Ok::<Results, BatchError>(assemble(replications, &done))
    };
    let (results, target) = match (shard, settings.target) {
        (Some(shard), _) => (run(&shard.replications().collect::<Vec<u64>>())?, None),
        (None, None) => (
            run(&(0..u64::from(settings.replications)).collect::<Vec<u64>>())?,
            None,
        ),
        (None, Some(target)) => {
            let (results, report) = until_precise(target, settings.replications, &mut run)?;
            (results, Some(report))
        }
    };
    // Jobs of the final results taken from the checkpoint (logged ones were run again).
    let rerun = logged.lock().map(|l| l.clone()).unwrap_or_default();
    let resumed_jobs = results
        .replications
        .iter()
        .flat_map(|&r| (0..policies).map(move |p| (r, p)))
        .filter(|job| from_checkpoint.contains(job) && !rerun.contains(job))
        .count();
    let logs = match log_plan {
        None => Vec::new(),
        Some(plan) => assemble_logs(plan, &results, policies).map_err(log_error)?,
    };
    Ok(BatchOutcome {
        results,
        logs,
        resumed_jobs,
        target,
        warnings: checkpoint.and_then(|w| w.failure()).into_iter().collect(),
    })
}

/// Joins the logged jobs' per-job log files into `calls.csv` and `units.csv`, in replication
/// and policy order.
fn assemble_logs(
    plan: &LogPlan,
    results: &Results,
    policies: usize,
) -> std::io::Result<Vec<WrittenLog>> {
    let jobs: Vec<(u64, usize)> = results
        .replications
        .iter()
        .filter(|&&r| plan.logs(r))
        .flat_map(|&r| (0..policies).map(move |p| (r, p)))
        .collect();
    log::assemble(plan, &jobs)
}

/// Adds replications (`run` runs the missing ones of a set and assembles the results) until
/// every target figure's 95% CI half-width is within the target of its mean, or the maximum is
/// reached. Starts from `start` replications, at least 3 so an interval exists.
fn until_precise(
    target: TargetCi,
    start: u32,
    run: &mut dyn FnMut(&[u64]) -> Result<Results, BatchError>,
) -> Result<(Results, TargetReport), BatchError> {
    // At least 3 replications so a t interval exists, and no stop before the floor.
    let max = target.max_replications.max(3);
    let floor = MIN_TARGET_REPLICATIONS.min(max);
    let mut n = start.max(floor).clamp(3, max);
    loop {
        let replications: Vec<u64> = (0..u64::from(n)).collect();
        let results = run(&replications)?;
        let widest = widest_relative_half_width(&results);
        let worst = widest.as_ref().map_or(0.0, |w| w.2);
        let precise = worst <= target.relative && n >= floor;
        if precise || n >= max {
            let report = TargetReport {
                relative: target.relative,
                reached: precise,
                replications: n,
                widest,
            };
            return Ok((results, report));
        }
        // The half-width shrinks like 1/sqrt(n): aim for the estimate, 10% beyond, but
        // at most double per round, since an early estimate of the spread is noisy
        // (each round runs only the new replications).
        let needed = f64::from(n) * (worst / target.relative).powi(2) * 1.1;
        n = (needed.ceil() as u32).clamp(n + 1, (2 * n).min(max));
    }
}

/// The shard these settings ask for, checked (and checked against a precision target, which
/// a shard cannot have).
fn checked_shard_and_target(settings: &BatchSettings) -> Result<Option<Shard>, BatchError> {
    let shard = match settings.shard {
        None => None,
        Some((index, count)) => {
            if settings.target.is_some() {
                return Err(BatchError::TargetWithShard);
            }
            if index == 0 || count == 0 || index > count || count > settings.replications {
                return Err(BatchError::BadShard {
                    index,
                    count,
                    replications: settings.replications,
                });
            }
            Some(Shard {
                index,
                count,
                total_replications: settings.replications,
            })
        }
    };
    if let Some(target) = settings.target
        && !(target.relative > 0.0 && target.relative < 1.0)
    {
        return Err(BatchError::BadTarget(target.relative));
    }
    Ok(shard)
}

/// The target figure with the widest CI relative to its scale, over all policies. A figure's
/// scale is its largest mean across the policies: a figure whose true value is 0 under one
/// policy (police hours on eligible calls when care takes them all) has a half-width that is
/// small against the others' means, where against its own mean of ~0 it would never be.
pub(crate) fn widest_relative_half_width(results: &Results) -> Option<(String, String, f64)> {
    let mut widest: Option<(String, String, f64)> = None;
    for key in TARGET_FIGURES {
        let Some(f) = results.figure_index(key) else {
            continue;
        };
        let scale = results
            .policies
            .iter()
            .map(|p| p.estimates[f].mean.abs())
            .filter(|m| m.is_finite())
            .fold(0.0, f64::max);
        for policy in &results.policies {
            let e = policy.estimates[f];
            // A figure that is 0 under every policy has nothing to estimate.
            if !(e.mean.is_finite() && scale > 0.0) {
                continue;
            }
            // No interval yet (a single replication) counts as infinitely wide.
            let relative = if e.half_width.is_finite() {
                e.half_width / scale
            } else {
                f64::INFINITY
            };
            if widest.as_ref().is_none_or(|w| relative > w.2) {
                widest = Some((policy.label().to_string(), key.to_string(), relative));
            }
        }
    }
    widest
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::results_json;
    use std::fs;

    fn small() -> Scenario {
        let mut scenario = Scenario::default_scenario();
        scenario.horizon_days = 8.0;
        scenario.warmup_days = 1.0;
        scenario
    }

    fn settings(replications: u32) -> BatchSettings {
        BatchSettings {
            replications,
            seed: 4,
            threads: Some(2),
            ..BatchSettings::default()
        }
    }

    #[test]
    fn a_plain_batch_equals_a_plain_run() {
        let scenario = small();
        let batch = run_batch(&scenario, &settings(4), &NoProgress).unwrap();
        let run = experiment::run(
            &scenario,
            &experiment::RunSettings {
                replications: 4,
                seed: 4,
                threads: Some(1),
            },
        )
        .unwrap();
        assert_eq!(results_json(&batch.results), results_json(&run));
        assert_eq!(batch.resumed_jobs, 0);
    }

    #[test]
    fn resuming_a_partial_checkpoint_gives_the_uninterrupted_results() {
        let scenario = small();
        let dir = std::env::temp_dir().join(format!("crisis-sim-ckpt-{}", std::process::id()));
        let path = dir.join("checkpoint.jsonl");
        let full = BatchSettings {
            checkpoint: Some(path.clone()),
            ..settings(5)
        };
        let whole = run_batch(&scenario, &full, &NoProgress).unwrap();
        // Keep the header and 3 jobs, then tear the next line in half, as a kill would.
        let text = fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1 + 10);
        let torn = &lines[4][..lines[4].len() / 2];
        fs::write(&path, format!("{}\n{torn}", lines[..4].join("\n"))).unwrap();

        let resumed = run_batch(
            &scenario,
            &BatchSettings {
                resume: true,
                ..full.clone()
            },
            &NoProgress,
        )
        .unwrap();
        assert_eq!(resumed.resumed_jobs, 3);
        assert_eq!(results_json(&resumed.results), results_json(&whole.results));

        // A checkpoint of another seed is refused, naming the difference.
        let other = BatchSettings {
            seed: 99,
            resume: true,
            ..full
        };
        let err = run_batch(&scenario, &other, &NoProgress).unwrap_err();
        assert!(err.to_string().contains("seed 4"), "{err}");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn target_ci_adds_replications_until_precise_enough() {
        let scenario = small();
        let target = TargetCi {
            relative: 0.05,
            max_replications: 200,
        };
        let outcome = run_batch(
            &scenario,
            &BatchSettings {
                target: Some(target),
                ..settings(3)
            },
            &NoProgress,
        )
        .unwrap();
        let report = outcome.target.unwrap();
        assert!(report.reached, "{report:?}");
        assert!(
            report.replications >= MIN_TARGET_REPLICATIONS,
            "never stops before the floor: {report:?}"
        );
        assert_eq!(
            outcome.results.replications.len(),
            report.replications as usize
        );
        let (_, _, widest) = widest_relative_half_width(&outcome.results).unwrap();
        assert!(widest <= 0.05);
        // The cap is respected and reported.
        let capped = run_batch(
            &scenario,
            &BatchSettings {
                target: Some(TargetCi {
                    relative: 0.0001,
                    max_replications: 6,
                }),
                ..settings(3)
            },
            &NoProgress,
        )
        .unwrap()
        .target
        .unwrap();
        assert!(!capped.reached);
        assert_eq!(capped.replications, 6);
    }

    /// Issue #16: a target figure whose true value is 0 under one policy (police hours on
    /// eligible calls when care teams take every one) once kept a precision target running to
    /// its cap; it is measured against the figure's scale across policies.
    #[test]
    fn target_ci_finishes_when_a_figure_is_zero_under_one_policy() {
        let mut scenario = small();
        let care = scenario
            .pools
            .iter_mut()
            .find(|p| p.kind == crate::scenario::ResponderKind::Care)
            .unwrap();
        care.shifts.clear();
        care.set_count(60);
        let care_first = crate::policy::build(
            "care_first",
            &toml::from_str(
                "max_care_wait_minutes = 60\neligible_sent_to_police = 0\nineligible_sent_to_care = 0",
            )
            .unwrap(),
        )
        .unwrap()
        .1;
        scenario.policies[1].policy = care_first;
        // Police still go to a few eligible calls, as backup: a mean near 0, not exactly 0
        // (which has no relative half-width at all).
        let outcome = run_batch(
            &scenario,
            &BatchSettings {
                target: Some(TargetCi {
                    relative: 0.05,
                    max_replications: 400,
                }),
                ..settings(3)
            },
            &NoProgress,
        )
        .unwrap();
        let hours = outcome
            .results
            .estimate("care_first", key::POLICE_HOURS_ON_ELIGIBLE)
            .unwrap();
        assert!(
            hours.mean > 0.0 && hours.mean < 0.05 * 57_000.0,
            "police keep only backup on eligible calls: {hours:?}"
        );
        let report = outcome.target.unwrap();
        assert!(report.reached && report.replications < 400, "{report:?}");
    }

    #[test]
    fn work_past_the_ceiling_is_refused_before_it_starts() {
        let mut scenario = small();
        // Six policies: a precision target may grow to 200,000 replications x 6.
        let more = scenario.policies.clone();
        for _ in 0..2 {
            scenario.policies.extend(more.iter().cloned());
        }
        let target = BatchSettings {
            target: Some(TargetCi {
                relative: 0.01,
                max_replications: 200_000,
            }),
            ..settings(3)
        };
        let err = run_batch(&scenario, &target, &NoProgress).unwrap_err();
        assert!(
            err.to_string().starts_with(
                "up to 200000 replications (--max-replications) x 6 policies make 1200000 replication runs"
            ),
            "{err}"
        );
        // A shard holds only its share: 1/2 of 400,000 x 6 is still too many, 1/4 is not.
        let sharded = |index, count| BatchSettings {
            shard: Some((index, count)),
            ..settings(400_000)
        };
        assert!(run_batch(&scenario, &sharded(1, 2), &NoProgress).is_err());
    }

    #[test]
    fn bad_shards_and_targets_are_refused() {
        let scenario = small();
        for shard in [(0, 3), (4, 3), (1, 11)] {
            let err = run_batch(
                &scenario,
                &BatchSettings {
                    shard: Some(shard),
                    ..settings(10)
                },
                &NoProgress,
            )
            .unwrap_err();
            assert!(matches!(err, BatchError::BadShard { .. }), "{err}");
        }
        let err = run_batch(
            &scenario,
            &BatchSettings {
                shard: Some((1, 2)),
                target: Some(TargetCi {
                    relative: 0.1,
                    max_replications: 10,
                }),
                ..settings(10)
            },
            &NoProgress,
        )
        .unwrap_err();
        assert!(matches!(err, BatchError::TargetWithShard));
    }
}
