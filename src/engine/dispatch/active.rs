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

/// Open calls by slot; a freed slot is reused by the next call.
#[derive(Clone, Debug, Default)]
pub struct ActiveCalls {
    slots: Vec<Option<ActiveCall>>,
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
                self.slots[slot as usize] = Some(active);
                slot
            }
            None => {
                self.slots.push(Some(active));
                (self.slots.len() - 1) as u32
            }
        }
    }

    /// The live call in `slot`.
    #[inline]
    pub fn get(&self, slot: u32) -> &ActiveCall {
        self.slots[slot as usize]
            .as_ref()
            .expect("slot of a live call")
    }

    #[inline]
    pub fn get_mut(&mut self, slot: u32) -> &mut ActiveCall {
        self.slots[slot as usize]
            .as_mut()
            .expect("slot of a live call")
    }

    /// The call in `slot` if it is still the call `call_id` (a slot may have been reused).
    #[inline]
    pub fn find_mut(&mut self, slot: u32, call_id: u64) -> Option<&mut ActiveCall> {
        self.slots[slot as usize]
            .as_mut()
            .filter(|active| active.record.call.id == call_id)
    }

    /// The call in `slot`, if any.
    #[inline]
    pub fn slot_mut(&mut self, slot: u32) -> Option<&mut ActiveCall> {
        self.slots[slot as usize].as_mut()
    }

    #[inline]
    pub fn slot(&self, slot: u32) -> Option<&ActiveCall> {
        self.slots[slot as usize].as_ref()
    }

    /// Frees a slot for reuse.
    #[inline]
    pub fn remove(&mut self, slot: u32) {
        self.slots[slot as usize] = None;
        self.free_slots.push(slot);
    }

    /// Slots ever used (live or free).
    pub fn slot_count(&self) -> u32 {
        self.slots.len() as u32
    }
}
