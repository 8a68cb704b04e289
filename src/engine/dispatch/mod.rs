//! The dispatch model: a [`Model`] of the event core that takes each call from arrival to its
//! last unit clearing. It asks the policy where the call goes and which unit goes, and leaves
//! each other job to a component with one file of its own:
//!
//! | file | its job |
//! |---|---|
//! | [`fleet`] | units, their state and zone, the free set, shift rules |
//! | [`queues`] | the waiting queues by kind: priority, then arrival; backup first, follow-ups last |
//! | [`routing`] | zones nearest first, and the [`FleetView`] a policy picks a unit from |
//! | [`service`] | travel, on-scene and phone times, drawn from the call's own key |
//! | [`outcomes`] | what happens to the person, drawn with the responding kind's probabilities |
//! | [`accounting`] | busy and on-duty time per pool within the measurement window |
//! | [`facilities`] | beds of receiving facilities, admissions, turn-aways, occupancy |
//! | [`active`] | the open calls, in reusable slots |
//!
//! What this file keeps is the order of things: a route starts, fails and escalates; a unit is
//! sent, clears, returns to base or takes the head of its queue; a shift starts or ends.

mod accounting;
mod active;
mod facilities;
mod fleet;
mod free_units;
pub(crate) mod outcomes;
pub(crate) mod queues;
pub(crate) mod routing;
mod service;

use accounting::{Accounting, OpenSpells};
use active::{ActiveCalls, Stage};
use facilities::Facilities;
use fleet::{Fleet, Trip, UnitState};
use queues::{BACKUP_PRIORITY, FOLLOW_UP_PRIORITY, Job, Waiting, WaitingQueues};
use routing::{FleetView, ZoneOrder};
use service::ServiceTimes;

use super::core::{EventQueue, Model, Time};
use super::record::{Assignment, CallRecord, FleetTotals, Observer, UnitEvent, UnitEventKind};
use crate::calls::Call;
use crate::calls::rng::Purpose;
use crate::policy::{
    CallContext, Escalation, Policy, Route, Routing, SystemView, UnitChooser, UnitRequest,
};
use crate::scenario::{
    CallType, OutcomeProbabilities, PoolId, ResponderKind, Scenario, UnitId, ZoneId,
};

/// Something that will happen at a known time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Event {
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
    /// A unit taking a person somewhere reaches the facility its trip is headed for.
    AtFacility { unit: u32 },
    /// A person's stay at a facility with a bed limit ends: a bed is free. (Stays at
    /// unlimited facilities need no event: `Facilities::hold`.)
    BedFrees { facility: u16 },
    /// The dispatcher has taken the call (`[dispatch_delay]`): it can be routed now.
    Processed { slot: u32, call_id: u64 },
}

/// An [`Event`] as the queue holds it: one 128-bit integer (tag, a 32-bit field, a 64-bit
/// field). The enum's own layout, a 2-byte tag then 14 bytes of fields, is copied in pieces
/// that straddle each other, and the CPU stalls on a load that straddles two stores still in
/// flight: on every event, in `perf annotate` (BENCHMARKS.md, issue #18). An integer moves as
/// two whole words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PackedEvent(u128);

impl Event {
    #[inline(always)]
    fn packed(self) -> PackedEvent {
        let (tag, small, wide): (u8, u32, u64) = match self {
            Event::UnitClears { unit } => (0, unit, 0),
            Event::BackupRequested { slot, call_id } => (1, slot, call_id),
            Event::CareWaitExpired { slot, call_id } => (2, slot, call_id),
            Event::FollowUpExpired { slot, call_id } => (3, slot, call_id),
            Event::UnitHome { unit } => (4, unit, 0),
            Event::ShiftStart { pool, block, day } => {
                (5, u32::from(pool) << 16 | u32::from(block), day as u64)
            }
            Event::ShiftEnd { pool, block } => (6, u32::from(pool) << 16 | u32::from(block), 0),
            Event::AtFacility { unit } => (7, unit, 0),
            Event::BedFrees { facility } => (8, u32::from(facility), 0),
            Event::Processed { slot, call_id } => (9, slot, call_id),
        };
        PackedEvent(u128::from(wide) << 64 | u128::from(small) << 8 | u128::from(tag))
    }
}

impl PackedEvent {
    #[inline(always)]
    fn unpacked(self) -> Event {
        let (tag, small, wide) = (self.0 as u8, (self.0 >> 8) as u32, (self.0 >> 64) as u64);
        let (pool, block) = ((small >> 16) as u16, small as u16);
        match tag {
            0 => Event::UnitClears { unit: small },
            1 => Event::BackupRequested {
                slot: small,
                call_id: wide,
            },
            2 => Event::CareWaitExpired {
                slot: small,
                call_id: wide,
            },
            3 => Event::FollowUpExpired {
                slot: small,
                call_id: wide,
            },
            4 => Event::UnitHome { unit: small },
            5 => Event::ShiftStart {
                pool,
                block,
                day: wide as i64,
            },
            6 => Event::ShiftEnd { pool, block },
            7 => Event::AtFacility { unit: small },
            8 => Event::BedFrees {
                facility: small as u16,
            },
            9 => Event::Processed {
                slot: small,
                call_id: wide,
            },
            _ => unreachable!("no event has tag {tag}: packed events come from Event::packed"),
        }
    }
}

/// Asks a policy's own unit chooser (kept out of line: the built-in policies have none).
#[inline(never)]
fn ask_chooser(
    chooser: &dyn UnitChooser,
    kind: ResponderKind,
    record: &CallRecord,
    job: Job,
    fleet: &FleetView<'_>,
) -> Option<UnitId> {
    let request = UnitRequest {
        kind,
        call: &record.call,
        priority: record.priority,
        job,
    };
    chooser.choose_unit(&request, fleet)
}

/// One replication's dispatch: the fleet, the open calls and the queues under one policy.
pub struct Dispatch<'a, O: ?Sized> {
    scenario: &'a Scenario,
    policy: &'a dyn Policy,
    /// The policy's own choice of units; `None`: the nearest free unit.
    chooser: Option<&'a dyn UnitChooser>,
    observer: &'a mut O,
    pub(super) horizon: f64,
    pub(super) events: EventQueue<PackedEvent>,
    fleet: Fleet,
    zones: ZoneOrder,
    calls: ActiveCalls,
    queues: WaitingQueues,
    service: ServiceTimes<'a>,
    books: Accounting,
    facilities: Facilities,
    /// Outcomes can keep a unit after the scene (outcome time or facilities): only then is
    /// each last clear checked for it, so other scenarios keep the path they always had.
    after_scene_work: bool,
    /// The policy's own treatment list, overriding the scenario's and the call types'.
    policy_treatment: Option<&'a [u16]>,
    /// Some call type has an outcome with a probability above zero: only then are a call's
    /// outcomes drawn when it ends (else every draw would come out "nothing happened").
    draws_outcomes: bool,
}

impl<O: Observer + ?Sized> Model for Dispatch<'_, O> {
    type Event = PackedEvent;

    #[inline(always)]
    fn events(&mut self) -> &mut EventQueue<PackedEvent> {
        &mut self.events
    }

    fn handle(&mut self, event: PackedEvent) {
        match event.unpacked() {
            Event::UnitClears { unit } => self.unit_clears(unit),
            Event::BackupRequested { slot, .. } => self.request_police(slot, Job::Backup),
            Event::CareWaitExpired { slot, call_id } => {
                if let Some(active) = self.calls.find_mut(slot, call_id)
                    && active.stage == Stage::WaitingCare
                {
                    active.stage = Stage::WaitingPolice;
                    self.escalate(slot, Escalation::NoCareTeam);
                }
            }
            Event::FollowUpExpired { slot, call_id } => {
                if let Some(active) = self.calls.find_mut(slot, call_id)
                    && active.stage == Stage::WaitingFollowUp
                {
                    active.record.follow_up_missed = true;
                    active.stage = Stage::Assigned;
                    active.outstanding -= 1;
                    if active.outstanding == 0 {
                        self.end_call(slot);
                    }
                }
            }
            Event::UnitHome { unit } => {
                let u = self.fleet.unit_mut(unit);
                u.zone = u.home;
                let (home, since) = (u.home, u.busy_since);
                let now = self.now();
                self.unit_event(unit, UnitEventKind::Returned, (since, now), home, None);
                self.release(unit);
            }
            Event::ShiftStart { pool, block, day } => self.shift_start(pool, block, day),
            Event::ShiftEnd { pool, block } => self.shift_end(pool, block),
            Event::AtFacility { unit } => self.at_facility(unit),
            Event::BedFrees { facility } => {
                let now = self.now();
                self.facilities.release(usize::from(facility), now);
            }
            Event::Processed { slot, call_id } => {
                if self.calls.find_mut(slot, call_id).is_some() {
                    self.route_call(slot);
                }
            }
        }
    }
}

impl<'a, O: Observer + ?Sized> Dispatch<'a, O> {
    /// A fleet off duty, with the first shift starts scheduled.
    pub fn new(scenario: &'a Scenario, policy: &'a dyn Policy, observer: &'a mut O) -> Self {
        let fleet = Fleet::new(scenario);
        let mut dispatch = Self {
            scenario,
            policy,
            chooser: policy.unit_chooser(),
            observer,
            horizon: scenario.horizon_minutes(),
            events: EventQueue::with_capacity(fleet.units.len() * 2 + 64),
            fleet,
            zones: ZoneOrder::new(scenario),
            calls: ActiveCalls::with_capacity(256),
            queues: WaitingQueues::default(),
            service: ServiceTimes::new(scenario),
            books: Accounting::new(scenario),
            facilities: Facilities::new(scenario),
            after_scene_work: scenario.outcome_time.iter().any(|t| !t.is_empty())
                || !scenario.facilities.is_empty(),
            policy_treatment: policy.treatment_list(),
            draws_outcomes: scenario
                .call_types
                .iter()
                .flat_map(|t| &t.outcomes)
                .any(|p| *p != OutcomeProbabilities::default()),
        };
        dispatch.start_shifts();
        dispatch
    }

    #[inline(always)]
    fn now(&self) -> f64 {
        self.events.now().value()
    }

    #[inline(always)]
    fn schedule(&mut self, time: f64, event: Event) {
        self.events.schedule(Time::new(time), event.packed());
    }

    /// Books a unit's change of state and tells the observer (a no-op unless it logs units).
    /// `since`: when the spell the event ends began (see [`UnitEvent::since_minutes`]).
    #[inline(always)]
    fn unit_event(
        &mut self,
        unit: u32,
        kind: UnitEventKind,
        (since, time): (f64, f64),
        zone: ZoneId,
        call: Option<(u64, bool)>,
    ) {
        let event = UnitEvent {
            time_minutes: time,
            since_minutes: since,
            unit: UnitId(unit),
            pool: self.fleet.pool_id(unit),
            zone,
            call_id: call.map(|(id, _)| id),
            kind,
            care_eligible_call: call.is_some_and(|(_, eligible)| eligible),
        };
        self.books.record(&event);
        self.observer.on_unit_event(&event);
    }

    fn system_view(&self) -> SystemView {
        SystemView {
            free_units: self.fleet.free_by_kind(),
            on_duty_units: self.fleet.scheduled_by_kind(),
        }
    }

    // ---- arrivals and routes -------------------------------------------------------------

    /// A call arrives (the clock already reads its time): ask the policy, then carry it out;
    /// with `[dispatch_delay]`, once the dispatcher has taken it.
    #[inline(always)]
    pub fn arrive(&mut self, call: Call) {
        if self.service.has_dispatch_delay() {
            self.hold_for_processing(call);
            return;
        }
        let call_type = self.scenario.call_type(call.call_type);
        let routing = self.ask_route(&call, call_type);
        let stage = Stage::WaitingPolice;
        let slot = self
            .calls
            .open_call(&call, call_type.priority, call_type.care_eligible, stage);
        self.follow_routing(slot, routing);
    }

    /// The policy's route for a call.
    #[inline(always)]
    fn ask_route(&self, call: &Call, call_type: &CallType) -> Routing {
        self.policy
            .route(&CallContext { call, call_type }, &self.system_view())
    }

    /// Notes the policy's routing on the call in `slot`, then carries out its route.
    #[inline(always)]
    fn follow_routing(&mut self, slot: u32, routing: Routing) {
        let active = self.calls.get_mut(slot);
        active.record.triaged_eligible = routing.triaged_eligible;
        active.record.routed_to_care = routing.route.is_care();
        active.follow_up_window = routing.follow_up_within_minutes;
        self.start_route(slot, routing.route);
    }

    /// Holds a call for its call-processing time before it is routed (kept out of line: only
    /// scenarios with `[dispatch_delay]` come here).
    #[inline(never)]
    fn hold_for_processing(&mut self, call: Call) {
        let call_type = self.scenario.call_type(call.call_type);
        let priority = call_type.priority;
        let delay = self.service.dispatch_delay_minutes(priority, &call);
        let stage = Stage::Processing;
        let slot = self
            .calls
            .open_call(&call, priority, call_type.care_eligible, stage);
        self.calls.get_mut(slot).record.dispatch_delay_minutes = delay.max(0.0);
        if delay > 0.0 {
            let now = self.now();
            // Each call has one, due within a minute or so: a handful pending at a time.
            self.events.schedule_soon(
                Time::new(now + delay),
                Event::Processed {
                    slot,
                    call_id: call.id,
                }
                .packed(),
            );
        } else {
            self.route_call(slot);
        }
    }

    /// Routes a call the dispatcher has finished taking.
    fn route_call(&mut self, slot: u32) {
        let call = self.calls.get(slot).record.call;
        let call_type = self.scenario.call_type(call.call_type);
        let routing = self.ask_route(&call, call_type);
        self.calls.get_mut(slot).stage = Stage::WaitingPolice;
        self.follow_routing(slot, routing);
    }

    /// Carries out a route for the call in `slot`.
    #[inline(always)]
    fn start_route(&mut self, slot: u32, route: Route) {
        match route {
            Route::Police => self.request_police(slot, Job::Primary),
            Route::CoResponse => {
                self.calls.get_mut(slot).wants_clinician = true;
                self.request_police(slot, Job::Primary);
            }
            Route::Care { max_wait_minutes } | Route::CareWithPolice { max_wait_minutes } => {
                self.calls.get_mut(slot).police_alongside =
                    matches!(route, Route::CareWithPolice { .. });
                let care = ResponderKind::Care;
                if let Some(unit) = self.choose_unit(care, slot, Job::Primary) {
                    self.dispatch(unit, slot, Job::Primary);
                } else if self.fleet.scheduled_count(care) > 0 && max_wait_minutes > 0.0 {
                    let record = &self.calls.get(slot).record;
                    let (priority, call_id) = (record.priority, record.call.id);
                    self.calls.get_mut(slot).stage = Stage::WaitingCare;
                    self.queues.push(
                        care,
                        Waiting {
                            priority,
                            order: call_id,
                            slot,
                            call_id,
                            job: Job::Primary,
                        },
                    );
                    self.schedule(
                        self.now() + max_wait_minutes,
                        Event::CareWaitExpired { slot, call_id },
                    );
                } else {
                    self.escalate(slot, Escalation::NoCareTeam);
                }
            }
            Route::Phone => match self.choose_unit(ResponderKind::Counsellor, slot, Job::Primary) {
                Some(unit) => self.dispatch(unit, slot, Job::Primary),
                None => self.escalate(slot, Escalation::LineBusy),
            },
        }
    }

    /// Asks the policy where a call goes when its route failed, and sends it there.
    fn escalate(&mut self, slot: u32, why: Escalation) {
        let call = self.calls.get(slot).record.call;
        let call_type = self.scenario.call_type(call.call_type);
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
        let active = self.calls.get_mut(slot);
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

    /// Sends a police unit the policy picks, or queues the job.
    // Inlined into its callers: on every call's path, where saving the registers a call
    // needs cost more than the copies of its body (BENCHMARKS.md, issue #18).
    #[inline(always)]
    fn request_police(&mut self, slot: u32, job: Job) {
        let police = ResponderKind::Police;
        if let Some(unit) = self.choose_unit(police, slot, job) {
            self.dispatch(unit, slot, job);
            return;
        }
        let record = &self.calls.get(slot).record;
        let (call_id, call_priority) = (record.call.id, record.priority);
        let (priority, order) = match job {
            Job::Primary => (call_priority, call_id),
            _ => (BACKUP_PRIORITY, self.events.reserve().0),
        };
        if job == Job::Primary {
            self.calls.get_mut(slot).stage = Stage::WaitingPolice;
        }
        self.queues.push(
            police,
            Waiting {
                priority,
                order,
                slot,
                call_id,
                job,
            },
        );
    }

    /// The free unit of `kind` the policy sends to the call in `slot` for `job`, if any. The
    /// policy is not asked when no unit of the kind is free.
    #[inline(always)]
    fn choose_unit(&self, kind: ResponderKind, slot: u32, job: Job) -> Option<u32> {
        if self.fleet.free_count(kind) == 0 {
            return None;
        }
        let record = &self.calls.get(slot).record;
        let fleet = FleetView::new(&self.fleet, &self.zones);
        let unit = match self.chooser {
            None => fleet.nearest_free(kind, record.call.zone)?,
            Some(chooser) => ask_chooser(chooser, kind, record, job, &fleet)?,
        };
        // A policy is code, not input: picking a busy unit or one of another kind is a bug in
        // it (the tests of every policy run with this check on).
        debug_assert!(
            self.fleet.is_free(unit.0) && self.fleet.unit(unit.0).kind == kind,
            "policy {:?} chose unit {} for a {} job, which is not a free {} unit",
            self.policy,
            unit.0,
            kind.as_str(),
            kind.as_str()
        );
        Some(unit.0)
    }

    /// Sends `unit` (free, or just released and marked taken) to the call in `slot`.
    // Inlined into its callers: on every call's path, where saving the registers a call
    // needs cost more than the copies of its body (BENCHMARKS.md, issue #18).
    #[inline(always)]
    fn dispatch(&mut self, unit: u32, slot: u32, job: Job) {
        let now = self.now();
        let (kind, from, pool) = {
            let u = self.fleet.unit(unit);
            (u.kind, u.zone, PoolId(u.pool))
        };
        if self.fleet.unit(unit).state == UnitState::Free {
            self.fleet.take_from_free(unit);
        }
        let (call, eligible) = {
            let record = &self.calls.get(slot).record;
            (record.call, record.care_eligible)
        };
        let (travel, service) = if kind == ResponderKind::Counsellor {
            // A crisis-line call: answered at once, no scene, the pool's call length.
            (0.0, self.service.phone_minutes(pool, &call))
        } else {
            (
                self.service.travel_minutes(from, &call, job),
                self.service.on_scene_minutes(kind, job, &call),
            )
        };
        let on_scene = now + travel;
        let mut clear = on_scene + service;
        // Co-response: a free clinician goes too; the visit starts when both are there, and
        // both stay until it ends. (Free clinicians are checked first: the cheapest test, false
        // in most scenarios.)
        let companion = if self.fleet.free_count(ResponderKind::Clinician) > 0
            && kind == ResponderKind::Police
            && job == Job::Primary
            && self.calls.get(slot).wants_clinician
        {
            self.pick_companion(slot, &call)
                .map(|(clinician, arrives)| {
                    clear = on_scene.max(arrives) + service;
                    (clinician, arrives)
                })
        } else {
            None
        };

        self.send_unit(unit, slot, (&call, eligible), from, on_scene, clear);

        let assignment = Assignment {
            unit: UnitId(unit),
            pool,
            kind,
            dispatched_minutes: now,
            on_scene_minutes: on_scene,
            cleared_minutes: clear,
        };
        let care_backup = self.scenario.call_type(call.call_type).care_backup;
        let active = self.calls.get_mut(slot);
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
                        Event::BackupRequested {
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
                        Event::BackupRequested {
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
            Job::Companion => unreachable!("companions are sent by send_companion"),
        }
        if let Some((clinician, arrives)) = companion {
            self.send_companion(clinician, slot, eligible, arrives, clear);
        }
    }

    /// Marks a unit as on its way to the call in `slot` (from `from`, there at `on_scene`,
    /// clear at `clear`), tells the books and the observer, and schedules the clear.
    #[inline(always)]
    fn send_unit(
        &mut self,
        unit: u32,
        slot: u32,
        (call, eligible): (&Call, bool),
        from: ZoneId,
        on_scene: f64,
        clear: f64,
    ) {
        let now = self.now();
        let about = Some((call.id, eligible));
        self.unit_event(unit, UnitEventKind::Dispatched, (now, now), from, about);
        let at_scene = (now, on_scene);
        self.unit_event(unit, UnitEventKind::OnScene, at_scene, call.zone, about);
        let u = self.fleet.unit_mut(unit);
        u.state = UnitState::OnCall;
        u.busy_since = now;
        u.zone = call.zone;
        u.call_slot = slot;
        self.schedule(clear, Event::UnitClears { unit });
    }

    /// The clinician the policy sends with a co-responding police unit, and when it arrives.
    #[inline(never)]
    fn pick_companion(&self, slot: u32, call: &Call) -> Option<(u32, f64)> {
        let clinician = self.choose_unit(ResponderKind::Clinician, slot, Job::Companion)?;
        let from = self.fleet.unit(clinician).zone;
        let travel = self.service.travel_minutes(from, call, Job::Companion);
        Some((clinician, self.now() + travel))
    }

    /// Sends a free clinician with the police unit: on scene at `arrives`, clear at `clear`.
    fn send_companion(
        &mut self,
        clinician: u32,
        slot: u32,
        eligible: bool,
        arrives: f64,
        clear: f64,
    ) {
        let now = self.now();
        self.fleet.take_from_free(clinician);
        let call = self.calls.get(slot).record.call;
        let (from, pool) = {
            let u = self.fleet.unit(clinician);
            (u.zone, PoolId(u.pool))
        };
        self.send_unit(clinician, slot, (&call, eligible), from, arrives, clear);
        let active = self.calls.get_mut(slot);
        active.outstanding += 1;
        active.record.companion = Some(Assignment {
            unit: UnitId(clinician),
            pool,
            kind: ResponderKind::Clinician,
            dispatched_minutes: now,
            on_scene_minutes: arrives,
            cleared_minutes: clear,
        });
    }

    /// The call's units have cleared: send a care team to follow up, or queue the visit
    /// (behind every call for service) until the window closes.
    fn request_follow_up(&mut self, slot: u32, window: f64) {
        let call_id = {
            let active = self.calls.get_mut(slot);
            active.follow_up_window = None;
            active.outstanding += 1;
            active.record.call.id
        };
        if let Some(unit) = self.choose_unit(ResponderKind::Care, slot, Job::FollowUp) {
            self.dispatch(unit, slot, Job::FollowUp);
            return;
        }
        self.calls.get_mut(slot).stage = Stage::WaitingFollowUp;
        let order = self.events.reserve().0;
        self.queues.push(
            ResponderKind::Care,
            Waiting {
                priority: FOLLOW_UP_PRIORITY,
                order,
                slot,
                call_id,
                job: Job::FollowUp,
            },
        );
        self.schedule(
            self.now() + window,
            Event::FollowUpExpired { slot, call_id },
        );
    }

    // ---- units becoming free -------------------------------------------------------------

    fn unit_clears(&mut self, unit: u32) {
        if self.after_scene_work && self.stays_for_outcomes(unit) {
            return;
        }
        let (slot, zone, home, since, returns) = {
            let u = self.fleet.unit(unit);
            let returns = u.active_blocks > 0 && u.returns_to_base && u.zone != u.home;
            (u.call_slot, u.zone, u.home, u.busy_since, returns)
        };
        let (call_id, eligible) = {
            let record = &self.calls.get(slot).record;
            (record.call.id, record.care_eligible)
        };
        let now = self.now();
        let about = Some((call_id, eligible));
        self.unit_event(unit, UnitEventKind::Cleared, (since, now), zone, about);
        let active = self.calls.get_mut(slot);
        active.outstanding -= 1;
        if active.outstanding == 0 {
            active.record.cleared_minutes.get_or_insert(now);
            match active.follow_up_window {
                Some(window) => self.request_follow_up(slot, window),
                None => self.end_call(slot),
            }
        }
        let u = self.fleet.unit_mut(unit);
        u.call_slot = u32::MAX;
        if returns {
            u.state = UnitState::Returning;
            u.busy_since = now;
            let back = now + self.service.mean_travel(zone, home);
            self.schedule(back, Event::UnitHome { unit });
        } else {
            self.release(unit);
        }
    }

    /// When the last unit on a call ends its on-scene time, the call's outcomes are drawn (the
    /// same per-call draws `end_call` makes) and, if one takes the person somewhere (an arrest's
    /// transport and booking, a transport for care) or asks for a report, that unit stays busy:
    /// it drives to the first facility on the list with room (see [`Self::at_facility`]), or
    /// for the declared outcome time, and clears after it. Returns true when the unit stays.
    /// Only scenarios with `[outcome_time]` or facilities come here, so others keep today's
    /// path exactly.
    #[inline(never)]
    fn stays_for_outcomes(&mut self, unit: u32) -> bool {
        let now = self.now();
        let (slot, kind, after_scene) = {
            let u = self.fleet.unit(unit);
            (u.call_slot, u.kind, u.after_scene)
        };
        if after_scene {
            // The real clear, after the work past the scene: the unit's assignment on the call
            // ends now (its record says when the unit was free again, not when it left the
            // scene).
            let u = self.fleet.unit_mut(unit);
            u.after_scene = false;
            let (from, pool) = (u.trip.scene_ended, PoolId(u.pool));
            self.books.add_after_scene(pool, from, now);
            let record = &mut self.calls.get_mut(slot).record;
            for assignment in [&mut record.primary, &mut record.backup]
                .into_iter()
                .flatten()
            {
                if assignment.unit.0 == unit {
                    assignment.cleared_minutes = now;
                }
            }
            return false;
        }
        let horizon = self.horizon;
        let active = self.calls.get(slot);
        // Only the last unit on scene: the scene ends with it.
        if active.outstanding != 1 {
            return false;
        }
        let record = &active.record;
        let Some(scene) = outcomes::scene_kind(record, horizon) else {
            return false;
        };
        // The unit of the kind whose outcomes apply takes the person (a clinician or a care
        // team clearing after police left does not).
        if kind != scene {
            return false;
        }
        let call = record.call;
        let call_type = self.scenario.call_type(call.call_type);
        let drawn = outcomes::draw(&call_type.outcomes[scene.index()], &call);
        // Kept for `end_call`: the scene is over, so its kind and so these draws are final.
        let active = self.calls.get_mut(slot);
        active.record.outcomes = drawn;
        active.outcomes_drawn = true;
        let extra = self.service.outcome_minutes(scene, &drawn, &call);
        let treatment = drawn.er_transport && !self.treatment_list(&call).is_empty();
        let booking = drawn.booking
            && kind == ResponderKind::Police
            && !self.scenario.transport.booking.is_empty();
        if !treatment && !booking && extra <= 0.0 {
            return false;
        }
        let u = self.fleet.unit_mut(unit);
        u.after_scene = true;
        u.trip = Trip {
            scene_ended: now,
            booking: !treatment,
            stop: 0,
            then_booking: treatment && booking,
            extra_minutes: extra,
        };
        if treatment || booking {
            self.head_for_facility(unit, 0, call.zone, now);
        } else {
            self.schedule(now + extra, Event::UnitClears { unit });
        }
        true
    }

    /// The treatment preference list for `call`: the policy's, its type's own, or the
    /// scenario's.
    fn treatment_list(&self, call: &Call) -> &'a [u16] {
        if let Some(list) = self.policy_treatment {
            return list;
        }
        let scenario: &'a Scenario = self.scenario;
        match &scenario.call_type(call.call_type).transport_to {
            Some(list) => list,
            None => &scenario.transport.treatment,
        }
    }

    /// A unit's trip and the preference list its current leg follows (the jails for a
    /// booking, else the call's treatment list).
    fn trip_list(&self, unit: u32) -> (Trip, &'a [u16]) {
        let u = self.fleet.unit(unit);
        let scenario: &'a Scenario = self.scenario;
        let list = if u.trip.booking {
            &scenario.transport.booking
        } else {
            self.treatment_list(&self.calls.get(u.call_slot).record.call)
        };
        (u.trip, list)
    }

    /// Sends `unit` from `from` at time `depart` to the first facility on its trip's list, at
    /// position `first` or later, that takes its kind. With none left, the person has no place
    /// (counted); a booking leg may follow, else the unit clears after its extra minutes.
    fn head_for_facility(&mut self, unit: u32, first: u16, from: ZoneId, depart: f64) {
        let (trip, list) = self.trip_list(unit);
        let kind = self.fleet.unit(unit).kind;
        let scenario: &'a Scenario = self.scenario;
        let next = (usize::from(first)..list.len())
            .find(|&k| scenario.facilities[usize::from(list[k])].takes_from(kind));
        if let Some(k) = next {
            let facility = &scenario.facilities[usize::from(list[k])];
            let arrives = depart + self.service.mean_travel(from, facility.zone);
            self.fleet.unit_mut(unit).trip.stop = k as u16;
            self.schedule(arrives, Event::AtFacility { unit });
            return;
        }
        if depart >= self.books.warmup() && depart < self.horizon {
            self.books.no_place(trip.booking);
        }
        self.next_leg_or_clear(unit, from, depart);
    }

    /// After a leg (handed over, or no place found) at `depart`: the booking leg, if one
    /// follows, else the clear after the trip's extra minutes.
    fn next_leg_or_clear(&mut self, unit: u32, from: ZoneId, depart: f64) {
        let trip = &mut self.fleet.unit_mut(unit).trip;
        if trip.then_booking {
            trip.then_booking = false;
            trip.booking = true;
            self.head_for_facility(unit, 0, from, depart);
        } else {
            let clear = depart + trip.extra_minutes;
            self.schedule(clear, Event::UnitClears { unit });
        }
    }

    /// A unit with a person reaches a facility: admitted, it hands the person over and goes on
    /// to its next leg; full, it drives on to the next facility on the list (counted as
    /// turned away). Kept out of line: only scenarios with facilities come here, and the
    /// event handler stays small for the rest.
    #[inline(never)]
    fn at_facility(&mut self, unit: u32) {
        let now = self.now();
        let (trip, list) = self.trip_list(unit);
        let call = self.calls.get(self.fleet.unit(unit).call_slot).record.call;
        let scenario: &'a Scenario = self.scenario;
        let f = usize::from(list[usize::from(trip.stop)]);
        let zone = scenario.facilities[f].zone;
        self.fleet.unit_mut(unit).zone = zone;
        if !self.facilities.admit(f, now) {
            self.head_for_facility(unit, trip.stop + 1, zone, now);
            return;
        }
        let stay = self.service.stay_minutes(f, &call, trip.booking);
        if self.facilities.unlimited(f) {
            self.facilities.hold(f, now + stay);
        } else {
            self.schedule(now + stay, Event::BedFrees { facility: f as u16 });
        }
        let handed_over = now + self.service.handover_minutes(f, &call, trip.booking);
        self.facilities.handover(f, now, handed_over);
        self.next_leg_or_clear(unit, zone, handed_over);
    }

    /// A unit done with work: off duty if its shift is over, else available.
    // Inlined into its callers: on every call's path, where saving the registers a call
    // needs cost more than the copies of its body (BENCHMARKS.md, issue #18).
    #[inline(always)]
    fn release(&mut self, unit: u32) {
        if self.fleet.unit(unit).active_blocks == 0 {
            self.go_off_duty(unit);
        } else {
            self.make_available(unit);
        }
    }

    /// Gives the unit the head of its kind's queue, or marks it free.
    // Inlined into its callers: on every call's path, where saving the registers a call
    // needs cost more than the copies of its body (BENCHMARKS.md, issue #18).
    #[inline(always)]
    fn make_available(&mut self, unit: u32) {
        let kind = self.fleet.unit(unit).kind;
        while let Some(waiting) = self.queues.pop(kind) {
            let valid = self.calls.slot(waiting.slot).is_some_and(|active| {
                active.record.call.id == waiting.call_id
                    && match (waiting.job, kind) {
                        (Job::Primary, ResponderKind::Care) => active.stage == Stage::WaitingCare,
                        (Job::Primary, _) => active.stage == Stage::WaitingPolice,
                        (Job::FollowUp, _) => active.stage == Stage::WaitingFollowUp,
                        (Job::Backup | Job::Companion, _) => true,
                    }
            });
            if valid {
                // Not in the free set: mark it taken so `dispatch` does not remove it from there.
                self.fleet.unit_mut(unit).state = UnitState::OnCall;
                self.dispatch(unit, waiting.slot, waiting.job);
                return;
            }
        }
        self.fleet.make_free(unit);
    }

    fn go_off_duty(&mut self, unit: u32) {
        let (zone, since) = (self.fleet.unit(unit).zone, self.fleet.unit(unit).duty_since);
        let now = self.now();
        self.unit_event(unit, UnitEventKind::OffShift, (since, now), zone, None);
        self.fleet.unit_mut(unit).state = UnitState::OffDuty;
    }

    // ---- shifts --------------------------------------------------------------------------

    fn start_shifts(&mut self) {
        for (p, pool) in self.scenario.pools.iter().enumerate() {
            if pool.shifts.is_empty() {
                for unit in self.fleet.pool_units(p, pool.count) {
                    self.fleet.unit_mut(unit).active_blocks = 1;
                    self.come_on_duty(unit);
                }
                continue;
            }
            for b in 0..pool.shifts.len() {
                if let Some((day, start)) = fleet::first_shift_start(self.scenario, p, b) {
                    let (pool, block) = (p as u16, b as u16);
                    self.schedule(start, Event::ShiftStart { pool, block, day });
                }
            }
        }
    }

    fn shift_start(&mut self, pool: u16, block: u16, day: i64) {
        let (p, b) = (usize::from(pool), usize::from(block));
        let spec = &self.scenario.pools[p].shifts[b];
        let (length, count) = (spec.length_minutes, spec.count);
        // Schedule the next start before this end: when blocks chain (24 h), the next start
        // runs first at the shared instant, so units stay on duty without a gap.
        if let Some(next_day) = fleet::next_shift_day(self.scenario, p, b, day) {
            let next = fleet::shift_start_minute(self.scenario, p, b, next_day);
            if next < self.horizon {
                let day = next_day;
                self.schedule(next, Event::ShiftStart { pool, block, day });
            }
        }
        let end = fleet::shift_start_minute(self.scenario, p, b, day) + length;
        if end < self.horizon {
            self.schedule(end, Event::ShiftEnd { pool, block });
        }
        for unit in self.fleet.pool_units(p, count) {
            let u = self.fleet.unit_mut(unit);
            u.active_blocks += 1;
            if u.active_blocks == 1 {
                self.come_on_duty(unit);
            }
        }
    }

    fn come_on_duty(&mut self, unit: u32) {
        let kind = self.fleet.unit(unit).kind;
        self.fleet.add_scheduled(kind, true);
        // A unit still finishing a call from its last shift just carries on.
        let u = self.fleet.unit_mut(unit);
        if u.state == UnitState::OffDuty {
            let now = self.events.now().value();
            u.zone = u.home;
            u.duty_since = now;
            let home = u.home;
            self.unit_event(unit, UnitEventKind::OnShift, (now, now), home, None);
            self.make_available(unit);
        }
    }

    fn shift_end(&mut self, pool: u16, block: u16) {
        let p = usize::from(pool);
        let count = self.scenario.pools[p].shifts[usize::from(block)].count;
        for unit in self.fleet.pool_units(p, count) {
            let u = self.fleet.unit_mut(unit);
            u.active_blocks -= 1;
            if u.active_blocks > 0 {
                continue;
            }
            let (kind, state) = (u.kind, u.state);
            self.fleet.add_scheduled(kind, false);
            if state == UnitState::Free {
                self.fleet.take_from_free(unit);
                self.go_off_duty(unit);
            }
        }
    }

    // ---- calls ending --------------------------------------------------------------------

    /// Draws the outcomes, reports the record and frees the slot.
    fn end_call(&mut self, slot: u32) {
        // Finish the record where it lies and report it from there: no copy of the record.
        let Some(active) = self.calls.slot_mut(slot) else {
            return;
        };
        let record = &mut active.record;
        record.unserved_at_horizon = !record
            .primary
            .is_some_and(|p| p.on_scene_minutes < self.horizon);
        if self.draws_outcomes
            && !active.outcomes_drawn
            && let Some(kind) = outcomes::scene_kind(record, self.horizon)
        {
            let call_type = self.scenario.call_type(record.call.call_type);
            record.outcomes = outcomes::draw(&call_type.outcomes[kind.index()], &record.call);
        }
        self.observer.on_call(record);
        self.calls.remove(slot);
    }

    /// Calls open now (waiting for a unit or being served).
    #[inline]
    pub fn open_calls(&self) -> usize {
        self.calls.open()
    }

    /// Closes the books at the horizon: work under way counts up to it; open calls are
    /// reported (unserved if no unit reached them). `stopped_at`: when an overloaded run
    /// stopped (events after it never ran).
    pub fn finish(mut self, stopped_at: Option<f64>) -> FleetTotals {
        self.events.advance_to(Time::new(self.horizon));
        let open: Vec<OpenSpells> = self
            .fleet
            .units
            .iter()
            .map(|u| OpenSpells {
                pool: u.pool,
                on_duty_since: (u.state != UnitState::OffDuty).then_some(u.duty_since),
                busy_since: matches!(u.state, UnitState::OnCall | UnitState::Returning)
                    .then_some(u.busy_since),
                on_eligible_call: u.state == UnitState::OnCall
                    && self.calls.get(u.call_slot).record.care_eligible,
            })
            .collect();
        for slot in 0..self.calls.slot_count() {
            self.end_call(slot);
        }
        let Self {
            books, facilities, ..
        } = self;
        let mut totals = books.finish(open.into_iter());
        totals.facilities = facilities.finish(stopped_at);
        totals
    }
}

#[cfg(test)]
mod packed_event_tests {
    use super::*;

    /// Every kind of event, with fields at their extremes, comes out of the queue's integer
    /// as it went in.
    #[test]
    fn every_event_survives_packing() {
        let mut events = Vec::new();
        for (small, wide) in [(0u32, 0u64), (1, 1), (u32::MAX, u64::MAX), (77, 1 << 40)] {
            let (short, day) = (small as u16, wide as i64);
            events.extend([
                Event::UnitClears { unit: small },
                Event::BackupRequested {
                    slot: small,
                    call_id: wide,
                },
                Event::CareWaitExpired {
                    slot: small,
                    call_id: wide,
                },
                Event::FollowUpExpired {
                    slot: small,
                    call_id: wide,
                },
                Event::UnitHome { unit: small },
                Event::ShiftStart {
                    pool: short,
                    block: short.wrapping_mul(3),
                    day,
                },
                Event::ShiftStart {
                    pool: u16::MAX,
                    block: 0,
                    day: -day,
                },
                Event::ShiftEnd {
                    pool: short,
                    block: u16::MAX - short,
                },
                Event::AtFacility { unit: small },
                Event::BedFrees { facility: short },
                Event::Processed {
                    slot: small,
                    call_id: wide,
                },
            ]);
        }
        for event in events {
            assert_eq!(event.packed().unpacked(), event);
        }
    }
}
