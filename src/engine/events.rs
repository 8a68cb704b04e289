//! The event queue's entries. The order is the engine's contract: earliest time first, and at
//! equal times the event scheduled first runs first (a sequence number breaks ties), so ties
//! resolve the same way on every run and every machine.

use std::cmp::Ordering;

/// Something that will happen at a known time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum EventKind {
    /// A unit finishes its part of a call.
    UnitClears { unit: u32 },
    /// A care team on scene asks for police backup.
    BackupRequested { slot: u32, call_id: u64 },
    /// A call waiting for a care team has waited as long as the policy allows.
    CareWaitExpired { slot: u32, call_id: u64 },
    /// A care follow-up visit found no team within its window.
    FollowUpExpired { slot: u32, call_id: u64 },
    /// A unit returning to base arrives there.
    UnitHome { unit: u32 },
    /// Units of a shift block come on duty (on simulation day `day`).
    ShiftStart { pool: u16, block: u16, day: i64 },
    /// Units of a shift block go off duty (finishing any call first).
    ShiftEnd { pool: u16, block: u16 },
}

#[derive(Clone, Copy, Debug)]
pub struct Event {
    /// Bits of the (non-negative) event time: for non-negative floats the bit patterns order
    /// like the numbers, so the heap compares integers.
    time_bits: u64,
    pub seq: u64,
    pub kind: EventKind,
}

impl Event {
    pub fn new(time: f64, seq: u64, kind: EventKind) -> Self {
        debug_assert!(time >= 0.0, "event times are never negative: {time}");
        Self {
            time_bits: time.to_bits(),
            seq,
            kind,
        }
    }

    #[inline]
    pub fn time(&self) -> f64 {
        f64::from_bits(self.time_bits)
    }

    /// The (time, seq) key, comparable with an arrival's.
    #[inline]
    pub fn precedes(time: f64, seq: u64, other_time: f64, other_seq: u64) -> bool {
        match time.total_cmp(&other_time) {
            Ordering::Less => true,
            Ordering::Greater => false,
            Ordering::Equal => seq < other_seq,
        }
    }
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        self.seq == other.seq
    }
}

impl Eq for Event {}

impl PartialOrd for Event {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Reversed, so std's max-heap pops the earliest (time, seq) first.
impl Ord for Event {
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time_bits, other.seq).cmp(&(self.time_bits, self.seq))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BinaryHeap;

    #[test]
    fn earliest_first_then_scheduling_order() {
        let mut heap = BinaryHeap::new();
        let kind = EventKind::UnitHome { unit: 0 };
        for (time, seq) in [(5.0, 0), (1.0, 1), (5.0, 2), (1.0, 3), (0.5, 4)] {
            heap.push(Event::new(time, seq, kind));
        }
        let order: Vec<u64> = std::iter::from_fn(|| heap.pop().map(|e| e.seq)).collect();
        assert_eq!(order, vec![4, 1, 3, 0, 2]);
        assert!(Event::precedes(1.0, 9, 2.0, 0));
        assert!(Event::precedes(1.0, 1, 1.0, 2));
        assert!(!Event::precedes(1.0, 2, 1.0, 1));
    }
}
