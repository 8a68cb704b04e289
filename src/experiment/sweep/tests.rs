//! Sweep grammar, grid, targets and a small end-to-end sweep.

use super::*;
use crate::experiment::batch::NoProgress;

fn small() -> Scenario {
    let mut scenario = Scenario::default_scenario();
    scenario.horizon_days = 15.0;
    scenario
}

#[test]
fn vary_grammar() {
    let scenario = small();
    let counts = |text: &str| -> Vec<String> {
        parse_vary(text, &scenario)
            .unwrap()
            .values
            .iter()
            .map(Setting::label)
            .collect()
    };
    assert_eq!(counts("care.count=0..=3"), ["0", "1", "2", "3"]);
    assert_eq!(
        counts("police.count=40..=60:5"),
        ["40", "45", "50", "55", "60"]
    );
    assert_eq!(counts("care.count=0..3"), ["0", "1", "2"]);
    assert_eq!(counts("care.count=2,4,8"), ["2", "4", "8"]);
    assert_eq!(counts("care.shifts=day,24x7,7-23"), ["day", "24x7", "7-23"]);
    for (bad, says) in [
        ("care=3", "POOL.count"),
        ("vans.count=3", "pools are police, care"),
        ("care.size=3", "no setting `size`"),
        ("care.count=3..1", "expected counts"),
        ("care.count=0..=4:0", "expected counts"),
        ("care.shifts=brunch", "expected a shift pattern"),
    ] {
        let err = parse_vary(bad, &scenario).unwrap_err().to_string();
        assert!(err.contains(says), "{bad}: {err}");
    }
}

#[test]
fn shift_patterns() {
    assert_eq!(ShiftPattern::parse("24x7").unwrap().blocks, vec![]);
    assert_eq!(
        ShiftPattern::parse("day").unwrap().blocks,
        vec![(7.0, 12.0)]
    );
    assert_eq!(
        ShiftPattern::parse("19-3").unwrap().blocks,
        vec![(19.0, 8.0)]
    );
    assert_eq!(
        ShiftPattern::parse("7-19+19-3").unwrap().blocks,
        vec![(7.0, 12.0), (19.0, 8.0)]
    );
    assert!(ShiftPattern::parse("7-7").is_err());
}

#[test]
fn the_grid_applies_every_combination() {
    let scenario = small();
    let varies = [
        parse_vary("care.count=0,4", &scenario).unwrap(),
        parse_vary("care.shifts=day,24x7", &scenario).unwrap(),
    ];
    let points = grid(&scenario, &varies);
    assert_eq!(points.len(), 4);
    fn care(point: &Point) -> &crate::scenario::Pool {
        &point.scenario.pools[1]
    }
    assert_eq!(
        points[0].settings,
        [
            ("care.count".into(), "0".into()),
            ("care.shifts".into(), "day".into())
        ]
    );
    assert_eq!(care(&points[0]).count, 0);
    assert_eq!(care(&points[0]).shifts[0].count, 0);
    assert_eq!(care(&points[2]).count, 4);
    assert_eq!(
        care(&points[2]).shifts[0].count,
        4,
        "a whole-pool block follows the count"
    );
    assert_eq!(care(&points[2]).shifts[0].length_minutes, 12.0 * 60.0);
    assert!(care(&points[3]).shifts.is_empty(), "24x7");
}

#[test]
fn targets_need_the_whole_interval() {
    let figures = sweep_figures(&small());
    let target = Target::parse("eligible.response_p90 <= 20", &figures).unwrap();
    let estimate = |mean: f64, half_width: f64| Estimate {
        mean,
        half_width,
        ci_low: mean - half_width,
        ci_high: mean + half_width,
        sd: 1.0,
        n: 10,
    };
    assert!(target.met_by(&estimate(18.0, 1.5)));
    assert!(
        !target.met_by(&estimate(19.0, 1.5)),
        "mean meets, upper bound does not"
    );
    let floor = Target::parse("care.utilization>=0.5", &figures).unwrap();
    assert!(floor.met_by(&estimate(0.6, 0.05)));
    assert!(!floor.met_by(&estimate(0.52, 0.05)));
    let err = Target::parse("eligible.p90 <= 20", &figures)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no figure `eligible.p90`") && err.contains("eligible.response_p90"),
        "{err}"
    );
    assert!(Target::parse("response_p90 = 3", &figures).is_err());
    assert!(Target::parse("response_p90 <= soon", &figures).is_err());
}

#[test]
fn a_small_sweep_finds_the_cheapest_point_meeting_the_targets() {
    let scenario = small();
    let varies = [parse_vary("care.count=0,4,8,12", &scenario).unwrap()];
    let settings = SweepSettings {
        replications: 3,
        seed: 2,
        threads: Some(2),
        policies: vec![],
        targets: vec!["eligible.care_share >= 0.5".into()],
        ..Default::default()
    };
    let sweep = run_sweep(&scenario, &varies, &settings, &NoProgress).unwrap();
    assert_eq!(sweep.swept, ["care_first"]);
    assert_eq!(sweep.points.len(), 4);
    let share = |x: usize| {
        sweep.points[x]
            .results
            .estimate("care_first", "eligible.care_share")
            .unwrap()
            .mean
    };
    assert_eq!(share(0), 0.0, "no teams, no care");
    assert!(
        share(1) < share(2) && share(2) < share(3),
        "more teams take more calls"
    );
    // The baseline is the same at every point (police-only ignores care teams) ...
    let baseline = |x: usize| {
        sweep.points[x]
            .results
            .estimate("police_only", "response_p90")
            .unwrap()
    };
    assert_eq!(baseline(0), baseline(3));
    // ... and more teams free more police hours.
    let freed = |x: usize| {
        sweep.points[x]
            .results
            .estimate("care_first", POLICE_HOURS_FREED)
            .unwrap()
            .mean
    };
    assert!(freed(0).abs() < 1e-9 && freed(3) > freed(1));
    let per_100k = sweep.points[2]
        .results
        .estimate("care_first", CARE_TEAMS_PER_100K)
        .unwrap();
    assert_eq!(per_100k.mean, 8.0 / 400_000.0 * 100_000.0);
    // The recommendation is the cheapest point whose whole interval meets the target.
    let recommended = sweep.recommendations[0].point.expect("some point meets it");
    for (x, point) in sweep.points.iter().enumerate() {
        let low = point
            .results
            .estimate("care_first", "eligible.care_share")
            .unwrap()
            .ci_low;
        assert_eq!(point.meets[0], low >= 0.5, "point {x}");
    }
    let cost = |x: usize| {
        sweep.points[x]
            .results
            .estimate("care_first", "annual_cost")
            .unwrap()
            .mean
    };
    assert!(
        sweep
            .points
            .iter()
            .enumerate()
            .filter(|(_, p)| p.meets[0])
            .all(|(x, _)| cost(x) >= cost(recommended))
    );

    // Same seeds at every point: the results are identical whatever the thread count.
    let single = run_sweep(
        &scenario,
        &varies,
        &SweepSettings {
            threads: Some(1),
            ..settings
        },
        &NoProgress,
    )
    .unwrap();
    assert_eq!(
        crate::output::sweep_json(&single),
        crate::output::sweep_json(&sweep)
    );
}

#[test]
fn sweep_values_equal_separate_runs_of_each_point() {
    let scenario = small();
    let varies = [parse_vary("care.count=3,9", &scenario).unwrap()];
    let settings = SweepSettings {
        replications: 2,
        seed: 11,
        threads: Some(2),
        policies: vec![],
        targets: vec![],
        ..Default::default()
    };
    let sweep = run_sweep(&scenario, &varies, &settings, &NoProgress).unwrap();
    let points = grid(&scenario, &varies);
    for (x, point) in points.iter().enumerate() {
        for (slot, spec) in point.scenario.policies.iter().enumerate() {
            for r in 0..2u64 {
                let alone: Vec<u64> = experiment::run_replication(&point.scenario, spec, 11, r)
                    .unwrap()
                    .into_iter()
                    .map(|(_, v)| v.to_bits())
                    .collect();
                let shared: Vec<u64> = sweep.points[x].results.policies[slot].values[r as usize]
                    [..alone.len()]
                    .iter()
                    .map(|v| v.to_bits())
                    .collect();
                assert_eq!(shared, alone, "point {x}, {}, replication {r}", spec.label);
            }
        }
    }
}

#[test]
fn grids_past_the_ceilings_are_refused_before_anything_is_made() {
    let scenario = Scenario::default_scenario();
    let err = parse_vary("care.count=0..=100000000", &scenario).unwrap_err();
    assert!(err.to_string().contains("at most 16777215 units"), "{err}");
    let err = parse_vary("care.count=0..=20000", &scenario).unwrap_err();
    assert!(err.to_string().contains("at most 10000 points"), "{err}");
    let stepped = parse_vary("care.count=0..=19998:2", &scenario).unwrap();
    assert_eq!(stepped.values.len(), 10_000);
    // The grid is the product of the lists: 10,000 x 2 points is refused before it is built.
    let police = parse_vary("police.count=40,50", &scenario).unwrap();
    let settings = SweepSettings {
        replications: 1,
        seed: 1,
        threads: Some(1),
        policies: Vec::new(),
        targets: Vec::new(),
        ..Default::default()
    };
    let err = run_sweep(&scenario, &[stepped, police], &settings, &NoProgress).unwrap_err();
    assert!(
        matches!(err, SweepError::TooManyPoints { points: 20_000 }),
        "{err}"
    );
    // And the work: 6 points x 2 policies x 100,000 replications.
    let small = parse_vary("care.count=1..=6", &scenario).unwrap();
    let many = SweepSettings {
        replications: 100_000,
        ..settings
    };
    let err = run_sweep(&scenario, &[small], &many, &NoProgress).unwrap_err();
    assert!(
        err.to_string().starts_with(
            "6 points x 2 policies x 100000 replications make 1200000 replication runs"
        ),
        "{err}"
    );
}

/// Issue #16: a response time counts served calls only, so a point that leaves calls unserved
/// cannot meet a target on it, however fast its served calls were reached.
#[test]
fn a_point_with_unserved_calls_meets_no_response_target() {
    let def = |key: &str| FigureDef {
        key: key.to_string(),
        label: key.to_string(),
        unit: String::new(),
        detail: false,
    };
    let figures = vec![
        def(key::CALLS),
        def(key::UNSERVED_AT_HORIZON),
        def(key::RESPONSE_P90),
        def(key::ELIGIBLE_CARE_SHARE),
    ];
    let results = |unserved: f64| {
        let mut summaries = BTreeMap::new();
        for r in 0..3u64 {
            let jitter = r as f64 * 0.01;
            summaries.insert((r, 0), vec![10_000.0, unserved, 9.0 + jitter, 0.5 + jitter]);
        }
        let policy = PolicyInfo {
            label: "police_only".to_string(),
            rule: "police_only".to_string(),
            params: serde_json::Value::Null,
        };
        Results::assemble(
            ScenarioInfo::of(&small()),
            1,
            None,
            figures.clone(),
            vec![policy],
            &summaries,
            &[0, 1, 2],
        )
    };
    let response = Target::parse("response_p90 <= 20", &figures).unwrap();
    let share = Target::parse("eligible.care_share >= 0.4", &figures).unwrap();
    assert!(response.on_served_calls_only() && !share.on_served_calls_only());
    assert!(share.monotone_in_counts() && !response.monotone_in_counts());
    // 5 of 10,000 unserved (0.05%): fine. 9,000 (90%): the fast served calls do not count.
    assert!(!target_met(&results(200.0), 0, &response), "2% unserved");
    assert!(target_met(&results(5.0), 0, &response));
    assert!(!target_met(&results(9_000.0), 0, &response));
    assert!(target_met(&results(9_000.0), 0, &share));
}
