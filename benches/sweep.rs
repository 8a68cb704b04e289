//! Sweep speed (issue #6): a 21-point sweep of the default scenario (`care.count=0..=20`), 100
//! replications per point, one simulated year each, on all cores, must finish in under 2
//! minutes on the 2-core reference machine. One run is long enough to time directly, so this
//! is a plain timed benchmark rather than a criterion one.
//!
//! Run: `cargo bench --bench sweep`. The figure goes in BENCHMARKS.md.

use std::time::Instant;

use crisis_sim::Scenario;
use crisis_sim::experiment::batch::NoProgress;
use crisis_sim::experiment::sweep::{SweepSettings, parse_vary, run_sweep};

const TARGET_SECONDS: f64 = 120.0;

fn main() {
    // `cargo bench` passes `--bench`; a filter argument that does not match skips the run.
    if std::env::args()
        .skip(1)
        .any(|a| !a.starts_with('-') && !"sweep".contains(a.as_str()))
    {
        return;
    }
    let scenario = Scenario::default_scenario();
    let varies = [parse_vary("care.count=0..=20", &scenario).expect("valid --vary")];
    let settings = SweepSettings {
        replications: 100,
        seed: scenario.seed,
        threads: None,
        policies: vec!["care_first".into()],
        targets: vec!["eligible.response_p90 <= 20".into()],
        ..Default::default()
    };
    let started = Instant::now();
    let sweep = run_sweep(&scenario, &varies, &settings, &NoProgress).expect("sweep runs");
    let seconds = started.elapsed().as_secs_f64();
    let threads = rayon::current_num_threads();
    println!(
        "sweep/default_care_count_0_to_20_x100: {seconds:.1} s for {} points x 100 replications on {threads} threads (target < {TARGET_SECONDS} s): {}",
        sweep.points.len(),
        if seconds < TARGET_SECONDS {
            "met"
        } else {
            "NOT met"
        }
    );
}
