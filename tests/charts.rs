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
            "police_only",
            "care_first",
            "90th percentile",
            "3 replications",
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
        ],
    );
    check_chart(
        &out_dir,
        "differences",
        &[
            "Change against police_only",
            "Uses of force · care_first",
            "Change from police_only (%)",
        ],
    );
    check_chart(
        &out_dir,
        "utilization_by_hour",
        &[
            "Utilization and queue length by hour of day",
            "Hour of day",
            "care under care_first",
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
            "Sweep of care.count",
            "Eligible-call response, 90th percentile",
            "Annual fleet cost",
            "target: eligible.response_p90 &lt;= 30",
            "care.count",
        ],
    );
    fs::remove_dir_all(dir).unwrap();
}
