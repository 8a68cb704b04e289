//! Call streams through the real binary: generate, replay, import and fit, as a user runs them.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{crisis_sim, path_str, scratch, short_scenario, text};
use serde_json::Value;

fn json(path: &Path) -> Value {
    serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
}

fn data(name: &str) -> String {
    format!("{}/tests/data/cad/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn mapping(name: &str) -> String {
    format!("{}/scenarios/mappings/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// `crisis-sim generate SCENARIO -q -o CALLS ARGS...`, which must succeed.
fn generate(scenario: &Path, calls: &Path, args: &[&str]) {
    let mut all = vec!["generate", path_str(scenario), "-q", "-o", path_str(calls)];
    all.extend_from_slice(args);
    let out = crisis_sim(&all);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn replaying_a_generated_stream_gives_the_same_figures_as_running_the_scenario() {
    let dir = scratch("replay-equals-run");
    let scenario = short_scenario(&dir, 12);
    let calls = dir.join("calls.csv");
    let out = crisis_sim(&[
        "generate",
        path_str(&scenario),
        "--seed",
        "31",
        "-r",
        "3",
        "-o",
        path_str(&calls),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("3 replications of 12 days"));
    let header = fs::read_to_string(&calls).unwrap();
    assert!(header.starts_with(
        "replication,call_id,received_at,received_minutes,call_type,priority,zone,care_eligible,draw_key\n"
    ));

    let run_dir = dir.join("run");
    let out = crisis_sim(&[
        "run",
        path_str(&scenario),
        "--seed",
        "31",
        "-r",
        "3",
        "-q",
        "--out",
        path_str(&run_dir),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Another seed, one thread: the file's draws decide, and threads never change results.
    let replay_dir = dir.join("replay");
    let out = crisis_sim(&[
        "replay",
        path_str(&calls),
        "--scenario",
        path_str(&scenario),
        "--seed",
        "999",
        "--threads",
        "1",
        "--out",
        path_str(&replay_dir),
        "--log",
        "calls",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("Replaying"), "{stdout}");
    assert!(stdout.contains("3 replications of its own"), "{stdout}");
    let (run, replay) = (
        json(&run_dir.join("results.json")),
        json(&replay_dir.join("results.json")),
    );
    assert_eq!(run["figures"], replay["figures"]);
    assert_eq!(run["policies"], replay["policies"]);
    assert_ne!(
        run["scenario"]["fingerprint"],
        replay["scenario"]["fingerprint"]
    );
    // --log works on a replay as on a run.
    let log = fs::read_to_string(replay_dir.join("calls.csv")).unwrap();
    assert!(log.lines().count() > 1000);
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_single_stream_replays_in_shards_that_merge_into_the_whole() {
    let dir = scratch("replay-shards");
    let scenario = short_scenario(&dir, 8);
    let calls = dir.join("calls.csv");
    generate(&scenario, &calls, &[]);
    let run = |args: &[&str], out: &Path| {
        let mut all = vec![
            "replay",
            path_str(&calls),
            "--scenario",
            path_str(&scenario),
            "-r",
            "4",
            "-q",
            "--out",
            path_str(out),
        ];
        all.extend_from_slice(args);
        let output = crisis_sim(&all);
        assert!(output.status.success(), "{}", text(&output.stderr));
    };
    run(&[], &dir.join("whole"));
    run(&["--shard", "1/2"], &dir.join("part-1"));
    run(&["--shard", "2/2"], &dir.join("part-2"));
    let out = crisis_sim(&[
        "merge",
        path_str(&dir.join("part-1")),
        path_str(&dir.join("part-2")),
        "-q",
        "--out",
        path_str(&dir.join("merged")),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        fs::read(dir.join("whole/results.json")).unwrap(),
        fs::read(dir.join("merged/results.json")).unwrap()
    );
    // Four replications of one stream: the same calls every time, but fresh on-scene times
    // and outcomes, so the call count has no spread and the response times do.
    let whole = json(&dir.join("whole/results.json"));
    let estimates = &whole["policies"][0]["estimates"];
    assert_eq!(estimates["calls"]["sd"], 0.0);
    assert!(estimates["response_mean"]["sd"].as_f64().unwrap() > 0.0);
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_streams_and_options_exit_2_with_the_line_at_fault() {
    let dir = scratch("replay-bad");
    let scenario = short_scenario(&dir, 8);
    let bad = dir.join("bad.csv");
    fs::write(
        &bad,
        "received_minutes,call_type\n10,disturbance\n5,disturbance\n",
    )
    .unwrap();
    let generated = dir.join("calls.csv");
    generate(&scenario, &generated, &["-r", "2"]);
    let cases: [(Vec<&str>, &[&str]); 4] = [
        (vec!["replay", "no-such-file.csv"], &["no-such-file.csv"]),
        (
            vec!["replay", path_str(&bad)],
            &["bad.csv:3", "out of order"],
        ),
        (
            vec![
                "replay",
                path_str(&generated),
                "--scenario",
                path_str(&scenario),
                "-r",
                "5",
            ],
            &["holds 2 replication", "5 were asked"],
        ),
        (
            vec![
                "replay",
                path_str(&generated),
                "--scenario",
                path_str(&scenario),
                "--warmup-days",
                "9",
            ],
            &["spans 8 days", "--warmup-days"],
        ),
    ];
    for (args, expected) in cases {
        let out_dir = dir.join("out");
        let mut args = args.clone();
        args.extend(["--out", path_str(&out_dir)]);
        let out = crisis_sim(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = text(&out.stderr);
        for part in expected {
            assert!(stderr.contains(part), "`{part}` not in {stderr}");
        }
        assert!(!out_dir.join("results.json").exists());
    }
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_imported_city_export_replays_and_strict_refuses_bad_rows() {
    let dir = scratch("import");
    let calls = dir.join("nola.csv");
    let out = crisis_sim(&[
        "import",
        &data("new-orleans-sample.csv"),
        "--mapping",
        &mapping("new-orleans.toml"),
        "-o",
        path_str(&calls),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    for part in [
        "Calls imported:            9",
        "line 7",
        "officer-initiated",
        "Wrote",
    ] {
        assert!(stdout.contains(part), "`{part}` not in {stdout}");
    }
    // A real city's calls replay with fresh draws per replication.
    let out = crisis_sim(&[
        "replay",
        path_str(&calls),
        "-r",
        "3",
        "--warmup-days",
        "0",
        "--out",
        path_str(&dir.join("out")),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let results = json(&dir.join("out/results.json"));
    assert_eq!(results["scenario"]["start_date"], "2023-01-01");
    assert!(text(&out.stdout).contains("9 calls over 2 days"));

    let strict = dir.join("strict.csv");
    let out = crisis_sim(&[
        "import",
        &data("new-orleans-sample.csv"),
        "--mapping",
        &mapping("new-orleans.toml"),
        "--strict",
        "-o",
        path_str(&strict),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("line 7"));
    assert!(!strict.exists());

    // A mapping naming a column the export lacks.
    let out = crisis_sim(&[
        "import",
        &data("st-louis-2021-01.csv"),
        "--mapping",
        &mapping("new-orleans.toml"),
        "-o",
        path_str(&strict),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("no column `TimeCreate` (field `received.column`)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("`PoliceDistrict` (field `zone.column`)"),
        "{stderr}"
    );
    assert!(stderr.contains("id, location, description"), "{stderr}");
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn fit_writes_a_scenario_that_runs() {
    let dir = scratch("fit");
    let scenario = short_scenario(&dir, 21);
    let calls = dir.join("calls.csv");
    generate(&scenario, &calls, &[]);
    let fitted = dir.join("fitted.toml");
    let out = fit_with(&calls, &scenario, &fitted, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("arrivals vs a Poisson process"), "{stdout}");
    let out = crisis_sim(&["validate", path_str(&fitted)]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    // Too few calls to fit: exit 2 and nothing written.
    let few = dir.join("few.csv");
    let out = crisis_sim(&[
        "import",
        &data("los-angeles-2019.csv"),
        "--mapping",
        &mapping("los-angeles.toml"),
        "-q",
        "-o",
        path_str(&few),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let refused = dir.join("refused.toml");
    let out = crisis_sim(&["fit", path_str(&few), "-o", path_str(&refused)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("too few"));
    assert!(!refused.exists());
    fs::remove_dir_all(dir).unwrap();
}

/// Issue #14, item 10: one unterminated quote in a CAD export made every following row vanish
/// from the accounting ("Rows read: 2, Calls imported: 1 (50.0%)" from 56 rows), and a row
/// truncated inside a quoted field merged with the next while `--strict` still exited 0. Every
/// line is now accounted for, and `--strict` refuses a row that spans lines.
#[test]
fn import_accounts_for_every_line_of_the_export() {
    let dir = scratch("import-lines");
    let export = fs::read_to_string(data("st-louis-2021-01.csv")).unwrap();
    let lines: Vec<&str> = export.lines().collect();
    assert_eq!(lines.len(), 57, "a header and 56 rows");
    let import = |name: &str, text: String, strict: bool| {
        let path = dir.join(name);
        fs::write(&path, text).unwrap();
        let out_path = dir.join(format!("{name}.stream.csv"));
        let mut args = vec![
            "import".to_string(),
            path_str(&path).to_string(),
            "--mapping".into(),
            mapping("st-louis.toml"),
            "-o".into(),
            path_str(&out_path).to_string(),
            "--force".into(),
        ];
        if strict {
            args.push("--strict".into());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        crisis_sim(&args)
    };

    // A quote opened in row 2 and never closed: one row swallows the 54 lines after it.
    let mut open = lines.clone();
    let opened = open[2].replacen("44XX LABADIE AVE", "\"44XX LABADIE AVE", 1);
    open[2] = &opened;
    let out = import("open.csv", open.join("\n") + "\n", false);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("Rows read:                 2 (from 56 lines)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Calls imported:            1 (1.8%)"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "line 3: one row over 55 lines, to the end of the file: is a quote left open here?"
        ),
        "{stdout}"
    );
    let strict = import("open.csv", open.join("\n") + "\n", true);
    assert_eq!(strict.status.code(), Some(2));

    // A fully quoted export with one row cut inside its first field: it merges with the next
    // row into one with the right number of fields, which used to pass --strict.
    let quoted: Vec<String> = lines
        .iter()
        .map(|l| {
            l.split(',')
                .map(|f| format!("\"{f}\""))
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    let mut cut = quoted.clone();
    cut[5] = cut[5][..6].to_string();
    let out = import("cut.csv", cut.join("\n") + "\n", true);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("Rows read:                 55 (from 56 lines)")
            && stderr.contains("line 6: one row over 2 lines"),
        "{stderr}"
    );
    // The whole quoted export imports every row, strictly.
    let whole = import("quoted.csv", quoted.join("\n") + "\n", true);
    assert!(whole.status.success(), "{}", text(&whole.stderr));
    assert!(text(&whole.stdout).contains("Rows read:                 56\n"));
    fs::remove_dir_all(dir).unwrap();
}

/// Issue #16: a file with Windows line ends (`\r\n`) names the same line at fault as the same
/// file with Unix ones (the csv reader counted one line short).
#[test]
fn windows_line_ends_name_the_right_line() {
    let dir = scratch("crlf");
    let rows = "received_minutes,call_type\n10,disturbance\n20,disturbance\n30,disturbance\n5,disturbance\n";
    for (name, contents) in [
        ("unix.csv", rows.to_string()),
        ("windows.csv", rows.replace('\n', "\r\n")),
    ] {
        let path = dir.join(name);
        fs::write(&path, contents).unwrap();
        let out = crisis_sim(&["replay", path_str(&path), "-o", path_str(&dir.join("out"))]);
        assert_eq!(out.status.code(), Some(2));
        let stderr = text(&out.stderr);
        assert!(stderr.contains(&format!("{name}:5")), "{stderr}");
    }
    // The same for import: the row of a broken time.
    let export = fs::read_to_string(data("st-louis-2021-01.csv")).unwrap();
    let mut lines: Vec<String> = export.lines().map(str::to_string).collect();
    let fields: Vec<String> = lines[4].split(',').map(str::to_string).collect();
    let broken: Vec<String> = fields
        .iter()
        .map(|f| {
            if f.contains(':') {
                "not a time".to_string()
            } else {
                f.clone()
            }
        })
        .collect();
    lines[4] = broken.join(",");
    for (name, end) in [("unix-export.csv", "\n"), ("windows-export.csv", "\r\n")] {
        let path = dir.join(name);
        fs::write(&path, lines.join(end) + end).unwrap();
        let out = crisis_sim(&[
            "import",
            path_str(&path),
            "--mapping",
            &mapping("st-louis.toml"),
            "-o",
            path_str(&dir.join(format!("{name}.stream.csv"))),
        ]);
        let stdout = text(&out.stdout);
        assert!(stdout.contains("line 5"), "{name}: {stdout}");
    }
    fs::remove_dir_all(dir).unwrap();
}

/// Issue #17, step 2: a real dispatch log (Boone County EMS, 2016, every timestamp) imports with
/// its timestamp chain kept, its scheduled transports as work that is not 911 demand, and the
/// rows whose stamps are out of order counted; the stream replays.
#[test]
fn a_real_dispatch_log_imports_with_its_timestamp_chain() {
    let dir = scratch("boone");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let log = root.join("tests/data/boone-county-mo-ems-2016.csv");
    let scenario = root.join("scenarios/boone-county.toml");
    let stream = dir.join("boone.csv");
    let out = crisis_sim(&[
        "import",
        path_str(&log),
        "--mapping",
        path_str(&root.join("scenarios/mappings/boone-county-ems.toml")),
        "--scenario",
        path_str(&scenario),
        "-o",
        path_str(&stream),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    for expected in [
        "Rows read:                 11,652",
        "Calls imported:            11,652 (100.0%)",
        "5,800  transport",
        "1,768  long_distance_transport",
        // The rule on the MPDS letter: every coded 911 call.
        "1,645  ems_911_mpds           priority A/B/C/D/E/O",
        "343 have stamps out of order, their chain dropped (first on line 17)",
    ] {
        assert!(report.contains(expected), "{expected:?} in {report}");
    }
    let written = fs::read_to_string(&stream).unwrap();
    let mut lines = written.lines();
    assert!(lines.next().unwrap().ends_with(
        "on_scene_minutes,dispatched_after_minutes,enroute_after_minutes,arrived_after_minutes,cleared_after_minutes,x,y"
    ));
    // Coordinates kept (state plane feet); (0, 0), this log's "no location", left empty.
    assert!(
        written.contains(",1691706,1120654.38\n"),
        "x, y of the first call"
    );
    assert!(
        text(&out.stdout).contains("Coordinates: 1,"),
        "{}",
        text(&out.stdout)
    );
    // The log's first call of the year: received 00:47:01, dispatched 00:47:09, en route
    // 00:48:30, on scene 00:54:24, clear 00:58:57.
    let first: Vec<&str> = lines.next().unwrap().split(',').collect();
    let minutes: Vec<f64> = first[8..12].iter().map(|m| m.parse().unwrap()).collect();
    for (got, want) in minutes
        .iter()
        .zip([8.0 / 60.0, 89.0 / 60.0, 443.0 / 60.0, 716.0 / 60.0])
    {
        assert!((got - want).abs() < 1e-4, "{minutes:?}");
    }
    // The priority is the MPDS letter: the first call (`EMS RESPONSE`) has none, a sick person
    // (`26A1`) has A.
    assert_eq!(first[4], "none");
    assert!(
        written.lines().any(|l| l.contains(",ems_911_mpds,A,")),
        "an A call, typed by the rule on its letter"
    );
    assert!(
        !written.lines().any(|l| l.contains(",ems_911,A,")),
        "no coded call left in the uncoded type"
    );
    // Replayed: only the 4,084 calls that are 911 demand count.
    let run = dir.join("run");
    let out = crisis_sim(&[
        "replay",
        path_str(&stream),
        "--scenario",
        path_str(&scenario),
        "-r",
        "2",
        "-q",
        "-o",
        path_str(&run),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let results = json(&run.join("results.json"));
    assert_eq!(
        results["policies"][0]["estimates"]["calls"]["mean"].as_f64(),
        Some(4084.0)
    );
    fs::remove_dir_all(dir).unwrap();
}

/// Issue #17, step 4 (first cut): the log's own calls of the last quarter replay through a
/// scenario, and each figure is set against the log's: observed, simulated with its 95%
/// interval, a verdict. The observed side is exact (computed independently for this test).
#[test]
fn a_backtest_compares_the_log_with_the_simulation() {
    let dir = scratch("backtest");
    let (stream, scenario) = import_boone(&dir);
    let run = dir.join("q4");
    let out = backtest(
        &stream,
        &scenario,
        &run,
        &["--from", "2016-10-01", "-r", "3"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("2,851 of 11,652 rows"), "{stdout}");
    assert!(stdout.contains("Response, 90th percentile"), "{stdout}");
    let document = json(&run.join("backtest.json"));
    let rows = document["rows"].as_array().unwrap();
    let row = |figure: &str| rows.iter().find(|r| r["figure"] == figure).unwrap();
    // 680 of the quarter's 911 calls have an arrival: median 8.883 min, p90 16.567 min.
    assert_eq!(row("response_median")["observed_calls"], 680);
    assert!((row("response_median")["observed"].as_f64().unwrap() - 8.883_333).abs() < 1e-4);
    assert!((row("response_p90")["observed"].as_f64().unwrap() - 16.566_668).abs() < 1e-4);
    // The distributions compared whole, and drawn over each other.
    let ks = document["response_ks_distance"].as_f64().unwrap();
    assert!(ks > 0.0 && ks < 1.0, "{ks}");
    let svg = fs::read_to_string(run.join("backtest.svg")).unwrap();
    assert!(
        svg.contains("The log (680 calls)") && svg.contains("The simulation"),
        "the overlay"
    );
    assert!(run.join("backtest.png").exists());
    // The log's own priorities (the MPDS letter) with at least 200 calls get their own rows:
    // in this quarter, A (224 calls with an arrival) and calls without a code (384).
    assert_eq!(row("response_p90.priority_A")["observed_calls"], 224);
    assert_eq!(row("response_median.priority_none")["observed_calls"], 384);
    assert!(
        rows.iter()
            .all(|r| r["figure"] != "response_p90.priority_D"),
        "D: too few"
    );
    for r in rows {
        let s = &r["simulated"];
        let inside = s["ci_low"].as_f64() <= r["observed"].as_f64()
            && r["observed"].as_f64() <= s["ci_high"].as_f64();
        assert_eq!(r["inside"].as_bool(), Some(inside), "{r}");
        // The verdict counts the log's own sampling error beside the simulation's.
        let value = |v: &serde_json::Value| v.as_f64().unwrap();
        let observed_half = (value(&r["observed_ci"][1]) - value(&r["observed_ci"][0])) / 2.0;
        let allowed = (observed_half.powi(2) + value(&s["half_width"]).powi(2)).sqrt();
        let agrees = (value(&s["mean"]) - value(&r["observed"])).abs() <= allowed;
        assert_eq!(r["agrees"].as_bool(), Some(agrees), "{r}");
        assert!(value(&r["observed_ci"][0]) <= value(&r["observed"]));
    }
    // The observed median's interval comes from order statistics: ranks 340 ± 1.96·√170.
    let median = row("response_median");
    assert!(median["observed_ci"][0].as_f64() < median["observed"].as_f64());
    // Components, blocks of hours and calls open at once each have their rows.
    for figure in [
        "received_to_dispatch_p90",
        "travel_p90",
        "on_scene_mean",
        "response_median.hours_12_18",
        "calls_open_mean.hours_00_06",
    ] {
        assert!(rows.iter().any(|r| r["figure"] == figure), "{figure}");
    }
    assert_eq!(
        document["calls_open_by_hour"]["observed"]
            .as_array()
            .unwrap()
            .len(),
        24
    );
    assert!(
        document["simulated_share_waited"]["mean"]
            .as_f64()
            .is_some()
    );
    // The report of the back-test's directory carries its comparison and chart.
    let report = dir.join("report.html");
    let out = crisis_sim(&["report", path_str(&run), "-o", path_str(&report)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let html = fs::read_to_string(&report).unwrap();
    assert!(html.contains("Does the model reproduce the log?"));
    assert!(html.contains("Response, 90th percentile, priority A"));
    assert!(html.contains("The log (680 calls)"), "the overlay chart");
    // Again into the same place: refused without --force (a back-test, or a run's results).
    let again = backtest(&stream, &scenario, &run, &[]);
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again.stderr).contains("--force"));
    // Days with no call, and a stream without the chain: exit 2, said why.
    let out = backtest(
        &stream,
        &scenario,
        &dir.join("none"),
        &["--from", "2017-01-01"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no call is received between 2017-01-01"));
    let generated = dir.join("generated.csv");
    generate(&scenario, &generated, &["--days", "3"]);
    let out = backtest(&generated, &scenario, &dir.join("nochain"), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no timestamp chain"),
        "{}",
        text(&out.stderr)
    );
    fs::remove_dir_all(dir).unwrap();
}

/// Issue #17: out of sample by construction. Fitted on January-September (call processing and
/// travel from the timestamp chain, on-scene times, demand), the model reproduces the 911
/// response of October-December within 15%, median and 90th percentile.
#[test]
fn fitted_on_three_quarters_the_model_reproduces_the_fourth() {
    let dir = scratch("out-of-sample");
    let (stream, base) = import_boone(&dir);
    let fitted = dir.join("fitted.toml");
    let out = fit_with(&stream, &base, &fitted, &["--to", "2016-10-01"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    // Call processing by priority: coded calls (priority 2) fit a lognormal; the others, with
    // half their dispatches in the same second, take the log's own percentiles.
    assert!(
        report.contains("Call processing (received to dispatch), priority 2:")
            && report.contains("fits"),
        "{report}"
    );
    assert!(report.contains("empirical percentiles used"), "{report}");
    let text_of_fitted = fs::read_to_string(&fitted).unwrap();
    assert!(text_of_fitted.contains("dist = \"empirical\""));
    assert!(text_of_fitted.contains("priority_quantiles"));
    // The log's busy intervals bound the fleet from below: 12 calls open at once, at most.
    assert!(
        report.contains("at most 12; mean by hour of day"),
        "{report}"
    );
    assert!(report.contains("(the base scenario has 12)"), "{report}");
    // A base fleet smaller than the log was ever busy is warned about, by fit and by backtest.
    let thin = dir.join("thin.toml");
    fs::write(
        &thin,
        fs::read_to_string(&base)
            .unwrap()
            .replacen("count = 12", "count = 6", 1),
    )
    .unwrap();
    let warned = fit_with(&stream, &thin, &dir.join("thin-fitted.toml"), &[]);
    assert!(warned.status.success(), "{}", text(&warned.stderr));
    assert!(
        text(&warned.stdout).contains(
            "WARNING, the base scenario has 6 units, fewer than the log had busy at once"
        ),
        "{}",
        text(&warned.stdout)
    );
    let thin_test = backtest(
        &stream,
        &thin,
        &dir.join("thin-q4"),
        &["--from", "2016-10-01", "-r", "2", "-q"],
    );
    assert!(thin_test.status.success(), "{}", text(&thin_test.stderr));
    assert!(
        text(&thin_test.stderr).contains("calls open at once, but the scenario has 6 units"),
        "{}",
        text(&thin_test.stderr)
    );
    let document = json(&dir.join("thin-q4/backtest.json"));
    assert_eq!(document["warnings"].as_array().unwrap().len(), 1);
    assert!(
        dir.join("fitted-calls.csv").exists(),
        "the days fitted on are kept"
    );
    let out = backtest(
        &stream,
        &fitted,
        &dir.join("q4"),
        &["--from", "2016-10-01", "-r", "5", "-q"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let document = json(&dir.join("q4/backtest.json"));
    // Overall, and for each of the log's priority letters with at least 200 calls (A, and the
    // calls without a code, in this quarter).
    let rows = document["rows"].as_array().unwrap();
    let mut checked = 0;
    for row in rows {
        let figure = row["figure"].as_str().unwrap();
        let response = figure == "response_median"
            || figure == "response_p90"
            || figure.starts_with("response_median.priority_")
            || figure.starts_with("response_p90.priority_");
        if response {
            let error = row["relative_error"].as_f64().unwrap();
            assert!(error.abs() <= 0.15, "{figure}: {row}");
            checked += 1;
        }
    }
    assert_eq!(checked, 6, "overall, A and none: median and p90");
    // Zones from the calls' coordinates (k-means), with travel by zone: the back-test holds.
    let zoned = dir.join("zoned.toml");
    let out = fit_with(
        &stream,
        &base,
        &zoned,
        &["--to", "2016-10-01", "--zones", "4"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout)
            .contains("Zones from coordinates (k-means, 7792 of the calls located): 4 zones")
    );
    let scenario: toml::Value = toml::from_str(&fs::read_to_string(&zoned).unwrap()).unwrap();
    let zones = scenario["zones"].as_array().unwrap();
    assert_eq!(zones.len(), 4);
    assert!(
        zones
            .iter()
            .all(|z| z["center"].as_array().unwrap().len() == 2)
    );
    assert_eq!(scenario["travel"]["minutes"].as_array().unwrap().len(), 4);
    let out = backtest(
        &stream,
        &zoned,
        &dir.join("q4-zoned"),
        &["--from", "2016-10-01", "-r", "5", "-q"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let document = json(&dir.join("q4-zoned/backtest.json"));
    for row in document["rows"].as_array().unwrap() {
        if row["figure"] == "response_median" || row["figure"] == "response_p90" {
            assert!(
                row["relative_error"].as_f64().unwrap().abs() <= 0.15,
                "{row}"
            );
        }
    }
    // A stream without coordinates cannot be zoned: exit 2, said why.
    let generated = dir.join("generated.csv");
    generate(&base, &generated, &["--days", "10"]);
    let out = fit_with(
        &generated,
        &base,
        &dir.join("nozones.toml"),
        &["--zones", "3"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("calls with coordinates"),
        "{}",
        text(&out.stderr)
    );
    fs::remove_dir_all(dir).unwrap();
}

/// `crisis-sim backtest STREAM --scenario SCENARIO EXTRA... -o OUT`.
fn backtest(stream: &Path, scenario: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "backtest",
        path_str(stream),
        "--scenario",
        path_str(scenario),
    ];
    args.extend_from_slice(extra);
    args.extend(["-o", path_str(out)]);
    crisis_sim(&args)
}

/// `crisis-sim fit STREAM --scenario BASE EXTRA... -o OUT`.
fn fit_with(stream: &Path, base: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["fit", path_str(stream), "--scenario", path_str(base)];
    args.extend_from_slice(extra);
    args.extend(["-o", path_str(out)]);
    crisis_sim(&args)
}

/// The shipped Boone County 2016 log imported into `dir` (`boone.csv`), with the scenario its
/// mapping names.
fn import_boone(dir: &Path) -> (PathBuf, PathBuf) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scenario = root.join("scenarios/boone-county.toml");
    let stream = dir.join("boone.csv");
    let out = crisis_sim(&[
        "import",
        path_str(&root.join("tests/data/boone-county-mo-ems-2016.csv")),
        "--mapping",
        path_str(&root.join("scenarios/mappings/boone-county-ems.toml")),
        "--scenario",
        path_str(&scenario),
        "-q",
        "-o",
        path_str(&stream),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    (stream, scenario)
}

/// Issue #17: a synthetic round trip. A log generated from a scenario whose call processing,
/// travel, on-scene times and fleet are known (`generate --chain` writes the timestamp chain a
/// dispatch log would have) is fitted back: each fitted mean is the log's sample mean, whose
/// 95% interval holds the true value, and the busy profile stays within the fleet. The fitted
/// scenario then passes its own back-test.
#[test]
fn a_synthetic_log_is_fitted_back_to_the_parameters_that_made_it() {
    let dir = scratch("round-trip");
    let truth = dir.join("truth.toml");
    fs::write(
        &truth,
        r#"
[city]
name = "Known city"
population = 100000
horizon_days = 60
[run]
replications = 5
seed = 4
[demand]
calls_per_day = 60
[[zones]]
name = "all"
share = 1.0
[travel]
minutes = [[8]]
variation = "lognormal"
cv = 0.5
[dispatch_delay]
1 = { dist = "lognormal", mean = 1.5, sd = 1.0 }
2 = { dist = "gamma", mean = 3.0, sd = 1.5 }
[[call_types]]
name = "urgent"
share = 0.4
priority = 1
care_eligible = false
on_scene.police = { dist = "lognormal", mean = 40, sd = 25 }
[[call_types]]
name = "routine"
share = 0.6
priority = 2
care_eligible = false
on_scene.police = { dist = "lognormal", mean = 30, sd = 15 }
[[fleet]]
name = "units"
kind = "police"
count = 8
cost_per_unit_hour = 100
[[policies]]
policy = "police_only"
"#,
    )
    .unwrap();
    let log = dir.join("log.csv");
    let out = crisis_sim(&[
        "generate",
        path_str(&truth),
        "--chain",
        "-q",
        "-o",
        path_str(&log),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let fitted = dir.join("fitted.toml");
    let out = fit_with(&log, &truth, &fitted, &["--to", "2024-02-15"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    // "N times, mean M [LOW, HIGH]": the interval must hold the truth.
    let interval_of = |line_start: &str| -> (f64, f64, f64) {
        let line = report
            .lines()
            .find(|l| l.trim_start().starts_with(line_start))
            .unwrap_or_else(|| panic!("{line_start} in {report}"));
        let after = line.split(", mean ").nth(1).unwrap();
        let mean: f64 = after.split(' ').next().unwrap().parse().unwrap();
        let inside = after.split('[').nth(1).unwrap().split(']').next().unwrap();
        let (low, high) = inside.split_once(", ").unwrap();
        (mean, low.parse().unwrap(), high.parse().unwrap())
    };
    for (line, truth) in [
        ("Call processing (received to dispatch), priority 1:", 1.5),
        ("Call processing (received to dispatch), priority 2:", 3.0),
        ("Travel (dispatch to arrival):", 8.0),
    ] {
        let (mean, low, high) = interval_of(line);
        assert!(
            low <= truth && truth <= high,
            "{line} {mean} [{low}, {high}] vs {truth}"
        );
    }
    // On-scene times: the lognormal fits, and comes back near its mean.
    assert!(
        report.contains("on-scene urgent                 lognormal mean 4")
            || report.contains("on-scene urgent                 lognormal mean 3"),
        "{report}"
    );
    let scenario: toml::Value = toml::from_str(&fs::read_to_string(&fitted).unwrap()).unwrap();
    let urgent = &scenario["call_types"][0]["on_scene"]["police"];
    let mean = urgent["mean"].as_float().unwrap();
    assert!((mean / 40.0 - 1.0).abs() < 0.08, "{urgent}");
    // Calls open at once never exceed the fleet that served them.
    let peak: u32 = report
        .split("at most ")
        .nth(1)
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=8).contains(&peak), "{peak}");
    // The fleet: searched with the engine (fit --fleet), the busiest block gets the 8 units
    // that made the log, and none gets more.
    let with_fleet = dir.join("with-fleet.toml");
    let out = fit_with(
        &log,
        &truth,
        &with_fleet,
        &["--to", "2024-02-15", "--fleet"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Units on duty (units)"));
    let refitted: toml::Value = toml::from_str(&fs::read_to_string(&with_fleet).unwrap()).unwrap();
    assert_eq!(refitted["fleet"][0]["count"].as_integer(), Some(8));
    let shifts = refitted["fleet"][0]["shifts"].as_array().unwrap();
    assert_eq!(shifts.len(), 4);
    assert!(shifts.iter().all(|s| s["count"].as_integer().unwrap() <= 8));
    // The fitted model, back-tested on the days it did not see, agrees with its own log.
    let out = backtest(
        &log,
        &fitted,
        &dir.join("test"),
        &["--from", "2024-02-15", "-q"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let document = json(&dir.join("test/backtest.json"));
    for row in document["rows"].as_array().unwrap() {
        let figure = row["figure"].as_str().unwrap();
        if figure == "response_median" || figure == "response_p90" {
            let error = row["relative_error"].as_f64().unwrap();
            assert!(error.abs() < 0.1, "{row}");
        }
    }
    fs::remove_dir_all(dir).unwrap();
}
