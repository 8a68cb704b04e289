//! Call-stream files (`calls.csv`): the calls a replication sees, one row per call, as
//! `generate` and `import` write them and `replay` and `fit` read them. A file is checked in
//! one streaming pass when opened, then each replication re-reads its own block of rows from
//! disk, so memory stays flat however many calls the file holds.
//!
//! Columns (any order; unknown columns are ignored so a person may add notes):
//! `replication`, `call_id`, `received_at`, `received_minutes`, `call_type`, `priority`, `zone`,
//! `care_eligible`, `draw_key`, `on_scene_minutes`, `source_id`. Only `call_type` and one of
//! `received_at` / `received_minutes` are required; the README documents each.

mod generate;

use std::fs::File;
use std::path::{Path, PathBuf};

use chrono::{NaiveDate, NaiveDateTime};
use csv::{ByteRecord, Position};

use crate::calls::rng::{self, Purpose};
use crate::calls::{Call, Categorical};
use crate::output::from_spreadsheet_safe;
use crate::scenario::{CallTypeId, CivilDate, MAX_HORIZON_DAYS, Scenario, ZoneId};

/// The latest a call may be received, in minutes from day 0: the longest horizon.
const MAX_STREAM_MINUTES: f64 = MAX_HORIZON_DAYS * 1440.0;

pub use generate::{GenerateSummary, StreamWriter, generate, generate_with_chain};

/// Column names, in the order `generate` writes them.
pub const REPLICATION: &str = "replication";
pub const CALL_ID: &str = "call_id";
pub const RECEIVED_AT: &str = "received_at";
pub const RECEIVED_MINUTES: &str = "received_minutes";
pub const CALL_TYPE: &str = "call_type";
pub const PRIORITY: &str = "priority";
pub const ZONE: &str = "zone";
pub const CARE_ELIGIBLE: &str = "care_eligible";
pub const DRAW_KEY: &str = "draw_key";
/// The columns every written stream has, in order (`generate` puts `replication` before
/// them and `draw_key` after; `import` adds `on_scene_minutes` and `source_id`).
pub const CALL_COLUMNS: [&str; 7] = [
    CALL_ID,
    RECEIVED_AT,
    RECEIVED_MINUTES,
    CALL_TYPE,
    PRIORITY,
    ZONE,
    CARE_ELIGIBLE,
];
/// Written by `import` when the export has arrival and clear times; read by `fit`.
pub const ON_SCENE_MINUTES: &str = "on_scene_minutes";
/// The city's own incident number (written by `import`; not read back).
pub const SOURCE_ID: &str = "source_id";
/// Where the call was (projected units), from a mapping's `[coordinates]`: with zones that have
/// centres, a call without a zone is placed in the zone of the nearest centre.
pub const X: &str = "x";
pub const Y: &str = "y";

const MINUTES_PER_DAY: f64 = 1440.0;

/// Why a call-stream file cannot be used. Every message names the file, and the line and
/// column when one is at fault.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path}: the file is empty; expected a header row naming the columns (call_type, received_at or received_minutes, ...)"
    )]
    Empty { path: PathBuf },
    #[error("{path}: no `{column}` column{hint}; the header has: {found}")]
    MissingColumn {
        path: PathBuf,
        column: String,
        found: String,
        hint: String,
    },
    #[error("{path}:{line}: column `{column}`: expected {expected}, found `{value}`")]
    Field {
        path: PathBuf,
        line: u64,
        column: String,
        value: String,
        expected: String,
    },
    #[error("{path}:{line}: {message}")]
    Row {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error("{path}: no calls (a header row but no data rows)")]
    NoCalls { path: PathBuf },
    #[error(
        "{path} holds {available} replication(s) of its own (column `replication`), but {asked} were asked for; replay at most {available}, or generate more"
    )]
    TooFewReplications {
        path: PathBuf,
        available: u64,
        asked: u64,
    },
}

impl StreamError {
    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |source| Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// `line_offset`: see [`crate::calls::crlf_line_offset`].
    fn csv(path: &Path, error: csv::Error, line_offset: u64) -> Self {
        let line = error.position().map(|p| p.line() + line_offset);
        match error.into_kind() {
            csv::ErrorKind::Io(source) => Self::Io {
                path: path.to_path_buf(),
                source,
            },
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => Self::Row {
                path: path.to_path_buf(),
                line: line.unwrap_or(0),
                message: format!(
                    "{len} fields where the header has {expected_len} (a stray delimiter or quote?)"
                ),
            },
            other => Self::Row {
                path: path.to_path_buf(),
                line: line.unwrap_or(0),
                message: format!("not readable as CSV: {other:?}"),
            },
        }
    }
}

/// Which column holds what (indices into a row).
#[derive(Clone, Debug, PartialEq)]
struct Columns {
    replication: Option<usize>,
    call_id: Option<usize>,
    received_at: Option<usize>,
    received_minutes: Option<usize>,
    call_type: usize,
    zone: Option<usize>,
    draw_key: Option<usize>,
    on_scene_minutes: Option<usize>,
    /// Both coordinate columns, or neither.
    xy: Option<(usize, usize)>,
}

impl Columns {
    fn find(path: &Path, header: &ByteRecord) -> Result<Self, StreamError> {
        let names: Vec<String> = header
            .iter()
            .map(|name| String::from_utf8_lossy(name).trim().to_string())
            .collect();
        let index = |name: &str| names.iter().position(|n| n == name);
        let missing = |column: &str| {
            let hint = match names.as_slice() {
                [only] if only.contains(';') || only.contains('\t') || only.contains('|') => {
                    " (the header is one column: is the file delimited by something other than commas? Re-save it as comma-separated)".to_string()
                }
                _ => String::new(),
            };
            StreamError::MissingColumn {
                path: path.to_path_buf(),
                column: column.to_string(),
                found: names.join(", "),
                hint,
            }
        };
        let call_type = index(CALL_TYPE).ok_or_else(|| missing(CALL_TYPE))?;
        let received_at = index(RECEIVED_AT);
        let received_minutes = index(RECEIVED_MINUTES);
        if received_at.is_none() && received_minutes.is_none() {
            return Err(missing("received_minutes` or `received_at"));
        }
        Ok(Self {
            replication: index(REPLICATION),
            call_id: index(CALL_ID),
            received_at,
            received_minutes,
            call_type,
            zone: index(ZONE),
            draw_key: index(DRAW_KEY),
            on_scene_minutes: index(ON_SCENE_MINUTES),
            xy: index(X).zip(index(Y)),
        })
    }
}

/// One row of a call stream, checked against the scenario.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StreamRow {
    /// 1-based line in the file (the header is line 1).
    pub line: u64,
    pub replication: u64,
    pub call_id: u64,
    pub received_minutes: f64,
    pub call_type: CallTypeId,
    /// `None` when the row leaves it empty: replay draws it from the scenario's zone shares.
    pub zone: Option<ZoneId>,
    pub draw_key: Option<u64>,
    pub on_scene_minutes: Option<f64>,
    /// Where the call was (`x`, `y` columns), when the row says.
    pub xy: Option<(f64, f64)>,
}

/// A block of consecutive rows that make one replication's stream.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub replication: u64,
    /// Where its first row starts.
    start: Position,
    pub calls: u64,
}

/// Parses a row's fields; shared by the checking pass and every later read.
#[derive(Clone, Debug)]
struct RowParser {
    path: PathBuf,
    columns: Columns,
    call_types: Vec<String>,
    zones: Vec<String>,
    /// Midnight of day 0 (only needed when times come from `received_at`).
    origin: Option<NaiveDateTime>,
    /// Added to the reader's line numbers (a file with Windows line ends).
    line_offset: u64,
}

/// The timestamp forms `received_at` may take.
fn parse_timestamp(text: &str) -> Option<NaiveDateTime> {
    const FORMATS: [&str; 4] = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ];
    FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
}

impl RowParser {
    /// Day 0 starts at midnight of the first call's date (less its minutes, when the file has
    /// both columns): sets the origin from the first row and returns day 0's date, for a file
    /// with `received_at`.
    fn set_origin(
        &mut self,
        record: &ByteRecord,
        line: u64,
    ) -> Result<Option<CivilDate>, StreamError> {
        if let Some(i) = self.columns.received_at {
            let (_, at) = self.received_at(record, i, line)?;
            let day0 = match self.columns.received_minutes {
                Some(_) => {
                    let minutes = self.parse(record, 0)?.received_minutes;
                    (at - chrono::Duration::milliseconds((minutes * 60_000.0).round() as i64)
                        + chrono::Duration::hours(12))
                    .date()
                }
                None => at.date(),
            };
            self.origin = Some(day0.and_hms_opt(0, 0, 0).unwrap_or(at));
            return Ok(Some(civil_date(day0)));
        }
        Ok(None)
    }

    /// The row's `received_at` (column `i`), as written and as a time.
    fn received_at<'r>(
        &self,
        record: &'r ByteRecord,
        i: usize,
        line: u64,
    ) -> Result<(&'r str, NaiveDateTime), StreamError> {
        let text = self.field(record, i, line, RECEIVED_AT)?;
        let at = parse_timestamp(text).ok_or_else(|| {
            self.bad(
                line,
                RECEIVED_AT,
                text,
                "an ISO 8601 local time, e.g. 2024-03-01T14:05:09",
            )
        })?;
        Ok((text, at))
    }

    fn field<'r>(
        &self,
        record: &'r ByteRecord,
        index: usize,
        line: u64,
        column: &str,
    ) -> Result<&'r str, StreamError> {
        let bytes = record.get(index).unwrap_or_default();
        std::str::from_utf8(bytes)
            .map(str::trim)
            .map_err(|_| StreamError::Field {
                path: self.path.clone(),
                line,
                column: column.to_string(),
                value: String::from_utf8_lossy(bytes).into_owned(),
                expected: "UTF-8 text (re-save the file as UTF-8)".to_string(),
            })
    }

    fn bad(
        &self,
        line: u64,
        column: &str,
        value: &str,
        expected: impl Into<String>,
    ) -> StreamError {
        StreamError::Field {
            path: self.path.clone(),
            line,
            column: column.to_string(),
            value: value.to_string(),
            expected: expected.into(),
        }
    }

    /// Parses one row; `index_in_block` is the call id when the file has no `call_id` column.
    fn parse(&self, record: &ByteRecord, index_in_block: u64) -> Result<StreamRow, StreamError> {
        let line = record.position().map_or(0, Position::line) + self.line_offset;
        let c = &self.columns;
        let replication = match c.replication {
            None => 0,
            Some(i) => {
                let text = self.field(record, i, line, REPLICATION)?;
                text.parse::<u64>().map_err(|_| {
                    self.bad(line, REPLICATION, text, "a replication number (0, 1, ...)")
                })?
            }
        };
        let call_id = match c.call_id {
            None => index_in_block,
            Some(i) => {
                let text = self.field(record, i, line, CALL_ID)?;
                text.parse::<u64>()
                    .map_err(|_| self.bad(line, CALL_ID, text, "a whole number >= 0"))?
            }
        };
        let received_minutes = self.received_minutes(record, line)?;
        let call_type = self.call_type(record, line)?;
        let zone = self.zone(record, line)?;
        let draw_key = self.draw_key(record, line)?;
        let on_scene_minutes = self.on_scene_minutes(record, line)?;
        let xy = self.xy(record, line)?;
        Ok(StreamRow {
            xy,
            line,
            replication,
            call_id,
            received_minutes,
            call_type,
            zone,
            draw_key,
            on_scene_minutes,
        })
    }

    /// Minutes since the stream's start: the column, or the time stamp less day 0's midnight.
    #[inline]
    fn received_minutes(&self, record: &ByteRecord, line: u64) -> Result<f64, StreamError> {
        let c = &self.columns;
        Ok(match (c.received_minutes, self.origin) {
            (Some(i), _) => {
                let text = self.field(record, i, line, RECEIVED_MINUTES)?;
                match text.parse::<f64>() {
                    Ok(m) if m.is_finite() && (0.0..=MAX_STREAM_MINUTES).contains(&m) => m,
                    _ => {
                        return Err(self.bad(
                            line,
                            RECEIVED_MINUTES,
                            text,
                            format!(
                                "minutes since the stream's start, a number from 0 to {MAX_STREAM_MINUTES} ({MAX_HORIZON_DAYS} days, the longest horizon)"
                            ),
                        ));
                    }
                }
            }
            (None, origin) => {
                let (text, at) =
                    self.received_at(record, c.received_at.unwrap_or_default(), line)?;
                let origin = origin.unwrap_or(at);
                let minutes = (at - origin).num_milliseconds() as f64 / 60_000.0;
                if minutes > MAX_STREAM_MINUTES {
                    return Err(StreamError::Row {
                        path: self.path.clone(),
                        line,
                        message: format!(
                            "`{RECEIVED_AT}` {text} is more than {MAX_HORIZON_DAYS} days (the longest horizon) after the stream's first day ({})",
                            origin.date()
                        ),
                    });
                }
                if minutes < 0.0 {
                    return Err(StreamError::Row {
                        path: self.path.clone(),
                        line,
                        message: format!(
                            "`{RECEIVED_AT}` {text} is before the stream's first day ({})",
                            origin.date()
                        ),
                    });
                }
                minutes
            }
        })
    }

    /// The row's call type, by name among the scenario's.
    #[inline]
    fn call_type(&self, record: &ByteRecord, line: u64) -> Result<CallTypeId, StreamError> {
        let c = &self.columns;
        let type_bytes = record.get(c.call_type).unwrap_or_default();
        let type_bytes = from_spreadsheet_safe(type_bytes.trim_ascii());
        Ok(
            match self
                .call_types
                .iter()
                .position(|n| n.as_bytes() == type_bytes)
            {
                Some(t) => CallTypeId(t as u16),
                None => {
                    let text = self.field(record, c.call_type, line, CALL_TYPE)?;
                    return Err(self.bad(
                        line,
                        CALL_TYPE,
                        text,
                        format!(
                            "one of the scenario's call types: {}",
                            self.call_types.join(", ")
                        ),
                    ));
                }
            },
        )
    }

    /// The row's zone, or none (drawn from the zone shares) when the column is absent or empty.
    #[inline]
    fn zone(&self, record: &ByteRecord, line: u64) -> Result<Option<ZoneId>, StreamError> {
        let c = &self.columns;
        Ok(match c.zone {
            None => None,
            Some(i) => {
                let bytes = from_spreadsheet_safe(record.get(i).unwrap_or_default().trim_ascii());
                if bytes.is_empty() {
                    None
                } else {
                    match self.zones.iter().position(|n| n.as_bytes() == bytes) {
                        Some(z) => Some(ZoneId(z as u16)),
                        None => {
                            let text = self.field(record, i, line, ZONE)?;
                            return Err(self.bad(
                            line,
                            ZONE,
                            text,
                            format!("empty (drawn from the zone shares) or one of the scenario's zones: {}", self.zones.join(", ")),
                        ));
                        }
                    }
                }
            }
        })
    }

    /// The row's draw key, if the file has one for it.
    #[inline]
    fn draw_key(&self, record: &ByteRecord, line: u64) -> Result<Option<u64>, StreamError> {
        let c = &self.columns;
        Ok(match c.draw_key {
            None => None,
            Some(i) => {
                let text = self.field(record, i, line, DRAW_KEY)?;
                if text.is_empty() {
                    None
                } else {
                    // Exactly 16 digits: from_str_radix alone takes `a` and `+abc` too.
                    let key = (text.len() == 16 && text.bytes().all(|b| b.is_ascii_hexdigit()))
                        .then(|| u64::from_str_radix(text, 16).ok())
                        .flatten();
                    Some(key.ok_or_else(|| {
                        self.bad(
                            line,
                            DRAW_KEY,
                            text,
                            "16 hexadecimal digits, or empty (drawn from the seed)",
                        )
                    })?)
                }
            }
        })
    }

    /// The row's observed on-scene minutes, if the file has them.
    #[inline]
    /// The row's coordinates: both numbers, or both empty.
    fn xy(&self, record: &ByteRecord, line: u64) -> Result<Option<(f64, f64)>, StreamError> {
        let Some((x, y)) = self.columns.xy else {
            return Ok(None);
        };
        let (x_text, y_text) = (
            self.field(record, x, line, X)?,
            self.field(record, y, line, Y)?,
        );
        if x_text.is_empty() && y_text.is_empty() {
            return Ok(None);
        }
        let number = |text: &str, column: &str| {
            text.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    self.bad(
                        line,
                        column,
                        text,
                        "a coordinate (a finite number; x and y both given or both empty)",
                    )
                })
        };
        Ok(Some((number(x_text, X)?, number(y_text, Y)?)))
    }

    fn on_scene_minutes(&self, record: &ByteRecord, line: u64) -> Result<Option<f64>, StreamError> {
        let c = &self.columns;
        Ok(match c.on_scene_minutes {
            None => None,
            Some(i) => {
                let text = self.field(record, i, line, ON_SCENE_MINUTES)?;
                if text.is_empty() {
                    None
                } else {
                    match text.parse::<f64>() {
                        Ok(m) if m.is_finite() && m >= 0.0 => Some(m),
                        _ => {
                            return Err(self.bad(
                                line,
                                ON_SCENE_MINUTES,
                                text,
                                "minutes, a number >= 0, or empty",
                            ));
                        }
                    }
                }
            }
        })
    }
}

/// A checked call-stream file: where each replication's rows are, and what the stream spans.
#[derive(Clone, Debug)]
pub struct StreamFile {
    pub path: PathBuf,
    parser: RowParser,
    pub blocks: Vec<Block>,
    /// Rows in the whole file.
    pub calls: u64,
    /// Day 0 of the stream (from `received_at`, else the scenario's start date).
    pub start_date: CivilDate,
    /// The latest `received_minutes` in the file.
    pub last_minutes: f64,
    /// Whether the file carries its own per-call draw keys.
    pub has_draw_keys: bool,
    /// Whether the file has an `on_scene_minutes` column.
    pub has_on_scene: bool,
    /// A hash of every parsed value: tells streams apart in checkpoints and merged shards.
    pub fingerprint: u64,
    /// Rows with the same time, call type and zone as the row before (kept: two calls can
    /// come in the same second, but many suggest one incident exported once per unit).
    pub same_as_previous: u64,
    /// The first such row's line.
    pub first_same_as_previous: Option<u64>,
}

impl PartialEq for StreamFile {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path && self.fingerprint == other.fingerprint
    }
}

fn open_reader(path: &Path) -> Result<csv::Reader<File>, StreamError> {
    let file = File::open(path).map_err(StreamError::io(path))?;
    Ok(csv::ReaderBuilder::new()
        .has_headers(true)
        .buffer_capacity(1 << 16)
        .from_reader(file))
}

/// A row within a replication must come after the previous one: not earlier, and with a
/// higher call id.
fn check_order(path: &Path, row: &StreamRow, p: &StreamRow) -> Result<(), StreamError> {
    if row.received_minutes < p.received_minutes {
        return Err(StreamError::Row {
            path: path.to_path_buf(),
            line: row.line,
            message: format!(
                "calls are out of order: received at minute {} after a call at minute {} (line {}); sort the file by received time",
                row.received_minutes, p.received_minutes, p.line
            ),
        });
    }
    if row.call_id <= p.call_id {
        return Err(StreamError::Row {
            path: path.to_path_buf(),
            line: row.line,
            message: format!(
                "call_id {} {} call_id {} on line {}: ids must rise through a replication",
                row.call_id,
                if row.call_id == p.call_id {
                    "repeats"
                } else {
                    "comes after"
                },
                p.call_id,
                p.line
            ),
        });
    }
    Ok(())
}

/// The stream's fingerprint with one more row folded in.
fn fold_fingerprint(fingerprint: u64, row: &StreamRow) -> u64 {
    [
        row.replication,
        row.call_id,
        row.received_minutes.to_bits(),
        u64::from(row.call_type.0),
        row.zone.map_or(u64::MAX, |z| u64::from(z.0)),
        row.draw_key.unwrap_or(u64::MAX),
    ]
    .into_iter()
    .fold(fingerprint, |h, v| {
        rng::mix64(h ^ v).wrapping_add(0x9e37_79b9_7f4a_7c15)
    })
}

impl StreamFile {
    /// Opens and checks a call stream against the scenario whose call types and zones it names.
    /// Reads the whole file once; holds only a few numbers per replication block.
    pub fn open(path: &Path, scenario: &Scenario) -> Result<Self, StreamError> {
        let mut reader = open_reader(path)?;
        let header = reader
            .byte_headers()
            .map_err(|e| StreamError::csv(path, e, 0))?
            .clone();
        if header.is_empty() || (header.len() == 1 && header[0].is_empty()) {
            return Err(StreamError::Empty {
                path: path.to_path_buf(),
            });
        }
        let columns = Columns::find(path, &header)?;
        let mut parser = RowParser {
            path: path.to_path_buf(),
            columns,
            call_types: scenario.call_types.iter().map(|t| t.name.clone()).collect(),
            zones: scenario.zones.iter().map(|z| z.name.clone()).collect(),
            origin: None,
            line_offset: crate::calls::crlf_line_offset(path),
        };
        let mut record = ByteRecord::new();
        let mut blocks: Vec<Block> = Vec::new();
        let mut previous: Option<StreamRow> = None;
        let mut start_date = scenario.start_date;
        let mut last_minutes: f64 = 0.0;
        let mut fingerprint: u64 = 0x6361_6c6c_7321;
        let mut calls = 0u64;
        let (mut same_as_previous, mut first_same_as_previous) = (0u64, None);
        loop {
            let start = reader.position().clone();
            match reader.read_byte_record(&mut record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => return Err(StreamError::csv(path, e, parser.line_offset)),
            }
            let start = record.position().cloned().unwrap_or(start);
            if calls == 0
                && let Some(day0) = parser.set_origin(&record, start.line() + parser.line_offset)?
            {
                start_date = day0;
            }
            let index_in_block = match (&previous, blocks.last()) {
                (Some(p), Some(b)) if p.replication == b.replication => b.calls,
                _ => 0,
            };
            let mut row = parser.parse(&record, index_in_block)?;
            let new_block = previous.is_none_or(|p| p.replication != row.replication);
            if new_block {
                let expected = blocks.last().map_or(0, |b| b.replication + 1);
                if row.replication != expected {
                    return Err(StreamError::Row {
                        path: path.to_path_buf(),
                        line: row.line,
                        message: format!(
                            "replication {} where {expected} was expected: rows must be grouped by replication, 0, 1, 2, ... in order",
                            row.replication
                        ),
                    });
                }
                if parser.columns.call_id.is_none() {
                    row.call_id = 0;
                }
                blocks.push(Block {
                    replication: row.replication,
                    start,
                    calls: 0,
                });
            } else if let Some(p) = &previous {
                if row.received_minutes == p.received_minutes
                    && row.call_type == p.call_type
                    && row.zone == p.zone
                {
                    same_as_previous += 1;
                    first_same_as_previous.get_or_insert(row.line);
                }
                check_order(path, &row, p)?;
            }
            if let Some(block) = blocks.last_mut() {
                block.calls += 1;
            }
            last_minutes = last_minutes.max(row.received_minutes);
            fingerprint = fold_fingerprint(fingerprint, &row);
            calls += 1;
            previous = Some(row);
        }
        if calls == 0 {
            return Err(StreamError::NoCalls {
                path: path.to_path_buf(),
            });
        }
        Ok(Self {
            path: path.to_path_buf(),
            has_draw_keys: parser.columns.draw_key.is_some(),
            has_on_scene: parser.columns.on_scene_minutes.is_some(),
            parser,
            blocks,
            calls,
            start_date,
            last_minutes,
            fingerprint,
            same_as_previous,
            first_same_as_previous,
        })
    }

    /// Whole days from day 0 to the end of the last call's day.
    pub fn days(&self) -> f64 {
        ((self.last_minutes / MINUTES_PER_DAY) as u64 + 1) as f64
    }

    /// Replications the file holds rows for (1 when it has no `replication` column).
    pub fn replications(&self) -> u64 {
        self.blocks.len() as u64
    }

    /// Sets the scenario up to replay this stream: its start date and horizon, and a
    /// fingerprint and source naming both files.
    pub fn apply_to(&self, scenario: &mut Scenario) {
        scenario.start_date = self.start_date;
        scenario.horizon_days = self.days();
        scenario.source = format!("{} replaying {}", scenario.source, self.path.display());
        scenario.fingerprint = format!("{}+{:016x}", scenario.fingerprint, self.fingerprint);
    }

    /// Fails unless `replications` replications can be replayed.
    pub fn check_replications(&self, replications: u64) -> Result<(), StreamError> {
        if self.replications() > 1 && replications > self.replications() {
            return Err(StreamError::TooFewReplications {
                path: self.path.clone(),
                available: self.replications(),
                asked: replications,
            });
        }
        Ok(())
    }

    /// The rows of one block, read from disk as they are consumed.
    pub fn rows(&self, block: usize) -> Result<StreamRows<'_>, StreamError> {
        let block = &self.blocks[block];
        let mut reader = open_reader(&self.path)?;
        let offset = self.parser.line_offset;
        reader
            .byte_headers()
            .map_err(|e| StreamError::csv(&self.path, e, 0))?;
        reader
            .seek(block.start.clone())
            .map_err(|e| StreamError::csv(&self.path, e, offset))?;
        Ok(StreamRows {
            reader,
            record: ByteRecord::new(),
            parser: &self.parser,
            remaining: block.calls,
            index: 0,
            error: None,
        })
    }

    /// The calls of replication `replication`, with the per-call draw keys the file holds for
    /// it, or else keys derived from `seed` (so replications of a one-replication stream, such
    /// as a city's real calls, differ in their on-scene times, triage and outcomes).
    pub fn calls(
        &self,
        scenario: &Scenario,
        seed: u64,
        replication: u64,
    ) -> Result<StreamCalls<'_>, StreamError> {
        self.check_replications(replication + 1)?;
        let block = if self.replications() == 1 {
            0
        } else {
            replication as usize
        };
        let stored_keys = self.blocks[block].replication == replication;
        Ok(StreamCalls {
            rows: self.rows(block)?,
            stored_keys,
            replication_key: rng::replication_key(seed, replication),
            zones: Categorical::new(scenario.zones.iter().map(|z| z.share)),
            centers: scenario.zones.iter().filter_map(|z| z.center).collect(),
        })
    }
}

fn civil_date(date: NaiveDate) -> CivilDate {
    use chrono::Datelike;
    CivilDate {
        year: date.year(),
        month: date.month() as u8,
        day: date.day() as u8,
    }
}

/// A block's rows, parsed as they are read.
pub struct StreamRows<'a> {
    reader: csv::Reader<File>,
    record: ByteRecord,
    parser: &'a RowParser,
    remaining: u64,
    index: u64,
    /// Set when a read fails (the file changed since it was checked); the rows end there.
    error: Option<StreamError>,
}

impl StreamRows<'_> {
    /// The error that ended the rows early, if any.
    pub fn take_error(&mut self) -> Option<StreamError> {
        self.error.take()
    }
}

impl Iterator for StreamRows<'_> {
    type Item = StreamRow;

    fn next(&mut self) -> Option<StreamRow> {
        if self.remaining == 0 || self.error.is_some() {
            return None;
        }
        let row = match self.reader.read_byte_record(&mut self.record) {
            Ok(true) => self.parser.parse(&self.record, self.index),
            Ok(false) => Err(StreamError::Row {
                path: self.parser.path.clone(),
                line: self.reader.position().line() + self.parser.line_offset,
                message: "the file ended early: it changed after it was checked".to_string(),
            }),
            Err(e) => Err(StreamError::csv(
                &self.parser.path,
                e,
                self.parser.line_offset,
            )),
        };
        match row {
            Ok(row) => {
                self.remaining -= 1;
                self.index += 1;
                Some(row)
            }
            Err(e) => {
                self.error = Some(e);
                None
            }
        }
    }
}

/// The calls of one replication of a stream, as the engine consumes them.
pub struct StreamCalls<'a> {
    rows: StreamRows<'a>,
    stored_keys: bool,
    replication_key: u64,
    zones: Categorical,
    /// The zones' centres (empty when they have none).
    centers: Vec<[f64; 2]>,
}

impl StreamCalls<'_> {
    /// The error that ended the stream early, if any: check after simulating.
    pub fn take_error(&mut self) -> Option<StreamError> {
        self.rows.take_error()
    }
}

impl Iterator for StreamCalls<'_> {
    type Item = Call;

    fn next(&mut self) -> Option<Call> {
        let row = self.rows.next()?;
        let draw_key = match row.draw_key {
            Some(key) if self.stored_keys => key,
            _ => rng::call_key(self.replication_key, row.call_id),
        };
        // The row's zone; else the zone of the nearest centre to its coordinates; else drawn.
        let nearest = |(x, y): (f64, f64)| {
            crate::scenario::nearest_center(&self.centers, x, y).map(|i| ZoneId(i as u16))
        };
        let zone = row
            .zone
            .or_else(|| row.xy.and_then(nearest))
            .unwrap_or_else(|| ZoneId(self.zones.pick(draw_key, Purpose::Zone) as u16));
        Some(Call {
            id: row.call_id,
            received_minutes: row.received_minutes,
            call_type: row.call_type,
            zone,
            draw_key,
        })
    }
}

#[cfg(test)]
mod tests;
