//! The waiting queues: one per responder kind, ordered by priority (1 first; police backup to a
//! care team is 0, ahead of everything; a care follow-up visit is last, behind every call for
//! service), then by arrival. A unit that comes free takes the head of its kind's queue.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

pub use crate::policy::Job;
use crate::scenario::{KINDS, ResponderKind};

/// Police asked for by a care team on scene (or sent alongside it) go before any call.
pub const BACKUP_PRIORITY: u8 = 0;
/// A follow-up visit waits behind every call for service.
pub const FOLLOW_UP_PRIORITY: u8 = u8::MAX;

/// An entry of a waiting queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Waiting {
    pub priority: u8,
    /// Ties within a priority: the call's id for primary jobs (calls arrive in id order), a
    /// sequence number taken when the request was made for others.
    pub order: u64,
    pub slot: u32,
    pub call_id: u64,
    pub job: Job,
}

impl PartialOrd for Waiting {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Reversed: the max-heap pops the lowest (priority, order).
impl Ord for Waiting {
    fn cmp(&self, other: &Self) -> Ordering {
        (other.priority, other.order).cmp(&(self.priority, self.order))
    }
}

/// Jobs waiting for a unit, per responder kind. Entries whose call has moved on (a care wait
/// that expired, say) are left in place and skipped when popped.
#[derive(Clone, Debug, Default)]
pub struct WaitingQueues {
    by_kind: [BinaryHeap<Waiting>; KINDS],
}

impl WaitingQueues {
    #[inline]
    pub fn push(&mut self, kind: ResponderKind, waiting: Waiting) {
        self.by_kind[kind.index()].push(waiting);
    }

    /// The head of `kind`'s queue, taken off it. An empty queue, the common case when a unit
    /// comes free, is answered here without calling into the heap's (out-of-line) pop.
    #[inline]
    pub fn pop(&mut self, kind: ResponderKind) -> Option<Waiting> {
        let queue = &mut self.by_kind[kind.index()];
        if queue.is_empty() {
            return None;
        }
        queue.pop()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiting(priority: u8, order: u64, job: Job) -> Waiting {
        Waiting {
            priority,
            order,
            slot: order as u32,
            call_id: order,
            job,
        }
    }

    #[test]
    fn backup_first_then_priority_then_arrival_and_follow_ups_last() {
        let mut queues = WaitingQueues::default();
        let care = ResponderKind::Care;
        queues.push(care, waiting(FOLLOW_UP_PRIORITY, 1, Job::FollowUp));
        queues.push(care, waiting(3, 7, Job::Primary));
        queues.push(care, waiting(3, 5, Job::Primary));
        queues.push(care, waiting(1, 9, Job::Primary));
        queues.push(care, waiting(BACKUP_PRIORITY, 10, Job::Backup));
        let order: Vec<u64> = std::iter::from_fn(|| queues.pop(care).map(|w| w.order)).collect();
        assert_eq!(order, vec![10, 9, 5, 7, 1]);
        assert_eq!(queues.pop(ResponderKind::Police), None);
    }
}
