//! What `fit` learns from a log's timestamp chain beyond demand: call processing and travel by
//! priority, zones from the calls' coordinates (k-means), and the units on duty by block of
//! hours that reproduce the log's received-to-dispatch times (a search with the engine).

use super::distributions::{percentiles, spread_within_seconds};
use super::*;

/// Zones fitted from the log's coordinates (`fit --zones K`): k-means centres, the calls in
/// each, and each zone's median 911 trip.
#[derive(Clone, Debug, PartialEq)]
pub struct ZoneFit {
    pub centers: Vec<[f64; 2]>,
    pub calls: Vec<u64>,
    /// 911 trips (dispatch to arrival) in each zone and their median, minutes; a zone with
    /// fewer than [`MIN_ON_SCENE_SAMPLES`] trips takes every zone's median.
    pub trips: Vec<usize>,
    pub travel_median: Vec<f64>,
    pub overall_median: f64,
    /// Calls with coordinates, of all the calls fitted on.
    pub located: u64,
}

/// The most zones `fit --zones` makes.
pub const MAX_FITTED_ZONES: usize = 50;

impl ZoneFit {
    /// Fits `k` zones to the coordinates of `chain`'s calls (of types the scenario has).
    pub(super) fn new(
        base: &Scenario,
        chain: &[crate::stats::backtest::ChainCall],
        k: usize,
    ) -> Result<Self, FitError> {
        let points: Vec<(f64, f64)> = chain
            .iter()
            .filter(|c| c.call_type.is_some())
            .filter_map(|c| c.xy)
            .collect();
        if !(1..=MAX_FITTED_ZONES).contains(&k) || points.len() < k * MIN_ON_SCENE_SAMPLES {
            return Err(FitError::Zones(format!(
                "--zones {k}: expected 1 to {MAX_FITTED_ZONES} zones, with at least {MIN_ON_SCENE_SAMPLES} calls with coordinates each; the stream has {} calls with coordinates (import with a mapping's [coordinates])",
                points.len()
            )));
        }
        let centers = kmeans(&points, k);
        let zone_of = |xy: (f64, f64)| crate::scenario::nearest_center(&centers, xy.0, xy.1);
        let mut calls = vec![0u64; k];
        for &xy in &points {
            if let Some(z) = zone_of(xy) {
                calls[z] += 1;
            }
        }
        let mut by_zone: Vec<Vec<f64>> = vec![Vec::new(); k];
        let mut all = Vec::new();
        for c in chain {
            if let (Some(t), Some(minutes), Some(xy)) = (c.call_type, c.travel(), c.xy)
                && base.call_types[t].demand
                && let Some(z) = zone_of(xy)
            {
                by_zone[z].push(minutes);
                all.push(minutes);
            }
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            crate::stats::backtest::quantile(v, 0.5)
        };
        let overall_median = median(&mut all);
        let trips: Vec<usize> = by_zone.iter().map(Vec::len).collect();
        let travel_median = by_zone
            .iter_mut()
            .map(|v| {
                if v.len() >= MIN_ON_SCENE_SAMPLES {
                    median(v)
                } else {
                    overall_median
                }
            })
            .collect();
        Ok(Self {
            centers,
            calls,
            trips,
            travel_median,
            overall_median,
            located: points.len() as u64,
        })
    }

    /// A trip's factor to every zone's scale: the overall median over its zone's (1 without
    /// coordinates).
    fn travel_scale(&self, xy: Option<(f64, f64)>) -> f64 {
        xy.and_then(|(x, y)| crate::scenario::nearest_center(&self.centers, x, y))
            .map_or(1.0, |z| {
                if self.travel_median[z] > 0.0 {
                    self.overall_median / self.travel_median[z]
                } else {
                    1.0
                }
            })
    }
}

/// K-means of `points` into `k` clusters (Lloyd's iterations from k-means++ starts), the best
/// of a few deterministic starts by the sum of squared distances; centres sorted by x then y so
/// the zones' order does not depend on the start.
pub(super) fn kmeans(points: &[(f64, f64)], k: usize) -> Vec<[f64; 2]> {
    const STARTS: u64 = 5;
    const ITERATIONS: usize = 100;
    let distance = |p: (f64, f64), c: &[f64; 2]| (p.0 - c[0]).powi(2) + (p.1 - c[1]).powi(2);
    let mut best: Option<(f64, Vec<[f64; 2]>)> = None;
    for start in 0..STARTS {
        let uniform = |i: u64| {
            crate::calls::rng::uniform(
                crate::calls::rng::call_key(0x6b6d_6561_6e73 + start, i),
                crate::calls::rng::Purpose::Zone,
            )
        };
        // k-means++: each next centre drawn with probability proportional to the squared
        // distance to the nearest centre so far.
        let first = ((uniform(0) * points.len() as f64) as usize).min(points.len() - 1);
        let mut centers = vec![[points[first].0, points[first].1]];
        let mut nearest: Vec<f64> = points.iter().map(|&p| distance(p, &centers[0])).collect();
        while centers.len() < k {
            let total: f64 = nearest.iter().sum();
            let mut target = uniform(centers.len() as u64) * total;
            let mut chosen = points.len() - 1;
            for (i, &d) in nearest.iter().enumerate() {
                if target < d {
                    chosen = i;
                    break;
                }
                target -= d;
            }
            let center = [points[chosen].0, points[chosen].1];
            for (i, &p) in points.iter().enumerate() {
                nearest[i] = nearest[i].min(distance(p, &center));
            }
            centers.push(center);
        }
        let mut assignment = vec![usize::MAX; points.len()];
        for _ in 0..ITERATIONS {
            let mut changed = false;
            for (i, &p) in points.iter().enumerate() {
                let z = crate::scenario::nearest_center(&centers, p.0, p.1).unwrap_or(0);
                if assignment[i] != z {
                    assignment[i] = z;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
            let mut sums = vec![(0.0, 0.0, 0usize); k];
            for (i, &p) in points.iter().enumerate() {
                let s = &mut sums[assignment[i]];
                s.0 += p.0;
                s.1 += p.1;
                s.2 += 1;
            }
            for (c, s) in centers.iter_mut().zip(&sums) {
                // An empty cluster keeps its centre.
                if s.2 > 0 {
                    *c = [s.0 / s.2 as f64, s.1 / s.2 as f64];
                }
            }
        }
        let cost: f64 = points
            .iter()
            .zip(&assignment)
            .map(|(&p, &z)| distance(p, &centers[z]))
            .sum();
        if best.as_ref().is_none_or(|(c, _)| cost < *c) {
            best = Some((cost, centers));
        }
    }
    let mut centers = best.map(|(_, c)| c).unwrap_or_default();
    centers.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    centers
}

/// A priority's own travel times from the chain: their percentiles (minutes).
#[derive(Clone, Debug, PartialEq)]
pub struct PriorityTravel {
    pub priority: u8,
    pub quantiles: Vec<f64>,
    pub calls: usize,
    pub median: f64,
}

/// Fits from the timestamp chain (every call of a type the scenario has): call processing by
/// the priority of each call's type, and pooled as the `default`; and for a one-zone scenario,
/// travel of 911 calls, with a factor per priority (its median over the 911 median). A
/// priority with fewer than [`MIN_CALLS`] times keeps the pooled fit.
#[allow(clippy::type_complexity)]
pub(super) fn chain_fits(
    base: &Scenario,
    chain: &[crate::stats::backtest::ChainCall],
    zones: Option<&ZoneFit>,
) -> (
    Vec<(Option<u8>, DurationFit)>,
    Option<DurationFit>,
    Vec<PriorityTravel>,
) {
    let enough = |v: &Vec<f64>| v.len() >= MIN_CALLS as usize;
    let priority =
        |c: &crate::stats::backtest::ChainCall| c.call_type.map(|t| base.call_types[t].priority);
    let mut dispatch_delay = Vec::new();
    let mut pooled: Vec<f64> = chain
        .iter()
        .filter(|c| c.call_type.is_some())
        .filter_map(|c| c.dispatched)
        .collect();
    if !enough(&pooled) {
        return (Vec::new(), None, Vec::new());
    }
    for p in base.priorities() {
        let mut samples: Vec<f64> = chain
            .iter()
            .filter(|c| priority(c) == Some(p))
            .filter_map(|c| c.dispatched)
            .collect();
        if enough(&samples)
            && let Some(fit) = DurationFit::new(&mut samples, fit_lognormal_quantiles)
        {
            dispatch_delay.push((Some(p), fit));
        }
    }
    if let Some(fit) = DurationFit::new(&mut pooled, fit_lognormal_quantiles) {
        dispatch_delay.push((None, fit));
    }
    // One travel time fits a one-zone scenario, or zones fitted from coordinates; other
    // zones keep the base's travel.
    if base.zones.len() != 1 && zones.is_none() {
        return (dispatch_delay, None, Vec::new());
    }
    // With fitted zones, each trip is taken relative to its zone's median, so the shape
    // leaves out the spread between zones (the matrix has it).
    let trip = |c: &crate::stats::backtest::ChainCall| {
        let minutes = c.travel()?;
        Some(match zones {
            None => minutes,
            Some(z) => minutes * z.travel_scale(c.xy),
        })
    };
    // The shape from 911 calls (the ones a back-test compares); other priorities get a factor.
    let mut travel: Vec<f64> = chain
        .iter()
        .filter(|c| c.call_type.is_some_and(|t| base.call_types[t].demand))
        .filter_map(trip)
        .collect();
    if !enough(&travel) {
        return (dispatch_delay, None, Vec::new());
    }
    let travel_fit = DurationFit::new(&mut travel, fit_lognormal_quantiles);
    // Each priority with enough trips whose trips differ from the 911 calls' (a two-sample KS
    // test at 5%): its own distribution (the percentiles of its trips), since priorities
    // differ in shape, not only in scale (lights and sirens, or not).
    let mut by_priority = Vec::new();
    let pooled: &[f64] = &travel;
    for p in base.priorities() {
        let mut samples: Vec<f64> = chain
            .iter()
            .filter(|c| priority(c) == Some(p))
            .filter_map(trip)
            .collect();
        if enough(&samples) {
            spread_within_seconds(&mut samples);
            samples.sort_by(f64::total_cmp);
            let (n, m) = (samples.len() as f64, pooled.len() as f64);
            let critical = 1.358 * ((n + m) / (n * m)).sqrt();
            if crate::stats::backtest::ks_two_sample(&samples, pooled) <= critical {
                continue;
            }
            let median = crate::stats::backtest::quantile(&samples, 0.5);
            by_priority.push(PriorityTravel {
                priority: p,
                quantiles: percentiles(&samples, EMPIRICAL_POINTS),
                calls: samples.len(),
                median,
            });
        }
    }
    (dispatch_delay, travel_fit, by_priority)
}

/// The units on duty in each block of hours ([`crate::stats::backtest::HOUR_BLOCKS`]) that
/// reproduce the log's received-to-dispatch times, found with the engine: each block starts at
/// the most calls the log had open at once in it (a lower bound), and gains a unit while the
/// simulated 90th percentile of its 911 calls' received-to-dispatch time (five replays of the
/// fitted days) lies above the log's 95% interval.
#[derive(Clone, Debug, PartialEq)]
pub struct FleetFit {
    /// Per block: the lower bound, the units chosen, the log's p90 and its interval, and the
    /// simulated p90 with them.
    pub blocks: Vec<FleetBlock>,
    pub pool: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FleetBlock {
    pub hours: (usize, usize),
    pub lower_bound: u32,
    pub units: u32,
    pub observed_p90: f64,
    pub observed_interval: (f64, f64),
    pub simulated_p90: f64,
}

/// Replays of the fitted days per step of the fleet search.
pub(super) const FLEET_REPLAYS: u64 = 5;
/// Most units the search adds to a block above its lower bound.
pub(super) const FLEET_SEARCH_STEPS: u32 = 24;

/// Replaces the document's zones with the fitted ones (named `zone_1`..., with their centres
/// and shares), and drops the pools' home zones (which named the old zones: units are then
/// spread over the new zones).
pub(super) fn write_zones(doc: &mut DocumentMut, zones: &ZoneFit) -> Result<(), FitError> {
    let shares = rounded_shares(&zones.calls, zones.located);
    let mut tables = toml_edit::ArrayOfTables::new();
    for (z, center) in zones.centers.iter().enumerate() {
        let mut table = toml_edit::Table::new();
        table.insert("name", toml_edit::value(format!("zone_{}", z + 1)));
        set_commented(
            &mut table,
            "share",
            Value::from(shares[z]),
            &format!(
                "Fitted (fit --zones): {} of {} calls with coordinates; {} 911 trips, median {:.2} min.",
                zones.calls[z], zones.located, zones.trips[z], zones.travel_median[z]
            ),
        );
        let mut xy = Array::new();
        xy.push(round(center[0], 1));
        xy.push(round(center[1], 1));
        table.insert("center", toml_edit::value(xy));
        tables.push(table);
    }
    doc.insert("zones", Item::ArrayOfTables(tables));
    if let Some(pools) = doc.get_mut("fleet").and_then(Item::as_array_of_tables_mut) {
        for pool in pools.iter_mut() {
            pool.remove("home_zones");
        }
    }
    Ok(())
}

/// The fitted scenario's text with the first pool's count and shifts set to the search's.
pub(super) fn with_fleet(text: &str, found: &FleetFit) -> Result<String, FitError> {
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| FitError::Base(e.to_string()))?;
    let pool = doc
        .get_mut("fleet")
        .and_then(Item::as_array_of_tables_mut)
        .and_then(|pools| pools.get_mut(0))
        .ok_or_else(|| FitError::Base("no [[fleet]]".to_string()))?;
    let most = found.blocks.iter().map(|b| b.units).max().unwrap_or(1);
    set_commented(
        pool,
        "count",
        Value::from(i64::from(most)),
        &format!(
            "Fitted (fit --fleet): units on duty by block of hours that reproduce the log's received-to-dispatch times (shifts below); {}.",
            found
                .blocks
                .iter()
                .map(|b| format!(
                    "{:02}-{:02}h {} (at least {} busy at once)",
                    b.hours.0, b.hours.1, b.units, b.lower_bound
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    let mut shifts = toml_edit::ArrayOfTables::new();
    for block in &found.blocks {
        let mut shift = toml_edit::Table::new();
        shift.insert("start_hour", toml_edit::value(block.hours.0 as i64));
        shift.insert(
            "hours",
            toml_edit::value((block.hours.1 - block.hours.0) as i64),
        );
        shift.insert("count", toml_edit::value(i64::from(block.units)));
        shifts.push(shift);
    }
    pool.insert("shifts", Item::ArrayOfTables(shifts));
    Ok(doc.to_string())
}

/// The fleet search; `None` unless the scenario has one pool (of police kind, the one that
/// takes every call) and the chain has calls.
pub fn fit_fleet(
    path: &Path,
    fitted: &Scenario,
    chain: &[crate::stats::backtest::ChainCall],
) -> Result<Option<FleetFit>, FitError> {
    use crate::stats::backtest::{HOUR_BLOCKS, quantile, quantile_interval};
    if fitted.pools.len() != 1 || chain.is_empty() {
        return Ok(None);
    }
    let stream = StreamFile::open(path, fitted)?;
    let mut scenario = fitted.clone();
    stream.apply_to(&mut scenario);
    let demand = |t: usize| scenario.call_types[t].demand;
    let block_of = |minutes: f64| {
        let hour = ((minutes / 60.0).floor() as i64).rem_euclid(24) as usize;
        HOUR_BLOCKS
            .iter()
            .position(|&(a, b)| (a..b).contains(&hour))
            .unwrap_or(0)
    };
    // The log: received-to-dispatch of 911 calls by block, and the most calls open at once.
    let mut observed: Vec<Vec<f64>> = vec![Vec::new(); HOUR_BLOCKS.len()];
    for call in chain {
        if let (Some(t), Some(d)) = (call.call_type, call.dispatched)
            && demand(t)
        {
            observed[block_of(call.received)].push(d);
        }
    }
    let changes =
        crate::stats::backtest::opens_and_closes(chain.iter().filter(|c| c.call_type.is_some()));
    let mut lower = [1u32; 4];
    let mut open = 0i32;
    for (time, change) in changes {
        open += change;
        let b = block_of(time);
        lower[b] = lower[b].max(open.max(0) as u32);
    }
    for values in &mut observed {
        values.sort_by(f64::total_cmp);
    }
    let mut units = lower;
    let mut simulated = [f64::NAN; 4];
    for _ in 0..=FLEET_SEARCH_STEPS {
        let pool = &mut scenario.pools[0];
        pool.count = *units.iter().max().unwrap_or(&1);
        pool.shifts = HOUR_BLOCKS
            .iter()
            .zip(units)
            .map(|(&(from, to), count)| crate::scenario::ShiftBlock {
                start_minute_of_day: from as f64 * 60.0,
                length_minutes: (to - from) as f64 * 60.0,
                count,
                all_units: false,
                days: [true; 7],
            })
            .collect();
        let mut p90s = [0.0f64; 4];
        for replication in 0..FLEET_REPLAYS {
            let mut records: Vec<crate::engine::record::CallRecord> = Vec::new();
            let mut calls = stream.calls(&scenario, scenario.seed, replication)?;
            crate::engine::simulate(
                &scenario,
                scenario.policies[0].policy.as_ref(),
                calls.by_ref(),
                &mut records,
            );
            if let Some(error) = calls.take_error() {
                return Err(error.into());
            }
            let mut by_block: Vec<Vec<f64>> = vec![Vec::new(); HOUR_BLOCKS.len()];
            for record in records
                .iter()
                .filter(|r| demand(usize::from(r.call.call_type.0)))
            {
                if let Some(primary) = record.primary {
                    by_block[block_of(record.call.received_minutes)]
                        .push(primary.dispatched_minutes - record.call.received_minutes);
                }
            }
            for (b, mut values) in by_block.into_iter().enumerate() {
                values.sort_by(f64::total_cmp);
                p90s[b] += quantile(&values, 0.9) / FLEET_REPLAYS as f64;
            }
        }
        simulated = p90s;
        let mut changed = false;
        for b in 0..HOUR_BLOCKS.len() {
            let (_, high) = quantile_interval(&observed[b], 0.9);
            if simulated[b] > high && units[b] < lower[b] + FLEET_SEARCH_STEPS {
                units[b] += 1;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    Ok(Some(FleetFit {
        pool: fitted.pools[0].name.clone(),
        blocks: (0..HOUR_BLOCKS.len())
            .map(|b| FleetBlock {
                hours: HOUR_BLOCKS[b],
                lower_bound: lower[b],
                units: units[b],
                observed_p90: quantile(&observed[b], 0.9),
                observed_interval: quantile_interval(&observed[b], 0.9),
                simulated_p90: simulated[b],
            })
            .collect(),
    }))
}
