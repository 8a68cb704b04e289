//! Per-call outcomes: the one record the engine emits for every call, and the [`Observer`]
//! that receives them. Every figure is computed from these records (and the fleet totals), so
//! statistics, logs and tests all read the same source of truth.

use serde::Serialize;

use crate::calls::Call;
use crate::scenario::{PoolId, ResponderKind, UnitId, ZoneId};

/// One unit's part in a call: when it was sent, arrived and (is planned to) clear. Times are
/// minutes from the simulation's start and may lie past the horizon for work still under way.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Assignment {
    pub unit: UnitId,
    pub pool: PoolId,
    pub kind: ResponderKind,
    pub dispatched_minutes: f64,
    pub on_scene_minutes: f64,
    pub cleared_minutes: f64,
}

/// What happened to the person at the call. Drawn once per served call from the call's own
/// uniforms, with the probabilities of police if any police unit was on scene, else of care.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Outcomes {
    pub arrest: bool,
    pub booking: bool,
    pub force: bool,
    pub injury: bool,
    pub er_transport: bool,
}

/// Everything that happened to one call.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CallRecord {
    pub call: Call,
    pub priority: u8,
    /// Truly care-eligible (by call type).
    pub care_eligible: bool,
    /// Judged care-eligible by the dispatcher (triage may err).
    pub triaged_eligible: bool,
    /// The policy sent the call to care (a team, or the wait for one).
    pub routed_to_care: bool,
    /// Routed to care but sent police because no care team was free in time.
    pub overflowed_to_police: bool,
    /// The first unit sent.
    pub primary: Option<Assignment>,
    pub backup_requested: bool,
    /// The police unit sent as backup to a care team (asked for from the scene, or sent
    /// alongside it).
    pub backup: Option<Assignment>,
    /// The clinician who went with the police unit (co-response).
    pub companion: Option<Assignment>,
    /// The care team's follow-up visit after the call's units cleared.
    pub follow_up: Option<Assignment>,
    /// A follow-up was wanted, but no care team could start it within the window.
    pub follow_up_missed: bool,
    /// When the call's last unit cleared (a follow-up visit not counted); `None` if work was
    /// still under way at the horizon.
    pub cleared_minutes: Option<f64>,
    /// No unit was on scene by the horizon.
    pub unserved_at_horizon: bool,
    pub outcomes: Outcomes,
    /// Call-processing time before the call could be dispatched (0 without a
    /// `[dispatch_delay]`): part of the response time, not of the queue wait.
    pub dispatch_delay_minutes: f64,
}

impl CallRecord {
    /// The record of a call just received: nothing sent, nothing happened yet.
    pub fn new(call: Call, priority: u8, care_eligible: bool) -> Self {
        Self {
            call,
            priority,
            care_eligible,
            triaged_eligible: false,
            routed_to_care: false,
            overflowed_to_police: false,
            primary: None,
            backup_requested: false,
            backup: None,
            companion: None,
            follow_up: None,
            follow_up_missed: false,
            cleared_minutes: None,
            unserved_at_horizon: false,
            outcomes: Outcomes::default(),
            dispatch_delay_minutes: 0.0,
        }
    }

    /// Makes this record the record of `call` just received, as [`CallRecord::new`] makes it,
    /// one field at a time. The engine opens a call this way in the slot it will live in: a
    /// record built whole, then moved into the slot, was copied with wide loads over the
    /// narrow stores that had just built it, which stall (BENCHMARKS.md, issue #18). Every
    /// field is named, so a new field cannot be forgotten here.
    #[inline(always)]
    pub(crate) fn reset(&mut self, call: &Call, priority: u8, care_eligible: bool) {
        let CallRecord {
            call: record_call,
            priority: record_priority,
            care_eligible: record_care_eligible,
            triaged_eligible,
            routed_to_care,
            overflowed_to_police,
            primary,
            backup_requested,
            backup,
            companion,
            follow_up,
            follow_up_missed,
            cleared_minutes,
            unserved_at_horizon,
            outcomes,
            dispatch_delay_minutes,
        } = self;
        *record_call = *call;
        *record_priority = priority;
        *record_care_eligible = care_eligible;
        *triaged_eligible = false;
        *routed_to_care = false;
        *overflowed_to_police = false;
        *primary = None;
        *backup_requested = false;
        *backup = None;
        *companion = None;
        *follow_up = None;
        *follow_up_missed = false;
        *cleared_minutes = None;
        *unserved_at_horizon = false;
        *outcomes = Outcomes::default();
        *dispatch_delay_minutes = 0.0;
    }

    /// Received to first unit on scene, for a served call (none for a call resolved by phone:
    /// nobody went).
    pub fn response_minutes(&self) -> Option<f64> {
        match (self.unserved_at_horizon, self.primary) {
            (false, Some(primary)) if primary.kind != ResponderKind::Counsellor => {
                Some(primary.on_scene_minutes - self.call.received_minutes)
            }
            _ => None,
        }
    }

    /// Ready to dispatch to first dispatch (time in queue), for a dispatched call: the
    /// call-processing time before it is not queueing.
    pub fn wait_minutes(&self) -> Option<f64> {
        // The ready time is summed as the engine summed it (receipt + delay), so a call
        // dispatched the moment it is ready waited exactly 0, not a rounding error that would
        // count it as having waited.
        self.primary
            .filter(|primary| primary.kind != ResponderKind::Counsellor)
            .map(|primary| {
                primary.dispatched_minutes
                    - (self.call.received_minutes + self.dispatch_delay_minutes)
            })
    }

    /// A crisis-line counsellor resolved the call by phone.
    pub fn resolved_by_phone(&self) -> bool {
        !self.unserved_at_horizon && self.responder() == Some(ResponderKind::Counsellor)
    }

    /// Who handled the call (the first unit's kind).
    pub fn responder(&self) -> Option<ResponderKind> {
        self.primary.map(|primary| primary.kind)
    }
}

/// Busy and on-duty unit-minutes of one pool within the measurement window.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PoolTotals {
    /// Minutes units spent travelling to, on, or returning from calls.
    pub busy_minutes: f64,
    /// Minutes units were on duty, including time finishing a call after a shift ended.
    pub on_duty_minutes: f64,
    /// `busy_minutes` by hour of day (0 = midnight to 1am).
    pub busy_by_hour: [f64; 24],
    /// `on_duty_minutes` by hour of day.
    pub on_duty_by_hour: [f64; 24],
}

impl PoolTotals {
    /// Adds busy time `[from, to]`, clipped to the window `[start, end]`, and by hour of day when
    /// `hourly`; returns the minutes added.
    #[inline]
    pub fn add_busy(&mut self, from: f64, to: f64, start: f64, end: f64, hourly: bool) -> f64 {
        let (from, to) = (from.max(start), to.min(end));
        if to <= from {
            return 0.0;
        }
        self.busy_minutes += to - from;
        if hourly {
            spread_by_hour(&mut self.busy_by_hour, from, to);
        }
        to - from
    }

    /// Adds on-duty time `[from, to]`, clipped to the window `[start, end]`, and by hour of day
    /// when `hourly`.
    pub fn add_on_duty(&mut self, from: f64, to: f64, start: f64, end: f64, hourly: bool) {
        let (from, to) = (from.max(start), to.min(end));
        if to > from {
            self.on_duty_minutes += to - from;
            if hourly {
                spread_by_hour(&mut self.on_duty_by_hour, from, to);
            }
        }
    }
}

/// Adds the minutes of `[from, to]` to the hour of day each falls in (minute 0 is midnight).
/// Times are never negative here, so integer casts floor them (`f64::floor` is a libm call on
/// this target, and this runs for every busy interval).
#[inline]
pub(crate) fn spread_by_hour(by_hour: &mut [f64; 24], from: f64, mut to: f64) {
    debug_assert!(from >= 0.0);
    // Most busy intervals start and end within one hour: one add, the same the loop would make.
    let first_hour = (from * (1.0 / 60.0)) as u32;
    if (to * (1.0 / 60.0)) as u32 == first_hour {
        by_hour[(first_hour % 24) as usize] += to - from;
        return;
    }
    // Whole days add an hour to every hour of day; do them at once (24/7 units span the run).
    if to - from >= 1440.0 {
        let days = ((to - from) / 1440.0) as u64 as f64;
        by_hour.iter_mut().for_each(|h| *h += days * 60.0);
        to -= days * 1440.0;
    }
    let mut t = from;
    // A multiply instead of a division, and one modulo per interval instead of one per hour.
    // At an exact hour boundary the product may fall just short; the loop then adds 0.0 to the
    // previous hour and moves on, so sums are unchanged.
    let mut hour = first_hour;
    let mut slot = (hour % 24) as usize;
    while t < to {
        let end = ((hour + 1) as f64 * 60.0).min(to);
        by_hour[slot] += end - t;
        t = end;
        hour += 1;
        slot = if slot == 23 { 0 } else { slot + 1 };
    }
}

/// What the fleet did over the measurement window (warm-up excluded).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FleetTotals {
    /// Indexed like the scenario's pools.
    pub pools: Vec<PoolTotals>,
    /// Police unit-minutes spent on truly care-eligible calls: the time a care program frees.
    pub police_minutes_on_eligible: f64,
    /// Unit-minutes after the scene (transport, handover, booking, reports), police and care.
    pub after_scene_minutes: [f64; 2],
    /// Per facility of the scenario, in its order (empty without facilities).
    pub facilities: Vec<FacilityTotals>,
    /// Transports that found no facility with room on their list: for treatment, for booking.
    pub no_place: [u64; 2],
    /// Set when the replication was stopped because calls arrived faster than the fleet could
    /// clear them (see [`crate::engine::MAX_OPEN_CALLS`]); the other totals then cover only
    /// the time before it stopped and must not be reported.
    pub overload: Option<Overload>,
}

impl FleetTotals {
    /// Nothing done yet, sized for the scenario's pools and facilities.
    pub fn empty(pools: usize, facilities: usize) -> Self {
        Self {
            pools: vec![PoolTotals::default(); pools],
            police_minutes_on_eligible: 0.0,
            after_scene_minutes: [0.0; 2],
            facilities: vec![FacilityTotals::default(); facilities],
            no_place: [0; 2],
            overload: None,
        }
    }
}

/// What one facility did within the measurement window.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FacilityTotals {
    /// People admitted.
    pub admissions: u64,
    /// Transports that arrived when it was full and went on.
    pub turned_away: u64,
    /// Bed-minutes occupied (the time-weighted occupancy times the window).
    pub bed_minutes: f64,
    /// Unit-minutes spent there at handover or drop-off.
    pub handover_minutes: f64,
}

/// A replication stopped as overloaded: when, and how many calls were open then.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Overload {
    /// Simulation minutes from the start.
    pub minutes: f64,
    pub open_calls: usize,
}

/// A unit's change of state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitEventKind {
    /// Came on duty at its home zone.
    OnShift,
    /// Sent to a call (from `zone`).
    Dispatched,
    /// Reached the call (at `zone`). Reported when the unit is sent, since the arrival time is
    /// known then.
    OnScene,
    /// Finished its part of a call.
    Cleared,
    /// Back at its home zone after a call (`after_clear = "return"`).
    Returned,
    /// Went off duty.
    OffShift,
}

impl UnitEventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OnShift => "on_shift",
            Self::Dispatched => "dispatched",
            Self::OnScene => "on_scene",
            Self::Cleared => "cleared",
            Self::Returned => "returned",
            Self::OffShift => "off_shift",
        }
    }
}

/// One unit state change: what the fleet's accounting books, and what the per-unit log writes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UnitEvent {
    pub time_minutes: f64,
    pub unit: UnitId,
    pub pool: PoolId,
    pub zone: ZoneId,
    pub call_id: Option<u64>,
    pub kind: UnitEventKind,
    /// When the spell this event ends began: on `cleared`, when the unit was sent; on
    /// `returned`, when it cleared; on `off_shift`, when it came on duty. Events that end no
    /// spell carry the time they were decided (for `on_scene`, when the unit was sent).
    pub since_minutes: f64,
    /// The call is truly care-eligible (false with no call).
    pub care_eligible_call: bool,
}

/// Receives each call's record as the call ends (or at the horizon, for calls still open), and
/// optionally each unit's state changes.
pub trait Observer {
    fn on_call(&mut self, record: &CallRecord);

    /// A unit changed state. Observers that do not override this cost the engine nothing: the
    /// empty default is inlined away.
    #[inline]
    fn on_unit_event(&mut self, event: &UnitEvent) {
        let _ = event;
    }
}

/// Collects every record: for tests and small runs (memory grows with calls).
impl Observer for Vec<CallRecord> {
    fn on_call(&mut self, record: &CallRecord) {
        self.push(*record);
    }
}

/// Collects every unit event: for tests (memory grows with events).
impl Observer for (Vec<CallRecord>, Vec<UnitEvent>) {
    fn on_call(&mut self, record: &CallRecord) {
        self.0.push(*record);
    }

    fn on_unit_event(&mut self, event: &UnitEvent) {
        self.1.push(*event);
    }
}

/// Feeds two observers.
impl<A: Observer, B: Observer> Observer for (&mut A, &mut B) {
    fn on_call(&mut self, record: &CallRecord) {
        self.0.on_call(record);
        self.1.on_call(record);
    }

    fn on_unit_event(&mut self, event: &UnitEvent) {
        self.0.on_unit_event(event);
        self.1.on_unit_event(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_is_spread_over_the_hours_it_covers() {
        let mut totals = PoolTotals::default();
        // 06:30 to 08:15 on day 0, inside a window that starts at 07:00.
        let added = totals.add_busy(6.5 * 60.0, 8.25 * 60.0, 7.0 * 60.0, 1e9, true);
        assert_eq!(added, 75.0);
        assert_eq!(totals.busy_by_hour[7], 60.0);
        assert_eq!(totals.busy_by_hour[8], 15.0);
        assert_eq!(totals.busy_by_hour[6], 0.0);
        // Three days and a half from 23:00: every hour gets three hours, and the last half day
        // (23:00 to 11:00) one more hour each for hours 23 and 0 to 10.
        totals.add_on_duty(23.0 * 60.0, 23.0 * 60.0 + 3.5 * 1440.0, 0.0, 1e9, true);
        assert_eq!(totals.on_duty_minutes, 3.5 * 1440.0);
        assert_eq!(totals.on_duty_by_hour[23], 4.0 * 60.0);
        assert_eq!(totals.on_duty_by_hour[10], 4.0 * 60.0);
        assert_eq!(totals.on_duty_by_hour[11], 3.0 * 60.0);
        assert_eq!(totals.on_duty_by_hour.iter().sum::<f64>(), 3.5 * 1440.0);
        // Without hourly reporting only the totals move.
        let mut plain = PoolTotals::default();
        plain.add_busy(0.0, 90.0, 0.0, 1e9, false);
        assert_eq!((plain.busy_minutes, plain.busy_by_hour), (90.0, [0.0; 24]));
    }
}
