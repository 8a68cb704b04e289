//! `crisis-sim sweep`: a grid of fleet variants, the cheapest that meets the targets, and the
//! table, JSON, CSV and chart of it.

use std::io::Write;

use crisis_sim::experiment::sweep::{self, SweepSettings};
use crisis_sim::output;

pub use super::args::SweepPlan;
use super::common::{Bar, load_scenario, refuse_overwrite, write_file};
use super::error::AppError;

/// Where a sweep saves finished replication runs, in its --out, until it is done.
pub const SWEEP_CHECKPOINT_FILE: &str = "sweep-checkpoint.jsonl";
/// What a finished shard of a sweep leaves beside its checkpoint: the sweep it belongs to.
pub const SWEEP_SHARD_FILE: &str = "sweep-shard.json";

/// A finished shard of a sweep (`sweep-shard.json`): everything `merge` needs to finish the
/// sweep as one machine would have run it, and which runs this shard holds.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ShardManifest {
    pub crisis_sim_version: String,
    /// `[I, N]`: shard I of N.
    pub shard: [u32; 2],
    /// Its replication runs, a half-open range of the grid's `total_runs`.
    pub runs: [usize; 2],
    pub total_runs: usize,
    /// The scenario as the shard read it (its name in outputs, and its text); `null` for the
    /// built-in default.
    pub scenario: Option<ScenarioCopy>,
    pub varies: Vec<String>,
    pub policies: Vec<String>,
    pub targets: Vec<String>,
    pub replications: u32,
    pub seed: u64,
    pub hourly: bool,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ScenarioCopy {
    pub source: String,
    pub text: String,
}

impl ShardManifest {
    /// The same sweep as `other` (all but which shard).
    pub fn same_sweep(&self, other: &ShardManifest) -> bool {
        let strip = |m: &ShardManifest| ShardManifest {
            shard: [0, m.shard[1]],
            runs: [0, 0],
            ..m.clone()
        };
        strip(self) == strip(other)
    }
}

/// `crisis-sim sweep`: run the grid, print the table and recommendation, write sweep.csv/json;
/// with `--shard`, run one shard's share of it (`None`).
pub fn sweep(
    options: &SweepPlan,
    stdout: &mut dyn Write,
) -> Result<Option<sweep::SweepResults>, AppError> {
    let (scenario, copy) = match options.scenario.as_deref() {
        None => (load_scenario(None)?, None),
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| {
                AppError::from(crisis_sim::scenario::ScenarioError::Read {
                    path: path.display().to_string(),
                    source,
                })
            })?;
            let source = path.display().to_string();
            let scenario = crisis_sim::Scenario::from_toml_str(&text, &source)?;
            (scenario, Some(ScenarioCopy { source, text }))
        }
    };
    if let Some(shard) = options.shard {
        sweep_shard(options, scenario, copy, shard, stdout)?;
        return Ok(None);
    }
    sweep_with(options, scenario, stdout).map(Some)
}

/// Refuses to start afresh over an interrupted `what`'s checkpoint, unless forced.
fn refuse_interrupted(
    checkpoint: &std::path::Path,
    what: &str,
    force: bool,
) -> Result<(), AppError> {
    if !force && checkpoint.exists() {
        return Err(AppError::BadInput(format!(
            "{} holds an interrupted {what}: pass --resume to finish it, or --force to start afresh",
            checkpoint.display()
        )));
    }
    Ok(())
}

/// The sweep's varied settings and its settings, from the plan.
fn plan_settings(
    options: &SweepPlan,
    scenario: &crisis_sim::Scenario,
    checkpoint: std::path::PathBuf,
) -> Result<(Vec<sweep::Vary>, SweepSettings), AppError> {
    let varies = options
        .varies
        .iter()
        .map(|text| sweep::parse_vary(text, scenario))
        .collect::<Result<Vec<_>, _>>()?;
    let settings = SweepSettings {
        replications: options.replications.unwrap_or(scenario.replications),
        seed: options.seed.unwrap_or(scenario.seed),
        threads: options.threads,
        policies: options.policies.clone(),
        targets: options.targets.clone(),
        checkpoint: Some(checkpoint),
        resume: options.resume,
        shard: options.shard,
    };
    Ok((varies, settings))
}

/// One shard of a sweep: its runs into the checkpoint in --out, then the manifest beside it.
fn sweep_shard(
    options: &SweepPlan,
    mut scenario: crisis_sim::Scenario,
    copy: Option<ScenarioCopy>,
    shard: (u32, u32),
    stdout: &mut dyn Write,
) -> Result<(), AppError> {
    let checkpoint = options.out_dir.join(SWEEP_CHECKPOINT_FILE);
    let manifest_path = options.out_dir.join(SWEEP_SHARD_FILE);
    if !options.resume {
        refuse_overwrite(&manifest_path, "a finished shard", options.force)?;
        refuse_interrupted(&checkpoint, "shard", options.force)?;
    }
    let _lock = output::OutputDir::lock(&options.out_dir, "sweep")?;
    scenario.report_hourly = options.hourly;
    let (varies, settings) = plan_settings(options, &scenario, checkpoint.clone())?;
    let bar = Bar::new(options.quiet);
    let run = sweep::run_sweep_shard(&scenario, &varies, &settings, &bar)?;
    bar.finish();
    let manifest = ShardManifest {
        crisis_sim_version: env!("CARGO_PKG_VERSION").to_string(),
        shard: [shard.0, shard.1],
        runs: [run.jobs.0, run.jobs.1],
        total_runs: run.total,
        scenario: copy,
        varies: options.varies.clone(),
        policies: options.policies.clone(),
        targets: options.targets.clone(),
        replications: settings.replications,
        seed: settings.seed,
        hourly: options.hourly,
    };
    let json = serde_json::to_string_pretty(&manifest).unwrap_or_default() + "\n";
    write_file(manifest_path.clone(), json.as_bytes())?;
    if !options.quiet {
        let _ = writeln!(
            stdout,
            "Shard {}/{}: replication runs {} to {} of the grid's {} ({} from an earlier start).\nWrote {}\nWrote {}\nWhen every shard is done: crisis-sim merge SHARD-DIRS... --out OUT",
            shard.0,
            shard.1,
            run.jobs.0 + 1,
            run.jobs.1,
            run.total,
            run.resumed,
            checkpoint.display(),
            manifest_path.display()
        );
    }
    Ok(())
}

/// The sweep of `options` on `scenario` (already read).
pub fn sweep_with(
    options: &SweepPlan,
    mut scenario: crisis_sim::Scenario,
    stdout: &mut dyn Write,
) -> Result<sweep::SweepResults, AppError> {
    let checkpoint = options.out_dir.join(SWEEP_CHECKPOINT_FILE);
    if options.resume {
        if !checkpoint.exists()
            && !options.force
            && options.out_dir.join(output::SWEEP_JSON).exists()
        {
            return Err(AppError::BadInput(format!(
                "{} holds a finished sweep's results and no checkpoint to resume: pass --force (without --resume) to run it again",
                options.out_dir.display()
            )));
        }
    } else {
        refuse_overwrite(
            &options.out_dir.join(output::SWEEP_JSON),
            "a finished sweep's results",
            options.force,
        )?;
        refuse_interrupted(&checkpoint, "sweep", options.force)?;
    }
    let out = output::OutputDir::lock(&options.out_dir, "sweep")?;
    scenario.report_hourly = options.hourly;
    let (varies, settings) = plan_settings(options, &scenario, checkpoint.clone())?;
    if !options.quiet {
        eprintln!("{}", time_estimate(&scenario, &varies, &settings));
    }
    let bar = Bar::new(options.quiet);
    let results = sweep::run_sweep(&scenario, &varies, &settings, &bar)?;
    bar.finish();
    let document = output::SweepDocument::of(&results);
    let named = |e: AppError| e.in_output_dir(&out);
    let json = write_file(
        out.staging().join(output::SWEEP_JSON),
        output::sweep_json(&results).as_bytes(),
    )
    .map_err(named)?;
    let charts =
        output::write_sweep_charts(&document, out.staging()).map_err(|e| named(e.into()))?;
    let csv_path = out.staging().join(output::SWEEP_CSV);
    let csv_bytes = output::sweep_csv(&results).map_err(|e| AppError::Write {
        path: out.final_path(&csv_path),
        source: std::io::Error::other(e),
    })?;
    let csv = out.final_path(&write_file(csv_path, &csv_bytes).map_err(named)?);
    let json = out.final_path(&json);
    let charts: Vec<std::path::PathBuf> = charts.iter().map(|p| out.final_path(p)).collect();
    out.commit(output::Replace::WholeSet)?;
    // Everything is in sweep.json now; the checkpoint has served its purpose.
    let _ = std::fs::remove_file(&checkpoint);
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
    if !results.targets.is_empty() && results.recommendations.iter().all(|r| r.point.is_none()) {
        return Err(AppError::TargetsUnmet(
            "no point of the grid meets every target (the table above shows how near each came)"
                .to_string(),
        ));
    }
    Ok(results)
}

/// Simulated calls a second per thread on the default city, with every after-the-scene
/// section on (BENCHMARKS.md, issue #15): the basis of the sweep's time estimate.
const CALLS_PER_SECOND_PER_THREAD: f64 = 4.5e6;

/// `Sweep: 21 points x 2 policies x 100 replications ...; about 3 min on 2 threads`: an upper
/// bound (runs a policy shares between points are done once).
fn time_estimate(
    scenario: &crisis_sim::Scenario,
    varies: &[sweep::Vary],
    settings: &SweepSettings,
) -> String {
    let points: usize = varies.iter().map(|v| v.values.len()).product();
    let policies = if settings.policies.is_empty() {
        scenario.policies.len()
    } else {
        settings.policies.len() + 1
    };
    let runs = points as f64 * policies as f64 * f64::from(settings.replications);
    let calls = runs * scenario.demand.calls_per_day * scenario.horizon_days;
    let threads = settings
        .threads
        .unwrap_or_else(rayon::current_num_threads)
        .max(1);
    let seconds = calls / CALLS_PER_SECOND_PER_THREAD / threads as f64;
    let time = if seconds >= 90.0 {
        format!("{:.0} min", (seconds / 60.0).ceil())
    } else {
        format!("{:.0} s", seconds.ceil())
    };
    format!(
        "Sweep: {points} points x {policies} policies x {} replications = at most {} replication runs of {} simulated days; about {time} on {threads} thread{}.",
        settings.replications,
        crisis_sim::output::format_number(runs, 0),
        crisis_sim::output::format_number(scenario.horizon_days, 0),
        if threads == 1 { "" } else { "s" }
    )
}
