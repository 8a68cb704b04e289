//! Call-stream files: rows per second for checking a file (`StreamFile::open`, done once per
//! replay), reading one replication back as calls, and replaying it under `police_only`, for a
//! generated year of the default scenario (~409,000 calls). Compare `replay_police_only` with
//! the engine bench's `default_year/police_only` to see what reading the file costs.
//!
//! Run: `cargo bench --bench stream`. Figures are recorded in BENCHMARKS.md.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use crisis_sim::Scenario;
use crisis_sim::calls::stream::{StreamFile, generate};
use crisis_sim::experiment::run_job;

fn stream(c: &mut Criterion) {
    let scenario = Scenario::default_scenario();
    let dir = std::env::temp_dir().join(format!("crisis-sim-bench-stream-{}", std::process::id()));
    let path = dir.join("calls.csv");
    let summary = generate(&scenario, 1, 1, &path).expect("write the stream");
    let file = StreamFile::open(&path, &scenario).expect("a valid stream");

    let mut group = c.benchmark_group("stream_year");
    group.throughput(Throughput::Elements(summary.calls));
    group.sample_size(10);
    group.bench_function("check_file", |b| {
        b.iter(|| black_box(StreamFile::open(&path, &scenario).expect("valid").calls))
    });
    group.bench_function("read_calls", |b| {
        b.iter(|| black_box(file.calls(&scenario, 1, 0).expect("readable").count()))
    });
    group.bench_function("replay_police_only", |b| {
        b.iter(|| black_box(run_job(&scenario, Some(&file), 0, 1, 0, None).expect("replays")))
    });
    group.finish();
    let _ = std::fs::remove_dir_all(dir);
}

criterion_group!(benches, stream);
criterion_main!(benches);
