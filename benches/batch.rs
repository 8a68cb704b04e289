//! Batch scaling: replications per second of the default scenario (one simulated year each,
//! both policies) on 1 thread and on 2. Target (issue #3): 2 threads >= 1.8x 1 thread on this
//! 2-core machine. Run: `cargo bench --bench batch`; figures go in BENCHMARKS.md.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use crisis_sim::Scenario;
use crisis_sim::experiment::{RunSettings, run};

const REPLICATIONS: u32 = 20;

fn batch(c: &mut Criterion) {
    let scenario = Scenario::default_scenario();
    let mut group = c.benchmark_group("default_year_batch");
    // One element = one replication of every policy.
    group.throughput(Throughput::Elements(u64::from(REPLICATIONS)));
    group.sample_size(10);
    for threads in [1, 2] {
        let settings = RunSettings {
            replications: REPLICATIONS,
            seed: 1,
            threads: Some(threads),
        };
        group.bench_function(format!("{threads}_threads"), |b| {
            b.iter(|| black_box(run(&scenario, &settings).expect("runs")))
        });
    }
    group.finish();
}

criterion_group!(benches, batch);
criterion_main!(benches);
