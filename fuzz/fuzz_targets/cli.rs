//! The command line on arbitrary arguments (NUL-separated): parsed and checked, as every
//! command does before it starts, or refused with a message; never a panic, and never a
//! count, range or grid so large that checking it runs out of memory (`--log-replications
//! 0..100000000` and `sweep --vary care.count=0..=100000000` once did).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code, unused_imports)]
#[path = "../../src/cli/mod.rs"]
mod cli;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let args = std::iter::once("crisis-sim").chain(text.split('\0'));
    let _ = cli::check_arguments(args);
});
