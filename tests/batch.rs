//! Batches through the real binary: shards merge into exactly the unsharded results; merge
//! refuses bad sets; a run killed midway resumes to exactly the uninterrupted results;
//! `--target-ci` stops when precise enough; `--csv` writes both tables.

mod common;

use std::fs;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{binary, crisis_sim, scratch};

fn stderr(output: &std::process::Output) -> String {
    common::text(&output.stderr)
}

/// The default scenario over `days`, as a path string.
fn short_scenario(dir: &Path, days: u32) -> String {
    common::path_str(&common::short_scenario(dir, days)).to_string()
}

fn p(path: &Path) -> String {
    common::path_str(path).to_string()
}

fn run_ok(args: &[&str]) {
    let output = crisis_sim(args);
    assert!(output.status.success(), "{args:?}: {}", stderr(&output));
}

#[test]
fn shards_merge_into_exactly_the_unsharded_results() {
    let dir = scratch("shards");
    let scenario = short_scenario(&dir, 12);
    let whole = dir.join("whole");
    run_ok(&["run", &scenario, "-r", "7", "-q", "--csv", "-o", &p(&whole)]);
    let mut parts = Vec::new();
    for i in 1..=3 {
        let part = dir.join(format!("part-{i}"));
        run_ok(&[
            "run",
            &scenario,
            "-r",
            "7",
            "--shard",
            &format!("{i}/3"),
            "-q",
            "-o",
            &p(&part),
        ]);
        parts.push(p(&part));
    }
    // Shards of 7 replications in 3: 0..2, 2..4, 4..7. Shard 2 holds replications 2 and 3.
    let part2: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("part-2/results.json")).unwrap())
            .unwrap();
    assert_eq!(part2["shard"]["index"], 2);
    assert_eq!(part2["replications"], 2);
    assert_eq!(part2["policies"][0]["replications"][0]["replication"], 2);

    let merged = dir.join("merged");
    let mut args = vec!["merge".to_string()];
    // Out of order on purpose.
    args.extend([parts[2].clone(), parts[0].clone(), parts[1].clone()]);
    args.extend(["--csv".into(), "-q".into(), "--out".into(), p(&merged)]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_ok(&args);
    for file in ["results.json", "replications.csv", "summary.csv"] {
        assert_eq!(
            fs::read(whole.join(file)).unwrap(),
            fs::read(merged.join(file)).unwrap(),
            "{file} differs"
        );
    }

    // Refusals, each naming the problem.
    let refused = |args: &[&str], expected: &str| {
        let output = crisis_sim(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&output).contains(expected),
            "{args:?}: {}",
            stderr(&output)
        );
    };
    let out = p(&dir.join("refused"));
    refused(
        &["merge", &parts[0], &parts[2], "-o", &out],
        "missing shard 2 of 3",
    );
    refused(
        &[
            "merge", &parts[0], &parts[0], &parts[1], &parts[2], "-o", &out,
        ],
        "shard 1/3 is given twice",
    );
    refused(&["merge", &p(&whole), "-o", &out], "not a shard");
    let other_seed = dir.join("other-seed");
    run_ok(&[
        "run",
        &scenario,
        "-r",
        "7",
        "--seed",
        "5",
        "--shard",
        "2/3",
        "-q",
        "-o",
        &p(&other_seed),
    ]);
    refused(
        &["merge", &parts[0], &p(&other_seed), &parts[2], "-o", &out],
        "in seed",
    );
    let other_count = dir.join("other-count");
    run_ok(&[
        "run",
        &scenario,
        "-r",
        "7",
        "--shard",
        "2/2",
        "-q",
        "-o",
        &p(&other_count),
    ]);
    refused(
        &["merge", &parts[0], &p(&other_count), "-o", &out],
        "in shard count",
    );
    // A shard whose figure list differs (here: one label edited) is refused with a short
    // message naming the first difference (it used to print ~30 KB of Rust Debug).
    let edited = dir.join("edited");
    fs::create_dir_all(&edited).unwrap();
    let shard_text = fs::read_to_string(Path::new(&parts[1]).join("results.json")).unwrap();
    let mut shard_json: serde_json::Value = serde_json::from_str(&shard_text).unwrap();
    shard_json["figures"][3]["label"] = "Edited by hand".into();
    fs::write(
        edited.join("results.json"),
        serde_json::to_string_pretty(&shard_json).unwrap(),
    )
    .unwrap();
    let output = crisis_sim(&["merge", &parts[0], &p(&edited), &parts[2], "-o", &out]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("in figures")
            && message.contains("figure 4")
            && message.contains("Edited by hand"),
        "{message}"
    );
    assert!(message.len() < 1_000, "{} bytes: {message}", message.len());
    assert!(!dir.join("refused/results.json").exists());
    // A shard claiming a run of four billion replications does not size the merge.
    shard_json = serde_json::from_str(&shard_text).unwrap();
    shard_json["shard"]["total_replications"] = 4_000_000_000u32.into();
    fs::write(
        edited.join("results.json"),
        serde_json::to_string_pretty(&shard_json).unwrap(),
    )
    .unwrap();
    refused(
        &["merge", &p(&edited), &parts[0], "-o", &out],
        "replications <= 100000",
    );
    refused(
        &["run", &scenario, "-r", "3", "--shard", "4/4", "-o", &out],
        "--shard 4/4",
    );
    refused(
        &["run", &scenario, "--shard", "0/3", "-o", &out],
        "expected I/N",
    );
}

#[test]
fn a_killed_run_resumes_to_exactly_the_uninterrupted_results() {
    let dir = scratch("resume");
    let scenario = short_scenario(&dir, 30);
    let reference = dir.join("reference");
    run_ok(&[
        "run",
        &scenario,
        "-r",
        "40",
        "--threads",
        "2",
        "-q",
        "-o",
        &p(&reference),
    ]);

    let out = dir.join("killed");
    let checkpoint = out.join("checkpoint.jsonl");
    let mut child = binary()
        .args([
            "run",
            &scenario,
            "-r",
            "40",
            "--threads",
            "2",
            "-q",
            "-o",
            &p(&out),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until some replications are saved, then kill it without warning (SIGKILL).
    let started = Instant::now();
    loop {
        let saved = fs::read_to_string(&checkpoint).map_or(0, |t| t.lines().count());
        if saved > 6 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no progress in the checkpoint"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run finished before it could be killed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !out.join("results.json").exists(),
        "killed before the end: no results yet"
    );
    let saved = fs::read_to_string(&checkpoint).unwrap().lines().count() - 1;
    assert!(saved < 80, "some work was left to do ({saved} of 80 saved)");

    let output = crisis_sim(&[
        "run",
        &scenario,
        "-r",
        "40",
        "--threads",
        "2",
        "--resume",
        "-o",
        &p(&out),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("came from the checkpoint"), "{stdout}");
    assert_eq!(
        fs::read(reference.join("results.json")).unwrap(),
        fs::read(out.join("results.json")).unwrap(),
        "resumed results differ from the uninterrupted run"
    );
    assert!(
        !checkpoint.exists(),
        "the checkpoint is removed once results are written"
    );

    // A checkpoint from another scenario is refused rather than mixed in.
    fs::write(&checkpoint, "{\"crisis_sim_checkpoint\":1}\n").unwrap();
    let output = crisis_sim(&[
        "run",
        &scenario,
        "-r",
        "40",
        "--resume",
        "-q",
        "-o",
        &p(&out),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("cannot resume"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn target_ci_reports_the_replications_needed() {
    let dir = scratch("target");
    let scenario = short_scenario(&dir, 15);
    let out = dir.join("out");
    let output = crisis_sim(&["run", &scenario, "--target-ci", "0.05", "-o", &p(&out)]);
    assert!(output.status.success(), "{}", stderr(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("Precision target ±5.00% reached with"))
        .unwrap_or_else(|| panic!("{stdout}"));
    let needed: usize = line
        .split_whitespace()
        .skip_while(|w| *w != "with")
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(json["replications"], needed);
    for policy in json["policies"].as_array().unwrap() {
        let e = &policy["estimates"]["response_p90"];
        let relative = e["half_width"].as_f64().unwrap() / e["mean"].as_f64().unwrap();
        assert!(relative <= 0.05, "{}: {relative}", policy["label"]);
    }
    let output = crisis_sim(&["run", &scenario, "--target-ci", "2", "-o", &p(&out)]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn csv_tables_have_a_row_per_replication_and_per_figure() {
    let dir = scratch("csv");
    let scenario = short_scenario(&dir, 10);
    let out = dir.join("out");
    run_ok(&["run", &scenario, "-r", "3", "--csv", "-q", "-o", &p(&out)]);
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let figures = json["figures"].as_array().unwrap().len();

    let replications = fs::read_to_string(out.join("replications.csv")).unwrap();
    let mut lines = replications.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(&header[..3], &["policy", "replication", "calls"]);
    assert_eq!(header.len(), 2 + figures);
    assert_eq!(lines.clone().count(), 2 * 3);
    assert!(lines.next().unwrap().starts_with("police_only,0,"));

    let summary = fs::read_to_string(out.join("summary.csv")).unwrap();
    assert!(summary.starts_with(
        "policy,figure,label,unit,replications,mean,half_width,ci_low,ci_high,sd,difference_vs,"
    ));
    // A row per policy and figure, then care_first's three costs per outcome avoided.
    assert_eq!(summary.lines().count(), 1 + 2 * figures + 3);
    let row = summary
        .lines()
        .find(|l| l.starts_with("care_first,police_hours_on_eligible_per_year,"))
        .unwrap();
    assert!(
        row.contains(",police_only,-"),
        "care frees police hours: {row}"
    );
}

#[test]
fn quiet_silences_every_subcommand() {
    let output = crisis_sim(&["validate", "--quiet"]);
    assert!(output.status.success());
    assert!(output.stdout.is_empty());
    let output = crisis_sim(&["-q", "validate"]);
    assert!(output.stdout.is_empty());
}
