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
