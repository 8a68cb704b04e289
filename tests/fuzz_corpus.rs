//! Replays the fuzzers' saved inputs (`fuzz/corpus/`, and `fuzz/regressions/` where a crash
//! once found is kept) through the same checks as the fuzz targets, so `cargo test` guards
//! against regressions without a fuzzer installed. See the README, "Fuzzing".

use std::fs;
use std::path::{Path, PathBuf};

use crisis_sim::Scenario;
use crisis_sim::calls::stream::StreamFile;

/// Every saved input of `target`.
fn inputs(target: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut files: Vec<PathBuf> = ["corpus", "regressions"]
        .iter()
        .filter_map(|kind| fs::read_dir(root.join(kind).join(target)).ok())
        .flatten()
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "crisis-sim-fuzz-corpus-{}-{name}",
        std::process::id()
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn saved_scenario_inputs_parse_or_fail_cleanly() {
    let files = inputs("scenario");
    assert!(files.len() >= 4, "the seed corpus is there");
    let mut loaded = 0;
    for path in &files {
        let bytes = fs::read(path).unwrap();
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        // Parsing (and checking) must return, never panic; the error must say something.
        match Scenario::from_toml_str(text, "fuzz.toml") {
            Ok(_) => loaded += 1,
            Err(error) => assert!(!error.to_string().is_empty(), "{}", path.display()),
        }
    }
    assert!(loaded >= 4, "the shipped scenarios load");
}

#[test]
fn saved_call_streams_open_and_read_back_or_fail_cleanly() {
    let scenario = Scenario::default_scenario();
    let files = inputs("call_stream");
    assert!(files.len() >= 2);
    let mut opened = 0;
    for path in &files {
        if let Ok(stream) = StreamFile::open(path, &scenario) {
            opened += 1;
            for replication in 0..stream.replications().min(4) {
                let mut calls = stream.calls(&scenario, 1, replication).unwrap();
                let n = calls.by_ref().count() as u64;
                assert!(calls.take_error().is_none(), "{}", path.display());
                assert_eq!(
                    n,
                    stream.blocks[replication as usize].calls,
                    "{}",
                    path.display()
                );
            }
        }
    }
    assert!(opened >= 2, "the seed streams open");
}

#[test]
fn saved_mappings_and_exports_import_or_fail_cleanly() {
    let scenario = Scenario::default_scenario();
    let dir = scratch("import");
    let files = inputs("import_mapping");
    assert!(files.len() >= 6);
    let mut imported = 0;
    for path in &files {
        let bytes = fs::read(path).unwrap();
        let Some(split) = bytes.iter().position(|&b| b == 0) else {
            continue;
        };
        let (mapping, raw) = (dir.join("mapping.toml"), dir.join("raw.csv"));
        fs::write(&mapping, &bytes[..split]).unwrap();
        fs::write(&raw, &bytes[split + 1..]).unwrap();
        let output = dir.join("calls.csv");
        let _ = fs::remove_file(&output);
        if crisis_sim::calls::import::import(&raw, &mapping, &scenario, &output, false).is_ok() {
            imported += 1;
            StreamFile::open(&output, &scenario)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
    }
    assert!(imported >= 6, "the shipped mappings import their samples");
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn saved_results_files_draw_or_fail_cleanly() {
    use crisis_sim::output::{self, Drawable};
    let files = inputs("results_json");
    assert!(files.len() >= 3, "the seed corpus is there");
    let (mut drawn, mut swept) = (0, 0);
    for path in &files {
        let bytes = fs::read(path).unwrap();
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        if let Ok(parsed) = output::parse_results(text) {
            for chart in output::results_charts(&parsed.results) {
                let svg = chart
                    .svg()
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                assert!(svg.starts_with("<svg"), "{}", path.display());
            }
            output::report_html(&parsed.results, None, None, None).unwrap();
            drawn += 1;
        }
        if let Ok(sweep) = serde_json::from_str::<output::SweepDocument>(text)
            && let Ok(chart) = output::SweepChart::of(&sweep)
        {
            chart.svg().unwrap();
            swept += 1;
        }
    }
    assert!(drawn >= 2 && swept >= 1, "the seed results and sweep draw");
}

#[test]
fn saved_checkpoints_are_used_or_refused_cleanly() {
    use crisis_sim::experiment::{self, checkpoint};
    let scenario = Scenario::default_scenario();
    let figures = experiment::figure_defs(&scenario).len();
    let header = checkpoint::Header::of(&scenario, 1, None, figures);
    let files = inputs("checkpoint");
    assert!(files.len() >= 2);
    let mut used = 0;
    for path in &files {
        let text = String::from_utf8_lossy(&fs::read(path).unwrap()).into_owned();
        if let Ok(done) = checkpoint::parse(&text, path, &header, 0..10) {
            for ((replication, policy), values) in &done {
                assert!(*replication < 10 && *policy < scenario.policies.len());
                assert_eq!(values.len(), figures, "{}", path.display());
            }
            used += usize::from(!done.is_empty());
        }
    }
    assert!(
        used >= 2,
        "the seed checkpoints (an interrupted run's) are used; they follow the default scenario, so \
         after changing it regenerate them: crisis-sim run --seed 1 -r 10 --threads 1 -o DIR, stopped \
         after a few replications (kill -TERM); DIR/checkpoint.jsonl is interrupted.jsonl, and its \
         first 3 lines two-lines.jsonl"
    );
}

// The command line lives in the binary; the CLI fuzz target and this test compile its module.
#[allow(dead_code, unused_imports)]
#[path = "../src/cli/mod.rs"]
mod cli;

#[test]
fn saved_command_lines_are_checked_or_refused_cleanly() {
    let files = inputs("cli");
    assert!(files.len() >= 10);
    let mut accepted = 0;
    for path in &files {
        let text = String::from_utf8_lossy(&fs::read(path).unwrap()).into_owned();
        let args = std::iter::once("crisis-sim").chain(text.split('\0'));
        match cli::check_arguments(args) {
            Ok(()) => accepted += 1,
            Err(message) => assert!(!message.is_empty(), "{}", path.display()),
        }
    }
    assert!(accepted >= 5, "the seed command lines are valid");
}
