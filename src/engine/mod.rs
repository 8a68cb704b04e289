//! The engine: replays a call stream through a fleet under one policy and emits one
//! [`CallRecord`] per call and the fleet's busy and on-duty time. It knows nothing of files,
//! charts or the command line.
//!
//! It is two layers:
//! - [`core`]: the event core, a clock and a (time, sequence) ordered queue with the loop that
//!   runs a model. It knows no calls or units (its docs run an M/M/1 queue on it).
//! - `dispatch/`: the 911 model the core runs, in components of one job each (fleet and shifts,
//!   waiting queues, routing, service times, outcome draws, accounting).
//!
//! Where to look:
//! - "What does the event loop do?": [`core::run`].
//! - "How does a care team get picked?": the policy's route ([`crate::policy`]) says a care
//!   team; the unit is the nearest free one (`dispatch/routing.rs`), unless the policy
//!   picks its own ([`crate::policy::Policy::unit_chooser`]).
//! - "Whose outcome probabilities apply?": `dispatch/outcomes.rs`.
//!
//! ## Contract
//! - Events run in (time, sequence) order: at equal times, the one scheduled first runs first.
//!   The next arrival takes its sequence number when it is read from the stream.
//! - A call's route comes from the policy, and so does the unit: by default the nearest free
//!   unit of the kind (shortest mean travel time; ties: lower zone index, then lower pool
//!   index, then lower unit index).
//! - Waiting calls queue per responder kind by priority (1 first; police backup is priority 0;
//!   care follow-up visits come after every call for service), then by arrival. A unit that
//!   becomes free takes the head of its kind's queue.
//! - A unit travels, serves on scene, then is free where it is, or drives back to base first
//!   (`after_clear = "return"`, unavailable until there). A unit whose shift ends mid-call
//!   finishes the call, then goes off duty.
//! - A care team on scene asks for police backup with its call type's probability, and always
//!   on a call that was not truly care-eligible (a triage error). Backup is priority 0.
//! - Outcomes are drawn with police probabilities if police were on scene, else with care
//!   probabilities; a call resolved by phone has none.
//! - At the horizon the run stops: calls with no unit on scene yet are unserved; work under
//!   way is counted up to the horizon.
//!
//! Every random draw comes from the call's key (see [`crate::calls::rng`]), so the engine
//! itself holds no generator and two policies see identical per-call draws.

pub mod core;
pub(crate) mod dispatch;
pub mod record;

pub use record::{CallRecord, FleetTotals, Observer, Overload};

use self::core::{Key, Sequence, Stop, Time};
use crate::calls::Call;
use crate::policy::Policy;
use crate::scenario::Scenario;
use dispatch::Dispatch;

/// Runs one replication of `calls` through the scenario's fleet under `policy`, reporting each
/// call to `observer`. Returns what the fleet did within the measurement window.
pub fn simulate<I, O>(
    scenario: &Scenario,
    policy: &dyn Policy,
    calls: I,
    observer: &mut O,
) -> FleetTotals
where
    I: IntoIterator<Item = Call>,
    O: Observer + ?Sized,
{
    let mut simulation = Simulation::new(scenario, policy, observer);
    for call in calls {
        if !simulation.push(call) {
            break;
        }
    }
    simulation.finish()
}

/// The most calls open at once (waiting for a unit or being served) before a replication is
/// stopped as overloaded. A fleet that clears calls more slowly than they arrive has a waiting
/// queue that grows without bound: its response times measure only how long the horizon is, and
/// its memory grows with the calls. A real city has tens to hundreds open at a time; a million
/// is far past any fleet's steady state, and holds about 100 MB.
/// ([`crate::experiment::Overloaded`]'s message says "1,000,000": keep the two together.)
pub const MAX_OPEN_CALLS: usize = 1_000_000;

/// A replication fed one call at a time: several simulations can then share one generated call
/// stream (a sweep runs every point of a replication from one stream). Gives exactly what
/// [`simulate`] gives for the same calls.
pub struct Simulation<'a, O: ?Sized> {
    model: Dispatch<'a, O>,
    /// The sequence number the next arrival takes: reserved when the previous one arrived, as
    /// if the arrival stream were one more scheduled event.
    next_call: Sequence,
    /// The horizon was reached, or the city is overloaded: later calls are ignored.
    stopped: bool,
    overload: Option<Overload>,
}

impl<'a, O: Observer + ?Sized> Simulation<'a, O> {
    pub fn new(scenario: &'a Scenario, policy: &'a dyn Policy, observer: &'a mut O) -> Self {
        let mut model = Dispatch::new(scenario, policy, observer);
        let next_call = model.events.reserve();
        Self {
            model,
            next_call,
            stopped: false,
            overload: None,
        }
    }

    /// Runs every event before `call`, then the call's arrival. Returns false once the horizon
    /// is reached, or more than [`MAX_OPEN_CALLS`] calls are open (the call and any later ones
    /// are not simulated).
    pub fn push(&mut self, call: Call) -> bool {
        if self.stopped {
            return false;
        }
        let horizon = Time::new(self.model.horizon);
        let arrival = Key {
            time: Time::new(call.received_minutes),
            sequence: self.next_call,
        };
        if core::run(&mut self.model, Some(arrival), horizon) == Stop::Horizon
            || call.received_minutes >= self.model.horizon
        {
            self.stopped = true;
            return false;
        }
        self.model.events.advance_to(arrival.time);
        self.model.arrive(call);
        self.next_call = self.model.events.reserve();
        let open_calls = self.model.open_calls();
        if open_calls > MAX_OPEN_CALLS {
            self.stopped = true;
            self.overload = Some(Overload {
                minutes: call.received_minutes,
                open_calls,
            });
            return false;
        }
        true
    }

    /// Runs the remaining events up to the horizon and closes the books. An overloaded
    /// replication is closed where it stopped, with [`FleetTotals::overload`] set.
    pub fn finish(mut self) -> FleetTotals {
        if !self.stopped {
            let horizon = Time::new(self.model.horizon);
            core::run(&mut self.model, None, horizon);
        }
        let mut totals = self.model.finish(self.overload.map(|o| o.minutes));
        totals.overload = self.overload;
        totals
    }
}

#[cfg(test)]
mod tests;
