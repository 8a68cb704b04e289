//! An output directory held by one writer at a time. A command that writes a set of files
//! (`run`, `replay`, `merge`, `sweep`, `plot`) locks the directory, writes the new set into a
//! private staging directory inside it, and only when every file is written moves them into
//! place: a run that fails leaves the earlier set exactly as it was, and a second writer is
//! refused instead of mixing its files (or its checkpoint lines) with the first one's.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};

/// The lock file, held (advisory `flock`-style lock) for as long as a command writes the
/// directory. It stays behind after the command; it only says who held it last.
pub const LOCK_FILE: &str = ".crisis-sim.lock";
/// The files of the last set written, one name per line, so that the next set replaces it whole.
pub const MANIFEST_FILE: &str = ".crisis-sim.manifest";
/// Prefix of the staging directories; a killed run leaves one, and the next writer removes it.
const STAGING_PREFIX: &str = ".crisis-sim-staging-";

/// Why an output directory cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputDirError {
    #[error(
        "{} is in use by another crisis-sim ({holder}); wait for it to finish, or choose another output directory",
        dir.display()
    )]
    Busy { dir: PathBuf, holder: String },
    #[error("{} is not a directory", dir.display())]
    NotADirectory { dir: PathBuf },
    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// How a committed set treats the files of the set before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replace {
    /// The new set replaces the old one whole: old files it does not rewrite are removed.
    WholeSet,
    /// The new files are added to (or replace files of) the old set; nothing else is removed.
    Files,
}

/// A locked output directory and the staging directory its new files are written into.
#[derive(Debug)]
pub struct OutputDir {
    dir: PathBuf,
    staging: tempfile::TempDir,
    // Held for the life of this value: dropping it releases the lock.
    lock: File,
}

impl OutputDir {
    /// Creates `dir` if needed, takes its lock (or reports who holds it), removes what killed
    /// runs left behind, and makes a fresh staging directory. `command` names the holder for a
    /// second writer's error message.
    pub fn lock(dir: &Path, command: &str) -> Result<Self, OutputDirError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| OutputDirError::Io { path, source }
        };
        if dir.exists() && !dir.is_dir() {
            return Err(OutputDirError::NotADirectory {
                dir: dir.to_path_buf(),
            });
        }
        fs::create_dir_all(dir).map_err(io(dir))?;
        let lock_path = dir.join(LOCK_FILE);
        let mut lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(io(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = lock.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(OutputDirError::Busy {
                    dir: dir.to_path_buf(),
                    holder: if holder.is_empty() {
                        "it is starting".to_string()
                    } else {
                        holder.to_string()
                    },
                });
            }
            Err(TryLockError::Error(source)) => {
                return Err(OutputDirError::Io {
                    path: lock_path,
                    source,
                });
            }
        }
        // Who holds it, for the next writer's error message.
        let holder = format!(
            "crisis-sim {command}, process {}, since {}",
            std::process::id(),
            now_utc()
        );
        lock.set_len(0)
            .and_then(|()| lock.rewind())
            .and_then(|()| lock.write_all(holder.as_bytes()))
            .map_err(io(&lock_path))?;
        remove_leftovers(dir);
        let staging = tempfile::Builder::new()
            .prefix(STAGING_PREFIX)
            .tempdir_in(dir)
            .map_err(io(dir))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            staging,
            lock,
        })
    }

    /// The directory the finished files will be in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the new set is written before it is committed.
    pub fn staging(&self) -> &Path {
        self.staging.path()
    }

    /// The path a staged file will have once committed.
    pub fn final_path(&self, staged: &Path) -> PathBuf {
        match staged.strip_prefix(self.staging.path()) {
            Ok(relative) => self.dir.join(relative),
            Err(_) => staged.to_path_buf(),
        }
    }

    /// Moves every staged file into the directory (each rename is atomic, and all of them are
    /// on one file system, so none can fail for want of space), records the set, and with
    /// [`Replace::WholeSet`] removes the files of the previous set that this one did not write.
    pub fn commit(self, replace: Replace) -> Result<(), OutputDirError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| OutputDirError::Io { path, source }
        };
        let mut staged: Vec<String> = fs::read_dir(self.staging.path())
            .map_err(io(self.staging.path()))?
            .filter_map(Result::ok)
            .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|entry| entry.file_name().into_string().ok())
            .collect();
        staged.sort();
        let manifest_path = self.dir.join(MANIFEST_FILE);
        let previous = read_manifest(&manifest_path);
        for name in &staged {
            fs::rename(self.staging.path().join(name), self.dir.join(name))
                .map_err(io(&self.dir.join(name)))?;
        }
        let mut set: Vec<String> = staged.clone();
        match replace {
            Replace::WholeSet => {
                for name in previous.iter().filter(|name| !staged.contains(name)) {
                    // A name from the manifest is a plain file name this program wrote.
                    if is_plain_name(name) {
                        let _ = fs::remove_file(self.dir.join(name));
                    }
                }
            }
            Replace::Files => {
                set.extend(previous.into_iter().filter(|name| !staged.contains(name)));
                set.sort();
            }
        }
        let mut text = set.join("\n");
        text.push('\n');
        super::write_atomic(&manifest_path, text.as_bytes()).map_err(io(&manifest_path))?;
        Ok(())
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        // Released: no one holds it now, so it names no one.
        let _ = self.lock.set_len(0);
    }
}

/// The names in a manifest (none when there is none).
fn read_manifest(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .map(|text| {
            text.lines()
                .map(str::to_string)
                .filter(|name| is_plain_name(name))
                .collect()
        })
        .unwrap_or_default()
}

/// A file name with no directory part and not one of this module's own files.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && !name.contains(['/', '\\', '\0'])
        && name != "."
        && name != ".."
        && name != LOCK_FILE
        && name != MANIFEST_FILE
}

/// Removes what killed runs left in `dir`: staging directories, and temporary files of atomic
/// writes whose process has ended (of this version and of earlier ones). Called with the lock
/// held, so no other set is being staged here.
fn remove_leftovers(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if name.starts_with(STAGING_PREFIX) && kind.is_dir() {
            let _ = fs::remove_dir_all(entry.path());
        } else if kind.is_file() && super::atomic::is_stale_temporary(&name) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// The time now, as `2026-12-02T20:30:00Z`.
fn now_utc() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    chrono::DateTime::from_timestamp(seconds as i64, 0).map_or_else(
        || "an unknown time".to_string(),
        |t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("crisis-sim-outdir-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_second_writer_is_refused_and_told_who_holds_the_directory() {
        let dir = dir("busy");
        let first = OutputDir::lock(&dir, "run").unwrap();
        let err = OutputDir::lock(&dir, "sweep").unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, OutputDirError::Busy { .. }), "{message}");
        assert!(
            message.contains("crisis-sim run, process")
                && message.contains(&dir.display().to_string()),
            "{message}"
        );
        drop(first);
        // Released with its holder: the next writer gets it.
        OutputDir::lock(&dir, "sweep").unwrap();
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn an_uncommitted_set_leaves_the_earlier_one_exactly_as_it_was() {
        let dir = dir("failed");
        let out = OutputDir::lock(&dir, "run").unwrap();
        fs::write(out.staging().join("results.json"), "old").unwrap();
        fs::write(out.staging().join("key_figures.png"), "old chart").unwrap();
        out.commit(Replace::WholeSet).unwrap();
        let before = names(&dir);
        {
            // A run that fails part-way: some new files written, then an error.
            let out = OutputDir::lock(&dir, "run").unwrap();
            fs::write(out.staging().join("results.json"), "new").unwrap();
        }
        assert_eq!(names(&dir), before);
        assert_eq!(fs::read_to_string(dir.join("results.json")).unwrap(), "old");
        assert_eq!(
            fs::read_to_string(dir.join("key_figures.png")).unwrap(),
            "old chart"
        );
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_whole_set_replaces_the_old_one_and_files_add_to_it() {
        let dir = dir("replace");
        let out = OutputDir::lock(&dir, "run").unwrap();
        for name in ["results.json", "summary.csv", "calls.csv"] {
            fs::write(out.staging().join(name), "old").unwrap();
        }
        out.commit(Replace::WholeSet).unwrap();
        fs::write(dir.join("notes.txt"), "the user's own").unwrap();
        let out = OutputDir::lock(&dir, "run").unwrap();
        fs::write(out.staging().join("results.json"), "new").unwrap();
        out.commit(Replace::WholeSet).unwrap();
        // The old run's CSV and log are gone with it; the user's own file stays.
        assert_eq!(
            names(&dir),
            [LOCK_FILE, MANIFEST_FILE, "notes.txt", "results.json"]
        );
        let out = OutputDir::lock(&dir, "plot").unwrap();
        fs::write(out.staging().join("chart.svg"), "chart").unwrap();
        out.commit(Replace::Files).unwrap();
        assert_eq!(
            fs::read_to_string(dir.join(MANIFEST_FILE)).unwrap(),
            "chart.svg\nresults.json\n"
        );
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn leftovers_of_killed_runs_are_removed_by_the_next_writer() {
        let dir = dir("leftovers");
        fs::create_dir_all(dir.join(".crisis-sim-staging-abc123")).unwrap();
        fs::write(dir.join(".crisis-sim-staging-abc123/results.json"), "half").unwrap();
        fs::write(dir.join(".results.json.tmp-4294967295"), "half").unwrap();
        fs::write(dir.join("results.json"), "kept").unwrap();
        let out = OutputDir::lock(&dir, "run").unwrap();
        let left: Vec<String> = names(&dir)
            .into_iter()
            .filter(|n| !out.staging().ends_with(n))
            .collect();
        assert_eq!(left, [LOCK_FILE, "results.json"]);
        drop(out);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_file_where_the_directory_should_be_is_an_error() {
        let dir = dir("file");
        fs::create_dir_all(dir.parent().unwrap()).unwrap();
        fs::write(&dir, "a file").unwrap();
        let err = OutputDir::lock(&dir, "run").unwrap_err();
        assert!(matches!(err, OutputDirError::NotADirectory { .. }), "{err}");
        fs::remove_file(dir).unwrap();
    }
}
