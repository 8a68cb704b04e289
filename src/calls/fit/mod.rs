//! `fit`: estimates a scenario's demand from a call stream (a city's imported calls): daily
//! volume, hour-of-day and day-of-week profiles, call-type mix and, where the log has them,
//! on-scene times per call type. It edits a base scenario's TOML so its comments and the parts
//! a log cannot tell (fleet, costs, outcomes) stay for the user to review, and reports how well
//! each fitted distribution matches the log (Kolmogorov-Smirnov distances).
//!
//! Here: demand, the TOML it writes and the report. `distributions`: fitting one duration (a
//! lognormal, or the log's own percentiles). `chain`: what a log's timestamp chain adds (call
//! processing and travel by priority, zones from coordinates, units on duty by hour).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use statrs::distribution::{ContinuousCDF, LogNormal};
use toml_edit::{Array, DocumentMut, InlineTable, Item, Value};

use crate::calls::stream::{StreamError, StreamFile};
use crate::scenario::distribution::DurationSpec;
use crate::scenario::{Scenario, ScenarioError};

mod chain;
mod distributions;

#[cfg(test)]
use chain::kmeans;
pub use chain::{FleetBlock, FleetFit, MAX_FITTED_ZONES, PriorityTravel, ZoneFit, fit_fleet};
use chain::{chain_fits, with_fleet, write_zones};
pub use distributions::{DurationFit, EMPIRICAL_POINTS, KsDistance, OnSceneFit};
use distributions::{fit_lognormal, fit_lognormal_quantiles, ks_distance};

/// Fewest on-scene times a call type needs before its distribution is fitted.
pub const MIN_ON_SCENE_SAMPLES: usize = 30;

#[derive(Debug, thiserror::Error)]
pub enum FitError {
    #[error(transparent)]
    Stream(#[from] StreamError),
    #[error("{path}: {calls} calls is too few to fit a scenario (at least {min} are needed)")]
    TooFew { path: PathBuf, calls: u64, min: u64 },
    #[error("{0}")]
    Zones(String),
    #[error("the base scenario's TOML cannot be edited: {0}")]
    Base(String),
    #[error("the fitted scenario does not check (a bug; please report it): {0}")]
    Invalid(#[source] Box<ScenarioError>),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Fewest calls `fit` accepts: enough for a rough hour-of-day profile.
const MIN_CALLS: u64 = 100;

/// What `fit` estimated, and how well.
#[derive(Clone, Debug, PartialEq)]
pub struct FitReport {
    pub calls: u64,
    pub days: f64,
    pub start_date: String,
    pub calls_per_day: f64,
    /// Relative weights (mean 1).
    pub hour_of_day: [f64; 24],
    pub day_of_week: [f64; 7],
    /// Weekdays the log does not cover (kept at weight 1).
    pub weekdays_missing: usize,
    /// `(call type, share, calls)`.
    pub call_types: Vec<(String, f64, u64)>,
    /// `(zone, share)` when most calls name their zone.
    pub zones: Option<Vec<(String, f64)>>,
    pub on_scene: Vec<OnSceneFit>,
    /// Call types with some on-scene times, but too few to fit: `(type, samples)`.
    pub on_scene_too_few: Vec<(String, usize)>,
    /// Gaps between calls, rescaled by the fitted rate, against Exp(1): does a Poisson process
    /// with the fitted profiles explain the arrivals?
    pub arrivals: KsDistance,
    /// The log's times are whole seconds (spread within their second for the arrivals test).
    pub seconds_resolution: bool,
    /// From the timestamp chain (an imported log with `[dispatched]`): call processing by
    /// priority (`None`: every call, the `default`), and travel (a one-zone scenario's) with
    /// its factor by priority `(priority, factor, calls)`.
    pub dispatch_delay: Vec<(Option<u8>, DurationFit)>,
    pub travel: Option<DurationFit>,
    pub travel_by_priority: Vec<PriorityTravel>,
    /// Zones fitted to the coordinates (`fit --zones K`).
    pub fitted_zones: Option<ZoneFit>,
    /// From the chain: calls open at once (a lower bound on the units on duty), and the base
    /// scenario's units, to compare.
    pub busy: Option<crate::stats::backtest::BusyProfile>,
    /// The units on duty by block of hours (`fit --fleet`).
    pub fleet: Option<FleetFit>,
    pub base_units: u32,
    pub output: PathBuf,
}

fn round(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

fn float_array(values: &[f64], decimals: i32) -> Array {
    values.iter().map(|&v| round(v, decimals)).collect()
}

/// Sets `table[key]`, with a comment line above it.
fn set_commented(table: &mut toml_edit::Table, key: &str, value: Value, comment: &str) {
    table.insert(key, Item::Value(value));
    if let Some(mut key) = table.key_mut(key) {
        key.leaf_decor_mut().set_prefix(format!("# {comment}\n"));
    }
}

/// What `fit` does besides demand and the chain.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FitOptions {
    /// Search the pool's units on duty by block of hours ([`fit_fleet`]), written as shifts.
    pub fleet: bool,
    /// Replace the zones with this many fitted to the calls' coordinates ([`ZoneFit`]).
    pub zones: Option<usize>,
}

/// Fits the stream at `path` onto the base scenario (`base_text` is its TOML) and writes the
/// fitted scenario to `output`.
pub fn fit(
    path: &Path,
    base: &Scenario,
    base_text: &str,
    output: &Path,
    options: FitOptions,
) -> Result<FitReport, FitError> {
    let stream = StreamFile::open(path, base)?;
    if stream.calls < MIN_CALLS {
        return Err(FitError::TooFew {
            path: path.to_path_buf(),
            calls: stream.calls,
            min: MIN_CALLS,
        });
    }
    let first_weekday = usize::from(stream.start_date.weekday_index());
    let Tally {
        by_weekday,
        by_hour,
        by_type,
        by_zone,
        mut on_scene,
        mut times,
    } = tally(&stream, base)?;
    let calls = times.len() as u64;
    let seconds_resolution = times.iter().all(|t| {
        let seconds = t * 60.0;
        (seconds - seconds.round()).abs() < 1e-6
    });
    let days = ((times.last().copied().unwrap_or(0.0) / 1440.0) as u64 + 1) as f64;
    let calls_per_day = calls as f64 / days;

    let hour_of_day: [f64; 24] = std::array::from_fn(|h| by_hour[h] as f64 * 24.0 / calls as f64);
    let (day_of_week, weekdays_missing) = weekday_profile(&by_weekday, first_weekday, days);

    let shares = rounded_shares(&by_type, calls);
    // Zone shares, when most calls say where they were (the rest are drawn from the shares).
    let zoned: u64 = by_zone.iter().sum();
    let zone_shares = (zoned * 2 >= calls).then(|| rounded_shares(&by_zone, zoned));

    let (on_scene_fits, on_scene_too_few) = on_scene_fits(base, &mut on_scene);
    let chain = crate::stats::backtest::read_chain(path, base).unwrap_or_default();
    let zones = match options.zones {
        None => None,
        Some(k) => {
            if let Some(facility) = base.facilities.first() {
                return Err(FitError::Zones(format!(
                    "--zones replaces the scenario's zones, but facility `{}` is placed in zone `{}`: fit zones on a base without [[facilities]], then add them",
                    facility.name, base.zones[facility.zone.0 as usize].name
                )));
            }
            Some(ZoneFit::new(base, &chain, k)?)
        }
    };
    let (dispatch_delay, travel, travel_by_priority) = chain_fits(base, &chain, zones.as_ref());

    let found = Found {
        calls,
        days,
        calls_per_day,
        hour_of_day,
        day_of_week,
        weekdays_missing,
        shares,
        by_type,
        zone_shares,
        zoned,
        by_zone,
        on_scene_fits,
        dispatch_delay,
        travel,
        travel_by_priority,
        fitted_zones: zones,
    };
    let text = fitted_text(
        path,
        base,
        base_text,
        &stream.start_date.to_string(),
        &found,
    )?;
    let mut fitted = Scenario::from_toml_str(&text, &output.display().to_string())
        .map_err(|e| FitError::Invalid(Box::new(e)))?;
    let fleet_fit = if options.fleet {
        fit_fleet(path, &fitted, &chain)?
    } else {
        None
    };
    let text = match &fleet_fit {
        None => text,
        Some(found) => {
            let text = with_fleet(&text, found)?;
            fitted = Scenario::from_toml_str(&text, &output.display().to_string())
                .map_err(|e| FitError::Invalid(Box::new(e)))?;
            text
        }
    };

    let arrivals = arrivals_fit(&fitted, first_weekday, &mut times, seconds_resolution);

    crate::output::write_atomic(output, text.as_bytes()).map_err(|source| FitError::Write {
        path: output.to_path_buf(),
        source,
    })?;
    Ok(FitReport {
        calls: found.calls,
        days: found.days,
        start_date: stream.start_date.to_string(),
        calls_per_day: found.calls_per_day,
        hour_of_day: found.hour_of_day,
        day_of_week: found.day_of_week,
        weekdays_missing: found.weekdays_missing,
        call_types: base
            .call_types
            .iter()
            .zip(&found.shares)
            .zip(&found.by_type)
            .map(|((t, &s), &c)| (t.name.clone(), s, c))
            .collect(),
        zones: found.zone_shares.map(|shares| {
            base.zones
                .iter()
                .zip(shares)
                .map(|(z, s)| (z.name.clone(), s))
                .collect()
        }),
        on_scene: found.on_scene_fits,
        on_scene_too_few,
        arrivals,
        seconds_resolution,
        dispatch_delay: found.dispatch_delay,
        travel: found.travel,
        travel_by_priority: found.travel_by_priority,
        fitted_zones: found.fitted_zones,
        busy: crate::stats::backtest::busy_profile(&chain),
        fleet: fleet_fit,
        base_units: base.pools.iter().map(|p| p.count).sum(),
        output: output.to_path_buf(),
    })
}

/// What the fit found, before it is written.
struct Found {
    calls: u64,
    days: f64,
    calls_per_day: f64,
    hour_of_day: [f64; 24],
    day_of_week: [f64; 7],
    weekdays_missing: usize,
    /// Call-type shares, and the counts behind them.
    shares: Vec<f64>,
    by_type: Vec<u64>,
    /// Zone shares (when most calls have a zone), the calls with one, and the counts.
    zone_shares: Option<Vec<f64>>,
    zoned: u64,
    by_zone: Vec<u64>,
    on_scene_fits: Vec<OnSceneFit>,
    dispatch_delay: Vec<(Option<u8>, DurationFit)>,
    travel: Option<DurationFit>,
    travel_by_priority: Vec<PriorityTravel>,
    fitted_zones: Option<ZoneFit>,
}

/// A fitted distribution as a scenario writes it; an empirical one's quantiles ten to a line.
fn spec_value(spec: &DurationSpec, decimals: i32) -> Value {
    let mut table = InlineTable::new();
    match spec {
        DurationSpec::Empirical { quantiles } => {
            table.insert("dist", "empirical".into());
            table.insert("quantiles", Value::Array(quantile_array(quantiles)));
        }
        other => {
            table.insert("dist", "lognormal".into());
            table.insert("mean", round(other.mean(), decimals).into());
            table.insert("sd", round(other.sd(), decimals).into());
        }
    }
    Value::InlineTable(table)
}

/// Quantiles as a TOML array, ten to a line.
fn quantile_array(quantiles: &[f64]) -> Array {
    let mut array: Array = quantiles.iter().map(|&q| round(q, 3)).collect();
    for (i, value) in array.iter_mut().enumerate() {
        let prefix = if i % 10 == 0 { "\n  " } else { " " };
        value.decor_mut().set_prefix(prefix);
    }
    array.set_trailing("\n");
    array.set_trailing_comma(true);
    array
}

/// The base scenario's text with the fitted values written in, each with a comment saying
/// where it came from (comments and unfitted settings stay).
fn fitted_text(
    path: &Path,
    base: &Scenario,
    base_text: &str,
    start_date: &str,
    found: &Found,
) -> Result<String, FitError> {
    let (calls, days, calls_per_day) = (found.calls, found.days, found.calls_per_day);
    let (hour_of_day, day_of_week) = (found.hour_of_day, found.day_of_week);
    let (weekdays_missing, zoned) = (found.weekdays_missing, found.zoned);
    let (shares, by_type) = (&found.shares, &found.by_type);
    let (zone_shares, by_zone) = (&found.zone_shares, &found.by_zone);
    let on_scene_fits = &found.on_scene_fits;
    // Edit the base scenario's text: comments and unfitted settings stay.
    let mut doc: DocumentMut = base_text
        .parse()
        .map_err(|e: toml_edit::TomlError| FitError::Base(e.to_string()))?;
    let file_name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let city = doc
        .get_mut("city")
        .and_then(Item::as_table_mut)
        .ok_or_else(|| FitError::Base("no [city] table".to_string()))?;
    city.insert(
        "name",
        toml_edit::value(format!("{} fitted to {file_name}", base.name)),
    );
    let demand = doc
        .get_mut("demand")
        .and_then(Item::as_table_mut)
        .ok_or_else(|| FitError::Base("no [demand] table".to_string()))?;
    set_commented(
        demand,
        "calls_per_day",
        Value::from(round(calls_per_day, 2)),
        &format!("Fitted: {calls} calls / {days} days ({file_name})."),
    );
    set_commented(
        demand,
        "hour_of_day",
        Value::Array(float_array(&hour_of_day, 3)),
        "Fitted: share of the log's calls in each hour (x 24), midnight first.",
    );
    set_commented(
        demand,
        "day_of_week",
        Value::Array(float_array(&day_of_week, 3)),
        &if weekdays_missing > 0 {
            format!(
                "Fitted: calls per day on each weekday over the mean, Monday first; {weekdays_missing} weekday(s) not in the log are 1."
            )
        } else {
            "Fitted: calls per day on each weekday over the mean, Monday first.".to_string()
        },
    );
    if let Some(shares) = &zone_shares
        && let Some(zones) = doc.get_mut("zones").and_then(Item::as_array_of_tables_mut)
    {
        for (z, table) in zones.iter_mut().enumerate() {
            set_commented(
                table,
                "share",
                Value::from(shares[z]),
                &format!("Fitted: {} of the {zoned} calls with a zone.", by_zone[z]),
            );
        }
    }
    let call_types = doc
        .get_mut("call_types")
        .and_then(Item::as_array_of_tables_mut)
        .ok_or_else(|| FitError::Base("no [[call_types]]".to_string()))?;
    for (t, table) in call_types.iter_mut().enumerate() {
        set_commented(
            table,
            "share",
            Value::from(shares[t]),
            &format!("Fitted: {} of {calls} calls in the log.", by_type[t]),
        );
        if let Some(fit) = on_scene_fits
            .iter()
            .find(|f| f.call_type == base.call_types[t].name)
        {
            let police = spec_value(&fit.fit.spec, 1);
            let on_scene = table
                .entry("on_scene")
                .or_insert_with(|| Item::Table(toml_edit::Table::new()));
            if let Some(on_scene) = on_scene.as_table_like_mut() {
                on_scene.insert("police", Item::Value(police));
            }
            if let Some(mut key) = table.key_mut("on_scene") {
                let ks = fit.fit.ks;
                key.leaf_decor_mut().set_prefix(if fit.fit.is_empirical() {
                    format!(
                        "# Police on-scene fitted from arrival-to-clear times: {}.\n",
                        fit.fit.describe()
                    )
                } else {
                    format!(
                        "# Police on-scene fitted from {} arrival-to-clear times: KS distance {:.3} (5% critical {:.3}).\n",
                        ks.samples,
                        ks.distance,
                        ks.critical_5pct()
                    )
                });
            }
        }
    }
    // From the timestamp chain: call processing by priority (and a default for the rest),
    // and travel (a one-zone scenario's: with zones, travel stays the base's).
    if !found.dispatch_delay.is_empty() {
        let mut delay = toml_edit::Table::new();
        for (priority, fit) in &found.dispatch_delay {
            let (key, whose) = match priority {
                Some(p) => (p.to_string(), format!("priority-{p} calls'")),
                None => ("default".to_string(), "every call's".to_string()),
            };
            set_commented(
                &mut delay,
                &key,
                spec_value(&fit.spec, 3),
                &format!(
                    "Fitted to {whose} received-to-dispatch times (lognormal through the median and 90th percentile, where it fits): {}.",
                    fit.describe()
                ),
            );
        }
        doc.insert("dispatch_delay", Item::Table(delay));
    }
    if let Some(zones) = &found.fitted_zones {
        write_zones(&mut doc, zones)?;
    }
    let one_zone = base.zones.len() == 1 || found.fitted_zones.is_some();
    if let (Some(fit), true) = (&found.travel, one_zone)
        && let Some(travel) = doc.get_mut("travel").and_then(Item::as_table_mut)
    {
        let mean = fit.spec.mean();
        // One zone: its mean. Fitted zones: each column the mean trip to that zone (the
        // overall mean scaled by the zone's median trip); every row the same, since a log does
        // not say where a unit set out from.
        let columns: Vec<f64> = match &found.fitted_zones {
            None => vec![round(mean, 2)],
            Some(z) => z
                .travel_median
                .iter()
                .map(|m| round(mean * m / z.overall_median, 2))
                .collect(),
        };
        let mut minutes = Array::new();
        for _ in 0..columns.len() {
            minutes.push(columns.iter().copied().collect::<Array>());
        }
        set_commented(
            travel,
            "minutes",
            Value::Array(minutes),
            &format!(
                "Fitted to dispatch-to-arrival times (the fitted distribution's mean{}; the variation below is its shape): {}.",
                if found.fitted_zones.is_some() {
                    ", by the zone called to"
                } else {
                    ""
                },
                fit.describe()
            ),
        );
        travel.remove("cv");
        travel.remove("quantiles");
        match &fit.spec {
            DurationSpec::Empirical { quantiles } => {
                travel.insert("variation", toml_edit::value("empirical"));
                let factors: Vec<f64> = quantiles.iter().map(|q| q / mean).collect();
                travel.insert("quantiles", toml_edit::value(quantile_array(&factors)));
            }
            spec => {
                travel.insert("variation", toml_edit::value("lognormal"));
                travel.insert("cv", toml_edit::value(round(spec.sd() / mean, 3)));
            }
        }
        travel.remove("priority_factor");
        travel.remove("priority_quantiles");
        if !found.travel_by_priority.is_empty() {
            let mut by_priority = InlineTable::new();
            for own in &found.travel_by_priority {
                let factors: Vec<f64> = own.quantiles.iter().map(|q| q / mean).collect();
                by_priority.insert(
                    own.priority.to_string(),
                    Value::Array(quantile_array(&factors)),
                );
            }
            set_commented(
                travel,
                "priority_quantiles",
                Value::InlineTable(by_priority),
                &format!(
                    "Fitted: each priority's own trips (percentiles, over the mean above): {}.",
                    found
                        .travel_by_priority
                        .iter()
                        .map(|t| format!(
                            "priority {}: {} calls, median {:.2} min",
                            t.priority, t.calls, t.median
                        ))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            );
        }
    }
    let header = format!(
        "# Fitted by `crisis-sim fit` from {} ({calls} calls, {days} days from {}),\n\
         # on the base scenario \"{}\". Demand, the call-type mix{} and the on-scene times\n\
         # marked below are fitted; fleet, shifts, costs, travel and outcomes are the base's:\n\
         # review them for your city.\n\n",
        path.display(),
        start_date,
        base.name,
        if zone_shares.is_some() {
            ", zone shares"
        } else {
            ""
        },
    );
    Ok(format!("{header}{doc}"))
}

/// What the fit reads from the stream: counts by hour, weekday, type and zone, on-scene times
/// per type, and every arrival time.
struct Tally {
    by_hour: [u64; 24],
    by_weekday: [u64; 7],
    by_type: Vec<u64>,
    by_zone: Vec<u64>,
    on_scene: Vec<Vec<f64>>,
    times: Vec<f64>,
}

/// Reads the stream's first replication (a file of several, from `generate`, is fitted on its
/// first) into a [`Tally`].
fn tally(stream: &StreamFile, base: &Scenario) -> Result<Tally, FitError> {
    let types = base.call_types.len();
    let mut by_hour = [0u64; 24];
    let mut by_weekday = [0u64; 7];
    let mut by_type = vec![0u64; types];
    let mut by_zone = vec![0u64; base.zones.len()];
    let mut on_scene: Vec<Vec<f64>> = vec![Vec::new(); types];
    let mut times: Vec<f64> = Vec::new();
    let mut rows = stream.rows(0)?;
    let first_weekday = usize::from(stream.start_date.weekday_index());
    for row in rows.by_ref() {
        let minutes = row.received_minutes;
        let day = (minutes / 1440.0) as usize;
        by_hour[(minutes / 60.0) as usize % 24] += 1;
        by_weekday[(first_weekday + day) % 7] += 1;
        by_type[row.call_type.0 as usize] += 1;
        if let Some(zone) = row.zone {
            by_zone[zone.0 as usize] += 1;
        }
        if let Some(m) = row.on_scene_minutes {
            on_scene[row.call_type.0 as usize].push(m);
        }
        times.push(minutes);
    }
    if let Some(error) = rows.take_error() {
        return Err(error.into());
    }
    Ok(Tally {
        by_hour,
        by_weekday,
        by_type,
        by_zone,
        on_scene,
        times,
    })
}

/// Calls per day on each weekday over the mean, Monday first, and how many weekdays the log
/// does not cover (those are 1).
fn weekday_profile(by_weekday: &[u64; 7], first_weekday: usize, days: f64) -> ([f64; 7], usize) {
    // Calls per day on each weekday, over how many of that weekday the log covers.
    let mut exposure = [0u64; 7];
    for day in 0..days as usize {
        exposure[(first_weekday + day) % 7] += 1;
    }
    let per_day: Vec<Option<f64>> = (0..7)
        .map(|d| (exposure[d] > 0).then(|| by_weekday[d] as f64 / exposure[d] as f64))
        .collect();
    let covered: Vec<f64> = per_day.iter().flatten().copied().collect();
    let mean_per_day = covered.iter().sum::<f64>() / covered.len() as f64;
    let day_of_week: [f64; 7] = std::array::from_fn(|d| {
        per_day[d].map_or(1.0, |v| {
            if mean_per_day > 0.0 {
                v / mean_per_day
            } else {
                1.0
            }
        })
    });
    let weekdays_missing = per_day.iter().filter(|d| d.is_none()).count();

    (day_of_week, weekdays_missing)
}

/// Shares of `counts` in `total`, to 6 decimals; the largest takes the rounding so they sum to
/// 1 exactly enough.
fn rounded_shares(counts: &[u64], total: u64) -> Vec<f64> {
    let mut shares: Vec<f64> = counts
        .iter()
        .map(|&c| round(c as f64 / total as f64, 6))
        .collect();
    if let Some(largest) = (0..shares.len()).max_by_key(|&i| counts[i]) {
        let rest: f64 = shares
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != largest)
            .map(|(_, s)| s)
            .sum();
        shares[largest] = round(1.0 - rest, 6);
    }
    shares
}

/// Lognormal on-scene fits per call type with enough samples, and the types with too few.
fn on_scene_fits(
    base: &Scenario,
    on_scene: &mut [Vec<f64>],
) -> (Vec<OnSceneFit>, Vec<(String, usize)>) {
    let mut on_scene_fits = Vec::new();
    let mut on_scene_too_few = Vec::new();
    for (t, samples) in on_scene.iter_mut().enumerate() {
        let name = base.call_types[t].name.clone();
        if samples.len() >= MIN_ON_SCENE_SAMPLES {
            if let Some(fit) = DurationFit::new(samples, fit_lognormal) {
                on_scene_fits.push(OnSceneFit {
                    call_type: name,
                    fit,
                });
            }
        } else if !samples.is_empty() {
            on_scene_too_few.push((name, samples.len()));
        }
    }

    (on_scene_fits, on_scene_too_few)
}

/// Time-rescaling: under the fitted rate, the integrated intensity between calls is Exp(1); the
/// KS distance of the rescaled gaps from Exp(1).
fn arrivals_fit(
    fitted: &Scenario,
    first_weekday: usize,
    times: &mut [f64],
    seconds_resolution: bool,
) -> KsDistance {
    let rate = |minute: f64| {
        let day = (minute / 1440.0) as i64;
        fitted.demand.rate_per_minute(
            (first_weekday + day as usize) % 7,
            (minute / 60.0) as usize % 24,
        )
    };
    let integral = |from: f64, to: f64| {
        let mut total = 0.0;
        let mut t = from;
        while t < to {
            let hour_end = (((t / 60.0) as u64 + 1) * 60) as f64;
            let end = hour_end.min(to);
            total += rate(t) * (end - t);
            t = end;
        }
        total
    };
    // Times a city records to the second tie often (two calls a minute gives a tie every
    // ~30 calls), and a tie is a zero gap no continuous process makes. Spread each time
    // evenly within its recorded second (deterministically) before comparing.
    if seconds_resolution {
        for (i, t) in times.iter_mut().enumerate() {
            let u = crate::calls::rng::uniform(
                crate::calls::rng::call_key(0x7469_6573, i as u64),
                crate::calls::rng::Purpose::Zone,
            );
            *t += u / 60.0;
        }
        times.sort_by(f64::total_cmp);
    }
    let mut gaps: Vec<f64> = times.windows(2).map(|w| integral(w[0], w[1])).collect();
    gaps.sort_by(f64::total_cmp);
    ks_distance(&gaps, |x| 1.0 - (-x).exp())
}

impl FitReport {
    /// The report `crisis-sim fit` prints.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Fitted {} calls over {} days from {}: {:.1} calls a day.",
            self.calls, self.days, self.start_date, self.calls_per_day
        );
        let _ = writeln!(out, "\nHour of day (relative to the mean hour):");
        for row in 0..4 {
            let cells: Vec<String> = (row * 6..row * 6 + 6)
                .map(|h| format!("{h:02}h {:>5.2}", self.hour_of_day[h]))
                .collect();
            let _ = writeln!(out, "  {}", cells.join("   "));
        }
        let names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        let days: Vec<String> = names
            .iter()
            .zip(&self.day_of_week)
            .map(|(n, w)| format!("{n} {w:.2}"))
            .collect();
        let _ = writeln!(out, "\nDay of week (relative):\n  {}", days.join("   "));
        if self.weekdays_missing > 0 {
            let _ = writeln!(
                out,
                "  ({} weekday(s) not in the log were set to 1.)",
                self.weekdays_missing
            );
        }
        let _ = writeln!(out, "\nCall-type mix:");
        for (name, share, calls) in &self.call_types {
            let _ = writeln!(out, "  {name:<24} {:>6.2}%  ({calls} calls)", share * 100.0);
        }
        if let Some(zones) = &self.zones {
            let cells: Vec<String> = zones
                .iter()
                .map(|(name, share)| format!("{name} {:.1}%", share * 100.0))
                .collect();
            let _ = writeln!(out, "\nZones: {}", cells.join(", "));
        }
        let _ = writeln!(
            out,
            "\nGoodness of fit (Kolmogorov-Smirnov distance; 5% critical value in brackets):"
        );
        let verdict = |ks: &KsDistance| if ks.fits() { "fits" } else { "differs" };
        let _ = writeln!(
            out,
            "  arrivals vs a Poisson process with these profiles: D = {:.3} [{:.3}], {} gaps: {}",
            self.arrivals.distance,
            self.arrivals.critical_5pct(),
            self.arrivals.samples,
            if self.arrivals.fits() {
                "fits"
            } else {
                "differs (calls come in bursts, or volume drifts over the log: the Poisson model understates peaks)"
            }
        );
        if self.seconds_resolution {
            let _ = writeln!(
                out,
                "    (times are recorded to the second; each was spread within its second, so ties are not read as bursts)"
            );
        }
        for on_scene in &self.on_scene {
            let (mean, sd, ks) = on_scene.fit.lognormal;
            let _ = writeln!(
                out,
                "  on-scene {:<22} lognormal mean {:.1} sd {:.1} min: D = {:.3} [{:.3}], {} calls: {}{}",
                on_scene.call_type,
                mean,
                sd,
                ks.distance,
                ks.critical_5pct(),
                ks.samples,
                verdict(&ks),
                if on_scene.fit.is_empirical() {
                    format!(
                        "; the log's own percentiles used instead (D = {:.3})",
                        on_scene.fit.ks.distance
                    )
                } else {
                    String::new()
                }
            );
        }
        for (name, n) in &self.on_scene_too_few {
            let _ = writeln!(
                out,
                "  on-scene {name:<22} only {n} times (< {MIN_ON_SCENE_SAMPLES}): kept the base scenario's"
            );
        }
        if self.on_scene.is_empty() && self.on_scene_too_few.is_empty() {
            let _ = writeln!(
                out,
                "  on-scene times: the log has none (import with arrived and cleared columns); kept the base scenario's"
            );
        }
        for (priority, fit) in &self.dispatch_delay {
            let _ = writeln!(
                out,
                "  Call processing (received to dispatch), {}: {}",
                priority.map_or("every call (default)".to_string(), |p| format!(
                    "priority {p}"
                )),
                fit.describe()
            );
        }
        if let Some(fit) = &self.travel {
            let _ = writeln!(out, "  Travel (dispatch to arrival): {}", fit.describe());
            for own in &self.travel_by_priority {
                let _ = writeln!(
                    out,
                    "    priority {}: its own {} trips (median {:.2} min), as an empirical distribution",
                    own.priority, own.calls, own.median
                );
            }
        }
        if let Some(zones) = &self.fitted_zones {
            let _ = writeln!(
                out,
                "  Zones from coordinates (k-means, {} of the calls located): {} zones",
                zones.located,
                zones.centers.len()
            );
            for (z, center) in zones.centers.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "    zone_{}: centre ({:.0}, {:.0}), {} calls, {} 911 trips, median trip {:.2} min",
                    z + 1,
                    center[0],
                    center[1],
                    zones.calls[z],
                    zones.trips[z],
                    zones.travel_median[z]
                );
            }
        }
        if let Some(fleet) = &self.fleet {
            let _ = writeln!(
                out,
                "  Units on duty ({}), searched with the engine to reproduce the log's received-to-dispatch p90 by block:",
                fleet.pool
            );
            for b in &fleet.blocks {
                let _ = writeln!(
                    out,
                    "    {:02}-{:02}h: {} units (at least {} busy at once in the log); p90 log {:.2} [{:.2}, {:.2}], simulated {:.2}",
                    b.hours.0,
                    b.hours.1,
                    b.units,
                    b.lower_bound,
                    b.observed_p90,
                    b.observed_interval.0,
                    b.observed_interval.1,
                    b.simulated_p90
                );
            }
        }
        if let Some(busy) = &self.busy {
            let hours: Vec<String> = busy.by_hour.iter().map(|b| format!("{b:.1}")).collect();
            let _ = writeln!(
                out,
                "  Calls open at once (first dispatch to last clear, {} calls): at most {}; mean by hour of day:\n    {}",
                busy.calls,
                busy.peak,
                hours.join(" ")
            );
            let _ = writeln!(
                out,
                "    a lower bound on the units on duty{}",
                if self.base_units < busy.peak {
                    format!(
                        ": WARNING, the base scenario has {} units, fewer than the log had busy at once; the replay will queue calls the log did not",
                        self.base_units
                    )
                } else {
                    format!(" (the base scenario has {})", self.base_units)
                }
            );
        }
        let _ = writeln!(
            out,
            "\nWrote {}: demand and mix fitted{}{}{}; {}costs{} and outcomes are the base scenario's.",
            self.output.display(),
            if self.dispatch_delay.is_empty() {
                ""
            } else {
                ", call processing and travel from the timestamp chain"
            },
            if self.fitted_zones.is_some() {
                ", zones from the coordinates"
            } else {
                ""
            },
            if self.fleet.is_some() {
                ", units on duty by block of hours"
            } else {
                ""
            },
            if self.fleet.is_some() { "" } else { "fleet, " },
            if self.travel.is_some() {
                ""
            } else {
                ", travel"
            }
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calls::CallGenerator;
    use crate::scenario::DEFAULT_SCENARIO_TOML;
    use statrs::distribution::ChiSquared;

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("crisis-sim-fit-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// `fit` of `log` on the default scenario with default options, into `output`.
    fn fit_default(log: &Path, output: &Path) -> Result<FitReport, FitError> {
        fit(
            log,
            &Scenario::default_scenario(),
            DEFAULT_SCENARIO_TOML,
            output,
            FitOptions::default(),
        )
    }

    /// p-value of a chi-square test that two samples of counts come from one distribution.
    fn homogeneity_p(a: &[f64], b: &[f64]) -> f64 {
        let (na, nb): (f64, f64) = (a.iter().sum(), b.iter().sum());
        let mut statistic = 0.0;
        let mut cells = 0;
        for (&x, &y) in a.iter().zip(b) {
            let total = x + y;
            if total == 0.0 {
                continue;
            }
            cells += 1;
            let (ex, ey) = (total * na / (na + nb), total * nb / (na + nb));
            statistic += (x - ex).powi(2) / ex + (y - ey).powi(2) / ey;
        }
        1.0 - ChiSquared::new((cells - 1) as f64).unwrap().cdf(statistic)
    }

    #[test]
    fn a_stream_from_the_fitted_scenario_reproduces_the_logs_profile_and_mix() {
        let dir = temp_dir("roundtrip");
        // The "city": night-heavy calls, a different mix and weekday pattern from the base.
        let mut city = Scenario::default_scenario();
        city.horizon_days = 56.0;
        let mut hours: Vec<f64> = (0..24)
            .map(|h| 1.0 + (h as f64 - 2.0).abs().min(6.0))
            .collect();
        hours.reverse();
        let total: f64 = hours.iter().sum();
        city.demand.hour_of_day = std::array::from_fn(|h| hours[h] / total);
        city.demand.day_of_week = [0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3];
        city.demand.calls_per_day = 700.0;
        for (t, call_type) in city.call_types.iter_mut().enumerate() {
            call_type.share = [0.02, 0.05, 0.2, 0.1, 0.1, 0.2, 0.15, 0.1, 0.05, 0.03][t];
        }
        let log = dir.join("log.csv");
        crate::calls::stream::generate(&city, 1, 1, &log).unwrap();
        let base = Scenario::default_scenario();
        let output = dir.join("fitted.toml");
        let report = fit_default(&log, &output).unwrap();
        assert_eq!(report.days, 56.0);
        assert!(
            (report.calls_per_day / 700.0 - 1.0).abs() < 0.02,
            "{}",
            report.calls_per_day
        );
        assert!(
            report.arrivals.distance < 2.0 * report.arrivals.critical_5pct(),
            "{:?}",
            report.arrivals
        );
        let mut fitted = Scenario::from_file(&output).unwrap();
        let text = std::fs::read_to_string(&output).unwrap();
        assert!(text.contains("# Fitted: "), "comments mark fitted values");
        assert!(
            text.contains("Denver STAR"),
            "the base's source comments stay"
        );

        // Compare the log with a fresh stream from the fitted scenario (another seed).
        fitted.horizon_days = 56.0;
        let count = |calls: &mut dyn Iterator<Item = (f64, usize)>| {
            let mut hours = vec![0.0; 24];
            let mut types = vec![0.0; base.call_types.len()];
            for (minutes, t) in calls {
                hours[(minutes / 60.0) as usize % 24] += 1.0;
                types[t] += 1.0;
            }
            (hours, types)
        };
        let stream = StreamFile::open(&log, &base).unwrap();
        let (log_hours, log_types) = count(
            &mut stream
                .rows(0)
                .unwrap()
                .map(|r| (r.received_minutes, r.call_type.0 as usize)),
        );
        let (new_hours, new_types) = count(
            &mut CallGenerator::new(&fitted, 2, 0)
                .map(|c| (c.received_minutes, c.call_type.0 as usize)),
        );
        let hour_p = homogeneity_p(&log_hours, &new_hours);
        let type_p = homogeneity_p(&log_types, &new_types);
        assert!(hour_p > 0.001, "hour profile differs: p = {hour_p}");
        assert!(type_p > 0.001, "type mix differs: p = {type_p}");
        // ...and the base scenario's own profile is told apart (the test can fail).
        let (base_hours, _) = count(
            &mut CallGenerator::new(
                &{
                    let mut b = base.clone();
                    b.horizon_days = 56.0;
                    b
                },
                2,
                0,
            )
            .map(|c| (c.received_minutes, c.call_type.0 as usize)),
        );
        assert!(homogeneity_p(&log_hours, &base_hours) < 1e-6);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn on_scene_times_are_fitted_per_type_and_a_poor_fit_is_reported() {
        let dir = temp_dir("on-scene");
        let log = dir.join("log.csv");
        let mut text = String::from("received_minutes,call_type,on_scene_minutes\n");
        let lognormal = LogNormal::new(3.5, 0.6).unwrap();
        for i in 0..3000 {
            let q = crate::calls::rng::uniform(
                crate::calls::rng::call_key(1, i),
                crate::calls::rng::Purpose::OnScenePolice,
            );
            let mental = statrs::distribution::ContinuousCDF::inverse_cdf(&lognormal, q);
            // Welfare checks: two clusters, 5 and 90 minutes, which no lognormal fits.
            let welfare = if i % 2 == 0 { 5.0 } else { 90.0 };
            let minutes = i as f64 * 10.0;
            let _ = writeln!(text, "{minutes},mental_health_crisis,{mental}");
            let _ = writeln!(text, "{},welfare_check,{welfare}", minutes + 5.0);
        }
        let _ = writeln!(text, "30001,disturbance,12");
        std::fs::write(&log, text).unwrap();
        let output = dir.join("fitted.toml");
        let report = fit_default(&log, &output).unwrap();
        let mental = report
            .on_scene
            .iter()
            .find(|f| f.call_type == "mental_health_crisis")
            .unwrap();
        let expected_mean = (3.5f64 + 0.18).exp();
        assert!(
            (mental.fit.spec.mean() / expected_mean - 1.0).abs() < 0.05,
            "{mental:?}"
        );
        assert!(
            mental.fit.ks.fits() && !mental.fit.is_empirical(),
            "{mental:?}"
        );
        let welfare = report
            .on_scene
            .iter()
            .find(|f| f.call_type == "welfare_check")
            .unwrap();
        // No lognormal fits two clusters: the log's own percentiles stand in, and match it.
        assert!(!welfare.fit.lognormal.2.fits(), "{welfare:?}");
        assert!(
            welfare.fit.is_empirical() && welfare.fit.ks.fits(),
            "{welfare:?}"
        );
        assert!((welfare.fit.spec.mean() - 47.5).abs() < 0.5, "{welfare:?}");
        assert_eq!(report.on_scene_too_few, [("disturbance".to_string(), 1)]);
        let fitted = Scenario::from_file(&output).unwrap();
        let t = fitted
            .call_types
            .iter()
            .position(|t| t.name == "mental_health_crisis")
            .unwrap();
        let police = &fitted.call_types[t].on_scene[crate::scenario::ResponderKind::Police.index()];
        assert!(
            (police.mean() / expected_mean - 1.0).abs() < 0.05,
            "{police:?}"
        );
        assert!(report.render().contains("differs"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_arrivals_test_accepts_poisson_calls_to_the_second_and_rejects_bursts() {
        let dir = temp_dir("arrivals");
        let mut scenario = Scenario::default_scenario();
        scenario.horizon_days = 28.0;
        let calls: Vec<_> = CallGenerator::new(&scenario, 4, 0).collect();
        let at = |minutes: f64| scenario.start_date.timestamp(minutes);
        let write_log = |name: &str, rows: &mut dyn Iterator<Item = f64>| {
            let path = dir.join(name);
            let mut text = String::from("received_at,call_type\n");
            for minutes in rows {
                let _ = writeln!(text, "{},disturbance", at(minutes));
            }
            std::fs::write(&path, text).unwrap();
            path
        };
        // Poisson arrivals written to the second (as CAD exports are): many ties, still Poisson.
        let log = write_log("seconds.csv", &mut calls.iter().map(|c| c.received_minutes));
        let report = fit_default(&log, &dir.join("a.toml")).unwrap();
        assert!(report.seconds_resolution);
        assert!(report.arrivals.fits(), "{:?}", report.arrivals);
        // Each call followed by two more within half a minute: bursts.
        let mut bursts: Vec<f64> = calls
            .iter()
            .step_by(3)
            .flat_map(|c| [0.0, 0.2, 0.5].map(|d| c.received_minutes + d))
            .collect();
        bursts.sort_by(f64::total_cmp);
        let log = write_log("bursts.csv", &mut bursts.into_iter());
        let report = fit_default(&log, &dir.join("b.toml")).unwrap();
        assert!(!report.arrivals.fits(), "{:?}", report.arrivals);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn too_short_a_log_is_refused() {
        let dir = temp_dir("short");
        let log = dir.join("log.csv");
        std::fs::write(&log, "received_minutes,call_type\n1,disturbance\n").unwrap();
        let error = fit_default(&log, &dir.join("f.toml")).unwrap_err();
        assert!(error.to_string().contains("too few"), "{error}");
        assert!(!dir.join("f.toml").exists());
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// Three well-separated clusters come back as three centres, in a fixed order, whatever
    /// the start.
    #[test]
    fn kmeans_finds_separated_clusters() {
        let mut points = Vec::new();
        for (cx, cy) in [(0.0, 0.0), (1000.0, 0.0), (500.0, 900.0)] {
            for i in 0..60 {
                let angle = i as f64 * 0.7;
                let radius = (i % 7) as f64 * 5.0;
                points.push((cx + radius * angle.cos(), cy + radius * angle.sin()));
            }
        }
        let centers = kmeans(&points, 3);
        assert_eq!(centers.len(), 3);
        for (center, (x, y)) in centers
            .iter()
            .zip([(0.0, 0.0), (500.0, 900.0), (1000.0, 0.0)])
        {
            assert!(
                (center[0] - x).abs() < 10.0 && (center[1] - y).abs() < 10.0,
                "{centers:?}"
            );
        }
        assert_eq!(kmeans(&points, 3), centers, "deterministic");
    }
}
