//! The 911 call stream: calls in arrival order, each with the key its random draws derive from.
//! A synthetic stream is a non-homogeneous Poisson process whose rate is constant within each
//! hour (calls per day x day-of-week weight x hour-of-day weight), generated lazily so memory
//! does not grow with the horizon.

/// Lines to add to the `csv` crate's line numbers for the file at `path`: 1 when its lines end
/// in `\r\n` (Windows), else 0. The crate takes a record's position before it reads the `\n`
/// of the line end before it, so in such a file every record reads one line early.
pub(crate) fn crlf_line_offset(path: &std::path::Path) -> u64 {
    use std::io::Read;
    let Ok(file) = std::fs::File::open(path) else {
        return 0;
    };
    let mut head = Vec::with_capacity(4096);
    // The first line end decides; a header longer than 64 KiB is not a call stream's.
    let _ = file.take(1 << 16).read_to_end(&mut head);
    match head.iter().position(|&b| b == b'\n') {
        Some(i) if i > 0 && head[i - 1] == b'\r' => 1,
        _ => 0,
    }
}

pub mod fit;
pub mod import;
pub mod rng;
pub mod stream;

use rand_distr::{Distribution, Exp1};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::scenario::{CallTypeId, Scenario, ZoneId};
use rng::Purpose;

/// One 911 call as the engine sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Call {
    /// 0-based, in arrival order within a replication.
    pub id: u64,
    pub received_minutes: f64,
    pub call_type: CallTypeId,
    pub zone: ZoneId,
    /// Every per-call random draw (triage, on-scene times, travel, outcomes) derives from this
    /// key, so every policy sees the same draws for the same call.
    pub draw_key: u64,
}

impl Call {
    /// The uniform draw in [0, 1) for one purpose of this call.
    #[inline]
    pub fn uniform(&self, purpose: Purpose) -> f64 {
        rng::uniform(self.draw_key, purpose)
    }
}

/// Picks an index from cumulative shares with a uniform draw.
#[derive(Clone, Debug)]
pub(crate) struct Categorical {
    cumulative: Vec<f64>,
    /// `guide[k]`: the first index whose bound exceeds `k / GUIDE_SIZE`, where a search for any
    /// `u` in `[k / GUIDE_SIZE, (k + 1) / GUIDE_SIZE)` may start: O(1) picks, exactly the
    /// index a binary search would give.
    guide: Vec<u32>,
}

const GUIDE_SIZE: usize = 256;

impl Categorical {
    pub(crate) fn new(shares: impl Iterator<Item = f64>) -> Self {
        let mut total = 0.0;
        let mut cumulative: Vec<f64> = shares
            .map(|share| {
                total += share;
                total
            })
            .collect();
        // Shares sum to 1 within tolerance; normalise so the last bound is exactly 1.
        if total > 0.0 {
            cumulative.iter_mut().for_each(|c| *c /= total);
        }
        let guide = (0..GUIDE_SIZE)
            .map(|k| {
                let u = k as f64 / GUIDE_SIZE as f64;
                cumulative.partition_point(|&c| c <= u) as u32
            })
            .collect();
        Self { cumulative, guide }
    }

    /// The category of a call, from its own draw for `purpose` (none needed for one category).
    #[inline]
    pub(crate) fn pick(&self, call_key: u64, purpose: Purpose) -> usize {
        if self.cumulative.len() == 1 {
            return 0;
        }
        self.pick_with(rng::uniform(call_key, purpose))
    }

    #[inline]
    fn pick_with(&self, u: f64) -> usize {
        let last = self.cumulative.len() - 1;
        // `u` is in [0, 1): through i64, the cheaper float conversion, to the same index.
        let slot = ((u * GUIDE_SIZE as f64) as i64 as usize).min(GUIDE_SIZE - 1);
        let mut index = self.guide[slot] as usize;
        // A zero-share category is never picked: its bound equals the previous one.
        while index < last && self.cumulative[index] <= u {
            index += 1;
        }
        index
    }
}

/// The synthetic call stream of one replication of a scenario.
#[derive(Clone, Debug)]
pub struct CallGenerator {
    rng: Xoshiro256PlusPlus,
    replication_key: u64,
    /// Calls per minute for each hour of the week, Monday 00:00 first.
    rate_per_minute: [f64; 168],
    /// Hour of the week (0 = Monday 00:00) that `now_minutes` falls in.
    hour_of_week: usize,
    horizon_minutes: f64,
    now_minutes: f64,
    /// Simulation hour (from 0) that `now_minutes` falls in.
    hour: u64,
    next_id: u64,
    call_types: Categorical,
    zones: Categorical,
}

impl CallGenerator {
    pub fn new(scenario: &Scenario, seed: u64, replication: u64) -> Self {
        let replication_key = rng::replication_key(seed, replication);
        let mut rate_per_minute = [0.0; 168];
        for (how, rate) in rate_per_minute.iter_mut().enumerate() {
            *rate = scenario.demand.rate_per_minute(how / 24, how % 24);
        }
        Self {
            rng: rng::arrivals_rng(replication_key),
            replication_key,
            rate_per_minute,
            hour_of_week: scenario.weekday_of_day(0) * 24,
            horizon_minutes: scenario.horizon_minutes(),
            now_minutes: 0.0,
            hour: 0,
            next_id: 0,
            call_types: Categorical::new(scenario.call_types.iter().map(|t| t.share)),
            zones: Categorical::new(scenario.zones.iter().map(|z| z.share)),
        }
    }

    /// Calls generated so far.
    pub fn generated(&self) -> u64 {
        self.next_id
    }
}

impl Iterator for CallGenerator {
    type Item = Call;

    fn next(&mut self) -> Option<Call> {
        // Invert the cumulative intensity: spend one Exp(1) draw across the hourly pieces of
        // the rate. Exact for a piecewise-constant rate, and one draw per call.
        let mut remaining: f64 = Exp1.sample(&mut self.rng);
        loop {
            if self.now_minutes >= self.horizon_minutes {
                return None;
            }
            let rate = self.rate_per_minute[self.hour_of_week];
            let hour_end = (self.hour + 1) as f64 * 60.0;
            let capacity = rate * (hour_end - self.now_minutes);
            if remaining < capacity {
                self.now_minutes += remaining / rate;
                break;
            }
            remaining -= capacity;
            self.now_minutes = hour_end;
            self.hour += 1;
            // Advance the hour of week without a division per call.
            self.hour_of_week += 1;
            if self.hour_of_week == 168 {
                self.hour_of_week = 0;
            }
        }
        if self.now_minutes >= self.horizon_minutes {
            return None;
        }
        let id = self.next_id;
        self.next_id += 1;
        let draw_key = rng::call_key(self.replication_key, id);
        Some(Call {
            id,
            received_minutes: self.now_minutes,
            call_type: CallTypeId(self.call_types.pick(draw_key, Purpose::CallType) as u16),
            zone: ZoneId(self.zones.pick(draw_key, Purpose::Zone) as u16),
            draw_key,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categorical_respects_bounds_and_skips_empty_categories() {
        let c = Categorical::new([0.25, 0.0, 0.75].into_iter());
        assert_eq!(c.pick_with(0.0), 0);
        assert_eq!(c.pick_with(0.2499), 0);
        assert_eq!(c.pick_with(0.25), 2);
        assert_eq!(c.pick_with(0.9999), 2);
        assert_eq!(
            Categorical::new([1.0].into_iter()).pick(123, Purpose::Zone),
            0
        );
    }

    #[test]
    fn guided_picks_equal_a_binary_search() {
        let c = Categorical::new(
            [0.05, 0.1, 0.0, 0.16, 0.2, 0.15, 0.2, 0.05, 0.05, 0.02, 0.02].into_iter(),
        );
        let last = c.cumulative.len() - 1;
        for i in 0..100_000 {
            let u =
                crate::calls::rng::uniform(crate::calls::rng::call_key(3, i), Purpose::CallType);
            let search = c.cumulative.partition_point(|&b| b <= u).min(last);
            assert_eq!(c.pick_with(u), search, "u = {u}");
        }
        for u in [0.0, 0.05, 0.15, 0.999_999_999, 1.0 - f64::EPSILON] {
            assert_eq!(
                c.pick_with(u),
                c.cumulative.partition_point(|&b| b <= u).min(last)
            );
        }
    }

    #[test]
    fn stream_is_ordered_and_reproducible() {
        let scenario = Scenario::default_scenario();
        let a: Vec<Call> = CallGenerator::new(&scenario, 5, 2).take(5000).collect();
        let b: Vec<Call> = CallGenerator::new(&scenario, 5, 2).take(5000).collect();
        assert_eq!(a, b);
        assert!(
            a.windows(2)
                .all(|w| w[0].received_minutes <= w[1].received_minutes)
        );
        assert!(a.iter().enumerate().all(|(i, c)| c.id == i as u64));
        let other: Vec<Call> = CallGenerator::new(&scenario, 5, 3).take(10).collect();
        assert_ne!(a[..10], other[..]);
    }

    #[test]
    fn volume_hour_profile_and_mix_match_the_scenario() {
        let scenario = Scenario::default_scenario();
        let calls: Vec<Call> = CallGenerator::new(&scenario, 9, 0).collect();
        let expected = scenario.demand.calls_per_day * scenario.horizon_days;
        let n = calls.len() as f64;
        // Poisson: sd = sqrt(expected) ~ 640; allow 4 sd.
        assert!(
            (n - expected).abs() < 4.0 * expected.sqrt(),
            "{n} vs {expected}"
        );
        assert!(
            calls
                .iter()
                .all(|c| c.received_minutes < scenario.horizon_minutes())
        );

        let mut by_hour = [0.0; 24];
        for call in &calls {
            by_hour[((call.received_minutes / 60.0) as usize) % 24] += 1.0;
        }
        for (hour, count) in by_hour.iter().enumerate() {
            let expected = n * scenario.demand.hour_of_day[hour];
            assert!(
                (count - expected).abs() < 5.0 * expected.sqrt(),
                "hour {hour}: {count} vs {expected}"
            );
        }
        for (t, call_type) in scenario.call_types.iter().enumerate() {
            let count = calls.iter().filter(|c| c.call_type.0 as usize == t).count() as f64;
            let expected = n * call_type.share;
            assert!(
                (count - expected).abs() < 5.0 * expected.sqrt(),
                "{}: {count} vs {expected}",
                call_type.name
            );
        }
    }

    #[test]
    fn day_of_week_profile_shapes_weekly_volume() {
        let mut scenario = Scenario::default_scenario();
        scenario.horizon_days = 7.0 * 40.0;
        scenario.demand.day_of_week = [2.0, 0.5, 0.5, 1.0, 1.0, 1.0, 1.0];
        // start_date 2024-01-01 is a Monday: day 0 is Monday.
        let calls: Vec<Call> = CallGenerator::new(&scenario, 1, 0).collect();
        let monday = calls
            .iter()
            .filter(|c| ((c.received_minutes / 1440.0) as u64).is_multiple_of(7))
            .count() as f64;
        let tuesday = calls
            .iter()
            .filter(|c| ((c.received_minutes / 1440.0) as u64) % 7 == 1)
            .count() as f64;
        assert!((monday / tuesday - 4.0).abs() < 0.2, "{monday} / {tuesday}");
    }
}
