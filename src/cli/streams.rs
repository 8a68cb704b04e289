//! The call-stream commands: `generate` (a scenario's synthetic calls), `import` (a city's
//! export, through a mapping) and `fit` (a scenario's demand from a stream).

use std::io::Write;
use std::path::Path;

use crisis_sim::output;

pub use super::args::{GeneratePlan, ImportPlan};
use super::common::{load_scenario, refuse_overwrite};
use super::error::AppError;

/// `crisis-sim generate`: write the synthetic call stream of `replications` replications.
pub fn generate(options: &GeneratePlan, stdout: &mut dyn Write) -> Result<(), AppError> {
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
    let seed = seed.unwrap_or(scenario.seed);
    let summary = if options.chain {
        crisis_sim::calls::stream::generate_with_chain(&scenario, seed, output)
    } else {
        crisis_sim::calls::stream::generate(&scenario, seed, replications, output)
    }
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

/// `crisis-sim import`: map a city's export onto the scenario's call types and zones.
pub fn import(options: &ImportPlan, stdout: &mut dyn Write) -> Result<(), AppError> {
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
    (from, to): (Option<chrono::NaiveDate>, Option<chrono::NaiveDate>),
    (force, quiet): (bool, bool),
    options: crisis_sim::calls::fit::FitOptions,
    stdout: &mut dyn Write,
) -> Result<(), AppError> {
    refuse_overwrite(output, "a file", force)?;
    // With a date range, the days fitted on are copied beside the output (`NAME-calls.csv`),
    // so the fit can be repeated and the days left out are out of sample.
    let fitted_calls;
    let calls = if from.is_some() || to.is_some() {
        let stem = output
            .file_stem()
            .map_or_else(|| "fitted".into(), |s| s.to_string_lossy().into_owned());
        fitted_calls = output.with_file_name(format!("{stem}-calls.csv"));
        refuse_overwrite(&fitted_calls, "a file", force)?;
        crisis_sim::stats::backtest::filter_stream(calls, &fitted_calls, (from, to), false)
            .map_err(|e| AppError::BadInput(e.to_string()))?;
        fitted_calls.as_path()
    } else {
        calls
    };
    let base = load_scenario(scenario)?;
    let text = match scenario {
        None => crisis_sim::scenario::DEFAULT_SCENARIO_TOML.to_string(),
        Some(path) => std::fs::read_to_string(path).map_err(|source| {
            AppError::BadInput(format!("cannot read {}: {source}", path.display()))
        })?,
    };
    let report = crisis_sim::calls::fit::fit(calls, &base, &text, output, options)?;
    if !quiet {
        let _ = write!(stdout, "{}", report.render());
    }
    Ok(())
}
