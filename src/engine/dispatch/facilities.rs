//! Receiving facilities in one replication: beds in use, and the books of admissions,
//! turn-aways, bed occupancy and unit time at handover, kept within the measurement window
//! (warm-up excluded, nothing past the horizon), as `accounting` keeps the fleet's.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::engine::record::FacilityTotals;
use crate::scenario::Scenario;

/// Every facility's beds and books.
#[derive(Clone, Debug)]
pub struct Facilities {
    warmup: f64,
    horizon: f64,
    /// Beds of each facility; `None`: unlimited.
    beds: Vec<Option<u32>>,
    occupied: Vec<u32>,
    /// When each facility's occupancy last changed.
    changed_at: Vec<f64>,
    /// Stays under way at each unlimited facility, by when they end (a time's bits: times are
    /// non-negative, so their bits order like them). See [`Facilities::hold`].
    stays: Vec<BinaryHeap<Reverse<u64>>>,
    totals: Vec<FacilityTotals>,
}

impl Facilities {
    pub fn new(scenario: &Scenario) -> Self {
        let n = scenario.facilities.len();
        Self {
            warmup: scenario.warmup_minutes(),
            horizon: scenario.horizon_minutes(),
            beds: scenario.facilities.iter().map(|f| f.beds).collect(),
            occupied: vec![0; n],
            changed_at: vec![0.0; n],
            stays: vec![BinaryHeap::new(); n],
            totals: vec![FacilityTotals::default(); n],
        }
    }

    /// Whether `facility` has no bed limit: admission there never depends on who is in.
    pub fn unlimited(&self, facility: usize) -> bool {
        self.beds[facility].is_none()
    }

    /// Holds a stay at an unlimited facility until `end`, with no event. Nothing there waits
    /// on a bed, so a stay's end matters only to the bed-minutes, and those depend only on
    /// this facility's own changes in time order: the ended stays are booked, in order, when
    /// the facility next admits someone and at the end. The sums are the ones the events
    /// gave (changes at one instant add nothing between them), and the event queue stays
    /// small: a jail's nine-day stays would otherwise keep hundreds of events queued, and
    /// every other event would sift through them.
    pub fn hold(&mut self, facility: usize, end: f64) {
        debug_assert!(self.unlimited(facility));
        self.stays[facility].push(Reverse((end + 0.0).to_bits()));
    }

    /// Ends the held stays that end before `now` (or at it, when `inclusive`), in time order.
    fn release_ended(&mut self, facility: usize, now: f64, inclusive: bool) {
        while let Some(&Reverse(bits)) = self.stays[facility].peek() {
            let end = f64::from_bits(bits);
            if end > now || (end == now && !inclusive) {
                break;
            }
            self.stays[facility].pop();
            self.release(facility, end);
        }
    }

    fn in_window(&self, time: f64) -> bool {
        time >= self.warmup && time < self.horizon
    }

    /// Adds the bed-minutes since the last change, clipped to the window.
    fn book_occupancy(&mut self, facility: usize, now: f64) {
        let from = self.changed_at[facility].max(self.warmup);
        let to = now.min(self.horizon);
        if to > from {
            self.totals[facility].bed_minutes += f64::from(self.occupied[facility]) * (to - from);
        }
        self.changed_at[facility] = now;
    }

    /// Takes a person in if a bed is free; otherwise counts the turn-away. Returns whether
    /// admitted.
    pub fn admit(&mut self, facility: usize, now: f64) -> bool {
        if self.unlimited(facility) {
            self.release_ended(facility, now, true);
        }
        let counted = self.in_window(now);
        if self.beds[facility].is_some_and(|beds| self.occupied[facility] >= beds) {
            self.totals[facility].turned_away += u64::from(counted);
            return false;
        }
        self.book_occupancy(facility, now);
        self.occupied[facility] += 1;
        self.totals[facility].admissions += u64::from(counted);
        true
    }

    /// A stay ends: the bed is free.
    pub fn release(&mut self, facility: usize, now: f64) {
        self.book_occupancy(facility, now);
        self.occupied[facility] -= 1;
    }

    /// A unit spends `[from, to]` at the facility handing a person over.
    pub fn handover(&mut self, facility: usize, from: f64, to: f64) {
        let (from, to) = (from.max(self.warmup), to.min(self.horizon));
        if to > from {
            self.totals[facility].handover_minutes += to - from;
        }
    }

    /// Closes the books at the horizon: beds still occupied count up to it. Held stays end
    /// as their events would have: those ending before the horizon, or, for a run stopped
    /// early (`stopped_at`, an overloaded city), those ending by then.
    pub fn finish(mut self, stopped_at: Option<f64>) -> Vec<FacilityTotals> {
        for facility in 0..self.totals.len() {
            match stopped_at {
                None => self.release_ended(facility, self.horizon, false),
                Some(at) => self.release_ended(facility, at, true),
            }
            self.book_occupancy(facility, self.horizon);
        }
        self.totals
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_bed() -> Facilities {
        Facilities {
            warmup: 100.0,
            horizon: 1000.0,
            beds: vec![Some(1), None],
            occupied: vec![0, 0],
            changed_at: vec![0.0, 0.0],
            stays: vec![BinaryHeap::new(); 2],
            totals: vec![FacilityTotals::default(); 2],
        }
    }

    #[test]
    fn a_full_facility_turns_away_and_an_unlimited_one_never_does() {
        let mut facilities = one_bed();
        assert!(facilities.admit(0, 50.0), "admitted in the warm-up");
        assert!(!facilities.admit(0, 150.0), "one bed, taken");
        for k in 0..1000 {
            assert!(facilities.admit(1, 200.0 + f64::from(k) * 0.1));
        }
        facilities.release(0, 300.0);
        assert!(facilities.admit(0, 400.0));
        let totals = facilities.finish(None);
        // Admitted at 50 (warm-up, not counted) and at 400; turned away at 150.
        assert_eq!((totals[0].admissions, totals[0].turned_away), (1, 1));
        // Occupied 100-300 and 400-1000 within the window.
        assert_eq!(totals[0].bed_minutes, 800.0);
        assert_eq!((totals[1].admissions, totals[1].turned_away), (1000, 0));
    }

    /// Stays held at an unlimited facility (no event) book the bed-minutes that releasing
    /// each at its end, in time order among the admissions, books, to the last bit: ties
    /// between an end and an admission included, stays past the horizon left occupied.
    #[test]
    fn held_stays_book_what_their_events_would() {
        // (admitted at, stay)
        let stays = [
            (50.0, 120.0),
            (150.0, 250.0),
            (170.0, 0.3),
            (170.3, 29.7),
            (200.0, 1.0e-9),
            (400.0, 0.1),
            (400.0, 700.0),
            (650.0, 333.3),
            (900.0, 90.0),
            (983.3, 5.0),
        ];
        let mut held = one_bed();
        for &(at, stay) in &stays {
            assert!(held.admit(1, at));
            held.hold(1, at + stay);
        }
        // The same stays as events: admissions and ends in time order (an end before an
        // admission at the same instant, as the lazy release takes it; the other way adds
        // the same), no end at or past the horizon.
        let mut timeline: Vec<(f64, bool)> = stays
            .iter()
            .flat_map(|&(at, stay)| [(at, true), (at + stay, false)])
            .filter(|&(t, admit)| admit || t < 1000.0)
            .collect();
        timeline.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut evented = one_bed();
        for (t, admit) in timeline {
            if admit {
                assert!(evented.admit(1, t));
            } else {
                evented.release(1, t);
            }
        }
        let (held, evented) = (held.finish(None), evented.finish(None));
        assert_eq!(
            held[1].bed_minutes.to_bits(),
            evented[1].bed_minutes.to_bits()
        );
        assert_eq!(held[1].admissions, evented[1].admissions);
        assert!(held[1].bed_minutes > 0.0);
    }

    /// A run stopped early (an overloaded city) ends only the stays its events would have.
    #[test]
    fn a_run_stopped_early_ends_only_the_stays_before_it_stopped() {
        let mut stopped = one_bed();
        assert!(stopped.admit(1, 100.0));
        stopped.hold(1, 300.0);
        assert!(stopped.admit(1, 100.0));
        stopped.hold(1, 700.0);
        // Stopped at 500: the first bed came free at 300, the second is still taken.
        let totals = stopped.finish(Some(500.0));
        assert_eq!(totals[1].bed_minutes, 200.0 + 900.0);
    }

    #[test]
    fn handover_time_is_clipped_to_the_window() {
        let mut facilities = one_bed();
        facilities.handover(0, 90.0, 130.0);
        facilities.handover(0, 990.0, 1020.0);
        assert_eq!(facilities.finish(None)[0].handover_minutes, 40.0);
    }
}
