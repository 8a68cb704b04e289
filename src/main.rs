//! The `crisis-sim` binary: parses arguments and calls the library. Nothing else lives here.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crisis_sim::app::{self, RunOptions};
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
