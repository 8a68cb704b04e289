//! What can go wrong in a command, and the exit code each gets. Library errors say what was
//! wrong in the domain's terms; here the ones that came from a flag get the flag's name.

use std::path::PathBuf;

use crisis_sim::calls::stream::StreamError;
use crisis_sim::experiment::ExperimentError;
use crisis_sim::experiment::batch::BatchError;
use crisis_sim::experiment::checkpoint::CheckpointError;
use crisis_sim::experiment::merge::MergeError;
use crisis_sim::experiment::sweep::SweepError;
use crisis_sim::output;
use crisis_sim::scenario::ScenarioError;

use super::sweep::SWEEP_CHECKPOINT_FILE;

/// Exit code for success.
pub const EXIT_OK: u8 = 0;
/// Exit code for an internal error (including failing to write outputs).
pub const EXIT_INTERNAL: u8 = 1;
/// Exit code for bad input (scenario file, arguments, results to merge).
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit code of a sweep whose targets no grid point meets (its outputs written, or, when the
/// grid's ends already showed it, none run beyond them).
pub const EXIT_TARGETS_UNMET: u8 = 3;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error(transparent)]
    Settings(#[from] ExperimentError),
    #[error("{0}")]
    Batch(BatchError),
    #[error(transparent)]
    Merge(#[from] MergeError),
    #[error(transparent)]
    Stream(#[from] StreamError),
    #[error(transparent)]
    Chart(#[from] output::ChartError),
    #[error(transparent)]
    Import(#[from] crisis_sim::calls::import::ImportError),
    #[error(transparent)]
    Fit(#[from] crisis_sim::calls::fit::FitError),
    #[error(transparent)]
    OutputDir(#[from] output::OutputDirError),
    #[error("{0}")]
    BadInput(String),
    /// A sweep ran (or probed its ends) and no point meets every target.
    #[error("{0}")]
    TargetsUnmet(String),
    #[error(
        "{} already holds {what}; pass --force to replace it, or choose another output",
        path.display()
    )]
    WouldOverwrite { path: PathBuf, what: &'static str },
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
            Self::Settings(ExperimentError::Threads { .. }) => EXIT_INTERNAL,
            Self::Scenario(_)
            | Self::Settings(_)
            | Self::Merge(_)
            | Self::Stream(_)
            | Self::Import(_)
            | Self::Fit(_)
            | Self::BadInput(_)
            | Self::WouldOverwrite { .. } => EXIT_BAD_INPUT,
            // The disk or the machine failed us, not the user's input.
            Self::Batch(
                BatchError::Checkpoint(CheckpointError::Io { .. })
                | BatchError::Log { .. }
                | BatchError::Experiment(ExperimentError::Threads { .. }),
            ) => EXIT_INTERNAL,
            Self::Batch(_) => EXIT_BAD_INPUT,
            Self::OutputDir(output::OutputDirError::Io { .. }) => EXIT_INTERNAL,
            // Another writer holds it, or it is a file: the command as given cannot proceed.
            Self::OutputDir(_) => EXIT_BAD_INPUT,
            Self::Write { .. } | Self::Chart(_) => EXIT_INTERNAL,
            Self::TargetsUnmet(_) => EXIT_TARGETS_UNMET,
        }
    }
}

impl AppError {
    /// An error about a file written into `out`'s staging directory names the file it was to
    /// become: that is the file the user knows of.
    pub fn in_output_dir(self, out: &output::OutputDir) -> Self {
        match self {
            Self::Write { path, source } => Self::Write {
                path: out.final_path(&path),
                source,
            },
            Self::Chart(output::ChartError::Write { path, source }) => {
                Self::Chart(output::ChartError::Write {
                    path: out.final_path(&path),
                    source,
                })
            }
            Self::Batch(BatchError::Log { source, .. }) => Self::Batch(BatchError::Log {
                dir: out.dir().to_path_buf(),
                source,
            }),
            other => other,
        }
    }
}

/// Errors about a flag's value name the flag.
impl From<BatchError> for AppError {
    fn from(err: BatchError) -> Self {
        match err {
            BatchError::BadShard {
                index,
                count,
                replications,
            } => Self::BadInput(format!(
                "--shard {index}/{count}: expected I/N with 1 <= I <= N and N <= the replications ({replications})"
            )),
            BatchError::BadTarget(_) => Self::BadInput(format!("--target-ci: {err}")),
            BatchError::TargetWithShard => {
                Self::BadInput(format!("--target-ci with --shard: {err}"))
            }
            BatchError::Checkpoint(
                CheckpointError::Mismatch { .. } | CheckpointError::Damaged { .. },
            ) => Self::BadInput(format!(
                "{err}; run without --resume (and with --force) to start afresh"
            )),
            other => Self::Batch(other),
        }
    }
}

impl From<SweepError> for AppError {
    fn from(err: SweepError) -> Self {
        match err {
            SweepError::BadVary { .. } => Self::BadInput(format!("--vary {err}")),
            SweepError::BadTarget { .. } => Self::BadInput(format!("--target {err}")),
            SweepError::UnknownPolicy { .. } => Self::BadInput(format!("--policy {err}")),
            SweepError::TooManyPoints { .. } => Self::BadInput(format!("--vary: {err}")),
            SweepError::OutOfReach { .. } => Self::TargetsUnmet(err.to_string()),
            SweepError::Checkpoint(CheckpointError::Io { .. }) => Self::Write {
                path: std::path::PathBuf::from(SWEEP_CHECKPOINT_FILE),
                source: std::io::Error::other(err.to_string()),
            },
            SweepError::Checkpoint(_) => Self::BadInput(format!(
                "{err}; run without --resume (and with --force) to start afresh"
            )),
            SweepError::Experiment(err) => Self::Settings(err),
        }
    }
}
