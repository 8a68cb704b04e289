//! Per-call and per-unit logs (`--log calls,units`): which unit served each call, and when.
//! Rows stream to disk as the engine reports them, so memory stays flat. Each logged
//! (replication, policy) writes its own part file; at the end the parts are joined in
//! (replication, policy) order, so the logs are the same for any thread count.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::outcome::{CallRecord, Observer, UnitEvent};
use crate::scenario::{CivilDate, Scenario};

pub const CALLS_CSV: &str = "calls.csv";
pub const UNITS_CSV: &str = "units.csv";

/// Columns of `calls.csv` (documented in the README).
pub const CALL_COLUMNS: &[&str] = &[
    "replication",
    "policy",
    "call_id",
    "call_type",
    "priority",
    "zone",
    "in_warmup",
    "care_eligible",
    "triaged_eligible",
    "routed_to_care",
    "overflowed_to_police",
    "received_minutes",
    "received_time",
    "dispatched_minutes",
    "dispatched_time",
    "on_scene_minutes",
    "on_scene_time",
    "cleared_minutes",
    "cleared_time",
    "wait_minutes",
    "response_minutes",
    "unit_id",
    "pool",
    "responder_kind",
    "backup_requested",
    "backup_unit_id",
    "backup_on_scene_minutes",
    "arrest",
    "booking",
    "force",
    "injury",
    "er_transport",
    "unserved_at_horizon",
];

/// Columns of `units.csv` (documented in the README).
pub const UNIT_COLUMNS: &[&str] = &[
    "replication",
    "policy",
    "time_minutes",
    "time",
    "unit_id",
    "pool",
    "event",
    "zone",
    "call_id",
];

/// What to log, and where.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogPlan {
    pub dir: PathBuf,
    pub calls: bool,
    pub units: bool,
    /// Replication indices to log.
    pub replications: BTreeSet<u64>,
}

impl LogPlan {
    pub fn logs(&self, replication: u64) -> bool {
        (self.calls || self.units) && self.replications.contains(&replication)
    }

    fn part(&self, file: &str, replication: u64, policy: usize) -> PathBuf {
        self.dir
            .join(format!(".{file}.r{replication}.p{policy}.part"))
    }
}

/// Parses a replication set: `3`, `0..3` (0, 1, 2), `0..=3`, or a comma list of these.
pub fn parse_replications(text: &str) -> Result<BTreeSet<u64>, String> {
    let bad = || {
        format!(
            "expected replication indices like 0, 0..3 (0 to 2), 0..=3 or 0,5,9; found `{text}`"
        )
    };
    let mut set = BTreeSet::new();
    for part in text.split(',').map(str::trim) {
        let number = |s: &str| s.trim().parse::<u64>().map_err(|_| bad());
        if let Some((from, to)) = part.split_once("..=") {
            set.extend(number(from)?..=number(to)?);
        } else if let Some((from, to)) = part.split_once("..") {
            set.extend(number(from)?..number(to)?);
        } else {
            set.insert(number(part)?);
        }
    }
    if set.is_empty() {
        return Err(bad());
    }
    Ok(set)
}

/// The log of one (replication, policy): an [`Observer`] writing rows to part files.
pub struct JobLog<'s> {
    scenario: &'s Scenario,
    start: CivilDate,
    replication: String,
    policy: &'s str,
    calls: Option<csv::Writer<BufWriter<File>>>,
    units: Option<csv::Writer<BufWriter<File>>>,
    error: Option<csv::Error>,
}

impl<'s> JobLog<'s> {
    pub fn create(
        plan: &LogPlan,
        scenario: &'s Scenario,
        replication: u64,
        policy: usize,
    ) -> io::Result<Self> {
        fs::create_dir_all(&plan.dir)?;
        let open = |file: &str| -> io::Result<csv::Writer<BufWriter<File>>> {
            let file = File::create(plan.part(file, replication, policy))?;
            Ok(csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(BufWriter::with_capacity(1 << 16, file)))
        };
        Ok(Self {
            scenario,
            start: scenario.start_date,
            replication: replication.to_string(),
            policy: &scenario.policies[policy].label,
            calls: if plan.calls {
                Some(open(CALLS_CSV)?)
            } else {
                None
            },
            units: if plan.units {
                Some(open(UNITS_CSV)?)
            } else {
                None
            },
            error: None,
        })
    }

    /// Flushes the part files; reports the first write error.
    pub fn finish(mut self) -> io::Result<()> {
        if let Some(err) = self.error.take() {
            return Err(io::Error::other(err));
        }
        for writer in [self.calls.take(), self.units.take()].into_iter().flatten() {
            writer
                .into_inner()
                .map_err(|e| io::Error::other(e.to_string()))?
                .flush()?;
        }
        Ok(())
    }

    fn keep(&mut self, result: Result<(), csv::Error>) {
        if let Err(err) = result {
            self.error.get_or_insert(err);
        }
    }
}

fn number(value: f64) -> String {
    value.to_string()
}

fn optional(value: Option<f64>) -> String {
    value.map_or_else(String::new, number)
}

impl Observer for JobLog<'_> {
    fn on_call(&mut self, record: &CallRecord) {
        let Some(writer) = self.calls.as_mut() else {
            return;
        };
        let scenario = self.scenario;
        let time =
            |minutes: Option<f64>| minutes.map_or_else(String::new, |m| self.start.timestamp(m));
        let received = record.call.received_minutes;
        let primary = record.primary;
        let dispatched = primary.map(|a| a.dispatched_minutes);
        let on_scene = primary
            .map(|a| a.on_scene_minutes)
            .filter(|_| !record.unserved_at_horizon);
        let outcome = |happened: bool| {
            if record.unserved_at_horizon {
                ""
            } else if happened {
                "true"
            } else {
                "false"
            }
        };
        let o = record.outcomes;
        let row: [String; 33] = [
            self.replication.clone(),
            self.policy.to_string(),
            record.call.id.to_string(),
            scenario.call_types[usize::from(record.call.call_type.0)]
                .name
                .clone(),
            record.priority.to_string(),
            scenario.zones[usize::from(record.call.zone.0)].name.clone(),
            (received < scenario.warmup_minutes()).to_string(),
            record.care_eligible.to_string(),
            record.triaged_eligible.to_string(),
            record.routed_to_care.to_string(),
            record.overflowed_to_police.to_string(),
            number(received),
            time(Some(received)),
            optional(dispatched),
            time(dispatched),
            optional(on_scene),
            time(on_scene),
            optional(record.cleared_minutes),
            time(record.cleared_minutes),
            optional(record.wait_minutes()),
            optional(record.response_minutes()),
            primary.map_or_else(String::new, |a| a.unit.0.to_string()),
            primary.map_or_else(String::new, |a| {
                scenario.pools[usize::from(a.pool.0)].name.clone()
            }),
            primary.map_or_else(String::new, |a| a.kind.as_str().to_string()),
            record.backup_requested.to_string(),
            record
                .backup
                .map_or_else(String::new, |b| b.unit.0.to_string()),
            optional(record.backup.map(|b| b.on_scene_minutes)),
            outcome(o.arrest).to_string(),
            outcome(o.booking).to_string(),
            outcome(o.force).to_string(),
            outcome(o.injury).to_string(),
            outcome(o.er_transport).to_string(),
            record.unserved_at_horizon.to_string(),
        ];
        let result = writer.write_record(&row);
        self.keep(result);
    }

    fn on_unit_event(&mut self, event: &UnitEvent) {
        let Some(writer) = self.units.as_mut() else {
            return;
        };
        let scenario = self.scenario;
        let row: [String; 9] = [
            self.replication.clone(),
            self.policy.to_string(),
            number(event.time_minutes),
            self.start.timestamp(event.time_minutes),
            event.unit.0.to_string(),
            scenario.pools[usize::from(event.pool.0)].name.clone(),
            event.kind.as_str().to_string(),
            scenario.zones[usize::from(event.zone.0)].name.clone(),
            event.call_id.map_or_else(String::new, |id| id.to_string()),
        ];
        let result = writer.write_record(&row);
        self.keep(result);
    }
}

/// A log file written: where, how big, how many rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrittenLog {
    pub path: PathBuf,
    pub bytes: u64,
    pub rows: u64,
}

/// Joins the part files of `jobs` (in the order given) into `calls.csv` / `units.csv`,
/// atomically, and removes the parts.
pub fn assemble(plan: &LogPlan, jobs: &[(u64, usize)]) -> io::Result<Vec<WrittenLog>> {
    let mut written = Vec::new();
    for (enabled, file, columns) in [
        (plan.calls, CALLS_CSV, CALL_COLUMNS),
        (plan.units, UNITS_CSV, UNIT_COLUMNS),
    ] {
        if !enabled {
            continue;
        }
        let path = plan.dir.join(file);
        let temp = plan.dir.join(format!(".{file}.tmp-{}", std::process::id()));
        let result = (|| {
            let mut out = BufWriter::with_capacity(1 << 16, File::create(&temp)?);
            writeln!(out, "{}", columns.join(","))?;
            let mut rows = 0u64;
            for &(replication, policy) in jobs {
                let part = plan.part(file, replication, policy);
                let mut input = File::open(&part)?;
                rows += count_lines(&part)?;
                io::copy(&mut input, &mut out)?;
            }
            let file = out.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            let bytes = file.metadata()?.len();
            fs::rename(&temp, &path)?;
            Ok(WrittenLog {
                path: path.clone(),
                bytes,
                rows,
            })
        })();
        match result {
            Ok(log) => written.push(log),
            Err(err) => {
                let _ = fs::remove_file(&temp);
                return Err(err);
            }
        }
        for &(replication, policy) in jobs {
            let _ = fs::remove_file(plan.part(file, replication, policy));
        }
    }
    Ok(written)
}

fn count_lines(path: &Path) -> io::Result<u64> {
    use std::io::Read;
    let mut file = File::open(path)?;
    let mut buffer = vec![0u8; 1 << 16];
    let mut lines = 0u64;
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            return Ok(lines);
        }
        lines += buffer[..n].iter().filter(|&&b| b == b'\n').count() as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replication_sets() {
        let set = |s| {
            parse_replications(s)
                .unwrap()
                .into_iter()
                .collect::<Vec<_>>()
        };
        assert_eq!(set("0"), vec![0]);
        assert_eq!(set("0..3"), vec![0, 1, 2]);
        assert_eq!(set("2..=4"), vec![2, 3, 4]);
        assert_eq!(set("0, 5..7, 9"), vec![0, 5, 6, 9]);
        for bad in ["", "a", "3..1", "1..x", "-1"] {
            assert!(parse_replications(bad).is_err(), "{bad}");
        }
    }
}
