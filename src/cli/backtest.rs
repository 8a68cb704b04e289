//! `crisis-sim backtest`: a log's own calls replayed through a scenario, and what the log says
//! happened set beside what the simulation gives.

use std::io::Write;

use crisis_sim::output::{self, format_number};
use crisis_sim::stats::Estimate;
use crisis_sim::stats::backtest;

use super::args::BacktestPlan;
use super::common::load_scenario;
use super::error::AppError;
use super::run::{self, RunPlan};

/// The file `backtest` writes beside the replay's results.
pub const BACKTEST_FILE: &str = "backtest.json";
/// The log's calls on the tested days, as the replay read them.
pub const TESTED_CALLS_FILE: &str = "backtest-calls.csv";

/// What `backtest.json` holds.
#[derive(serde::Serialize)]
struct Document<'a> {
    crisis_sim_version: &'a str,
    stream: String,
    scenario: String,
    from: Option<String>,
    to: Option<String>,
    calls_tested: u64,
    replications: usize,
    /// The two-sample KS distance between the log's and the simulation's response times.
    response_ks_distance: Option<f64>,
    rows: &'a [backtest::Row],
    /// The simulated share of 911 calls that waited for a free unit (the log cannot show it).
    simulated_share_waited: Estimate,
    /// Mean calls open at once by hour of the day (0 = midnight to 1am): the log's, and the
    /// simulation's mean over replications.
    calls_open_by_hour: CallsOpen,
    /// What to know before reading the rows.
    warnings: Vec<String>,
}

#[derive(serde::Serialize)]
struct CallsOpen {
    observed: Vec<f64>,
    simulated: Vec<f64>,
}

/// Mean calls open in each hour of the day over the days of `by_day`.
fn by_hour(by_day: &[[f64; 24]]) -> Vec<f64> {
    (0..24)
        .map(|h| by_day.iter().map(|d| d[h]).sum::<f64>() / by_day.len().max(1) as f64)
        .collect()
}

pub fn backtest(plan: &BacktestPlan, stdout: &mut dyn Write) -> Result<(), AppError> {
    let scenario = load_scenario(Some(&plan.scenario))?;
    let bad = |e: backtest::BacktestError| AppError::BadInput(e.to_string());
    std::fs::create_dir_all(&plan.out_dir).map_err(|source| AppError::Write {
        path: plan.out_dir.clone(),
        source,
    })?;
    super::common::refuse_overwrite(
        &plan.out_dir.join(BACKTEST_FILE),
        "a finished back-test",
        plan.force,
    )?;
    // The replay writes results.json there too: a run's results are not replaced quietly.
    super::common::refuse_overwrite(
        &plan.out_dir.join(output::RESULTS_FILE),
        "a finished run's results",
        plan.force,
    )?;
    let tested = plan.out_dir.join(TESTED_CALLS_FILE);
    let kept =
        backtest::filter_stream(&plan.calls, &tested, (plan.from, plan.to), true).map_err(bad)?;
    let log = backtest::read_chain(&tested, &scenario).map_err(bad)?;
    // A log busier at once than the scenario's fleet (or whose clears are missing, so calls
    // never end): the replay queues calls the log did not.
    let mut warnings = Vec::new();
    let units: u32 = scenario.pools.iter().map(|p| p.count).sum();
    if let Some(busy) = backtest::busy_profile(&log)
        && busy.peak > units
    {
        warnings.push(format!(
            "the log had {} calls open at once, but the scenario has {units} units: the replay queues calls the log did not, so responses will run long (fit --fleet, or give the scenario more units)",
            busy.peak
        ));
    }
    let replay = RunPlan {
        scenario: Some(plan.scenario.clone()),
        replications: plan.replications,
        seed: plan.seed,
        threads: plan.threads,
        out_dir: plan.out_dir.clone(),
        quiet: true,
        shard: None,
        resume: false,
        target_ci: None,
        max_replications: None,
        csv: false,
        // Every replication's calls: the responses by the log's own priority come from them.
        log_calls: true,
        log_units: false,
        log_replications: Some(
            (0..u64::from(plan.replications.unwrap_or(scenario.replications))).collect(),
        ),
        hourly: false,
        stream: Some(tested.clone()),
        warmup_days: Some(0.0),
        policies: Vec::new(),
        force: true,
    };
    let results = run::run(&replay, &mut std::io::sink())?;
    let calls_log = plan.out_dir.join("calls.csv");
    let replays = backtest::read_simulated_chains(&calls_log, &scenario, &log).map_err(bad)?;
    let observed_responses = backtest::responses(&scenario, &log);
    let mut simulated: Vec<f64> = replays
        .iter()
        .flat_map(|calls| backtest::responses(&scenario, calls))
        .collect();
    simulated.sort_by(f64::total_cmp);
    let ks = backtest::ks_two_sample(&observed_responses, &simulated);
    let chart = output::BacktestChart {
        observed: observed_responses,
        simulated,
        footnote: format!(
            "Log: {} · scenario: {} · {} replications pooled · crisis-sim {}",
            plan.calls.display(),
            plan.scenario.display(),
            results.replications.len(),
            env!("CARGO_PKG_VERSION")
        ),
    };
    let charts = output::Drawable::write(&chart, &plan.out_dir).map_err(AppError::from)?;
    let rows = backtest::compare(&scenario, &log, &replays);
    let share_waited = backtest::simulated_share_waited(&calls_log, &scenario).map_err(bad)?;
    let simulated_open: Vec<Vec<f64>> = replays
        .iter()
        .map(|calls| by_hour(&backtest::open_by_day_and_hour(calls)))
        .collect();
    let calls_open_by_hour = CallsOpen {
        observed: by_hour(&backtest::open_by_day_and_hour(&log)),
        simulated: (0..24)
            .map(|h| {
                simulated_open.iter().map(|v| v[h]).sum::<f64>()
                    / simulated_open.len().max(1) as f64
            })
            .collect(),
    };
    let document = Document {
        crisis_sim_version: env!("CARGO_PKG_VERSION"),
        stream: plan.calls.display().to_string(),
        scenario: plan.scenario.display().to_string(),
        from: plan.from.map(|d| d.to_string()),
        to: plan.to.map(|d| d.to_string()),
        calls_tested: kept.kept,
        replications: results.replications.len(),
        response_ks_distance: ks.is_finite().then_some(ks),
        rows: &rows,
        simulated_share_waited: share_waited,
        calls_open_by_hour,
        warnings: warnings.clone(),
    };
    // Printed as run prints its warnings: on stderr, even with --quiet.
    for warning in &warnings {
        eprintln!("Warning: {warning}.");
    }
    let json = serde_json::to_string_pretty(&document).unwrap_or_default() + "\n";
    let path = plan.out_dir.join(BACKTEST_FILE);
    output::write_atomic(&path, json.as_bytes()).map_err(|source| AppError::Write {
        path: path.clone(),
        source,
    })?;
    if !plan.quiet {
        let table = output::backtest_rows(&rows);
        let _ = writeln!(
            stdout,
            "Back-test of {} on {} ({} of {} rows, the days {} to {}), {} replications. Minutes; 911 calls only.\n",
            plan.scenario.display(),
            plan.calls.display(),
            format_number(kept.kept as f64, 0),
            format_number(kept.rows as f64, 0),
            plan.from.map_or("first".to_string(), |d| d.to_string()),
            plan.to
                .map_or("last".to_string(), |d| format!("before {d}")),
            results.replications.len()
        );
        let _ = write!(stdout, "{}", output::render_table(&table));
        let agree = rows.iter().filter(|r| r.agrees).count();
        let _ = writeln!(
            stdout,
            "\n{agree} of {} figures agree: the gap between the log and the simulation is within the two intervals together (the log's own sampling error, and the simulation's over replications). \"calls\" is days for the calls open at once.",
            rows.len()
        );
        let _ = writeln!(
            stdout,
            "KS distance between the log's and the simulation's response times: {}",
            format_number(ks, 3)
        );
        let _ = writeln!(
            stdout,
            "Simulated share of 911 calls that waited for a free unit: {}% [{}, {}] (a log cannot show it: there, call processing and the wait are one interval, received to dispatch above).",
            format_number(share_waited.mean * 100.0, 1),
            format_number(share_waited.ci_low * 100.0, 1),
            format_number(share_waited.ci_high * 100.0, 1)
        );
        let _ = writeln!(stdout, "\nWrote {}", path.display());
        for chart in &charts {
            let _ = writeln!(stdout, "Wrote {}", chart.display());
        }
    }
    Ok(())
}
