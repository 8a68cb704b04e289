//! The canonical two-pool model (`benches/canonical-config-b.toml`, a copy of
//! `../shared/bench/canonical-config-b.toml`): one replication of a simulated year on one core,
//! summary statistics only, under `police_only` and `care_first`. Issue #18 sets it against the
//! hand-written loop in `../shared/bench/rust_floor` (`scripts/vs-floor.sh` runs the two side
//! by side): at least half the floor's calls per second.
//!
//! Run: `cargo bench --bench canonical`. Figures are recorded in BENCHMARKS.md.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use crisis_sim::Scenario;
use crisis_sim::calls::CallGenerator;
use crisis_sim::experiment::run_replication;

const SCENARIO: &str = include_str!("canonical-config-b.toml");
const SEED: u64 = 1;

fn canonical(c: &mut Criterion) {
    let scenario =
        Scenario::from_toml_str(SCENARIO, "canonical-config-b.toml").expect("the canonical model");
    let calls = CallGenerator::new(&scenario, SEED, 0).count() as u64;
    let mut group = c.benchmark_group("canonical_year");
    group.throughput(Throughput::Elements(calls));
    group.sample_size(20);
    for policy in &scenario.policies {
        group.bench_function(&policy.label, |b| {
            b.iter(|| black_box(run_replication(&scenario, policy, SEED, 0)))
        });
    }
    group.finish();
}

criterion_group!(benches, canonical);
criterion_main!(benches);
