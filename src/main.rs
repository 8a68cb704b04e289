//! The `crisis-sim` binary: parses arguments and calls the library. Nothing else lives here.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crisis_sim::app::{self, RunOptions, SweepOptions};
use crisis_sim::scenario::DEFAULT_SCENARIO_TOML;

/// Simulate sending eligible 911 crisis calls to unarmed care teams instead of police:
/// response times, police workload, cost and harm, with 95% confidence intervals.
#[derive(Debug, Parser)]
#[command(name = "crisis-sim", version, propagate_version = true)]
struct Cli {
    /// Print nothing but errors (no table, no progress bar).
    #[arg(short, long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

/// What `--log` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum LogKind {
    /// calls.csv: one row per call per policy per logged replication.
    Calls,
    /// units.csv: one row per unit state change.
    Units,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run every policy of a scenario over many replications and compare them.
    #[command(after_help = "Examples:
  crisis-sim run
  crisis-sim run scenarios/default.toml --replications 30 --out out/ --csv
  crisis-sim run --target-ci 0.01                 # as many replications as 1% precision needs
  crisis-sim run city.toml -r 1000 --shard 3/8 --out part-3/   # one job of a cluster array
  crisis-sim run city.toml -r 1000 --resume       # finish an interrupted run
  crisis-sim run --log calls,units --log-replications 0..3   # which unit served each call")]
    Run {
        /// Scenario file (TOML); the built-in default scenario when omitted.
        scenario: Option<PathBuf>,
        /// Replications per policy (overrides the scenario's [run] replications).
        #[arg(short, long)]
        replications: Option<u32>,
        /// Base random seed (overrides the scenario's [run] seed).
        #[arg(long)]
        seed: Option<u64>,
        /// Directory to write results.json (and the checkpoint, while running) into.
        #[arg(short, long, default_value = "out")]
        out: PathBuf,
        /// Worker threads (default: all cores). Results are identical for any count.
        #[arg(long)]
        threads: Option<usize>,
        /// Run only shard I of N (I from 1), e.g. 3/8 for Slurm's SLURM_ARRAY_TASK_ID=3 of --array=1-8.
        #[arg(long, value_name = "I/N", value_parser = app::parse_shard)]
        shard: Option<(u32, u32)>,
        /// Continue an interrupted run from the checkpoint in --out.
        #[arg(long)]
        resume: bool,
        /// Add replications until every key figure's 95% CI half-width is within REL of its mean.
        #[arg(long, value_name = "REL")]
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
        /// Also print utilization and unmet eligible calls by hour of day (always in results.json).
        #[arg(long)]
        hourly: bool,
        /// Replications to log: 3, 0..3 (0 to 2), 0..=3, or 0,5,9 [default: the run's first].
        #[arg(long, value_name = "SET", value_parser = crisis_sim::log::parse_replications, requires = "log")]
        log_replications: Option<std::collections::BTreeSet<u64>>,
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
    Sweep {
        /// Scenario file (TOML); the built-in default scenario when omitted.
        scenario: Option<PathBuf>,
        /// A pool setting to vary (repeat for a grid), e.g. care.count=0..=20.
        #[arg(long = "vary", value_name = "POOL.SETTING=VALUES", required = true)]
        varies: Vec<String>,
        /// Policy to sweep (repeatable; default: every policy but the baseline).
        #[arg(long = "policy", value_name = "LABEL")]
        policies: Vec<String>,
        /// A target every recommended point must meet with 95% confidence (repeatable).
        #[arg(long = "target", value_name = "EXPR")]
        targets: Vec<String>,
        /// Replications per point (overrides the scenario's [run] replications).
        #[arg(short, long)]
        replications: Option<u32>,
        /// Base random seed (overrides the scenario's [run] seed).
        #[arg(long)]
        seed: Option<u64>,
        /// Worker threads (default: all cores). Results are identical for any count.
        #[arg(long)]
        threads: Option<usize>,
        /// Directory to write sweep.json and sweep.csv into.
        #[arg(short, long, default_value = "sweep")]
        out: PathBuf,
        /// Also print the recommended point's utilization and unmet eligible calls by hour.
        #[arg(long)]
        hourly: bool,
    },
    /// Check a scenario and print offered load and expected utilization per pool and policy.
    #[command(after_help = "Example:\n  crisis-sim validate scenarios/default.toml")]
    Validate {
        /// Scenario file (TOML); the built-in default scenario when omitted.
        scenario: Option<PathBuf>,
    },
    /// Print the built-in default scenario, to start your own from.
    #[command(after_help = "Example:\n  crisis-sim default-scenario > my-city.toml")]
    DefaultScenario,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let quiet = cli.quiet;
    let mut stdout = std::io::stdout().lock();
    let result = match cli.command {
        Command::Run {
            scenario,
            replications,
            seed,
            out,
            threads,
            shard,
            resume,
            target_ci,
            max_replications,
            csv,
            log,
            log_replications,
            hourly,
        } => app::run(
            &RunOptions {
                scenario,
                replications,
                seed,
                threads,
                out_dir: out,
                quiet,
                shard,
                resume,
                target_ci,
                max_replications,
                csv,
                log_calls: log.contains(&LogKind::Calls),
                log_units: log.contains(&LogKind::Units),
                log_replications,
                hourly,
            },
            &mut stdout,
        )
        .map(|_| ()),
        Command::Sweep {
            scenario,
            varies,
            policies,
            targets,
            replications,
            seed,
            threads,
            out,
            hourly,
        } => app::sweep(
            &SweepOptions {
                scenario,
                varies,
                policies,
                targets,
                replications,
                seed,
                threads,
                out_dir: out,
                quiet,
                hourly,
            },
            &mut stdout,
        )
        .map(|_| ()),
        Command::Merge { inputs, out, csv } => {
            app::merge(&inputs, &out, csv, quiet, &mut stdout).map(|_| ())
        }
        Command::Validate { scenario } => app::validate(scenario.as_deref(), quiet, &mut stdout),
        Command::DefaultScenario => {
            print!("{DEFAULT_SCENARIO_TOML}");
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::from(app::EXIT_OK),
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}
