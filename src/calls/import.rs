//! `import`: turns a city's calls-for-service export (each city has its own columns, time
//! formats and call-type codes) into a call stream, following a mapping file. Rows that cannot
//! be used are counted and reported with their line numbers, never dropped silently and never
//! fatal (unless `--strict`), so a million-row export with a few bad rows still imports.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use csv::ByteRecord;
use serde::Deserialize;

use crate::calls::stream::{CALL_COLUMNS, ON_SCENE_MINUTES, SOURCE_ID, StreamWriter, X, Y};
use crate::output::spreadsheet_safe;
use crate::scenario::Scenario;

/// How many example rows each kind of problem lists.
const EXAMPLES: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("mapping {}: {message}", path.display())]
    Mapping { path: PathBuf, message: String },
    #[error("{}: the file is empty; expected a header row naming the columns", path.display())]
    Empty { path: PathBuf },
    #[error("{}: {message}", raw.display())]
    MissingColumn { raw: PathBuf, message: String },
    #[error("{}: no calls could be imported\n{report}", path.display())]
    NothingImported { path: PathBuf, report: String },
    #[error(
        "{}: more than {} rows; an import holds its calls in memory to sort them (about 60 bytes each): split the export (by year, say) and import each part",
        path.display(),
        MAX_IMPORT_ROWS
    )]
    TooManyRows { path: PathBuf },
    #[error(
        "{path}: strict import, and some rows could not be imported (nothing was written)\n{report}"
    )]
    Strict { path: PathBuf, report: String },
    #[error(
        "{}: the calls span {days:.0} days, from {first} (line {first_line}) to {last} (line {last_line}), more than the longest horizon ({max} days); a stream could not replay them. Check the mapping's time formats (a two-digit year read as a year of the first century, say), or split the export",
        path.display(),
        max = crate::scenario::MAX_HORIZON_DAYS
    )]
    TooLong {
        path: PathBuf,
        days: f64,
        first: String,
        first_line: u64,
        last: String,
        last_line: u64,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A string or a list of strings in the mapping file.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn to_vec(&self) -> Vec<String> {
        match self {
            Self::One(one) => vec![one.clone()],
            Self::Many(many) => many.clone(),
        }
    }
}

/// The mapping file, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    #[serde(default)]
    source: RawSource,
    received: RawTime,
    /// The first unit dispatched, and en route: with them the stream keeps the timestamp chain.
    dispatched: Option<RawTime>,
    enroute: Option<RawTime>,
    arrived: Option<RawTime>,
    cleared: Option<RawTime>,
    call_type: RawCallType,
    priority: Option<RawPriority>,
    zone: Option<RawZone>,
    /// Where the call was, in projected units (feet or metres): kept for `fit --zones`.
    coordinates: Option<RawCoordinates>,
    #[serde(default)]
    exclude: Vec<RawExclude>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCoordinates {
    x: OneOrMany,
    y: OneOrMany,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    name: Option<String>,
    delimiter: Option<String>,
    id: Option<OneOrMany>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTime {
    column: Option<OneOrMany>,
    format: Option<OneOrMany>,
    date_column: Option<OneOrMany>,
    date_format: Option<OneOrMany>,
    time_column: Option<OneOrMany>,
    time_format: Option<OneOrMany>,
}

/// `[priority]`: a column, read as it is or, with `from = "mpds_letter"`, as the determinant
/// letter of a leading MPDS code (`26A1 SICK PRSN` is `A`; a text without one is `none`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPriority {
    column: OneOrMany,
    from: Option<PriorityFrom>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum PriorityFrom {
    MpdsLetter,
}

/// The determinant letter of an MPDS code at the start of `text` (digits, then a letter A-E
/// or O for Omega): `26A1 SICK PRSN` is `A`, `127D1 SUICIDE ATMPT` is `D`; anything else is
/// `none`.
fn mpds_letter(text: &str) -> &str {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    match text.as_bytes().get(digits) {
        Some(b'A'..=b'E' | b'O') if digits > 0 => &text[digits..=digits],
        _ => "none",
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCallType {
    column: OneOrMany,
    default: Option<String>,
    #[serde(default)]
    rule: Vec<RawRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(rename = "type")]
    call_type: String,
    #[serde(default)]
    codes: Vec<String>,
    #[serde(default)]
    contains: Vec<String>,
    /// Priorities (as `[priority]` reads them: the MPDS letter, say) the row must have.
    #[serde(default)]
    priority: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawZone {
    column: OneOrMany,
    #[serde(default)]
    map: HashMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExclude {
    column: OneOrMany,
    values: Vec<String>,
    reason: Option<String>,
}

/// How a time is read: one column, or a date column and a time column.
#[derive(Clone, Debug)]
enum TimeSource {
    One {
        column: usize,
        formats: Vec<String>,
    },
    Split {
        date: usize,
        date_formats: Vec<String>,
        time: usize,
        time_formats: Vec<String>,
    },
}

/// ISO 8601 forms, tried when a mapping gives no format (or says `iso`).
const ISO_FORMATS: [&str; 6] = [
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.fZ",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
];

fn parse_with(text: &str, formats: &[String]) -> Option<NaiveDateTime> {
    formats.iter().find_map(|format| match format.as_str() {
        "iso" => ISO_FORMATS.iter().find_map(|f| {
            NaiveDateTime::parse_from_str(text, f).ok().or_else(|| {
                NaiveDate::parse_from_str(text, f)
                    .ok()
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
            })
        }),
        "epoch_ms" | "epoch_s" => {
            let value: i64 = text.parse().ok()?;
            let ms = if format == "epoch_s" {
                value.checked_mul(1000)?
            } else {
                value
            };
            chrono::DateTime::from_timestamp_millis(ms).map(|t| t.naive_utc())
        }
        format => NaiveDateTime::parse_from_str(text, format)
            .ok()
            .or_else(|| {
                NaiveDate::parse_from_str(text, format)
                    .ok()
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
            }),
    })
}

impl TimeSource {
    /// The time in the row, or the text that failed to parse (`None` for an empty field).
    fn read(&self, record: &ByteRecord) -> Result<Option<NaiveDateTime>, String> {
        let text = |i: usize| {
            String::from_utf8_lossy(record.get(i).unwrap_or_default())
                .trim()
                .to_string()
        };
        match self {
            Self::One { column, formats } => {
                let value = text(*column);
                if value.is_empty() {
                    return Ok(None);
                }
                parse_with(&value, formats).map(Some).ok_or(value)
            }
            Self::Split {
                date,
                date_formats,
                time,
                time_formats,
            } => {
                let (date_text, time_text) = (text(*date), text(*time));
                if date_text.is_empty() {
                    return Ok(None);
                }
                let day = parse_with(&date_text, date_formats).map(|t| t.date());
                let clock = time_formats
                    .iter()
                    .find_map(|f| NaiveTime::parse_from_str(&time_text, f).ok());
                match (day, clock) {
                    (Some(day), Some(clock)) => Ok(Some(day.and_time(clock))),
                    _ => Err(format!("{date_text} {time_text}")),
                }
            }
        }
    }
}

/// One call-type rule: raw codes that map to a scenario call type.
#[derive(Clone, Debug)]
struct Rule {
    call_type: u16,
    /// Upper-cased, trimmed.
    codes: HashSet<String>,
    /// Upper-cased substrings.
    contains: Vec<String>,
    /// Upper-cased priorities the row must have (empty: any).
    priority: HashSet<String>,
    label: String,
}

/// A mapping file checked against the scenario and resolved against the export's header.
struct Mapping {
    id: Option<usize>,
    received: TimeSource,
    dispatched: Option<TimeSource>,
    enroute: Option<TimeSource>,
    arrived: Option<TimeSource>,
    cleared: Option<TimeSource>,
    call_type: usize,
    rules: Vec<Rule>,
    default_type: Option<u16>,
    priority: Option<usize>,
    /// How the priority column is read (`None`: as it is).
    priority_from: Option<PriorityFrom>,
    zone: Option<(usize, HashMap<String, u16>)>,
    coordinates: Option<(usize, usize)>,
    exclude: Vec<(usize, HashSet<String>, String)>,
}

fn read_mapping(path: &Path) -> Result<(RawMapping, u8), ImportError> {
    let text = std::fs::read_to_string(path).map_err(|source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mapping_error = |message: String| ImportError::Mapping {
        path: path.to_path_buf(),
        message,
    };
    let raw: RawMapping = toml::from_str(&text).map_err(|e| mapping_error(e.to_string()))?;
    let delimiter = match raw.source.delimiter.as_deref() {
        None => b',',
        Some("\\t") | Some("\t") => b'\t',
        Some(d) if d.len() == 1 => d.as_bytes()[0],
        Some(d) => {
            return Err(mapping_error(format!(
                "source.delimiter: expected one character (\",\", \";\", \"|\" or \"\\t\"), found `{d}`"
            )));
        }
    };
    Ok((raw, delimiter))
}

impl Mapping {
    fn resolve(
        raw: &RawMapping,
        delimiter: u8,
        scenario: &Scenario,
        header: &[String],
        mapping_path: &Path,
        raw_path: &Path,
    ) -> Result<Self, ImportError> {
        let resolver = Resolver {
            scenario,
            header,
            mapping_path,
            missing: std::cell::RefCell::new(Vec::new()),
        };
        let mapping_error = |message: String| resolver.error(message);
        let column = |field: &str, names: &OneOrMany| resolver.column(field, names);
        let type_id = |field: &str, name: &str| resolver.type_id(field, name);
        let time = |field: &str, raw: &RawTime| resolver.time(field, raw);
        let rules = raw
            .call_type
            .rule
            .iter()
            .enumerate()
            .map(|(i, rule)| {
                if rule.codes.is_empty() && rule.contains.is_empty() && rule.priority.is_empty() {
                    return Err(mapping_error(format!(
                        "call_type.rule[{}] (type `{}`): expected `codes`, `contains` or `priority` to match",
                        i + 1,
                        rule.call_type
                    )));
                }
                if !rule.priority.is_empty() && raw.priority.is_none() {
                    return Err(mapping_error(format!(
                        "call_type.rule[{}] (type `{}`): `priority` needs a [priority] section to read it from",
                        i + 1,
                        rule.call_type
                    )));
                }
                let mut label: Vec<String> = rule.codes.iter().take(3).cloned().collect();
                label.extend(rule.contains.iter().take(3).map(|c| format!("*{c}*")));
                if rule.codes.len() + rule.contains.len() > label.len() {
                    label.push("...".to_string());
                }
                if !rule.priority.is_empty() {
                    label.push(format!("priority {}", rule.priority.join("/")));
                }
                Ok(Rule {
                    call_type: type_id(
                        &format!("call_type.rule[{}].type", i + 1),
                        &rule.call_type,
                    )?,
                    codes: rule.codes.iter().map(|c| c.trim().to_uppercase()).collect(),
                    contains: rule.contains.iter().map(|c| c.to_uppercase()).collect(),
                    priority: rule.priority.iter().map(|p| p.trim().to_uppercase()).collect(),
                    label: label.join(", "),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let zone = match &raw.zone {
            None => None,
            Some(z) => {
                let mut map = HashMap::new();
                for (code, name) in &z.map {
                    let id = scenario.zones.iter().position(|zone| &zone.name == name).ok_or_else(|| {
                        mapping_error(format!(
                            "zone.map.\"{code}\": `{name}` is not a zone of the scenario; expected one of: {}",
                            scenario.zones.iter().map(|z| z.name.as_str()).collect::<Vec<_>>().join(", ")
                        ))
                    })?;
                    map.insert(code.trim().to_uppercase(), id as u16);
                }
                Some((column("zone.column", &z.column)?, map))
            }
        };
        let coordinates = match &raw.coordinates {
            None => None,
            Some(c) => Some((
                column("coordinates.x", &c.x)?,
                column("coordinates.y", &c.y)?,
            )),
        };
        let mapping = Self {
            coordinates,
            id: raw
                .source
                .id
                .as_ref()
                .map(|c| column("source.id", c))
                .transpose()?,
            received: time("received", &raw.received)?,
            dispatched: raw
                .dispatched
                .as_ref()
                .map(|t| time("dispatched", t))
                .transpose()?,
            enroute: raw
                .enroute
                .as_ref()
                .map(|t| time("enroute", t))
                .transpose()?,
            arrived: raw
                .arrived
                .as_ref()
                .map(|t| time("arrived", t))
                .transpose()?,
            cleared: raw
                .cleared
                .as_ref()
                .map(|t| time("cleared", t))
                .transpose()?,
            call_type: column("call_type.column", &raw.call_type.column)?,
            rules,
            default_type: raw
                .call_type
                .default
                .as_deref()
                .map(|name| type_id("call_type.default", name))
                .transpose()?,
            priority: raw
                .priority
                .as_ref()
                .map(|p| column("priority.column", &p.column))
                .transpose()?,
            priority_from: raw.priority.as_ref().and_then(|p| p.from),
            zone,
            exclude: raw
                .exclude
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    Ok((
                        column(&format!("exclude[{}].column", i + 1), &e.column)?,
                        e.values.iter().map(|v| v.trim().to_uppercase()).collect(),
                        e.reason
                            .clone()
                            .unwrap_or_else(|| format!("excluded by exclude[{}]", i + 1)),
                    ))
                })
                .collect::<Result<Vec<_>, ImportError>>()?,
        };
        let missing = resolver.missing.into_inner();
        if missing.is_empty() {
            return Ok(mapping);
        }
        let hint = if header.len() == 1 {
            format!(
                " (the header reads as one column: is the file delimited by something other than `{}`? Set source.delimiter)",
                delimiter as char
            )
        } else {
            String::new()
        };
        Err(ImportError::MissingColumn {
            raw: raw_path.to_path_buf(),
            message: format!(
                "no column {} named by mapping {}{hint}; the header has: {}",
                missing.join(", no column "),
                mapping_path.display(),
                header.join(", ")
            ),
        })
    }

    /// Every column the mapping reads.
    fn used_columns(&self) -> Vec<usize> {
        let time = |t: &TimeSource| match t {
            TimeSource::One { column, .. } => vec![*column],
            TimeSource::Split { date, time, .. } => vec![*date, *time],
        };
        let mut used = vec![self.call_type];
        used.extend(time(&self.received));
        used.extend(
            self.dispatched
                .iter()
                .chain(&self.enroute)
                .chain(&self.arrived)
                .chain(&self.cleared)
                .flat_map(time),
        );
        used.extend(self.id.iter().chain(&self.priority));
        used.extend(self.zone.iter().map(|(c, _)| *c));
        used.extend(self.exclude.iter().map(|(c, _, _)| *c));
        used.sort_unstable();
        used.dedup();
        used
    }

    /// The rule index (or `None` for the default) and call type of a raw code with the row's
    /// priority (as read): the first rule whose codes or substrings match, and whose
    /// priorities (if it lists any) include the row's.
    fn classify(&self, code: &str, priority: &str) -> Option<(Option<usize>, u16)> {
        let upper = code.trim().to_uppercase();
        let priority = priority.trim().to_uppercase();
        self.rules
            .iter()
            .enumerate()
            .find(|(_, rule)| {
                let by_code = rule.codes.contains(&upper)
                    || rule.contains.iter().any(|c| upper.contains(c.as_str()));
                let codes_given = !(rule.codes.is_empty() && rule.contains.is_empty());
                (by_code || !codes_given)
                    && (rule.priority.is_empty() || rule.priority.contains(&priority))
            })
            .map(|(i, rule)| (Some(i), rule.call_type))
            .or_else(|| self.default_type.map(|t| (None, t)))
    }
}

/// Rows of one kind of problem: how many, and the first few.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Problem {
    pub rows: u64,
    /// `(line, what)`.
    pub examples: Vec<(u64, String)>,
}

impl Problem {
    fn add(&mut self, line: u64, what: impl FnOnce() -> String) {
        self.rows += 1;
        if self.examples.len() < EXAMPLES {
            self.examples.push((line, what()));
        }
    }
}

/// The most rows one import reads (its calls are held in memory to be sorted by time).
pub const MAX_IMPORT_ROWS: u64 = 50_000_000;

/// What an import did with every row.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImportReport {
    pub source_name: Option<String>,
    pub rows_read: u64,
    /// Lines of the file after the header (rows plus any line ends inside quoted fields).
    pub lines_read: u64,
    /// Rows with a line end inside a quoted field: a multi-line field, or a quote left open
    /// that swallowed the lines after it (each such row merges several lines into one).
    pub spanning: Problem,
    pub imported: u64,
    /// `(reason, rows)` per exclude rule.
    pub excluded: Vec<(String, u64)>,
    /// Repeated rows of an incident already imported (one row per responding unit).
    pub duplicates_merged: u64,
    pub bad_time: Problem,
    pub unknown_code: Problem,
    pub malformed: Problem,
    /// `(rule label, scenario type, rows)`, in rule order.
    pub rule_matches: Vec<(String, String, u64)>,
    /// Rows that went to the default type, and their most common codes.
    pub defaulted: u64,
    pub top_defaulted_codes: Vec<(String, u64)>,
    pub top_unknown_codes: Vec<(String, u64)>,
    /// Rows whose zone value is not in the map (their zone is drawn from the scenario shares).
    pub unmapped_zone: u64,
    /// Rows with arrival and clear times, and those without.
    pub with_on_scene: u64,
    pub without_on_scene: u64,
    /// With the timestamp chain: calls missing a stamp of it, and calls whose stamps are out
    /// of order (their chain dropped), with the first such line.
    pub chain_incomplete: u64,
    /// With `[coordinates]`: calls without a usable x and y.
    pub without_coordinates: u64,
    pub chain_out_of_order: u64,
    pub first_chain_out_of_order: Option<u64>,
    /// Imported rows with the same time, type and zone as the one before them.
    pub possible_duplicates: Problem,
    pub first: Option<NaiveDateTime>,
    pub last: Option<NaiveDateTime>,
    pub output: Option<PathBuf>,
}

impl ImportReport {
    /// Rows that could not be imported, or not as the file's lines (what `--strict` refuses).
    pub fn rejected(&self) -> u64 {
        self.bad_time.rows + self.unknown_code.rows + self.malformed.rows + self.spanning.rows
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let n = |v: u64| crate::output::format_number(v as f64, 0);
        // Shares of the file's lines: rows merged by a quote left open count against the import.
        let lines = self.lines_read.max(self.rows_read);
        let pct = |v: u64| {
            if lines == 0 {
                String::new()
            } else {
                format!(" ({:.1}%)", 100.0 * v as f64 / lines as f64)
            }
        };
        if let Some(name) = &self.source_name {
            let _ = writeln!(out, "Format: {name}");
        }
        if self.lines_read > self.rows_read {
            let _ = writeln!(
                out,
                "Rows read:                 {} (from {} lines)",
                n(self.rows_read),
                n(self.lines_read)
            );
        } else {
            let _ = writeln!(out, "Rows read:                 {}", n(self.rows_read));
        }
        let _ = writeln!(
            out,
            "Calls imported:            {}{}",
            n(self.imported),
            pct(self.imported)
        );
        for (reason, rows) in &self.excluded {
            let _ = writeln!(out, "Excluded, {reason}: {}{}", n(*rows), pct(*rows));
        }
        if self.duplicates_merged > 0 {
            let _ = writeln!(
                out,
                "Merged, repeat rows of one incident (one per unit): {}{}",
                n(self.duplicates_merged),
                pct(self.duplicates_merged)
            );
        }
        let problem = |out: &mut String, title: &str, p: &Problem| {
            if p.rows > 0 {
                let _ = writeln!(out, "{title}: {}{}", n(p.rows), pct(p.rows));
                for (line, what) in &p.examples {
                    let _ = writeln!(out, "  line {line}: {what}");
                }
            }
        };
        problem(&mut out, "NOT imported, unreadable time", &self.bad_time);
        problem(
            &mut out,
            "NOT imported, call type not in the mapping (add a rule or a default)",
            &self.unknown_code,
        );
        if !self.top_unknown_codes.is_empty() {
            let _ = writeln!(out, "  most common: {}", codes(&self.top_unknown_codes));
        }
        problem(&mut out, "NOT imported, malformed row", &self.malformed);
        problem(
            &mut out,
            "Rows over several lines (a quoted field holds line ends; a quote left open swallows the lines after it)",
            &self.spanning,
        );
        if !self.rule_matches.is_empty() {
            let _ = writeln!(out, "Call-type rules (rows matched):");
            for (label, call_type, rows) in &self.rule_matches {
                let _ = writeln!(out, "  {:>9}  {call_type:<22} {label}", n(*rows));
            }
        }
        if self.defaulted > 0 {
            let _ = writeln!(
                out,
                "  {:>9}  (default)              most common: {}",
                n(self.defaulted),
                codes(&self.top_defaulted_codes)
            );
        }
        if self.unmapped_zone > 0 {
            let _ = writeln!(
                out,
                "Zone not in the mapping (drawn from the scenario's zone shares): {}{}",
                n(self.unmapped_zone),
                pct(self.unmapped_zone)
            );
        }
        if self.with_on_scene + self.without_on_scene > 0 {
            let _ = writeln!(
                out,
                "On-scene time (arrived to cleared): {} calls have it, {} do not",
                n(self.with_on_scene),
                n(self.without_on_scene)
            );
        }
        if self.chain_incomplete + self.chain_out_of_order > 0 {
            let _ = writeln!(
                out,
                "Timestamp chain (dispatched, en route, arrived, cleared): {} calls miss a stamp; {} have stamps out of order, their chain dropped{}",
                n(self.chain_incomplete),
                n(self.chain_out_of_order),
                self.first_chain_out_of_order
                    .map_or(String::new(), |line| format!(" (first on line {line})"))
            );
        }
        if self.without_coordinates > 0 {
            let _ = writeln!(
                out,
                "Coordinates: {} calls have no usable x and y, or (0, 0) (kept, without them)",
                n(self.without_coordinates)
            );
        }
        problem(
            &mut out,
            "Warning, same time, type and zone as the previous call (duplicates? kept; set source.id to merge)",
            &self.possible_duplicates,
        );
        if let (Some(first), Some(last)) = (self.first, self.last) {
            let days = ((last.date() - first.date()).num_days() + 1) as f64;
            let _ = writeln!(
                out,
                "Calls from {first} to {last}: {} days, {:.1} calls a day",
                days,
                self.imported as f64 / days
            );
        }
        out
    }
}

fn codes(list: &[(String, u64)]) -> String {
    list.iter()
        .map(|(code, rows)| format!("`{code}` ({rows})"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn top(counts: HashMap<String, u64>, k: usize) -> Vec<(String, u64)> {
    let mut list: Vec<(String, u64)> = counts.into_iter().collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    list.truncate(k);
    list
}

/// One imported call, held until all are read and sorted by time.
struct Imported {
    at: NaiveDateTime,
    line: u64,
    call_type: u16,
    zone: Option<u16>,
    /// Index into the distinct priority texts.
    priority: u32,
    on_scene_minutes: Option<f64>,
    /// Minutes after receipt of the first dispatch, en route, arrival and last clear (NaN
    /// where missing); all NaN unless the mapping keeps the chain.
    chain: [f32; 4],
    xy: Option<(f64, f64)>,
    source_id: Option<Box<str>>,
}

/// `crisis-sim import`: reads `raw`, maps it with `mapping_path` onto the scenario's call types
/// and zones, and writes a call stream to `output` (sorted by time, day 0 = the first call's
/// date). With `strict`, any row that cannot be imported is an error and nothing is written.
pub fn import(
    raw_path: &Path,
    mapping_path: &Path,
    scenario: &Scenario,
    output: &Path,
    strict: bool,
) -> Result<ImportReport, ImportError> {
    let (raw_mapping, delimiter) = read_mapping(mapping_path)?;
    let (mut reader, header) = read_header(raw_path, delimiter)?;
    let mapping = Mapping::resolve(
        &raw_mapping,
        delimiter,
        scenario,
        &header,
        mapping_path,
        raw_path,
    )?;

    let mut report = ImportReport {
        source_name: raw_mapping.source.name.clone(),
        excluded: mapping
            .exclude
            .iter()
            .map(|(_, _, reason)| (reason.clone(), 0))
            .collect(),
        ..ImportReport::default()
    };
    let mut tallies = Tallies {
        rule_rows: vec![0u64; mapping.rules.len()],
        ..Tallies::default()
    };
    let mut calls: Vec<Imported> = Vec::new();
    let used = mapping.used_columns();
    let mut record = ByteRecord::new();
    let header_lines = reader.position().line();
    let line_offset = crate::calls::crlf_line_offset(raw_path);
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                // A broken quote or an I/O error: the reader cannot go on past it.
                let line = e.position().map_or(0, |p| p.line() + line_offset);
                report.rows_read += 1;
                report
                    .malformed
                    .add(line, || format!("{e} (reading stopped here)"));
                break;
            }
        }
        report.rows_read += 1;
        if report.rows_read > MAX_IMPORT_ROWS {
            return Err(ImportError::TooManyRows {
                path: raw_path.to_path_buf(),
            });
        }
        // Every line is accounted for: a row whose quoted field holds line ends stands for
        // several lines of the file (an unclosed quote makes one row of all the rest).
        let breaks: usize = record
            .iter()
            .map(|field| field.iter().filter(|&&b| b == b'\n').count())
            .sum();
        if breaks > 0 {
            let line = record.position().map_or(0, |p| p.line() + line_offset);
            // A quote left open runs to the end of the file, taking its last line end too.
            let ends_in_field = record
                .iter()
                .next_back()
                .is_some_and(|f| f.ends_with(b"\n"));
            let lines = breaks + 1 - usize::from(ends_in_field);
            report.spanning.add(line, || {
                format!(
                    "one row over {lines} lines{}",
                    if ends_in_field {
                        ", to the end of the file: is a quote left open here?"
                    } else {
                        ""
                    }
                )
            });
        }
        if let Some(call) = import_row(
            (&mapping, &header, &used),
            (&record, line_offset),
            &mut tallies,
            &mut report,
        ) {
            calls.push(call);
        }
    }
    // Lines after the header, blank ones included (the reader skips them).
    report.lines_read = reader.position().line().saturating_sub(header_lines);
    report.rule_matches = mapping
        .rules
        .iter()
        .zip(&tallies.rule_rows)
        .map(|(rule, &rows)| {
            (
                rule.label.clone(),
                scenario.call_types[rule.call_type as usize].name.clone(),
                rows,
            )
        })
        .collect();
    report.top_defaulted_codes = top(tallies.defaulted_codes, 8);
    report.top_unknown_codes = top(tallies.unknown_codes, 8);
    report.imported = calls.len() as u64;
    // Exports are often newest first, or ordered by incident number: sort by time, keeping
    // file order among equal times.
    calls.sort_by(|a, b| a.at.cmp(&b.at).then(a.line.cmp(&b.line)));
    for pair in calls.windows(2) {
        if pair[0].at == pair[1].at
            && pair[0].call_type == pair[1].call_type
            && pair[0].zone == pair[1].zone
        {
            report.possible_duplicates.add(pair[1].line, || {
                format!("{} as line {}", pair[1].at, pair[0].line)
            });
        }
    }
    report.first = calls.first().map(|c| c.at);
    report.last = calls.last().map(|c| c.at);
    if calls.is_empty() {
        return Err(ImportError::NothingImported {
            path: raw_path.to_path_buf(),
            report: report.render(),
        });
    }
    if let (Some(first), Some(last)) = (calls.first(), calls.last()) {
        let days = (last.at - first.at).num_seconds() as f64 / 86_400.0;
        if days >= crate::scenario::MAX_HORIZON_DAYS - 1.0 {
            return Err(ImportError::TooLong {
                path: raw_path.to_path_buf(),
                days,
                first: first.at.to_string(),
                first_line: first.line,
                last: last.at.to_string(),
                last_line: last.line,
            });
        }
    }
    if strict && report.rejected() > 0 {
        return Err(ImportError::Strict {
            path: raw_path.to_path_buf(),
            report: report.render(),
        });
    }
    report.output = Some(write_stream(
        output,
        &mapping,
        scenario,
        &calls,
        &tallies.priorities,
    )?);
    Ok(report)
}

/// What resolving a mapping against an export's header needs. Every missing column is listed
/// at once (collected in `missing`), so one edit of the mapping fixes them all.
struct Resolver<'a> {
    scenario: &'a Scenario,
    header: &'a [String],
    mapping_path: &'a Path,
    missing: std::cell::RefCell<Vec<String>>,
}

impl Resolver<'_> {
    fn error(&self, message: String) -> ImportError {
        ImportError::Mapping {
            path: self.mapping_path.to_path_buf(),
            message,
        }
    }

    /// The column a field names (the first of several names that is there), or 0 with the
    /// field noted as missing.
    fn column(&self, field: &str, names: &OneOrMany) -> Result<usize, ImportError> {
        let wanted = names.to_vec();
        // Several names: the export renamed the column between years; take what is there.
        Ok(wanted
            .iter()
            .find_map(|name| self.header.iter().position(|h| h == name))
            .unwrap_or_else(|| {
                self.missing
                    .borrow_mut()
                    .push(format!("`{}` (field `{field}`)", wanted.join("` or `")));
                0
            }))
    }

    /// The scenario's call type called `name`.
    fn type_id(&self, field: &str, name: &str) -> Result<u16, ImportError> {
        let scenario = self.scenario;
        scenario
            .call_types
            .iter()
            .position(|t| t.name == name)
            .map(|t| t as u16)
            .ok_or_else(|| {
                self.error(format!(
                    "{field}: `{name}` is not a call type of scenario \"{}\"; expected one of: {}",
                    scenario.name,
                    scenario
                        .call_types
                        .iter()
                        .map(|t| t.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
    }

    /// Where a time comes from: one column with formats, or a date column and a time column.
    fn time(&self, field: &str, raw: &RawTime) -> Result<TimeSource, ImportError> {
        let formats = |f: &Option<OneOrMany>| {
            f.as_ref()
                .map_or_else(|| vec!["iso".to_string()], OneOrMany::to_vec)
        };
        match (&raw.column, &raw.date_column, &raw.time_column) {
            (Some(c), None, None) => Ok(TimeSource::One {
                column: self.column(&format!("{field}.column"), c)?,
                formats: formats(&raw.format),
            }),
            (None, Some(d), Some(t)) => Ok(TimeSource::Split {
                date: self.column(&format!("{field}.date_column"), d)?,
                date_formats: formats(&raw.date_format),
                time: self.column(&format!("{field}.time_column"), t)?,
                time_formats: raw.time_format.as_ref().map_or_else(
                    || vec!["%H:%M:%S".to_string(), "%H:%M".to_string()],
                    OneOrMany::to_vec,
                ),
            }),
            _ => Err(self.error(format!(
                "{field}: expected either `column` (with `format`), or `date_column` and `time_column` (with `date_format`, `time_format`)"
            ))),
        }
    }
}

/// Opens a city's export and reads its header (a byte-order mark and padding trimmed).
fn read_header(
    raw_path: &Path,
    delimiter: u8,
) -> Result<(csv::Reader<std::fs::File>, Vec<String>), ImportError> {
    let file = std::fs::File::open(raw_path).map_err(|source| ImportError::Io {
        path: raw_path.to_path_buf(),
        source,
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_reader(file);
    let header: Vec<String> = reader
        .byte_headers()
        .map_err(|e| ImportError::Io {
            path: raw_path.to_path_buf(),
            source: std::io::Error::other(e),
        })?
        .iter()
        // A byte-order mark often starts exports saved by spreadsheet programs.
        .map(|h| {
            String::from_utf8_lossy(h)
                .trim_start_matches('\u{feff}')
                .trim()
                .to_string()
        })
        .collect();
    if header.iter().all(String::is_empty) {
        return Err(ImportError::Empty {
            path: raw_path.to_path_buf(),
        });
    }
    Ok((reader, header))
}

/// What import counts across rows besides the report: rows per rule, codes defaulted or
/// unknown, ids seen (to merge duplicates), and the distinct priority texts.
#[derive(Default)]
struct Tallies {
    rule_rows: Vec<u64>,
    defaulted_codes: HashMap<String, u64>,
    unknown_codes: HashMap<String, u64>,
    seen_ids: HashSet<Box<[u8]>>,
    priorities: Vec<String>,
    priority_index: HashMap<String, u32>,
}

impl Tallies {
    /// The index of a priority text among those seen (a new one is added).
    fn priority_id(&mut self, value: String) -> u32 {
        match self.priority_index.get(&value) {
            Some(&i) => i,
            None => {
                let i = self.priorities.len() as u32;
                self.priorities.push(value.clone());
                self.priority_index.insert(value, i);
                i
            }
        }
    }
}

/// Minutes from arrival to clear, when the mapping names both stamps and the row has them in
/// order (counted in the report either way).
fn on_scene_minutes(
    mapping: &Mapping,
    record: &ByteRecord,
    at: NaiveDateTime,
    report: &mut ImportReport,
) -> Option<f64> {
    let (Some(arrived), Some(cleared)) = (&mapping.arrived, &mapping.cleared) else {
        return None;
    };
    match (arrived.read(record), cleared.read(record)) {
        // Placeholder stamps (e.g. 1900-01-01) and clears before arrival are missing data.
        (Ok(Some(a)), Ok(Some(c))) if a >= at && c >= a => {
            report.with_on_scene += 1;
            Some((c - a).num_milliseconds() as f64 / 60_000.0)
        }
        _ => {
            report.without_on_scene += 1;
            None
        }
    }
}

/// The columns of the timestamp chain in a stream: minutes after receipt.
pub const DISPATCHED_AFTER: &str = "dispatched_after_minutes";
pub const ENROUTE_AFTER: &str = "enroute_after_minutes";
pub const ARRIVED_AFTER: &str = "arrived_after_minutes";
pub const CLEARED_AFTER: &str = "cleared_after_minutes";
pub const CHAIN_COLUMNS: [&str; 4] = [
    DISPATCHED_AFTER,
    ENROUTE_AFTER,
    ARRIVED_AFTER,
    CLEARED_AFTER,
];

/// The row's timestamp chain (dispatched, en route, arrived, cleared), in minutes after
/// receipt, when the mapping keeps it. A stamp that is missing or unreadable is NaN (counted);
/// a chain whose stamps are out of order (on scene before dispatch, say) is dropped whole
/// (counted, with its first line): the call itself is kept.
fn timestamp_chain(
    mapping: &Mapping,
    record: &ByteRecord,
    at: NaiveDateTime,
    line: u64,
    report: &mut ImportReport,
) -> [f32; 4] {
    let missing = [f32::NAN; 4];
    if mapping.dispatched.is_none() && mapping.enroute.is_none() {
        return missing;
    }
    let sources = [
        &mapping.dispatched,
        &mapping.enroute,
        &mapping.arrived,
        &mapping.cleared,
    ];
    let mut chain = missing;
    for (slot, source) in chain.iter_mut().zip(sources) {
        if let Some(Ok(Some(stamp))) = source.as_ref().map(|s| s.read(record)) {
            *slot = ((stamp - at).num_milliseconds() as f64 / 60_000.0) as f32;
        }
    }
    let present: Vec<f32> = chain.iter().copied().filter(|m| !m.is_nan()).collect();
    if present.len() < chain.len() {
        report.chain_incomplete += 1;
    }
    let in_order = present.first().is_none_or(|&m| m >= 0.0)
        && present.windows(2).all(|pair| pair[0] <= pair[1]);
    if !in_order {
        report.chain_out_of_order += 1;
        report.first_chain_out_of_order.get_or_insert(line);
        return missing;
    }
    chain
}

/// One row of the export mapped to a call, or `None` with the reason counted in the report
/// (malformed, excluded, a duplicate id, a bad time, an unknown code).
fn import_row(
    (mapping, header, used): (&Mapping, &[String], &[usize]),
    (record, line_offset): (&ByteRecord, u64),
    tallies: &mut Tallies,
    report: &mut ImportReport,
) -> Option<Imported> {
    let line = record.position().map_or(0, |p| p.line() + line_offset);
    if record.len() != header.len() {
        report.malformed.add(line, || {
            format!(
                "{} fields where the header has {}",
                record.len(),
                header.len()
            )
        });
        return None;
    }
    if let Some(&bad) = used
        .iter()
        .find(|&&i| std::str::from_utf8(record.get(i).unwrap_or_default()).is_err())
    {
        report.malformed.add(line, || {
            format!("column `{}` is not UTF-8 text (is the file Latin-1 or Windows-1252? re-save it as UTF-8)", header[bad])
        });
        return None;
    }
    let text = |i: usize| {
        String::from_utf8_lossy(record.get(i).unwrap_or_default())
            .trim()
            .to_string()
    };
    if let Some((e, _)) = mapping
        .exclude
        .iter()
        .enumerate()
        .find(|(_, (column, values, _))| values.contains(&text(*column).to_uppercase()))
    {
        report.excluded[e].1 += 1;
        return None;
    }
    if let Some(id) = mapping.id {
        let value = record.get(id).unwrap_or_default().trim_ascii();
        if !value.is_empty() && !tallies.seen_ids.insert(value.into()) {
            report.duplicates_merged += 1;
            return None;
        }
    }
    let at = match mapping.received.read(record) {
        Ok(Some(at)) => at,
        Ok(None) => {
            report
                .bad_time
                .add(line, || "received time is empty".to_string());
            return None;
        }
        Err(value) => {
            report.bad_time.add(line, || {
                format!("received time `{value}` matches none of the mapping's formats")
            });
            return None;
        }
    };
    let code = text(mapping.call_type);
    let priority_text = mapping.priority.map(|column| {
        let value = text(column);
        match mapping.priority_from {
            Some(PriorityFrom::MpdsLetter) => mpds_letter(&value).to_string(),
            None => value,
        }
    });
    let call_type = match mapping.classify(&code, priority_text.as_deref().unwrap_or("")) {
        Some((Some(rule), call_type)) => {
            tallies.rule_rows[rule] += 1;
            call_type
        }
        Some((None, call_type)) => {
            report.defaulted += 1;
            *tallies.defaulted_codes.entry(code).or_default() += 1;
            call_type
        }
        None => {
            report
                .unknown_code
                .add(line, || format!("call type `{code}`"));
            *tallies.unknown_codes.entry(code).or_default() += 1;
            return None;
        }
    };
    let zone = mapping.zone.as_ref().and_then(|(column, map)| {
        let value = text(*column).to_uppercase();
        let zone = map.get(&value).copied();
        if zone.is_none() {
            report.unmapped_zone += 1;
        }
        zone
    });
    let priority = priority_text.map_or(0, |value| tallies.priority_id(value));
    let on_scene_minutes = on_scene_minutes(mapping, record, at, report);
    let chain = timestamp_chain(mapping, record, at, line, report);
    let source_id = mapping.id.map(|i| text(i).into_boxed_str());
    let xy = mapping.coordinates.and_then(|(x, y)| {
        let number = |i: usize| text(i).trim().parse::<f64>().ok().filter(|v| v.is_finite());
        // Exports often write a call with no location as (0, 0): not a place.
        let xy = number(x)
            .zip(number(y))
            .filter(|&(x, y)| !(x == 0.0 && y == 0.0));
        if xy.is_none() {
            report.without_coordinates += 1;
        }
        xy
    });
    Some(Imported {
        xy,
        at,
        line,
        call_type,
        zone,
        priority,
        on_scene_minutes,
        chain,
        source_id,
    })
}

/// Writes the imported calls (sorted by time) as a call stream: day 0 is the first call's
/// date; the on-scene and source-id columns when the mapping has them.
fn write_stream(
    output: &Path,
    mapping: &Mapping,
    scenario: &Scenario,
    calls: &[Imported],
    priorities: &[String],
) -> Result<PathBuf, ImportError> {
    let write_error = |source| ImportError::Write {
        path: output.to_path_buf(),
        source,
    };
    let mut columns = CALL_COLUMNS.to_vec();
    let on_scene = mapping.arrived.is_some() && mapping.cleared.is_some();
    if on_scene {
        columns.push(ON_SCENE_MINUTES);
    }
    let chain = mapping.dispatched.is_some() || mapping.enroute.is_some();
    if chain {
        columns.extend(CHAIN_COLUMNS);
    }
    if mapping.id.is_some() {
        columns.push(SOURCE_ID);
    }
    if mapping.coordinates.is_some() {
        columns.extend([X, Y]);
    }
    let mut writer = StreamWriter::create(output, &columns).map_err(write_error)?;
    let origin = calls[0]
        .at
        .date()
        .and_hms_opt(0, 0, 0)
        .unwrap_or(calls[0].at);
    for (id, call) in calls.iter().enumerate() {
        let call_type = &scenario.call_types[call.call_type as usize];
        let mut row = vec![
            id.to_string(),
            call.at.format("%Y-%m-%dT%H:%M:%S%.3f").to_string(),
            ((call.at - origin).num_milliseconds() as f64 / 60_000.0).to_string(),
            spreadsheet_safe(&call_type.name).into_owned(),
            priorities
                .get(call.priority as usize)
                .cloned()
                .unwrap_or_default(),
            call.zone.map_or_else(String::new, |z| {
                spreadsheet_safe(&scenario.zones[z as usize].name).into_owned()
            }),
            call_type.care_eligible.to_string(),
        ];
        if on_scene {
            row.push(
                call.on_scene_minutes
                    .map_or_else(String::new, |m| m.to_string()),
            );
        }
        if chain {
            row.extend(call.chain.iter().map(|m| {
                if m.is_nan() {
                    String::new()
                } else {
                    m.to_string()
                }
            }));
        }
        if let Some(source_id) = &call.source_id {
            row.push(spreadsheet_safe(source_id.as_ref()).into_owned());
        }
        if mapping.coordinates.is_some() {
            match call.xy {
                Some((x, y)) => row.extend([x.to_string(), y.to_string()]),
                None => row.extend([String::new(), String::new()]),
            }
        }
        writer.write_row(&row).map_err(write_error)?;
    }
    writer.finish().map_err(write_error)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod mpds_tests {
    #[test]
    fn the_determinant_letter_of_a_leading_mpds_code() {
        use super::mpds_letter;
        assert_eq!(mpds_letter("26A1 SICK PRSN"), "A");
        assert_eq!(mpds_letter("127D1 SUICIDE ATMPT"), "D");
        assert_eq!(mpds_letter("33C6 EMER PT TRANSFER"), "C");
        assert_eq!(mpds_letter("9E1 CARDIAC ARREST"), "E");
        assert_eq!(mpds_letter("25O1 PSYCH"), "O");
        assert_eq!(mpds_letter("EMS RESPONSE"), "none");
        assert_eq!(mpds_letter("26 SICK"), "none");
        assert_eq!(mpds_letter(""), "none");
    }
}
