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
//! ## The data flow, and the module for each step
//!
//! ```text
//!  scenario/          TOML ──► Scenario (checked; errors with file:line:column)
//!      │
//!      ▼
//!  calls/             Call stream: generated (CallGenerator), or a file (stream), imported
//!      │              from a city's export (import), or used to fit a scenario (fit);
//!      │              per-call keys for common random numbers (rng)
//!      ▼
//!  engine/            core: clock, (time, sequence) queue, loop (knows no 911)
//!      │  ◄── policy/  dispatch: the 911 model in components (fleet, queues, routing,
//!      │               service times, outcomes, accounting); the policy answers "who goes?"
//!      ▼
//!  engine::record     one CallRecord per call, FleetTotals per replication (Observer)
//!      │
//!      ▼
//!  stats/             figures per replication in fixed memory (keys in stats::figures);
//!      │              Estimate: mean, 95% CI (Student t), paired differences; load:
//!      │              offered load per pool, before any simulation
//!      ▼
//!  experiment/        replications x policies in parallel (rayon), in order; batch: shards,
//!      │              checkpoint, resume, precision target; sweep: grids; merge
//!      ▼
//!  output/            tables, results.json / sweep.json (typed documents), CSV, logs,
//!      │              charts (PNG/SVG), report.html; atomic writes
//!      ▼
//!  explorer/          the what-if page (`crisis-sim serve`): a form read from the scenario
//!                     file, runs in the background, the results' view, the report's charts
//! ```
//!
//! The command line lives in the binary (`src/cli/`), not here: this library takes settings
//! and returns results and errors in the domain's terms.
//!
//! ## The API an embedding program needs
//! - [`Scenario`] (`scenario`): load, check, adjust.
//! - [`experiment::run`] for a whole comparison, [`experiment::run_replication`] for one, or
//!   [`engine::simulate`] / [`engine::Simulation`] with your own [`engine::Observer`] for every
//!   call's [`engine::CallRecord`].
//! - [`experiment::batch::run_batch`] and [`experiment::sweep::run_sweep`] for sharded,
//!   resumable batches and sweeps.
//! - [`policy::Policy`] (and [`policy::UnitChooser`], which sees a [`policy::FleetQuery`]) to
//!   add a routing rule.
//! - [`output`] to write what the command line writes.
//! - [`explorer::Explorer`] to serve the what-if page on a scenario.
//!
//! ## Glossary
//! - **call**: one 911 call for service: when it came, its type, its zone.
//! - **call type**: a kind of call (e.g. `welfare_check`) with a share of demand, a priority
//!   (1 = most urgent), whether a care team may take it, on-scene times and outcome
//!   probabilities per responder kind.
//! - **responder kind**: `police`, `care` (an unarmed team, e.g. a medic and a crisis worker),
//!   `clinician` (goes with police), `counsellor` (crisis line, by phone).
//! - **unit**: one police car or care van; **pool**: units of one kind with the same base,
//!   shifts and cost.
//! - **policy**: the rule that decides who goes to a call (`police_only`, `care_first`, ...).
//! - **replication**: one independent run of the whole horizon; replication *r* of every
//!   policy replays the same calls with the same per-call random draws.
//! - **figure**: a number a replication yields (e.g. `eligible.response_p90`); across
//!   replications it becomes an [`stats::Estimate`].
//! - **warm-up**: the first days of each replication, simulated but not counted.
//! - **call stream**: a CSV of calls (`calls.csv`), written by `generate` or `import` and read
//!   by `replay` and `fit`; see [`calls::stream`].
//!
//! ## Example
//! ```
//! use crisis_sim::stats::figures;
//! use crisis_sim::{experiment, Scenario};
//!
//! let mut scenario = Scenario::default_scenario();
//! scenario.horizon_days = 30.0; // keep the doc test quick
//! let settings = experiment::RunSettings { replications: 3, seed: 7, threads: None };
//! let results = experiment::run(&scenario, &settings).unwrap();
//! let change = results.difference("care_first", figures::POLICE_HOURS_ON_ELIGIBLE).unwrap();
//! assert!(change.mean < 0.0, "care teams free police hours");
//! ```

pub mod calls;
pub mod engine;
pub mod experiment;
pub mod explorer;
pub mod output;
pub mod policy;
pub mod scenario;
pub mod stats;

pub use scenario::Scenario;
