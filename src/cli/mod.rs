//! The command line, in the binary and not the library: the grammar ([`args`]), one file per
//! command family, and the errors with their exit codes. Arguments become validated plans
//! before any library call; the library takes settings and never names a flag.
//!
//! | file | commands |
//! |---|---|
//! | [`run`] | `run`, `replay` |
//! | [`sweep`] | `sweep` |
//! | [`streams`] | `generate`, `import`, `fit` |
//! | [`results`] | `merge`, `plot`, `report`, `validate` |

mod args;
mod backtest;
mod common;
mod error;
mod results;
mod run;
mod serve;
mod streams;
mod sweep;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};
use crisis_sim::scenario::DEFAULT_SCENARIO_TOML;
use run::RunPlan;
use streams::{GeneratePlan, ImportPlan};
use sweep::SweepPlan;

/// Parses `args` (the program name first) and checks, without running anything or touching a
/// file, what each command checks before it starts: the flags' values, and a sweep's
/// `--vary` settings against the built-in scenario (its `--target`s need the figures, which
/// only a run has). Returns the error message a user would see. The CLI fuzz target (`fuzz/fuzz_targets/cli.rs`) drives this.
#[cfg_attr(not(fuzzing), allow(dead_code))]
pub fn check_arguments<I, T>(args: I) -> Result<(), String>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = Cli::try_parse_from(args).map_err(|e| e.to_string())?;
    let (quiet, force) = (cli.quiet, cli.force);
    match cli.command {
        Command::Run { scenario, args } | Command::Replay { scenario, args, .. } => {
            let plan = args.plan(scenario, quiet, force);
            if let Some(set) = &plan.log_replications {
                assert!(set.len() <= crisis_sim::output::log::MAX_LOGGED_REPLICATIONS);
            }
        }
        Command::Sweep(plan) if plan.scenario.is_none() => {
            let scenario = crisis_sim::Scenario::default_scenario();
            for text in &plan.varies {
                crisis_sim::experiment::sweep::parse_vary(text, &scenario)
                    .map_err(|e| e.to_string())?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Parses the arguments, runs the command, and turns its error into a message and an exit
/// code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let quiet = cli.quiet;
    let force = cli.force;
    let mut stdout = std::io::stdout().lock();
    let result = match cli.command {
        Command::Run { scenario, args } => {
            run::run(&args.plan(scenario, quiet, force), &mut stdout).map(|_| ())
        }
        Command::Replay {
            calls,
            scenario,
            warmup_days,
            args,
        } => {
            let options = RunPlan {
                stream: Some(calls),
                warmup_days,
                ..args.plan(scenario, quiet, force)
            };
            run::run(&options, &mut stdout).map(|_| ())
        }
        Command::Backtest(plan) => backtest::backtest(
            &args::BacktestPlan {
                quiet,
                force,
                ..plan
            },
            &mut stdout,
        ),
        Command::Generate(plan) => streams::generate(
            &GeneratePlan {
                quiet,
                force,
                ..plan
            },
            &mut stdout,
        ),
        Command::Import(plan) => streams::import(
            &ImportPlan {
                quiet,
                force,
                ..plan
            },
            &mut stdout,
        ),
        Command::Fit {
            calls,
            scenario,
            output,
            from,
            to,
            fleet,
            zones,
        } => streams::fit(
            &calls,
            scenario.as_deref(),
            &output,
            (from, to),
            (force, quiet),
            crisis_sim::calls::fit::FitOptions { fleet, zones },
            &mut stdout,
        ),
        Command::Sweep(plan) => sweep::sweep(
            &SweepPlan {
                quiet,
                force,
                ..plan
            },
            &mut stdout,
        )
        .map(|_| ()),
        Command::Merge { inputs, out, csv } => {
            results::merge(&inputs, &out, csv, force, quiet, &mut stdout)
        }
        Command::Validate { scenario } => {
            results::validate(scenario.as_deref(), quiet, &mut stdout)
        }
        Command::Serve {
            scenario,
            port,
            host,
        } => serve::serve(scenario.as_deref(), host, port, &mut stdout),
        Command::Report {
            results,
            sweep,
            output,
        } => results::report(
            &results,
            sweep.as_deref(),
            &output,
            force,
            quiet,
            &mut stdout,
        ),
        Command::Plot { input, out } => {
            results::plot(&input, out.as_deref(), quiet, &mut stdout).map(|_| ())
        }
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut Cli::command(), "crisis-sim", &mut stdout);
            Ok(())
        }
        Command::DefaultScenario => {
            print!("{DEFAULT_SCENARIO_TOML}");
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::from(error::EXIT_OK),
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}
