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

/// `crisis-sim merge`: combine shards' results into the whole run's (or, for the shards of a
/// sweep, finish the sweep from them).
pub fn merge(
    inputs: &[PathBuf],
    out_dir: &Path,
    csv: bool,
    force: bool,
    quiet: bool,
    stdout: &mut dyn Write,
) -> Result<(), AppError> {
    let is_sweep_shard = |input: &PathBuf| input.join(super::sweep::SWEEP_SHARD_FILE).is_file();
    match inputs.iter().filter(|i| is_sweep_shard(i)).count() {
        0 => merge_runs(inputs, out_dir, csv, force, quiet, stdout).map(|_| ()),
        n if n == inputs.len() => merge_sweep(inputs, out_dir, force, quiet, stdout),
        _ => Err(AppError::BadInput(format!(
            "some inputs are shards of a sweep ({}) and some are not: merge the shards of one run or of one sweep at a time",
            inputs
                .iter()
                .filter(|i| is_sweep_shard(i))
                .map(|i| i.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// The shards of a sweep (each `sweep --shard I/N --out DIR`), checked to be the same sweep and
/// every shard exactly once, finished into the whole sweep's outputs in `out_dir`: their
/// checkpoints joined, and the sweep run on them (no replication runs again, except the probe
/// of the grid's ends, which an unsharded sweep also runs), so `sweep.json`, `sweep.csv` and
/// the charts are byte for byte those of the sweep on one machine.
fn merge_sweep(
    inputs: &[PathBuf],
    out_dir: &Path,
    force: bool,
    quiet: bool,
    stdout: &mut dyn Write,
) -> Result<(), AppError> {
    use super::sweep::{SWEEP_CHECKPOINT_FILE, SWEEP_SHARD_FILE, ShardManifest};
    let mut shards: Vec<(PathBuf, ShardManifest)> = Vec::new();
    for input in inputs {
        let path = input.join(SWEEP_SHARD_FILE);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| AppError::BadInput(format!("cannot read {}: {e}", path.display())))?;
        let manifest: ShardManifest = serde_json::from_str(&text).map_err(|e| {
            AppError::BadInput(format!(
                "{}: not a sweep shard's manifest: {e}",
                path.display()
            ))
        })?;
        shards.push((input.clone(), manifest));
    }
    let first = shards[0].1.clone();
    for (input, manifest) in &shards[1..] {
        if !manifest.same_sweep(&first) {
            return Err(AppError::BadInput(format!(
                "{} is a shard of another sweep than {} (scenario, settings, grid, seed, shard count or version differ)",
                input.display(),
                shards[0].0.display()
            )));
        }
    }
    let count = first.shard[1];
    let mut seen: Vec<Option<&PathBuf>> = vec![None; count as usize];
    for (input, manifest) in &shards {
        let i = manifest.shard[0];
        if !(1..=count).contains(&i) {
            return Err(AppError::BadInput(format!(
                "{}: shard {i} of {count} cannot exist",
                input.display()
            )));
        }
        if let Some(other) = seen[i as usize - 1] {
            return Err(AppError::BadInput(format!(
                "shard {i}/{count} is given twice: {} and {}",
                other.display(),
                input.display()
            )));
        }
        seen[i as usize - 1] = Some(input);
    }
    let missing: Vec<String> = (1..=count)
        .filter(|i| seen[*i as usize - 1].is_none())
        .map(|i| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(AppError::BadInput(format!(
            "shards missing: {} (every shard of the sweep is needed; a shard is finished when its --out holds {SWEEP_SHARD_FILE})",
            missing.join(", ")
        )));
    }
    // Join the checkpoints: one header (the same in every shard), then each shard's runs.
    shards.sort_by_key(|(_, m)| m.shard[0]);
    let mut header: Option<String> = None;
    let mut joined = String::new();
    for (input, manifest) in &shards {
        let path = input.join(SWEEP_CHECKPOINT_FILE);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| AppError::BadInput(format!("cannot read {}: {e}", path.display())))?;
        let mut lines = text.lines();
        let head = lines.next().unwrap_or_default();
        match &header {
            None => {
                header = Some(head.to_string());
                joined.push_str(head);
                joined.push('\n');
            }
            Some(expected) if expected != head => {
                return Err(AppError::BadInput(format!(
                    "{}: its checkpoint belongs to another sweep than the first shard's",
                    path.display()
                )));
            }
            Some(_) => {}
        }
        let runs: Vec<&str> = lines.filter(|l| !l.trim().is_empty()).collect();
        let expected = manifest.runs[1] - manifest.runs[0];
        if runs.len() != expected {
            return Err(AppError::BadInput(format!(
                "{}: shard {}/{} holds {} replication runs, {expected} expected: run it again with --resume",
                path.display(),
                manifest.shard[0],
                count,
                runs.len()
            )));
        }
        for run in runs {
            joined.push_str(run);
            joined.push('\n');
        }
    }
    std::fs::create_dir_all(out_dir).map_err(|source| AppError::Write {
        path: out_dir.to_path_buf(),
        source,
    })?;
    refuse_overwrite(
        &out_dir.join(output::SWEEP_JSON),
        "a finished sweep's results",
        force,
    )?;
    let checkpoint = out_dir.join(SWEEP_CHECKPOINT_FILE);
    output::write_atomic(&checkpoint, joined.as_bytes()).map_err(|source| AppError::Write {
        path: checkpoint.clone(),
        source,
    })?;
    let scenario = match &first.scenario {
        None => crisis_sim::Scenario::default_scenario(),
        Some(copy) => crisis_sim::Scenario::from_toml_str(&copy.text, &copy.source)?,
    };
    let plan = super::sweep::SweepPlan {
        scenario: first.scenario.as_ref().map(|c| PathBuf::from(&c.source)),
        varies: first.varies.clone(),
        policies: first.policies.clone(),
        targets: first.targets.clone(),
        replications: Some(first.replications),
        seed: Some(first.seed),
        threads: None,
        out_dir: out_dir.to_path_buf(),
        hourly: first.hourly,
        resume: true,
        shard: None,
        quiet,
        force: true,
    };
    super::sweep::sweep_with(&plan, scenario, stdout)?;
    if !quiet {
        let _ = writeln!(stdout, "Merged {count} shards of the sweep.");
    }
    Ok(())
}

/// The shards of a run (`run --shard I/N`): their results.json merged.
fn merge_runs(
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
