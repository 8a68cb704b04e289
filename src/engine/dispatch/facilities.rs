//! Receiving facilities in one replication: beds in use, and the books of admissions,
//! turn-aways, bed occupancy and unit time at handover, kept within the measurement window
//! (warm-up excluded, nothing past the horizon), as `accounting` keeps the fleet's.

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
            totals: vec![FacilityTotals::default(); n],
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

    /// Closes the books at the horizon: beds still occupied count up to it.
    pub fn finish(mut self) -> Vec<FacilityTotals> {
        for facility in 0..self.totals.len() {
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
        let totals = facilities.finish();
        // Admitted at 50 (warm-up, not counted) and at 400; turned away at 150.
        assert_eq!((totals[0].admissions, totals[0].turned_away), (1, 1));
        // Occupied 100-300 and 400-1000 within the window.
        assert_eq!(totals[0].bed_minutes, 800.0);
        assert_eq!((totals[1].admissions, totals[1].turned_away), (1000, 0));
    }

    #[test]
    fn handover_time_is_clipped_to_the_window() {
        let mut facilities = one_bed();
        facilities.handover(0, 90.0, 130.0);
        facilities.handover(0, 990.0, 1020.0);
        assert_eq!(facilities.finish()[0].handover_minutes, 40.0);
    }
}
