//! `generate`: writes the synthetic stream the engine would see for a scenario and seed, with
//! each call's draw key, so replaying the file reproduces a direct run exactly.

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::calls::CallGenerator;
use crate::output::{AtomicFile, spreadsheet_safe};
use crate::scenario::Scenario;

use super::{CALL_COLUMNS, DRAW_KEY, REPLICATION};

/// A call-stream CSV being written; it appears at its path only on [`StreamWriter::finish`].
pub struct StreamWriter {
    writer: csv::Writer<AtomicFile>,
    path: PathBuf,
}

impl StreamWriter {
    pub fn create(path: &Path, columns: &[&str]) -> std::io::Result<Self> {
        let mut writer = csv::WriterBuilder::new()
            .buffer_capacity(1 << 16)
            .from_writer(AtomicFile::create(path)?);
        writer
            .write_record(columns)
            .map_err(std::io::Error::other)?;
        Ok(Self {
            writer,
            path: path.to_path_buf(),
        })
    }

    pub fn write_row<I, T>(&mut self, fields: I) -> std::io::Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        self.writer
            .write_record(fields)
            .map_err(std::io::Error::other)
    }

    /// Flushes, syncs and moves the file into place.
    pub fn finish(self) -> std::io::Result<PathBuf> {
        let mut file = self.writer.into_inner().map_err(|e| e.into_error())?;
        file.flush()?;
        file.commit()?;
        Ok(self.path)
    }
}

/// A boolean as a stream writes it.
fn bool_field(value: bool) -> &'static [u8] {
    if value { b"true" } else { b"false" }
}

/// What `generate` wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct GenerateSummary {
    pub path: PathBuf,
    pub calls: u64,
    pub replications: u64,
    pub days: f64,
}

/// Writes `replications` replications of the scenario's synthetic stream (over its horizon)
/// to `path`: the calls `run` would simulate with the same seed, with their draw keys.
pub fn generate(
    scenario: &Scenario,
    seed: u64,
    replications: u64,
    path: &Path,
) -> std::io::Result<GenerateSummary> {
    let columns: Vec<&str> = std::iter::once(REPLICATION)
        .chain(CALL_COLUMNS)
        .chain([DRAW_KEY])
        .collect();
    let mut writer = StreamWriter::create(path, &columns)?;
    let mut calls = 0u64;
    // Reused buffers: one row per call, millions of rows.
    let (mut replication_text, mut id, mut at, mut minutes, mut key) = (
        String::new(),
        String::new(),
        Vec::with_capacity(19),
        String::new(),
        String::new(),
    );
    let priorities: Vec<String> = scenario
        .call_types
        .iter()
        .map(|t| t.priority.to_string())
        .collect();
    for replication in 0..replications {
        replication_text.clear();
        let _ = write!(replication_text, "{replication}");
        for call in CallGenerator::new(scenario, seed, replication) {
            let call_type = scenario.call_type(call.call_type);
            id.clear();
            let _ = write!(id, "{}", call.id);
            at.clear();
            scenario
                .start_date
                .write_timestamp(&mut at, call.received_minutes)?;
            minutes.clear();
            // Shortest text that reads back as the same f64: replays are exact.
            let _ = write!(minutes, "{}", call.received_minutes);
            key.clear();
            let _ = write!(key, "{:016x}", call.draw_key);
            writer.write_row([
                replication_text.as_bytes(),
                id.as_bytes(),
                &at,
                minutes.as_bytes(),
                spreadsheet_safe(&call_type.name).as_bytes(),
                priorities[call.call_type.0 as usize].as_bytes(),
                spreadsheet_safe(&scenario.zones[call.zone.0 as usize].name).as_bytes(),
                bool_field(call_type.care_eligible),
                key.as_bytes(),
            ])?;
            calls += 1;
        }
    }
    let path = writer.finish()?;
    Ok(GenerateSummary {
        path,
        calls,
        replications,
        days: scenario.horizon_days,
    })
}

/// Writes one replication of the scenario's synthetic stream with the timestamp chain a
/// dispatch log would have recorded for it: each call simulated under the scenario's first
/// policy, and its first dispatch, arrival and last clear written as minutes after receipt
/// (as `import` writes a real log's). A log whose every parameter is known, for checking that
/// `fit` recovers them and that `backtest` passes on its own model.
pub fn generate_with_chain(
    scenario: &Scenario,
    seed: u64,
    path: &Path,
) -> std::io::Result<GenerateSummary> {
    use crate::calls::import::{ARRIVED_AFTER, CLEARED_AFTER, DISPATCHED_AFTER, ENROUTE_AFTER};
    use crate::engine::record::CallRecord;
    let calls: Vec<crate::calls::Call> = CallGenerator::new(scenario, seed, 0).collect();
    let mut records: Vec<CallRecord> = Vec::with_capacity(calls.len());
    let policy = scenario.policies[0].policy.as_ref();
    crate::engine::simulate(scenario, policy, calls.iter().copied(), &mut records);
    records.sort_by_key(|r| r.call.id);
    let columns = [
        super::CALL_ID,
        super::RECEIVED_AT,
        super::RECEIVED_MINUTES,
        super::CALL_TYPE,
        super::PRIORITY,
        super::ZONE,
        super::CARE_ELIGIBLE,
        super::ON_SCENE_MINUTES,
        DISPATCHED_AFTER,
        ENROUTE_AFTER,
        ARRIVED_AFTER,
        CLEARED_AFTER,
    ];
    let mut writer = StreamWriter::create(path, &columns)?;
    let mut at = Vec::with_capacity(19);
    for record in &records {
        let call = record.call;
        let call_type = scenario.call_type(call.call_type);
        at.clear();
        scenario
            .start_date
            .write_timestamp(&mut at, call.received_minutes)?;
        let received = call.received_minutes;
        let after =
            |minutes: Option<f64>| minutes.map_or(String::new(), |m| format!("{}", m - received));
        let primary = record.primary.filter(|_| !record.unserved_at_horizon);
        let dispatched = after(primary.map(|a| a.dispatched_minutes));
        let arrived = primary.map(|a| a.on_scene_minutes);
        let on_scene = match (arrived, record.cleared_minutes) {
            (Some(a), Some(c)) => format!("{}", c - a),
            _ => String::new(),
        };
        writer.write_row([
            call.id.to_string().as_bytes(),
            &at,
            format!("{received}").as_bytes(),
            spreadsheet_safe(&call_type.name).as_bytes(),
            call_type.priority.to_string().as_bytes(),
            spreadsheet_safe(&scenario.zones[call.zone.0 as usize].name).as_bytes(),
            bool_field(call_type.care_eligible),
            on_scene.as_bytes(),
            dispatched.as_bytes(),
            // A simulated unit sets out the moment it is sent.
            dispatched.as_bytes(),
            after(arrived).as_bytes(),
            after(record.cleared_minutes).as_bytes(),
        ])?;
    }
    let path = writer.finish()?;
    Ok(GenerateSummary {
        path,
        calls: records.len() as u64,
        replications: 1,
        days: scenario.horizon_days,
    })
}
