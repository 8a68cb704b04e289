//! The discrete-event engine: replays a call stream through a fleet under one policy and emits
//! one [`CallRecord`] per call. It knows nothing of files, charts or the command line.
//!
//! ## Contract
//! - Events run in (time, sequence) order: at equal times, the one scheduled first runs first.
//!   The next arrival takes its sequence number when it is read from the stream.
//! - A call's route comes from the policy. Police go to the nearest free police unit (shortest
//!   mean travel time; ties: lower zone index, then lower pool index, then lower unit index);
//!   care likewise among care teams.
//! - Waiting calls queue per responder kind by priority (1 first; police backup is priority 0),
//!   then by arrival. A unit that becomes free takes the head of its kind's queue.
//! - A unit travels, serves on scene, then is free where it is, or drives back to base first
//!   (`after_clear = "return"`, unavailable until there). A unit whose shift ends mid-call
//!   finishes the call, then goes off duty.
//! - A care team on scene asks for police backup with its call type's probability, and always
//!   on a call that was not truly care-eligible (a triage error). Backup is priority 0.
//! - At the horizon the run stops: calls with no unit on scene yet are unserved; work under
//!   way is counted up to the horizon.
//!
//! Every random draw comes from the call's key (see [`crate::calls::rng`]), so the engine itself
//! holds no generator and two policies see identical per-call draws.

mod events;
mod free_units;
pub mod record;

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use events::{Event, EventKind};
use free_units::FreeUnits;

use crate::calls::Call;
use crate::calls::rng::{self, Purpose};
use crate::engine::record::{
    Assignment, CallRecord, FleetTotals, Observer, Outcomes, PoolTotals, UnitEvent, UnitEventKind,
};
use crate::policy::{CallContext, Escalation, Policy, Route, SystemView};
use crate::scenario::distribution::Sampler;
use crate::scenario::{AfterClear, KINDS, PoolId, ResponderKind, Scenario, UnitId, ZoneId};

const MINUTES_PER_DAY: f64 = 1440.0;
const BACKUP_PRIORITY: u8 = 0;
/// Follow-up visits wait behind every call for service.
const FOLLOW_UP_PRIORITY: u8 = u8::MAX;

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

/// A replication fed one call at a time: several simulations can then share one generated call
/// stream (a sweep runs every point of a replication from one stream). Gives exactly what
/// [`simulate`] gives for the same calls.
pub struct Simulation<'a, O: ?Sized> {
    engine: Engine<'a, O>,
    /// The sequence number the next arrival takes: reserved when the previous one arrived, as
    /// if the arrival stream were one more scheduled event.
    next_call_seq: u64,
    /// The horizon was reached: later calls are ignored.
    stopped: bool,
}

impl<'a, O: Observer + ?Sized> Simulation<'a, O> {
    pub fn new(scenario: &'a Scenario, policy: &'a dyn Policy, observer: &'a mut O) -> Self {
        let mut engine = Engine::new(scenario, policy, observer);
        engine.start_shifts();
        let next_call_seq = engine.take_seq();
        Self {
            engine,
            next_call_seq,
            stopped: false,
        }
    }

    /// Runs every event before `call`, then the call's arrival. Returns false once the horizon
    /// is reached (the call and any later ones are not simulated).
    pub fn push(&mut self, call: Call) -> bool {
        if self.stopped {
            return false;
        }
        let engine = &mut self.engine;
        while let Some(event) = engine.events.peek() {
            if !Event::precedes(
                event.time(),
                event.seq,
                call.received_minutes,
                self.next_call_seq,
            ) {
                break;
            }
            if event.time() >= engine.horizon {
                self.stopped = true;
                return false;
            }
            engine.advance_to(event.time());
            if let Some(event) = engine.events.pop() {
                engine.handle(event.kind);
            }
        }
        if call.received_minutes >= engine.horizon {
            self.stopped = true;
            return false;
        }
        engine.advance_to(call.received_minutes);
        engine.arrive(call);
        self.next_call_seq = engine.take_seq();
        true
    }

    /// Runs the remaining events up to the horizon and closes the books.
    pub fn finish(mut self) -> FleetTotals {
        let engine = &mut self.engine;
        if !self.stopped {
            while let Some(event) = engine.events.peek() {
                if event.time() >= engine.horizon {
                    break;
                }
                engine.advance_to(event.time());
                if let Some(event) = engine.events.pop() {
                    engine.handle(event.kind);
                }
            }
        }
        engine.now = engine.horizon;
        self.engine.finish()
    }
}

/// One draw of `sampler` from the call's stream for `purpose` (no stream for a fixed value).
#[inline]
fn draw(sampler: &Sampler, call_key: u64, purpose: Purpose) -> f64 {
    match sampler {
        Sampler::Fixed(value) => *value,
        _ => sampler.sample(&mut rng::stream(call_key, purpose)),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum UnitState {
    OffDuty,
    Free,
    OnCall,
    Returning,
}

#[derive(Clone, Debug)]
struct Unit {
    pool: u16,
    index_in_pool: u32,
    kind: ResponderKind,
    home: ZoneId,
    /// Where it is (or, on a call, where it will be when it clears).
    zone: ZoneId,
    state: UnitState,
    /// Shift blocks covering now; on duty by schedule while > 0.
    active_blocks: u8,
    busy_since: f64,
    duty_since: f64,
    /// Slot of the call it is on.
    call_slot: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    WaitingCare,
    WaitingPolice,
    Assigned,
    /// The call's units have cleared; a care follow-up visit is waiting for a team.
    WaitingFollowUp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Job {
    Primary,
    Backup,
    /// A care team's follow-up visit after the call's units cleared.
    FollowUp,
}

/// A call in the system (from arrival until its last unit clears).
#[derive(Clone, Copy, Debug)]
struct ActiveCall {
    record: CallRecord,
    stage: Stage,
    /// Units still working the call plus requests (backup, follow-up) not yet answered.
    outstanding: u8,
    /// Send a free clinician with the police unit (`Route::CoResponse`).
    wants_clinician: bool,
    /// Send police with the care team at once (`Route::CareWithPolice`).
    police_alongside: bool,
    /// Follow up with a care team within this many minutes of the call clearing.
    follow_up_window: Option<f64>,
}

/// An entry of a waiting queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Waiting {
    priority: u8,
    order: u64,
    slot: u32,
    call_id: u64,
    job: Job,
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

struct Engine<'a, O: ?Sized> {
    scenario: &'a Scenario,
    policy: &'a dyn Policy,
    observer: &'a mut O,
    horizon: f64,
    warmup: f64,
    /// Also accumulate busy and on-duty time by hour of day.
    hourly: bool,
    now: f64,
    next_seq: u64,
    events: BinaryHeap<Event>,
    units: Vec<Unit>,
    /// Global unit id of each pool's first unit.
    pool_first_unit: Vec<u32>,
    pools_of_kind: [Vec<usize>; KINDS],
    free: FreeUnits,
    free_by_kind: [u32; KINDS],
    /// Units on duty by schedule (not counting those finishing a call after their shift).
    scheduled_by_kind: [u32; KINDS],
    calls: Vec<Option<ActiveCall>>,
    free_slots: Vec<u32>,
    queues: [BinaryHeap<Waiting>; KINDS],
    on_scene: Vec<[Sampler; 2]>,
    /// Call length of each pool whose units work by phone (counsellors).
    call_minutes: Vec<Option<Sampler>>,
    travel_factor: Sampler,
    /// For each call zone, the zones units may come from, nearest first.
    zone_order: Vec<Vec<usize>>,
    totals: FleetTotals,
}

impl<'a, O: Observer + ?Sized> Engine<'a, O> {
    fn new(scenario: &'a Scenario, policy: &'a dyn Policy, observer: &'a mut O) -> Self {
        let zones = scenario.zones.len();
        let mut units = Vec::new();
        let mut pool_first_unit = Vec::with_capacity(scenario.pools.len());
        let mut pools_of_kind: [Vec<usize>; KINDS] = Default::default();
        for (p, pool) in scenario.pools.iter().enumerate() {
            pool_first_unit.push(units.len() as u32);
            pools_of_kind[pool.kind.index()].push(p);
            for i in 0..pool.count {
                let home = pool.home_zone(i);
                units.push(Unit {
                    pool: p as u16,
                    index_in_pool: i,
                    kind: pool.kind,
                    home,
                    zone: home,
                    state: UnitState::OffDuty,
                    active_blocks: 0,
                    busy_since: 0.0,
                    duty_since: 0.0,
                    call_slot: u32::MAX,
                });
            }
        }
        let zone_order = (0..zones)
            .map(|to| {
                let mut from: Vec<usize> = (0..zones).collect();
                from.sort_by(|&a, &b| {
                    let ta = scenario
                        .travel
                        .mean_minutes(ZoneId(a as u16), ZoneId(to as u16));
                    let tb = scenario
                        .travel
                        .mean_minutes(ZoneId(b as u16), ZoneId(to as u16));
                    ta.total_cmp(&tb).then(a.cmp(&b))
                });
                from
            })
            .collect();
        let pool_sizes: Vec<u32> = scenario.pools.iter().map(|p| p.count).collect();
        Self {
            scenario,
            policy,
            observer,
            horizon: scenario.horizon_minutes(),
            warmup: scenario.warmup_minutes(),
            hourly: scenario.report_hourly,
            now: 0.0,
            next_seq: 0,
            events: BinaryHeap::with_capacity(units.len() * 2 + 64),
            units,
            pool_first_unit,
            pools_of_kind,
            free: FreeUnits::new(&pool_sizes, zones),
            free_by_kind: [0; KINDS],
            scheduled_by_kind: [0; KINDS],
            calls: Vec::with_capacity(256),
            free_slots: Vec::with_capacity(256),
            queues: Default::default(),
            on_scene: scenario.on_scene_samplers(),
            call_minutes: scenario
                .pools
                .iter()
                .map(|p| p.call_minutes.as_ref().map(|d| d.sampler()))
                .collect(),
            travel_factor: scenario.travel.variation.factor_sampler(scenario.travel.cv),
            zone_order,
            totals: FleetTotals {
                pools: vec![PoolTotals::default(); scenario.pools.len()],
                police_minutes_on_eligible: 0.0,
            },
        }
    }

    /// Tells the observer a unit changed state (a no-op unless the observer logs units).
    #[inline]
    fn unit_event(
        &mut self,
        unit: u32,
        kind: UnitEventKind,
        time: f64,
        zone: ZoneId,
        call_id: Option<u64>,
    ) {
        let pool = PoolId(self.units[unit as usize].pool);
        self.observer.on_unit_event(&UnitEvent {
            time_minutes: time,
            unit: UnitId(unit),
            pool,
            zone,
            call_id,
            kind,
        });
    }

    fn schedule(&mut self, time: f64, kind: EventKind) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.events.push(Event::new(time, seq, kind));
    }

    /// Moves the clock forward (never back).
    #[inline]
    fn advance_to(&mut self, time: f64) {
        debug_assert!(
            time >= self.now,
            "time went backwards: {time} < {}",
            self.now
        );
        self.now = time;
    }

    fn take_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    fn handle(&mut self, kind: EventKind) {
        match kind {
            EventKind::UnitClears { unit } => self.unit_clears(unit),
            EventKind::BackupRequested { slot, .. } => {
                self.request_police(slot, Job::Backup);
            }
            EventKind::CareWaitExpired { slot, call_id } => {
                if let Some(active) = self.calls[slot as usize].as_mut()
                    && active.record.call.id == call_id
                    && active.stage == Stage::WaitingCare
                {
                    active.stage = Stage::WaitingPolice;
                    self.escalate(slot, Escalation::NoCareTeam);
                }
            }
            EventKind::FollowUpExpired { slot, call_id } => {
                if let Some(active) = self.calls[slot as usize].as_mut()
                    && active.record.call.id == call_id
                    && active.stage == Stage::WaitingFollowUp
                {
                    active.record.follow_up_missed = true;
                    active.stage = Stage::Assigned;
                    active.outstanding -= 1;
                    if active.outstanding == 0 {
                        self.end_call(slot, None);
                    }
                }
            }
            EventKind::UnitHome { unit } => {
                let u = &mut self.units[unit as usize];
                u.zone = u.home;
                let home = u.home;
                self.unit_event(unit, UnitEventKind::Returned, self.now, home, None);
                let u = &self.units[unit as usize];
                let (since, pool) = (u.busy_since, u.pool as usize);
                let (now, warmup, horizon) = (self.now, self.warmup, self.horizon);
                self.totals.pools[pool].add_busy(since, now, warmup, horizon, self.hourly);
                self.release(unit);
            }
            EventKind::ShiftStart { pool, block, day } => self.shift_start(pool, block, day),
            EventKind::ShiftEnd { pool, block } => self.shift_end(pool, block),
        }
    }

    // ---- arrivals and routing ------------------------------------------------------------

    fn system_view(&self) -> SystemView {
        SystemView {
            free_units: self.free_by_kind,
            on_duty_units: self.scheduled_by_kind,
        }
    }

    fn arrive(&mut self, call: Call) {
        let call_type = &self.scenario.call_types[usize::from(call.call_type.0)];
        let routing = self.policy.route(
            &CallContext {
                call: &call,
                call_type,
            },
            &self.system_view(),
        );
        let slot = self.insert_call(ActiveCall {
            record: CallRecord {
                call,
                priority: call_type.priority,
                care_eligible: call_type.care_eligible,
                triaged_eligible: routing.triaged_eligible,
                routed_to_care: routing.route.is_care(),
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
            },
            stage: Stage::WaitingPolice,
            outstanding: 0,
            wants_clinician: false,
            police_alongside: false,
            follow_up_window: routing.follow_up_within_minutes,
        });
        self.start_route(slot, routing.route);
    }

    /// Carries out a route for the call in `slot`.
    #[inline(always)]
    fn start_route(&mut self, slot: u32, route: Route) {
        // Read where the call is only on the routes that need it: police routes read it in
        // `request_police`, and they are most calls.
        let place = |engine: &Self| {
            let record = &engine.call(slot).record;
            (record.call.zone, record.priority, record.call.id)
        };
        match route {
            Route::Police => self.request_police(slot, Job::Primary),
            Route::CoResponse => {
                self.call_mut(slot).wants_clinician = true;
                self.request_police(slot, Job::Primary);
            }
            Route::Care { max_wait_minutes } | Route::CareWithPolice { max_wait_minutes } => {
                let (zone, priority, call_id) = place(self);
                self.call_mut(slot).police_alongside =
                    matches!(route, Route::CareWithPolice { .. });
                let care = ResponderKind::Care.index();
                if let Some(unit) = self.nearest_free(ResponderKind::Care, zone) {
                    self.dispatch(unit, slot, Job::Primary);
                } else if self.scheduled_by_kind[care] > 0 && max_wait_minutes > 0.0 {
                    self.call_mut(slot).stage = Stage::WaitingCare;
                    self.queues[care].push(Waiting {
                        priority,
                        order: call_id,
                        slot,
                        call_id,
                        job: Job::Primary,
                    });
                    self.schedule(
                        self.now + max_wait_minutes,
                        EventKind::CareWaitExpired { slot, call_id },
                    );
                } else {
                    self.escalate(slot, Escalation::NoCareTeam);
                }
            }
            Route::Phone => match self.nearest_free(ResponderKind::Counsellor, place(self).0) {
                Some(unit) => self.dispatch(unit, slot, Job::Primary),
                None => self.escalate(slot, Escalation::LineBusy),
            },
        }
    }

    /// Asks the policy where a call goes when its route failed, and sends it there.
    fn escalate(&mut self, slot: u32, why: Escalation) {
        let call = self.call(slot).record.call;
        let call_type = &self.scenario.call_types[usize::from(call.call_type.0)];
        let asked = self.policy.escalate(
            &CallContext {
                call: &call,
                call_type,
            },
            why,
            &self.system_view(),
        );
        // An answer that would fail the same way again goes to police.
        let route = match (why, asked) {
            (Escalation::LineBusy, Route::Phone)
            | (Escalation::NoCareTeam, Route::Care { .. } | Route::CareWithPolice { .. }) => {
                Route::Police
            }
            (_, route) => route,
        };
        let active = self.call_mut(slot);
        match why {
            Escalation::NoCareTeam => {
                active.record.overflowed_to_police = true;
                active.police_alongside = false;
            }
            Escalation::LineBusy => {
                active.record.routed_to_care = route.is_care();
            }
        }
        self.start_route(slot, route);
    }

    /// Sends the nearest free police unit, or queues the job.
    fn request_police(&mut self, slot: u32, job: Job) {
        let police = ResponderKind::Police;
        // Read the three fields needed, not a copy of the whole record.
        let (zone, call_id, call_priority) = {
            let record = &self.call(slot).record;
            (record.call.zone, record.call.id, record.priority)
        };
        if let Some(unit) = self.nearest_free(police, zone) {
            self.dispatch(unit, slot, job);
            return;
        }
        let (priority, order) = match job {
            Job::Primary => (call_priority, call_id),
            Job::Backup | Job::FollowUp => (BACKUP_PRIORITY, self.take_seq()),
        };
        if job == Job::Primary {
            self.call_mut(slot).stage = Stage::WaitingPolice;
        }
        self.queues[police.index()].push(Waiting {
            priority,
            order,
            slot,
            call_id,
            job,
        });
    }

    /// The free unit of `kind` with the shortest mean travel time to `zone`.
    fn nearest_free(&self, kind: ResponderKind, zone: ZoneId) -> Option<u32> {
        if self.free_by_kind[kind.index()] == 0 {
            return None;
        }
        let pools = &self.pools_of_kind[kind.index()];
        for &from in &self.zone_order[usize::from(zone.0)] {
            for &pool in pools {
                if let Some(index) = self.free.first(pool, from) {
                    return Some(self.pool_first_unit[pool] + index);
                }
            }
        }
        None
    }

    /// Sends `unit` (free or just released) to the call in `slot`.
    fn dispatch(&mut self, unit: u32, slot: u32, job: Job) {
        let now = self.now;
        let (kind, from, pool) = {
            let u = &self.units[unit as usize];
            (u.kind, u.zone, u.pool)
        };
        if self.units[unit as usize].state == UnitState::Free {
            self.take_from_free(unit);
        }
        let call = self.call(slot).record.call;
        let type_index = usize::from(call.call_type.0);

        let mean_travel = self.scenario.travel.mean_minutes(from, call.zone);
        let travel_purpose = match job {
            Job::Primary => Purpose::TravelPrimary,
            Job::Backup => Purpose::TravelBackup,
            Job::FollowUp => Purpose::TravelFollowUp,
        };
        let (travel, service) = if kind == ResponderKind::Counsellor {
            // A crisis-line call: answered at once, no scene, the pool's call length.
            (0.0, self.phone_call_minutes(pool, &call))
        } else {
            let travel = mean_travel * draw(&self.travel_factor, call.draw_key, travel_purpose);
            let on_scene_purpose = match (kind, job) {
                (ResponderKind::Care, Job::FollowUp) => Purpose::OnSceneFollowUp,
                (ResponderKind::Care, _) => Purpose::OnSceneCare,
                _ => Purpose::OnScenePolice,
            };
            // Call types give on-scene times for police (index 0) and care teams (index 1).
            let scene = usize::from(kind == ResponderKind::Care);
            let service = draw(
                &self.on_scene[type_index][scene],
                call.draw_key,
                on_scene_purpose,
            );
            (travel, service)
        };
        let on_scene = now + travel;
        let mut clear = on_scene + service;
        // Co-response: the nearest free clinician goes too; the visit starts when both are
        // there, and both stay until it ends.
        // (Free clinicians are checked first: the cheapest test, false in most scenarios.)
        let companion = if self.free_by_kind[ResponderKind::Clinician.index()] > 0
            && kind == ResponderKind::Police
            && job == Job::Primary
            && self.call(slot).wants_clinician
        {
            self.pick_companion(&call).map(|(clinician, arrives)| {
                clear = on_scene.max(arrives) + service;
                (clinician, arrives)
            })
        } else {
            None
        };

        self.send_unit(unit, slot, &call, from, on_scene, clear);

        let assignment = Assignment {
            unit: UnitId(unit),
            pool: PoolId(pool),
            kind,
            dispatched_minutes: now,
            on_scene_minutes: on_scene,
            cleared_minutes: clear,
        };
        let care_backup = self.scenario.call_types[type_index].care_backup;
        let active = self.call_mut(slot);
        match job {
            Job::Primary => {
                active.record.primary = Some(assignment);
                active.stage = Stage::Assigned;
                active.outstanding += 1;
                if kind == ResponderKind::Care && active.police_alongside {
                    // Police are sent with the team at once, not asked for from the scene.
                    active.record.backup_requested = true;
                    active.outstanding += 1;
                    self.schedule(
                        now,
                        EventKind::BackupRequested {
                            slot,
                            call_id: call.id,
                        },
                    );
                } else if kind == ResponderKind::Care
                    && (!active.record.care_eligible
                        || call.uniform(Purpose::CareBackup) < care_backup)
                {
                    active.record.backup_requested = true;
                    active.outstanding += 1;
                    self.schedule(
                        on_scene,
                        EventKind::BackupRequested {
                            slot,
                            call_id: call.id,
                        },
                    );
                }
            }
            // The backup request already counts as outstanding; the unit now carries it.
            Job::Backup => active.record.backup = Some(assignment),
            // Likewise the follow-up request.
            Job::FollowUp => {
                active.record.follow_up = Some(assignment);
                active.stage = Stage::Assigned;
            }
        }
        if let Some((clinician, arrives)) = companion {
            self.send_companion(clinician, slot, arrives, clear);
        }
    }

    /// How long a crisis-line call takes a counsellor of `pool`.
    #[inline(never)]
    fn phone_call_minutes(&self, pool: u16, call: &Call) -> f64 {
        self.call_minutes[usize::from(pool)]
            .as_ref()
            .map_or(0.0, |sampler| {
                draw(sampler, call.draw_key, Purpose::PhoneMinutes)
            })
    }

    /// Marks a unit as on its way to the call in `slot` (from `from`, there at `on_scene`,
    /// clear at `clear`), tells the observer, and schedules the clear.
    #[inline]
    fn send_unit(
        &mut self,
        unit: u32,
        slot: u32,
        call: &Call,
        from: ZoneId,
        on_scene: f64,
        clear: f64,
    ) {
        let now = self.now;
        self.unit_event(unit, UnitEventKind::Dispatched, now, from, Some(call.id));
        self.unit_event(
            unit,
            UnitEventKind::OnScene,
            on_scene,
            call.zone,
            Some(call.id),
        );
        let u = &mut self.units[unit as usize];
        u.state = UnitState::OnCall;
        u.busy_since = now;
        u.zone = call.zone;
        u.call_slot = slot;
        self.schedule(clear, EventKind::UnitClears { unit });
    }

    /// The nearest free clinician for a co-response, and when it would arrive.
    #[inline(never)]
    fn pick_companion(&self, call: &Call) -> Option<(u32, f64)> {
        let clinician = self.nearest_free(ResponderKind::Clinician, call.zone)?;
        let from = self.units[clinician as usize].zone;
        let travel = self.scenario.travel.mean_minutes(from, call.zone)
            * draw(&self.travel_factor, call.draw_key, Purpose::TravelCompanion);
        Some((clinician, self.now + travel))
    }

    /// Sends a free clinician with the police unit: on scene at `arrives`, clear at `clear`.
    fn send_companion(&mut self, clinician: u32, slot: u32, arrives: f64, clear: f64) {
        let now = self.now;
        self.take_from_free(clinician);
        let call = self.call(slot).record.call;
        let (from, pool) = {
            let u = &self.units[clinician as usize];
            (u.zone, u.pool)
        };
        self.send_unit(clinician, slot, &call, from, arrives, clear);
        let active = self.call_mut(slot);
        active.outstanding += 1;
        active.record.companion = Some(Assignment {
            unit: UnitId(clinician),
            pool: PoolId(pool),
            kind: ResponderKind::Clinician,
            dispatched_minutes: now,
            on_scene_minutes: arrives,
            cleared_minutes: clear,
        });
    }

    /// The call's units have cleared: send a care team to follow up, or queue the visit until
    /// the window closes.
    fn request_follow_up(&mut self, slot: u32, window: f64) {
        let (zone, call_id) = {
            let active = self.call_mut(slot);
            active.follow_up_window = None;
            active.outstanding += 1;
            (active.record.call.zone, active.record.call.id)
        };
        if let Some(unit) = self.nearest_free(ResponderKind::Care, zone) {
            self.dispatch(unit, slot, Job::FollowUp);
            return;
        }
        self.call_mut(slot).stage = Stage::WaitingFollowUp;
        let order = self.take_seq();
        self.queues[ResponderKind::Care.index()].push(Waiting {
            priority: FOLLOW_UP_PRIORITY,
            order,
            slot,
            call_id,
            job: Job::FollowUp,
        });
        self.schedule(
            self.now + window,
            EventKind::FollowUpExpired { slot, call_id },
        );
    }

    // ---- units becoming free -------------------------------------------------------------

    fn unit_clears(&mut self, unit: u32) {
        let (slot, since, pool, kind, zone) = {
            let u = &self.units[unit as usize];
            (u.call_slot, u.busy_since, u.pool as usize, u.kind, u.zone)
        };
        let call_id = self.call(slot).record.call.id;
        self.unit_event(unit, UnitEventKind::Cleared, self.now, zone, Some(call_id));
        let (now, warmup, horizon) = (self.now, self.warmup, self.horizon);
        let busy = self.totals.pools[pool].add_busy(since, now, warmup, horizon, self.hourly);
        if kind == ResponderKind::Police && self.call(slot).record.care_eligible {
            self.totals.police_minutes_on_eligible += busy;
        }
        let now = self.now;
        let active = self.call_mut(slot);
        active.outstanding -= 1;
        if active.outstanding == 0 {
            active.record.cleared_minutes.get_or_insert(now);
            match active.follow_up_window {
                Some(window) => self.request_follow_up(slot, window),
                None => self.end_call(slot, None),
            }
        }
        let u = &mut self.units[unit as usize];
        u.call_slot = u32::MAX;
        let pool_spec = &self.scenario.pools[pool];
        if u.active_blocks > 0 && pool_spec.after_clear == AfterClear::Return && u.zone != u.home {
            u.state = UnitState::Returning;
            u.busy_since = self.now;
            let back = self.now + self.scenario.travel.mean_minutes(u.zone, u.home);
            self.schedule(back, EventKind::UnitHome { unit });
        } else {
            self.release(unit);
        }
    }

    /// A unit done with work: off duty if its shift is over, else available.
    fn release(&mut self, unit: u32) {
        if self.units[unit as usize].active_blocks == 0 {
            self.go_off_duty(unit);
        } else {
            self.make_available(unit);
        }
    }

    /// Gives the unit the head of its kind's queue, or marks it free.
    fn make_available(&mut self, unit: u32) {
        let kind = self.units[unit as usize].kind;
        while let Some(waiting) = self.queues[kind.index()].pop() {
            let valid = self.calls[waiting.slot as usize].is_some_and(|active| {
                active.record.call.id == waiting.call_id
                    && match (waiting.job, kind) {
                        (Job::Primary, ResponderKind::Care) => active.stage == Stage::WaitingCare,
                        (Job::Primary, _) => active.stage == Stage::WaitingPolice,
                        (Job::FollowUp, _) => active.stage == Stage::WaitingFollowUp,
                        (Job::Backup, _) => true,
                    }
            });
            if valid {
                // Not in the free set: mark it taken so `dispatch` does not remove it from there.
                self.units[unit as usize].state = UnitState::OnCall;
                self.dispatch(unit, waiting.slot, waiting.job);
                return;
            }
        }
        let u = &mut self.units[unit as usize];
        u.state = UnitState::Free;
        let (pool, zone, index) = (u.pool as usize, usize::from(u.zone.0), u.index_in_pool);
        self.free.insert(pool, zone, index);
        self.free_by_kind[kind.index()] += 1;
    }

    fn take_from_free(&mut self, unit: u32) {
        let u = &self.units[unit as usize];
        self.free
            .remove(u.pool as usize, usize::from(u.zone.0), u.index_in_pool);
        self.free_by_kind[u.kind.index()] -= 1;
    }

    fn go_off_duty(&mut self, unit: u32) {
        let zone = self.units[unit as usize].zone;
        self.unit_event(unit, UnitEventKind::OffShift, self.now, zone, None);
        let since = self.units[unit as usize].duty_since;
        let pool = self.units[unit as usize].pool as usize;
        let (now, warmup, horizon) = (self.now, self.warmup, self.horizon);
        self.totals.pools[pool].add_on_duty(since, now, warmup, horizon, self.hourly);
        self.units[unit as usize].state = UnitState::OffDuty;
    }

    // ---- shifts --------------------------------------------------------------------------

    fn start_shifts(&mut self) {
        for (p, pool) in self.scenario.pools.iter().enumerate() {
            if pool.shifts.is_empty() {
                let first = self.pool_first_unit[p];
                for unit in first..first + pool.count {
                    self.units[unit as usize].active_blocks = 1;
                    self.come_on_duty(unit);
                }
                continue;
            }
            for (b, block) in pool.shifts.iter().enumerate() {
                // Start from the day before, so a block running past midnight into day 0 is on.
                let Some(day) = self.next_shift_day(p, b, -2) else {
                    continue;
                };
                let start = day as f64 * MINUTES_PER_DAY + block.start_minute_of_day;
                let day = if start + block.length_minutes <= 0.0 {
                    match self.next_shift_day(p, b, day) {
                        Some(next) => next,
                        None => continue,
                    }
                } else {
                    day
                };
                let start = day as f64 * MINUTES_PER_DAY + block.start_minute_of_day;
                self.schedule(
                    start.max(0.0),
                    EventKind::ShiftStart {
                        pool: p as u16,
                        block: b as u16,
                        day,
                    },
                );
            }
        }
    }

    /// The first day after `after` on which block `b` of pool `p` works.
    fn next_shift_day(&self, p: usize, b: usize, after: i64) -> Option<i64> {
        let block = &self.scenario.pools[p].shifts[b];
        (after + 1..after + 8).find(|&day| block.days[self.scenario.weekday_of_day(day)])
    }

    fn shift_start(&mut self, pool: u16, block: u16, day: i64) {
        let (p, b) = (usize::from(pool), usize::from(block));
        let spec = &self.scenario.pools[p].shifts[b];
        let (start_minute, length, count) =
            (spec.start_minute_of_day, spec.length_minutes, spec.count);
        // Schedule the next start before this end: when blocks chain (24 h), the next start
        // runs first at the shared instant, so units stay on duty without a gap.
        if let Some(next_day) = self.next_shift_day(p, b, day) {
            let next = next_day as f64 * MINUTES_PER_DAY + start_minute;
            if next < self.horizon {
                self.schedule(
                    next,
                    EventKind::ShiftStart {
                        pool,
                        block,
                        day: next_day,
                    },
                );
            }
        }
        let end = day as f64 * MINUTES_PER_DAY + start_minute + length;
        if end < self.horizon {
            self.schedule(end, EventKind::ShiftEnd { pool, block });
        }
        let first = self.pool_first_unit[p];
        for unit in first..first + count {
            let u = &mut self.units[unit as usize];
            u.active_blocks += 1;
            if u.active_blocks == 1 {
                self.come_on_duty(unit);
            }
        }
    }

    fn come_on_duty(&mut self, unit: u32) {
        let u = &mut self.units[unit as usize];
        self.scheduled_by_kind[u.kind.index()] += 1;
        // A unit still finishing a call from its last shift just carries on.
        if u.state == UnitState::OffDuty {
            u.zone = u.home;
            u.duty_since = self.now;
            let home = u.home;
            self.unit_event(unit, UnitEventKind::OnShift, self.now, home, None);
            self.make_available(unit);
        }
    }

    fn shift_end(&mut self, pool: u16, block: u16) {
        let p = usize::from(pool);
        let count = self.scenario.pools[p].shifts[usize::from(block)].count;
        let first = self.pool_first_unit[p];
        for unit in first..first + count {
            let u = &mut self.units[unit as usize];
            u.active_blocks -= 1;
            if u.active_blocks > 0 {
                continue;
            }
            self.scheduled_by_kind[u.kind.index()] -= 1;
            if u.state == UnitState::Free {
                self.take_from_free(unit);
                self.go_off_duty(unit);
            }
        }
    }

    // ---- calls ---------------------------------------------------------------------------

    fn insert_call(&mut self, active: ActiveCall) -> u32 {
        match self.free_slots.pop() {
            Some(slot) => {
                self.calls[slot as usize] = Some(active);
                slot
            }
            None => {
                self.calls.push(Some(active));
                (self.calls.len() - 1) as u32
            }
        }
    }

    fn call(&self, slot: u32) -> &ActiveCall {
        self.calls[slot as usize]
            .as_ref()
            .expect("slot of a live call")
    }

    fn call_mut(&mut self, slot: u32) -> &mut ActiveCall {
        self.calls[slot as usize]
            .as_mut()
            .expect("slot of a live call")
    }

    /// Draws the outcomes, reports the record and frees the slot. `cleared` (when the last unit
    /// cleared) is already in the record for a finished call; `None` here keeps it.
    fn end_call(&mut self, slot: u32, cleared: Option<f64>) {
        // Finish the record where it lies and report it from there: no copy of the record.
        let Some(active) = self.calls[slot as usize].as_mut() else {
            return;
        };
        let record = &mut active.record;
        if cleared.is_some() {
            record.cleared_minutes = cleared;
        }
        let served = record
            .primary
            .is_some_and(|p| p.on_scene_minutes < self.horizon);
        record.unserved_at_horizon = !served;
        // Resolved by phone: nobody went, so nothing happened at a scene.
        if served && record.responder() != Some(ResponderKind::Counsellor) {
            let police_on_scene = record.responder() == Some(ResponderKind::Police)
                || record
                    .backup
                    .is_some_and(|b| b.on_scene_minutes < self.horizon);
            let kind = if police_on_scene {
                ResponderKind::Police
            } else {
                ResponderKind::Care
            };
            let p = &self.scenario.call_types[usize::from(record.call.call_type.0)].outcomes
                [kind.index()];
            // A zero probability needs no draw (u < 0 never holds): same result, less work.
            let call = record.call;
            let happens = |p: f64, purpose| p > 0.0 && call.uniform(purpose) < p;
            let arrest_draw = if p.arrest > 0.0 {
                call.uniform(Purpose::Arrest)
            } else {
                1.0
            };
            record.outcomes = Outcomes {
                arrest: arrest_draw < p.arrest,
                booking: arrest_draw < p.booking,
                force: happens(p.force, Purpose::Force),
                injury: happens(p.injury, Purpose::Injury),
                er_transport: happens(p.er_transport, Purpose::ErTransport),
            };
        }
        self.observer.on_call(record);
        self.calls[slot as usize] = None;
        self.free_slots.push(slot);
    }

    /// Closes the books at the horizon: work under way counts up to it; open calls are
    /// reported (unserved if no unit reached them).
    fn finish(mut self) -> FleetTotals {
        let (warmup, horizon, hourly) = (self.warmup, self.horizon, self.hourly);
        for unit in 0..self.units.len() {
            let u = &self.units[unit];
            let pool = u.pool as usize;
            if u.state != UnitState::OffDuty {
                self.totals.pools[pool].add_on_duty(u.duty_since, horizon, warmup, horizon, hourly);
            }
            if matches!(u.state, UnitState::OnCall | UnitState::Returning) {
                let busy = self.totals.pools[pool].add_busy(
                    u.busy_since,
                    horizon,
                    warmup,
                    horizon,
                    hourly,
                );
                if u.state == UnitState::OnCall
                    && u.kind == ResponderKind::Police
                    && self.call(u.call_slot).record.care_eligible
                {
                    self.totals.police_minutes_on_eligible += busy;
                }
            }
        }
        for slot in 0..self.calls.len() as u32 {
            self.end_call(slot, None);
        }
        self.totals
    }
}

#[cfg(test)]
mod tests;
