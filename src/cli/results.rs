//! The commands that read saved results: `merge` (shards into the whole run), `plot` (charts
//! again), `report` (one HTML page) and `validate` (a scenario's offered load).

use std::io::Write;
use std::path::{Path, PathBuf};

use crisis_sim::experiment::Results;
use crisis_sim::experiment::merge;
use crisis_sim::output::{self, RESULTS_FILE};
use crisis_sim::stats::load;

use super::common::{human_bytes, load_scenario, refuse_overwrite, write_file, write_results};
use super::error::AppError;

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
    let out = output::OutputDir::lock(out_dir, "merge")?;
    let shards = inputs
        .iter()
        .map(|input| merge::read(input))
        .collect::<Result<Vec<_>, _>>()?;
    let results = merge::merge(&shards)?;
    let written: Vec<PathBuf> = write_results(&results, out.staging(), csv)
        .map_err(|e| e.in_output_dir(&out))?
        .iter()
        .map(|p| out.final_path(p))
        .collect();
    out.commit(output::Replace::WholeSet)?;
    if !quiet {
        let _ = write!(stdout, "{}", output::comparison_table(&results));
        let _ = writeln!(stdout, "\nMerged {} shards.", shards.len());
        for path in written {
            let _ = writeln!(stdout, "Wrote {}", path.display());
        }
    }
    Ok(results)
}

/// Reads `sweep.json`.
fn read_sweep(path: &Path) -> Result<output::SweepDocument, AppError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| AppError::BadInput(format!("cannot read {}: {e}", path.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| AppError::BadInput(format!("{}: not a sweep.json: {e}", path.display())))
}

/// The chart of a sweep read from `path`.
fn sweep_chart(sweep: &output::SweepDocument, path: &Path) -> Result<output::SweepChart, AppError> {
    output::SweepChart::of(sweep)
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
    let dir = out_dir
        .map(Path::to_path_buf)
        .or_else(|| file.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."));
    let is_sweep = file
        .file_name()
        .is_some_and(|name| name == output::SWEEP_JSON)
        || (file.file_name().is_none_or(|name| name != RESULTS_FILE) && read_sweep(&file).is_ok());
    let out = output::OutputDir::lock(&dir, "plot")?;
    let staged = if is_sweep {
        let sweep = read_sweep(&file)?;
        // Names are checked (and a bad file named) before anything is drawn.
        sweep_chart(&sweep, &file)?;
        output::write_sweep_charts(&sweep, out.staging())
            .map_err(|e| AppError::from(e).in_output_dir(&out))?
    } else {
        let text = std::fs::read_to_string(&file)
            .map_err(|e| AppError::BadInput(format!("cannot read {}: {e}", file.display())))?;
        let parsed = output::parse_results(&text).map_err(|e| {
            AppError::BadInput(format!(
                "{}: not a results.json or sweep.json: {e}",
                file.display()
            ))
        })?;
        output::write_results_charts(&parsed.results, out.staging())
            .map_err(|e| AppError::from(e).in_output_dir(&out))?
    };
    let written: Vec<PathBuf> = staged.iter().map(|p| out.final_path(p)).collect();
    // The charts join the set already there (the results they were drawn from).
    out.commit(output::Replace::Files)?;
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
            let sweep = read_sweep(&path)?;
            let note = if sweep.targets.is_empty() {
                "No targets were given to the sweep, so it recommends no point.".to_string()
            } else {
                format!(
                    "The cheapest point meeting every target with 95% confidence (targets: {}).",
                    sweep.targets.join("; ")
                )
            };
            Some((
                sweep_chart(&sweep, &path)?,
                sweep.recommendation_rows(),
                note,
                output::TradeOffChart::of(&sweep),
            ))
        }
    };
    let backtest = read_backtest(dir)?;
    let html = output::report_html(
        &parsed.results,
        scenario_text.as_deref(),
        sweep.as_ref().map(|(chart, rows, note, trade_off)| {
            (
                chart,
                output::SweepAnswer {
                    rows,
                    note: note.as_str(),
                    trade_off: trade_off.as_ref(),
                },
            )
        }),
        backtest
            .as_ref()
            .map(|(rows, note, svg)| output::BacktestSection {
                rows,
                note,
                svg: svg.as_deref(),
            }),
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

/// A back-test's table, note and chart for the report, when `dir` holds `backtest.json` (the
/// output of `crisis-sim backtest`, beside its replay's results).
#[allow(clippy::type_complexity)]
fn read_backtest(
    dir: &Path,
) -> Result<Option<(Vec<Vec<String>>, String, Option<String>)>, AppError> {
    let path = dir.join(super::backtest::BACKTEST_FILE);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    let bad =
        |e: String| AppError::BadInput(format!("{}: not a backtest.json: {e}", path.display()));
    let document: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let rows: Vec<crisis_sim::stats::backtest::Row> =
        serde_json::from_value(document["rows"].clone()).map_err(|e| bad(e.to_string()))?;
    let table = output::backtest_rows(&rows);
    let agree = rows.iter().filter(|r| r.agrees).count();
    let note = format!(
        "The log's calls from {} to {} ({} calls), replayed through the scenario {} times, against what the log says happened (911 calls; minutes). {agree} of {} figures agree: the gap is within the log's own sampling error and the simulation's interval together. A back-test on days the fit never saw is out of sample.",
        document["from"].as_str().unwrap_or("the first day"),
        document["to"].as_str().unwrap_or("the last"),
        document["calls_tested"],
        document["replications"],
        rows.len()
    );
    let warnings: Vec<&str> = document["warnings"]
        .as_array()
        .map(|w| w.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    let note = if warnings.is_empty() {
        note
    } else {
        format!("{note} Warning: {}.", warnings.join("; "))
    };
    let svg = std::fs::read_to_string(dir.join("backtest.svg")).ok();
    Ok(Some((table, note, svg)))
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
