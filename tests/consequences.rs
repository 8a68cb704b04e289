//! Issue #15, through the real binary: the cost ledger adds up line by line in `results.json`,
//! a policy that takes no one to a facility pays no facility cost, a line with no cost is
//! "not costed" (null, never 0), and bad consequence sections get the checker's
//! file:line:column error and exit 2.

mod common;

use std::fs;

use common::{DEFAULT, crisis_sim, path_str, scratch, text};
use serde_json::Value;

/// The default scenario over `days`, with `edits` (from, to) applied; each must apply.
fn scenario_with(dir: &std::path::Path, days: u32, edits: &[(&str, &str)]) -> String {
    let mut scenario = DEFAULT.replacen("horizon_days = 372", &format!("horizon_days = {days}"), 1);
    for (from, to) in edits {
        assert!(scenario.contains(from), "the default lacks {from:?}");
        scenario = scenario.replacen(from, to, 1);
    }
    let path = dir.join("city.toml");
    fs::write(&path, scenario).unwrap();
    path_str(&path).to_string()
}

fn run_results(dir: &std::path::Path, scenario: &str) -> Value {
    let out = dir.join("out");
    let output = crisis_sim(&[
        "run",
        scenario,
        "-r",
        "2",
        "-q",
        "--force",
        "--threads",
        "2",
        "--csv",
        "-o",
        path_str(&out),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    serde_json::from_str(&fs::read_to_string(out.join("results.json")).unwrap()).unwrap()
}

fn value(values: &Value, key: &str) -> Option<f64> {
    values[key].as_f64()
}

#[test]
fn costs_add_up_line_by_line_and_lines_not_costed_are_null() {
    let dir = scratch("ledger-adds-up");
    let scenario = scenario_with(&dir, 30, &[]);
    let results = run_results(&dir, &scenario);
    let population = results["scenario"]["population"].as_f64().unwrap();
    let lines = [
        "booking",
        "jail_bed_days",
        "ed_visits",
        "ambulance",
        "crisis_center",
        "sobering",
        "crisis_line",
        "force_claims",
    ];
    for policy in results["policies"].as_array().unwrap() {
        for replication in policy["replications"].as_array().unwrap() {
            let v = &replication["values"];
            let mut sum = 0.0;
            for line in lines {
                let key = format!("downstream_cost.{line}");
                assert!(v.get(&key).is_some(), "{key} missing");
                sum += value(v, &key).unwrap_or(0.0);
            }
            // The default gives no crisis-center or sobering cost: not costed, never 0.
            assert!(v["downstream_cost.crisis_center"].is_null());
            assert!(v["downstream_cost.sobering"].is_null());
            let downstream = value(v, "downstream_cost").unwrap();
            assert!(
                (downstream - sum).abs() <= 1e-6 * sum.max(1.0),
                "{downstream} vs {sum}"
            );
            let fleet = value(v, "annual_cost").unwrap();
            let net = value(v, "net_public_cost").unwrap();
            assert!((net - (fleet + downstream)).abs() <= 1e-6 * net);
            let per_100k = value(v, "net_public_cost_per_100k").unwrap();
            assert!((per_100k - net * 100_000.0 / population).abs() <= 1e-6 * net);
            // A line is its count times its price (scenarios/default.toml: $262 a booking,
            // $630 an ED visit, half of them by a $429 ambulance).
            let bookings = value(v, "bookings_per_year").unwrap();
            let booking_cost = value(v, "downstream_cost.booking").unwrap();
            assert!((booking_cost - 262.0 * bookings).abs() <= 1e-6 * booking_cost.max(1.0));
            let visits = value(v, "ed_visits_per_year").unwrap();
            let ed_cost = value(v, "downstream_cost.ed_visits").unwrap();
            assert!((ed_cost - 630.0 * visits).abs() <= 1e-6 * ed_cost.max(1.0));
            let ambulance = value(v, "downstream_cost.ambulance").unwrap();
            assert!((ambulance - 0.5 * 429.0 * visits).abs() <= 1e-6 * ambulance.max(1.0));
        }
    }
    // The comparison: cost per police hour freed, per booking and per ED visit avoided.
    let care_first = &results["policies"][1];
    let per_hour = &care_first["cost_effectiveness"]["cost_per_police_hour_freed"];
    assert!(per_hour["mean"].as_f64().is_some(), "{per_hour}");
    assert!(results["policies"][0].get("cost_effectiveness").is_none());
    let summary = fs::read_to_string(dir.join("out/summary.csv")).unwrap();
    assert!(
        summary
            .lines()
            .any(|l| l.starts_with("care_first,cost_per_police_hour_freed,")),
        "{summary}"
    );
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_policy_that_takes_no_one_to_a_facility_pays_no_facility_cost() {
    let dir = scratch("no-facility-cost");
    // Only care teams may use the department and the crisis center: police_only takes no one
    // there (its transports find no place), care_first does.
    let scenario = scenario_with(
        &dir,
        30,
        &[
            ("kind = \"ed\"\n", "kind = \"ed\"\nused_by = [\"care\"]\n"),
            (
                "kind = \"crisis_center\"\n",
                "kind = \"crisis_center\"\nused_by = [\"care\"]\n",
            ),
            (
                "# crisis_center_admission = 300",
                "crisis_center_admission = 300",
            ),
        ],
    );
    let results = run_results(&dir, &scenario);
    let estimate = |policy: usize, key: &str| {
        results["policies"][policy]["estimates"][key]["mean"]
            .as_f64()
            .unwrap_or_else(|| panic!("{key}"))
    };
    for key in [
        "downstream_cost.ed_visits",
        "downstream_cost.crisis_center",
        "downstream_cost.ambulance",
        "facility.general_ed.admissions_per_year",
        "facility.crisis_center.admissions_per_year",
        "facility.general_ed.handover_hours_per_year",
    ] {
        assert_eq!(estimate(0, key), 0.0, "police_only {key}");
        assert!(estimate(1, key) > 0.0, "care_first {key}");
    }
    assert!(estimate(0, "transports_without_place_per_year") > 0.0);
    // The jail still takes police bookings: its cost is not a facility the policy avoids.
    assert!(estimate(0, "downstream_cost.booking") > 0.0);
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_scenario_without_the_new_sections_reports_no_new_figures() {
    let dir = scratch("no-consequences");
    let at = DEFAULT.find("# What happens after the scene").unwrap();
    let cut = DEFAULT[..at - 1].rfind('\n').unwrap();
    let plain: String = DEFAULT[..cut]
        .replacen("horizon_days = 372", "horizon_days = 20", 1)
        .lines()
        .filter(|line| !line.starts_with("transport_to"))
        .map(|line| format!("{line}\n"))
        .collect();
    let path = dir.join("plain.toml");
    fs::write(&path, plain).unwrap();
    let results = run_results(&dir, path_str(&path));
    let keys: Vec<&str> = results["figures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    for new in [
        "downstream_cost",
        "net_public_cost",
        "police_hours_after_scene_per_year",
        "facility.",
        "bookings_per_year",
    ] {
        assert!(
            !keys.iter().any(|k| k.starts_with(new)),
            "{new} in {keys:?}"
        );
    }
    assert!(
        !fs::read_dir(dir.join("out"))
            .unwrap()
            .any(|e| { e.unwrap().file_name() == "budget.svg" })
    );
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_consequence_sections_name_file_line_column_and_exit_2() {
    let dir = scratch("bad-consequences");
    for (from, to, expected) in [
        (
            "treatment = [\"general_ed\"]",
            "treatment = [\"general_ed\", \"st_elsewhere\"]",
            "transport.treatment[1]: expected a facility defined in [[facilities]]",
        ),
        (
            "beds = 16",
            "beds = -3",
            "facilities[1].beds: expected a whole number of beds",
        ),
        ("booking = 262", "booking = \"a lot\"", "expected a number"),
        (
            "length_of_stay_hours = { dist = \"lognormal\", mean = 18, sd = 8 }",
            "length_of_stay_hours = { mean = 18 }",
            "missing field `dist`",
        ),
        (
            "jail_bed_day = 120",
            "# no jail_bed_day",
            "costs.jail_days_per_booking: expected `jail_bed_day` beside",
        ),
    ] {
        // Where the error points: the edited line, or (for a missing partner) the other one.
        let at = if to.starts_with('#') {
            "jail_days_per_booking ="
        } else {
            to
        };
        let scenario = scenario_with(&dir, 30, &[(from, to)]);
        let output = crisis_sim(&["validate", &scenario]);
        assert_eq!(output.status.code(), Some(2), "{to}");
        let stderr = text(&output.stderr);
        let line = DEFAULT
            .replacen(from, to, 1)
            .lines()
            .position(|l| l.contains(at))
            .unwrap()
            + 1;
        assert!(
            stderr.contains(&format!("city.toml:{line}:")),
            "{to}: no file:line:column in {stderr}"
        );
        assert!(stderr.contains(expected), "{to}: {stderr}");
    }
    fs::remove_dir_all(dir).unwrap();
}

/// A policy may carry its own treatment list (`transport_to` on its `[[policies]]` entry):
/// the same program without the crisis center, compared on the same calls.
#[test]
fn a_policy_can_take_people_elsewhere_than_the_scenario_does() {
    let dir = scratch("policy-transport");
    let scenario = scenario_with(
        &dir,
        30,
        &[(
            "ineligible_sent_to_care = 0.01\n",
            "ineligible_sent_to_care = 0.01\n\n[[policies]]\npolicy = \"care_first\"\nlabel = \"care_first_no_center\"\nmax_care_wait_minutes = 10\ntransport_to = [\"general_ed\"]\n",
        )],
    );
    let results = run_results(&dir, &scenario);
    let policies = results["policies"].as_array().unwrap();
    let no_center = policies
        .iter()
        .find(|p| p["label"] == "care_first_no_center")
        .unwrap();
    assert_eq!(no_center["params"]["transport_to"][0], "general_ed");
    let admissions = |policy: &Value, facility: &str| {
        policy["estimates"][format!("facility.{facility}.admissions_per_year")]["mean"]
            .as_f64()
            .unwrap()
    };
    assert_eq!(admissions(no_center, "crisis_center"), 0.0);
    assert!(admissions(&policies[1], "crisis_center") > 0.0);
    assert!(admissions(no_center, "general_ed") > admissions(&policies[1], "general_ed"));

    let bad = scenario_with(
        &dir,
        30,
        &[(
            "ineligible_sent_to_care = 0.01\n",
            "ineligible_sent_to_care = 0.01\ntransport_to = [\"nowhere\"]\n",
        )],
    );
    let output = crisis_sim(&["validate", &bad]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("policies[1].transport_to[0]") && stderr.contains("`nowhere`"),
        "{stderr}"
    );
    fs::remove_dir_all(dir).unwrap();
}
