//! The engine reproduces queueing theory where theory exists: Erlang C for an M/M/c police
//! pool, Erlang B for care teams with immediate overflow. Each test computes the formula itself
//! and checks it lies inside the 95% confidence interval of a long simulated run.

use std::path::Path;

use crisis_sim::Scenario;
use crisis_sim::experiment::{self, Results, RunSettings};

/// Erlang B blocking probability for `servers` servers and offered load `a` erlangs.
fn erlang_b(servers: u32, a: f64) -> f64 {
    (1..=servers).fold(1.0, |b, k| a * b / (f64::from(k) + a * b))
}

/// Erlang C probability of waiting.
fn erlang_c(servers: u32, a: f64) -> f64 {
    let b = erlang_b(servers, a);
    let c = f64::from(servers);
    c * b / (c - a * (1.0 - b))
}

fn run(file: &str) -> (Scenario, Results) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/validation")
        .join(file);
    let scenario = Scenario::from_file(&path).unwrap_or_else(|e| panic!("{e}"));
    let results = experiment::run(&scenario, &RunSettings::from_scenario(&scenario)).unwrap();
    (scenario, results)
}

fn assert_within_ci(results: &Results, policy: &str, figure: &str, theory: f64) {
    let e = results.estimate(policy, figure).unwrap();
    assert!(
        (e.ci_low..=e.ci_high).contains(&theory),
        "{policy} {figure}: theory {theory:.5} outside the 95% CI [{:.5}, {:.5}] (mean {:.5}, n {})",
        e.ci_low,
        e.ci_high,
        e.mean,
        e.n
    );
    // The interval must be tight enough to mean something.
    assert!(
        e.half_width < 0.05 * theory.abs().max(1e-9),
        "{figure}: CI too wide: {e:?}"
    );
}

#[test]
fn formulas_match_textbook_values() {
    assert!((erlang_b(5, 4.0) - 0.199067).abs() < 1e-6);
    assert!((erlang_c(10, 8.0) - 0.40918).abs() < 1e-5);
    assert!(
        (erlang_c(1, 0.5) - 0.5).abs() < 1e-12,
        "M/M/1: P(wait) = rho"
    );
}

#[test]
fn police_only_reproduces_erlang_c() {
    let (scenario, results) = run("erlang_c.toml");
    let servers = scenario.pools[0].count;
    let arrivals_per_minute = scenario.demand.calls_per_day / 1440.0;
    let service_minutes = scenario.call_types[0].on_scene[0].mean();
    let a = arrivals_per_minute * service_minutes;
    let p_wait = erlang_c(servers, a);
    let mean_wait = p_wait / (f64::from(servers) / service_minutes - arrivals_per_minute);
    assert_within_ci(&results, "police_only", "waited_share", p_wait);
    assert_within_ci(&results, "police_only", "wait_mean", mean_wait);
    // With zero travel, response is the wait.
    assert_within_ci(&results, "police_only", "response_mean", mean_wait);
    assert_within_ci(
        &results,
        "police_only",
        "police.utilization",
        a / f64::from(servers),
    );
}

#[test]
fn care_first_with_no_wait_reproduces_erlang_b() {
    let (scenario, results) = run("erlang_b.toml");
    let care = &scenario.pools[1];
    let arrivals_per_minute = scenario.demand.calls_per_day / 1440.0;
    let a = arrivals_per_minute * scenario.call_types[0].on_scene[1].mean();
    let blocked = erlang_b(care.count, a);
    assert_within_ci(&results, "care_first", "eligible.overflow_share", blocked);
    assert_within_ci(
        &results,
        "care_first",
        "care.utilization",
        a * (1.0 - blocked) / f64::from(care.count),
    );
    assert_within_ci(&results, "care_first", "care_share", 1.0 - blocked);
}

/// Issue #15: a fixed booking time b after an arrest with probability p keeps the arresting
/// police unit busy, so on an M/M/c pool its utilization rises by exactly lambda * p * b / c.
#[test]
fn booking_time_raises_police_utilization_by_lambda_p_b_over_c() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/validation/erlang_c.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let (p, b) = (0.2, 15.0);
    let with_booking = text
        .replacen(
            "on_scene.police = { dist = \"exponential\", mean = 30 }",
            &format!(
                "on_scene.police = {{ dist = \"exponential\", mean = 30 }}\noutcomes.police = {{ arrest = {p} }}"
            ),
            1,
        )
        + &format!("\n[outcome_time.police]\narrest = {{ dist = \"fixed\", mean = {b} }}\n");
    let scenario = Scenario::from_toml_str(&with_booking, "erlang_c_booking.toml")
        .unwrap_or_else(|e| panic!("{e}"));
    let results = experiment::run(&scenario, &RunSettings::from_scenario(&scenario)).unwrap();
    let servers = f64::from(scenario.pools[0].count);
    let arrivals_per_minute = scenario.demand.calls_per_day / 1440.0;
    let service_minutes = scenario.call_types[0].on_scene[0].mean();
    let utilization = arrivals_per_minute * (service_minutes + p * b) / servers;
    assert_within_ci(&results, "police_only", "police.utilization", utilization);
    // And the arrests it counts are the share asked for.
    assert_within_ci(&results, "police_only", "arrests_per_1000", p * 1000.0);
}

/// `erlang_b.toml` with every call transported for care (probability `p`) to a crisis center of
/// `beds` beds with exponential stays of `stay_hours`, then to an unlimited emergency
/// department when the center is full. Police only: 20 units never keep a call waiting, so
/// transports reach the center as a Poisson stream (calls thinned, then shifted by i.i.d.
/// on-scene times: M/G/infinity keeps it Poisson).
fn crisis_center_scenario(p: f64, beds: u32, stay_hours: f64) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/validation/erlang_b.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text.replacen(
        "on_scene.care = { dist = \"exponential\", mean = 30 }",
        &format!(
            "on_scene.care = {{ dist = \"exponential\", mean = 30 }}\noutcomes.police = {{ er_transport = {p} }}"
        ),
        1,
    ) + &format!(
        r#"
[[facilities]]
name = "center"
kind = "crisis_center"
zone = "all"
beds = {beds}
length_of_stay_hours = {{ dist = "exponential", mean = {stay_hours} }}
handover_minutes = {{ dist = "fixed", mean = 5 }}

[[facilities]]
name = "hospital"
kind = "ed"
zone = "all"
beds = "unlimited"
length_of_stay_hours = {{ dist = "exponential", mean = 8 }}
handover_minutes = {{ dist = "fixed", mean = 5 }}

[transport]
treatment = ["center", "hospital"]
"#
    );
    let mut scenario =
        Scenario::from_toml_str(&text, "crisis_center.toml").unwrap_or_else(|e| panic!("{e}"));
    scenario
        .select_policies(&["police_only".to_string()])
        .unwrap();
    // Longer than erlang_b.toml's 20: the occupancy interval is narrow.
    scenario.replications = 60;
    scenario
}

/// Issue #15: a crisis center with few beds turns transports away at the Erlang B rate for its
/// bed count (its stays are the servers, the transports the Poisson arrivals), and the unlimited
/// department behind it never turns anyone away.
#[test]
fn a_full_crisis_center_turns_people_away_at_the_erlang_b_rate() {
    for (beds, stay_hours) in [(1, 0.5), (3, 1.0)] {
        let p = 0.5;
        let scenario = crisis_center_scenario(p, beds, stay_hours);
        let results = experiment::run(&scenario, &RunSettings::from_scenario(&scenario)).unwrap();
        let transports_per_minute = scenario.demand.calls_per_day / 1440.0 * p;
        let a = transports_per_minute * stay_hours * 60.0;
        let turned_away = erlang_b(beds, a);
        assert_within_ci(
            &results,
            "police_only",
            "facility.center.turned_away_share",
            turned_away,
        );
        // Carried load over beds: the mean occupancy.
        assert_within_ci(
            &results,
            "police_only",
            "facility.center.occupancy",
            a * (1.0 - turned_away) / f64::from(beds),
        );
        let hospital = results
            .figure_index("facility.hospital.turned_away_share")
            .unwrap();
        for values in &results.baseline().values {
            assert_eq!(
                values[hospital], 0.0,
                "an unlimited department turns no one away"
            );
        }
        let nowhere = results
            .figure_index("transports_without_place_per_year")
            .unwrap();
        assert!(results.baseline().values.iter().all(|v| v[nowhere] == 0.0));
    }
}

/// Issue #17: a fixed call-processing time d before dispatch adds exactly d to every response
/// and nothing to the queue: on M/M/c (no travel), mean response = d + Erlang C mean wait.
#[test]
fn dispatch_delay_adds_to_response_and_not_to_the_queue() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/validation/erlang_c.toml");
    let d = 0.7;
    let text = std::fs::read_to_string(&path).unwrap()
        + &format!("\n[dispatch_delay]\ndefault = {{ dist = \"fixed\", mean = {d} }}\n");
    let scenario =
        Scenario::from_toml_str(&text, "erlang_c_delay.toml").unwrap_or_else(|e| panic!("{e}"));
    let results = experiment::run(&scenario, &RunSettings::from_scenario(&scenario)).unwrap();
    let servers = scenario.pools[0].count;
    let arrivals_per_minute = scenario.demand.calls_per_day / 1440.0;
    let service_minutes = scenario.call_types[0].on_scene[0].mean();
    let a = arrivals_per_minute * service_minutes;
    let mean_wait =
        erlang_c(servers, a) / (f64::from(servers) / service_minutes - arrivals_per_minute);
    assert_within_ci(&results, "police_only", "wait_mean", mean_wait);
    assert_within_ci(&results, "police_only", "response_mean", d + mean_wait);
    // A call dispatched the moment its processing ends did not wait: the share that waited is
    // Erlang C's probability of waiting, not every call (a rounding error in the ready time
    // once counted them all).
    assert_within_ci(
        &results,
        "police_only",
        "waited_share",
        erlang_c(servers, a),
    );
    let delay = results
        .estimate("police_only", "dispatch_delay_mean")
        .unwrap();
    assert!((delay.mean - d).abs() < 1e-9, "{delay:?}");
    let travel = results.estimate("police_only", "travel_mean").unwrap();
    assert_eq!(travel.mean, 0.0, "the validation city has no travel");
}

/// Issue #18's yardstick model (`benches/canonical-config-b.toml`, a copy of
/// `../shared/bench/canonical-config-b.toml`) answers as theory does: under `police_only` the
/// 60 police units are an M/M/60 pool (Erlang C), under `care_first` the 15 care teams lose
/// to police at once every eligible call they cannot take (Erlang B). Forty days keep the test
/// short; the intervals are still tight.
#[test]
fn the_canonical_yardstick_model_answers_as_theory_does() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("benches/canonical-config-b.toml")).unwrap();
    // The copy stays the same as the yardstick it was taken from (when that is at hand).
    if let Ok(shared) =
        std::fs::read_to_string(root.join("../shared/bench/canonical-config-b.toml"))
    {
        assert!(
            text.ends_with(&shared),
            "benches/ has drifted from ../shared/bench/"
        );
    }
    let mut scenario = Scenario::from_toml_str(&text, "canonical-config-b.toml").unwrap();
    scenario.horizon_days = 40.0;
    let mut settings = RunSettings::from_scenario(&scenario);
    settings.replications = 8;
    let results = experiment::run(&scenario, &settings).unwrap();
    let per_minute = scenario.demand.calls_per_day / 1440.0;
    let police = scenario.pools[0].count;
    let police_load = per_minute * 45.0;
    assert_within_ci(
        &results,
        "police_only",
        "police.utilization",
        police_load / f64::from(police),
    );
    let waited = erlang_c(police, police_load);
    let e = results.estimate("police_only", "waited_share").unwrap();
    assert!(
        (e.ci_low..=e.ci_high).contains(&waited),
        "Erlang C {waited:.4} outside [{:.4}, {:.4}]",
        e.ci_low,
        e.ci_high
    );
    let care_load = per_minute * 0.3 * 60.0;
    let blocked = erlang_b(scenario.pools[1].count, care_load);
    assert_within_ci(&results, "care_first", "eligible.overflow_share", blocked);
}
