//! What the commands share: loading a scenario, refusing to replace finished work, atomic
//! writes of results, the progress bar, and sizes and durations in words.

use std::path::{Path, PathBuf};

use crisis_sim::experiment::Results;
use crisis_sim::experiment::batch::Progress;
use crisis_sim::output::{self, RESULTS_FILE};
use crisis_sim::scenario::{Scenario, ScenarioError};

use super::error::AppError;

/// Refuses to replace an earlier run's output unless `force`: finished work is never lost to a
/// repeated command.
pub fn refuse_overwrite(path: &Path, what: &'static str, force: bool) -> Result<(), AppError> {
    // A device, a FIFO or a directory is not replaced even with --force (before any work).
    if let Ok(meta) = std::fs::metadata(path)
        && !meta.is_file()
    {
        return Err(AppError::BadInput(format!(
            "{} exists and is not a regular file; crisis-sim writes only regular files, so choose another output",
            path.display()
        )));
    }
    if !force && path.exists() {
        return Err(AppError::WouldOverwrite {
            path: path.to_path_buf(),
            what,
        });
    }
    Ok(())
}

/// Loads the scenario at `path`, or the built-in default.
pub fn load_scenario(path: Option<&Path>) -> Result<Scenario, ScenarioError> {
    match path {
        Some(path) => Scenario::from_file(path),
        None => Ok(Scenario::default_scenario()),
    }
}

/// A progress bar on the terminal (hidden when stderr is not one, or with `--quiet`).
/// Progress of a batch: a bar on a terminal; off a terminal (a batch job's log, a pipe), a
/// plain line every tenth of the work or every 30 seconds, so a long run is never silent.
pub struct Bar {
    bar: indicatif::ProgressBar,
    /// Set when stderr is not a terminal (and not quiet).
    plain: Option<PlainProgress>,
}

/// The state of the plain progress lines.
struct PlainProgress {
    started: std::time::Instant,
    /// (jobs done when the last line was printed, when).
    last: std::sync::Mutex<(u64, std::time::Instant)>,
}

impl Bar {
    pub fn new(quiet: bool) -> Self {
        if quiet {
            return Self {
                bar: indicatif::ProgressBar::hidden(),
                plain: None,
            };
        }
        let style = indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:30}] {pos}/{len} replication runs, {per_sec}, ETA {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> ");
        let bar = indicatif::ProgressBar::new(0).with_style(style);
        let plain = bar.is_hidden().then(|| {
            let now = std::time::Instant::now();
            PlainProgress {
                started: now,
                last: std::sync::Mutex::new((0, now)),
            }
        });
        Self { bar, plain }
    }

    /// Removes the bar (a terminal's) once the batch is done.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// `1 min 05 s`, `42 s`.
fn duration_words(seconds: f64) -> String {
    let seconds = seconds.max(0.0).round() as u64;
    if seconds >= 60 {
        format!("{} min {:02} s", seconds / 60, seconds % 60)
    } else {
        format!("{seconds} s")
    }
}

impl Progress for Bar {
    fn set(&self, total: u64, done: u64) {
        self.bar.set_length(total);
        self.bar.set_position(done);
    }

    fn advance(&self) {
        self.bar.inc(1);
        let Some(plain) = &self.plain else { return };
        let (done, total) = (self.bar.position(), self.bar.length().unwrap_or(0));
        let Ok(mut last) = plain.last.lock() else {
            return;
        };
        let step = (total / 10).max(1);
        let due = done >= last.0 + step || last.1.elapsed().as_secs() >= 30 || done == total;
        // A batch of a few seconds needs no progress lines.
        if !due || done == last.0 || plain.started.elapsed().as_secs() < 5 {
            return;
        }
        *last = (done, std::time::Instant::now());
        let elapsed = plain.started.elapsed().as_secs_f64();
        let left = elapsed / done as f64 * total.saturating_sub(done) as f64;
        eprintln!(
            "{done}/{total} replication runs done, {} elapsed, about {} left",
            duration_words(elapsed),
            duration_words(left)
        );
    }

    fn warn(&self, message: &str) {
        // Above the bar, which goes on drawing below it.
        self.bar.suspend(|| eprintln!("Warning: {message}"));
    }
}

pub fn write_file(path: PathBuf, bytes: &[u8]) -> Result<PathBuf, AppError> {
    output::write_atomic(&path, bytes).map_err(|source| AppError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// Writes results.json (and the CSV files), returning the paths written.
pub fn write_results(
    results: &Results,
    out_dir: &Path,
    csv: bool,
) -> Result<Vec<PathBuf>, AppError> {
    let mut written = vec![write_file(
        out_dir.join(RESULTS_FILE),
        output::results_json(results).as_bytes(),
    )?];
    if csv {
        let csv_error = |path: PathBuf| {
            move |e: csv::Error| AppError::Write {
                path,
                source: std::io::Error::other(e),
            }
        };
        let path = out_dir.join(output::REPLICATIONS_CSV);
        let bytes = output::replications_csv(results).map_err(csv_error(path.clone()))?;
        written.push(write_file(path, &bytes)?);
        let path = out_dir.join(output::SUMMARY_CSV);
        let bytes = output::summary_csv(results).map_err(csv_error(path.clone()))?;
        written.push(write_file(path, &bytes)?);
    }
    Ok(written)
}

/// `3 min`-style durations.
pub fn human_duration(seconds: f64) -> String {
    if seconds < 90.0 {
        format!("{seconds:.0} s")
    } else if seconds < 90.0 * 60.0 {
        format!("{:.0} min", seconds / 60.0)
    } else {
        format!("{:.1} h", seconds / 3600.0)
    }
}

/// `1.5 MB`-style sizes.
pub fn human_bytes(bytes: u64) -> String {
    let units = ["bytes", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < units.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_a_person_would_say_them() {
        assert_eq!(human_bytes(512), "512 bytes");
        assert_eq!(human_bytes(12_345_678), "12.3 MB");
        assert_eq!(human_duration(45.0), "45 s");
        assert_eq!(human_duration(7200.0), "2.0 h");
    }
}
