//! The command line's grammar (clap): every command, option and help text, and the parsers
//! that check a value before any command runs. Each command's arguments become a validated
//! plan ([`RunPlan`], [`SweepPlan`], ...) here.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use super::run::RunPlan;

/// Simulate sending eligible 911 crisis calls to unarmed care teams instead of police:
/// response times, police workload, cost and harm, with 95% confidence intervals.
#[derive(Debug, Parser)]
#[command(
    name = "crisis-sim",
    version,
    propagate_version = true,
    after_help = "Start: crisis-sim run   (the built-in default city; writes out/results.json)\n\
                  Exit codes: 0 success, 2 bad input (scenario, stream, export, arguments, or \
                  results that --force would replace), 1 internal error (e.g. a write failed)."
)]
pub struct Cli {
    /// Print nothing but errors (no table, no progress bar).
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Replace earlier results or output files (by default a command refuses to).
    #[arg(long, global = true)]
    pub force: bool,
    #[command(subcommand)]
    pub command: Command,
}

/// What `--log` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogKind {
    /// calls.csv: one row per call per policy per logged replication.
    Calls,
    /// units.csv: one row per unit state change.
    Units,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every policy of a scenario over many replications and compare them.
    #[command(after_help = "Examples:
  crisis-sim run
  crisis-sim run scenarios/default.toml --replications 30 --out out/ --csv
  crisis-sim run --target-ci 0.01                 # as many replications as 1% precision needs
  crisis-sim run city.toml -r 1000 --shard 3/8 --out part-3/   # one job of a cluster array
  crisis-sim run city.toml -r 1000 --resume       # finish an interrupted run
  crisis-sim run --log calls,units --log-replications 0..3   # which unit served each call
  crisis-sim run scenarios/variants.toml --policy police_only --policy co_responder --policy phone_diversion")]
    Run {
        /// Scenario file (TOML); the built-in default scenario when omitted.
        scenario: Option<PathBuf>,
        #[command(flatten)]
        args: RunArgs,
    },
    /// Run every policy on a call-stream file: generated, or a city's real calls (import).
    #[command(after_help = "Examples:
  crisis-sim generate --days 30 -o calls.csv && crisis-sim replay calls.csv
  crisis-sim import nola-2023.csv --mapping scenarios/mappings/new-orleans.toml -o nola.csv
  crisis-sim replay nola.csv --scenario nola-fitted.toml -r 30 --warmup-days 2 --out nola-out/

The stream sets the dates and horizon; fleet, costs, on-scene and outcome parameters come from
the scenario. A file of several replications (generate -r N) replays each with its own draws;
a single stream (a city's calls) replays -r times with fresh on-scene times and outcomes.")]
    Replay {
        /// Call-stream CSV (from `generate` or `import`).
        calls: PathBuf,
        /// Scenario file (TOML); the built-in default scenario when omitted.
        #[arg(long)]
        scenario: Option<PathBuf>,
        /// Days at the start of the stream to simulate but not count [default: the scenario's].
        #[arg(long, value_name = "DAYS")]
        warmup_days: Option<f64>,
        #[command(flatten)]
        args: RunArgs,
    },
    /// Replay a dispatch log's own calls through a scenario and compare with what the log says
    /// happened: response, call processing and travel, observed against simulated with its 95%
    /// interval.
    #[command(after_help = "Examples:
  crisis-sim import log.csv --mapping scenarios/mappings/boone-county-ems.toml \\
      --scenario scenarios/boone-county.toml -o boone.csv
  crisis-sim backtest boone.csv --scenario scenarios/boone-county.toml --from 2016-10-01

The stream needs the timestamp chain (a mapping with [dispatched] or [enroute]). --from and
--to choose the days to test, so a scenario fitted on other days is tested out of sample.")]
    Backtest(BacktestPlan),
    /// Write the synthetic call stream a scenario generates (the calls `run` simulates).
    #[command(after_help = "Examples:
  crisis-sim generate --days 30 -o calls.csv
  crisis-sim generate city.toml --days 365 --seed 7 --replications 10 -o streams.csv")]
    Generate(GeneratePlan),
    /// Turn a city's calls-for-service export into a call stream, following a mapping file.
    #[command(after_help = "Examples:
  crisis-sim import calls_2023.csv --mapping scenarios/mappings/new-orleans.toml -o nola.csv
  crisis-sim import seattle.csv --mapping scenarios/mappings/seattle.toml --scenario city.toml --strict

Mappings for New Orleans, Seattle, St. Louis, Los Angeles, Dallas and Cincinnati exports are in
scenarios/mappings/; the README explains the format.")]
    Import(ImportPlan),
    /// Fit a scenario's demand (volume, hour and weekday profiles, call-type mix, on-scene
    /// times) to a call stream.
    #[command(after_help = "Example:
  crisis-sim fit nola.csv --scenario my-city.toml -o nola-fitted.toml

The fitted file is the base scenario (built-in default when --scenario is omitted) with demand,
mix and on-scene times replaced; edit its fleet and costs.")]
    Fit {
        /// Call-stream CSV (usually from `import`).
        calls: PathBuf,
        /// Base scenario to edit [default: built-in].
        #[arg(long)]
        scenario: Option<PathBuf>,
        /// The fitted scenario to write.
        #[arg(short, long, default_value = "fitted.toml")]
        output: PathBuf,
        /// First day to fit on (YYYY-MM-DD) [default: the stream's first].
        #[arg(long, value_parser = date)]
        from: Option<chrono::NaiveDate>,
        /// Day after the last to fit on (YYYY-MM-DD, exclusive): leave the back-test's days out.
        #[arg(long, value_parser = date)]
        to: Option<chrono::NaiveDate>,
        /// Also choose the units on duty in each 6-hour block (the scenario's one pool), with
        /// the engine, to reproduce the log's received-to-dispatch times; written as shifts.
        #[arg(long)]
        fleet: bool,
        /// Replace the scenario's zones with K fitted to the calls' coordinates (k-means; the
        /// stream needs x and y: import with a mapping's [coordinates]), with travel by zone.
        #[arg(long, value_name = "K")]
        zones: Option<usize>,
    },
    /// Combine the results of shards (run --shard I/N) into the whole run's results.
    #[command(after_help = "Example:\n  crisis-sim merge part-*/ --out merged/")]
    Merge {
        /// Shard output directories (or their results.json files).
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// Directory to write the merged results.json into.
        #[arg(short, long, default_value = "merged")]
        out: PathBuf,
        /// Also write replications.csv and summary.csv.
        #[arg(long)]
        csv: bool,
    },
    /// Run a grid of fleet variants and find the cheapest one that meets targets.
    #[command(after_help = "Examples:
  crisis-sim sweep --vary care.count=0..=20 --replications 100 \\
      --target \"eligible.response_p90 <= 20\" --target \"police.utilization <= 0.6\"
  crisis-sim sweep city.toml --vary care.count=4..=16:2 --vary care.shifts=day,16h,24x7 --policy care_first

--vary takes POOL.count=A..=B[:STEP] | A..B | a,b,c, or POOL.shifts=24x7|day|night|16h|H-H[+H-H],...
--target takes FIGURE <= VALUE (or <, >=, >); a point meets it only if the 95% CI bound does.")]
    Sweep(SweepPlan),
    /// Start the what-if explorer: a page in the browser where anyone can change the city's key
    /// numbers (care teams, police units, calls, costs) and watch the answer come in.
    #[command(after_help = "Examples:
  crisis-sim serve                         # the built-in default city; open the address it prints
  crisis-sim serve city.toml --port 9000

It listens on 127.0.0.1 only (this machine). It reads only the scenario given, writes no file,
and runs one simulation at a time; stop it with Ctrl-C.")]
    Serve {
        /// Scenario file (TOML); the built-in default scenario when omitted.
        scenario: Option<PathBuf>,
        /// Port to listen on (0: any free port).
        #[arg(long, default_value_t = 8765)]
        port: u16,
        /// Address to listen on. Any other than 127.0.0.1 or ::1 lets other machines reach
        /// the explorer, which has no login: use it only on a network you trust.
        #[arg(long, default_value = "127.0.0.1")]
        host: std::net::IpAddr,
    },
    /// Check a scenario and print offered load per pool and policy (work sent over hours on duty).
    #[command(after_help = "Example:\n  crisis-sim validate scenarios/default.toml")]
    Validate {
        /// Scenario file (TOML); the built-in default scenario when omitted.
        scenario: Option<PathBuf>,
    },
    /// Redraw the charts of a saved results.json or sweep.json (no simulation).
    #[command(after_help = "Examples:
  crisis-sim plot out/results.json
  crisis-sim plot sweep/sweep.json --out charts/")]
    Plot {
        /// A results.json or sweep.json file (or the directory holding it).
        input: PathBuf,
        /// Directory to write the PNG and SVG charts into [default: beside the input].
        #[arg(short, long)]
        out: Option<PathBuf>,
    },
    /// Write one self-contained HTML report (findings, table, charts, scenario, method).
    #[command(after_help = "Examples:
  crisis-sim report out/results.json -o report.html
  crisis-sim report out/results.json sweep/sweep.json -o report.html

The page has no scripts and fetches nothing; open it in a browser and print it to PDF.")]
    Report {
        /// results.json (or its directory).
        results: PathBuf,
        /// A sweep.json (or its directory) to add the sweep's chart and answer.
        sweep: Option<PathBuf>,
        /// The HTML file to write.
        #[arg(short, long, default_value = "report.html")]
        output: PathBuf,
    },
    /// Print a shell completion script for crisis-sim.
    #[command(after_help = "Examples:
  crisis-sim completions bash > ~/.local/share/bash-completion/completions/crisis-sim
  crisis-sim completions zsh > ~/.zfunc/_crisis-sim      # with fpath+=(~/.zfunc) in .zshrc
  crisis-sim completions fish > ~/.config/fish/completions/crisis-sim.fish")]
    Completions {
        /// The shell: bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the built-in default scenario, to start your own from.
    #[command(after_help = "Example:\n  crisis-sim default-scenario > my-city.toml")]
    DefaultScenario,
}

/// `crisis-sim generate`: the arguments, checked as they are parsed, are the plan.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct GeneratePlan {
    /// Scenario file (TOML); the built-in default scenario when omitted.
    pub scenario: Option<PathBuf>,
    /// Days of calls [default: the scenario's horizon_days].
    #[arg(long)]
    pub days: Option<f64>,
    /// Base random seed (overrides the scenario's [run] seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Replications to write, one block each (column `replication`).
    #[arg(short, long, default_value_t = 1, value_parser = replications::<u64>)]
    pub replications: u64,
    /// The call-stream CSV to write.
    #[arg(short, long, default_value = "calls.csv")]
    pub output: PathBuf,
    /// Also simulate the calls (the scenario's first policy) and write the timestamp chain a
    /// dispatch log would have (dispatched, en route, arrived, cleared): a synthetic log with
    /// known parameters for `fit` and `backtest`. One replication.
    #[arg(long, conflicts_with = "replications")]
    pub chain: bool,
    /// Print nothing but errors (set from the global `--quiet`).
    #[arg(skip)]
    pub quiet: bool,
    /// Replace earlier output (set from the global `--force`).
    #[arg(skip)]
    pub force: bool,
}

/// `crisis-sim import`: the arguments are the plan.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct ImportPlan {
    /// The city's CSV export.
    pub raw: PathBuf,
    /// Mapping file (TOML): columns, time formats, and call-type rules.
    #[arg(short, long)]
    pub mapping: PathBuf,
    /// Scenario whose call types and zones the mapping names [default: built-in].
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// The call-stream CSV to write.
    #[arg(short, long, default_value = "calls.csv")]
    pub output: PathBuf,
    /// Refuse the import (write nothing) if any row cannot be imported.
    #[arg(long)]
    pub strict: bool,
    /// Print nothing but errors (set from the global `--quiet`).
    #[arg(skip)]
    pub quiet: bool,
    /// Replace earlier output (set from the global `--force`).
    #[arg(skip)]
    pub force: bool,
}

/// `crisis-sim sweep`: the arguments are the plan (`--vary` and `--target` texts are parsed
/// against the scenario once it is loaded).
#[derive(Clone, Debug, Default, clap::Args)]
pub struct SweepPlan {
    /// Scenario file (TOML); the built-in default scenario when omitted.
    pub scenario: Option<PathBuf>,
    /// A setting to vary (repeat for a grid), e.g. care.count=0..=20 or
    /// facility.crisis_center.beds=8,16,32.
    #[arg(long = "vary", value_name = "POOL.SETTING=VALUES", required = true)]
    pub varies: Vec<String>,
    /// Policy to sweep (repeatable; default: every policy but the baseline).
    #[arg(long = "policy", value_name = "LABEL")]
    pub policies: Vec<String>,
    /// A target every recommended point must meet with 95% confidence (repeatable).
    #[arg(long = "target", value_name = "EXPR")]
    pub targets: Vec<String>,
    /// Replications per point (overrides the scenario's [run] replications).
    #[arg(short, long, value_parser = replications::<u32>)]
    pub replications: Option<u32>,
    /// Base random seed (overrides the scenario's [run] seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores). Results are identical for any count.
    #[arg(long, value_parser = threads)]
    pub threads: Option<usize>,
    /// Directory to write sweep.json and sweep.csv into.
    #[arg(short, long = "out", value_name = "OUT", default_value = "sweep")]
    pub out_dir: PathBuf,
    /// Also print the recommended point's utilization and unmet eligible calls by hour.
    #[arg(long)]
    pub hourly: bool,
    /// Finish an interrupted sweep from its checkpoint in --out (the same command again,
    /// with --resume).
    #[arg(long)]
    pub resume: bool,
    /// Run only shard I of N of the grid's replication runs (I from 1; e.g. Slurm's
    /// SLURM_ARRAY_TASK_ID of --array=1-N), into --out; `crisis-sim merge` of every shard's
    /// --out finishes the sweep, byte for byte as one machine would.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<(u32, u32)>,
    /// Print nothing but errors (set from the global `--quiet`).
    #[arg(skip)]
    pub quiet: bool,
    /// Replace earlier output (set from the global `--force`).
    #[arg(skip)]
    pub force: bool,
}

/// `crisis-sim backtest`.
#[derive(Debug, Clone, clap::Args)]
pub struct BacktestPlan {
    /// Call stream imported from the log, with its timestamp chain.
    pub calls: PathBuf,
    /// The scenario to test (its fleet, travel, on-scene times, dispatch delay).
    #[arg(long)]
    pub scenario: PathBuf,
    /// First day to test (YYYY-MM-DD) [default: the stream's first].
    #[arg(long, value_parser = date)]
    pub from: Option<chrono::NaiveDate>,
    /// Day after the last to test (YYYY-MM-DD, exclusive) [default: past the stream's last].
    #[arg(long, value_parser = date)]
    pub to: Option<chrono::NaiveDate>,
    /// Replications (fresh draws of everything the log does not fix).
    #[arg(short, long, value_parser = replications::<u32>)]
    pub replications: Option<u32>,
    /// Base random seed (overrides the scenario's [run] seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores).
    #[arg(long, value_parser = threads)]
    pub threads: Option<usize>,
    /// Directory for backtest.json, the replay's results.json and charts.
    #[arg(short, long = "out", value_name = "OUT", default_value = "backtest")]
    pub out_dir: PathBuf,
    /// Print nothing but errors (set from the global `--quiet`).
    #[arg(skip)]
    pub quiet: bool,
    /// Replace earlier output (set from the global `--force`).
    #[arg(skip)]
    pub force: bool,
}

/// `YYYY-MM-DD`.
fn date(text: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("expected a date like 2016-10-01, found `{text}`"))
}

/// Options shared by `run` and `replay`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// A policy to compare, by its label in the scenario or a rule name (repeat; the first is
    /// the baseline) [default: every policy of the scenario].
    #[arg(long = "policy", value_name = "NAME")]
    policies: Vec<String>,
    /// Replications per policy (overrides the scenario's [run] replications).
    #[arg(short, long, value_parser = replications::<u32>)]
    replications: Option<u32>,
    /// Base random seed (overrides the scenario's [run] seed).
    #[arg(long)]
    seed: Option<u64>,
    /// Directory to write results.json (and the checkpoint, while running) into.
    #[arg(short, long, default_value = "out")]
    out: PathBuf,
    /// Worker threads (default: all cores). Results are identical for any count.
    #[arg(long, value_parser = threads)]
    threads: Option<usize>,
    /// Run only shard I of N (I from 1), e.g. 3/8 for Slurm's SLURM_ARRAY_TASK_ID=3 of --array=1-8.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    shard: Option<(u32, u32)>,
    /// Continue an interrupted run from the checkpoint in --out.
    #[arg(long)]
    resume: bool,
    /// Add replications until every key figure's 95% CI half-width is within REL of its mean.
    #[arg(long, value_name = "REL", value_parser = relative_half_width, conflicts_with = "shard")]
    target_ci: Option<f64>,
    /// Upper bound on replications with --target-ci.
    #[arg(long, value_name = "N", requires = "target_ci")]
    max_replications: Option<u32>,
    /// Also write replications.csv and summary.csv.
    #[arg(long)]
    csv: bool,
    /// Write per-call (calls.csv) and/or per-unit (units.csv) logs into --out.
    #[arg(long, value_enum, value_delimiter = ',', value_name = "calls,units")]
    log: Vec<LogKind>,
    /// Also measure and print utilization, queue length and unmet eligible calls by hour of day
    /// (added to results.json and the CSVs as detail figures).
    #[arg(long)]
    hourly: bool,
    /// Replications to log: 3, 0..3 (0 to 2), 0..=3, or 0,5,9 [default: the run's first].
    #[arg(long, value_name = "SET", value_parser = crisis_sim::output::log::parse_replications, requires = "log")]
    log_replications: Option<std::collections::BTreeSet<u64>>,
}

impl RunArgs {
    /// The plan of a run (of the scenario's calls; `replay` sets the stream).
    pub fn plan(self, scenario: Option<PathBuf>, quiet: bool, force: bool) -> RunPlan {
        RunPlan {
            scenario,
            replications: self.replications,
            seed: self.seed,
            threads: self.threads,
            out_dir: self.out,
            quiet,
            shard: self.shard,
            resume: self.resume,
            target_ci: self.target_ci,
            max_replications: self.max_replications,
            csv: self.csv,
            log_calls: self.log.contains(&LogKind::Calls),
            log_units: self.log.contains(&LogKind::Units),
            log_replications: self.log_replications,
            hourly: self.hourly,
            stream: None,
            warmup_days: None,
            policies: self.policies,
            force,
        }
    }
}

/// The most replications a command may ask for: the same ceiling as a scenario's `[run]`.
pub const MAX_REPLICATIONS: u64 = crisis_sim::scenario::MAX_REPLICATIONS as u64;
/// The most worker threads a command may ask for.
pub const MAX_THREADS: u64 = 1024;

/// A count from 1 to `max`.
fn count_up_to<T: std::str::FromStr + TryFrom<u64>>(text: &str, max: u64) -> Result<T, String> {
    match text.trim().parse::<u64>() {
        Ok(0) => Err("must be at least 1".to_string()),
        Ok(value) if value > max => Err(format!("must be at most {max}, found {value}")),
        Ok(value) => T::try_from(value).map_err(|_| format!("must be at most {max}")),
        Err(_) => Err(format!("expected a whole number >= 1, found `{text}`")),
    }
}

/// `--replications`: 1 to [`MAX_REPLICATIONS`].
fn replications<T: std::str::FromStr + TryFrom<u64>>(text: &str) -> Result<T, String> {
    count_up_to(text, MAX_REPLICATIONS)
}

/// `--threads`: 1 to [`MAX_THREADS`].
fn threads(text: &str) -> Result<usize, String> {
    count_up_to(text, MAX_THREADS)
}

/// `--target-ci`: a relative half-width in (0, 1).
fn relative_half_width(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(value) if value > 0.0 && value < 1.0 => Ok(value),
        _ => Err(format!(
            "expected a relative half-width in (0, 1), e.g. 0.02 for ±2%, found `{text}`"
        )),
    }
}

/// Parses `--shard I/N`.
pub fn parse_shard(text: &str) -> Result<(u32, u32), String> {
    let parsed = text
        .split_once('/')
        .and_then(|(i, n)| Some((i.trim().parse().ok()?, n.trim().parse().ok()?)));
    match parsed {
        Some((index, count)) if index >= 1 && index <= count => Ok((index, count)),
        _ => Err(format!(
            "expected I/N with 1 <= I <= N (e.g. 3/8, as in a Slurm --array=1-8 job), found `{text}`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_arguments() {
        assert_eq!(parse_shard("3/8"), Ok((3, 8)));
        assert_eq!(parse_shard("1/1"), Ok((1, 1)));
        for bad in ["0/8", "9/8", "3", "a/b", "3/", "-1/2"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn counts_and_targets_are_checked_before_any_command_runs() {
        assert_eq!(replications::<u32>("3"), Ok(3));
        assert!(replications::<u32>("0").unwrap_err().contains("at least 1"));
        assert!(
            replications::<u32>("1000000000")
                .unwrap_err()
                .contains("at most 100000")
        );
        assert!(threads("-2").is_err());
        assert!(
            threads("18446744073709551615")
                .unwrap_err()
                .contains("at most 1024")
        );
        assert_eq!(threads("2"), Ok(2));
        assert_eq!(relative_half_width("0.02"), Ok(0.02));
        for bad in ["0", "1", "-0.1", "nan", "x"] {
            assert!(relative_half_width(bad).is_err(), "{bad}");
        }
        let err =
            Cli::try_parse_from(["crisis-sim", "run", "--target-ci", "0.1", "--shard", "1/2"])
                .unwrap_err();
        assert!(err.to_string().contains("--shard"), "{err}");
    }
}
