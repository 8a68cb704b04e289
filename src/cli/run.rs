//! `crisis-sim run` and `replay`: simulate every policy over many replications (of the
//! scenario's synthetic calls, or of a call-stream file), print the comparison, write the
//! results, the charts and any logs.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use crisis_sim::calls::stream::StreamFile;
use crisis_sim::experiment::Results;
use crisis_sim::experiment::batch::{self, BatchSettings, TargetCi};
use crisis_sim::output::log::LogPlan;
use crisis_sim::output::{self, RESULTS_FILE};
use crisis_sim::scenario::Scenario;

use super::common::{
    Bar, human_bytes, human_duration, load_scenario, refuse_overwrite, write_results,
};
use super::error::AppError;

/// Where finished replications are saved while a run is under way (removed when it completes).
pub const CHECKPOINT_FILE: &str = "checkpoint.jsonl";
/// `--max-replications` when not given.
pub const DEFAULT_MAX_REPLICATIONS: u32 = 1000;

/// A validated plan of `crisis-sim run` (and `replay`).
#[derive(Clone, Debug, Default)]
pub struct RunPlan {
    pub scenario: Option<PathBuf>,
    pub replications: Option<u32>,
    pub seed: Option<u64>,
    pub threads: Option<usize>,
    pub out_dir: PathBuf,
    pub quiet: bool,
    /// `(index, count)`, 1-based.
    pub shard: Option<(u32, u32)>,
    pub resume: bool,
    /// Relative CI half-width to reach (`--target-ci`).
    pub target_ci: Option<f64>,
    pub max_replications: Option<u32>,
    pub csv: bool,
    /// Write `calls.csv` (`--log calls`).
    pub log_calls: bool,
    /// Write `units.csv` (`--log units`).
    pub log_units: bool,
    /// Replications to log; the run's first when `None`.
    pub log_replications: Option<BTreeSet<u64>>,
    /// Also print utilization and unmet eligible calls by hour of day.
    pub hourly: bool,
    /// Replay this call-stream file instead of the scenario's synthetic calls.
    pub stream: Option<PathBuf>,
    /// Days of warm-up to discard (overrides the scenario's; replay only).
    pub warmup_days: Option<f64>,
    /// Policies to compare, by label or rule, the first as the baseline (all when empty).
    pub policies: Vec<String>,
    /// Replace an earlier run's results in `out_dir`.
    pub force: bool,
}

/// `crisis-sim run`: simulate, print the comparison table to `stdout`, write `results.json`.
pub fn run(options: &RunPlan, stdout: &mut dyn Write) -> Result<Results, AppError> {
    let mut scenario = load_scenario(options.scenario.as_deref())?;
    scenario.report_hourly = options.hourly;
    if !options.policies.is_empty() {
        scenario
            .select_policies(&options.policies)
            .map_err(|e| AppError::BadInput(format!("--policy {e}")))?;
    }
    // Held until the new set is in place: a second writer is refused, not mixed in.
    let out = output::OutputDir::lock(&options.out_dir, "run")?;
    let checkpoint = options.out_dir.join(CHECKPOINT_FILE);
    if !options.resume {
        refuse_overwrite(
            &options.out_dir.join(RESULTS_FILE),
            "a finished run's results",
            options.force,
        )?;
        if !options.force && checkpoint.exists() {
            return Err(AppError::BadInput(format!(
                "{} holds an interrupted run: pass --resume to finish it, or --force to start afresh",
                checkpoint.display()
            )));
        }
    } else if !checkpoint.exists() {
        // Nothing to resume: a finished run's results there are not to be replaced quietly
        // (they may be of another scenario or seed).
        let results = options.out_dir.join(RESULTS_FILE);
        if !options.force && results.exists() {
            return Err(AppError::BadInput(format!(
                "{} holds a finished run's results and {} has no checkpoint to resume: \
                 pass --force (without --resume) to run again and replace them",
                results.display(),
                options.out_dir.display()
            )));
        }
    }
    let stream = match &options.stream {
        None => None,
        Some(path) => Some(std::sync::Arc::new(open_stream(
            path,
            &mut scenario,
            options.warmup_days,
        )?)),
    };
    let replications = match (&stream, options.replications) {
        (_, Some(asked)) => asked,
        // A file of several replications (from `generate`) replays all of them; one stream
        // (a city's real calls) replays as many times as the scenario asks.
        (Some(stream), None) if stream.replications() > 1 => stream.replications() as u32,
        (_, None) => scenario.replications,
    };
    // What the user should know about the numbers: printed now, and kept in results.json
    // so the report shows it beside them.
    let mut warnings = Vec::new();
    if let Some(stream) = &stream {
        stream.check_replications(u64::from(replications))?;
        warnings.extend(stream_warnings(stream, &scenario));
        if !options.quiet {
            for warning in &warnings {
                let _ = writeln!(stdout, "Note: {warning}");
            }
            print_stream_notes(stream, &scenario, replications, stdout);
        }
    }
    let log = (options.log_calls || options.log_units).then(|| LogPlan {
        dir: out.staging().to_path_buf(),
        calls: options.log_calls,
        units: options.log_units,
        replications: options.log_replications.clone().unwrap_or_else(|| {
            // The run's first replication (a shard's first, when sharded).
            let first = options.shard.map_or(0, |(index, count)| {
                u64::from(index - 1) * u64::from(replications) / u64::from(count)
            });
            BTreeSet::from([first])
        }),
    });
    let settings = BatchSettings {
        replications,
        seed: options.seed.unwrap_or(scenario.seed),
        threads: options.threads,
        shard: options.shard,
        target: options.target_ci.map(|relative| TargetCi {
            relative,
            max_replications: options.max_replications.unwrap_or(DEFAULT_MAX_REPLICATIONS),
        }),
        checkpoint: Some(checkpoint.clone()),
        resume: options.resume,
        log: log.clone(),
        stream,
    };
    if settings.stream.is_none() {
        // An overloaded fleet is a finding the user should have before the numbers.
        for warning in crisis_sim::stats::load::analyse(&scenario).warnings {
            if !options.quiet {
                eprintln!("Warning: {warning}.");
            }
            warnings.push(format!("{warning}."));
        }
    }
    if !options.quiet {
        warn_if_long(options, &scenario, &settings, replications);
    }
    let bar = Bar::new(options.quiet);
    let named = |e: AppError| e.in_output_dir(&out);
    let mut outcome = batch::run_batch(&scenario, &settings, &bar).map_err(|e| named(e.into()))?;
    bar.finish();
    warnings.extend(outcome.warnings.iter().cloned());
    outcome.results.warnings = warnings;
    // The whole set is written beside the old one, then replaces it.
    let mut written = write_results(&outcome.results, out.staging(), options.csv).map_err(named)?;
    written.extend(
        output::write_results_charts(&outcome.results, out.staging())
            .map_err(|e| named(e.into()))?,
    );
    let written: Vec<PathBuf> = written.iter().map(|p| out.final_path(p)).collect();
    for log in &mut outcome.logs {
        log.path = out.final_path(&log.path);
    }
    out.commit(output::Replace::WholeSet)?;
    // Everything is in results.json now; the checkpoint has served its purpose.
    let _ = std::fs::remove_file(&checkpoint);
    if !options.quiet {
        print_summary(options, &outcome, log.as_ref(), &written, stdout);
    }
    Ok(outcome.results)
}

/// What the user should know about a stream's numbers: volume against the fleet's, and
/// repeated rows.
fn stream_warnings(stream: &StreamFile, scenario: &Scenario) -> Vec<String> {
    let mut warnings = Vec::new();
    let per_day = stream.calls as f64 / stream.replications() as f64 / scenario.horizon_days;
    let planned = scenario.demand.calls_per_day;
    if !(0.8..=1.25).contains(&(per_day / planned)) {
        warnings.push(format!(
            "the stream has {per_day:.0} calls a day; the scenario's fleet is set for {planned:.0} (its calls_per_day). Fit a scenario to the stream (crisis-sim fit) and size its fleet, or expect {} utilization.",
            if per_day > planned {
                "overloaded"
            } else {
                "low"
            }
        ));
    }
    if let Some(line) = stream.first_same_as_previous {
        warnings.push(format!(
            "{} calls have the same time, call type and zone as the call before them (first on line {line}); if they are one incident exported once per unit, import with source.id set to merge them.",
            output::format_number(stream.same_as_previous as f64, 0),
        ));
    }
    warnings
}

/// What will replay.
fn print_stream_notes(
    stream: &StreamFile,
    scenario: &Scenario,
    replications: u32,
    stdout: &mut dyn Write,
) {
    let _ = writeln!(
        stdout,
        "Replaying {}: {} calls over {} days from {} ({}), warm-up {} days, {} replication{}.\n",
        stream.path.display(),
        output::format_number(stream.calls as f64, 0),
        scenario.horizon_days,
        scenario.start_date,
        if stream.replications() > 1 {
            format!(
                "{} replications of its own, with their draws",
                stream.replications()
            )
        } else if stream.has_draw_keys {
            "one stream; replication 0 uses its draws, the rest draw afresh".to_string()
        } else {
            "one stream; each replication draws on-scene times and outcomes afresh".to_string()
        },
        scenario.warmup_days,
        replications,
        if replications == 1 { "" } else { "s" },
    );
}

/// Says how long a long run will take before it starts.
fn warn_if_long(
    options: &RunPlan,
    scenario: &Scenario,
    settings: &BatchSettings,
    replications: u32,
) {
    let calls = match &settings.stream {
        Some(stream) => stream.calls as f64 / stream.replications() as f64,
        None => scenario.demand.calls_per_day * scenario.horizon_days,
    };
    let replications = match options.shard {
        Some((_, count)) => f64::from(replications) / f64::from(count),
        None => f64::from(replications),
    };
    let jobs = replications * scenario.policies.len() as f64;
    let cores = options
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get));
    let seconds = estimate_seconds(calls, jobs, cores, settings.stream.is_some());
    if seconds > LONG_RUN_SECONDS {
        eprintln!(
            "This run simulates {} replication runs of about {} calls on {cores} core{}: \
             expect about {}. Ctrl-C is safe: --resume continues from the checkpoint.",
            output::format_number(jobs, 0),
            output::format_number(calls, 0),
            if cores == 1 { "" } else { "s" },
            human_duration(seconds)
        );
    }
}

/// The table, what the run did (shard, resume, precision target, logs) and the files written.
fn print_summary(
    options: &RunPlan,
    outcome: &batch::BatchOutcome,
    log: Option<&LogPlan>,
    written: &[PathBuf],
    stdout: &mut dyn Write,
) {
    // A closed pipe (e.g. `| head`) is not an error worth failing the run for.
    let _ = write!(stdout, "{}", output::comparison_table(&outcome.results));
    if options.hourly {
        let _ = write!(stdout, "\n{}", output::hourly_table(&outcome.results));
    }
    if let Some(shard) = outcome.results.shard {
        let range = shard.replications();
        let _ = writeln!(
            stdout,
            "\nShard {}/{}: replications {}..{} of {}. Combine all shards with `crisis-sim merge`.",
            shard.index, shard.count, range.start, range.end, shard.total_replications
        );
    }
    if outcome.resumed_jobs > 0 {
        let _ = writeln!(
            stdout,
            "\nResumed: {} replication runs came from the checkpoint.",
            outcome.resumed_jobs
        );
    }
    if let Some(target) = &outcome.target {
        let widest = target
            .widest
            .as_ref()
            .map_or(String::new(), |(policy, key, w)| {
                format!(" (widest: {key} under {policy}, ±{:.2}%)", w * 100.0)
            });
        let _ = writeln!(
            stdout,
            "\nPrecision target ±{:.2}% {} with {} replications{widest}.",
            target.relative * 100.0,
            if target.reached {
                "reached"
            } else {
                "NOT reached (--max-replications)"
            },
            target.replications
        );
    }
    if let Some(plan) = &log {
        let run: BTreeSet<u64> = outcome.results.replications.iter().copied().collect();
        let absent: Vec<String> = plan
            .replications
            .difference(&run)
            .map(u64::to_string)
            .collect();
        if !absent.is_empty() {
            let _ = writeln!(
                stdout,
                "\nNot logged (not part of this run): replication{} {}.",
                if absent.len() == 1 { "" } else { "s" },
                absent.join(", ")
            );
        }
    }
    let _ = writeln!(stdout);
    for path in written {
        let _ = writeln!(stdout, "Wrote {}", path.display());
    }
    for log in &outcome.logs {
        let _ = writeln!(
            stdout,
            "Wrote {} ({}, {} rows)",
            log.path.display(),
            human_bytes(log.bytes),
            output::format_number(log.rows as f64, 0)
        );
    }
}

/// Opens a call stream for replay and sets the scenario's dates, horizon and warm-up to it.
fn open_stream(
    path: &Path,
    scenario: &mut Scenario,
    warmup_days: Option<f64>,
) -> Result<StreamFile, AppError> {
    let stream = StreamFile::open(path, scenario)?;
    stream.apply_to(scenario);
    if let Some(days) = warmup_days {
        scenario.warmup_days = days;
    }
    if !(scenario.warmup_days >= 0.0 && scenario.warmup_days < scenario.horizon_days) {
        return Err(AppError::BadInput(format!(
            "{} spans {} days, but the warm-up is {} days: nothing would be measured; pass --warmup-days with fewer days (0 counts every call)",
            path.display(),
            scenario.horizon_days,
            scenario.warmup_days
        )));
    }
    Ok(stream)
}

/// Runs expected to take longer than this get an estimate first.
const LONG_RUN_SECONDS: f64 = 20.0;

/// Expected wall time of `jobs` replication runs of `calls` calls on `cores` cores. The rates
/// are below those measured in BENCHMARKS.md (4.2 M calls/s generated, 2.2 M replayed, per
/// core), so the estimate errs long.
fn estimate_seconds(calls: f64, jobs: f64, cores: usize, replay: bool) -> f64 {
    let calls_per_second = if replay { 1.5e6 } else { 3.0e6 };
    // Jobs are whole: with fewer jobs than cores, some cores idle.
    let waves = (jobs / cores.max(1) as f64).ceil();
    waves * calls / calls_per_second
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_runs_get_an_estimate_that_errs_long() {
        // The default year (~409k calls), 2 policies x 10 replications on 2 cores: ~1.4 s.
        let short = estimate_seconds(409_000.0, 20.0, 2, false);
        assert!(short < LONG_RUN_SECONDS && short > 1.0, "{short}");
        // 1,000 replications: about 2 minutes, flagged.
        let long = estimate_seconds(409_000.0, 2000.0, 2, false);
        assert!(long > LONG_RUN_SECONDS, "{long}");
        assert_eq!(human_duration(long), "2 min");
        // One job cannot use two cores.
        assert_eq!(
            estimate_seconds(3.0e6, 1.0, 2, false),
            estimate_seconds(3.0e6, 1.0, 1, false)
        );
    }
}
