//! Atomic file writes: write a temporary file beside the target, flush it to disk, then rename
//! it over the target. A crash or a full disk leaves the previous file intact. The temporary
//! is created with a random name and `O_EXCL` (by `tempfile`), so a file or link planted at a
//! predictable name cannot redirect the write; its name carries the process id, so a later
//! write into the same directory can tell a killed run's leftover from a live one's.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically, creating the parent directory if needed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = AtomicFile::create(path)?;
    file.write_all(bytes)?;
    file.commit()
}

/// A file written as a stream (too big to hold in memory) that appears at its path only when
/// [`AtomicFile::commit`] succeeds; dropped uncommitted, it leaves nothing behind.
#[derive(Debug)]
pub struct AtomicFile {
    writer: Option<BufWriter<Temporary>>,
    path: PathBuf,
}

/// The temporary, written through its plain `File`, so that errors are the system's own
/// (the caller names the file the user asked for, not the temporary).
#[derive(Debug)]
struct Temporary(tempfile::NamedTempFile);

impl Write for Temporary {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.as_file_mut().write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.as_file_mut().flush()
    }
}

/// The suffix of every temporary this module creates.
const TEMP_SUFFIX: &str = ".crisis-sim-tmp";

impl AtomicFile {
    /// Starts writing `path` (creating its parent directory if needed). Refuses a path that
    /// holds something other than a regular file (a device, a FIFO, a directory): replacing
    /// it would not write what the user meant to write.
    pub fn create(path: &Path) -> io::Result<Self> {
        if let Ok(meta) = fs::metadata(path)
            && !meta.is_file()
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "it exists and is not a regular file (crisis-sim writes only regular files)",
            ));
        }
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        fs::create_dir_all(dir)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "output".to_string());
        remove_stale_temporaries(dir, &name);
        let prefix = format!(".{name}.{}.", std::process::id());
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(TEMP_SUFFIX);
        // The mode any new file gets (the umask applies), not tempfile's private 0600:
        // results are for sharing.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        // Its errors name the temporary; the caller names the file asked for.
        let file = builder
            .tempfile_in(dir)
            .map_err(|e| io::Error::from(e.kind()))?;
        Ok(Self {
            writer: Some(BufWriter::with_capacity(1 << 16, Temporary(file))),
            path: path.to_path_buf(),
        })
    }

    /// Flushes to disk and renames the file into place.
    pub fn commit(mut self) -> io::Result<()> {
        let writer = self
            .writer
            .take()
            .ok_or_else(|| io::Error::other("already closed"))?;
        // On any error below, the temporary is deleted as it drops.
        let Temporary(file) = writer.into_inner().map_err(|e| e.into_error())?;
        file.as_file().sync_all()?;
        file.persist(&self.path).map_err(|e| e.error)?;
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.writer {
            Some(writer) => writer.write(buf),
            None => Err(io::Error::other("already closed")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.writer {
            Some(writer) => writer.flush(),
            None => Ok(()),
        }
    }
}

// Dropped uncommitted (the run failed part-way), the `NamedTempFile` deletes itself, so no
// half-written file remains.

/// Whether `name` is a temporary left by an atomic write of a process that has ended: this
/// version's `.NAME.PID.RANDOM.crisis-sim-tmp`, or earlier versions' `.NAME.tmp-PID` (and
/// `.NAME.tmp-PID.png`).
pub(crate) fn is_stale_temporary(name: &str) -> bool {
    temporary_pid(name).is_some_and(|pid| !process_alive(pid))
}

/// The process id in a temporary's name.
fn temporary_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?;
    if let Some(stem) = rest.strip_suffix(TEMP_SUFFIX) {
        // NAME.PID.RANDOM: the PID is the second field from the end.
        let mut fields = stem.rsplit('.');
        fields.next()?;
        return fields.next()?.parse().ok();
    }
    let (_, pid) = rest.rsplit_once(".tmp-")?;
    pid.strip_suffix(".png").unwrap_or(pid).parse().ok()
}

/// Whether process `pid` is running. Where that cannot be told (no `/proc`), every process is
/// taken to be running, so nothing of a live one is ever removed.
fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let proc = Path::new("/proc");
    !proc.join("self").exists() || proc.join(pid.to_string()).exists()
}

/// Removes the temporaries of `name` in `dir` whose process has ended (a killed run's).
fn remove_stale_temporaries(dir: &Path, name: &str) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let prefix = format!(".{name}.");
    for entry in entries.filter_map(Result::ok) {
        let entry_name = entry.file_name().to_string_lossy().into_owned();
        if entry_name.starts_with(&prefix)
            && is_stale_temporary(&entry_name)
            && entry.file_type().is_ok_and(|t| t.is_file())
        {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("crisis-sim-atomic-{}", std::process::id()));
        let path = dir.join("nested").join("a.json");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        let leftovers: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(TEMP_SUFFIX))
            .collect();
        assert!(leftovers.is_empty());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn an_uncommitted_stream_leaves_nothing_and_keeps_the_old_file() {
        let dir =
            std::env::temp_dir().join(format!("crisis-sim-atomic-drop-{}", std::process::id()));
        let path = dir.join("calls.csv");
        write_atomic(&path, b"old").unwrap();
        {
            let mut file = AtomicFile::create(&path).unwrap();
            file.write_all(b"half a file").unwrap();
        }
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        let mut file = AtomicFile::create(&path).unwrap();
        file.write_all(b"new").unwrap();
        file.commit().unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_planted_link_at_a_predictable_name_is_not_followed() {
        let dir =
            std::env::temp_dir().join(format!("crisis-sim-atomic-link-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let victim = dir.join("victim.txt");
        fs::write(&victim, "precious").unwrap();
        // Every name the old scheme used, and this one's prefix, point at the victim.
        #[cfg(unix)]
        for planted in [
            format!(".results.json.tmp-{}", std::process::id()),
            format!(".results.json.{}.", std::process::id()),
        ] {
            std::os::unix::fs::symlink(&victim, dir.join(planted)).unwrap();
        }
        write_atomic(&dir.join("results.json"), b"results").unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(
            fs::read_to_string(dir.join("results.json")).unwrap(),
            "results"
        );
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_device_or_directory_is_not_replaced() {
        let dir =
            std::env::temp_dir().join(format!("crisis-sim-atomic-dev-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("a-directory")).unwrap();
        let err = write_atomic(&dir.join("a-directory"), b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/dev/null", dir.join("null")).unwrap();
            assert!(write_atomic(&dir.join("null"), b"x").is_err());
            assert!(
                fs::symlink_metadata(dir.join("null"))
                    .unwrap()
                    .file_type()
                    .is_symlink()
            );
        }
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn temporaries_of_ended_processes_are_told_from_live_ones() {
        let me = std::process::id();
        assert_eq!(temporary_pid(".a.csv.123.XyZ12.crisis-sim-tmp"), Some(123));
        assert_eq!(temporary_pid(".key_figures.tmp-77.png"), Some(77));
        assert_eq!(temporary_pid(".results.json.tmp-9"), Some(9));
        assert_eq!(temporary_pid("results.json"), None);
        assert_eq!(temporary_pid(".notes.txt"), None);
        assert!(!is_stale_temporary(&format!(
            ".a.csv.{me}.abc.crisis-sim-tmp"
        )));
        if Path::new("/proc/self").exists() {
            assert!(is_stale_temporary(".a.csv.4294967295.abc.crisis-sim-tmp"));
            // A killed run's temporary goes with the next write of that file.
            let dir = std::env::temp_dir().join(format!("crisis-sim-atomic-stale-{me}"));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            fs::write(dir.join(".a.csv.4294967295.abc.crisis-sim-tmp"), "half").unwrap();
            write_atomic(&dir.join("a.csv"), b"whole").unwrap();
            assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
            fs::remove_dir_all(dir).unwrap();
        }
    }
}
