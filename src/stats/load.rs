//! `crisis-sim validate`: what a scenario implies before anything is simulated. Offered load
//! and its ratio to the hours on duty per pool under each policy, the eligible share, and warnings where
//! a pool cannot keep up. Each policy's routing shares are measured by asking the policy itself
//! about sample calls, so this works for any policy without knowing its rule.
//!
//! Offered load ignores queueing and overflow: it is what the policy *sends* each pool, which
//! is the right test for "can this pool keep up at all?".

use std::fmt::Write;

use crate::calls::Call;
use crate::calls::rng;
use crate::policy::{CallContext, Route, SystemView};
use crate::scenario::{
    AfterClear, CallTypeId, KINDS, PolicySpec, Pool, ResponderKind, Scenario, ZoneId,
};

/// Sample calls per call type used to measure a policy's routing shares.
const ROUTING_SAMPLES: u64 = 20_000;
const HOURS_PER_WEEK: usize = 168;

/// Load on one pool under one policy.
#[derive(Clone, Debug, PartialEq)]
pub struct PoolLoad {
    pub pool: String,
    /// False when the policy's program does not include this pool's kind.
    pub used: bool,
    pub kind: ResponderKind,
    /// Average on-duty unit-hours per day.
    pub on_duty_unit_hours_per_day: f64,
    /// Average unit-hours of work sent to the pool per day.
    pub offered_unit_hours_per_day: f64,
    pub expected_utilization: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PolicyLoad {
    pub label: String,
    /// Share of all calls the policy routes to care (when a team is on duty).
    pub routed_to_care_share: f64,
    pub pools: Vec<PoolLoad>,
}

/// What `validate` prints.
#[derive(Clone, Debug, PartialEq)]
pub struct ScenarioReport {
    pub name: String,
    pub calls_per_day: f64,
    pub eligible_share: f64,
    pub policies: Vec<PolicyLoad>,
    pub warnings: Vec<String>,
}

/// Fraction of each hour of the week (Monday 00:00 first) a shift block's units are on duty.
fn block_coverage(pool: &Pool) -> Vec<[f64; HOURS_PER_WEEK]> {
    pool.shifts
        .iter()
        .map(|block| {
            let mut coverage = [0.0; HOURS_PER_WEEK];
            for (day, works) in block.days.iter().enumerate() {
                if !works {
                    continue;
                }
                let start = day as f64 * 1440.0 + block.start_minute_of_day;
                let end = start + block.length_minutes;
                for (hour, c) in coverage.iter_mut().enumerate() {
                    // The block may run past Sunday midnight into Monday: check both weeks.
                    for shift in [0.0, 10_080.0] {
                        let (h0, h1) = (
                            hour as f64 * 60.0 + shift,
                            hour as f64 * 60.0 + 60.0 + shift,
                        );
                        *c += (end.min(h1) - start.max(h0)).max(0.0) / 60.0;
                    }
                }
            }
            coverage
        })
        .collect()
}

/// On-duty units of a pool in each hour of the week.
fn units_on_duty(pool: &Pool) -> [f64; HOURS_PER_WEEK] {
    if pool.shifts.is_empty() {
        return [f64::from(pool.count); HOURS_PER_WEEK];
    }
    let mut units = [0.0; HOURS_PER_WEEK];
    for (block, coverage) in pool.shifts.iter().zip(block_coverage(pool)) {
        for (u, c) in units.iter_mut().zip(coverage) {
            *u += c.min(1.0) * f64::from(block.count);
        }
    }
    units.map(|u| u.min(f64::from(pool.count)))
}

/// The hours of the day in which any unit of the pool is scheduled on any day (24/7 pools:
/// all). Outside them a pool is off shift: the only time it is on duty there is a unit
/// finishing a call past its shift's end.
pub fn scheduled_hours_of_day(pool: &Pool) -> [bool; 24] {
    let units = units_on_duty(pool);
    std::array::from_fn(|hour| (0..7).any(|day| units[day * 24 + hour] > 0.0))
}

/// Mean travel minutes to a call for units of `kind`, if the nearest one is at its base.
fn mean_travel(scenario: &Scenario, kind: ResponderKind) -> f64 {
    let homes: Vec<ZoneId> = scenario
        .pools
        .iter()
        .filter(|p| p.kind == kind)
        .flat_map(|p| p.home_zones.iter().copied())
        .collect();
    scenario
        .zones
        .iter()
        .enumerate()
        .map(|(z, zone)| {
            let nearest = homes
                .iter()
                .map(|&h| scenario.travel.mean_minutes(h, ZoneId(z as u16)))
                .fold(f64::INFINITY, f64::min);
            zone.share * if nearest.is_finite() { nearest } else { 0.0 }
        })
        .sum()
}

/// Shares of one call type's calls a policy sends each way (measured on sample calls).
#[derive(Clone, Copy, Debug, Default)]
struct RouteShares {
    /// To a care team (alone or with police alongside).
    care: f64,
    /// Of those, with police sent alongside.
    care_with_police: f64,
    /// Police with a clinician.
    co_response: f64,
    /// To the crisis line.
    phone: f64,
    /// Followed up by a care team after police clear.
    follow_up: f64,
}

/// How a policy routes each call type, measured by asking it about sample calls.
fn route_shares(scenario: &Scenario, label: &str) -> Vec<RouteShares> {
    let Some(spec) = scenario.policy(label) else {
        return vec![RouteShares::default(); scenario.call_types.len()];
    };
    let view = SystemView {
        free_units: [1; KINDS],
        on_duty_units: [1; KINDS],
    };
    scenario
        .call_types
        .iter()
        .enumerate()
        .map(|(t, call_type)| {
            let mut shares = RouteShares::default();
            let each = 1.0 / ROUTING_SAMPLES as f64;
            for id in 0..ROUTING_SAMPLES {
                let call = Call {
                    id,
                    received_minutes: 0.0,
                    call_type: CallTypeId(t as u16),
                    zone: ZoneId(0),
                    draw_key: rng::call_key(rng::replication_key(scenario.seed, u64::MAX), id),
                };
                let routing = spec.policy.route(
                    &CallContext {
                        call: &call,
                        call_type,
                    },
                    &view,
                );
                match routing.route {
                    Route::Care { .. } => shares.care += each,
                    Route::CareWithPolice { .. } => {
                        shares.care += each;
                        shares.care_with_police += each;
                    }
                    Route::CoResponse => shares.co_response += each,
                    Route::Phone => shares.phone += each,
                    Route::Police => {}
                }
                if routing.follow_up_within_minutes.is_some() {
                    shares.follow_up += each;
                }
            }
            shares
        })
        .collect()
}

/// Derives loads and warnings for every policy of the scenario.
pub fn analyse(scenario: &Scenario) -> ScenarioReport {
    let week = Week::of(scenario);
    let mut warnings = Vec::new();
    let mut policies = Vec::new();
    for spec in &scenario.policies {
        let routes = route_shares(scenario, &spec.label);
        let to_care: Vec<f64> = routes.iter().map(|r| r.care).collect();
        let offered = week.offered_minutes(&routes, &to_care);
        policies.push(PolicyLoad {
            label: spec.label.clone(),
            routed_to_care_share: week.routed_to_care_share(&to_care),
            pools: week.pool_loads(spec, &offered, &mut warnings),
        });
    }
    ScenarioReport {
        name: scenario.name.clone(),
        calls_per_day: scenario.demand.calls_per_day,
        eligible_share: scenario.eligible_share(),
        policies,
        warnings,
    }
}

/// A scenario's week, hour by hour: calls, units on duty, and the minutes a call takes.
struct Week<'a> {
    scenario: &'a Scenario,
    /// Calls in each hour of the week.
    calls_per_hour: Vec<f64>,
    /// Mean travel minutes per responder kind.
    travel: [f64; KINDS],
    /// Minutes of a crisis-line call.
    phone_minutes: f64,
    /// Units on duty per pool in each hour of the week.
    duty: Vec<[f64; HOURS_PER_WEEK]>,
}

impl<'a> Week<'a> {
    fn of(scenario: &'a Scenario) -> Self {
        let demand = &scenario.demand;
        Self {
            scenario,
            calls_per_hour: (0..HOURS_PER_WEEK)
                .map(|h| demand.rate_per_minute(h / 24, h % 24) * 60.0)
                .collect(),
            travel: ResponderKind::ALL.map(|kind| mean_travel(scenario, kind)),
            phone_minutes: scenario
                .pools
                .iter()
                .find_map(|p| p.call_minutes.as_ref().map(|d| d.mean()))
                .unwrap_or(0.0),
            duty: scenario.pools.iter().map(units_on_duty).collect(),
        }
    }

    /// Minutes a unit of `kind` works a call of type `t`: police and clinicians for the police
    /// on-scene time, care teams for theirs, plus travel and the expected time after the scene.
    fn work_minutes(&self, t: usize, kind: ResponderKind) -> f64 {
        let scene = usize::from(kind == ResponderKind::Care);
        self.scenario.call_types[t].on_scene[scene].mean()
            + self.travel[kind.index()]
            + self.after_scene_minutes(t, kind)
    }

    /// Expected minutes the outcomes of a call of type `t` keep a police unit or care team
    /// after the scene: outcome time, and the drive to the first facility on the list that
    /// takes the kind plus its handover (turn-aways left out: an estimate).
    fn after_scene_minutes(&self, t: usize, kind: ResponderKind) -> f64 {
        let scenario = self.scenario;
        let k = match kind {
            ResponderKind::Police => 0,
            ResponderKind::Care => 1,
            _ => return 0.0,
        };
        let call_type = &scenario.call_types[t];
        let p = &call_type.outcomes[k];
        let time = &scenario.outcome_time[k];
        let mean = |spec: &Option<crate::scenario::distribution::DurationSpec>| {
            spec.as_ref().map_or(0.0, |d| d.mean())
        };
        let reportable = 1.0 - (1.0 - p.arrest) * (1.0 - p.force) * (1.0 - p.er_transport);
        let mut minutes = p.arrest * mean(&time.arrest)
            + p.er_transport * mean(&time.er_transport)
            + reportable * mean(&time.report);
        // The drive from the call's zone (by zone share) to a facility, and its handover.
        let trip = |list: &[u16]| -> f64 {
            list.iter()
                .map(|&f| &scenario.facilities[usize::from(f)])
                .find(|f| f.takes_from(kind))
                .map_or(0.0, |f| {
                    let drive: f64 = scenario
                        .zones
                        .iter()
                        .enumerate()
                        .map(|(z, zone)| {
                            zone.share * scenario.travel.mean_minutes(ZoneId(z as u16), f.zone)
                        })
                        .sum();
                    drive + f.handover_minutes.mean()
                })
        };
        let treatment = call_type
            .transport_to
            .as_deref()
            .unwrap_or(&scenario.transport.treatment);
        minutes += p.er_transport * trip(treatment);
        if kind == ResponderKind::Police {
            minutes += p.booking * trip(&scenario.transport.booking);
        }
        minutes
    }

    /// Units of `kind` on duty in hour `h` of the week.
    fn duty_by_kind(&self, kind: ResponderKind, h: usize) -> f64 {
        self.scenario
            .pools
            .iter()
            .zip(&self.duty)
            .filter(|(p, _)| p.kind == kind)
            .map(|(_, d)| d[h])
            .sum()
    }

    /// Minutes of work per kind over a week under a policy's route shares.
    fn offered_minutes(&self, routes: &[RouteShares], to_care: &[f64]) -> [f64; KINDS] {
        let (scenario, calls_per_hour) = (self.scenario, &self.calls_per_hour);
        let (travel, phone_minutes) = (&self.travel, self.phone_minutes);
        let work_minutes = |t: usize, kind: ResponderKind| self.work_minutes(t, kind);
        let duty_by_kind = |kind: ResponderKind, h: usize| self.duty_by_kind(kind, h);
        let mut offered = [0.0f64; KINDS];
        for (h, &calls) in calls_per_hour.iter().enumerate() {
            let care_on = duty_by_kind(ResponderKind::Care, h) > 0.0;
            let line_on = duty_by_kind(ResponderKind::Counsellor, h) > 0.0;
            let clinician_on = duty_by_kind(ResponderKind::Clinician, h) > 0.0;
            for (t, call_type) in scenario.call_types.iter().enumerate() {
                let n = calls * call_type.share;
                let route = routes[t];
                let care_share = if care_on { to_care[t] } else { 0.0 };
                // Calls the line takes reach no unit (assuming the line has room for them).
                let phone_share = if line_on { route.phone } else { 0.0 };
                let police = ResponderKind::Police;
                offered[police.index()] +=
                    n * (1.0 - care_share - phone_share) * work_minutes(t, police);
                offered[ResponderKind::Counsellor.index()] += n * phone_share * phone_minutes;
                if clinician_on {
                    offered[ResponderKind::Clinician.index()] +=
                        n * route.co_response * work_minutes(t, ResponderKind::Clinician);
                }
                offered[ResponderKind::Care.index()] +=
                    n * route.follow_up * work_minutes(t, ResponderKind::Care);
                if care_on {
                    offered[police.index()] += n * route.care_with_police * work_minutes(t, police);
                }
                if care_share > 0.0 {
                    let care = ResponderKind::Care;
                    let returns = scenario
                        .pools
                        .iter()
                        .any(|p| p.kind == care && p.after_clear == AfterClear::Return);
                    let back = if returns { travel[care.index()] } else { 0.0 };
                    offered[care.index()] += n * care_share * (work_minutes(t, care) + back);
                    let backup = if call_type.care_eligible {
                        call_type.care_backup
                    } else {
                        1.0
                    };
                    offered[police.index()] += n * care_share * backup * work_minutes(t, police);
                }
            }
        }
        offered
    }

    /// The share of a week's calls the policy routes to care while a team is on duty.
    fn routed_to_care_share(&self, to_care: &[f64]) -> f64 {
        let (scenario, calls_per_hour) = (self.scenario, &self.calls_per_hour);
        let duty_by_kind = |kind: ResponderKind, h: usize| self.duty_by_kind(kind, h);
        let total_calls: f64 = calls_per_hour.iter().sum();
        calls_per_hour
            .iter()
            .enumerate()
            .filter(|(h, _)| duty_by_kind(ResponderKind::Care, *h) > 0.0)
            .map(|(_, calls)| {
                calls
                    * scenario
                        .call_types
                        .iter()
                        .zip(to_care)
                        .map(|(t, c)| t.share * c)
                        .sum::<f64>()
            })
            .sum::<f64>()
            / total_calls
    }

    /// Each pool's offered and on-duty hours and their ratio (the offered load); overloads of pools the
    /// policy uses are added to `warnings`.
    fn pool_loads(
        &self,
        spec: &PolicySpec,
        offered: &[f64; KINDS],
        warnings: &mut Vec<String>,
    ) -> Vec<PoolLoad> {
        let duty_by_kind = |kind: ResponderKind, h: usize| self.duty_by_kind(kind, h);
        let mut pools = Vec::new();
        for (pool, duty) in self.scenario.pools.iter().zip(&self.duty) {
            let on_duty_hours_per_week: f64 = duty.iter().sum();
            let kind_hours_per_week: f64 = (0..HOURS_PER_WEEK)
                .map(|h| duty_by_kind(pool.kind, h))
                .sum();
            // Pools of one kind share that kind's work in proportion to their hours.
            let share = if kind_hours_per_week > 0.0 {
                on_duty_hours_per_week / kind_hours_per_week
            } else {
                0.0
            };
            let offered_hours_per_day = offered[pool.kind.index()] * share / 60.0 / 7.0;
            let on_duty_per_day = on_duty_hours_per_week / 7.0;
            let utilization = if on_duty_per_day > 0.0 {
                offered_hours_per_day / on_duty_per_day
            } else {
                f64::NAN
            };
            if spec.policy.uses(pool.kind) && utilization >= 1.0 {
                warnings.push(match pool.kind {
                ResponderKind::Police => format!(
                    "under {}, pool `{}` is overloaded (offered load {utilization:.2} of its hours on duty, >= 1): \
                     its queue will grow without bound; add units or route more calls elsewhere",
                    spec.label, pool.name
                ),
                ResponderKind::Care => format!(
                    "under {}, pool `{}` is sent more work than it has hours (offered load \
                     {utilization:.2} of its hours on duty, >= 1): many calls routed to care will overflow to police",
                    spec.label, pool.name
                ),
                ResponderKind::Clinician | ResponderKind::Counsellor => format!(
                    "under {}, pool `{}` is sent more work than it has hours (offered load \
                     {utilization:.2} of its hours on duty, >= 1): many calls will go to police alone",
                    spec.label, pool.name
                ),
            });
            }
            pools.push(PoolLoad {
                pool: pool.name.clone(),
                used: spec.policy.uses(pool.kind),
                kind: pool.kind,
                on_duty_unit_hours_per_day: on_duty_per_day,
                offered_unit_hours_per_day: offered_hours_per_day,
                expected_utilization: utilization,
            });
        }
        pools
    }
}

/// The report as text.
pub fn render(scenario: &Scenario, report: &ScenarioReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Scenario `{}` ({}) is valid.",
        report.name, scenario.source
    );
    let _ = writeln!(
        out,
        "  {} residents; {:.0} calls/day ({:.2} per resident per year); {:.1}% care-eligible",
        crate::output::format_number(scenario.population, 0),
        report.calls_per_day,
        report.calls_per_day * 365.0 / scenario.population,
        // `+ 0.0` turns a -0.0 into 0.0, which prints without a sign.
        report.eligible_share * 100.0 + 0.0
    );
    let _ = writeln!(
        out,
        "  horizon {} days, warm-up {} days; {} zones, {} call types, {} pools; {} replications, seed {}",
        scenario.horizon_days,
        scenario.warmup_days,
        scenario.zones.len(),
        scenario.call_types.len(),
        scenario.pools.len(),
        scenario.replications,
        scenario.seed
    );
    let _ = writeln!(
        out,
        "\nOffered load per pool: the work a policy sends each pool over its hours on duty. It is\n\
         not the utilization a run measures: waits, overflow to police and backup change that\n\
         (a care pool offered 1.05 may measure 0.70, the rest overflowing to police)."
    );
    for policy in &report.policies {
        let _ = writeln!(
            out,
            "  {}: {:.1}% of calls routed to care",
            policy.label,
            policy.routed_to_care_share * 100.0 + 0.0
        );
        for pool in &policy.pools {
            if !pool.used {
                let _ = writeln!(
                    out,
                    "    {:<12} not part of this policy's program",
                    pool.pool
                );
                continue;
            }
            let _ = writeln!(
                out,
                "    {:<12} {:>7.1} unit-h/day on duty, {:>7.1} unit-h/day offered, offered load {:.2}",
                pool.pool,
                pool.on_duty_unit_hours_per_day,
                pool.offered_unit_hours_per_day,
                pool.expected_utilization
            );
        }
    }
    if report.warnings.is_empty() {
        let _ = writeln!(out, "\nNo warnings.");
    } else {
        let _ = writeln!(out);
        for warning in &report.warnings {
            let _ = writeln!(out, "warning: {warning}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_scenario_loads_are_plausible() {
        let scenario = Scenario::default_scenario();
        let report = analyse(&scenario);
        assert!(report.warnings.is_empty(), "{:?}", report.warnings);
        let police_only = &report.policies[0];
        assert_eq!(police_only.routed_to_care_share, 0.0);
        let police = &police_only.pools[0];
        assert_eq!(
            police.on_duty_unit_hours_per_day,
            f64::from(scenario.pools[0].count) * 24.0
        );
        assert!(
            (0.4..0.8).contains(&police.expected_utilization),
            "{police:?}"
        );
        let care_first = &report.policies[1];
        // 14% eligible x 90% triaged x ~75% of calls in care hours, + 1% of the rest.
        assert!(
            (0.09..0.12).contains(&care_first.routed_to_care_share),
            "{care_first:?}"
        );
        assert_eq!(care_first.pools[1].on_duty_unit_hours_per_day, 8.0 * 16.0);
        assert!(care_first.pools[0].offered_unit_hours_per_day < police.offered_unit_hours_per_day);
    }

    #[test]
    fn an_overloaded_police_pool_is_warned_about() {
        let mut scenario = Scenario::default_scenario();
        scenario.pools[0].count = 20;
        let report = analyse(&scenario);
        assert!(
            report
                .warnings
                .iter()
                .any(|w| w.contains("`police` is overloaded")),
            "{:?}",
            report.warnings
        );
    }

    #[test]
    fn shift_coverage_wraps_past_midnight() {
        let mut scenario = Scenario::default_scenario();
        let pool = &mut scenario.pools[1];
        pool.shifts[0].start_minute_of_day = 19.0 * 60.0;
        pool.shifts[0].length_minutes = 8.0 * 60.0;
        let units = units_on_duty(pool);
        assert_eq!(units[19], 8.0);
        assert_eq!(units[24 + 2], 8.0); // Tuesday 02:00, from Monday's block
        assert_eq!(units[2], 8.0); // Monday 02:00, from Sunday's block
        assert_eq!(units[12], 0.0);
        assert_eq!(units.iter().sum::<f64>(), 8.0 * 8.0 * 7.0);
    }
}
