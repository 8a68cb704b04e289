//! Engine fixtures: hand-made call streams through small fleets with fixed times, so each rule
//! of the engine's contract shows as an exact number.

use super::*;
use crate::calls::CallGenerator;
use crate::calls::rng;
use crate::engine::record::Assignment;
use crate::policy::Policy;
use crate::scenario::{CallTypeId, ResponderKind, UnitId, ZoneId};

/// Two zones 10 minutes apart (2 within a zone). Call types (by index):
/// 0 `crime` P1 police 30; 1 `minor` P3 police 30; 2 `crisis` P2 eligible police 40 care 50;
/// 3 `crisis_backup` P2 eligible, care always asks backup.
fn fixture(fleet: &str, policies: &str) -> Scenario {
    let text = format!(
        r#"
        [city]
        name = "Fixture"
        population = 1000
        horizon_days = 2
        [demand]
        calls_per_day = 10
        [[zones]]
        name = "a"
        share = 0.5
        [[zones]]
        name = "b"
        share = 0.5
        [travel]
        minutes = [[2, 10], [10, 2]]
        [[call_types]]
        name = "crime"
        share = 0.25
        priority = 1
        care_eligible = false
        on_scene.police = {{ dist = "fixed", mean = 30 }}
        on_scene.care = {{ dist = "fixed", mean = 20 }}
        [[call_types]]
        name = "minor"
        share = 0.25
        priority = 3
        care_eligible = false
        on_scene.police = {{ dist = "fixed", mean = 30 }}
        [[call_types]]
        name = "crisis"
        share = 0.25
        priority = 2
        care_eligible = true
        on_scene.police = {{ dist = "fixed", mean = 40 }}
        on_scene.care = {{ dist = "fixed", mean = 50 }}
        [[call_types]]
        name = "crisis_backup"
        share = 0.25
        priority = 2
        care_eligible = true
        on_scene.police = {{ dist = "fixed", mean = 40 }}
        on_scene.care = {{ dist = "fixed", mean = 50 }}
        outcomes.care = {{ backup = 1.0 }}
        {fleet}
        {policies}
        "#
    );
    Scenario::from_toml_str(&text, "fixture.toml").unwrap_or_else(|e| panic!("{e}"))
}

const POLICE_ONLY: &str = "[[policies]]\npolicy = \"police_only\"";

fn care_first(wait: f64, eligible_sent_to_police: f64, ineligible_sent_to_care: f64) -> String {
    format!(
        "[[policies]]\npolicy = \"care_first\"\nmax_care_wait_minutes = {wait}\n\
         eligible_sent_to_police = {eligible_sent_to_police}\n\
         ineligible_sent_to_care = {ineligible_sent_to_care}"
    )
}

fn pool(name: &str, kind: &str, count: u32, homes: &str, extra: &str) -> String {
    format!(
        "[[fleet]]\nname = \"{name}\"\nkind = \"{kind}\"\ncount = {count}\n\
         home_zones = [{homes}]\ncost_per_unit_hour = 1\n{extra}\n"
    )
}

fn call(id: u64, minute: f64, call_type: u16, zone: u16) -> Call {
    Call {
        id,
        received_minutes: minute,
        call_type: CallTypeId(call_type),
        zone: ZoneId(zone),
        draw_key: rng::call_key(99, id),
    }
}

/// Runs the scenario's first (or `policy`-th) policy and returns records by call id.
fn run(scenario: &Scenario, policy: usize, calls: Vec<Call>) -> (Vec<CallRecord>, FleetTotals) {
    let mut records: Vec<CallRecord> = Vec::new();
    let totals = simulate(
        scenario,
        scenario.policies[policy].policy.as_ref(),
        calls,
        &mut records,
    );
    records.sort_by_key(|r| r.call.id);
    (records, totals)
}

fn primary(record: &CallRecord) -> Assignment {
    record.primary.expect("dispatched")
}

#[test]
fn nearest_free_unit_goes_and_ties_take_the_lower_unit() {
    let fleet = pool("police", "police", 3, "\"a\", \"b\", \"a\"", "");
    let scenario = fixture(&fleet, POLICE_ONLY);
    // Units: 0 in a, 1 in b, 2 in a.
    let (records, _) = run(
        &scenario,
        0,
        vec![call(0, 0.0, 0, 1), call(1, 1.0, 0, 0), call(2, 2.0, 0, 0)],
    );
    assert_eq!(
        primary(&records[0]).unit,
        UnitId(1),
        "unit in zone b takes the zone-b call"
    );
    assert_eq!(primary(&records[0]).on_scene_minutes, 2.0);
    assert_eq!(
        primary(&records[1]).unit,
        UnitId(0),
        "two free in zone a: lower index"
    );
    assert_eq!(primary(&records[2]).unit, UnitId(2));
    // No one free in zone b later: the zone-a unit drives 10 minutes.
    let (records, _) = run(&scenario, 0, vec![call(0, 0.0, 0, 1), call(1, 1.0, 0, 1)]);
    assert_eq!(primary(&records[1]).unit, UnitId(0));
    assert_eq!(primary(&records[1]).on_scene_minutes, 11.0);
}

#[test]
fn waiting_calls_are_served_by_priority_then_arrival() {
    let fleet = pool("police", "police", 1, "\"a\"", "");
    let scenario = fixture(&fleet, POLICE_ONLY);
    let calls = vec![
        call(0, 0.0, 1, 0), // minor: takes the unit until 32
        call(1, 5.0, 1, 0), // minor, waits
        call(2, 6.0, 0, 0), // crime (P1), waits, but goes first
        call(3, 7.0, 1, 0), // minor, waits
    ];
    let (records, _) = run(&scenario, 0, calls);
    let dispatched: Vec<f64> = records
        .iter()
        .map(|r| primary(r).dispatched_minutes)
        .collect();
    assert_eq!(dispatched, vec![0.0, 64.0, 32.0, 96.0]);
    assert_eq!(records[2].wait_minutes(), Some(26.0));
    assert_eq!(records[2].response_minutes(), Some(28.0));
}

#[test]
fn equal_times_resolve_in_scheduling_order() {
    // Zero travel and fixed times make a unit clear at the very minute a call arrives: the
    // clear was scheduled first (when the unit was sent), so it runs first and the new call
    // finds the unit free, never the queue.
    let fleet = pool("police", "police", 1, "\"a\"", "");
    let text_scenario = fixture(&fleet, POLICE_ONLY);
    let mut scenario = text_scenario.clone();
    scenario.travel.minutes = vec![0.0; 4];
    let (records, _) = run(&scenario, 0, vec![call(0, 0.0, 1, 0), call(1, 30.0, 1, 0)]);
    assert_eq!(records[1].wait_minutes(), Some(0.0));
}

#[test]
fn care_first_sends_care_and_overflows_at_once_with_no_wait() {
    let fleet = pool("police", "police", 2, "\"a\"", "") + &pool("care", "care", 1, "\"a\"", "");
    let scenario = fixture(&fleet, &care_first(0.0, 0.0, 0.0));
    let calls = vec![call(0, 0.0, 2, 0), call(1, 1.0, 2, 0), call(2, 2.0, 0, 0)];
    let (records, _) = run(&scenario, 0, calls);
    assert_eq!(primary(&records[0]).kind, ResponderKind::Care);
    assert_eq!(
        primary(&records[0]).cleared_minutes,
        52.0,
        "care on scene 50"
    );
    assert!(records[1].routed_to_care && records[1].overflowed_to_police);
    assert_eq!(primary(&records[1]).kind, ResponderKind::Police);
    assert_eq!(primary(&records[1]).dispatched_minutes, 1.0, "no waiting");
    assert_eq!(
        primary(&records[1]).cleared_minutes,
        43.0,
        "police on scene 40"
    );
    assert!(!records[2].routed_to_care);
    assert_eq!(primary(&records[2]).kind, ResponderKind::Police);
}

#[test]
fn care_first_waits_for_a_team_up_to_the_limit() {
    let fleet = pool("police", "police", 2, "\"a\"", "") + &pool("care", "care", 1, "\"a\"", "");
    let scenario = fixture(&fleet, &care_first(15.0, 0.0, 0.0));
    // Care busy until 52. Call 1 waits from 40: the team frees at 52 (< 55), so care takes it.
    // Call 2 waits from 45 and has waited 15 minutes at 60: police go.
    let calls = vec![call(0, 0.0, 2, 0), call(1, 40.0, 2, 0), call(2, 45.0, 2, 0)];
    let (records, _) = run(&scenario, 0, calls);
    assert_eq!(primary(&records[1]).kind, ResponderKind::Care);
    assert_eq!(primary(&records[1]).dispatched_minutes, 52.0);
    assert!(!records[1].overflowed_to_police);
    assert_eq!(primary(&records[2]).kind, ResponderKind::Police);
    assert_eq!(primary(&records[2]).dispatched_minutes, 60.0);
    assert!(records[2].overflowed_to_police);
}

#[test]
fn care_backup_sends_police_at_top_priority() {
    let fleet = pool("police", "police", 1, "\"a\"", "") + &pool("care", "care", 1, "\"a\"", "");
    let scenario = fixture(&fleet, &care_first(0.0, 0.0, 0.0));
    // The police unit is busy with a minor call until 32; a P1 crime waits from 3; the care
    // team reaches the crisis at 2+2=4 and asks backup, which outranks the waiting crime.
    let calls = vec![call(0, 0.0, 1, 0), call(1, 2.0, 3, 0), call(2, 3.0, 0, 0)];
    let (records, _) = run(&scenario, 0, calls);
    let crisis = &records[1];
    assert!(crisis.backup_requested);
    let backup = crisis.backup.expect("backup sent");
    assert_eq!(backup.kind, ResponderKind::Police);
    assert_eq!(backup.dispatched_minutes, 32.0);
    assert_eq!(backup.cleared_minutes, 32.0 + 2.0 + 40.0);
    assert_eq!(
        crisis.cleared_minutes,
        Some(74.0),
        "the call ends when the last unit clears"
    );
    assert_eq!(
        primary(&records[2]).dispatched_minutes,
        74.0,
        "the crime waited for the backup"
    );
}

#[test]
fn triage_errors_send_ineligible_calls_to_care_with_backup() {
    let fleet = pool("police", "police", 1, "\"a\"", "") + &pool("care", "care", 1, "\"a\"", "");
    let scenario = fixture(&fleet, &care_first(0.0, 0.0, 1.0));
    let (records, _) = run(&scenario, 0, vec![call(0, 0.0, 0, 0)]);
    assert!(!records[0].care_eligible && records[0].triaged_eligible);
    assert_eq!(primary(&records[0]).kind, ResponderKind::Care);
    assert!(
        records[0].backup.is_some(),
        "a care team on a crime calls police"
    );
    // Outcomes follow police probabilities once police are on scene.
    assert_eq!(records[0].responder(), Some(ResponderKind::Care));
}

#[test]
fn no_care_on_duty_means_police_at_once() {
    let care = pool(
        "care",
        "care",
        1,
        "\"a\"",
        "[[fleet.shifts]]\nstart_hour = 10\nhours = 8",
    );
    let fleet = pool("police", "police", 1, "\"a\"", "") + &care;
    let scenario = fixture(&fleet, &care_first(30.0, 0.0, 0.0));
    let calls = vec![call(0, 3.0 * 60.0, 2, 0), call(1, 11.0 * 60.0, 2, 0)];
    let (records, totals) = run(&scenario, 0, calls);
    assert_eq!(primary(&records[0]).kind, ResponderKind::Police);
    assert_eq!(
        primary(&records[0]).dispatched_minutes,
        180.0,
        "no wait for an off-shift team"
    );
    assert_eq!(primary(&records[1]).kind, ResponderKind::Care);
    // Two days of an 8-hour shift for one unit.
    assert_eq!(totals.pools[1].on_duty_minutes, 2.0 * 8.0 * 60.0);
}

#[test]
fn a_unit_finishes_its_call_after_its_shift_ends() {
    let care = pool(
        "care",
        "care",
        1,
        "\"a\"",
        "[[fleet.shifts]]\nstart_hour = 10\nhours = 8",
    );
    let fleet = pool("police", "police", 1, "\"a\"", "") + &care;
    let scenario = fixture(&fleet, &care_first(0.0, 0.0, 0.0));
    // Sent at 17:50, on scene 17:52, clears 18:42: 42 minutes past the shift.
    let calls = vec![
        call(0, 17.0 * 60.0 + 50.0, 2, 0),
        call(1, 18.0 * 60.0 + 10.0, 2, 0),
    ];
    let (records, totals) = run(&scenario, 0, calls);
    assert_eq!(primary(&records[0]).kind, ResponderKind::Care);
    assert_eq!(primary(&records[0]).cleared_minutes, 18.0 * 60.0 + 42.0);
    assert_eq!(
        primary(&records[1]).kind,
        ResponderKind::Police,
        "shift over: no new care call"
    );
    assert_eq!(totals.pools[1].on_duty_minutes, 2.0 * 8.0 * 60.0 + 42.0);
}

#[test]
fn return_to_base_keeps_the_unit_busy_until_home() {
    let care = pool("care", "care", 1, "\"a\"", "after_clear = \"return\"");
    let fleet = pool("police", "police", 2, "\"a\"", "") + &care;
    let scenario = fixture(&fleet, &care_first(0.0, 0.0, 0.0));
    // Care goes to zone b (10 min), clears at 60, drives home until 70.
    let calls = vec![call(0, 0.0, 2, 1), call(1, 65.0, 2, 0), call(2, 75.0, 2, 0)];
    let (records, totals) = run(&scenario, 0, calls);
    assert_eq!(primary(&records[0]).cleared_minutes, 60.0);
    assert_eq!(
        primary(&records[1]).kind,
        ResponderKind::Police,
        "still driving home"
    );
    assert_eq!(primary(&records[2]).kind, ResponderKind::Care);
    assert_eq!(
        primary(&records[2]).on_scene_minutes,
        77.0,
        "from home in zone a"
    );
    assert_eq!(totals.pools[1].busy_minutes, 70.0 + 52.0);
}

#[test]
fn open_calls_at_the_horizon_are_reported_unserved() {
    let fleet = pool("police", "police", 1, "\"a\"", "");
    let scenario = fixture(&fleet, POLICE_ONLY);
    let horizon = scenario.horizon_minutes();
    let calls = vec![call(0, horizon - 20.0, 1, 0), call(1, horizon - 10.0, 1, 0)];
    let (records, totals) = run(&scenario, 0, calls);
    assert_eq!(records.len(), 2);
    assert!(!records[0].unserved_at_horizon && records[0].cleared_minutes.is_none());
    assert!(records[1].unserved_at_horizon && records[1].primary.is_none());
    assert_eq!(totals.pools[0].busy_minutes, 20.0);
}

#[test]
fn police_minutes_on_eligible_calls_are_counted() {
    let fleet = pool("police", "police", 1, "\"a\"", "");
    let scenario = fixture(&fleet, POLICE_ONLY);
    let (_, totals) = run(&scenario, 0, vec![call(0, 0.0, 2, 0), call(1, 100.0, 1, 0)]);
    assert_eq!(totals.police_minutes_on_eligible, 42.0);
    assert_eq!(totals.pools[0].busy_minutes, 42.0 + 32.0);
}

#[test]
fn every_call_ends_exactly_once_and_runs_repeat_exactly() {
    let mut scenario = Scenario::default_scenario();
    scenario.horizon_days = 30.0;
    for (p, spec) in scenario.policies.iter().enumerate() {
        let stream = CallGenerator::new(&scenario, 3, 0);
        let (records, totals) = run(&scenario, p, stream.collect());
        let expected = CallGenerator::new(&scenario, 3, 0).count();
        assert_eq!(records.len(), expected, "{}", spec.label);
        assert!(
            records
                .iter()
                .enumerate()
                .all(|(i, r)| r.call.id == i as u64)
        );
        let (again, totals_again) =
            run(&scenario, p, CallGenerator::new(&scenario, 3, 0).collect());
        assert_eq!(records, again);
        assert_eq!(totals, totals_again);
    }
}

#[test]
fn policies_see_the_same_calls_and_draws() {
    let mut scenario = Scenario::default_scenario();
    scenario.horizon_days = 20.0;
    // Without the after-the-scene sections, a unit clears when its on-scene time ends, so the
    // clear time shows the on-scene draw (with them, a trip to a facility whose beds differ
    // between policies may follow).
    scenario.drop_after_the_scene();
    let stream: Vec<Call> = CallGenerator::new(&scenario, 11, 4).collect();
    let (police, _) = run(&scenario, 0, stream.clone());
    let (care, _) = run(&scenario, 1, stream);
    assert_eq!(police.len(), care.len());
    for (p, c) in police.iter().zip(&care) {
        assert_eq!(p.call, c.call);
        // Same responder kind => same on-scene time (the draw belongs to the call).
        if let (Some(a), Some(b)) = (p.primary, c.primary)
            && a.kind == b.kind
            && p.backup.is_none()
            && c.backup.is_none()
        {
            let time = |x: Assignment| x.cleared_minutes - x.on_scene_minutes;
            assert!((time(a) - time(b)).abs() < 1e-9);
        }
        // Police served both: the same outcomes.
        let served_by_police =
            |r: &CallRecord| !r.unserved_at_horizon && r.responder() == Some(ResponderKind::Police);
        if served_by_police(p) && served_by_police(c) {
            assert_eq!(p.outcomes, c.outcomes, "{p:#?}\n{c:#?}");
        }
    }
}

/// The two rules no other test pinned down: outcomes are drawn with the probabilities of the
/// kind that was on scene (police if any police unit was there, else care).
#[test]
fn outcomes_use_the_probabilities_of_the_kind_on_scene() {
    let fleet = pool("police", "police", 2, "\"a\"", "") + &pool("care", "care", 1, "\"a\"", "");
    let mut scenario = fixture(&fleet, &care_first(0.0, 0.0, 0.0));
    for call_type in &mut scenario.call_types {
        let [police, care] = &mut call_type.outcomes;
        (police.arrest, police.booking, police.force) = (1.0, 1.0, 1.0);
        (police.er_transport, care.er_transport) = (0.0, 1.0);
        (care.arrest, care.booking, care.force) = (0.0, 0.0, 0.0);
    }
    // 0: a crisis the care team takes alone; 1: a crisis while the team is busy (police go);
    // 2: a crisis whose care team always asks police backup (police end up on scene).
    let calls = vec![call(0, 0.0, 2, 0), call(1, 1.0, 2, 0), call(2, 200.0, 3, 0)];
    let (records, _) = run(&scenario, 0, calls);
    let care_alone = records[0].outcomes;
    assert_eq!(primary(&records[0]).kind, ResponderKind::Care);
    assert!(care_alone.er_transport && !care_alone.arrest && !care_alone.force);
    let police = records[1].outcomes;
    assert_eq!(primary(&records[1]).kind, ResponderKind::Police);
    assert!(police.arrest && police.booking && police.force && !police.er_transport);
    let with_backup = records[2].outcomes;
    assert_eq!(primary(&records[2]).kind, ResponderKind::Care);
    assert!(records[2].backup.is_some());
    assert!(with_backup.arrest && !with_backup.er_transport);
}

/// Sends crises to care (waiting up to 100 min) and follows every other call up with care.
#[derive(Debug)]
struct CareOrFollowUp;

impl Policy for CareOrFollowUp {
    fn route(
        &self,
        call: &crate::policy::CallContext<'_>,
        _system: &crate::policy::SystemView,
    ) -> crate::policy::Routing {
        use crate::policy::{Route, Routing};
        if call.call_type.care_eligible {
            Routing::to(
                Route::Care {
                    max_wait_minutes: 100.0,
                },
                true,
            )
        } else {
            Routing {
                route: Route::Police,
                triaged_eligible: false,
                follow_up_within_minutes: Some(1000.0),
            }
        }
    }

    fn uses(&self, _kind: ResponderKind) -> bool {
        true
    }
}

#[test]
fn follow_up_visits_wait_behind_every_call_for_service() {
    let fleet = pool("police", "police", 1, "\"a\"", "") + &pool("care", "care", 1, "\"a\"", "");
    let scenario = fixture(&fleet, POLICE_ONLY);
    // 0: a crisis keeps the team busy until 52. 1: a crime; police clear at 33 and ask a
    // follow-up, which queues for the team. 2: a crisis at 40 queues after it. The team frees
    // at 52 and takes the crisis, the later request; the follow-up waits until 104.
    let calls = vec![call(0, 0.0, 2, 0), call(1, 1.0, 0, 0), call(2, 40.0, 2, 0)];
    let mut records: Vec<CallRecord> = Vec::new();
    simulate(&scenario, &CareOrFollowUp, calls, &mut records);
    records.sort_by_key(|r| r.call.id);
    assert_eq!(primary(&records[2]).kind, ResponderKind::Care);
    assert_eq!(primary(&records[2]).dispatched_minutes, 52.0);
    let visit = records[1].follow_up.expect("followed up");
    assert_eq!(visit.dispatched_minutes, 104.0);
    assert!(!records[1].follow_up_missed);
}

/// Keeps the last free police car for priority-1 calls: a unit choice, not an engine change.
#[derive(Debug)]
struct KeepOneCarInReserve;

impl Policy for KeepOneCarInReserve {
    fn route(
        &self,
        _call: &crate::policy::CallContext<'_>,
        _system: &crate::policy::SystemView,
    ) -> crate::policy::Routing {
        crate::policy::Routing::to(crate::policy::Route::Police, false)
    }

    fn uses(&self, kind: ResponderKind) -> bool {
        kind == ResponderKind::Police
    }

    fn unit_chooser(&self) -> Option<&dyn crate::policy::UnitChooser> {
        Some(self)
    }
}

impl crate::policy::UnitChooser for KeepOneCarInReserve {
    fn choose_unit(
        &self,
        request: &crate::policy::UnitRequest<'_>,
        fleet: &dyn crate::policy::FleetQuery,
    ) -> Option<UnitId> {
        if request.priority > 1 && fleet.free_count(request.kind) <= 1 {
            return None;
        }
        fleet.nearest_free(request.kind, request.call.zone)
    }
}

#[test]
fn a_policy_may_choose_the_unit_and_hold_one_in_reserve() {
    let fleet = pool("police", "police", 2, "\"a\"", "");
    let scenario = fixture(&fleet, POLICE_ONLY);
    // Two minor (P3) calls and then a crime (P1): the second minor call waits, the crime gets
    // the reserve car at once, and the minor call goes when the first car clears (32).
    let calls = vec![call(0, 0.0, 1, 0), call(1, 1.0, 1, 0), call(2, 2.0, 0, 0)];
    let mut records: Vec<CallRecord> = Vec::new();
    simulate(&scenario, &KeepOneCarInReserve, calls.clone(), &mut records);
    records.sort_by_key(|r| r.call.id);
    assert_eq!(primary(&records[2]).dispatched_minutes, 2.0);
    assert_eq!(primary(&records[1]).dispatched_minutes, 32.0);
    // The same calls under plain nearest-free dispatch: the minor call takes the second car.
    let (nearest, _) = run(&scenario, 0, calls);
    assert_eq!(primary(&nearest[1]).dispatched_minutes, 1.0);
}

/// Issue #17: `[travel] priority_factor` scales every trip to a call of that priority, and no
/// other trip (priority 1 keeps the matrix's time).
#[test]
fn a_priority_factor_scales_the_trips_to_that_priority() {
    let fleet = pool("police", "police", 3, "\"a\", \"a\", \"a\"", "");
    let base = fixture(&fleet, POLICE_ONLY);
    let mut scaled = base.clone();
    scaled.travel.priority_factor[3] = 1.5;
    // A crime call (priority 1) and a minor call (priority 3), both in zone b: 10 minutes.
    let calls = || vec![call(0, 0.0, 0, 1), call(1, 1.0, 1, 1)];
    let (plain, _) = run(&base, 0, calls());
    let (records, _) = run(&scaled, 0, calls());
    assert_eq!(primary(&plain[1]).on_scene_minutes, 11.0);
    assert_eq!(primary(&records[0]).on_scene_minutes, 10.0);
    assert_eq!(primary(&records[1]).on_scene_minutes, 1.0 + 15.0);
}
