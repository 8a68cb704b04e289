//! The call-stream reader on arbitrary bytes (against the default scenario): opening checks
//! every row, and reading every replication back must agree with that check; errors, never
//! panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    static SCENARIO: std::sync::OnceLock<crisis_sim::Scenario> = std::sync::OnceLock::new();
    let scenario = SCENARIO.get_or_init(crisis_sim::Scenario::default_scenario);
    let path = std::env::temp_dir().join(format!("crisis-sim-fuzz-stream-{}.csv", std::process::id()));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    if let Ok(stream) = crisis_sim::calls::stream::StreamFile::open(&path, scenario) {
        for replication in 0..stream.replications().min(4) {
            let mut calls = stream
                .calls(scenario, 1, replication)
                .expect("a checked stream opens");
            let mut previous = f64::NEG_INFINITY;
            for call in calls.by_ref() {
                assert!(call.received_minutes >= previous, "read back out of order");
                previous = call.received_minutes;
            }
            assert!(calls.take_error().is_none(), "a checked stream reads back");
        }
    }
});
