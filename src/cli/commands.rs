//! The commands behind the binary, as library calls: load the scenario, run, print, write.
//! `main.rs` only turns arguments into these options and an [`AppError`] into an exit code.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use crisis_sim::calls::stream::{StreamError, StreamFile};
use crisis_sim::experiment::batch::{self, BatchError, BatchSettings, Progress, TargetCi};
use crisis_sim::experiment::merge::{self, MergeError};
use crisis_sim::experiment::sweep::{self, SweepError, SweepSettings};
use crisis_sim::experiment::{ExperimentError, Results};
use crisis_sim::output::log::LogPlan;
use crisis_sim::output::{self, Drawable, RESULTS_FILE};
use crisis_sim::scenario::load;
use crisis_sim::scenario::{Scenario, ScenarioError};

/// Exit code for success.
pub const EXIT_OK: u8 = 0;
/// Exit code for an internal error (including failing to write outputs).
pub const EXIT_INTERNAL: u8 = 1;
/// Exit code for bad input (scenario file, arguments, results to merge).
pub const EXIT_BAD_INPUT: u8 = 2;

/// Where finished replications are saved while a run is under way (removed when it completes).
pub const CHECKPOINT_FILE: &str = "checkpoint.jsonl";
/// `--max-replications` when not given.
pub const DEFAULT_MAX_REPLICATIONS: u32 = 1000;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error(transparent)]
    Settings(#[from] ExperimentError),
    #[error(transparent)]
    Batch(#[from] BatchError),
    #[error(transparent)]
    Merge(#[from] MergeError),
    #[error(transparent)]
    Sweep(#[from] SweepError),
    #[error(transparent)]
    Stream(#[from] StreamError),
    #[error(transparent)]
    Chart(#[from] output::ChartError),
    #[error(transparent)]
    Import(#[from] crisis_sim::calls::import::ImportError),
    #[error(transparent)]
    Fit(#[from] crisis_sim::calls::fit::FitError),
    #[error("{0}")]
    BadInput(String),
    #[error(
        "{} already holds {what}; pass --force to replace it, or choose another output",
        path.display()
    )]
    WouldOverwrite { path: PathBuf, what: &'static str },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl AppError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Scenario(_)
            | Self::Settings(_)
            | Self::Merge(_)
            | Self::Stream(_)
            | Self::Import(_)
            | Self::Fit(_)
            | Self::BadInput(_)
            | Self::WouldOverwrite { .. } => EXIT_BAD_INPUT,
            // The disk or the machine failed us, not the user's input.
            Self::Batch(
                BatchError::CheckpointIo { .. }
                | BatchError::Log { .. }
                | BatchError::Experiment(ExperimentError::Threads { .. }),
            ) => EXIT_INTERNAL,
            Self::Batch(_) => EXIT_BAD_INPUT,
            Self::Sweep(SweepError::Experiment(ExperimentError::Threads { .. })) => EXIT_INTERNAL,
            Self::Sweep(_) => EXIT_BAD_INPUT,
            Self::Write { .. } | Self::Chart(_) => EXIT_INTERNAL,
        }
    }
}

/// Refuses to replace an earlier run's output unless `force`: finished work is never lost to a
/// repeated command.
fn refuse_overwrite(path: &Path, what: &'static str, force: bool) -> Result<(), AppError> {
    if !force && path.exists() {
        return Err(AppError::WouldOverwrite {
            path: path.to_path_buf(),
            what,
        });
    }
    Ok(())
}

/// Parses `--shard I/N`.
pub fn parse_shard(text: &str) -> Result<(u32, u32), String> {
    let parsed = text
        .split_once('/')
        .and_then(|(i, n)| Some((i.trim().parse().ok()?, n.trim().parse().ok()?)));
    match parsed {
        Some((index, count)) if index >= 1 && index <= count => Ok((index, count)),
        _ => Err(format!(
            "expected I/N with 1 <= I <= N (e.g. 3/8, as in a Slurm --array=1-8 job), found `{text}`"
        )),
    }
}

/// Loads the scenario at `path`, or the built-in default.
pub fn load_scenario(path: Option<&Path>) -> Result<Scenario, ScenarioError> {
    match path {
        Some(path) => Scenario::from_file(path),
        None => Ok(Scenario::default_scenario()),
    }
}

/// Options of `crisis-sim run`.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
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

/// A progress bar on the terminal (hidden when stderr is not one, or with `--quiet`).
struct Bar(indicatif::ProgressBar);

impl Bar {
    fn new(quiet: bool) -> Self {
        if quiet {
            return Self(indicatif::ProgressBar::hidden());
        }
        let style = indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:30}] {pos}/{len} replication runs, {per_sec}, ETA {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> ");
        Self(indicatif::ProgressBar::new(0).with_style(style))
    }
}

impl Progress for Bar {
    fn set(&self, total: u64, done: u64) {
        self.0.set_length(total);
        self.0.set_position(done);
    }

    fn advance(&self) {
        self.0.inc(1);
    }
}

fn write_file(path: PathBuf, bytes: &[u8]) -> Result<PathBuf, AppError> {
    output::write_atomic(&path, bytes).map_err(|source| AppError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// Writes results.json (and the CSV files), returning the paths written.
fn write_results(results: &Results, out_dir: &Path, csv: bool) -> Result<Vec<PathBuf>, AppError> {
    let mut written = vec![write_file(
        out_dir.join(RESULTS_FILE),
        output::results_json(results).as_bytes(),
    )?];
    if csv {
        let csv_error = |path: PathBuf| {
            move |e: csv::Error| AppError::Write {
                path,
                source: std::io::Error::other(e),
            }
        };
        let path = out_dir.join(output::REPLICATIONS_CSV);
        let bytes = output::replications_csv(results).map_err(csv_error(path.clone()))?;
        written.push(write_file(path, &bytes)?);
        let path = out_dir.join(output::SUMMARY_CSV);
        let bytes = output::summary_csv(results).map_err(csv_error(path.clone()))?;
        written.push(write_file(path, &bytes)?);
    }
    Ok(written)
}

/// `crisis-sim run`: simulate, print the comparison table to `stdout`, write `results.json`.
pub fn run(options: &RunOptions, stdout: &mut dyn Write) -> Result<Results, AppError> {
    let mut scenario = load_scenario(options.scenario.as_deref())?;
    scenario.report_hourly = options.hourly;
    if !options.policies.is_empty() {
        scenario
            .select_policies(&options.policies)
            .map_err(AppError::BadInput)?;
    }
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
    if let Some(stream) = &stream {
        stream.check_replications(u64::from(replications))?;
        let per_day = stream.calls as f64 / stream.replications() as f64 / scenario.horizon_days;
        let planned = scenario.demand.calls_per_day;
        if !options.quiet && !(0.8..=1.25).contains(&(per_day / planned)) {
            let _ = writeln!(
                stdout,
                "Note: the stream has {per_day:.0} calls a day; the scenario's fleet is set for {planned:.0} (its calls_per_day). Fit a scenario to the stream (crisis-sim fit) and size its fleet, or expect {} utilization.",
                if per_day > planned {
                    "overloaded"
                } else {
                    "low"
                }
            );
        }
        if !options.quiet
            && let Some(line) = stream.first_same_as_previous
        {
            let _ = writeln!(
                stdout,
                "Note: {} calls have the same time, call type and zone as the call before them (first on line {line}); if they are one incident exported once per unit, import with source.id set to merge them.",
                output::format_number(stream.same_as_previous as f64, 0),
            );
        }
        if !options.quiet {
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
                    "one stream; each replication draws on-scene times and outcomes afresh"
                        .to_string()
                },
                scenario.warmup_days,
                replications,
                if replications == 1 { "" } else { "s" },
            );
        }
    }
    let log = (options.log_calls || options.log_units).then(|| LogPlan {
        dir: options.out_dir.clone(),
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
    if !options.quiet {
        let calls = match &settings.stream {
            Some(stream) => stream.calls as f64 / stream.replications() as f64,
            None => scenario.demand.calls_per_day * scenario.horizon_days,
        };
        let replications = match options.shard {
            Some((_, count)) => f64::from(replications) / f64::from(count),
            None => f64::from(replications),
        };
        let jobs = replications * scenario.policies.len() as f64;
        let cores = options.threads.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
        });
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
    let bar = Bar::new(options.quiet);
    let outcome = batch::run_batch(&scenario, &settings, &bar)?;
    bar.0.finish_and_clear();
    let mut written = write_results(&outcome.results, &options.out_dir, options.csv)?;
    written.extend(output::write_results_charts(
        &outcome.results,
        &options.out_dir,
    )?);
    // Everything is in results.json now; the checkpoint has served its purpose.
    let _ = std::fs::remove_file(&checkpoint);
    if !options.quiet {
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
    Ok(outcome.results)
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

/// `3 min`-style durations.
fn human_duration(seconds: f64) -> String {
    if seconds < 90.0 {
        format!("{seconds:.0} s")
    } else if seconds < 90.0 * 60.0 {
        format!("{:.0} min", seconds / 60.0)
    } else {
        format!("{:.1} h", seconds / 3600.0)
    }
}

/// `1.5 MB`-style sizes.
fn human_bytes(bytes: u64) -> String {
    let units = ["bytes", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < units.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

/// `crisis-sim merge`: combine shards' results into the whole run's.
pub fn merge(
    inputs: &[PathBuf],
    out_dir: &Path,
    csv: bool,
    force: bool,
    quiet: bool,
    stdout: &mut dyn Write,
) -> Result<Results, AppError> {
    refuse_overwrite(
        &out_dir.join(RESULTS_FILE),
        "a finished run's results",
        force,
    )?;
    let shards = inputs
        .iter()
        .map(|input| merge::read(input))
        .collect::<Result<Vec<_>, _>>()?;
    let results = merge::merge(&shards)?;
    let written = write_results(&results, out_dir, csv)?;
    if !quiet {
        let _ = write!(stdout, "{}", output::comparison_table(&results));
        let _ = writeln!(stdout, "\nMerged {} shards.", shards.len());
        for path in written {
            let _ = writeln!(stdout, "Wrote {}", path.display());
        }
    }
    Ok(results)
}

/// Options of `crisis-sim sweep`.
#[derive(Clone, Debug, Default)]
pub struct SweepOptions {
    pub scenario: Option<PathBuf>,
    /// `--vary` texts, e.g. `care.count=0..=20`.
    pub varies: Vec<String>,
    pub policies: Vec<String>,
    pub targets: Vec<String>,
    pub replications: Option<u32>,
    pub seed: Option<u64>,
    pub threads: Option<usize>,
    pub out_dir: PathBuf,
    pub quiet: bool,
    /// Also print the recommended point's hourly profile.
    pub hourly: bool,
    /// Replace an earlier sweep's results in `out_dir`.
    pub force: bool,
}

/// `crisis-sim sweep`: run the grid, print the table and recommendation, write sweep.csv/json.
pub fn sweep(
    options: &SweepOptions,
    stdout: &mut dyn Write,
) -> Result<sweep::SweepResults, AppError> {
    refuse_overwrite(
        &options.out_dir.join(output::SWEEP_JSON),
        "a finished sweep's results",
        options.force,
    )?;
    let mut scenario = load_scenario(options.scenario.as_deref())?;
    scenario.report_hourly = options.hourly;
    let varies = options
        .varies
        .iter()
        .map(|text| sweep::parse_vary(text, &scenario))
        .collect::<Result<Vec<_>, _>>()?;
    let settings = SweepSettings {
        replications: options.replications.unwrap_or(scenario.replications),
        seed: options.seed.unwrap_or(scenario.seed),
        threads: options.threads,
        policies: options.policies.clone(),
        targets: options.targets.clone(),
    };
    let bar = Bar::new(options.quiet);
    let results = sweep::run_sweep(&scenario, &varies, &settings, &bar)?;
    bar.0.finish_and_clear();
    let json_text = output::sweep_json(&results);
    let json = write_file(
        options.out_dir.join(output::SWEEP_JSON),
        json_text.as_bytes(),
    )?;
    let charts = sweep_chart(&json_text, &json)?.write(&options.out_dir)?;
    let csv_path = options.out_dir.join(output::SWEEP_CSV);
    let csv_bytes = output::sweep_csv(&results).map_err(|e| AppError::Write {
        path: csv_path.clone(),
        source: std::io::Error::other(e),
    })?;
    let csv = write_file(csv_path, &csv_bytes)?;
    if !options.quiet {
        let _ = write!(stdout, "{}", output::sweep_table(&results));
        if options.hourly {
            // The recommended point, or the last (largest) one when there is none.
            let x = results
                .recommendations
                .first()
                .and_then(|r| r.point)
                .unwrap_or(results.points.len() - 1);
            let point = &results.points[x];
            let settings: Vec<String> = point
                .settings
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let _ = write!(
                stdout,
                "\nAt {}: {}",
                settings.join(", "),
                output::hourly_table(&point.results)
            );
        }
        let _ = writeln!(
            stdout,
            "\nWrote {}\nWrote {}",
            json.display(),
            csv.display()
        );
        for path in charts {
            let _ = writeln!(stdout, "Wrote {}", path.display());
        }
    }
    Ok(results)
}

/// Options of `crisis-sim generate`.
#[derive(Clone, Debug, Default)]
pub struct GenerateOptions {
    pub scenario: Option<PathBuf>,
    /// Days of calls (the scenario's horizon when `None`).
    pub days: Option<f64>,
    pub seed: Option<u64>,
    pub replications: u64,
    pub output: PathBuf,
    pub force: bool,
    pub quiet: bool,
}

/// `crisis-sim generate`: write the synthetic call stream of `replications` replications.
pub fn generate(options: &GenerateOptions, stdout: &mut dyn Write) -> Result<(), AppError> {
    let (days, seed, replications, output, quiet) = (
        options.days,
        options.seed,
        options.replications,
        options.output.as_path(),
        options.quiet,
    );
    refuse_overwrite(output, "a file", options.force)?;
    let mut scenario = load_scenario(options.scenario.as_deref())?;
    if let Some(days) = days {
        if !(days > 0.0 && days.is_finite()) {
            return Err(AppError::BadInput(format!(
                "--days {days}: expected a number of days > 0"
            )));
        }
        scenario.horizon_days = days;
    }
    if replications == 0 {
        return Err(ExperimentError::ZeroReplications.into());
    }
    let seed = seed.unwrap_or(scenario.seed);
    let summary = crisis_sim::calls::stream::generate(&scenario, seed, replications, output)
        .map_err(|source| AppError::Write {
            path: output.to_path_buf(),
            source,
        })?;
    if !quiet {
        let _ = writeln!(
            stdout,
            "Wrote {}: {} calls, {} replication{} of {} days from {} (seed {seed}).",
            summary.path.display(),
            output::format_number(summary.calls as f64, 0),
            summary.replications,
            if summary.replications == 1 { "" } else { "s" },
            summary.days,
            scenario.start_date,
        );
        if scenario.warmup_days >= scenario.horizon_days {
            let _ = writeln!(
                stdout,
                "Note: the scenario's warm-up ({} days) covers the whole stream; replay it with --warmup-days.",
                scenario.warmup_days
            );
        }
    }
    Ok(())
}

/// Options of `crisis-sim import`.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    pub raw: PathBuf,
    pub mapping: PathBuf,
    pub scenario: Option<PathBuf>,
    pub output: PathBuf,
    pub strict: bool,
    pub force: bool,
    pub quiet: bool,
}

/// `crisis-sim import`: map a city's export onto the scenario's call types and zones.
pub fn import(options: &ImportOptions, stdout: &mut dyn Write) -> Result<(), AppError> {
    refuse_overwrite(&options.output, "a file", options.force)?;
    let scenario = load_scenario(options.scenario.as_deref())?;
    let report = crisis_sim::calls::import::import(
        &options.raw,
        &options.mapping,
        &scenario,
        &options.output,
        options.strict,
    )?;
    if !options.quiet {
        let _ = write!(stdout, "{}", report.render());
        if let Some(path) = &report.output {
            let _ = writeln!(stdout, "Wrote {}", path.display());
        }
    }
    Ok(())
}

/// `crisis-sim fit`: fit the base scenario's demand to a call stream and write it.
pub fn fit(
    calls: &Path,
    scenario: Option<&Path>,
    output: &Path,
    force: bool,
    quiet: bool,
    stdout: &mut dyn Write,
) -> Result<(), AppError> {
    refuse_overwrite(output, "a file", force)?;
    let base = load_scenario(scenario)?;
    let text = match scenario {
        None => crisis_sim::scenario::DEFAULT_SCENARIO_TOML.to_string(),
        Some(path) => std::fs::read_to_string(path).map_err(|source| {
            AppError::BadInput(format!("cannot read {}: {source}", path.display()))
        })?,
    };
    let report = crisis_sim::calls::fit::fit(calls, &base, &text, output)?;
    if !quiet {
        let _ = write!(stdout, "{}", report.render());
    }
    Ok(())
}

/// The sweep chart from `sweep.json` text.
fn sweep_chart(text: &str, path: &Path) -> Result<output::SweepChart, AppError> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| AppError::BadInput(format!("{}: not a sweep.json: {e}", path.display())))?;
    output::SweepChart::from_json(&value)
        .map_err(|e| AppError::BadInput(format!("{}: {e}", path.display())))
}

/// `crisis-sim plot`: redraw the charts of a saved `results.json` or `sweep.json`, without
/// simulating again.
pub fn plot(
    input: &Path,
    out_dir: Option<&Path>,
    quiet: bool,
    stdout: &mut dyn Write,
) -> Result<Vec<PathBuf>, AppError> {
    let file = if input.is_dir() {
        if input.join(RESULTS_FILE).exists() {
            input.join(RESULTS_FILE)
        } else {
            input.join(output::SWEEP_JSON)
        }
    } else {
        input.to_path_buf()
    };
    let text = std::fs::read_to_string(&file)
        .map_err(|e| AppError::BadInput(format!("cannot read {}: {e}", file.display())))?;
    let dir = out_dir
        .map(Path::to_path_buf)
        .or_else(|| file.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."));
    let is_sweep = serde_json::from_str::<serde_json::Value>(&text)
        .map(|v| v.get("swept_policies").is_some())
        .unwrap_or(false);
    let written = if is_sweep {
        sweep_chart(&text, &file)?.write(&dir)?
    } else {
        let parsed = output::parse_results(&text).map_err(|e| {
            AppError::BadInput(format!(
                "{}: not a results.json or sweep.json: {e}",
                file.display()
            ))
        })?;
        output::write_results_charts(&parsed.results, &dir)?
    };
    if !quiet {
        for path in &written {
            let _ = writeln!(stdout, "Wrote {}", path.display());
        }
    }
    Ok(written)
}

/// The scenario text a results file came from, if it is at hand and unchanged.
fn scenario_text_of(results: &Results, results_dir: &Path) -> Option<String> {
    let info = &results.scenario;
    // "city.toml replaying calls.csv": the scenario is the first part.
    let source = info.source.split(" replaying ").next().unwrap_or_default();
    let text = if source == crisis_sim::scenario::DEFAULT_SCENARIO_NAME {
        crisis_sim::scenario::DEFAULT_SCENARIO_TOML.to_string()
    } else {
        let path = Path::new(source);
        std::fs::read_to_string(path)
            .or_else(|_| std::fs::read_to_string(results_dir.join(path)))
            .ok()?
    };
    // Only the very file that was run (it may have been edited since).
    let prefix = info
        .fingerprint
        .split(['+', '/'])
        .next()
        .unwrap_or_default();
    (crisis_sim::scenario::fingerprint(&text) == prefix).then_some(text)
}

/// A sweep's recommendations in words, from `sweep.json`.
fn sweep_recommendations(json: &serde_json::Value) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for r in json["recommendations"].as_array().into_iter().flatten() {
        let policy = r["policy"].as_str().unwrap_or("?");
        match r["settings"].as_object() {
            Some(settings) => {
                let settings: Vec<String> = settings
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("?")))
                    .collect();
                let _ = writeln!(
                    out,
                    "{policy}: the cheapest point meeting every target with 95% confidence is {}.",
                    settings.join(", ")
                );
            }
            None => {
                let _ = writeln!(out, "{policy}: no point of the sweep meets every target.");
            }
        }
    }
    let targets: Vec<&str> = json["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t.as_str())
        .collect();
    if !targets.is_empty() {
        let _ = writeln!(out, "Targets: {}.", targets.join("; "));
    }
    out
}

/// `crisis-sim report`: one self-contained HTML page from saved results (and a sweep).
pub fn report(
    results_path: &Path,
    sweep_path: Option<&Path>,
    output: &Path,
    force: bool,
    quiet: bool,
    stdout: &mut dyn Write,
) -> Result<(), AppError> {
    refuse_overwrite(output, "a report", force)?;
    let file = if results_path.is_dir() {
        results_path.join(RESULTS_FILE)
    } else {
        results_path.to_path_buf()
    };
    let text = std::fs::read_to_string(&file)
        .map_err(|e| AppError::BadInput(format!("cannot read {}: {e}", file.display())))?;
    let parsed = output::parse_results(&text)
        .map_err(|e| AppError::BadInput(format!("{}: not a results.json: {e}", file.display())))?;
    let dir = file.parent().unwrap_or(Path::new("."));
    let scenario_text = scenario_text_of(&parsed.results, dir);
    let sweep = match sweep_path {
        None => None,
        Some(path) => {
            let path = if path.is_dir() {
                path.join(output::SWEEP_JSON)
            } else {
                path.to_path_buf()
            };
            let text = std::fs::read_to_string(&path)
                .map_err(|e| AppError::BadInput(format!("cannot read {}: {e}", path.display())))?;
            let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
                AppError::BadInput(format!("{}: not a sweep.json: {e}", path.display()))
            })?;
            Some((sweep_chart(&text, &path)?, sweep_recommendations(&value)))
        }
    };
    let html = output::report_html(
        &parsed.results,
        scenario_text.as_deref(),
        sweep.as_ref().map(|(chart, text)| (chart, text.as_str())),
    )?;
    let written = write_file(output.to_path_buf(), html.as_bytes())?;
    if !quiet {
        let _ = writeln!(
            stdout,
            "Wrote {} ({}){}",
            written.display(),
            human_bytes(html.len() as u64),
            if scenario_text.is_none() {
                "; the scenario file was not found, so its parameters are not included"
            } else {
                ""
            }
        );
    }
    Ok(())
}

/// `crisis-sim validate`: check a scenario and print what it implies.
pub fn validate(path: Option<&Path>, quiet: bool, stdout: &mut dyn Write) -> Result<(), AppError> {
    let scenario = load_scenario(path)?;
    if !quiet {
        let report = load::analyse(&scenario);
        let _ = write!(stdout, "{}", load::render(&scenario, &report));
    }
    Ok(())
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
        assert_eq!(human_duration(45.0), "45 s");
        assert_eq!(human_duration(7200.0), "2.0 h");
        // One job cannot use two cores.
        assert_eq!(
            estimate_seconds(3.0e6, 1.0, 2, false),
            estimate_seconds(3.0e6, 1.0, 1, false)
        );
    }

    #[test]
    fn sizes_read_like_a_person_would_say_them() {
        assert_eq!(human_bytes(512), "512 bytes");
        assert_eq!(human_bytes(12_345_678), "12.3 MB");
    }

    #[test]
    fn shard_arguments() {
        assert_eq!(parse_shard("3/8"), Ok((3, 8)));
        assert_eq!(parse_shard("1/1"), Ok((1, 1)));
        for bad in ["0/8", "9/8", "3", "a/b", "3/", "-1/2"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
    }
}
