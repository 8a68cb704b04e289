//! The `crisis-sim` binary: parses arguments and calls the library. Nothing else lives here.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crisis_sim::app::{self, RunOptions};
use crisis_sim::scenario::DEFAULT_SCENARIO_TOML;

/// Simulate sending eligible 911 crisis calls to unarmed care teams instead of police:
/// response times, police workload, cost and harm, with 95% confidence intervals.
#[derive(Debug, Parser)]
#[command(name = "crisis-sim", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run every policy of a scenario over many replications and compare them.
    #[command(
        after_help = "Examples:\n  crisis-sim run\n  crisis-sim run scenarios/default.toml --replications 30 --out out/"
    )]
    Run {
        /// Scenario file (TOML); the built-in default scenario when omitted.
        scenario: Option<PathBuf>,
        /// Replications per policy (overrides the scenario's [run] replications).
        #[arg(short, long)]
        replications: Option<u32>,
        /// Base random seed (overrides the scenario's [run] seed).
        #[arg(long)]
        seed: Option<u64>,
        /// Directory to write results.json into.
        #[arg(short, long, default_value = "out")]
        out: PathBuf,
        /// Worker threads (default: all cores). Results are identical for any count.
        #[arg(long)]
        threads: Option<usize>,
        /// Print nothing; only write the results file.
        #[arg(short, long)]
        quiet: bool,
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
    let mut stdout = std::io::stdout().lock();
    let result = match cli.command {
        Command::Run {
            scenario,
            replications,
            seed,
            out,
            threads,
            quiet,
        } => app::run(
            &RunOptions {
                scenario,
                replications,
                seed,
                threads,
                out_dir: out,
                quiet,
            },
            &mut stdout,
        )
        .map(|_| ()),
        Command::Validate { scenario } => app::validate(scenario.as_deref(), &mut stdout),
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
