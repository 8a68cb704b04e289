//! The back-test: does the model reproduce what a dispatch log says happened? The log's own
//! arrivals (an imported stream with its timestamp chain) replay through a scenario; here the
//! observed figures are read from the stream and set against the simulated ones, each with
//! the simulation's 95% interval and a verdict.

use std::path::Path;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calls::import::{ARRIVED_AFTER, CLEARED_AFTER, DISPATCHED_AFTER};
use crate::calls::stream::{CALL_ID, CALL_TYPE, PRIORITY, RECEIVED_AT, RECEIVED_MINUTES};
use crate::experiment::Results;
use crate::scenario::Scenario;
use crate::stats::Estimate;
use crate::stats::figures as key;

/// Columns of the replay's per-call log (`calls.csv`) the back-test reads.
const REPLICATION: &str = "replication";
const RESPONSE: &str = "response_minutes";
const NOT_A_CALLS_LOG: &str =
    "not a calls.csv log (replication, call_id, call_type, response_minutes)";

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

/// The observed side: per 911 call (call types that are demand), from the stream's chain.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Observed {
    /// Received to first arrival, minutes.
    pub response: Vec<f64>,
    /// Received to first dispatch.
    pub dispatch: Vec<f64>,
    /// First dispatch to first arrival.
    pub travel: Vec<f64>,
}

impl Observed {
    /// Reads a (filtered) stream: only call types the scenario counts as 911 demand.
    pub fn read(stream: &Path, scenario: &Scenario) -> Result<Self, BacktestError> {
        let mut table = Table::open(stream)?;
        let (Some(call_type), Some(dispatched), Some(arrived)) = (
            table.column(CALL_TYPE),
            table.column(DISPATCHED_AFTER),
            table.column(ARRIVED_AFTER),
        ) else {
            return Err(BacktestError::NoChain {
                path: stream.display().to_string(),
            });
        };
        let mut observed = Self::default();
        for record in table.rows() {
            let record = record?;
            if !is_demand(scenario, &record[call_type]) {
                continue;
            }
            let minutes = |i: usize| record[i].parse::<f64>().ok().filter(|m| m.is_finite());
            if let Some(d) = minutes(dispatched) {
                observed.dispatch.push(d);
            }
            if let Some(a) = minutes(arrived) {
                observed.response.push(a);
                if let Some(d) = minutes(dispatched) {
                    observed.travel.push(a - d);
                }
            }
        }
        for values in [
            &mut observed.response,
            &mut observed.dispatch,
            &mut observed.travel,
        ] {
            values.sort_by(f64::total_cmp);
        }
        Ok(observed)
    }
}

/// The `q` quantile of sorted values (the nearest-rank definition); NaN for none.
fn quantile(sorted: &[f64], q: f64) -> f64 {
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

/// One figure compared: the log's value, the simulation's mean and 95% interval, and whether
/// the log's value lies inside the interval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub figure: String,
    pub label: String,
    /// Calls the observed figure rests on.
    pub observed_calls: usize,
    pub observed: f64,
    pub simulated: Estimate,
    pub inside: bool,
    /// (simulated mean - observed) / observed.
    pub relative_error: f64,
}

/// The comparison, figure by figure: response median and 90th percentile, and (with the
/// scenario's `[dispatch_delay]`) call processing and travel, each against the simulation's
/// figure of the same name under the first policy.
pub fn compare(observed: &Observed, results: &Results) -> Vec<Row> {
    let policy = results.baseline().label();
    let rows = [
        (
            key::RESPONSE_MEDIAN,
            "Response, median (received to first arrival)",
            &observed.response,
            quantile(&observed.response, 0.5),
        ),
        (
            key::RESPONSE_P90,
            "Response, 90th percentile",
            &observed.response,
            quantile(&observed.response, 0.9),
        ),
        (
            key::DISPATCH_DELAY_MEAN,
            "Call processing (received to dispatch), mean",
            &observed.dispatch,
            mean(&observed.dispatch),
        ),
        (
            key::DISPATCH_DELAY_P90,
            "Call processing, 90th percentile",
            &observed.dispatch,
            quantile(&observed.dispatch, 0.9),
        ),
        (
            key::TRAVEL_MEAN,
            "Travel (dispatch to arrival), mean",
            &observed.travel,
            mean(&observed.travel),
        ),
        (
            key::TRAVEL_P90,
            "Travel, 90th percentile",
            &observed.travel,
            quantile(&observed.travel, 0.9),
        ),
    ];
    rows.into_iter()
        .filter_map(|(figure, label, values, value)| {
            let simulated = results.estimate(policy, figure)?;
            Some(Row {
                figure: figure.to_string(),
                label: label.to_string(),
                observed_calls: values.len(),
                observed: value,
                simulated,
                inside: simulated.ci_low <= value && value <= simulated.ci_high,
                relative_error: (simulated.mean - value) / value,
            })
        })
        .collect()
}

/// The simulated responses of 911 calls in the replay's per-call log (every replication,
/// pooled), sorted.
pub fn simulated_responses(
    calls_log: &Path,
    scenario: &Scenario,
) -> Result<Vec<f64>, BacktestError> {
    let mut table = Table::open(calls_log)?;
    let (Some(type_c), Some(response_c)) = (table.column(CALL_TYPE), table.column(RESPONSE)) else {
        return Err(table.error(NOT_A_CALLS_LOG.to_string()));
    };
    let mut values = Vec::new();
    for record in table.rows() {
        let record = record?;
        let demand = is_demand(scenario, &record[type_c]);
        if let (true, Ok(minutes)) = (demand, record[response_c].parse::<f64>()) {
            values.push(minutes);
        }
    }
    values.sort_by(f64::total_cmp);
    Ok(values)
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

/// Response median and 90th percentile per priority of the log (its own codes, such as the
/// MPDS letter), observed against simulated. The simulated side comes from the replay's
/// per-call log (`calls.csv`, every replication), joined to the stream by call id; each
/// replication gives one median and one p90, and their mean and 95% interval are set against
/// the log's. Priorities with fewer than [`MIN_CALLS_PER_PRIORITY`] observed calls are left out.
pub fn by_priority(
    stream: &Path,
    calls_log: &Path,
    scenario: &Scenario,
) -> Result<Vec<Row>, BacktestError> {
    use std::collections::{BTreeMap, HashMap};
    // The log's priority of each 911 call, and its observed response.
    let mut table = Table::open(stream)?;
    let (Some(id_c), Some(type_c), Some(priority_c), Some(arrived_c)) = (
        table.column(CALL_ID),
        table.column(CALL_TYPE),
        table.column(PRIORITY),
        table.column(ARRIVED_AFTER),
    ) else {
        return Ok(Vec::new());
    };
    let mut priority_of: HashMap<String, String> = HashMap::new();
    let mut observed: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for record in table.rows() {
        let record = record?;
        if !is_demand(scenario, &record[type_c]) || record[priority_c].is_empty() {
            continue;
        }
        let priority = record[priority_c].to_string();
        if let Ok(minutes) = record[arrived_c].parse::<f64>() {
            observed.entry(priority.clone()).or_default().push(minutes);
        }
        priority_of.insert(record[id_c].to_string(), priority);
    }
    observed.retain(|_, values| values.len() >= MIN_CALLS_PER_PRIORITY);
    if observed.is_empty() {
        return Ok(Vec::new());
    }
    // Simulated responses by (priority, replication).
    let mut table = Table::open(calls_log)?;
    let (Some(rep_c), Some(id_c), Some(response_c)) = (
        table.column(REPLICATION),
        table.column(CALL_ID),
        table.column(RESPONSE),
    ) else {
        return Err(table.error(NOT_A_CALLS_LOG.to_string()));
    };
    let mut simulated: BTreeMap<(String, u64), Vec<f64>> = BTreeMap::new();
    for record in table.rows() {
        let record = record?;
        let (Some(priority), Ok(replication), Ok(response)) = (
            priority_of.get(&record[id_c]),
            record[rep_c].parse::<u64>(),
            record[response_c].parse::<f64>(),
        ) else {
            continue;
        };
        simulated
            .entry((priority.clone(), replication))
            .or_default()
            .push(response);
    }
    let mut rows = Vec::new();
    for (priority, mut values) in observed {
        values.sort_by(f64::total_cmp);
        for (q, name, label) in [
            (0.5, "response_median", "Response, median"),
            (0.9, "response_p90", "Response, 90th percentile"),
        ] {
            let per_replication: Vec<f64> = simulated
                .iter_mut()
                .filter(|((p, _), _)| *p == priority)
                .map(|(_, v)| {
                    v.sort_by(f64::total_cmp);
                    quantile(v, q)
                })
                .collect();
            let simulated = Estimate::from_samples(&per_replication);
            let value = quantile(&values, q);
            rows.push(Row {
                figure: format!("{name}.priority_{priority}"),
                label: format!("{label}, priority {priority}"),
                observed_calls: values.len(),
                observed: value,
                simulated,
                inside: simulated.ci_low <= value && value <= simulated.ci_high,
                relative_error: (simulated.mean - value) / value,
            });
        }
    }
    Ok(rows)
}

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

/// The busy profile of a stream with the timestamp chain; `None` without one.
pub fn busy_profile(stream: &Path) -> Result<Option<BusyProfile>, BacktestError> {
    use chrono::NaiveDateTime;
    let mut table = Table::open(stream)?;
    let (Some(at_c), Some(dispatched_c), Some(cleared_c)) = (
        table.column(RECEIVED_AT),
        table.column(DISPATCHED_AFTER),
        table.column(CLEARED_AFTER),
    ) else {
        return Ok(None);
    };
    // (minute since the first call's midnight, +1 open / -1 closed)
    let mut changes: Vec<(f64, i32)> = Vec::new();
    let mut origin: Option<NaiveDateTime> = None;
    for record in table.rows() {
        let record = record?;
        let Ok(at) = NaiveDateTime::parse_from_str(&record[at_c], "%Y-%m-%dT%H:%M:%S%.f") else {
            continue;
        };
        let origin = *origin.get_or_insert_with(|| at.date().and_hms_opt(0, 0, 0).unwrap_or(at));
        let received = (at - origin).num_milliseconds() as f64 / 60_000.0;
        let minutes = |i: usize| record[i].parse::<f64>().ok().filter(|m| m.is_finite());
        if let (Some(d), Some(c)) = (minutes(dispatched_c), minutes(cleared_c))
            && c >= d
        {
            changes.push((received + d, 1));
            changes.push((received + c, -1));
        }
    }
    if changes.is_empty() {
        return Ok(None);
    }
    // Closings before openings at the same minute: a unit cleared can take the next call.
    changes.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
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
    Ok(Some(BusyProfile {
        peak: peak.max(0) as u32,
        by_hour: busy_minutes.map(|m| m / (60.0 * days)),
        calls: (changes.len() / 2) as u64,
    }))
}
