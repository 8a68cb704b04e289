//! The calls in the system, from arrival until their last unit clears, in reusable slots (so
//! memory follows the calls open at once, not the calls simulated). Each holds the record being
//! written and where the call stands.

use crate::calls::Call;
use crate::engine::record::CallRecord;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// The dispatcher is still taking the call (`[dispatch_delay]`): no route yet.
    Processing,
    WaitingCare,
    WaitingPolice,
    Assigned,
    /// The call's units have cleared; a care follow-up visit is waiting for a team.
    WaitingFollowUp,
    /// The call has ended: its slot is free (what it holds is the last call's, and stale).
    Ended,
}

/// A call in the system.
#[derive(Clone, Copy, Debug)]
pub struct ActiveCall {
    pub record: CallRecord,
    pub stage: Stage,
    /// Units still working the call plus requests (backup, follow-up) not yet answered.
    pub outstanding: u8,
    /// Send a free clinician with the police unit (`Route::CoResponse`).
    pub wants_clinician: bool,
    /// Send police with the care team at once (`Route::CareWithPolice`).
    pub police_alongside: bool,
    /// Follow up with a care team within this many minutes of the call clearing.
    pub follow_up_window: Option<f64>,
    /// `record.outcomes` already holds the outcomes, drawn when the scene ended to see whether
    /// they keep a unit (the same draws `end_call` would make).
    pub outcomes_drawn: bool,
}

impl ActiveCall {
    /// A call just opened: nothing sent, nothing requested.
    pub fn new(record: CallRecord, stage: Stage) -> Self {
        Self {
            record,
            stage,
            outstanding: 0,
            wants_clinician: false,
            police_alongside: false,
            follow_up_window: None,
            outcomes_drawn: false,
        }
    }

    /// Makes this the call [`ActiveCall::new`] makes for `call`, field by field where it lies
    /// (see [`CallRecord::reset`]). Every field is named, so none can be forgotten.
    #[inline(always)]
    fn reset(&mut self, call: &Call, priority: u8, care_eligible: bool, stage: Stage) {
        let ActiveCall {
            record,
            stage: call_stage,
            outstanding,
            wants_clinician,
            police_alongside,
            follow_up_window,
            outcomes_drawn,
        } = self;
        record.reset(call, priority, care_eligible);
        *call_stage = stage;
        *outstanding = 0;
        *wants_clinician = false;
        *police_alongside = false;
        *follow_up_window = None;
        *outcomes_drawn = false;
    }
}

/// Open calls by slot; a freed slot is reused by the next call. A free slot keeps its last call,
/// marked [`Stage::Ended`], rather than an `Option`'s `None`: the live calls' accessors, on every
/// call's path, then check no variant (BENCHMARKS.md, issue #18).
#[derive(Clone, Debug, Default)]
pub struct ActiveCalls {
    slots: Vec<ActiveCall>,
    free_slots: Vec<u32>,
}

impl ActiveCalls {
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            slots: Vec::with_capacity(capacity),
            free_slots: Vec::with_capacity(capacity),
        }
    }

    /// How many calls are open (waiting or being served).
    #[inline]
    pub fn open(&self) -> usize {
        self.slots.len() - self.free_slots.len()
    }

    /// Opens `call` at `stage` in a free slot, written field by field where it lives (see
    /// [`ActiveCall::reset`]), or in a new slot.
    #[inline(always)]
    pub fn open_call(
        &mut self,
        call: &Call,
        priority: u8,
        care_eligible: bool,
        stage: Stage,
    ) -> u32 {
        match self.free_slots.pop() {
            Some(slot) => {
                self.slots[slot as usize].reset(call, priority, care_eligible, stage);
                slot
            }
            None => {
                let record = CallRecord::new(*call, priority, care_eligible);
                self.slots.push(ActiveCall::new(record, stage));
                (self.slots.len() - 1) as u32
            }
        }
    }

    /// The live call in `slot`.
    #[inline]
    pub fn get(&self, slot: u32) -> &ActiveCall {
        let active = &self.slots[slot as usize];
        debug_assert!(
            active.stage != Stage::Ended,
            "slot {slot} holds no live call"
        );
        active
    }

    #[inline]
    pub fn get_mut(&mut self, slot: u32) -> &mut ActiveCall {
        let active = &mut self.slots[slot as usize];
        debug_assert!(
            active.stage != Stage::Ended,
            "slot {slot} holds no live call"
        );
        active
    }

    /// The call in `slot` if it is still the call `call_id` (a slot may have been reused).
    #[inline]
    pub fn find_mut(&mut self, slot: u32, call_id: u64) -> Option<&mut ActiveCall> {
        Some(&mut self.slots[slot as usize])
            .filter(|active| active.stage != Stage::Ended && active.record.call.id == call_id)
    }

    /// The call in `slot`, if any.
    #[inline]
    pub fn slot_mut(&mut self, slot: u32) -> Option<&mut ActiveCall> {
        Some(&mut self.slots[slot as usize]).filter(|active| active.stage != Stage::Ended)
    }

    #[inline]
    pub fn slot(&self, slot: u32) -> Option<&ActiveCall> {
        Some(&self.slots[slot as usize]).filter(|active| active.stage != Stage::Ended)
    }

    /// Frees a slot for reuse.
    #[inline]
    pub fn remove(&mut self, slot: u32) {
        self.slots[slot as usize].stage = Stage::Ended;
        self.free_slots.push(slot);
    }

    /// Slots ever used (live or free).
    pub fn slot_count(&self) -> u32 {
        self.slots.len() as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::record::{Assignment, Outcomes};
    use crate::scenario::{CallTypeId, PoolId, ResponderKind, UnitId, ZoneId};

    fn call(id: u64) -> Call {
        Call {
            id,
            received_minutes: id as f64,
            call_type: CallTypeId(1),
            zone: ZoneId(2),
            draw_key: id * 7919,
        }
    }

    #[test]
    fn a_call_opened_in_a_used_slot_is_the_call_a_new_slot_holds() {
        let mut calls = ActiveCalls::with_capacity(2);
        let first = calls.open_call(&call(1), 3, false, Stage::WaitingPolice);
        // Everything a call can change, changed.
        let sent = Assignment {
            unit: UnitId(4),
            pool: PoolId(1),
            kind: ResponderKind::Care,
            dispatched_minutes: 1.0,
            on_scene_minutes: 2.0,
            cleared_minutes: 3.0,
        };
        let active = calls.get_mut(first);
        let record = &mut active.record;
        (record.triaged_eligible, record.routed_to_care) = (true, true);
        (record.overflowed_to_police, record.backup_requested) = (true, true);
        (record.primary, record.backup) = (Some(sent), Some(sent));
        (record.companion, record.follow_up) = (Some(sent), Some(sent));
        (record.follow_up_missed, record.unserved_at_horizon) = (true, true);
        record.cleared_minutes = Some(9.0);
        record.outcomes = Outcomes {
            arrest: true,
            booking: true,
            force: true,
            injury: true,
            er_transport: true,
        };
        record.dispatch_delay_minutes = 0.5;
        (active.outstanding, active.wants_clinician) = (2, true);
        (active.police_alongside, active.outcomes_drawn) = (true, true);
        active.follow_up_window = Some(60.0);
        calls.remove(first);

        let reused = calls.open_call(&call(2), 1, true, Stage::Processing);
        assert_eq!(reused, first, "the freed slot is reused");
        let fresh = ActiveCall::new(CallRecord::new(call(2), 1, true), Stage::Processing);
        let opened = calls.get(reused);
        assert_eq!(opened.record, fresh.record);
        assert_eq!(
            (opened.stage, opened.outstanding, opened.wants_clinician),
            (fresh.stage, fresh.outstanding, fresh.wants_clinician)
        );
        assert_eq!(
            (
                opened.police_alongside,
                opened.outcomes_drawn,
                opened.follow_up_window
            ),
            (
                fresh.police_alongside,
                fresh.outcomes_drawn,
                fresh.follow_up_window
            )
        );
        assert!(calls.slot(reused).is_some());
        calls.remove(reused);
        assert!(
            calls.slot(reused).is_none(),
            "an ended call's slot holds no live call"
        );
    }
}
