//! The back-test: does the model reproduce what a dispatch log says happened? The log's own
//! arrivals (an imported stream with its timestamp chain) replay through a scenario; here the
//! observed figures are read from the stream and set against the simulated ones, each with
//! the simulation's 95% interval and a verdict.

use std::path::Path;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calls::import::{ARRIVED_AFTER, CLEARED_AFTER, DISPATCHED_AFTER};
use crate::calls::stream::{CALL_ID, CALL_TYPE, PRIORITY, RECEIVED_AT, RECEIVED_MINUTES};
use crate::scenario::Scenario;
use crate::stats::Estimate;
use crate::stats::figures as key;

/// Columns of the replay's per-call log (`calls.csv`) the back-test reads.
const REPLICATION: &str = "replication";
const NOT_A_CALLS_LOG: &str = "not a calls.csv log (replication, call_id, call_type, received_minutes, dispatched_minutes, on_scene_minutes, cleared_minutes, wait_minutes)";

/// A CSV file this module reads: its records and its columns by name, every error naming
/// the file.
struct Table {
    path: String,
    reader: csv::Reader<std::fs::File>,
    header: csv::StringRecord,
}

impl Table {
    fn open(path: &Path) -> Result<Self, BacktestError> {
        let path_text = path.display().to_string();
        let fail = |e: csv::Error| BacktestError::Stream {
            path: path_text.clone(),
            message: e.to_string(),
        };
        let mut reader = csv::Reader::from_path(path).map_err(fail)?;
        let header = reader.headers().map_err(fail)?.clone();
        Ok(Self {
            path: path_text,
            reader,
            header,
        })
    }

    fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    fn error(&self, message: String) -> BacktestError {
        BacktestError::Stream {
            path: self.path.clone(),
            message,
        }
    }

    /// The rows, in order.
    fn rows(&mut self) -> impl Iterator<Item = Result<csv::StringRecord, BacktestError>> + '_ {
        let path = self.path.clone();
        self.reader.records().map(move |r| {
            r.map_err(|e| BacktestError::Stream {
                path: path.clone(),
                message: e.to_string(),
            })
        })
    }
}

/// Whether the scenario counts calls of the type named `name` as 911 demand.
fn is_demand(scenario: &Scenario, name: &str) -> bool {
    scenario
        .call_types
        .iter()
        .find(|t| t.name == name)
        .is_some_and(|t| t.demand)
}

/// What a filtered copy of a stream holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kept {
    pub rows: u64,
    pub kept: u64,
}

/// Why a stream cannot be back-tested.
#[derive(Debug, thiserror::Error)]
pub enum BacktestError {
    #[error("{path}: {message}")]
    Stream { path: String, message: String },
    #[error("{path}: no call is received between {from} and {to}")]
    NoCalls {
        path: String,
        from: String,
        to: String,
    },
    #[error(
        "{path}: no timestamp chain (`arrived_after_minutes`): import the log with a mapping that names [dispatched] or [enroute]"
    )]
    NoChain { path: String },
}

/// Copies the rows of `input` received on days `from` (inclusive) to `to` (exclusive) into
/// `output`, without `received_minutes`, so that the copy's day 0 is its first call's date
/// (`received_at` sets it). With `need_chain`, a stream without the timestamp chain is refused.
pub fn filter_stream(
    input: &Path,
    output: &Path,
    (from, to): (Option<NaiveDate>, Option<NaiveDate>),
    need_chain: bool,
) -> Result<Kept, BacktestError> {
    let mut table = Table::open(input)?;
    let err = |message: String| BacktestError::Stream {
        path: input.display().to_string(),
        message,
    };
    let received_at = table.column(RECEIVED_AT).ok_or_else(|| {
        err(format!(
            "no `{RECEIVED_AT}` column (an imported stream has one)"
        ))
    })?;
    if need_chain && table.column(ARRIVED_AFTER).is_none() {
        return Err(BacktestError::NoChain {
            path: input.display().to_string(),
        });
    }
    let header = table.header.clone();
    let keep: Vec<usize> = (0..header.len())
        .filter(|&i| &header[i] != RECEIVED_MINUTES)
        .collect();
    let mut text = Vec::new();
    let mut kept = Kept { rows: 0, kept: 0 };
    {
        let mut writer = csv::Writer::from_writer(&mut text);
        writer
            .write_record(keep.iter().map(|&i| &header[i]))
            .map_err(|e| err(e.to_string()))?;
        for record in table.rows() {
            let record = record?;
            kept.rows += 1;
            let date = record
                .get(received_at)
                .and_then(|t| NaiveDate::parse_from_str(t.get(..10)?, "%Y-%m-%d").ok())
                .ok_or_else(|| {
                    err(format!(
                        "line {}: `received_at` is not a date",
                        record.position().map_or(0, |p| p.line())
                    ))
                })?;
            if from.is_some_and(|f| date < f) || to.is_some_and(|t| date >= t) {
                continue;
            }
            kept.kept += 1;
            writer
                .write_record(keep.iter().map(|&i| &record[i]))
                .map_err(|e| err(e.to_string()))?;
        }
        writer.flush().map_err(|e| err(e.to_string()))?;
    }
    if kept.kept == 0 {
        let day = |d: Option<NaiveDate>| d.map_or("the end".to_string(), |d| d.to_string());
        return Err(BacktestError::NoCalls {
            path: input.display().to_string(),
            from: from.map_or("the start".to_string(), |d| d.to_string()),
            to: day(to),
        });
    }
    crate::output::write_atomic(output, &text).map_err(|e| err(e.to_string()))?;
    Ok(kept)
}

/// One call of a timestamp chain: the log's (from an imported stream) or the simulation's
/// (from the replay's `calls.csv`), in the same terms, so one function computes every figure
/// on both sides.
#[derive(Clone, Debug, PartialEq)]
pub struct ChainCall {
    pub call_id: String,
    /// The scenario's call type, by index (`None`: a type the scenario does not have).
    pub call_type: Option<usize>,
    /// The log's own priority (the MPDS letter, say); empty when the log has none.
    pub log_priority: String,
    /// Minutes from midnight of the first call's day.
    pub received: f64,
    /// Minutes after receipt.
    pub dispatched: Option<f64>,
    pub arrived: Option<f64>,
    pub cleared: Option<f64>,
    /// Where the call was (the stream's `x`, `y`), when it says.
    pub xy: Option<(f64, f64)>,
}

impl ChainCall {
    pub fn response(&self) -> Option<f64> {
        self.arrived
    }

    pub fn travel(&self) -> Option<f64> {
        Some(self.arrived? - self.dispatched?)
    }

    pub fn on_scene(&self) -> Option<f64> {
        Some(self.cleared? - self.arrived?)
    }

    /// The hour of the day it was received (0 = midnight to 1am).
    pub fn hour(&self) -> usize {
        ((self.received / 60.0).floor() as i64).rem_euclid(24) as usize
    }
}

/// The index of the scenario's call type named `name`.
fn type_index(scenario: &Scenario, name: &str) -> Option<usize> {
    scenario.call_types.iter().position(|t| t.name == name)
}

/// Reads a stream's timestamp chain: every call, of every type. A stream without the chain is
/// refused ([`BacktestError::NoChain`]).
pub fn read_chain(stream: &Path, scenario: &Scenario) -> Result<Vec<ChainCall>, BacktestError> {
    use chrono::NaiveDateTime;
    let mut table = Table::open(stream)?;
    let (Some(id_c), Some(type_c), Some(at_c), Some(dispatched_c), Some(arrived_c)) = (
        table.column(CALL_ID),
        table.column(CALL_TYPE),
        table.column(RECEIVED_AT),
        table.column(DISPATCHED_AFTER),
        table.column(ARRIVED_AFTER),
    ) else {
        return Err(BacktestError::NoChain {
            path: stream.display().to_string(),
        });
    };
    let priority_c = table.column(PRIORITY);
    let cleared_c = table.column(CLEARED_AFTER);
    let xy_c = table
        .column(crate::calls::stream::X)
        .zip(table.column(crate::calls::stream::Y));
    let mut origin: Option<NaiveDateTime> = None;
    let mut calls = Vec::new();
    let path = table.path.clone();
    for record in table.rows() {
        let record = record?;
        let Ok(at) = NaiveDateTime::parse_from_str(&record[at_c], "%Y-%m-%dT%H:%M:%S%.f") else {
            return Err(BacktestError::Stream {
                path,
                message: format!(
                    "line {}: `{RECEIVED_AT}` is not a time like 2016-01-31T13:05:00",
                    record.position().map_or(0, |p| p.line())
                ),
            });
        };
        let origin = *origin.get_or_insert_with(|| at.date().and_hms_opt(0, 0, 0).unwrap_or(at));
        let minutes = |i: usize| record[i].parse::<f64>().ok().filter(|m| m.is_finite());
        calls.push(ChainCall {
            call_id: record[id_c].to_string(),
            call_type: type_index(scenario, &record[type_c]),
            log_priority: priority_c.map_or(String::new(), |c| record[c].to_string()),
            received: (at - origin).num_milliseconds() as f64 / 60_000.0,
            dispatched: minutes(dispatched_c),
            arrived: minutes(arrived_c),
            cleared: cleared_c.and_then(minutes),
            xy: xy_c.and_then(|(x, y)| {
                let number = |i: usize| record[i].parse::<f64>().ok().filter(|v| v.is_finite());
                number(x).zip(number(y))
            }),
        });
    }
    Ok(calls)
}

/// Reads the replay's per-call log (`calls.csv`) as chains, one list per replication. Each
/// call is paired with the log's call of the same id (the replay keeps ids): it takes that
/// call's priority, and keeps only the stamps the log has, so that every figure counts the
/// same calls on both sides (a call the log shows cleared without an arrival, say, counts in
/// neither side's response).
pub fn read_simulated_chains(
    calls_log: &Path,
    scenario: &Scenario,
    log: &[ChainCall],
) -> Result<Vec<Vec<ChainCall>>, BacktestError> {
    use std::collections::HashMap;
    let log_call: HashMap<&str, &ChainCall> = log.iter().map(|c| (c.call_id.as_str(), c)).collect();
    let mut table = Table::open(calls_log)?;
    let columns = [
        REPLICATION,
        CALL_ID,
        CALL_TYPE,
        "received_minutes",
        "dispatched_minutes",
        "on_scene_minutes",
        "cleared_minutes",
    ]
    .map(|name| table.column(name));
    let [
        Some(rep_c),
        Some(id_c),
        Some(type_c),
        Some(received_c),
        Some(dispatched_c),
        Some(on_scene_c),
        Some(cleared_c),
    ] = columns
    else {
        return Err(table.error(NOT_A_CALLS_LOG.to_string()));
    };
    let mut by_replication: Vec<Vec<ChainCall>> = Vec::new();
    for record in table.rows() {
        let record = record?;
        let minutes = |i: usize| record[i].parse::<f64>().ok().filter(|m| m.is_finite());
        let (Ok(replication), Some(received)) =
            (record[rep_c].parse::<usize>(), minutes(received_c))
        else {
            continue;
        };
        if by_replication.len() <= replication {
            by_replication.resize_with(replication + 1, Vec::new);
        }
        let Some(observed) = log_call.get(&record[id_c]) else {
            continue;
        };
        let after =
            |i: usize, observed: Option<f64>| observed.and(minutes(i).map(|m| m - received));
        by_replication[replication].push(ChainCall {
            call_id: record[id_c].to_string(),
            call_type: type_index(scenario, &record[type_c]),
            log_priority: observed.log_priority.clone(),
            received,
            dispatched: after(dispatched_c, observed.dispatched),
            arrived: after(on_scene_c, observed.arrived),
            cleared: after(cleared_c, observed.cleared),
            xy: observed.xy,
        });
    }
    Ok(by_replication)
}

/// The `q` quantile of sorted values (the nearest-rank definition); NaN for none.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        f64::NAN
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

/// The 95% interval of the `q` quantile of a sample (sorted), from the order statistics: the
/// ranks `nq ± 1.96 sqrt(nq(1 - q))` (distribution-free).
pub(crate) fn quantile_interval(sorted: &[f64], q: f64) -> (f64, f64) {
    let n = sorted.len() as f64;
    if sorted.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let spread = 1.96 * (n * q * (1.0 - q)).sqrt();
    let rank = |r: f64| sorted[(r.clamp(1.0, n) as usize) - 1];
    (
        rank((n * q - spread).floor()),
        rank((n * q + spread).ceil()),
    )
}

/// The 95% interval of a sample's mean (normal approximation).
pub(crate) fn mean_interval(values: &[f64]) -> (f64, f64) {
    let m = mean(values);
    if values.len() < 2 {
        return (f64::NAN, f64::NAN);
    }
    let var = values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (values.len() - 1) as f64;
    let half = 1.96 * (var / values.len() as f64).sqrt();
    (m - half, m + half)
}

/// A statistic of a set of calls.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Statistic {
    Median,
    P90,
    Mean,
}

impl Statistic {
    fn of(self, sorted: &[f64]) -> (f64, (f64, f64)) {
        match self {
            Self::Median => (quantile(sorted, 0.5), quantile_interval(sorted, 0.5)),
            Self::P90 => (quantile(sorted, 0.9), quantile_interval(sorted, 0.9)),
            Self::Mean => (mean(sorted), mean_interval(sorted)),
        }
    }

    fn key(self) -> &'static str {
        match self {
            Self::Median => "median",
            Self::P90 => "p90",
            Self::Mean => "mean",
        }
    }
}

/// A component of the chain.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Component {
    Response,
    Dispatch,
    Travel,
    OnScene,
}

impl Component {
    fn of(self, call: &ChainCall) -> Option<f64> {
        match self {
            Self::Response => call.response(),
            Self::Dispatch => call.dispatched,
            Self::Travel => call.travel(),
            Self::OnScene => call.on_scene(),
        }
    }
}

/// Which calls a row counts.
#[derive(Clone, Debug, PartialEq)]
enum Subset {
    All,
    LogPriority(String),
    /// Received in hours `from..to`.
    Hours(usize, usize),
}

impl Subset {
    fn holds(&self, call: &ChainCall) -> bool {
        match self {
            Self::All => true,
            Self::LogPriority(p) => call.log_priority == *p,
            Self::Hours(from, to) => (*from..*to).contains(&call.hour()),
        }
    }
}

/// The hours of the day the back-test compares in blocks (a quarter's calls split four ways
/// leave a couple of hundred in each).
pub const HOUR_BLOCKS: [(usize, usize); 4] = [(0, 6), (6, 12), (12, 18), (18, 24)];

/// One figure compared: the log's value with its own 95% interval (its sampling error), the
/// simulation's mean and 95% interval over replications, and whether the two agree.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub figure: String,
    pub label: String,
    /// Calls (or, for calls open at once, days) the observed figure rests on.
    pub observed_calls: usize,
    pub observed: f64,
    /// The observed figure's 95% interval: order statistics for a quantile, the normal
    /// approximation for a mean.
    pub observed_ci: [f64; 2],
    pub simulated: Estimate,
    /// The observed value lies inside the simulation's interval.
    pub inside: bool,
    /// The difference is within what the two intervals allow together
    /// (`|simulated - observed| <= sqrt(h_sim² + h_obs²)`, h the half-widths).
    pub agrees: bool,
    /// (simulated mean - observed) / observed.
    pub relative_error: f64,
}

impl Row {
    fn new(
        figure: String,
        label: String,
        observed: (usize, f64, (f64, f64)),
        simulated: Estimate,
    ) -> Self {
        let (calls, value, (low, high)) = observed;
        let observed_half = (high - low) / 2.0;
        let simulated_half = if simulated.half_width.is_finite() {
            simulated.half_width
        } else {
            0.0
        };
        let allowed = (observed_half.powi(2) + simulated_half.powi(2)).sqrt();
        Self {
            figure,
            label,
            observed_calls: calls,
            observed: value,
            observed_ci: [low, high],
            simulated,
            inside: simulated.ci_low <= value && value <= simulated.ci_high,
            agrees: (simulated.mean - value).abs() <= allowed,
            relative_error: (simulated.mean - value) / value,
        }
    }
}

/// The comparison, figure by figure, of 911 calls (call types that are demand): response
/// median and p90 overall, call processing (received to dispatch: the log cannot tell the wait
/// for a unit from processing, so the simulated side counts both), travel and on-scene time
/// (mean and p90), response by the log's own priority (those with at least
/// [`MIN_CALLS_PER_PRIORITY`] calls) and by block of hours, and the calls open at once (every
/// call, dispatch to last clear) in each block of hours.
pub fn compare(scenario: &Scenario, log: &[ChainCall], simulated: &[Vec<ChainCall>]) -> Vec<Row> {
    let demand = |c: &&ChainCall| c.call_type.is_some_and(|t| scenario.call_types[t].demand);
    let values = |calls: &[ChainCall], subset: &Subset, component: Component| -> Vec<f64> {
        let mut v: Vec<f64> = calls
            .iter()
            .filter(demand)
            .filter(|c| subset.holds(c))
            .filter_map(|c| component.of(c))
            .collect();
        v.sort_by(f64::total_cmp);
        v
    };
    let mut rows = Vec::new();
    let mut add = |figure: String, label: String, subset: Subset, component, statistic| {
        let observed = values(log, &subset, component);
        if observed.is_empty() {
            return;
        }
        let (value, interval) = Statistic::of(statistic, &observed);
        let per_replication: Vec<f64> = simulated
            .iter()
            .map(|calls| Statistic::of(statistic, &values(calls, &subset, component)).0)
            .collect();
        rows.push(Row::new(
            figure,
            label,
            (observed.len(), value, interval),
            Estimate::from_samples(&per_replication),
        ));
    };
    use Component::*;
    use Statistic::*;
    for (figure, label, component, statistic) in [
        (
            key::RESPONSE_MEDIAN,
            "Response, median (received to first arrival)",
            Response,
            Median,
        ),
        (
            key::RESPONSE_P90,
            "Response, 90th percentile",
            Response,
            P90,
        ),
        (
            "received_to_dispatch_mean",
            "Received to dispatch, mean (call processing and any wait)",
            Dispatch,
            Mean,
        ),
        (
            "received_to_dispatch_p90",
            "Received to dispatch, 90th percentile",
            Dispatch,
            P90,
        ),
        (
            key::TRAVEL_MEAN,
            "Travel (dispatch to arrival), mean",
            Travel,
            Mean,
        ),
        (key::TRAVEL_P90, "Travel, 90th percentile", Travel, P90),
        (
            "on_scene_mean",
            "On scene (arrival to clear), mean",
            OnScene,
            Mean,
        ),
        ("on_scene_p90", "On scene, 90th percentile", OnScene, P90),
    ] {
        add(
            figure.to_string(),
            label.to_string(),
            Subset::All,
            component,
            statistic,
        );
    }
    // The log's own priorities with enough calls.
    let mut priorities: std::collections::BTreeMap<&str, usize> = Default::default();
    for call in log.iter().filter(demand).filter(|c| c.arrived.is_some()) {
        *priorities.entry(call.log_priority.as_str()).or_default() += 1;
    }
    for (priority, calls) in priorities {
        if priority.is_empty() || calls < MIN_CALLS_PER_PRIORITY {
            continue;
        }
        for statistic in [Median, P90] {
            add(
                format!("response_{}.priority_{priority}", statistic.key()),
                format!(
                    "Response, {}, priority {priority}",
                    if statistic == Median {
                        "median"
                    } else {
                        "90th percentile"
                    }
                ),
                Subset::LogPriority(priority.to_string()),
                Response,
                statistic,
            );
        }
    }
    for (from, to) in HOUR_BLOCKS {
        for statistic in [Median, P90] {
            add(
                format!("response_{}.hours_{from:02}_{to:02}", statistic.key()),
                format!(
                    "Response, {}, {from:02}-{to:02}h",
                    if statistic == Median {
                        "median"
                    } else {
                        "90th percentile"
                    }
                ),
                Subset::Hours(from, to),
                Response,
                statistic,
            );
        }
    }
    // Calls open at once, per block of hours: the log's days give its interval.
    let log_open = open_by_day_and_hour(log);
    let simulated_open: Vec<Vec<[f64; 24]>> =
        simulated.iter().map(|c| open_by_day_and_hour(c)).collect();
    for (from, to) in HOUR_BLOCKS {
        let block = |days: &[[f64; 24]]| -> Vec<f64> {
            days.iter()
                .map(|hours| hours[from..to].iter().sum::<f64>() / (to - from) as f64)
                .collect()
        };
        let observed = block(&log_open);
        if observed.is_empty() {
            continue;
        }
        let per_replication: Vec<f64> = simulated_open.iter().map(|d| mean(&block(d))).collect();
        rows.push(Row::new(
            format!("calls_open_mean.hours_{from:02}_{to:02}"),
            format!("Calls open at once (units busy), mean, {from:02}-{to:02}h"),
            (observed.len(), mean(&observed), mean_interval(&observed)),
            Estimate::from_samples(&per_replication),
        ));
    }
    rows
}

/// The simulated share of 911 calls that waited for a free unit (per replication), from the
/// replay's `calls.csv` (`wait_minutes` > 0). A log cannot show it: there, call processing and
/// the wait for a unit are one interval.
pub fn simulated_share_waited(
    calls_log: &Path,
    scenario: &Scenario,
) -> Result<Estimate, BacktestError> {
    let mut table = Table::open(calls_log)?;
    let (Some(rep_c), Some(type_c), Some(wait_c)) = (
        table.column(REPLICATION),
        table.column(CALL_TYPE),
        table.column("wait_minutes"),
    ) else {
        return Err(table.error(NOT_A_CALLS_LOG.to_string()));
    };
    let mut counts: Vec<(u64, u64)> = Vec::new();
    for record in table.rows() {
        let record = record?;
        let (Ok(replication), Ok(wait)) = (
            record[rep_c].parse::<usize>(),
            record[wait_c].parse::<f64>(),
        ) else {
            continue;
        };
        if !is_demand(scenario, &record[type_c]) {
            continue;
        }
        if counts.len() <= replication {
            counts.resize(replication + 1, (0, 0));
        }
        counts[replication].0 += u64::from(wait > 0.0);
        counts[replication].1 += 1;
    }
    let shares: Vec<f64> = counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|&(w, n)| w as f64 / n as f64)
        .collect();
    Ok(Estimate::from_samples(&shares))
}

/// Sorted response times of the 911 calls of `calls`.
pub fn responses(scenario: &Scenario, calls: &[ChainCall]) -> Vec<f64> {
    let mut v: Vec<f64> = calls
        .iter()
        .filter(|c| c.call_type.is_some_and(|t| scenario.call_types[t].demand))
        .filter_map(ChainCall::response)
        .collect();
    v.sort_by(f64::total_cmp);
    v
}

/// Mean calls open in each (day, hour): every call with a dispatch, an arrival and a clear,
/// open from dispatch to clear. Calls the log shows cleared without an arrival (cancelled on
/// the way, most of them) are left out: a replay serves them in full.
pub fn open_by_day_and_hour(calls: &[ChainCall]) -> Vec<[f64; 24]> {
    let mut days: Vec<[f64; 24]> = Vec::new();
    for call in calls {
        let (Some(d), Some(_), Some(c)) = (call.dispatched, call.arrived, call.cleared) else {
            continue;
        };
        if c < d {
            continue;
        }
        let (mut t, end) = (call.received + d, call.received + c);
        while t < end {
            let hour_index = (t / 60.0).floor().max(0.0) as usize;
            let until = (((hour_index + 1) * 60) as f64).min(end);
            let day = hour_index / 24;
            if days.len() <= day {
                days.resize(day + 1, [0.0; 24]);
            }
            days[day][hour_index % 24] += (until - t) / 60.0;
            t = until;
        }
    }
    // Days after the last call received add only calls still open: the tested days are those
    // calls were received on.
    let last_day = calls
        .iter()
        .map(|c| (c.received / 1440.0).floor().max(0.0) as usize)
        .max()
        .unwrap_or(0);
    days.truncate(last_day + 1);
    days
}

/// The two-sample Kolmogorov-Smirnov distance of two sorted samples: the largest gap between
/// their empirical CDFs (0: the same distribution; 1: no overlap).
pub fn ks_two_sample(a: &[f64], b: &[f64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return f64::NAN;
    }
    let (mut i, mut j, mut distance) = (0usize, 0usize, 0.0f64);
    while i < a.len() && j < b.len() {
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        let gap = (i as f64 / a.len() as f64 - j as f64 / b.len() as f64).abs();
        distance = distance.max(gap);
    }
    distance
}

/// The fewest observed calls a priority needs for its own rows: fewer make a 90th percentile
/// too rough to compare.
pub const MIN_CALLS_PER_PRIORITY: usize = 200;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_sample_ks_distances() {
        let a = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(ks_two_sample(&a, &a), 0.0);
        assert_eq!(ks_two_sample(&a, &[10.0, 11.0]), 1.0);
        // At 2 and at 4, a has half its mass more than b.
        assert_eq!(ks_two_sample(&a, &[2.5, 3.5, 4.5, 5.5]), 0.5);
        assert!(ks_two_sample(&[], &a).is_nan());
    }

    #[test]
    fn nearest_rank_quantiles() {
        let values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        assert_eq!(quantile(&values, 0.5), 5.0);
        assert_eq!(quantile(&values, 0.9), 9.0);
        assert_eq!(quantile(&values, 1.0), 10.0);
        assert!(quantile(&[], 0.5).is_nan());
    }
}

/// How many calls a log had open at once (first dispatch to last clear, every call, 911 or
/// not): the fewest units that could have served it, a lower bound on the fleet on duty.
#[derive(Clone, Debug, PartialEq)]
pub struct BusyProfile {
    /// Calls open at once, at most.
    pub peak: u32,
    /// Mean calls open in each hour of the day (0 = midnight to 1am).
    pub by_hour: [f64; 24],
    /// Calls with both stamps.
    pub calls: u64,
}

/// When each call of `calls` with a dispatch and a clear opens and closes (+1 at its first
/// dispatch, -1 at its last clear, in minutes since the first call's midnight), in time order:
/// closings before openings at the same minute, since a unit cleared can take the next call.
pub fn opens_and_closes<'a>(calls: impl Iterator<Item = &'a ChainCall>) -> Vec<(f64, i32)> {
    let mut changes: Vec<(f64, i32)> = Vec::new();
    for call in calls {
        if let (Some(d), Some(c)) = (call.dispatched, call.cleared)
            && c >= d
        {
            changes.push((call.received + d, 1));
            changes.push((call.received + c, -1));
        }
    }
    changes.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    changes
}

/// The busy profile of a log's chain (every call); `None` when no call has both stamps.
pub fn busy_profile(calls: &[ChainCall]) -> Option<BusyProfile> {
    let changes = opens_and_closes(calls.iter());
    if changes.is_empty() {
        return None;
    }
    let (mut open, mut peak) = (0i32, 0i32);
    let mut busy_minutes = [0.0f64; 24];
    let mut last = changes[0].0;
    for &(time, change) in &changes {
        // Spread the open calls over the hours between the last change and this one.
        let mut t = last;
        while t < time {
            let hour = ((t / 60.0).floor() as i64).rem_euclid(24) as usize;
            let next = ((t / 60.0).floor() + 1.0) * 60.0;
            let until = next.min(time);
            busy_minutes[hour] += f64::from(open) * (until - t);
            t = until;
        }
        last = time;
        open += change;
        peak = peak.max(open);
    }
    let days = ((changes[changes.len() - 1].0 - changes[0].0) / 1440.0).max(1.0);
    Some(BusyProfile {
        peak: peak.max(0) as u32,
        by_hour: busy_minutes.map(|m| m / (60.0 * days)),
        calls: (changes.len() / 2) as u64,
    })
}
