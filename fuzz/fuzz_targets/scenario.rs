//! The scenario parser and checker on arbitrary text: it must return a scenario or an error,
//! never panic. A scenario that loads is also simulated for a moment, since values the checker
//! accepts must be values the engine can run.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(mut scenario) = crisis_sim::Scenario::from_toml_str(text, "fuzz.toml") {
        // A short horizon keeps each input fast; the point is that nothing panics.
        scenario.horizon_days = scenario.horizon_days.min(0.5);
        scenario.warmup_days = 0.0;
        scenario.demand.calls_per_day = scenario.demand.calls_per_day.min(2000.0);
        for spec in &scenario.policies {
            let _ = crisis_sim::experiment::run_replication(&scenario, spec, 1, 0);
        }
    }
});
