//! The calls in the system, from arrival until their last unit clears, in reusable slots (so
//! memory follows the calls open at once, not the calls simulated). Each holds the record being
//! written and where the call stands.

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

    #[inline]
    pub fn insert(&mut self, active: ActiveCall) -> u32 {
        match self.free_slots.pop() {
            Some(slot) => {
                self.slots[slot as usize] = active;
                slot
            }
            None => {
                self.slots.push(active);
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
