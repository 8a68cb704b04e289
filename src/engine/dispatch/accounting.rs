//! Utilization and warm-up accounting, kept from the unit events the dispatch model emits (the
//! same events the per-unit log writes): busy and on-duty unit-minutes per pool, clipped to the
//! measurement window (warm-up excluded, nothing past the horizon), and the police minutes
//! spent on truly care-eligible calls. Each event that ends a spell (a call cleared, the drive
//! back done, a shift over) carries when the spell began, so the books keep no state per unit.

use crate::engine::record::{FleetTotals, UnitEvent, UnitEventKind};
use crate::scenario::{PoolId, ResponderKind, Scenario};

/// A unit's spells still open at the horizon.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OpenSpells {
    pub pool: u16,
    /// On duty since.
    pub on_duty_since: Option<f64>,
    /// Busy (travelling to, on, or returning from a call) since.
    pub busy_since: Option<f64>,
    /// The busy spell is a call that is truly care-eligible (not the drive back).
    pub on_eligible_call: bool,
}

/// The fleet's books for one replication.
#[derive(Clone, Debug)]
pub struct Accounting {
    warmup: f64,
    horizon: f64,
    /// Also spread busy and on-duty time over the hours of the day.
    hourly: bool,
    /// Each pool's kind.
    kinds: Vec<ResponderKind>,
    totals: FleetTotals,
}

impl Accounting {
    pub fn new(scenario: &Scenario) -> Self {
        Self {
            warmup: scenario.warmup_minutes(),
            horizon: scenario.horizon_minutes(),
            hourly: scenario.report_hourly,
            kinds: scenario.pools.iter().map(|pool| pool.kind).collect(),
            totals: FleetTotals::empty(scenario.pools.len(), scenario.facilities.len()),
        }
    }

    /// Where the measurement window starts.
    pub fn warmup(&self) -> f64 {
        self.warmup
    }

    /// Books a unit's time after the scene, `[from, to]`, clipped to the window.
    pub fn add_after_scene(&mut self, pool: PoolId, from: f64, to: f64) {
        let (from, to) = (from.max(self.warmup), to.min(self.horizon));
        let kind = self.kinds[usize::from(pool.0)];
        if to > from && matches!(kind, ResponderKind::Police | ResponderKind::Care) {
            self.totals.after_scene_minutes[kind.index()] += to - from;
        }
    }

    /// Counts a transport that found no facility with room (`booking`: a booked arrest).
    pub fn no_place(&mut self, booking: bool) {
        self.totals.no_place[usize::from(booking)] += 1;
    }

    /// Books one unit event. Inlined: at each call site the kind is known, so only its arm is
    /// compiled in, and events that end no spell cost nothing.
    #[inline(always)]
    pub fn record(&mut self, event: &UnitEvent) {
        let (warmup, horizon, hourly) = (self.warmup, self.horizon, self.hourly);
        let pool = usize::from(event.pool.0);
        let (since, now) = (event.since_minutes, event.time_minutes);
        match event.kind {
            UnitEventKind::Cleared => {
                let busy = self.totals.pools[pool].add_busy(since, now, warmup, horizon, hourly);
                if event.care_eligible_call && self.kinds[pool] == ResponderKind::Police {
                    self.totals.police_minutes_on_eligible += busy;
                }
            }
            UnitEventKind::Returned => {
                self.totals.pools[pool].add_busy(since, now, warmup, horizon, hourly);
            }
            UnitEventKind::OffShift => {
                self.totals.pools[pool].add_on_duty(since, now, warmup, horizon, hourly);
            }
            UnitEventKind::OnShift | UnitEventKind::Dispatched | UnitEventKind::OnScene => {}
        }
    }

    /// Closes the books at the horizon: time on duty and work under way count up to it. Units
    /// come in fleet order.
    pub fn finish(mut self, open: impl Iterator<Item = OpenSpells>) -> FleetTotals {
        let (warmup, horizon, hourly) = (self.warmup, self.horizon, self.hourly);
        for unit in open {
            let pool = usize::from(unit.pool);
            let totals = &mut self.totals.pools[pool];
            if let Some(since) = unit.on_duty_since {
                totals.add_on_duty(since, horizon, warmup, horizon, hourly);
            }
            if let Some(since) = unit.busy_since {
                let busy = totals.add_busy(since, horizon, warmup, horizon, hourly);
                if unit.on_eligible_call && self.kinds[pool] == ResponderKind::Police {
                    self.totals.police_minutes_on_eligible += busy;
                }
            }
        }
        self.totals
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{PoolId, UnitId, ZoneId};

    fn event(since: f64, time: f64, kind: UnitEventKind) -> UnitEvent {
        UnitEvent {
            time_minutes: time,
            since_minutes: since,
            unit: UnitId(0),
            pool: PoolId(0),
            zone: ZoneId(0),
            call_id: None,
            kind,
            care_eligible_call: true,
        }
    }

    /// The default scenario's first pool is police; a 2-day horizon with a 1-day warm-up.
    fn books() -> Accounting {
        let mut scenario = Scenario::default_scenario();
        scenario.warmup_days = 1.0;
        scenario.horizon_days = 2.0;
        assert_eq!(scenario.pools[0].kind, ResponderKind::Police);
        Accounting::new(&scenario)
    }

    #[test]
    fn busy_time_is_clipped_to_the_window_and_the_drive_back_is_not_on_the_call() {
        let mut books = books();
        // A call straddling the end of the warm-up: only its measured part counts.
        books.record(&event(1400.0, 1460.0, UnitEventKind::Cleared));
        // 30 min on a call, then 15 min driving back to base.
        books.record(&event(1500.0, 1530.0, UnitEventKind::Cleared));
        books.record(&event(1530.0, 1545.0, UnitEventKind::Returned));
        // Busy at the horizon (on shift since before the warm-up ended): counted up to it.
        let open = OpenSpells {
            pool: 0,
            on_duty_since: Some(0.0),
            busy_since: Some(2870.0),
            on_eligible_call: true,
        };
        let totals = books.finish(std::iter::once(open));
        let pool = &totals.pools[0];
        assert_eq!(pool.busy_minutes, 20.0 + 45.0 + 10.0);
        assert_eq!(totals.police_minutes_on_eligible, 20.0 + 30.0 + 10.0);
        assert_eq!(pool.on_duty_minutes, 1440.0);
    }

    #[test]
    fn off_shift_closes_on_duty_time_and_warm_up_is_not_counted() {
        let mut books = books();
        books.record(&event(1500.0, 1600.0, UnitEventKind::OffShift));
        books.record(&event(100.0, 200.0, UnitEventKind::OffShift));
        let totals = books.finish(std::iter::empty());
        assert_eq!(totals.pools[0].on_duty_minutes, 100.0);
        assert_eq!(totals.pools[0].busy_minutes, 0.0);
    }
}
