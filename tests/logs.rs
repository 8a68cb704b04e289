//! Per-call and per-unit logs, read back as an analyst would: figures recomputed from
//! calls.csv equal results.json; every call appears once per policy and replication; no unit is
//! on two calls at once; logs are the same for any thread count.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use common::{crisis_sim, path_str, scratch, short_scenario, text};

type Row = BTreeMap<String, String>;

fn read_csv(path: &Path) -> Vec<Row> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|record| {
            let record = record.expect("every row has as many fields as the header");
            headers
                .iter()
                .zip(record.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn number(row: &Row, column: &str) -> Option<f64> {
    let value = &row[column];
    (!value.is_empty()).then(|| value.parse().unwrap())
}

fn run_logged(dir: &Path, name: &str, threads: &str) -> std::path::PathBuf {
    let scenario = short_scenario(dir, 12);
    let out = dir.join(name);
    let output = crisis_sim(&[
        "run",
        path_str(&scenario),
        "-r",
        "3",
        "--threads",
        threads,
        "--log",
        "calls,units",
        "--log-replications",
        "0..2",
        "-o",
        path_str(&out),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("calls.csv (") && stdout.contains(" rows)"),
        "{stdout}"
    );
    out
}

#[test]
fn logs_agree_with_the_results_and_with_themselves() {
    let dir = scratch("logs");
    let out = run_logged(&dir, "out", "2");
    let results: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let calls = read_csv(&out.join("calls.csv"));
    let units = read_csv(&out.join("units.csv"));

    // Only the asked-for replications, every call once per policy and replication.
    let mut seen: BTreeMap<(String, String), BTreeSet<u64>> = BTreeMap::new();
    for row in &calls {
        let id: u64 = row["call_id"].parse().unwrap();
        let fresh = seen
            .entry((row["policy"].clone(), row["replication"].clone()))
            .or_default()
            .insert(id);
        assert!(
            fresh,
            "call {id} twice in {} {}",
            row["policy"], row["replication"]
        );
    }
    let keys: Vec<_> = seen.keys().cloned().collect();
    assert_eq!(keys.len(), 4, "2 policies x replications 0 and 1: {keys:?}");
    for ids in seen.values() {
        assert_eq!(
            *ids,
            (0..ids.len() as u64).collect(),
            "call ids are 0..n with none missing"
        );
    }

    // Figures recomputed from the log equal the summary in results.json.
    for policy in results["policies"].as_array().unwrap() {
        let label = policy["label"].as_str().unwrap();
        for replication in 0..2u64 {
            let summary = &policy["replications"][replication as usize]["values"];
            let measured: Vec<&Row> = calls
                .iter()
                .filter(|r| r["policy"] == label && r["replication"] == replication.to_string())
                .filter(|r| r["in_warmup"] == "false")
                .collect();
            assert_eq!(measured.len() as f64, summary["calls"].as_f64().unwrap());
            let responses: Vec<f64> = measured
                .iter()
                .filter_map(|r| number(r, "response_minutes"))
                .collect();
            let mean = responses.iter().sum::<f64>() / responses.len() as f64;
            let expected_mean = summary["response_mean"].as_f64().unwrap();
            assert!(
                (mean - expected_mean).abs() <= 1e-9 * expected_mean,
                "{label} r{replication}: {mean} vs {expected_mean}"
            );

            let by_care = measured
                .iter()
                .filter(|r| r["responder_kind"] == "care" && r["unserved_at_horizon"] == "false")
                .count() as f64;
            assert_eq!(
                by_care / measured.len() as f64,
                summary["care_share"].as_f64().unwrap()
            );

            let mut sorted = responses.clone();
            sorted.sort_by(f64::total_cmp);
            let p90 = sorted[((0.9 * sorted.len() as f64).ceil() as usize).saturating_sub(1)];
            let expected_p90 = summary["response_p90"].as_f64().unwrap();
            // The summary's percentiles come from an HDR histogram: 0.1% precision.
            assert!(
                (p90 - expected_p90).abs() <= 0.002 * p90 + 0.002,
                "{label} r{replication}: p90 {p90} vs {expected_p90}"
            );

            let unserved = measured
                .iter()
                .filter(|r| r["unserved_at_horizon"] == "true")
                .count();
            assert_eq!(
                unserved as f64,
                summary["unserved_at_horizon"].as_f64().unwrap()
            );
        }
    }

    // No unit on two calls whose on-scene intervals overlap; units.csv agrees with calls.csv.
    let mut on_scene: BTreeMap<(String, String, String, String), f64> = BTreeMap::new();
    let mut intervals: BTreeMap<(String, String, String), Vec<(f64, f64)>> = BTreeMap::new();
    for row in &units {
        let unit = (
            row["policy"].clone(),
            row["replication"].clone(),
            row["unit_id"].clone(),
        );
        let call = row["call_id"].clone();
        let time = number(row, "time_minutes").unwrap();
        match row["event"].as_str() {
            "on_scene" => {
                on_scene.insert((unit.0, unit.1, unit.2, call), time);
            }
            "cleared" => {
                let start = on_scene[&(unit.0.clone(), unit.1.clone(), unit.2.clone(), call)];
                intervals.entry(unit).or_default().push((start, time));
            }
            "on_shift" | "off_shift" | "dispatched" | "returned" => {}
            other => panic!("unknown event {other}"),
        }
    }
    assert!(!intervals.is_empty());
    for (unit, mut spans) in intervals {
        spans.sort_by(|a, b| a.0.total_cmp(&b.0));
        for pair in spans.windows(2) {
            assert!(
                pair[1].0 >= pair[0].1,
                "unit {unit:?} on two calls at once: {pair:?}"
            );
        }
    }
    for row in calls
        .iter()
        .filter(|r| !r["unit_id"].is_empty() && r["unserved_at_horizon"] == "false")
    {
        let key = (
            row["policy"].clone(),
            row["replication"].clone(),
            row["unit_id"].clone(),
            row["call_id"].clone(),
        );
        assert_eq!(
            on_scene[&key],
            number(row, "on_scene_minutes").unwrap(),
            "{key:?}"
        );
    }

    // The same logs whatever the thread count.
    let single = run_logged(&dir, "single", "1");
    for file in ["calls.csv", "units.csv", "results.json"] {
        assert_eq!(
            fs::read(out.join(file)).unwrap(),
            fs::read(single.join(file)).unwrap(),
            "{file}"
        );
    }
    // No part files are left behind (only the directory's lock and the list of its set).
    let leftovers: Vec<_> = fs::read_dir(&out)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') && n != ".crisis-sim.lock" && n != ".crisis-sim.manifest")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn no_logs_unless_asked_and_bad_sets_are_refused() {
    let dir = scratch("nolog");
    let scenario = short_scenario(&dir, 12);
    let out = dir.join("out");
    let output = crisis_sim(&[
        "run",
        path_str(&scenario),
        "-r",
        "2",
        "-q",
        "-o",
        path_str(&out),
    ]);
    assert!(output.status.success());
    assert!(!out.join("calls.csv").exists() && !out.join("units.csv").exists());

    let output = crisis_sim(&[
        "run",
        path_str(&scenario),
        "--log",
        "calls",
        "--log-replications",
        "x",
        "-o",
        path_str(&out),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("expected replication indices"),
        "{}",
        text(&output.stderr)
    );
    let output = crisis_sim(&[
        "run",
        path_str(&scenario),
        "--log",
        "trips",
        "-o",
        path_str(&out),
    ]);
    assert_eq!(output.status.code(), Some(2));
}
