//! Per-call and per-unit logs (`--log calls,units`): which unit served each call, and when.
//! Rows stream to disk as the engine reports them, so memory stays flat. Each logged
//! (replication, policy) writes its own part file; at the end the parts are joined in
//! (replication, policy) order, so the logs are the same for any thread count.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::engine::record::{CallRecord, Observer, UnitEvent};
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
    "dispatch_delay_minutes",
    "wait_minutes",
    "response_minutes",
    "unit_id",
    "pool",
    "responder_kind",
    "backup_requested",
    "backup_unit_id",
    "backup_on_scene_minutes",
    "companion_unit_id",
    "companion_on_scene_minutes",
    "follow_up_unit_id",
    "follow_up_dispatched_minutes",
    "follow_up_missed",
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

/// The most replications one run may log.
pub const MAX_LOGGED_REPLICATIONS: usize = 1000;

/// Parses a replication set: `3`, `0..3` (0, 1, 2), `0..=3`, or a comma list of these, of at
/// most [`MAX_LOGGED_REPLICATIONS`] indices below [`crate::scenario::MAX_REPLICATIONS`].
pub fn parse_replications(text: &str) -> Result<BTreeSet<u64>, String> {
    let bad = || {
        format!(
            "expected replication indices like 0, 0..3 (0 to 2), 0..=3 or 0,5,9; found `{text}`"
        )
    };
    let too_many = || {
        format!(
            "at most {MAX_LOGGED_REPLICATIONS} replications may be logged (each writes a row per call), found `{text}`"
        )
    };
    let mut set = BTreeSet::new();
    for part in text.split(',').map(str::trim) {
        let number = |s: &str| match s.trim().parse::<u64>() {
            Ok(n) if n >= u64::from(crate::scenario::MAX_REPLICATIONS) => Err(format!(
                "replication {n} cannot exist: a run has at most {} replications (0 to {})",
                crate::scenario::MAX_REPLICATIONS,
                crate::scenario::MAX_REPLICATIONS - 1
            )),
            Ok(n) => Ok(n),
            Err(_) => Err(bad()),
        };
        let range = if let Some((from, to)) = part.split_once("..=") {
            number(from)?..number(to)?.saturating_add(1)
        } else if let Some((from, to)) = part.split_once("..") {
            // An end past the last replication is only a bound.
            let end = match to.trim() {
                end if end == crate::scenario::MAX_REPLICATIONS.to_string() => {
                    u64::from(crate::scenario::MAX_REPLICATIONS)
                }
                end => number(end)?,
            };
            number(from)?..end
        } else {
            let one = number(part)?;
            one..one + 1
        };
        // Counted before a single index is stored.
        if range.end.saturating_sub(range.start) > MAX_LOGGED_REPLICATIONS as u64 {
            return Err(too_many());
        }
        set.extend(range);
        if set.len() > MAX_LOGGED_REPLICATIONS {
            return Err(too_many());
        }
    }
    if set.is_empty() {
        return Err(bad());
    }
    Ok(set)
}

/// A name as a CSV field (quoted when it holds a comma, quote or line break).
fn csv_field(name: &str) -> String {
    let name = super::csv::spreadsheet_safe(name);
    if name.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", name.replace('"', "\"\""))
    } else {
        name.to_string()
    }
}

/// The log of one (replication, policy): an [`Observer`] writing rows to part files. Rows are
/// formatted into one reused buffer (names escaped once), so logging allocates nothing per row.
pub(crate) struct JobLog {
    start: CivilDate,
    warmup_minutes: f64,
    /// `replication,policy,` as the start of every row.
    prefix: String,
    call_types: Vec<String>,
    zones: Vec<String>,
    pools: Vec<String>,
    calls: Option<BufWriter<File>>,
    units: Option<BufWriter<File>>,
    row: Vec<u8>,
    error: Option<io::Error>,
}

impl JobLog {
    pub fn create(
        plan: &LogPlan,
        scenario: &Scenario,
        replication: u64,
        policy: usize,
    ) -> io::Result<Self> {
        fs::create_dir_all(&plan.dir)?;
        let open = |file: &str| -> io::Result<BufWriter<File>> {
            let file = File::create(plan.part(file, replication, policy))?;
            Ok(BufWriter::with_capacity(1 << 16, file))
        };
        Ok(Self {
            start: scenario.start_date,
            warmup_minutes: scenario.warmup_minutes(),
            prefix: format!(
                "{replication},{},",
                csv_field(&scenario.policies[policy].label)
            ),
            call_types: scenario
                .call_types
                .iter()
                .map(|t| csv_field(&t.name))
                .collect(),
            zones: scenario.zones.iter().map(|z| csv_field(&z.name)).collect(),
            pools: scenario.pools.iter().map(|p| csv_field(&p.name)).collect(),
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
            row: Vec::with_capacity(512),
            error: None,
        })
    }

    /// Flushes the part files; reports the first write error.
    pub fn finish(mut self) -> io::Result<()> {
        if let Some(err) = self.error.take() {
            return Err(err);
        }
        for writer in [self.calls.take(), self.units.take()].into_iter().flatten() {
            writer.into_inner().map_err(|e| e.into_error())?.flush()?;
        }
        Ok(())
    }

    fn call_row(&mut self, record: &CallRecord) -> io::Result<()> {
        let row = &mut self.row;
        let start = self.start;
        row.clear();
        row.extend_from_slice(self.prefix.as_bytes());
        let number = |row: &mut Vec<u8>, value: Option<f64>| -> io::Result<()> {
            if let Some(value) = value {
                write!(row, "{value}")?;
            }
            row.push(b',');
            Ok(())
        };
        // Minutes and the ISO time, two fields.
        let when = |row: &mut Vec<u8>, minutes: Option<f64>| -> io::Result<()> {
            if let Some(minutes) = minutes {
                write!(row, "{minutes},")?;
                start.write_timestamp(row, minutes)?;
            } else {
                row.push(b',');
            }
            row.push(b',');
            Ok(())
        };
        let flag = |row: &mut Vec<u8>, value: bool| {
            row.extend_from_slice(if value { b"true," } else { b"false," });
        };
        let received = record.call.received_minutes;
        let primary = record.primary;
        let on_scene = primary
            .map(|a| a.on_scene_minutes)
            .filter(|_| !record.unserved_at_horizon);
        write!(
            row,
            "{},{},{},{},",
            record.call.id,
            self.call_types[usize::from(record.call.call_type.0)],
            record.priority,
            self.zones[usize::from(record.call.zone.0)]
        )?;
        flag(row, received < self.warmup_minutes);
        flag(row, record.care_eligible);
        flag(row, record.triaged_eligible);
        flag(row, record.routed_to_care);
        flag(row, record.overflowed_to_police);
        when(row, Some(received))?;
        when(row, primary.map(|a| a.dispatched_minutes))?;
        when(row, on_scene)?;
        when(row, record.cleared_minutes)?;
        number(row, Some(record.dispatch_delay_minutes))?;
        number(row, record.wait_minutes())?;
        number(row, record.response_minutes())?;
        match primary {
            Some(a) => write!(
                row,
                "{},{},{},",
                a.unit.0,
                self.pools[usize::from(a.pool.0)],
                a.kind.as_str()
            )?,
            None => row.extend_from_slice(b",,,"),
        }
        flag(row, record.backup_requested);
        for assignment in [record.backup, record.companion] {
            match assignment {
                Some(a) => write!(row, "{},{},", a.unit.0, a.on_scene_minutes)?,
                None => row.extend_from_slice(b",,"),
            }
        }
        match record.follow_up {
            Some(a) => write!(row, "{},{},", a.unit.0, a.dispatched_minutes)?,
            None => row.extend_from_slice(b",,"),
        }
        flag(row, record.follow_up_missed);
        let o = record.outcomes;
        for happened in [o.arrest, o.booking, o.force, o.injury, o.er_transport] {
            if record.unserved_at_horizon {
                row.push(b',');
            } else {
                flag(row, happened);
            }
        }
        row.extend_from_slice(if record.unserved_at_horizon {
            b"true\n"
        } else {
            b"false\n"
        });
        match self.calls.as_mut() {
            Some(writer) => writer.write_all(row),
            None => Ok(()),
        }
    }

    fn unit_row(&mut self, event: &UnitEvent) -> io::Result<()> {
        let row = &mut self.row;
        row.clear();
        row.extend_from_slice(self.prefix.as_bytes());
        write!(row, "{},", event.time_minutes)?;
        self.start.write_timestamp(row, event.time_minutes)?;
        write!(
            row,
            ",{},{},{},{},",
            event.unit.0,
            self.pools[usize::from(event.pool.0)],
            event.kind.as_str(),
            self.zones[usize::from(event.zone.0)]
        )?;
        if let Some(id) = event.call_id {
            write!(row, "{id}")?;
        }
        row.push(b'\n');
        match self.units.as_mut() {
            Some(writer) => writer.write_all(row),
            None => Ok(()),
        }
    }

    fn keep(&mut self, result: io::Result<()>) {
        if let Err(err) = result {
            self.error.get_or_insert(err);
        }
    }
}

impl Observer for JobLog {
    fn on_call(&mut self, record: &CallRecord) {
        if self.calls.is_some() {
            let result = self.call_row(record);
            self.keep(result);
        }
    }

    fn on_unit_event(&mut self, event: &UnitEvent) {
        if self.units.is_some() {
            let result = self.unit_row(event);
            self.keep(result);
        }
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
pub(crate) fn assemble(plan: &LogPlan, jobs: &[(u64, usize)]) -> io::Result<Vec<WrittenLog>> {
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
                rows += copy_counting_lines(&plan.part(file, replication, policy), &mut out)?;
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

/// Appends the file at `path` to `out`, returning how many lines it held (one pass).
fn copy_counting_lines(path: &Path, out: &mut impl Write) -> io::Result<u64> {
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
        out.write_all(&buffer[..n])?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_only_when_needed() {
        assert_eq!(csv_field("welfare_check"), "welfare_check");
        assert_eq!(
            csv_field("Call for Police, Calling"),
            "\"Call for Police, Calling\""
        );
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

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
        // Ceilings, checked before anything is stored (0..100000000 took minutes and GBs).
        assert_eq!(set("99998..100000"), vec![99_998, 99_999]);
        let too_far = parse_replications("0..100000000").unwrap_err();
        assert!(too_far.contains("at most 100000 replications"), "{too_far}");
        for too_many in ["0..=1000", "0..600,1000..1500"] {
            let err = parse_replications(too_many).unwrap_err();
            assert!(
                err.contains("at most 1000 replications may be logged"),
                "{err}"
            );
        }
        assert_eq!(set("0..1000").len(), 1000);
    }
}
