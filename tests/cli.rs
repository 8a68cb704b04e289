//! The real binary, driven as a user would: run, validate, bad input, determinism.

mod common;

use std::fs;

use common::{DEFAULT, crisis_sim, path_str, scratch, short_scenario, text};

#[test]
fn run_prints_the_comparison_and_writes_results_json() {
    let dir = scratch("run");
    let scenario = short_scenario(&dir, 37);
    let out = dir.join("out");
    let output = crisis_sim(&[
        "run",
        path_str(&scenario),
        "-r",
        "3",
        "--out",
        path_str(&out),
    ]);
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    for expected in [
        "police_only",
        "care_first",
        "care_first − police_only",
        "Response time, 90th percentile",
        "Eligible-call response, 90th percentile",
        "Police unit-hours on eligible calls",
        "Annual fleet cost",
        "3 replications",
        "results.json",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(json["replications"], 3);
    assert_eq!(json["baseline"], "police_only");
    assert_eq!(json["confidence_level"], 0.95);
    let care = &json["policies"][1];
    assert_eq!(care["label"], "care_first");
    assert_eq!(care["params"]["max_care_wait_minutes"], 10);
    assert_eq!(care["replications"].as_array().unwrap().len(), 3);
    let freed = &care["difference_vs_baseline"]["police_hours_on_eligible_per_year"];
    assert!(freed["mean"].as_f64().unwrap() < 0.0, "{freed}");
    assert!(freed["ci_high"].as_f64().unwrap() < 0.0, "{freed}");
    assert!(json["policies"][0]["difference_vs_baseline"].is_null());
    let p90 = &json["policies"][0]["estimates"]["response_p90"];
    assert!(p90["half_width"].as_f64().unwrap() > 0.0, "{p90}");
}

#[test]
fn results_are_identical_for_any_thread_count() {
    let dir = scratch("threads");
    let scenario = short_scenario(&dir, 20);
    let mut files = Vec::new();
    for threads in ["1", "2", "5"] {
        let out = dir.join(format!("out-{threads}"));
        let output = crisis_sim(&[
            "run",
            path_str(&scenario),
            "-r",
            "5",
            "--threads",
            threads,
            "--quiet",
            "--out",
            path_str(&out),
        ]);
        assert!(output.status.success(), "{}", text(&output.stderr));
        assert!(output.stdout.is_empty(), "--quiet prints nothing");
        files.push(fs::read(out.join("results.json")).unwrap());
    }
    assert_eq!(files[0], files[1], "1 vs 2 threads");
    assert_eq!(files[0], files[2], "1 vs 5 threads");
}

#[test]
fn another_seed_gives_other_numbers() {
    let dir = scratch("seed");
    let scenario = short_scenario(&dir, 20);
    let read = |seed: &str| {
        let out = dir.join(format!("out-{seed}"));
        let status = crisis_sim(&[
            "run",
            path_str(&scenario),
            "-r",
            "2",
            "--seed",
            seed,
            "-q",
            "-o",
            path_str(&out),
        ])
        .status;
        assert!(status.success());
        fs::read_to_string(out.join("results.json")).unwrap()
    };
    let (a, b) = (read("1"), read("2"));
    assert_ne!(a, b);
    let seed =
        |text: &str| serde_json::from_str::<serde_json::Value>(text).unwrap()["seed"].clone();
    assert_eq!((seed(&a), seed(&b)), (1.into(), 2.into()));
}

#[test]
fn bad_scenario_exits_2_naming_the_place_and_writes_nothing() {
    let dir = scratch("bad");
    let path = dir.join("bad.toml");
    let bad = DEFAULT.replacen("arrest = 0.15,", "arrest = 1.5,", 1);
    fs::write(&path, &bad).unwrap();
    let out = dir.join("out");
    // An earlier run's results must survive a failed run.
    fs::create_dir_all(&out).unwrap();
    fs::write(out.join("results.json"), "earlier").unwrap();
    let output = crisis_sim(&["run", path_str(&path), "--out", path_str(&out)]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    let line = bad[..bad.find("arrest = 1.5").unwrap()]
        .matches('\n')
        .count()
        + 1;
    assert!(
        stderr.contains(&format!("bad.toml:{line}:")),
        "names file and line: {stderr}"
    );
    assert!(
        stderr.contains("call_types[0].outcomes.police.arrest"),
        "{stderr}"
    );
    assert!(
        stderr.contains("expected a probability in [0, 1], found 1.5"),
        "{stderr}"
    );
    assert_eq!(
        fs::read_to_string(out.join("results.json")).unwrap(),
        "earlier"
    );
}

#[test]
fn missing_scenario_file_exits_2() {
    let output = crisis_sim(&["run", "/no/such/scenario.toml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("/no/such/scenario.toml"));
}

#[test]
fn bad_arguments_exit_2() {
    let output = crisis_sim(&["run", "--replications", "many"]);
    assert_eq!(output.status.code(), Some(2));
    let output = crisis_sim(&["run", "--replications", "0", "-q", "-o", "/tmp/unused"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("--replications") && stderr.contains("must be at least 1"),
        "{stderr}"
    );
    // Values checked before any work starts, each naming its flag.
    for (args, flag) in [
        (&["run", "--threads", "0"][..], "--threads"),
        (&["run", "--target-ci", "1.5"][..], "--target-ci"),
        (&["run", "--shard", "3/2"][..], "--shard"),
        (
            &[
                "run",
                "-r",
                "2",
                "--shard",
                "3/4",
                "-o",
                "/tmp/unused-shard",
            ][..],
            "--shard",
        ),
        (
            &["run", "--policy", "care_last", "-o", "/tmp/unused-policy"][..],
            "--policy",
        ),
        (&["sweep", "--vary", "care.kount=1,2"][..], "--vary"),
        (&["generate", "-r", "0"][..], "--replications"),
        // Issue #14: ceilings checked before any work starts.
        (&["run", "-r", "1000000000"][..], "at most 100000,"),
        (
            &["sweep", "--vary", "care.count=1", "-r", "1000000000"][..],
            "at most 100000,",
        ),
        (
            &["run", "--threads", "18446744073709551615"][..],
            "at most 1024",
        ),
        (
            &[
                "run",
                "--log",
                "calls",
                "--log-replications",
                "0..100000000",
            ][..],
            "--log-replications",
        ),
        (
            &[
                "sweep",
                "--vary",
                "care.count=0..=100000000",
                "-o",
                "/tmp/unused-vary",
            ][..],
            "at most 16777215 units in a pool",
        ),
        (
            &[
                "sweep",
                "--vary",
                "care.count=0..=999",
                "--vary",
                "police.count=1..=20",
            ][..],
            "the grid has 20000 points",
        ),
        (
            &[
                "sweep",
                "--vary",
                "care.count=0..=20",
                "-r",
                "100000",
                "-o",
                "/tmp/unused-runs",
            ][..],
            "make 4200000 replication runs",
        ),
    ] {
        let output = crisis_sim(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = text(&output.stderr);
        assert!(stderr.contains(flag), "{args:?}: {stderr}");
    }
}

#[test]
fn validate_reports_loads_and_warns_about_overload() {
    let output = crisis_sim(&["validate"]);
    assert!(output.status.success());
    let stdout = text(&output.stdout);
    assert!(stdout.contains("is valid"), "{stdout}");
    assert!(stdout.contains("14.0% care-eligible"), "{stdout}");
    assert!(stdout.contains("offered load"), "{stdout}");
    assert!(stdout.contains("No warnings."), "{stdout}");

    let dir = scratch("validate");
    let path = dir.join("thin.toml");
    fs::write(&path, DEFAULT.replacen("count = 58", "count = 20", 1)).unwrap();
    let output = crisis_sim(&["validate", path_str(&path)]);
    assert!(output.status.success());
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("warning: under police_only, pool `police` is overloaded"),
        "{stdout}"
    );
}

#[test]
fn default_scenario_prints_the_built_in_file() {
    let output = crisis_sim(&["default-scenario"]);
    assert!(output.status.success());
    assert_eq!(text(&output.stdout), DEFAULT);
}

#[test]
fn help_shows_examples() {
    let output = crisis_sim(&["run", "--help"]);
    assert!(output.status.success());
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("Examples:") && stdout.contains("--replications"),
        "{stdout}"
    );
}

#[test]
fn an_unwritable_output_directory_exits_1_with_the_path() {
    // Under /dev/null nothing can be created, even by root (who ignores read-only modes).
    for extra in [&[][..], &["--log", "calls"][..]] {
        let mut args = vec!["run", "-r", "1", "-q", "--out", "/dev/null/out"];
        args.extend_from_slice(extra);
        let output = crisis_sim(&args);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let stderr = text(&output.stderr);
        assert!(stderr.contains("/dev/null/out"), "{stderr}");
    }
}
