//! `run --resume` on an arbitrary checkpoint (of the default scenario, seed 1, 10
//! replications): it is used or refused, and what is used holds only this run's jobs, each
//! with every figure.
#![no_main]

use libfuzzer_sys::fuzz_target;

use crisis_sim::experiment::{self, checkpoint};

fuzz_target!(|data: &[u8]| {
    static SETUP: std::sync::OnceLock<(checkpoint::Header, usize, usize)> =
        std::sync::OnceLock::new();
    let (header, figures, policies) = SETUP.get_or_init(|| {
        let scenario = crisis_sim::Scenario::default_scenario();
        let figures = experiment::figure_defs(&scenario).len();
        (
            checkpoint::Header::of(&scenario, 1, None, figures),
            figures,
            scenario.policies.len(),
        )
    });
    let text = String::from_utf8_lossy(data);
    let path = std::path::Path::new("checkpoint.jsonl");
    if let Ok(done) = checkpoint::parse(&text, path, header, 0..10) {
        for ((replication, policy), values) in &done {
            assert!(*replication < 10 && policy < policies);
            assert_eq!(values.len(), *figures);
        }
    }
});
