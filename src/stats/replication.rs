//! One replication's figures, folded from call records in fixed memory: counters, sums, and
//! HDR histograms for percentiles (0.1% relative precision, size independent of call count).
//! Calls received during the warm-up are left out.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::figures as key;

use crate::calls::rng::{self, Purpose};
use crate::engine::record::{CallRecord, FleetTotals, Observer};
use crate::scenario::distribution::Sampler;
use crate::scenario::{Cost, CostLine, FacilityKind, ResponderKind, Scenario};

/// Histogram resolution: values are recorded in thousandths of a minute.
const TICKS_PER_MINUTE: f64 = 1000.0;
const DAYS_PER_YEAR: f64 = 365.0;

/// A figure's name and unit. `key` is stable: results files and targets refer to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FigureDef {
    pub key: String,
    pub label: String,
    pub unit: String,
    /// A detail figure (one hour of an hourly profile): kept in files, left out of the main
    /// table.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub detail: bool,
}

/// An HDR histogram's counts (3 significant figures, lowest discernible value 1), recorded
/// into a plain array: the same bucket for every value as `hdrhistogram` gives, at a fraction
/// of its cost per record (no range check past the array's, no min/max upkeep). Percentiles
/// come from an `hdrhistogram::Histogram` rebuilt from the counts, identical to one that had
/// recorded the values itself (a test checks both ways agree).
#[derive(Clone, Debug)]
struct TickCounts {
    counts: Box<[u64]>,
    /// The highest trackable value: a value past the array is counted as this (as
    /// `saturating_record` does).
    highest: u64,
}

/// HDR's layout for 3 significant figures and a lowest value of 1: 2,048 sub-buckets, the
/// first bucket's lower half shared.
const SUB_BUCKET_HALF_COUNT_MAGNITUDE: u32 = 10;
const SUB_BUCKET_HALF_COUNT: usize = 1 << SUB_BUCKET_HALF_COUNT_MAGNITUDE;
const SUB_BUCKET_MASK: u64 = (2 * SUB_BUCKET_HALF_COUNT as u64) - 1;
/// 64 less the bits of the largest value in bucket 0.
const LEADING_ZERO_COUNT_BASE: u32 = 64 - (SUB_BUCKET_HALF_COUNT_MAGNITUDE + 1);

impl TickCounts {
    fn new(highest: u64) -> Self {
        let len = Self::len_for(highest);
        Self {
            counts: vec![0; len].into_boxed_slice(),
            highest,
        }
    }

    /// How many counts HDR keeps to track values up to `highest` (its `buckets_to_cover`):
    /// one more bucket each time the range doubles past the first bucket's 2,048 values, and
    /// half a bucket's worth of counts per bucket, plus the first bucket's lower half.
    fn len_for(highest: u64) -> usize {
        let mut smallest_untrackable = 2 * SUB_BUCKET_HALF_COUNT as u64;
        let mut buckets = 1;
        while smallest_untrackable <= highest {
            if smallest_untrackable > u64::MAX / 2 {
                buckets += 1;
                break;
            }
            smallest_untrackable <<= 1;
            buckets += 1;
        }
        (buckets + 1) * SUB_BUCKET_HALF_COUNT
    }

    /// HDR's `index_for`.
    #[inline(always)]
    fn index_of(value: u64) -> usize {
        let bucket = LEADING_ZERO_COUNT_BASE - (value | SUB_BUCKET_MASK).leading_zeros();
        let sub_bucket = (value >> bucket) as usize;
        ((bucket as usize + 1) << SUB_BUCKET_HALF_COUNT_MAGNITUDE) + sub_bucket
            - SUB_BUCKET_HALF_COUNT
    }

    /// HDR's `value_for`: the lowest value of the bucket at `index`.
    fn value_of(index: usize) -> u64 {
        let bucket = (index >> SUB_BUCKET_HALF_COUNT_MAGNITUDE) as i64 - 1;
        let sub_bucket = (index & (SUB_BUCKET_HALF_COUNT - 1)) + SUB_BUCKET_HALF_COUNT;
        if bucket < 0 {
            (sub_bucket - SUB_BUCKET_HALF_COUNT) as u64
        } else {
            (sub_bucket as u64) << bucket
        }
    }

    #[inline(always)]
    fn record(&mut self, value: u64) {
        match self.counts.get_mut(Self::index_of(value)) {
            Some(count) => *count += 1,
            None => self.counts[Self::index_of(self.highest)] += 1,
        }
    }

    fn add(&mut self, other: &TickCounts) {
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts.iter()) {
            *mine += theirs;
        }
    }

    /// The `hdrhistogram` histogram with these counts.
    fn histogram(&self) -> Histogram<u64> {
        let mut histogram = Histogram::<u64>::new_with_max(self.highest, 3)
            .expect("3 significant figures and a max >= 2048 are valid bounds");
        for (index, &count) in self.counts.iter().enumerate() {
            if count > 0 {
                histogram.saturating_record_n(Self::value_of(index), count);
            }
        }
        histogram
    }
}

/// Mean, median and 90th percentile of a time, in fixed memory.
#[derive(Clone, Debug)]
struct TimeSummary {
    count: u64,
    sum_minutes: f64,
    ticks: TickCounts,
}

impl TimeSummary {
    fn new(max_minutes: f64) -> Self {
        let max_ticks = ((max_minutes * TICKS_PER_MINUTE) as u64).max(2048);
        Self {
            count: 0,
            sum_minutes: 0.0,
            ticks: TickCounts::new(max_ticks),
        }
    }

    #[inline]
    fn record(&mut self, minutes: f64) {
        self.count += 1;
        self.sum_minutes += minutes;
        // Times are >= 0, so adding a half and truncating rounds (f64::round is a libm call).
        // Through i64: a float-to-u64 conversion costs a second path for values of 2^63 and
        // more, which no time here reaches (and both saturate into the last bucket).
        self.ticks
            .record((minutes * TICKS_PER_MINUTE + 0.5).max(0.0) as i64 as u64);
    }

    /// The union of several summaries (the counts add exactly).
    fn merged<'a>(parts: impl Iterator<Item = &'a TimeSummary>, max_minutes: f64) -> Self {
        let mut out = Self::new(max_minutes);
        for part in parts {
            out.count += part.count;
            out.sum_minutes += part.sum_minutes;
            out.ticks.add(&part.ticks);
        }
        out
    }

    fn mean(&self) -> f64 {
        if self.count == 0 {
            f64::NAN
        } else {
            self.sum_minutes / self.count as f64
        }
    }

    fn quantile(&self, q: f64) -> f64 {
        self.quantiles([q])[0]
    }

    /// Several quantiles from one rebuilt histogram.
    fn quantiles<const N: usize>(&self, qs: [f64; N]) -> [f64; N] {
        if self.count == 0 {
            return [f64::NAN; N];
        }
        let histogram = self.ticks.histogram();
        qs.map(|q| histogram.value_at_quantile(q) as f64 / TICKS_PER_MINUTE)
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct OutcomeCounts {
    arrests: u64,
    bookings: u64,
    force: u64,
    injuries: u64,
    er_transports: u64,
    backups: u64,
}

/// Folds one replication's call records (an [`Observer`]) into its figures.
#[derive(Clone, Debug)]
pub struct ReplicationStats {
    warmup_minutes: f64,
    /// Position of each priority (1-9) in `by_priority`.
    priority_slot: [usize; 10],
    priorities: Vec<u8>,
    calls: u64,
    eligible_calls: u64,
    unserved: u64,
    max_minutes: f64,
    /// Responses are recorded once, by priority; the overall summary is their merge.
    response_eligible: TimeSummary,
    response_by_priority: Vec<TimeSummary>,
    wait: TimeSummary,
    waited: u64,
    care_handled: u64,
    eligible_care_handled: u64,
    routed_to_care: u64,
    overflowed: u64,
    /// Resolved by a crisis-line counsellor (no unit went).
    phone_resolved: u64,
    /// Attended by a clinician with police.
    co_responded: u64,
    follow_ups: u64,
    follow_ups_missed: u64,
    /// The scenario has clinician or counsellor pools, or a policy that follows up.
    program_variants: bool,
    outcomes: OutcomeCounts,
    /// With `report_hourly`: eligible calls by hour of day received, and those of them no care
    /// team handled.
    hourly: bool,
    eligible_by_hour: [u64; 24],
    eligible_unmet_by_hour: [u64; 24],
    /// With `report_hourly`: call-minutes spent waiting for a first unit, by hour of day.
    waiting_by_hour: [f64; 24],
    /// With a costed jail line: days in jail per booking, and their sum.
    jail_days: Option<Sampler>,
    jail_days_sum: f64,
    /// With `[dispatch_delay]`: call processing and travel of served calls (the response
    /// taken apart, with the queue wait).
    parts: Option<Box<(TimeSummary, TimeSummary)>>,
    /// With call types that are not 911 demand: which (by call type); their calls are left out.
    not_demand: Option<Vec<bool>>,
}

impl ReplicationStats {
    pub fn new(scenario: &Scenario) -> Self {
        let priorities = scenario.priorities();
        let mut priority_slot = [0; 10];
        for (i, &p) in priorities.iter().enumerate() {
            priority_slot[usize::from(p)] = i;
        }
        let max = scenario.horizon_minutes();
        Self {
            warmup_minutes: scenario.warmup_minutes(),
            priority_slot,
            response_by_priority: priorities.iter().map(|_| TimeSummary::new(max)).collect(),
            priorities,
            calls: 0,
            eligible_calls: 0,
            unserved: 0,
            max_minutes: max,
            response_eligible: TimeSummary::new(max),
            wait: TimeSummary::new(max),
            waited: 0,
            care_handled: 0,
            eligible_care_handled: 0,
            routed_to_care: 0,
            overflowed: 0,
            phone_resolved: 0,
            co_responded: 0,
            follow_ups: 0,
            follow_ups_missed: 0,
            program_variants: scenario
                .pools
                .iter()
                .any(|p| matches!(p.kind, ResponderKind::Clinician | ResponderKind::Counsellor))
                || scenario.policies.iter().any(|p| p.policy.follows_up()),
            outcomes: OutcomeCounts::default(),
            hourly: scenario.report_hourly,
            eligible_by_hour: [0; 24],
            eligible_unmet_by_hour: [0; 24],
            waiting_by_hour: [0.0; 24],
            jail_days: scenario
                .costs
                .as_ref()
                .and_then(|costs| costs.jail_bed_days.as_ref())
                .map(|(_, days)| days.sampler()),
            jail_days_sum: 0.0,
            parts: scenario
                .dispatch_delay
                .is_some()
                .then(|| Box::new((TimeSummary::new(max), TimeSummary::new(max)))),
            not_demand: scenario
                .call_types
                .iter()
                .any(|t| !t.demand)
                .then(|| scenario.call_types.iter().map(|t| !t.demand).collect()),
        }
    }

    /// The figures, in a fixed order, with their definitions. `uses(kind)` says whether the
    /// policy's program includes pools of that kind (unused pools cost nothing).
    pub fn figures(
        &self,
        scenario: &Scenario,
        totals: &FleetTotals,
        uses: impl Fn(ResponderKind) -> bool,
    ) -> Vec<(FigureDef, f64)> {
        let mut out = Figures::default();
        let year_factor = DAYS_PER_YEAR / scenario.measured_days();
        self.volume_and_times(&mut out);
        self.program_shares(&mut out, scenario);
        Self::fleet_use(&mut out, scenario, totals, &uses, year_factor);
        self.outcome_rates(&mut out);
        Self::costs(&mut out, scenario, totals, &uses, year_factor);
        Self::after_the_scene(&mut out, scenario, totals, year_factor);
        self.ledger(&mut out, scenario, totals, year_factor);
        self.hourly_profiles(&mut out, scenario, totals, &uses);
        self.response_distribution(&mut out);
        out.0
    }

    /// Per 1,000 calls received (undefined with no calls).
    fn per_thousand(&self, count: u64) -> f64 {
        if self.calls == 0 {
            f64::NAN
        } else {
            count as f64 * 1000.0 / self.calls as f64
        }
    }

    /// Calls received, response times (overall, by priority, eligible), queue waits, and who
    /// handled the calls.
    fn volume_and_times(&self, out: &mut Figures) {
        let calls = self.calls as f64;
        out.push(key::CALLS, "Calls received", "calls", calls);
        out.push(
            key::ELIGIBLE_CALLS,
            "Care-eligible calls received",
            "calls",
            self.eligible_calls as f64,
        );
        let response = TimeSummary::merged(self.response_by_priority.iter(), self.max_minutes);
        out.times("", "Response time", &response);
        for (i, p) in self.priorities.iter().enumerate() {
            out.times(
                &key::priority_prefix(*p),
                &format!("Priority {p} response"),
                &self.response_by_priority[i],
            );
        }
        out.times(
            key::ELIGIBLE,
            "Eligible-call response",
            &self.response_eligible,
        );
        if let Some(parts) = &self.parts {
            let (delay, travel) = &**parts;
            out.push(
                key::DISPATCH_DELAY_MEAN,
                "Call processing (received to ready to dispatch), mean",
                "min",
                delay.mean(),
            );
            out.push(
                key::DISPATCH_DELAY_P90,
                "Call processing, 90th percentile",
                "min",
                delay.quantile(0.9),
            );
            out.push(
                key::TRAVEL_MEAN,
                "Travel of the first unit, mean",
                "min",
                travel.mean(),
            );
            out.push(
                key::TRAVEL_P90,
                "Travel of the first unit, 90th percentile",
                "min",
                travel.quantile(0.9),
            );
        }
        out.push(key::WAIT_MEAN, "Queue wait, mean", "min", self.wait.mean());
        out.push(
            key::WAIT_P90,
            "Queue wait, 90th percentile",
            "min",
            self.wait.quantile(0.9),
        );
        out.push(
            key::WAITED_SHARE,
            "Calls that waited for a unit",
            "share",
            share(self.waited, self.wait.count),
        );
        out.push(
            key::CARE_SHARE,
            "Calls handled by care teams",
            "share",
            share(self.care_handled, self.calls),
        );
        out.push(
            key::ELIGIBLE_CARE_SHARE,
            "Eligible calls handled by care teams",
            "share",
            share(self.eligible_care_handled, self.eligible_calls),
        );
        out.push(
            key::ELIGIBLE_OVERFLOW_SHARE,
            "Calls routed to care that went to police",
            "share",
            share(self.overflowed, self.routed_to_care),
        );
    }

    /// Figures of program shapes only some scenarios have (crisis line, co-response,
    /// follow-ups).
    fn program_shares(&self, out: &mut Figures, scenario: &Scenario) {
        let has_kind = |kind| scenario.pools.iter().any(|p| p.kind == kind);
        if has_kind(ResponderKind::Counsellor) {
            out.push(
                key::PHONE_SHARE,
                "Calls resolved by the crisis line",
                "share",
                share(self.phone_resolved, self.calls),
            );
        }
        if has_kind(ResponderKind::Clinician) {
            out.push(
                key::CO_RESPONSE_SHARE,
                "Calls attended by a clinician with police",
                "share",
                share(self.co_responded, self.calls),
            );
        }
        if scenario.policies.iter().any(|p| p.policy.follows_up()) {
            out.push(
                key::FOLLOW_UPS_PER_1000,
                "Care follow-up visits",
                "per 1,000 calls",
                self.per_thousand(self.follow_ups),
            );
            out.push(
                key::FOLLOW_UP_MISSED_SHARE,
                "Follow-ups wanted but missed",
                "share",
                share(
                    self.follow_ups_missed,
                    self.follow_ups + self.follow_ups_missed,
                ),
            );
        }
    }

    /// Utilization per pool and the police hours spent on eligible calls.
    fn fleet_use(
        out: &mut Figures,
        scenario: &Scenario,
        totals: &FleetTotals,
        uses: &impl Fn(ResponderKind) -> bool,
        year_factor: f64,
    ) {
        for (pool, pool_totals) in scenario.pools.iter().zip(&totals.pools) {
            let utilization = if uses(pool.kind) && pool_totals.on_duty_minutes > 0.0 {
                pool_totals.busy_minutes / pool_totals.on_duty_minutes
            } else {
                f64::NAN
            };
            out.push(
                &key::pool_utilization(&pool.name),
                &format!("Utilization of {}", pool.name),
                "share",
                utilization,
            );
        }
        out.push(
            key::POLICE_HOURS_ON_ELIGIBLE,
            "Police unit-hours on eligible calls",
            "h/yr",
            totals.police_minutes_on_eligible / 60.0 * year_factor,
        );
    }

    /// What happened to people, per 1,000 calls, and calls never reached.
    fn outcome_rates(&self, out: &mut Figures) {
        let o = &self.outcomes;
        out.push(
            key::ARRESTS_PER_1000,
            "Arrests",
            "per 1,000 calls",
            self.per_thousand(o.arrests),
        );
        out.push(
            key::BOOKINGS_PER_1000,
            "Jail bookings",
            "per 1,000 calls",
            self.per_thousand(o.bookings),
        );
        out.push(
            key::FORCE_PER_1000,
            "Uses of force",
            "per 1,000 calls",
            self.per_thousand(o.force),
        );
        out.push(
            key::INJURIES_PER_1000,
            "Injuries",
            "per 1,000 calls",
            self.per_thousand(o.injuries),
        );
        out.push(
            key::ER_TRANSPORTS_PER_1000,
            "Emergency-room transports",
            "per 1,000 calls",
            self.per_thousand(o.er_transports),
        );
        out.push(
            key::BACKUPS_PER_1000,
            "Police backup requests",
            "per 1,000 calls",
            self.per_thousand(o.backups),
        );
        out.push(
            key::UNSERVED_AT_HORIZON,
            "Calls unserved at the horizon",
            "calls",
            self.unserved as f64,
        );
    }

    /// The fleet's annual cost, in all and per pool.
    fn costs(
        out: &mut Figures,
        scenario: &Scenario,
        totals: &FleetTotals,
        uses: &impl Fn(ResponderKind) -> bool,
        year_factor: f64,
    ) {
        let mut total_cost = 0.0;
        let mut pool_costs = Vec::with_capacity(scenario.pools.len());
        for (pool, pool_totals) in scenario.pools.iter().zip(&totals.pools) {
            let cost = match pool.cost {
                _ if !uses(pool.kind) => 0.0,
                Cost::PerUnitHour(rate) => rate * pool_totals.on_duty_minutes / 60.0 * year_factor,
                Cost::PerUnitYear(rate) => rate * f64::from(pool.count),
            };
            total_cost += cost;
            pool_costs.push(cost);
        }
        out.push(key::ANNUAL_COST, "Annual fleet cost", "$/yr", total_cost);
        for (pool, cost) in scenario.pools.iter().zip(pool_costs) {
            out.push(
                &key::pool_annual_cost(&pool.name),
                &format!("Annual cost of {}", pool.name),
                "$/yr",
                cost,
            );
        }
    }

    /// With outcome time or facilities: unit-hours after the scene, and what each facility
    /// did (admissions, turn-aways, occupancy, handover time).
    fn after_the_scene(
        out: &mut Figures,
        scenario: &Scenario,
        totals: &FleetTotals,
        year_factor: f64,
    ) {
        let has_outcome_time = scenario.outcome_time.iter().any(|t| !t.is_empty());
        if !has_outcome_time && scenario.facilities.is_empty() {
            return;
        }
        let hours = |minutes: f64| minutes / 60.0 * year_factor;
        out.push(
            key::POLICE_HOURS_AFTER_SCENE,
            "Police unit-hours after the scene (transport, handover, booking)",
            "h/yr",
            hours(totals.after_scene_minutes[0]),
        );
        out.push(
            key::CARE_HOURS_AFTER_SCENE,
            "Care-team hours after the scene (transport, handover)",
            "h/yr",
            hours(totals.after_scene_minutes[1]),
        );
        if scenario.facilities.is_empty() {
            return;
        }
        out.push(
            key::TRANSPORTS_WITHOUT_PLACE,
            "Transports that found no facility with room",
            "per year",
            (totals.no_place[0] + totals.no_place[1]) as f64 * year_factor,
        );
        let window_minutes = scenario.measured_days() * crate::scenario::MINUTES_PER_DAY;
        for (facility, books) in scenario.facilities.iter().zip(&totals.facilities) {
            let name = &facility.name;
            out.push(
                &key::facility(name, "admissions_per_year"),
                &format!("Admissions to {name}"),
                "per year",
                books.admissions as f64 * year_factor,
            );
            out.push(
                &key::facility(name, "turned_away_share"),
                &format!("Transports {name} turned away (full)"),
                "share",
                share(books.turned_away, books.admissions + books.turned_away),
            );
            let occupied = books.bed_minutes / window_minutes;
            out.push(
                &key::facility(name, "beds_occupied"),
                &format!("Beds occupied at {name}, mean"),
                "beds",
                occupied,
            );
            out.push(
                &key::facility(name, "occupancy"),
                &format!("Bed occupancy at {name}"),
                "share",
                facility
                    .beds
                    .map_or(f64::NAN, |beds| occupied / f64::from(beds)),
            );
            out.push(
                &key::facility(name, "handover_hours_per_year"),
                &format!("Unit-hours at handover at {name}"),
                "h/yr",
                hours(books.handover_minutes),
            );
        }
    }

    /// With `[costs]`: each line of the downstream ledger a year ("not costed" lines are
    /// undefined, never 0), their sum, the net public cost (fleet plus downstream), the same
    /// per 100,000 residents, and the yearly counts the cost-per-outcome ratios rest on.
    fn ledger(
        &self,
        out: &mut Figures,
        scenario: &Scenario,
        totals: &FleetTotals,
        year_factor: f64,
    ) {
        let Some(costs) = &scenario.costs else {
            return;
        };
        let per_year = |count: f64| count * year_factor;
        let o = &self.outcomes;
        let admissions = |kind: FacilityKind| -> f64 {
            scenario
                .facilities
                .iter()
                .zip(&totals.facilities)
                .filter(|(f, _)| f.kind == kind)
                .map(|(_, books)| books.admissions as f64)
                .sum()
        };
        // With a treatment list, people go where the list sends them; without one, every
        // transport for care is an emergency-department visit.
        let ed_visits = if scenario.transport.treatment.is_empty() {
            o.er_transports as f64
        } else {
            admissions(FacilityKind::Ed)
        };
        let police_busy_minutes: f64 = scenario
            .pools
            .iter()
            .zip(&totals.pools)
            .filter(|(pool, _)| pool.kind == ResponderKind::Police)
            .map(|(_, books)| books.busy_minutes)
            .sum();
        out.push(
            key::POLICE_BUSY_HOURS,
            "Police unit-hours busy",
            "h/yr",
            police_busy_minutes / 60.0 * year_factor,
        );
        out.push(
            key::BOOKINGS_PER_YEAR,
            "Jail bookings",
            "per year",
            per_year(o.bookings as f64),
        );
        out.push(
            key::ED_VISITS_PER_YEAR,
            "Emergency-department visits",
            "per year",
            per_year(ed_visits),
        );
        let mut downstream = 0.0;
        for line in CostLine::ALL {
            let cost = match line {
                CostLine::Booking => costs.booking.map(|c| c * o.bookings as f64),
                CostLine::JailBedDays => costs
                    .jail_bed_days
                    .as_ref()
                    .map(|(c, _)| c * self.jail_days_sum),
                CostLine::EdVisits => costs.ed_visit.map(|c| c * ed_visits),
                CostLine::Ambulance => costs.ambulance.map(|(c, share)| c * share * ed_visits),
                CostLine::CrisisCenter => costs
                    .crisis_center_admission
                    .map(|c| c * admissions(FacilityKind::CrisisCenter)),
                CostLine::Sobering => costs
                    .sobering_admission
                    .map(|c| c * admissions(FacilityKind::Sobering)),
                CostLine::CrisisLine => costs.call_988.map(|c| c * self.phone_resolved as f64),
                CostLine::ForceClaims => costs
                    .force_claims
                    .map(|(p, mean)| p * mean * o.force as f64),
            }
            .map(per_year);
            downstream += cost.unwrap_or(0.0);
            out.push(
                &key::downstream_cost(line.key()),
                &format!("Downstream cost: {}", line.label().to_lowercase()),
                "$/yr",
                cost.unwrap_or(f64::NAN),
            );
        }
        let fleet = out.value(key::ANNUAL_COST);
        let per_100k = 100_000.0 / scenario.population;
        out.push(
            key::DOWNSTREAM_COST,
            "Downstream cost (costed lines)",
            "$/yr",
            downstream,
        );
        out.push(
            key::NET_PUBLIC_COST,
            "Net public cost (fleet + downstream)",
            "$/yr",
            fleet + downstream,
        );
        out.push(
            key::ANNUAL_COST_PER_100K,
            "Fleet cost per 100,000 residents",
            "$/yr",
            fleet * per_100k,
        );
        out.push(
            key::DOWNSTREAM_COST_PER_100K,
            "Downstream cost per 100,000 residents",
            "$/yr",
            downstream * per_100k,
        );
        out.push(
            key::NET_PUBLIC_COST_PER_100K,
            "Net public cost per 100,000 residents",
            "$/yr",
            (fleet + downstream) * per_100k,
        );
    }

    /// Hourly profiles (with `--hourly`): when teams are short.
    fn hourly_profiles(
        &self,
        out: &mut Figures,
        scenario: &Scenario,
        totals: &FleetTotals,
        uses: &impl Fn(ResponderKind) -> bool,
    ) {
        let pools = if self.hourly {
            &scenario.pools[..]
        } else {
            &[]
        };
        for (pool, pool_totals) in pools.iter().zip(&totals.pools) {
            // Off shift: undefined, not the 100% of a team finishing a call past its shift.
            let scheduled = super::load::scheduled_hours_of_day(pool);
            for (hour, on_shift) in scheduled.into_iter().enumerate() {
                let on_duty = pool_totals.on_duty_by_hour[hour];
                let utilization = if uses(pool.kind) && on_duty > 0.0 && on_shift {
                    pool_totals.busy_by_hour[hour] / on_duty
                } else {
                    f64::NAN
                };
                out.push_detail(
                    &key::pool_utilization_by_hour(&pool.name, hour),
                    &format!(
                        "Utilization of {}, {hour:02}:00-{:02}:00",
                        pool.name,
                        hour + 1
                    ),
                    "share",
                    utilization,
                );
            }
        }
        // Mean calls waiting for a unit in each hour of the day: waiting call-minutes over the
        // minutes of that hour in the measured period (Little's law, by hour).
        let hour_minutes = scenario.measured_days() * 60.0;
        for hour in (0..24).filter(|_| self.hourly) {
            out.push_detail(
                &key::queue_length_by_hour(hour),
                &format!("Calls waiting for a unit, {hour:02}:00-{:02}:00", hour + 1),
                "calls",
                self.waiting_by_hour[hour] / hour_minutes,
            );
        }
        for hour in (0..24).filter(|_| self.hourly) {
            out.push_detail(
                &key::eligible_unmet_share_by_hour(hour),
                &format!(
                    "Eligible calls not handled by care, {hour:02}:00-{:02}:00",
                    hour + 1
                ),
                "share",
                share(
                    self.eligible_unmet_by_hour[hour],
                    self.eligible_by_hour[hour],
                ),
            );
        }
    }

    /// The response-time distribution, as percentiles: averaged over replications they draw
    /// each policy's distribution (charts), with an interval at every percentile.
    fn response_distribution(&self, out: &mut Figures) {
        let response = TimeSummary::merged(self.response_by_priority.iter(), self.max_minutes);
        for (prefix, label, summary) in [
            ("", "Response time", &response),
            (
                key::ELIGIBLE,
                "Eligible-call response",
                &self.response_eligible,
            ),
        ] {
            let values = summary.quantiles(DISTRIBUTION_PERCENTILES.map(|p| f64::from(p) / 100.0));
            for (percent, value) in DISTRIBUTION_PERCENTILES.into_iter().zip(values) {
                out.push_detail(
                    &key::response_percentile(prefix, percent),
                    &format!("{label}, percentile {percent}"),
                    "min",
                    value,
                );
            }
        }
    }
}

/// Percentiles of the response-time distribution kept per replication (detail figures).
pub const DISTRIBUTION_PERCENTILES: [u32; 21] = [
    1, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90, 95, 99,
];

impl Observer for ReplicationStats {
    #[inline]
    fn on_call(&mut self, record: &CallRecord) {
        if record.call.received_minutes < self.warmup_minutes {
            return;
        }
        // Work that is not 911 demand took its units (in the fleet's books) and nothing else.
        if let Some(not_demand) = &self.not_demand
            && not_demand[usize::from(record.call.call_type.0)]
        {
            return;
        }
        self.calls += 1;
        if record.care_eligible {
            self.eligible_calls += 1;
        }
        if record.care_eligible && self.hourly {
            let hour = (record.call.received_minutes / 60.0) as usize % 24;
            self.eligible_by_hour[hour] += 1;
            let by_care =
                !record.unserved_at_horizon && record.responder() == Some(ResponderKind::Care);
            if !by_care {
                self.eligible_unmet_by_hour[hour] += 1;
            }
        }
        if record.routed_to_care {
            self.routed_to_care += 1;
        }
        if record.overflowed_to_police {
            self.overflowed += 1;
        }
        // Only scenarios with clinicians, a crisis line or follow-ups pay for these checks.
        if self.program_variants {
            self.co_responded += u64::from(record.companion.is_some());
            self.follow_ups += u64::from(record.follow_up.is_some());
            self.follow_ups_missed += u64::from(record.follow_up_missed);
            if record.resolved_by_phone() {
                // Nobody went: no response time, no wait for a unit, nothing at a scene.
                self.phone_resolved += 1;
                return;
            }
        }
        if self.hourly {
            // Waiting from arrival to the first dispatch (or the horizon, if none came).
            let until = record
                .wait_minutes()
                .map_or(self.max_minutes, |w| record.call.received_minutes + w);
            let from = record.call.received_minutes;
            if until > from {
                crate::engine::record::spread_by_hour(&mut self.waiting_by_hour, from, until);
            }
        }
        if let Some(wait) = record.wait_minutes() {
            self.wait.record(wait);
            if wait > 0.0 {
                self.waited += 1;
            }
        }
        let Some(response) = record.response_minutes() else {
            self.unserved += 1;
            return;
        };
        self.response_by_priority[self.priority_slot[usize::from(record.priority)]]
            .record(response);
        if let Some(parts) = &mut self.parts
            && let Some(primary) = record.primary
        {
            parts.0.record(record.dispatch_delay_minutes);
            parts
                .1
                .record(primary.on_scene_minutes - primary.dispatched_minutes);
        }
        if record.care_eligible {
            self.response_eligible.record(response);
        }
        if record.responder() == Some(ResponderKind::Care) {
            self.care_handled += 1;
            if record.care_eligible {
                self.eligible_care_handled += 1;
            }
        }
        let outcomes = &record.outcomes;
        let o = &mut self.outcomes;
        o.arrests += u64::from(outcomes.arrest);
        o.bookings += u64::from(outcomes.booking);
        o.force += u64::from(outcomes.force);
        o.injuries += u64::from(outcomes.injury);
        o.er_transports += u64::from(outcomes.er_transport);
        o.backups += u64::from(record.backup_requested);
        if outcomes.booking
            && let Some(days) = &self.jail_days
        {
            self.jail_days_sum +=
                days.sample(&mut rng::stream(record.call.draw_key, Purpose::JailDays));
        }
    }
}

/// A share, undefined when the whole is empty.
fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        f64::NAN
    } else {
        part as f64 / whole as f64
    }
}

/// Builder of the ordered figure list.
#[derive(Default)]
struct Figures(Vec<(FigureDef, f64)>);

impl Figures {
    /// The value of a figure already pushed (NaN if none has the key).
    fn value(&self, key: &str) -> f64 {
        self.0
            .iter()
            .find(|(def, _)| def.key == key)
            .map_or(f64::NAN, |(_, v)| *v)
    }

    fn push(&mut self, key: &str, label: &str, unit: &str, value: f64) {
        self.push_def(key, label, unit, value, false);
    }

    fn push_detail(&mut self, key: &str, label: &str, unit: &str, value: f64) {
        self.push_def(key, label, unit, value, true);
    }

    fn push_def(&mut self, key: &str, label: &str, unit: &str, value: f64, detail: bool) {
        self.0.push((
            FigureDef {
                key: key.to_string(),
                label: label.to_string(),
                unit: unit.to_string(),
                detail,
            },
            value,
        ));
    }

    /// Mean, median and p90 of a time, keys prefixed by `prefix`.
    fn times(&mut self, prefix: &str, label: &str, summary: &TimeSummary) {
        let [mean, median, p90] = key::response(prefix);
        let [median_value, p90_value] = summary.quantiles([0.5, 0.9]);
        self.push(&mean, &format!("{label}, mean"), "min", summary.mean());
        self.push(&median, &format!("{label}, median"), "min", median_value);
        self.push(&p90, &format!("{label}, 90th percentile"), "min", p90_value);
    }
}

#[cfg(test)]
mod tests {
    use super::{Histogram, TickCounts};
    use crate::experiment::run_replication;
    use crate::scenario::Scenario;
    use crate::stats::figures as key;

    /// The plain-array counts give the very histogram `hdrhistogram` builds from the same
    /// values: every recorded (value, count), every percentile, and the clamp past the top.
    #[test]
    fn tick_counts_bucket_exactly_as_hdr_does() {
        use rand::{RngExt, SeedableRng};
        let highest = 525_600_000; // a year in thousandths of a minute
        let mut ours = TickCounts::new(highest);
        let mut hdr = Histogram::<u64>::new_with_max(highest, 3).unwrap();
        let mut record = |value: u64| {
            ours.record(value);
            hdr.saturating_record(value);
        };
        for value in 0..20_000 {
            record(value);
        }
        for shift in 0..64 {
            for delta in [0u64, 1, 2, 3] {
                record((1u64 << shift).saturating_sub(delta));
                record((1u64 << shift).saturating_add(delta));
            }
        }
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
        for _ in 0..200_000 {
            let magnitude: u32 = rng.random_range(1..40);
            record(rng.random::<u64>() >> (64 - magnitude));
        }
        for value in [highest - 1, highest, highest + 1, highest * 2, u64::MAX] {
            record(value);
        }
        let rebuilt = ours.histogram();
        assert_eq!(rebuilt.len(), hdr.len());
        for high in [
            2048,
            2049,
            4095,
            4096,
            100_000,
            highest,
            1 << 40,
            u64::MAX / 2,
        ] {
            assert_eq!(
                TickCounts::len_for(high),
                Histogram::<u64>::new_with_max(high, 3)
                    .unwrap()
                    .distinct_values(),
                "{high}"
            );
        }
        let recorded = |h: &Histogram<u64>| -> Vec<(u64, u64)> {
            h.iter_recorded()
                .map(|v| (v.value_iterated_to(), v.count_at_value()))
                .collect()
        };
        assert_eq!(recorded(&rebuilt), recorded(&hdr));
        for q in (0..=1000).map(|i| f64::from(i) / 1000.0) {
            assert_eq!(
                rebuilt.value_at_quantile(q),
                hdr.value_at_quantile(q),
                "q = {q}"
            );
        }
    }

    /// Issue #17: work that is not 911 demand (scheduled transports) takes units, so it counts
    /// in utilization exactly as before, but no call figure sees it.
    #[test]
    fn work_that_is_not_demand_takes_units_and_no_call_figure() {
        let text = crate::scenario::DEFAULT_SCENARIO_TOML.replacen(
            "[[call_types]]\nname = \"other_service\"\nshare = 0.20",
            "[[call_types]]\nname = \"scheduled_transport\"\nshare = 0.10\npriority = 3\ncare_eligible = false\ndemand = false\non_scene.police = { dist = \"lognormal\", mean = 45, sd = 30 }\n\n[[call_types]]\nname = \"other_service\"\nshare = 0.10",
            1,
        );
        assert!(text.contains("scheduled_transport"));
        let run = |text: &str| {
            let mut scenario = Scenario::from_toml_str(text, "city.toml").unwrap();
            scenario.horizon_days = 12.0;
            let police_only = scenario.policy("police_only").unwrap().clone();
            run_replication(&scenario, &police_only, 1, 0).unwrap()
        };
        let value = |figures: &[(crate::stats::FigureDef, f64)], k: &str| {
            figures.iter().find(|(d, _)| d.key == k).unwrap().1
        };
        let apart = run(&text);
        let counted = run(&text.replace("demand = false\n", ""));
        assert_eq!(
            value(&apart, &key::pool_utilization("police")),
            value(&counted, &key::pool_utilization("police")),
            "the same work in the fleet's books"
        );
        let (calls_apart, calls_counted) = (value(&apart, key::CALLS), value(&counted, key::CALLS));
        assert!(
            (calls_apart / calls_counted - 0.9).abs() < 0.02,
            "{calls_apart} of {calls_counted}: a tenth left out"
        );
        let error = Scenario::from_toml_str(
            &text.replacen(
                "care_eligible = false\ndemand = false",
                "care_eligible = true\ndemand = false",
                1,
            ),
            "city.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("demand: expected 911 demand for a care-eligible"),
            "{error}"
        );
    }

    /// Issue #16: the default care teams work 07:00-23:00. Overnight the only time they were
    /// on duty was a team finishing a call past 23:00, which read as 100% busy; those hours
    /// are off shift now (undefined), and hours on shift keep their utilization.
    #[test]
    fn off_shift_hours_are_off_shift_not_fully_busy() {
        let mut scenario = Scenario::default_scenario();
        scenario.horizon_days = 10.0;
        scenario.report_hourly = true;
        let care_first = scenario.policy("care_first").unwrap().clone();
        let figures = run_replication(&scenario, &care_first, 1, 0).unwrap();
        let value = |hour| {
            let name = key::pool_utilization_by_hour("care", hour);
            figures.iter().find(|(d, _)| d.key == name).unwrap().1
        };
        for hour in [23, 0, 3, 6] {
            assert!(
                value(hour).is_nan(),
                "{hour:02}:00 is off shift: {}",
                value(hour)
            );
        }
        for hour in [7, 12, 22] {
            assert!(
                (0.0..1.0).contains(&value(hour)),
                "{hour:02}:00: {}",
                value(hour)
            );
        }
    }
}
