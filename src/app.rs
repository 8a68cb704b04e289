//! The commands behind the binary, as library calls: load the scenario, run, print, write.
//! `main.rs` only turns arguments into these options and an [`AppError`] into an exit code.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::experiment::{self, ExperimentError, Results, RunSettings};
use crate::output::{self, RESULTS_FILE};
use crate::scenario::{Scenario, ScenarioError};
use crate::validate;

/// Exit code for success.
pub const EXIT_OK: u8 = 0;
/// Exit code for an internal error (including failing to write outputs).
pub const EXIT_INTERNAL: u8 = 1;
/// Exit code for bad input (scenario file, arguments).
pub const EXIT_BAD_INPUT: u8 = 2;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error(transparent)]
    Settings(#[from] ExperimentError),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl AppError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Scenario(_) | Self::Settings(_) => EXIT_BAD_INPUT,
            Self::Write { .. } => EXIT_INTERNAL,
        }
    }
}

/// Loads the scenario at `path`, or the built-in default.
pub fn load_scenario(path: Option<&Path>) -> Result<Scenario, ScenarioError> {
    match path {
        Some(path) => Scenario::from_file(path),
        None => Ok(Scenario::default_scenario()),
    }
}

/// Options of `crisis-sim run`.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    pub scenario: Option<PathBuf>,
    pub replications: Option<u32>,
    pub seed: Option<u64>,
    pub threads: Option<usize>,
    pub out_dir: PathBuf,
    pub quiet: bool,
}

/// `crisis-sim run`: simulate, print the comparison table to `stdout`, write `results.json`.
pub fn run(options: &RunOptions, stdout: &mut dyn Write) -> Result<Results, AppError> {
    let scenario = load_scenario(options.scenario.as_deref())?;
    let mut settings = RunSettings::from_scenario(&scenario);
    if let Some(replications) = options.replications {
        settings.replications = replications;
    }
    if let Some(seed) = options.seed {
        settings.seed = seed;
    }
    settings.threads = options.threads;
    let results = experiment::run(&scenario, &settings)?;
    let path = options.out_dir.join(RESULTS_FILE);
    output::write_atomic(&path, output::results_json(&results).as_bytes()).map_err(|source| {
        AppError::Write {
            path: path.clone(),
            source,
        }
    })?;
    if !options.quiet {
        // A closed pipe (e.g. `| head`) is not an error worth failing the run for.
        let _ = write!(stdout, "{}", output::comparison_table(&results));
        let _ = writeln!(stdout, "\nWrote {}", path.display());
    }
    Ok(results)
}

/// `crisis-sim validate`: check a scenario and print what it implies.
pub fn validate(path: Option<&Path>, stdout: &mut dyn Write) -> Result<(), AppError> {
    let scenario = load_scenario(path)?;
    let report = validate::analyse(&scenario);
    let _ = write!(stdout, "{}", validate::render(&scenario, &report));
    Ok(())
}
