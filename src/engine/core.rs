//! The event core: a clock, a queue of future events ordered by (time, sequence), and the loop
//! that hands them to a model one at a time. It knows nothing of calls, units, zones or
//! outcomes; the 911 dispatch model (`engine/dispatch/`) is one model it runs.
//!
//! ## Ordering contract
//! - Events run earliest first. At equal times the event *scheduled* first runs first: each
//!   scheduling takes the next number of one sequence, and the queue orders by (time, number).
//!   So ties resolve the same way on every run, on every machine, with any thread count.
//! - An event kept outside the queue (the next arrival of a stream that is read lazily) takes
//!   its number with [`EventQueue::reserve`] when it becomes known, and the loop runs only the
//!   queued events that precede it ([`run`] with a limit). It is then ordered exactly as if it
//!   had been scheduled.
//! - Events scheduled with [`EventQueue::schedule_soon`] (a kind with only a few pending at a
//!   time) wait in a short sorted list of their own, and run in the same one order.
//! - The clock never goes back: a model may schedule at the current time, never before it.
//! - Times are finite and non-negative; their unit is the model's (the dispatch model uses
//!   minutes).
//!
//! ## A different model: an M/M/1 queue
//! The proof that the core is domain-free: a single server, Poisson arrivals, exponential
//! service, the mean time in system measured over the run (theory: `1 / (mu - lambda)`).
//!
//! ```
//! use crisis_sim::engine::core::{self, EventQueue, Model, Time};
//!
//! #[derive(Clone, Copy)]
//! enum Event { Arrival, Departure }
//!
//! struct MM1 {
//!     events: EventQueue<Event>,
//!     waiting: std::collections::VecDeque<f64>, // arrival times, head in service
//!     rng: u64,
//!     lambda: f64,
//!     mu: f64,
//!     served: u64,
//!     time_in_system: f64,
//! }
//!
//! impl MM1 {
//!     fn exp(&mut self, rate: f64) -> f64 {
//!         // xorshift64*: enough randomness for an example.
//!         self.rng ^= self.rng >> 12; self.rng ^= self.rng << 25; self.rng ^= self.rng >> 27;
//!         let u = (self.rng.wrapping_mul(0x2545F4914F6CDD1D) >> 11) as f64 / (1u64 << 53) as f64;
//!         -(1.0 - u).ln() / rate
//!     }
//! }
//!
//! impl Model for MM1 {
//!     type Event = Event;
//!     fn events(&mut self) -> &mut EventQueue<Event> { &mut self.events }
//!     fn handle(&mut self, event: Event) {
//!         let now = self.events.now().value();
//!         match event {
//!             Event::Arrival => {
//!                 let next = now + self.exp(self.lambda);
//!                 self.events.schedule(Time::new(next), Event::Arrival);
//!                 self.waiting.push_back(now);
//!                 if self.waiting.len() == 1 {
//!                     let done = now + self.exp(self.mu);
//!                     self.events.schedule(Time::new(done), Event::Departure);
//!                 }
//!             }
//!             Event::Departure => {
//!                 let arrived = self.waiting.pop_front().unwrap();
//!                 self.served += 1;
//!                 self.time_in_system += now - arrived;
//!                 if !self.waiting.is_empty() {
//!                     let done = now + self.exp(self.mu);
//!                     self.events.schedule(Time::new(done), Event::Departure);
//!                 }
//!             }
//!         }
//!     }
//! }
//!
//! let mut model = MM1 {
//!     events: EventQueue::with_capacity(4),
//!     waiting: Default::default(),
//!     rng: 0x9E3779B97F4A7C15,
//!     lambda: 0.5,
//!     mu: 1.0,
//!     served: 0,
//!     time_in_system: 0.0,
//! };
//! model.events.schedule(Time::ZERO, Event::Arrival);
//! core::run(&mut model, None, Time::new(200_000.0));
//! let mean = model.time_in_system / model.served as f64;
//! assert!((mean - 2.0).abs() < 0.1, "M/M/1 mean time in system {mean}, theory 2");
//! ```

use std::cmp::Ordering;

/// A point in simulated time: finite and non-negative. Its unit is the model's.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd)]
pub struct Time(f64);

impl Time {
    pub const ZERO: Time = Time(0.0);

    /// A time; debug builds check that it is finite and non-negative.
    #[inline]
    pub fn new(value: f64) -> Self {
        debug_assert!(
            value >= 0.0 && value.is_finite(),
            "event times are finite and never negative: {value}"
        );
        Time(value)
    }

    #[inline]
    pub fn value(self) -> f64 {
        self.0
    }
}

/// The number an event takes when it is scheduled (or reserved): it breaks ties in time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Sequence(pub u64);

/// The (time, sequence) key that orders events.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Key {
    pub time: Time,
    pub sequence: Sequence,
}

impl Key {
    /// Whether this key runs before `other`.
    #[inline]
    pub fn precedes(self, other: Key) -> bool {
        match self.time.0.total_cmp(&other.time.0) {
            Ordering::Less => true,
            Ordering::Greater => false,
            Ordering::Equal => self.sequence < other.sequence,
        }
    }
}

/// A queued event with its (time, sequence) key packed into one integer: non-negative floats
/// order like their bit patterns, so `time bits << 64 | sequence` orders exactly like
/// (time, sequence), and the heap compares one integer per step.
#[derive(Clone, Copy, Debug)]
struct Entry<E> {
    key: u128,
    event: E,
}

impl<E> Entry<E> {
    #[inline(always)]
    fn key(&self) -> Key {
        Key::unpacked(self.key)
    }
}

/// A binary min-heap of entries by packed key. std's `BinaryHeap` does the same sifts, but
/// writes a new entry and reads it straight back (and hands a popped one back through a
/// reordered copy): on this loop, loads of data still in the store buffer, which stall
/// (`perf annotate`, BENCHMARKS.md, issue #18). Here a moving entry stays in registers: a push
/// finds the new entry's place first and writes it once, a pop walks the last entry's hole down
/// and up before writing it. Keys are unique (the sequence), so the pops come in one order
/// whatever the heap's shape.
#[derive(Clone, Debug)]
struct Heap<E> {
    entries: Vec<Entry<E>>,
}

impl<E: Copy> Heap<E> {
    fn with_capacity(capacity: usize) -> Self {
        Self {
            entries: Vec::with_capacity(capacity),
        }
    }

    #[inline(always)]
    fn first_key(&self) -> Option<u128> {
        self.entries.first().map(|entry| entry.key)
    }

    #[inline(always)]
    fn len(&self) -> usize {
        self.entries.len()
    }

    #[inline(always)]
    fn push(&mut self, entry: Entry<E>) {
        let hole = self.entries.len();
        // Room at the end: the new entry rises from there.
        self.entries.push(entry);
        self.rise(hole, entry);
    }

    /// Writes `entry` into the `hole`, or above it: parents later than the entry move down
    /// into the hole until the entry's place.
    #[inline(always)]
    fn rise(&mut self, mut hole: usize, entry: Entry<E>) {
        while hole > 0 {
            let parent = (hole - 1) / 2;
            if self.entries[parent].key < entry.key {
                break;
            }
            self.entries[hole] = self.entries[parent];
            hole = parent;
        }
        self.entries[hole] = entry;
    }

    #[inline(always)]
    fn pop(&mut self) -> Option<Entry<E>> {
        let last = self.entries.pop()?;
        let Some(&first) = self.entries.first() else {
            return Some(last);
        };
        // The last entry refills the root's hole. As std does: the hole goes down to the
        // bottom along the earlier child, then the last entry rises from there (it nearly
        // always belongs near the bottom, so this compares less than stopping on the way).
        let len = self.entries.len();
        let mut hole = 0;
        let mut child = 1;
        while child + 1 < len {
            child += usize::from(self.entries[child + 1].key < self.entries[child].key);
            self.entries[hole] = self.entries[child];
            hole = child;
            child = 2 * hole + 1;
        }
        if child + 1 == len {
            self.entries[hole] = self.entries[child];
            hole = child;
        }
        self.rise(hole, last);
        Some(first)
    }
}

/// The longest the list of soon events grows; later ones wait in the heap. A city at its usual
/// load has one or two calls in processing at a time.
const SOON_CAPACITY: usize = 16;

/// The clock and the future events of one run, by packed key: a binary heap, and a short
/// sorted list for events that are many but each due soon, so that few are pending at a time
/// (a call's processing: [`EventQueue::schedule_soon`]). Kept apart, they do not deepen the
/// heap, and each costs a sorted insert into a list of one or two and a pop from its end. The
/// next event is the earlier of the two firsts, so the order is the one (time, sequence)
/// order either way. (Other shapes measured against std's heap: BENCHMARKS.md.)
#[derive(Clone, Debug)]
pub struct EventQueue<E> {
    now: Time,
    next_sequence: u64,
    heap: Heap<E>,
    /// The events scheduled soon, latest first: a handful, so a sorted insert is cheaper than
    /// a heap's, and the next is the last.
    soon: Vec<Entry<E>>,
}

impl<E: Copy> EventQueue<E> {
    /// An empty queue at time zero, with room for `capacity` pending events.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            now: Time::ZERO,
            next_sequence: 0,
            heap: Heap::with_capacity(capacity),
            soon: Vec::with_capacity(SOON_CAPACITY),
        }
    }

    /// The current time: that of the event being handled.
    #[inline]
    pub fn now(&self) -> Time {
        self.now
    }

    #[inline(always)]
    fn entry(&mut self, time: Time, event: E) -> Entry<E> {
        debug_assert!(
            time >= self.now,
            "scheduled in the past: {time:?} < {:?}",
            self.now
        );
        let sequence = self.reserve();
        Entry {
            key: Key { time, sequence }.packed(),
            event,
        }
    }

    /// Schedules `event` at `time` (not before now).
    #[inline]
    pub fn schedule(&mut self, time: Time, event: E) {
        let entry = self.entry(time, event);
        self.heap.push(entry);
    }

    /// Schedules `event` at `time` (not before now), for a kind of event of which only a few
    /// are pending at a time. It runs in the same (time, sequence) order as if scheduled with
    /// [`EventQueue::schedule`]; only the cost differs.
    #[inline]
    pub fn schedule_soon(&mut self, time: Time, event: E) {
        let entry = self.entry(time, event);
        // An overloaded city can have thousands in processing at once, and a sorted insert
        // into a list that long costs more than a heap's push. The heap takes the overflow:
        // the next event is the earlier of the two firsts, so the order is the same.
        if self.soon.len() >= SOON_CAPACITY {
            self.heap.push(entry);
            return;
        }
        // Latest first: the new entry goes after every later one. It has the largest sequence
        // yet, so among equal times it is the latest of all and goes first among them.
        // Pushed at the end (the earliest place), then moved up past every earlier one: one
        // or two steps for the few pending.
        self.soon.push(entry);
        let mut at = self.soon.len() - 1;
        while at > 0 && self.soon[at - 1].key < entry.key {
            self.soon.swap(at - 1, at);
            at -= 1;
        }
    }

    /// Takes the next sequence number for an event held outside the queue (or for any order
    /// that must interleave with scheduling order).
    #[inline]
    pub fn reserve(&mut self) -> Sequence {
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        Sequence(sequence)
    }

    /// The packed key of the earliest pending event, and whether it is in the list of soon
    /// events.
    #[inline(always)]
    fn first(&self) -> Option<(u128, bool)> {
        match (self.heap.first_key(), self.soon.last()) {
            (Some(main), Some(soon)) if soon.key < main => Some((soon.key, true)),
            (Some(main), _) => Some((main, false)),
            (None, Some(soon)) => Some((soon.key, true)),
            (None, None) => None,
        }
    }

    /// The key of the earliest pending event.
    #[inline]
    pub fn peek(&self) -> Option<Key> {
        self.first().map(|(key, _)| Key::unpacked(key))
    }

    /// Removes the earliest pending event of one heap and moves the clock to its time.
    #[inline(always)]
    fn pop_from(&mut self, soon: bool) -> Option<E> {
        let entry = if soon {
            self.soon.pop()?
        } else {
            self.heap.pop()?
        };
        self.advance_to(entry.key().time);
        Some(entry.event)
    }

    /// Removes the earliest pending event and moves the clock to its time.
    #[inline]
    pub fn pop(&mut self) -> Option<E> {
        let (_, soon) = self.first()?;
        self.pop_from(soon)
    }

    /// Moves the clock forward (to an event handled outside the queue, or to the horizon).
    #[inline]
    pub fn advance_to(&mut self, time: Time) {
        debug_assert!(
            time >= self.now,
            "time went backwards: {time:?} < {:?}",
            self.now
        );
        self.now = time;
    }

    /// Pending events.
    pub fn len(&self) -> usize {
        self.heap.len() + self.soon.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.len() == 0 && self.soon.is_empty()
    }
}

/// A simulation model: owns its event queue and handles one event at a time.
pub trait Model {
    type Event: Copy;

    fn events(&mut self) -> &mut EventQueue<Self::Event>;

    /// Handles an event; the queue's clock already reads its time.
    fn handle(&mut self, event: Self::Event);
}

/// Why [`run`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The next event does not precede the limit (the held-back event may run now).
    Limit,
    /// The next event lies at or past the horizon.
    Horizon,
    /// No event is pending.
    Empty,
}

impl Key {
    /// The key packed as the queue packs it: `time bits << 64 | sequence`. Non-negative
    /// times order like their bits, so packed keys order exactly like (time, sequence).
    #[inline(always)]
    fn packed(self) -> u128 {
        // `+ 0.0` turns a -0.0 into 0.0, whose bits order with the rest.
        (u128::from((self.time.0 + 0.0).to_bits()) << 64) | u128::from(self.sequence.0)
    }

    /// The key a packed key stands for.
    #[inline(always)]
    fn unpacked(key: u128) -> Key {
        Key {
            time: Time(f64::from_bits((key >> 64) as u64)),
            sequence: Sequence(key as u64),
        }
    }
}

/// Runs events in (time, sequence) order while they precede `limit` (if given) and lie before
/// `horizon`. Each step compares packed keys: one integer compare against the limit, one
/// against the horizon (the first key at the horizon's time, sequence 0).
#[inline(always)]
pub fn run<M: Model + ?Sized>(model: &mut M, limit: Option<Key>, horizon: Time) -> Stop {
    let limit = limit.map_or(u128::MAX, Key::packed);
    let horizon = Key {
        time: horizon,
        sequence: Sequence(0),
    }
    .packed();
    loop {
        let events = model.events();
        let Some((next, soon)) = events.first() else {
            return Stop::Empty;
        };
        // `limit` is u128::MAX without a held event: a key never reaches it (its sequence
        // would have to be u64::MAX at an infinite time).
        if next >= limit {
            return Stop::Limit;
        }
        if next >= horizon {
            return Stop::Horizon;
        }
        if let Some(event) = events.pop_from(soon) {
            model.handle(event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Recorder {
        events: EventQueue<u32>,
        seen: Vec<(f64, u32)>,
    }

    impl Model for Recorder {
        type Event = u32;
        fn events(&mut self) -> &mut EventQueue<u32> {
            &mut self.events
        }
        fn handle(&mut self, event: u32) {
            let now = self.events.now().value();
            self.seen.push((now, event));
            // Event 1 schedules event 9 at the same instant: it runs after those already
            // scheduled for that instant.
            if event == 1 {
                self.events.schedule(Time::new(now), 9);
            }
        }
    }

    fn recorder() -> Recorder {
        let mut model = Recorder {
            events: EventQueue::with_capacity(8),
            seen: Vec::new(),
        };
        for (time, id) in [(5.0, 0), (1.0, 1), (5.0, 2), (1.0, 3), (0.5, 4)] {
            model.events.schedule(Time::new(time), id);
        }
        model
    }

    #[test]
    fn earliest_first_then_scheduling_order() {
        let mut model = recorder();
        assert_eq!(run(&mut model, None, Time::new(100.0)), Stop::Empty);
        let order: Vec<u32> = model.seen.iter().map(|(_, id)| *id).collect();
        assert_eq!(order, vec![4, 1, 3, 9, 0, 2]);
        let times: Vec<f64> = model.seen.iter().map(|(t, _)| *t).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    }

    #[test]
    fn stops_before_a_held_event_and_at_the_horizon() {
        let mut model = recorder();
        // An arrival at time 1 reserved after events 0..4 were scheduled (sequence 5): it
        // follows events 1 and 3 at time 1, which were scheduled earlier.
        let held = Key {
            time: Time::new(1.0),
            sequence: model.events.reserve(),
        };
        assert_eq!(run(&mut model, Some(held), Time::new(100.0)), Stop::Limit);
        let order: Vec<u32> = model.seen.iter().map(|(_, id)| *id).collect();
        assert_eq!(order, vec![4, 1, 3]);
        // Event 9 (scheduled at time 1 by event 1, after the reservation) waits for it.
        assert_eq!(model.events.peek().map(|k| k.sequence), Some(Sequence(6)));
        assert_eq!(run(&mut model, None, Time::new(5.0)), Stop::Horizon);
        assert_eq!(model.seen.last(), Some(&(1.0, 9)));
        assert_eq!(model.events.len(), 2);
    }

    /// A time of -0.0 (a stream may write `-0`) is the same instant as 0.0: the packed keys
    /// order it by sequence, not after every other event (its sign bit would).
    #[test]
    fn negative_zero_is_time_zero() {
        let mut model = Recorder {
            events: EventQueue::with_capacity(4),
            seen: Vec::new(),
        };
        model.events.schedule(Time::new(-0.0), 7);
        model.events.schedule(Time::new(0.5), 8);
        let held = Key {
            time: Time::new(-0.0),
            sequence: model.events.reserve(),
        };
        // Event 7 (sequence 0) precedes the held one (sequence 2); event 8 does not.
        assert_eq!(run(&mut model, Some(held), Time::new(10.0)), Stop::Limit);
        assert_eq!(
            model.seen.iter().map(|(_, e)| *e).collect::<Vec<_>>(),
            vec![7]
        );
    }

    /// A xorshift64 stream: enough randomness for a test's event times.
    fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        }
    }

    /// Events scheduled soon run in the one (time, sequence) order with the others, ties in
    /// time included: the same order as if every event were scheduled the usual way.
    #[test]
    fn events_scheduled_soon_keep_the_one_order() {
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        let mut two = Recorder {
            events: EventQueue::with_capacity(8),
            seen: Vec::new(),
        };
        let mut one = Recorder {
            events: EventQueue::with_capacity(8),
            seen: Vec::new(),
        };
        for id in 0..2000u32 {
            // Few distinct times, so many ties.
            let time = Time::new((next() % 50) as f64 * 0.5);
            let id = id + 10;
            if next().is_multiple_of(3) {
                two.events.schedule_soon(time, id);
            } else {
                two.events.schedule(time, id);
            }
            one.events.schedule(time, id);
        }
        assert_eq!(two.events.len(), 2000);
        // Hundreds were scheduled soon; past its capacity the list handed them to the heap.
        assert_eq!(two.events.soon.len(), SOON_CAPACITY);
        assert_eq!(two.events.peek(), one.events.peek());
        run(&mut two, None, Time::new(1000.0));
        run(&mut one, None, Time::new(1000.0));
        assert_eq!(two.seen, one.seen);
        assert!(two.events.is_empty());
    }

    /// The heap against std's, pushes and pops interleaved (the queue grows and shrinks, as
    /// a run's does), with many equal times: the same entries come out in the same order.
    #[test]
    fn the_heap_pops_what_std_binary_heap_pops() {
        use std::cmp::Reverse;
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        let mut heap = Heap::with_capacity(4);
        let mut reference = std::collections::BinaryHeap::new();
        let mut popped = (Vec::new(), Vec::new());
        for sequence in 0..20_000u64 {
            // Pushes a little more often than pops: the heap grows to a few hundred.
            if next() % 100 < 52 {
                let time = Time::new((next() % 300) as f64 * 0.25);
                let key = Key {
                    time,
                    sequence: Sequence(sequence),
                }
                .packed();
                heap.push(Entry {
                    key,
                    event: sequence,
                });
                reference.push(Reverse((key, sequence)));
            } else {
                popped.0.push(heap.pop().map(|e| (e.key, e.event)));
                popped.1.push(reference.pop().map(|Reverse(e)| e));
            }
            assert_eq!(heap.len(), reference.len());
            assert_eq!(heap.first_key(), reference.peek().map(|Reverse((k, _))| *k));
        }
        while let Some(entry) = heap.pop() {
            popped.0.push(Some((entry.key, entry.event)));
        }
        while let Some(Reverse(entry)) = reference.pop() {
            popped.1.push(Some(entry));
        }
        assert!(popped.0.len() > 10_000);
        assert_eq!(popped.0, popped.1);
    }

    #[test]
    fn keys_order_by_time_then_sequence() {
        let key = |t: f64, s: u64| Key {
            time: Time::new(t),
            sequence: Sequence(s),
        };
        assert!(key(1.0, 9).precedes(key(2.0, 0)));
        assert!(key(1.0, 1).precedes(key(1.0, 2)));
        assert!(!key(1.0, 2).precedes(key(1.0, 1)));
    }
}
