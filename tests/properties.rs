//! Invariants of the engine over random scenarios (proptest), under every policy (the variants
//! too, with clinicians and a crisis line): every call ends exactly once; no
//! unit serves two calls at once; no unit starts work off shift; times never run backwards;
//! police-only ignores care teams; care-first with no care teams is police-only; adding a
//! unit does not worsen the mean wait (on fixed seeds, exceptions printed).
//! (The engine also `debug_assert!`s that event time never decreases; these tests run it in
//! debug builds, so a violation fails them.)

use std::collections::BTreeMap;

use proptest::prelude::*;

use crisis_sim::Scenario;
use crisis_sim::calls::CallGenerator;
use crisis_sim::engine::record::{Assignment, CallRecord};
use crisis_sim::engine::simulate;
use crisis_sim::scenario::ResponderKind;

/// Parameters of a random scenario.
#[derive(Clone, Debug)]
struct Params {
    zones: usize,
    travel: Vec<f64>,
    travel_variation: &'static str,
    types: Vec<(f64, u8, bool, &'static str, f64, f64)>,
    calls_per_day: f64,
    horizon_days: f64,
    warmup_days: f64,
    police: u32,
    police_return: bool,
    care: u32,
    care_shift: Option<(f64, f64)>,
    care_return: bool,
    wait: f64,
    miss: f64,
    false_positive: f64,
    backup: f64,
}

fn params() -> impl Strategy<Value = Params> {
    let dist = prop_oneof![
        Just("exponential"),
        Just("lognormal"),
        Just("gamma"),
        Just("fixed")
    ];
    let call_type = (
        0.1f64..1.0,
        1u8..=3,
        any::<bool>(),
        dist,
        1.0f64..90.0,
        1.0f64..90.0,
    );
    (
        1usize..=3,
        prop::collection::vec(0.0f64..20.0, 9),
        prop_oneof![Just("fixed"), Just("lognormal"), Just("gamma")],
        prop::collection::vec(call_type, 1..=3),
        20.0f64..400.0,
        (1u32..=4, 0u32..=1),
        (1u32..=8, any::<bool>()),
        (
            0u32..=3,
            prop::option::of((0.0f64..23.0, 1.0f64..24.0)),
            any::<bool>(),
        ),
        (0.0f64..30.0, 0.0f64..0.5, 0.0f64..0.3, 0.0f64..0.5),
    )
        .prop_map(
            |(
                zones,
                travel,
                travel_variation,
                types,
                calls_per_day,
                (horizon, warmup),
                police,
                care,
                policy,
            )| Params {
                zones,
                travel,
                travel_variation,
                types,
                calls_per_day,
                horizon_days: f64::from(horizon),
                warmup_days: f64::from(warmup.min(horizon - 1)),
                police: police.0,
                police_return: police.1,
                care: care.0,
                care_shift: care.1,
                care_return: care.2,
                wait: policy.0,
                miss: policy.1,
                false_positive: policy.2,
                backup: policy.3,
            },
        )
}

fn toml(p: &Params, with_care: bool) -> String {
    let mut text = format!(
        "[city]\nname = \"random\"\npopulation = 50000\nhorizon_days = {}\nwarmup_days = {}\n\
         [run]\nreplications = 1\nseed = 3\n\
         [demand]\ncalls_per_day = {}\nhour_of_day = [{}]\n",
        p.horizon_days,
        p.warmup_days,
        p.calls_per_day,
        (0..24)
            .map(|h| (1 + h % 5).to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    for z in 0..p.zones {
        text += &format!(
            "[[zones]]\nname = \"z{z}\"\nshare = {}\n",
            1.0 / p.zones as f64
        );
    }
    let rows: Vec<String> = (0..p.zones)
        .map(|i| {
            let row: Vec<String> = (0..p.zones)
                .map(|j| p.travel[i * 3 + j].to_string())
                .collect();
            format!("[{}]", row.join(", "))
        })
        .collect();
    text += &format!(
        "[travel]\nminutes = [{}]\nvariation = \"{}\"\ncv = 0.3\n",
        rows.join(", "),
        p.travel_variation
    );
    let total: f64 = p.types.iter().map(|t| t.0).sum();
    for (i, (share, priority, eligible, dist, mean, sd)) in p.types.iter().enumerate() {
        let spec = |mean: f64| match *dist {
            "exponential" => format!("{{ dist = \"exponential\", mean = {mean} }}"),
            "fixed" => format!("{{ dist = \"fixed\", mean = {mean} }}"),
            other => format!("{{ dist = \"{other}\", mean = {mean}, sd = {sd} }}"),
        };
        text += &format!(
            "[[call_types]]\nname = \"t{i}\"\nshare = {}\npriority = {priority}\ncare_eligible = {eligible}\n\
             on_scene.police = {}\non_scene.care = {}\n\
             outcomes.police = {{ arrest = 0.1, booking = 0.05, force = 0.01, injury = 0.01, er_transport = 0.1 }}\n\
             outcomes.care = {{ injury = 0.01, er_transport = 0.1, backup = {} }}\n",
            share / total,
            spec(*mean),
            spec(mean * 0.8),
            p.backup
        );
    }
    let after = |r: bool| if r { "return" } else { "stay" };
    text += &format!(
        "[[fleet]]\nname = \"police\"\nkind = \"police\"\ncount = {}\ncost_per_unit_hour = 60\nafter_clear = \"{}\"\n",
        p.police,
        after(p.police_return)
    );
    if with_care && p.care > 0 {
        text += &format!(
            "[[fleet]]\nname = \"care\"\nkind = \"care\"\ncount = {}\ncost_per_unit_hour = 100\nafter_clear = \"{}\"\n",
            p.care,
            after(p.care_return)
        );
        if let Some((start, hours)) = p.care_shift {
            text += &format!("[[fleet.shifts]]\nstart_hour = {start}\nhours = {hours}\n");
        }
        // Clinicians on the care teams' hours, and a small crisis line, for the variants.
        text += &format!(
            "[[fleet]]\nname = \"clinicians\"\nkind = \"clinician\"\ncount = {}\ncost_per_unit_hour = 60\n",
            p.care
        );
        if let Some((start, hours)) = p.care_shift {
            text += &format!("[[fleet.shifts]]\nstart_hour = {start}\nhours = {hours}\n");
        }
        text += "[[fleet]]\nname = \"line\"\nkind = \"counsellor\"\ncount = 1\ncost_per_unit_hour = 40\n\
                 call_minutes = { dist = \"lognormal\", mean = 20, sd = 10 }\n";
    }
    text += &format!(
        "[[policies]]\npolicy = \"police_only\"\n[[policies]]\npolicy = \"care_first\"\n\
         max_care_wait_minutes = {}\neligible_sent_to_police = {}\nineligible_sent_to_care = {}\n",
        p.wait, p.miss, p.false_positive
    );
    if with_care && p.care > 0 {
        let triage = format!(
            "sensitivity = {}\nspecificity = {}\n",
            1.0 - p.miss,
            1.0 - p.false_positive
        );
        text += &format!(
            "[[policies]]\npolicy = \"care_with_backup\"\nmax_care_wait_minutes = {}\npolice_alongside_share = 0.3\n{triage}\
             [[policies]]\npolicy = \"co_responder\"\n{triage}\
             [[policies]]\npolicy = \"phone_diversion\"\nshare_resolved_by_phone = 0.5\n\
             then = {{ policy = \"care_first\", max_care_wait_minutes = {} }}\n\
             [[policies]]\npolicy = \"care_follow_up\"\nwithin_hours = 6\n{triage}",
            p.wait, p.wait
        );
    }
    text
}

fn scenario(p: &Params, with_care: bool) -> Scenario {
    Scenario::from_toml_str(&toml(p, with_care), "random.toml")
        .unwrap_or_else(|e| panic!("{e}\n{}", toml(p, with_care)))
}

/// The random scenario with what happens after the scene: arrest, report and ER times, a
/// one-bed crisis center (so transports are turned away), an unlimited department and jail,
/// and a cost ledger.
fn with_consequences(p: &Params) -> Scenario {
    let last = p.zones - 1;
    let text = toml(p, true)
        + &format!(
            r#"
[outcome_time.police]
arrest = {{ dist = "lognormal", mean = 30, sd = 20 }}
report = {{ dist = "exponential", mean = 15 }}
[[facilities]]
name = "center"
kind = "crisis_center"
zone = "z{last}"
beds = 1
length_of_stay_hours = {{ dist = "exponential", mean = 4 }}
handover_minutes = {{ dist = "fixed", mean = 10 }}
[[facilities]]
name = "ed"
kind = "ed"
zone = "z0"
beds = "unlimited"
length_of_stay_hours = {{ dist = "lognormal", mean = 8, sd = 6 }}
handover_minutes = {{ dist = "lognormal", mean = 60, sd = 40 }}
used_by = ["police"]
[[facilities]]
name = "jail"
kind = "jail"
zone = "z{last}"
beds = "unlimited"
length_of_stay_hours = {{ dist = "lognormal", mean = 100, sd = 100 }}
handover_minutes = {{ dist = "gamma", mean = 45, sd = 20 }}
[transport]
treatment = ["center", "ed"]
booking = ["jail"]
[costs]
booking = 262
ed_visit = 630
"#
        );
    Scenario::from_toml_str(&text, "random.toml").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn records(scenario: &Scenario, policy: usize) -> Vec<CallRecord> {
    let mut out: Vec<CallRecord> = Vec::new();
    simulate(
        scenario,
        scenario.policies[policy].policy.as_ref(),
        CallGenerator::new(scenario, scenario.seed, 0),
        &mut out,
    );
    out.sort_by_key(|r| r.call.id);
    out
}

/// Whether unit `index_in_pool` of a shift pool is scheduled at `minute`.
fn on_shift(scenario: &Scenario, pool: usize, index_in_pool: u32, minute: f64) -> bool {
    let pool = &scenario.pools[pool];
    if pool.shifts.is_empty() {
        return true;
    }
    pool.shifts.iter().any(|block| {
        index_in_pool < block.count
            && (-1..=1).any(|offset: i64| {
                let day = (minute / 1440.0).floor() as i64 + offset;
                let start = day as f64 * 1440.0 + block.start_minute_of_day;
                block.days[scenario.weekday_of_day(day)]
                    && minute >= start - 1e-9
                    && minute <= start + block.length_minutes + 1e-9
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn engine_invariants_hold(p in params(), consequences in proptest::bool::ANY) {
        let scenario = if consequences {
            with_consequences(&p)
        } else {
            scenario(&p, true)
        };
        let generated = CallGenerator::new(&scenario, scenario.seed, 0).count();
        let first_unit: Vec<u32> = scenario
            .pools
            .iter()
            .scan(0, |next, pool| {
                let first = *next;
                *next += pool.count;
                Some(first)
            })
            .collect();
        for policy in 0..scenario.policies.len() {
            let records = records(&scenario, policy);
            // Every call ends exactly once.
            prop_assert_eq!(records.len(), generated);
            prop_assert!(records.iter().enumerate().all(|(i, r)| r.call.id == i as u64));

            let mut by_unit: BTreeMap<u32, Vec<Assignment>> = BTreeMap::new();
            for record in &records {
                let received = record.call.received_minutes;
                if let Some(response) = record.response_minutes() {
                    prop_assert!(response >= 0.0);
                }
                let units = record.primary.iter().chain(&record.backup).chain(&record.companion);
                for a in units.clone().chain(&record.follow_up) {
                    // Time never runs backwards within a call.
                    prop_assert!(received <= a.dispatched_minutes);
                    prop_assert!(a.dispatched_minutes <= a.on_scene_minutes);
                    prop_assert!(a.on_scene_minutes <= a.cleared_minutes);
                    by_unit.entry(a.unit.0).or_default().push(*a);
                }
                // The call clears with its last unit (a follow-up visit comes after).
                if let Some(cleared) = record.cleared_minutes {
                    for a in units {
                        prop_assert!(a.cleared_minutes <= cleared + 1e-9);
                    }
                    if let Some(visit) = record.follow_up {
                        prop_assert!(visit.dispatched_minutes >= cleared - 1e-9);
                    }
                }
                if let Some(backup) = record.backup {
                    prop_assert!(record.backup_requested);
                    prop_assert_eq!(backup.kind, ResponderKind::Police);
                    // Asked for from the scene, or sent alongside from the start.
                    prop_assert!(backup.dispatched_minutes >= record.primary.unwrap().dispatched_minutes);
                }
                if let Some(companion) = record.companion {
                    let police = record.primary.unwrap();
                    prop_assert_eq!(companion.kind, ResponderKind::Clinician);
                    prop_assert_eq!(police.kind, ResponderKind::Police);
                    // The clinician leaves the scene with the police unit, which may then
                    // take the person somewhere (after-the-scene sections).
                    if consequences {
                        prop_assert!(companion.cleared_minutes <= police.cleared_minutes);
                    } else {
                        prop_assert_eq!(companion.cleared_minutes, police.cleared_minutes);
                    }
                }
                if record.resolved_by_phone() {
                    prop_assert!(record.backup.is_none() && record.companion.is_none());
                }
                if record.unserved_at_horizon {
                    prop_assert!(record.cleared_minutes.is_none());
                }
            }
            // No unit serves two calls at once, and none starts work off shift.
            for (unit, mut jobs) in by_unit {
                jobs.sort_by(|a, b| a.dispatched_minutes.total_cmp(&b.dispatched_minutes));
                for pair in jobs.windows(2) {
                    prop_assert!(
                        pair[1].dispatched_minutes >= pair[0].cleared_minutes,
                        "unit {} sent at {} while busy until {}", unit, pair[1].dispatched_minutes, pair[0].cleared_minutes
                    );
                }
                let pool = usize::from(jobs[0].pool.0);
                for job in &jobs {
                    prop_assert!(on_shift(&scenario, pool, unit - first_unit[pool], job.dispatched_minutes),
                        "unit {} sent off shift at {}", unit, job.dispatched_minutes);
                }
            }
        }
    }

    #[test]
    fn police_only_ignores_care_teams(p in params()) {
        let with_care = records(&scenario(&p, true), 0);
        let without = records(&scenario(&p, false), 0);
        prop_assert_eq!(with_care, without);
    }

    #[test]
    fn care_first_without_care_teams_is_police_only(p in params()) {
        let scenario = scenario(&p, false);
        let police_only = records(&scenario, 0);
        let care_first = records(&scenario, 1);
        for (a, b) in police_only.iter().zip(&care_first) {
            prop_assert_eq!(a.primary, b.primary);
            prop_assert_eq!(a.cleared_minutes, b.cleared_minutes);
            prop_assert_eq!(a.outcomes, b.outcomes);
            prop_assert_eq!(a.unserved_at_horizon, b.unserved_at_horizon);
        }
        prop_assert_eq!(police_only.len(), care_first.len());
    }
}

/// Adding a police unit should never make the mean queue wait worse in expectation. On one
/// sample path it can (a unit's position changes who goes where, which can leave a later
/// call waiting), so this checks a fixed set of seeds, prints every exception, and requires
/// them to be rare and the average to improve.
#[test]
fn adding_a_unit_does_not_worsen_mean_wait_except_rarely() {
    let mut scenario = Scenario::default_scenario();
    scenario.horizon_days = 15.0;
    scenario.warmup_days = 1.0;
    let police = scenario
        .pools
        .iter()
        .position(|p| p.kind == ResponderKind::Police)
        .unwrap();
    let baseline = &scenario.policies[0];
    assert_eq!(baseline.rule, "police_only");
    let wait = |scenario: &Scenario, seed: u64| -> f64 {
        let mut records: Vec<CallRecord> = Vec::new();
        simulate(
            scenario,
            scenario.policies[0].policy.as_ref(),
            CallGenerator::new(scenario, seed, 0),
            &mut records,
        );
        let waits: Vec<f64> = records
            .iter()
            .filter(|r| r.call.received_minutes >= scenario.warmup_minutes())
            .filter_map(CallRecord::wait_minutes)
            .collect();
        waits.iter().sum::<f64>() / waits.len() as f64
    };
    let mut exceptions = Vec::new();
    let mut total_change = 0.0;
    let seeds = 0..24u64;
    let trials = seeds.clone().count() * 3;
    for seed in seeds {
        for count in [44u32, 48, 52] {
            let mut fewer = scenario.clone();
            fewer.pools[police].set_count(count);
            let mut more = scenario.clone();
            more.pools[police].set_count(count + 1);
            let (before, after) = (wait(&fewer, seed), wait(&more, seed));
            total_change += after - before;
            if after > before {
                exceptions.push(format!(
                    "seed {seed}, {count} -> {} units: mean wait {before:.4} -> {after:.4} min",
                    count + 1
                ));
            }
        }
    }
    for exception in &exceptions {
        println!("exception: {exception}");
    }
    println!(
        "{} of {trials} unit additions made the mean wait worse on their sample path",
        exceptions.len()
    );
    assert!(
        exceptions.len() * 10 <= trials,
        "too many exceptions: {exceptions:#?}"
    );
    assert!(
        total_change < 0.0,
        "adding units made waits worse on average"
    );
}
