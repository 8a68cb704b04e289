//! The checkpoint of a batch: a header naming the run, then one JSON line per finished
//! (replication, policy) with its figures and a CRC-32 of them. Read back on `--resume`, every
//! line is checked (types, ranges, checksum, repeats) so that a damaged or edited checkpoint is
//! refused, naming the line, instead of quietly changing the results.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::experiment::Shard;
use crate::scenario::Scenario;

/// The format written now. Version 1 had no checksums; its checkpoints are refused as another
/// format (a resume of one simply starts afresh with `--force`).
const FORMAT: u32 = 2;

/// Figures of finished jobs, by (replication, policy).
pub type Done = BTreeMap<(u64, usize), Vec<f64>>;

/// Why a checkpoint cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("cannot use checkpoint {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot resume from {}: it was written for {what}", path.display())]
    Mismatch { path: PathBuf, what: String },
    #[error("cannot resume from {}: line {line}: {what}", path.display())]
    Damaged {
        path: PathBuf,
        line: usize,
        what: String,
    },
}

/// The first line of a checkpoint: what run its replications belong to. A resume must match it
/// exactly. (Fields in key order, so the line's bytes are stable.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Header {
    crisis_sim_checkpoint: u32,
    crisis_sim_version: String,
    /// How many figures each line holds.
    figures: usize,
    policies: Vec<String>,
    scenario_fingerprint: String,
    seed: u64,
    shard: Option<Shard>,
}

impl Header {
    pub fn of(scenario: &Scenario, seed: u64, shard: Option<Shard>, figures: usize) -> Self {
        Self {
            crisis_sim_checkpoint: FORMAT,
            crisis_sim_version: env!("CARGO_PKG_VERSION").to_string(),
            figures,
            policies: scenario.policies.iter().map(|p| p.label.clone()).collect(),
            scenario_fingerprint: scenario.fingerprint.clone(),
            seed,
            shard,
        }
    }

    /// A sweep's checkpoint: its "policies" are the sweep's distinct jobs (a policy on a
    /// program, at the settings that change what it does), named by a fingerprint each, and
    /// the scenario's fingerprint covers the grid (`identity`).
    pub fn for_sweep(identity: &str, seed: u64, jobs: Vec<String>, figures: usize) -> Self {
        Self {
            crisis_sim_checkpoint: FORMAT,
            crisis_sim_version: env!("CARGO_PKG_VERSION").to_string(),
            figures,
            policies: jobs,
            scenario_fingerprint: identity.to_string(),
            seed,
            shard: None,
        }
    }

    fn describe(&self) -> String {
        let shard = self
            .shard
            .map_or("none".to_string(), |s| format!("{}/{}", s.index, s.count));
        format!(
            "checkpoint format {}, version {}, scenario {}, seed {}, shard {shard}",
            self.crisis_sim_checkpoint,
            self.crisis_sim_version,
            self.scenario_fingerprint,
            self.seed
        )
    }
}

/// The checksummed part of a line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    policy: usize,
    replication: u64,
    /// In figure order; `null` for an undefined figure (NaN).
    values: Vec<Option<f64>>,
}

/// One finished replication of one policy: a line of the checkpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    /// CRC-32 of the entry's JSON, as 8 hex digits.
    crc32: String,
    #[serde(flatten)]
    entry: Entry,
}

impl Entry {
    fn checksum(&self) -> String {
        let json = serde_json::to_string(self).unwrap_or_default();
        format!("{:08x}", crc32fast::hash(json.as_bytes()))
    }
}

/// Reads a checkpoint written for `header`, whose replications lie in `replications`. A
/// missing or empty file resumes nothing; a torn last line (the process was killed mid-write,
/// so it has no line end) is ignored, since that job simply runs again. Any other line that is
/// not a valid entry of this run is an error naming it.
pub fn read(
    path: &Path,
    header: &Header,
    replications: Range<u64>,
) -> Result<Done, CheckpointError> {
    let text = match fs::read(path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Done::new()),
        Err(source) => {
            return Err(CheckpointError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    parse(&text, path, header, replications)
}

/// [`read`] on a checkpoint's text; `path` only names it in errors.
pub fn parse(
    text: &str,
    path: &Path,
    header: &Header,
    replications: Range<u64>,
) -> Result<Done, CheckpointError> {
    let mut lines = text.split_inclusive('\n').enumerate();
    let Some((_, first)) = lines.next() else {
        return Ok(Done::new());
    };
    let found = serde_json::from_str::<Header>(first.trim_end()).ok();
    if found.as_ref() != Some(header) {
        let found = found.map_or("an unreadable header".to_string(), |f| f.describe());
        return Err(CheckpointError::Mismatch {
            path: path.to_path_buf(),
            what: format!("{found} (this run: {})", header.describe()),
        });
    }
    let mut done = Done::new();
    for (index, text) in lines {
        let number = index + 1;
        let Some(text) = text.strip_suffix('\n') else {
            // The last line, torn by a kill: that job runs again.
            break;
        };
        let damaged = |what: String| CheckpointError::Damaged {
            path: path.to_path_buf(),
            line: number,
            what,
        };
        let line: Line = serde_json::from_str(text)
            .map_err(|e| damaged(format!("not a checkpoint entry ({e})")))?;
        let entry = line.entry;
        if line.crc32 != entry.checksum() {
            return Err(damaged(format!(
                "its checksum {} does not match its contents: the line was changed after it was written",
                line.crc32
            )));
        }
        if entry.policy >= header.policies.len() {
            return Err(damaged(format!(
                "policy {} does not exist (this run has {})",
                entry.policy,
                header.policies.len()
            )));
        }
        if !replications.contains(&entry.replication) {
            return Err(damaged(format!(
                "replication {} is not one of this run's ({}..{})",
                entry.replication, replications.start, replications.end
            )));
        }
        if entry.values.len() != header.figures {
            return Err(damaged(format!(
                "{} figures where this run has {}",
                entry.values.len(),
                header.figures
            )));
        }
        let values: Vec<f64> = entry.values.iter().map(|v| v.unwrap_or(f64::NAN)).collect();
        let job = (entry.replication, entry.policy);
        // A job logged on resume runs again and is saved again, with the very same figures.
        if let Some(earlier) = done.get(&job)
            && !same_figures(earlier, &values)
        {
            return Err(damaged(format!(
                "replication {} of policy {} is already on an earlier line, with other figures",
                entry.replication, header.policies[entry.policy]
            )));
        }
        done.insert(job, values);
    }
    Ok(done)
}

fn same_figures(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
}

/// Appends finished replications to the checkpoint, one JSON line each, written at once.
pub struct Writer {
    path: PathBuf,
    file: Mutex<Option<File>>,
    error: Mutex<Option<String>>,
}

impl Writer {
    /// Starts the file afresh with the header and what is already done (compacting out any
    /// torn line), then keeps it open for appending.
    pub fn open(path: &Path, header: &Header, done: &Done) -> Result<Self, CheckpointError> {
        let io = |source| CheckpointError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(io)?;
        }
        // Through a `Value`, whose keys are sorted.
        let mut text = serde_json::to_value(header)
            .and_then(|value| serde_json::to_string(&value))
            .map_err(|e| io(e.into()))?;
        text.push('\n');
        for ((replication, policy), values) in done {
            text.push_str(&line(*replication, *policy, values));
        }
        crate::output::write_atomic(path, text.as_bytes()).map_err(io)?;
        let file = OpenOptions::new().append(true).open(path).map_err(io)?;
        Ok(Self::appending_to(path, file))
    }

    fn appending_to(path: &Path, file: File) -> Self {
        Self {
            path: path.to_path_buf(),
            file: Mutex::new(Some(file)),
            error: Mutex::new(None),
        }
    }

    /// Saves one finished job. The first failure (a full disk, say) stops the saving and is
    /// returned as a message, once, for the user to be told at once; the run itself goes on,
    /// since its results are whole in memory: only the ability to resume is lost.
    pub fn append(&self, replication: u64, policy: usize, values: &[f64]) -> Option<String> {
        let text = line(replication, policy, values);
        let mut slot = self.file.lock().ok()?;
        let file = slot.as_mut()?;
        // One write per line: a kill leaves at most one torn last line.
        let result = file.write_all(text.as_bytes());
        let err = result.err()?;
        *slot = None;
        let message = format!(
            "cannot save progress to {}: {err}. The run goes on, but if it is stopped now it cannot be resumed",
            self.path.display()
        );
        if let Ok(mut error) = self.error.lock() {
            *error = Some(message.clone());
        }
        Some(message)
    }

    /// The message of the failure that stopped the saving, if one did.
    pub fn failure(&self) -> Option<String> {
        self.error.lock().ok().and_then(|e| e.clone())
    }
}

fn line(replication: u64, policy: usize, values: &[f64]) -> String {
    let entry = Entry {
        policy,
        replication,
        values: values.iter().map(|v| v.is_finite().then_some(*v)).collect(),
    };
    let line = Line {
        crc32: entry.checksum(),
        entry,
    };
    let mut text = serde_json::to_string(&line).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        let mut scenario = Scenario::default_scenario();
        scenario.policies.truncate(2);
        Header::of(&scenario, 4, None, 3)
    }

    fn file(name: &str, lines: &[String]) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("crisis-sim-checkpoint-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        let mut text = serde_json::to_string(&serde_json::to_value(header()).unwrap()).unwrap();
        text.push('\n');
        for line in lines {
            text.push_str(line);
        }
        fs::write(&path, text).unwrap();
        path
    }

    fn error_of(name: &str, lines: &[String]) -> String {
        let path = file(name, lines);
        let err = read(&path, &header(), 0..10).unwrap_err().to_string();
        fs::remove_file(path).unwrap();
        err
    }

    #[test]
    fn lines_written_are_read_back_with_a_torn_last_line_ignored() {
        let good = line(3, 1, &[1.5, f64::NAN, -2.0]);
        assert!(good.starts_with("{\"crc32\":\""), "{good}");
        let torn = &line(4, 0, &[1.0, 2.0, 3.0])[..20];
        let path = file("good", &[good.clone(), good, torn.to_string()]);
        let done = read(&path, &header(), 0..10).unwrap();
        assert_eq!(done.len(), 1);
        let values = &done[&(3, 1)];
        assert_eq!(values[0], 1.5);
        assert!(values[1].is_nan());
        fs::remove_file(path).unwrap();
    }

    #[test]
    fn a_damaged_or_edited_line_is_refused_naming_it() {
        let good = line(3, 1, &[1.5, 2.0, -2.0]);
        // A value edited: the checksum no longer matches.
        let edited = good.replace("1.5", "9.5");
        assert!(error_of("edited", &[good.clone(), edited]).contains("line 3: its checksum"));
        // A value of the wrong type.
        let typed = good.replace("1.5", "\"1.5\"");
        assert!(error_of("typed", &[typed]).contains("line 2: not a checkpoint entry"));
        // Out of range: a policy or replication this run does not have.
        let policy = line(3, 7, &[1.0, 2.0, 3.0]);
        assert!(error_of("policy", &[policy]).contains("policy 7 does not exist"));
        let replication = line(12, 0, &[1.0, 2.0, 3.0]);
        assert!(error_of("rep", &[replication]).contains("replication 12 is not one of"));
        let short = line(1, 0, &[1.0]);
        assert!(error_of("short", &[short]).contains("1 figures where this run has 3"));
        // A later line for the same job with other figures does not silently win.
        let other = line(3, 1, &[1.5, 2.0, -3.0]);
        assert!(error_of("dup", &[good, other]).contains("already on an earlier line"));
        // An older format is another run's, said so.
        let path = file("old", &[]);
        let text = fs::read_to_string(&path)
            .unwrap()
            .replace("\"crisis_sim_checkpoint\":2", "\"crisis_sim_checkpoint\":1");
        fs::write(&path, text).unwrap();
        let err = read(&path, &header(), 0..10).unwrap_err().to_string();
        assert!(err.contains("checkpoint format 1"), "{err}");
        fs::remove_file(path).unwrap();
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_failed_append_is_reported_once_and_stops_the_saving() {
        // Every write to /dev/full fails as a full disk does.
        let full = OpenOptions::new().append(true).open("/dev/full").unwrap();
        let writer = Writer::appending_to(Path::new("/dev/full"), full);
        let message = writer
            .append(0, 0, &[1.0])
            .expect("a write to a full disk fails");
        assert!(message.contains("cannot be resumed"), "{message}");
        assert_eq!(writer.append(1, 0, &[1.0]), None);
        assert_eq!(writer.failure(), Some(message));
    }
}
