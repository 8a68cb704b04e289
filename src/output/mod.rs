//! Outputs a person or a program reads: the comparison table, `results.json`, and the atomic
//! file writes every output goes through (a reader never sees a half-written file).

mod atomic;
mod json;
mod table;

pub use atomic::write_atomic;
pub use json::{RESULTS_FILE, results_json};
pub use table::{comparison_table, format_number};
