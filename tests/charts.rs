//! Charts as a person sees them: every run and sweep leaves PNG and SVG charts of the expected
//! size whose pixels are not blank and whose SVG carries the title and axis text; `plot`
//! redraws them from saved results without simulating.

mod common;

use std::fs;
use std::path::Path;

use common::{crisis_sim, path_str, scratch, short_scenario, text};

/// Checks one chart pair: PNG size and ink, SVG text.
fn check_chart(dir: &Path, name: &str, svg_texts: &[&str]) {
    let png = dir.join(format!("{name}.png"));
    let image = image::open(&png)
        .unwrap_or_else(|e| panic!("{}: {e}", png.display()))
        .to_rgb8();
    assert_eq!(image.dimensions(), (1200, 760), "{name}");
    // Not blank: plenty of pixels that are not the white background, in several colours.
    let inked = image.pixels().filter(|p| p.0 != [255, 255, 255]).count();
    assert!(inked > 10_000, "{name}: only {inked} non-white pixels");
    let colours: std::collections::BTreeSet<[u8; 3]> = image.pixels().map(|p| p.0).collect();
    assert!(colours.len() > 20, "{name}: {} colours", colours.len());
    let svg = fs::read_to_string(dir.join(format!("{name}.svg"))).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("width=\"1200\""),
        "{name}"
    );
    for expected in svg_texts {
        assert!(svg.contains(expected), "{name}.svg lacks `{expected}`");
    }
}

#[test]
fn a_run_leaves_charts_that_plot_can_redraw() {
    let dir = scratch("charts-run");
    let scenario = short_scenario(&dir, 10);
    let out_dir = dir.join("out");
    let out = crisis_sim(&[
        "run",
        path_str(&scenario),
        "-r",
        "3",
        "--hourly",
        "--out",
        path_str(&out_dir),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("key_figures.png"));
    check_chart(
        &out_dir,
        "response_distribution",
        &[
            "Response time distribution by policy",
            "Care-eligible calls",
            "Minutes from call received to first unit on scene",
            // Issue #16: policies by the names the scenario gives them.
            "Police only",
            "Care teams first",
            "90th percentile",
            "3 replications",
            "curves: mean percentiles over replications",
        ],
    );
    check_chart(
        &out_dir,
        "key_figures",
        &[
            "Key figures by policy",
            "90th-percentile response",
            "Annual fleet cost",
            "minutes",
            // Money ticked as money, from $0.
            "$0",
            "error bars: 95% CI",
        ],
    );
    check_chart(
        &out_dir,
        "differences",
        &[
            "Change against Police only",
            "Uses of force · Care teams first",
            "Change from Police only (%)",
        ],
    );
    check_chart(
        &out_dir,
        "utilization_by_hour",
        &[
            "Utilization and queue length by hour of day",
            "Hour of day",
            "care under Care teams first",
            "Calls waiting for a unit",
        ],
    );

    // Redrawn from results.json alone, the charts are the same.
    let again = dir.join("again");
    let out = crisis_sim(&[
        "plot",
        path_str(&out_dir.join("results.json")),
        "--out",
        path_str(&again),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for name in [
        "response_distribution",
        "key_figures",
        "differences",
        "utilization_by_hour",
    ] {
        assert_eq!(
            fs::read(out_dir.join(format!("{name}.svg"))).unwrap(),
            fs::read(again.join(format!("{name}.svg"))).unwrap(),
            "{name}"
        );
    }
    // Not a results file: exit 2, named.
    let bad = dir.join("bad.json");
    fs::write(&bad, "{\"policies\": 3}").unwrap();
    let out = crisis_sim(&["plot", path_str(&bad)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("bad.json"));
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_sweep_leaves_its_chart() {
    let dir = scratch("charts-sweep");
    let scenario = short_scenario(&dir, 10);
    let out_dir = dir.join("out");
    let out = crisis_sim(&[
        "sweep",
        path_str(&scenario),
        "--vary",
        "care.count=2..=10:4",
        "-r",
        "2",
        "--target",
        "eligible.response_p90 <= 30",
        "-q",
        "--out",
        path_str(&out_dir),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    check_chart(
        &out_dir,
        "sweep",
        &[
            "Sweep of Units in care (care.count)",
            "Eligible-call response, 90th percentile",
            "Annual fleet cost",
            "target: eligible.response_p90 &lt;= 30",
            // A target is dashed grey (short segments), unlike data; money is money.
            "stroke=\"#6E6E6E\" stroke-width=\"2\"",
            "$0",
        ],
    );
    let svg = fs::read_to_string(out_dir.join("sweep.svg")).unwrap();
    assert!(
        svg.matches("stroke=\"#6E6E6E\"").count() > 10,
        "the target is drawn in dashes"
    );
    // Issue #16: what each step buys, beside the answer.
    check_chart(
        &out_dir,
        "sweep_tradeoff",
        &[
            "What each step buys",
            "Eligible calls handled by care",
            "Police unit-hours freed",
            "Net public cost a year",
        ],
    );
    fs::remove_dir_all(dir).unwrap();
}

/// Runs the binary, failing the test (not hanging it) if it takes longer than `limit`.
fn within(limit: std::time::Duration, args: &[&str]) -> std::process::Output {
    let mut child = common::binary()
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("{args:?} still running after {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// Issue #14, items 2, 8 and 11: a hand-edited `results.json` holding 1e308 (or a range
/// plotters cannot tick) made `plot` and `report` spin forever; one with a megabyte name or a
/// control character made slow or ill-formed charts. Extreme values are now drawn within a
/// bounded axis, and names past the checker's limits are refused.
#[test]
fn extreme_hand_edited_results_neither_hang_nor_corrupt_the_charts() {
    let dir = scratch("extreme-results");
    let scenario = short_scenario(&dir, 9);
    let out = dir.join("out");
    let run = crisis_sim(&[
        "run",
        path_str(&scenario),
        "-r",
        "2",
        "-q",
        "-o",
        path_str(&out),
    ]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let original: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    // One replication's figures made extreme, under the last policy: the estimates and the
    // paired differences are recomputed from the replications, and a mean of about -2.5e307
    // against a baseline of 8 gave plotters an axis it could not tick.
    let cases = [-1e308, 1e308, f64::MAX, 5e-324, 1e16];
    for (case, extreme) in cases.into_iter().enumerate() {
        let mut edited = original.clone();
        let policy = edited["policies"]
            .as_array_mut()
            .unwrap()
            .last_mut()
            .unwrap();
        let replication = &mut policy["replications"][1]["values"];
        for (_, value) in replication.as_object_mut().unwrap() {
            if !value.is_null() {
                *value = extreme.into();
            }
        }
        let case_dir = dir.join(format!("case-{case}"));
        fs::create_dir_all(&case_dir).unwrap();
        fs::write(case_dir.join("results.json"), edited.to_string()).unwrap();
        let limit = std::time::Duration::from_secs(60);
        let plot = within(limit, &["plot", path_str(&case_dir), "-q"]);
        assert!(plot.status.success(), "case {case}: {}", text(&plot.stderr));
        let svg = fs::read_to_string(case_dir.join("key_figures.svg")).unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        let report = case_dir.join("report.html");
        let out = within(
            limit,
            &["report", path_str(&case_dir), "-o", path_str(&report), "-q"],
        );
        assert!(out.status.success(), "case {case}: {}", text(&out.stderr));
    }

    // Names past the limits, or with control characters, are refused before any drawing.
    for (field, value, expected) in [
        (
            "name",
            "x".repeat(1_000_000),
            "1000000 characters (at most 200)",
        ),
        (
            "name",
            "Mid\u{b}size".to_string(),
            "control character U+000B",
        ),
    ] {
        let mut edited = original.clone();
        edited["scenario"][field] = value.into();
        let case_dir = dir.join("named");
        fs::create_dir_all(&case_dir).unwrap();
        fs::write(case_dir.join("results.json"), edited.to_string()).unwrap();
        for args in [
            vec!["plot", path_str(&case_dir), "-q"],
            vec![
                "report",
                path_str(&case_dir),
                "-o",
                "/tmp/unused-report.html",
                "-q",
            ],
        ] {
            let out = within(std::time::Duration::from_secs(20), &args);
            assert_eq!(out.status.code(), Some(2), "{args:?}");
            assert!(
                text(&out.stderr).contains(expected),
                "{}",
                text(&out.stderr)
            );
        }
    }
    fs::remove_dir_all(dir).unwrap();
}
