//! Runs replications of one policy on one thread, for profiling (callgrind) and peak-memory
//! checks (`/usr/bin/time -v`); see BENCHMARKS.md.
//!
//! `cargo run --release --example one_replication -- [SCENARIO|default] [DAYS] [REPLICATIONS] [POLICY]`

use std::path::Path;

use crisis_sim::Scenario;
use crisis_sim::experiment::run_replication;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut scenario = match args.first().map(String::as_str) {
        None | Some("default") => Scenario::default_scenario(),
        Some(path) => Scenario::from_file(Path::new(path)).unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(2)
        }),
    };
    if let Some(days) = args.get(1).and_then(|d| d.parse::<f64>().ok()) {
        scenario.horizon_days = days + scenario.warmup_days;
    }
    let replications: u64 = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(1);
    let policy = match args.get(3) {
        Some(label) => scenario.policy(label).expect("a policy of the scenario"),
        None => &scenario.policies[0],
    };
    let started = std::time::Instant::now();
    let mut calls = 0.0;
    for replication in 0..replications {
        let figures = run_replication(&scenario, policy, scenario.seed, replication)
            .expect("the fleet keeps up");
        calls += figures
            .iter()
            .find(|(def, _)| def.key == crisis_sim::stats::figures::CALLS)
            .map_or(0.0, |(_, v)| *v);
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{} x {} days, {replications} replication(s) of {}: {calls} measured calls in {seconds:.3} s",
        scenario.name,
        scenario.measured_days(),
        policy.label
    );
}
