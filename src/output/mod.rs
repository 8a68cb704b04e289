//! Outputs a person or a program reads: the comparison table, `results.json`, CSV, charts, and the atomic
//! file writes every output goes through (a reader never sees a half-written file).

mod atomic;
mod chart;
mod csv;
mod json;
pub mod log;
pub mod outdir;
mod report;
mod sweep;
mod table;

pub use atomic::{AtomicFile, write_atomic};
pub use chart::{
    BacktestChart, Chart, ChartError, Drawable, SIZE as CHART_SIZE, SweepChart, SweepSeries,
    TradeOffChart, TradeOffSeries, results_charts, write_results_charts, write_sweep_charts,
};
pub use csv::{
    REPLICATIONS_CSV, SUMMARY_CSV, from_spreadsheet_safe, replications_csv, spreadsheet_safe,
    summary_csv,
};
pub use json::{
    ParsedResults, PolicyDocument, RESULTS_FILE, ReplicationDocument, ResultsDocument,
    parse_results, results_json,
};
pub use outdir::{OutputDir, OutputDirError, Replace};
pub(crate) use report::headline;
pub use report::{BacktestSection, SweepAnswer, report_html};
pub use sweep::{
    RecommendationDocument, SWEEP_CSV, SWEEP_JSON, SweepDocument, SweepPointDocument,
    SweepPolicyDocument, recommendation_text, sweep_csv, sweep_json, sweep_table,
};
pub use table::{backtest_rows, comparison_table, format_number, hourly_table, render_table};
