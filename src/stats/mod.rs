//! Statistics: per replication, figures folded from call records in fixed memory; across
//! replications, means with 95% confidence intervals and paired differences between policies.

pub mod backtest;
mod estimate;
pub mod figures;
pub mod load;
mod replication;

pub use estimate::{CONFIDENCE_LEVEL, Estimate};
pub use replication::{DISTRIBUTION_PERCENTILES, FigureDef, ReplicationStats};
