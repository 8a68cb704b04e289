//! Engine speed: simulated calls per second for one replication of a simulated year, summary
//! statistics only, on one core. (a) the default scenario under each policy, with what happens
//! after the scene (outcome time, facilities, the cost ledger) and without it; (b) the textbook
//! M/M/c validation scenario; (c) a large city (`benches/large-city.toml`: 80 zones, 1,500
//! units, 25,000 calls a day), a month. Targets (issue #2): (a) >= 3 million calls/s, (b) >= 6
//! million; issue #15: (a) with the after-the-scene sections still >= 3 million calls/s.
//!
//! Run: `cargo bench --bench engine`. Figures are recorded in BENCHMARKS.md.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use crisis_sim::Scenario;
use crisis_sim::calls::CallGenerator;
use crisis_sim::experiment::run_replication;

const SEED: u64 = 1;

fn one_year(mut scenario: Scenario) -> Scenario {
    scenario.warmup_days = 7.0;
    scenario.horizon_days = 372.0;
    scenario
}

fn bench_scenario(c: &mut Criterion, group_name: &str, scenario: &Scenario) {
    let calls = CallGenerator::new(scenario, SEED, 0).count() as u64;
    let mut group = c.benchmark_group(group_name);
    group.throughput(Throughput::Elements(calls));
    group.sample_size(20);
    for policy in &scenario.policies {
        group.bench_function(&policy.label, |b| {
            b.iter(|| black_box(run_replication(scenario, policy, SEED, 0)))
        });
    }
    group.finish();
}

/// The scenario without its after-the-scene sections: the engine's path before issue #15.
fn without_consequences(mut scenario: Scenario) -> Scenario {
    scenario.drop_after_the_scene();
    scenario
}

fn engine(c: &mut Criterion) {
    let default = one_year(Scenario::default_scenario());
    bench_scenario(c, "default_year", &default);
    let plain = without_consequences(default.clone());
    bench_scenario(c, "default_year_without_consequences", &plain);

    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/validation/erlang_c.toml");
    let mmc = one_year(Scenario::from_file(&path).expect("validation scenario"));
    bench_scenario(c, "mmc_year", &mmc);

    // A city 23 times the default's calls on 80 zones, where the engine's state outgrows the
    // caches (`benches/large-city.toml`). A month, not a year, to keep the bench short.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/large-city.toml");
    let mut large = Scenario::from_file(&path).expect("large-city scenario");
    large.warmup_days = 7.0;
    large.horizon_days = 37.0;
    bench_scenario(c, "large_city_month", &large);

    // The call stream alone: what generation costs of the totals above.
    let mut group = c.benchmark_group("call_stream_year");
    let calls = CallGenerator::new(&default, SEED, 0).count() as u64;
    group.throughput(Throughput::Elements(calls));
    group.sample_size(20);
    group.bench_function("default", |b| {
        b.iter(|| black_box(CallGenerator::new(&default, SEED, 0).count()))
    });
    group.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
