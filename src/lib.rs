//! # crisis-sim
//!
//! What happens to 911 response, police workload, cost and harm if eligible crisis calls go to
//! unarmed care-worker teams instead of police, and how many teams does it take?
//!
//! A discrete-event engine replays a 911 call stream through a fleet of police units and care
//! teams under a routing policy, over many Monte Carlo replications, and reports every figure
//! as a mean with a 95% confidence interval, and every policy against the baseline as a paired
//! difference with its own interval.
//!
//! ```text
//!  city CAD export ──► import ──► calls.csv ──► fit ──► scenario (TOML)
//!                                    │  (stream::StreamFile, read lazily)
//!                                    ▼
//!  scenario (TOML) ──► Scenario ──► CallGenerator ──► engine::simulate ◄── Policy
//!                                   (or the file's calls)  │   "who goes to this call?"
//!                                                        ▼
//!                                                   CallRecord per call
//!                                                        │  (Observer)
//!                                                        ▼
//!                                 ReplicationStats ──► figures per replication
//!                                                        │  (experiment: rayon, in order)
//!                                                        ▼
//!                                 Estimate (mean, 95% CI), paired differences
//!                                                        │
//!                                                        ▼
//!                                 output: table, results.json, charts (PNG/SVG),
//!                                 report.html (atomic writes)
//! ```
//!
//! ## Glossary
//! - **call**: one 911 call for service: when it came, its type, its zone.
//! - **call type**: a kind of call (e.g. `welfare_check`) with a share of demand, a priority
//!   (1 = most urgent), whether a care team may take it, on-scene times and outcome
//!   probabilities per responder kind.
//! - **responder kind**: `police` or `care` (an unarmed team, e.g. a medic and a crisis worker).
//! - **unit**: one police car or care van; **pool**: units of one kind with the same base,
//!   shifts and cost.
//! - **policy**: the rule that decides who goes to a call (`police_only`, `care_first`).
//! - **replication**: one independent run of the whole horizon; replication *r* of every
//!   policy replays the same calls with the same per-call random draws.
//! - **figure**: a number a replication yields (e.g. `eligible.response_p90`); across
//!   replications it becomes an [`stats::Estimate`].
//! - **warm-up**: the first days of each replication, simulated but not counted.
//! - **call stream**: a CSV of calls (`calls.csv`), written by `generate` or `import` and read
//!   by `replay` and `fit`; see [`stream`].
//!
//! ## Example
//! ```
//! use crisis_sim::{experiment, Scenario};
//!
//! let mut scenario = Scenario::default_scenario();
//! scenario.horizon_days = 30.0; // keep the doc test quick
//! let settings = experiment::RunSettings { replications: 3, seed: 7, threads: None };
//! let results = experiment::run(&scenario, &settings).unwrap();
//! let change = results.difference("care_first", "police_hours_on_eligible_per_year").unwrap();
//! assert!(change.mean < 0.0, "care teams free police hours");
//! ```

pub mod calls;
pub mod engine;
pub mod experiment;
pub mod output;
pub mod policy;
pub mod scenario;
pub mod stats;

pub use scenario::Scenario;
