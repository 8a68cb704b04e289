//! Scenarios: a city, its 911 demand, zones and travel, call types, fleet, costs and the
//! policies to compare. A TOML file is parsed into a serde mirror (`raw`), then checked once
//! into the typed [`Scenario`] the rest of the crate uses; nothing after this sees strings or
//! `Option`s from the file.

mod consequences;
pub mod distribution;
mod error;
pub mod parameter;
mod raw;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use consequences::{
    CostLine, Costs, Facility, FacilityKind, Leg, MAX_BEDS, MAX_COST_PER_EVENT, OutcomeTime,
    Transport,
};
pub use error::{FieldPath, Location, PathSegment, Problem, ScenarioError};
use raw::RawScenario;

use crate::policy::{self, Policy};
use crate::scenario::distribution::{DurationSpec, Sampler, TravelVariation};

/// The built-in default scenario (`scenarios/default.toml`), used when no file is given.
pub const DEFAULT_SCENARIO_TOML: &str = include_str!("../../scenarios/default.toml");
/// The longest name (of the city, a zone, a call type, a pool) or policy label, in characters:
/// names go into every chart's text, the report and CSV files, and a megabyte name took a
/// minute to draw.
pub const MAX_NAME_CHARS: usize = 200;

/// What is wrong with a name, described: the first control character (`U+000B at character
/// 4`; names go into SVG, where XML forbids them), or its length past [`MAX_NAME_CHARS`].
fn name_problem(name: &str) -> Option<String> {
    let length = name.chars().count();
    if length > MAX_NAME_CHARS {
        return Some(format!("{length} characters (at most {MAX_NAME_CHARS})"));
    }
    name.chars()
        .enumerate()
        .find(|(_, c)| c.is_control())
        .map(|(i, c)| format!("U+{:04X} at character {}", u32::from(c), i + 1))
}

/// The highest cost of a unit-hour, in dollars: far above any real fleet, low enough that every
/// annual cost stays a finite number (2e302 made the annual cost null and the charts hang).
pub const MAX_COST_PER_UNIT_HOUR: f64 = 1.0e6;
/// The highest cost of a unit-year, in dollars (see [`MAX_COST_PER_UNIT_HOUR`]).
pub const MAX_COST_PER_UNIT_YEAR: f64 = 1.0e10;

/// The most replications a run may ask for (in `[run]` or on the command line). Every
/// replication's figures are held in memory (about 1.4 KB per policy), and 100,000 replications
/// already pin a figure's mean to a small fraction of its spread.
pub const MAX_REPLICATIONS: u32 = 100_000;

/// The most units one pool may have.
pub const MAX_POOL_UNITS: u32 = u32::MAX >> 8;

/// The largest population a city may have: past the world's, so any real one fits.
pub const MAX_POPULATION: f64 = 1.0e10;

/// The most calls a day a scenario may ask for: 40 times New York City's 911 volume (about
/// 25,000 a day); more is a typo, and would only run for days.
pub const MAX_CALLS_PER_DAY: f64 = 1.0e6;

/// The longest horizon a scenario (or a call stream) may span: about 274 years.
pub const MAX_HORIZON_DAYS: f64 = 1.0e5;

/// How the built-in default is named in messages and results.
pub const DEFAULT_SCENARIO_NAME: &str = "<built-in default scenario>";

pub(crate) const MINUTES_PER_DAY: f64 = 1440.0;
/// Shares must sum to 1 within this tolerance (people write 0.333).
const SHARE_TOLERANCE: f64 = 1e-3;

/// Who a unit is: an armed police unit, an unarmed care team, a clinician who rides with police,
/// or a crisis-line counsellor on the phone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponderKind {
    Police,
    Care,
    /// A mental-health clinician who goes with a police unit (co-responder programs).
    Clinician,
    /// A crisis-line (988) counsellor who resolves calls by phone; no unit goes.
    Counsellor,
}

/// How many responder kinds there are (the length of per-kind arrays).
pub const KINDS: usize = 4;

impl ResponderKind {
    pub const ALL: [ResponderKind; KINDS] = [
        ResponderKind::Police,
        ResponderKind::Care,
        ResponderKind::Clinician,
        ResponderKind::Counsellor,
    ];

    /// Index into per-kind arrays.
    #[inline]
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Police => "police",
            Self::Care => "care",
            Self::Clinician => "clinician",
            Self::Counsellor => "counsellor",
        }
    }
}

/// Where a unit goes when it clears a call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AfterClear {
    /// Free at once where the call was (patrol style).
    #[default]
    Stay,
    /// Drives back to its home zone, unavailable until there.
    Return,
}

/// Day of the week, Monday first (the order of `demand.day_of_week`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

/// A calendar date (proleptic Gregorian).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CivilDate {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

impl CivilDate {
    /// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
    pub fn days_since_epoch(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
    pub fn from_days_since_epoch(days: i64) -> Self {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Self { year, month, day }
    }

    /// ISO 8601 local date-time, to the second, `minutes` after this date's midnight.
    pub fn timestamp(self, minutes: f64) -> String {
        let mut out = Vec::with_capacity(19);
        let _ = self.write_timestamp(&mut out, minutes);
        String::from_utf8(out).unwrap_or_default()
    }

    /// Writes [`CivilDate::timestamp`] without allocating.
    pub fn write_timestamp(
        self,
        out: &mut impl std::io::Write,
        minutes: f64,
    ) -> std::io::Result<()> {
        let seconds = (minutes * 60.0).round() as i64;
        let date =
            Self::from_days_since_epoch(self.days_since_epoch() + seconds.div_euclid(86_400));
        let second_of_day = seconds.rem_euclid(86_400);
        // Digits by hand: this runs several times per row of a per-call log.
        let two = |n: i64| [b'0' + (n / 10) as u8, b'0' + (n % 10) as u8];
        let year = i64::from(date.year);
        if (0..10_000).contains(&year) {
            let mut text = *b"0000-00-00T00:00:00";
            text[..2].copy_from_slice(&two(year / 100));
            text[2..4].copy_from_slice(&two(year % 100));
            text[5..7].copy_from_slice(&two(i64::from(date.month)));
            text[8..10].copy_from_slice(&two(i64::from(date.day)));
            text[11..13].copy_from_slice(&two(second_of_day / 3600));
            text[14..16].copy_from_slice(&two(second_of_day / 60 % 60));
            text[17..19].copy_from_slice(&two(second_of_day % 60));
            out.write_all(&text)
        } else {
            write!(
                out,
                "{date}T{:02}:{:02}:{:02}",
                second_of_day / 3600,
                second_of_day / 60 % 60,
                second_of_day % 60
            )
        }
    }

    /// 0 = Monday ... 6 = Sunday.
    pub fn weekday_index(self) -> u8 {
        // 1970-01-01 was a Thursday (index 3).
        (self.days_since_epoch() + 3).rem_euclid(7) as u8
    }
}

impl std::fmt::Display for CivilDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ZoneId(pub u16);
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct CallTypeId(pub u16);
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct PoolId(pub u16);
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct UnitId(pub u32);

/// A checked scenario. Fields are public so tests and sweeps can build variants in code.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    /// File path or [`DEFAULT_SCENARIO_NAME`].
    pub source: String,
    /// FNV-1a hash of the scenario text: tells results of different scenarios apart.
    pub fingerprint: String,
    pub population: f64,
    pub horizon_days: f64,
    pub warmup_days: f64,
    pub start_date: CivilDate,
    pub replications: u32,
    pub seed: u64,
    pub demand: Demand,
    pub zones: Vec<Zone>,
    pub travel: Travel,
    pub call_types: Vec<CallType>,
    pub pools: Vec<Pool>,
    /// Time outcomes add to the responding unit, by kind (indexed like
    /// [`CallType::on_scene`]: police, care).
    pub outcome_time: [OutcomeTime; 2],
    /// Receiving facilities (emergency departments, crisis centers, jails), in file order.
    pub facilities: Vec<Facility>,
    /// Where transports go by default: preference lists of facility indices.
    pub transport: Transport,
    /// The downstream cost ledger; `None` without a `[costs]` section (no ledger figures).
    pub costs: Option<Costs>,
    /// Call-processing time from received to dispatch, by priority (index 1-9; 0 unused);
    /// `None` without a `[dispatch_delay]` section: no delay, as before it existed.
    pub dispatch_delay: Option<[Option<DurationSpec>; 10]>,
    /// The first is the baseline every other is compared against.
    pub policies: Vec<PolicySpec>,
    /// Also measure utilization and unmet eligible calls by hour of day (`--hourly`). Not read
    /// from the file: it adds detail figures and a little work per call, so runs pay for it only
    /// when asked.
    pub report_hourly: bool,
}

/// Arrival intensity: `calls_per_day` on average, shaped by hour of day and day of week.
#[derive(Clone, Debug)]
pub struct Demand {
    pub calls_per_day: f64,
    /// Relative weights, normalised to sum to 1.
    pub hour_of_day: [f64; 24],
    /// Relative weights, normalised to average 1 (Monday first).
    pub day_of_week: [f64; 7],
}

impl Demand {
    /// Expected calls per minute during hour `hour` (0-23) of weekday `weekday` (0 = Monday).
    pub fn rate_per_minute(&self, weekday: usize, hour: usize) -> f64 {
        self.calls_per_day * self.day_of_week[weekday] * self.hour_of_day[hour] / 60.0
    }
}

#[derive(Clone, Debug)]
pub struct Zone {
    pub name: String,
    pub share: f64,
    /// Every zone has one, or none does.
    pub center: Option<[f64; 2]>,
}

/// The index of the centre nearest `(x, y)` (the first of equals); `None` for no centres.
pub fn nearest_center(centers: &[[f64; 2]], x: f64, y: f64) -> Option<usize> {
    let distance = |c: &[f64; 2]| (c[0] - x).powi(2) + (c[1] - y).powi(2);
    (0..centers.len()).min_by(|&a, &b| distance(&centers[a]).total_cmp(&distance(&centers[b])))
}

#[derive(Clone, Debug)]
pub struct Travel {
    /// Mean minutes from zone `i` to zone `j` at `[i * zones + j]`.
    pub minutes: Vec<f64>,
    pub zones: usize,
    pub variation: TravelVariation,
    pub cv: f64,
    /// The factor's quantiles, scaled to mean 1 (empty unless `variation` is empirical).
    pub quantiles: Vec<f64>,
    /// A factor on every trip to a call of priority `p`, at index `p` (1-9); all 1 by default.
    pub priority_factor: [f64; 10],
    /// For priority `p`, the factor's own quantiles (as given), in place of `variation`.
    pub priority_quantiles: [Option<Vec<f64>>; 10],
}

impl Travel {
    #[inline]
    pub fn mean_minutes(&self, from: ZoneId, to: ZoneId) -> f64 {
        self.minutes[usize::from(from.0) * self.zones + usize::from(to.0)]
    }
}

/// Probabilities of each outcome on one call, for one responder kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct OutcomeProbabilities {
    pub arrest: f64,
    /// Jail booking; a booking is always also an arrest (booking <= arrest).
    pub booking: f64,
    pub force: f64,
    pub injury: f64,
    pub er_transport: f64,
}

#[derive(Clone, Debug)]
pub struct CallType {
    pub name: String,
    pub share: f64,
    /// 1 = most urgent.
    pub priority: u8,
    pub care_eligible: bool,
    /// 911 demand (the default). Work that is not (scheduled or inter-facility transports)
    /// takes units like any call but is left out of every call figure: response times,
    /// shares, outcome rates.
    pub demand: bool,
    /// On-scene time by responder kind (indexed by [`ResponderKind::index`]).
    pub on_scene: [DurationSpec; 2],
    pub outcomes: [OutcomeProbabilities; 2],
    /// Probability a care team on this call asks for police backup.
    pub care_backup: f64,
    /// Where this call type's transports for care go (overrides `[transport] treatment`).
    pub transport_to: Option<Vec<u16>>,
}

/// A block of on-duty hours, repeated on the given days.
#[derive(Clone, Debug, PartialEq)]
pub struct ShiftBlock {
    pub start_minute_of_day: f64,
    pub length_minutes: f64,
    /// Units `0..count` of the pool work this block.
    pub count: u32,
    /// The block's count was not given: it follows the pool's count (e.g. in a sweep).
    pub all_units: bool,
    /// Indexed Monday first.
    pub days: [bool; 7],
}

/// What a pool costs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cost {
    PerUnitHour(f64),
    PerUnitYear(f64),
}

#[derive(Clone, Debug)]
pub struct Pool {
    pub name: String,
    pub kind: ResponderKind,
    pub count: u32,
    /// Unit `i` is based in `home_zones[i % len]`.
    pub home_zones: Vec<ZoneId>,
    /// Empty means on duty 24/7.
    pub shifts: Vec<ShiftBlock>,
    pub cost: Cost,
    pub after_clear: AfterClear,
    /// How long a call takes a unit of this pool: only for counsellors, whose calls have no
    /// scene (other kinds take their on-scene time from the call type).
    pub call_minutes: Option<DurationSpec>,
}

impl Pool {
    pub fn home_zone(&self, unit_in_pool: u32) -> ZoneId {
        self.home_zones[unit_in_pool as usize % self.home_zones.len()]
    }

    /// Changes the number of units (0 allowed: no program). Shift blocks that cover the whole
    /// pool follow; blocks with an explicit count keep it, capped at the new size.
    pub fn set_count(&mut self, count: u32) {
        self.count = count;
        for block in &mut self.shifts {
            block.count = if block.all_units {
                count
            } else {
                block.count.min(count)
            };
        }
    }
}

/// A policy to compare, as named in the scenario.
#[derive(Clone, Debug)]
pub struct PolicySpec {
    /// How results name it (defaults to the rule's name).
    pub label: String,
    /// The rule's name, e.g. `care_first`.
    pub rule: &'static str,
    /// The parameters as written, echoed into results.
    pub params: toml::Table,
    pub policy: Arc<dyn Policy>,
}

impl Scenario {
    /// The built-in default scenario.
    pub fn default_scenario() -> Self {
        Self::from_toml_str(DEFAULT_SCENARIO_TOML, DEFAULT_SCENARIO_NAME)
            .expect("the built-in default scenario is valid (checked by a test)")
    }

    /// Loads and checks a scenario file.
    pub fn from_file(path: &Path) -> Result<Self, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_toml_str(&text, &path.display().to_string())
    }

    /// Parses and checks scenario text; `file` names it in error messages.
    pub fn from_toml_str(text: &str, file: &str) -> Result<Self, ScenarioError> {
        let raw: RawScenario = toml::from_str(text).map_err(|err| ScenarioError::Syntax {
            location: err.span().map(|span| Location::at(file, text, span.start)),
            message: plain_words(err.message()),
        })?;
        let mut checker = Checker::default();
        let scenario = checker.scenario(raw, file, text);
        if checker.problems.is_empty()
            && let Some(scenario) = scenario
        {
            return Ok(scenario);
        }
        let spans = toml::de::DeTable::parse(text).ok();
        let problems = checker
            .problems
            .into_iter()
            .map(|(path, expected)| Problem {
                location: spans
                    .as_ref()
                    .and_then(|root| span_of(root, &path))
                    .map(|start| Location::at(file, text, start)),
                field: path.to_string(),
                expected,
            })
            .collect();
        Err(ScenarioError::Invalid {
            file: file.to_string(),
            problems,
        })
    }

    pub fn horizon_minutes(&self) -> f64 {
        self.horizon_days * MINUTES_PER_DAY
    }

    pub fn warmup_minutes(&self) -> f64 {
        self.warmup_days * MINUTES_PER_DAY
    }

    /// Days over which statistics are collected (horizon less warm-up).
    pub fn measured_days(&self) -> f64 {
        self.horizon_days - self.warmup_days
    }

    /// The call type a call's `call_type` names (ids come from this scenario's list).
    #[inline(always)]
    pub fn call_type(&self, id: CallTypeId) -> &CallType {
        &self.call_types[usize::from(id.0)]
    }

    /// Weekday index (0 = Monday) of simulation day `day` (day 0 starts at minute 0).
    pub fn weekday_of_day(&self, day: i64) -> usize {
        (i64::from(self.start_date.weekday_index()) + day).rem_euclid(7) as usize
    }

    /// Distinct priorities of the call types, most urgent first.
    pub fn priorities(&self) -> Vec<u8> {
        let set: BTreeSet<u8> = self.call_types.iter().map(|t| t.priority).collect();
        set.into_iter().collect()
    }

    /// Share of calls whose type a care team may take.
    pub fn eligible_share(&self) -> f64 {
        self.call_types
            .iter()
            .filter(|t| t.care_eligible)
            .map(|t| t.share)
            .sum()
    }

    /// Prepared samplers of the on-scene times, `[call type][responder kind]`.
    pub fn on_scene_samplers(&self) -> Vec<[Sampler; 2]> {
        self.call_types
            .iter()
            .map(|t| [t.on_scene[0].sampler(), t.on_scene[1].sampler()])
            .collect()
    }

    pub fn policy(&self, label: &str) -> Option<&PolicySpec> {
        self.policies.iter().find(|p| p.label == label)
    }

    /// Drops what happens after the scene: outcome time, facilities, transport lists (the
    /// scenario's and the call types') and the cost ledger. The engine then takes the path it
    /// had before these existed: for comparisons and benchmarks. (A policy's own list stays
    /// with the policy, and is unused without facilities.)
    pub fn drop_after_the_scene(&mut self) {
        self.outcome_time = Default::default();
        self.facilities.clear();
        self.transport = Transport::default();
        self.costs = None;
        for call_type in &mut self.call_types {
            call_type.transport_to = None;
        }
    }
}

/// Checks that the fleet has the pools a policy's program needs beyond police: a co-responder
/// program without clinicians, or phone diversion without a crisis line, would silently be
/// police-only. (A care program without care teams is allowed: it is the zero of a sweep.)
fn pools_for(pools: &[Pool], rule: &str, policy: &dyn Policy) -> Result<(), String> {
    for kind in [ResponderKind::Clinician, ResponderKind::Counsellor] {
        if policy.uses(kind) && !pools.iter().any(|p| p.kind == kind) {
            return Err(format!(
                "a [[fleet]] pool of kind \"{}\" for `{rule}` (see scenarios/variants.toml)",
                kind.as_str()
            ));
        }
    }
    Ok(())
}

impl Scenario {
    /// Keeps only the named policies, in the order given (the first becomes the baseline).
    /// A name is a policy's label in the scenario, or else a rule, built with its default
    /// parameters.
    pub fn select_policies(&mut self, names: &[String]) -> Result<(), String> {
        let mut chosen = Vec::with_capacity(names.len());
        for name in names {
            if chosen.iter().any(|p: &PolicySpec| &p.label == name) {
                return Err(format!("`{name}` is selected twice"));
            }
            if let Some(spec) = self.policy(name) {
                chosen.push(spec.clone());
                continue;
            }
            if !policy::names().contains(&name.as_str()) {
                let labels: Vec<&str> = self.policies.iter().map(|p| p.label.as_str()).collect();
                return Err(format!(
                    "`{name}`: expected a policy of this scenario ({}) or a rule ({})",
                    labels.join(", "),
                    policy::names().join(", ")
                ));
            }
            let params = toml::Table::new();
            let (rule, built) = policy::build(name, &params).map_err(|err| {
                format!(
                    "`{name}`: the scenario does not define it, and it needs parameters: {}; add a [[policies]] entry with them",
                    err.expected
                )
            })?;
            pools_for(&self.pools, rule, built.as_ref())
                .map_err(|e| format!("`{name}`: expected {e}"))?;
            chosen.push(PolicySpec {
                label: name.clone(),
                rule,
                params,
                policy: built,
            });
        }
        // Results of another selection must not merge or resume into these.
        let labels: Vec<&str> = chosen.iter().map(|p| p.label.as_str()).collect();
        self.fingerprint = format!("{}/{}", self.fingerprint, fingerprint(&labels.join("\n")));
        self.policies = chosen;
        Ok(())
    }
}

/// The TOML reader's messages in a user's words: `invalid type: string "a lot", expected f64`
/// becomes `... expected a number`.
fn plain_words(message: &str) -> String {
    [
        ("expected f64", "expected a number"),
        ("expected i64", "expected a whole number"),
        ("expected u64", "expected a whole number >= 0"),
        ("expected u32", "expected a whole number >= 0"),
        ("expected u16", "expected a whole number >= 0"),
        ("expected usize", "expected a whole number >= 0"),
    ]
    .iter()
    .fold(message.to_string(), |text, (from, to)| {
        text.replace(from, to)
    })
}

/// FNV-1a, 64-bit: a stable fingerprint (std's hasher is not stable across releases).
pub fn fingerprint(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// The byte offset where the value at `path` starts, or the nearest ancestor that has one.
fn span_of(root: &toml::Spanned<toml::de::DeTable<'_>>, path: &FieldPath) -> Option<usize> {
    let mut best = None;
    let mut current: Option<&toml::Spanned<toml::de::DeValue<'_>>> = None;
    for (depth, segment) in path.0.iter().enumerate() {
        let next = match (depth, segment, current) {
            (0, PathSegment::Key(key), _) => root.get_ref().get(key.as_str()),
            (_, PathSegment::Key(key), Some(value)) => value.get_ref().get(key.as_str()),
            (_, PathSegment::Index(index), Some(value)) => value.get_ref().get(*index),
            _ => None,
        };
        match next {
            Some(value) => {
                // A table from a `[header]` may have an empty span; keep the last useful one.
                if value.span().end > value.span().start {
                    best = Some(value.span().start);
                }
                current = Some(value);
            }
            None => break,
        }
    }
    best
}

/// Collects every problem in a raw scenario rather than stopping at the first.
#[derive(Default)]
struct Checker {
    problems: Vec<(FieldPath, String)>,
}

impl Checker {
    fn fail(&mut self, path: FieldPath, expected: impl Into<String>) {
        self.problems.push((path, expected.into()));
    }

    /// `value` must be finite and within `[low, high]` (with `low_open`: strictly above low).
    fn number(&mut self, path: FieldPath, value: f64, low: f64, low_open: bool, high: f64) -> f64 {
        let ok =
            value.is_finite() && value <= high && if low_open { value > low } else { value >= low };
        if !ok {
            let bound = if low_open { ">" } else { ">=" };
            let expected = if high.is_infinite() {
                format!("a number {bound} {low}, found {value}")
            } else if low == 0.0 && high == 1.0 && !low_open {
                format!("a probability in [0, 1], found {value}")
            } else {
                format!("a number {bound} {low} and <= {high}, found {value}")
            };
            self.fail(path, expected);
        }
        value
    }

    fn probability(&mut self, path: FieldPath, value: f64) -> f64 {
        self.number(path, value, 0.0, false, 1.0)
    }

    fn shares_sum_to_one(&mut self, path: FieldPath, what: &str, shares: &[f64]) {
        let sum: f64 = shares.iter().sum();
        if shares.iter().all(|s| s.is_finite()) && (sum - 1.0).abs() > SHARE_TOLERANCE {
            self.fail(
                path,
                format!("{what} shares that sum to 1, found a sum of {sum:.6}"),
            );
        }
    }

    fn unique_names<'a>(
        &mut self,
        path: &FieldPath,
        what: &str,
        names: impl Iterator<Item = &'a str>,
    ) {
        let mut seen = BTreeSet::new();
        for (i, name) in names.enumerate() {
            if name.trim().is_empty() {
                self.fail(
                    path.index(i).key("name"),
                    format!("a non-empty {what} name"),
                );
            } else if let Some(problem) = name_problem(name) {
                self.fail(
                    path.index(i).key("name"),
                    format!(
                        "a {what} name of at most {MAX_NAME_CHARS} characters, without control characters; found {problem}"
                    ),
                );
            } else if !seen.insert(name) {
                self.fail(
                    path.index(i).key("name"),
                    format!("a unique {what} name, but `{name}` is used twice"),
                );
            }
        }
    }

    fn duration(&mut self, path: FieldPath, spec: DurationSpec) -> DurationSpec {
        if let Err((field, expected)) = spec.check() {
            self.fail(path.key(field), expected);
        }
        spec
    }

    fn scenario(&mut self, raw: RawScenario, file: &str, text: &str) -> Option<Scenario> {
        let root = FieldPath::root();
        let (population, horizon_days, warmup_days, start_date) = self.city(&root, &raw.city);
        self.run(&root, &raw.run);
        let demand = self.demand(&root.key("demand"), &raw.demand);
        let zones = self.zones(&root, &raw.zones);
        let travel = self.travel(&root, &raw.travel, zones.len());
        let call_types = self.call_types(&root, &raw.call_types);
        let pools = self.fleet(&root, &raw.fleet, &zones);
        let outcome_time = self.outcome_time(&root, &raw);
        let dispatch_delay = raw
            .dispatch_delay
            .as_ref()
            .map(|raw| self.dispatch_delay(&root.key("dispatch_delay"), raw, &call_types));
        let mut call_types = call_types;
        let consequences = self.consequences(&root, &raw, &zones, &mut call_types);
        let policies = self.policies(
            &root,
            raw.policies,
            &pools,
            (&consequences.facilities, &consequences.transport),
        );
        if !self.problems.is_empty() {
            return None;
        }
        Some(Scenario {
            name: raw.city.name,
            source: file.to_string(),
            fingerprint: fingerprint(text),
            population,
            horizon_days,
            warmup_days,
            start_date,
            replications: raw.run.replications as u32,
            seed: raw.run.seed,
            demand,
            zones,
            travel,
            call_types,
            pools,
            outcome_time,
            facilities: consequences.facilities,
            transport: consequences.transport,
            costs: consequences.costs,
            dispatch_delay,
            policies,
            report_hourly: false,
        })
    }

    /// `[dispatch_delay]`: a duration per priority (`1 = {...}`) and `default` for the others;
    /// every priority the call types use must get one.
    fn dispatch_delay(
        &mut self,
        path: &FieldPath,
        raw: &std::collections::BTreeMap<String, DurationSpec>,
        call_types: &[CallType],
    ) -> [Option<DurationSpec>; 10] {
        let mut by_priority: [Option<DurationSpec>; 10] = std::array::from_fn(|_| None);
        let mut default = None;
        for (key, spec) in raw {
            let spec = self.duration(path.key(key), spec.clone());
            if spec.mean() > MAX_HORIZON_DAYS * MINUTES_PER_DAY {
                self.fail(
                    path.key(key).key("mean"),
                    format!(
                        "a mean of at most the longest horizon in minutes, found {}",
                        spec.mean()
                    ),
                );
            }
            match key.as_str() {
                "default" => default = Some(spec),
                digits => match digits.parse::<usize>() {
                    Ok(p) if (1..=9).contains(&p) => by_priority[p] = Some(spec),
                    _ => self.fail(
                        path.key(key),
                        format!("a priority from 1 to 9, or `default`; found `{key}`"),
                    ),
                },
            }
        }
        for call_type in call_types {
            let p = usize::from(call_type.priority);
            if by_priority[p].is_none() {
                match &default {
                    Some(spec) => by_priority[p] = Some(spec.clone()),
                    None => self.fail(
                        path.clone(),
                        format!(
                            "a delay for priority {p} (call type `{}`), or a `default`",
                            call_type.name
                        ),
                    ),
                }
            }
        }
        by_priority
    }

    /// `[city]`: population, horizon, warm-up and start date.
    fn city(&mut self, root: &FieldPath, raw_city: &raw::RawCity) -> (f64, f64, f64, CivilDate) {
        let city = root.key("city");
        if raw_city.name.trim().is_empty() {
            self.fail(city.key("name"), "a non-empty city name");
        } else if let Some(problem) = name_problem(&raw_city.name) {
            self.fail(
                city.key("name"),
                format!(
                    "a city name of at most {MAX_NAME_CHARS} characters, without control characters; found {problem}"
                ),
            );
        }
        let population = self.number(
            city.key("population"),
            raw_city.population,
            0.0,
            true,
            MAX_POPULATION,
        );
        let horizon_days = self.number(
            city.key("horizon_days"),
            raw_city.horizon_days,
            0.0,
            true,
            MAX_HORIZON_DAYS,
        );
        let warmup_days = self.number(
            city.key("warmup_days"),
            raw_city.warmup_days,
            0.0,
            false,
            f64::INFINITY,
        );
        if warmup_days >= horizon_days {
            self.fail(
                city.key("warmup_days"),
                format!(
                    "a warm-up shorter than the horizon ({horizon_days} days), found {warmup_days}"
                ),
            );
        }
        let start_date = match &raw_city.start_date {
            None => CivilDate {
                year: 2024,
                month: 1,
                day: 1,
            },
            Some(datetime) => match (datetime.date, datetime.time) {
                (Some(date), None) => CivilDate {
                    year: i32::from(date.year),
                    month: date.month,
                    day: date.day,
                },
                _ => {
                    self.fail(
                        city.key("start_date"),
                        format!("a local date like 2024-01-01, found {datetime}"),
                    );
                    CivilDate {
                        year: 2024,
                        month: 1,
                        day: 1,
                    }
                }
            },
        };

        (population, horizon_days, warmup_days, start_date)
    }

    /// `[run]`: replications (the seed needs no check).
    fn run(&mut self, root: &FieldPath, raw_run: &raw::RawRun) {
        let run = root.key("run");
        if !(1..=i64::from(MAX_REPLICATIONS)).contains(&raw_run.replications) {
            self.fail(
                run.key("replications"),
                format!(
                    "a whole number from 1 to {MAX_REPLICATIONS}, found {}",
                    raw_run.replications
                ),
            );
        }
    }

    /// `[[zones]]`: unique names, shares summing to one.
    fn zones(&mut self, root: &FieldPath, raw_zones: &[raw::RawZone]) -> Vec<Zone> {
        let zones_path = root.key("zones");
        if raw_zones.is_empty() {
            self.fail(zones_path.clone(), "at least one zone");
        }
        if raw_zones.len() > usize::from(u16::MAX) {
            self.fail(zones_path.clone(), "at most 65535 zones");
        }
        self.unique_names(
            &zones_path,
            "zone",
            raw_zones.iter().map(|z| z.name.as_str()),
        );
        let zones: Vec<Zone> = raw_zones
            .iter()
            .enumerate()
            .map(|(i, z)| Zone {
                name: z.name.clone(),
                share: self.probability(zones_path.index(i).key("share"), z.share),
                center: z.center.map(|[x, y]| {
                    if !(x.is_finite() && y.is_finite()) {
                        self.fail(
                            zones_path.index(i).key("center"),
                            format!("two finite coordinates [x, y], found [{x}, {y}]"),
                        );
                    }
                    [x, y]
                }),
            })
            .collect();
        let centred = zones.iter().filter(|z| z.center.is_some()).count();
        if centred != 0 && centred != zones.len() {
            self.fail(
                zones_path.clone(),
                format!(
                    "a center for every zone or for none ({centred} of {} have one)",
                    zones.len()
                ),
            );
        }
        let zone_shares: Vec<f64> = zones.iter().map(|z| z.share).collect();
        self.shares_sum_to_one(zones_path.clone(), "zone", &zone_shares);
        zones
    }

    /// `[travel]`: an n x n matrix of mean minutes and the per-trip variation.
    fn travel(&mut self, root: &FieldPath, raw_travel: &raw::RawTravel, n: usize) -> Travel {
        let travel_path = root.key("travel");
        if raw_travel.minutes.len() != n {
            self.fail(
                travel_path.key("minutes"),
                format!(
                    "a {n} x {n} matrix (one row per zone, in [[zones]] order), found {} rows",
                    raw_travel.minutes.len()
                ),
            );
        }
        let mut minutes = Vec::with_capacity(n * n);
        for (i, row) in raw_travel.minutes.iter().enumerate() {
            if row.len() != n {
                self.fail(
                    travel_path.key("minutes").index(i),
                    format!("{n} travel times (one per zone), found {}", row.len()),
                );
            }
            for (j, &value) in row.iter().enumerate() {
                minutes.push(self.number(
                    travel_path.key("minutes").index(i).index(j),
                    value,
                    0.0,
                    false,
                    f64::INFINITY,
                ));
            }
        }
        let cv = self.number(
            travel_path.key("cv"),
            raw_travel.cv,
            0.0,
            false,
            f64::INFINITY,
        );
        let quantiles = match (raw_travel.variation, &raw_travel.quantiles) {
            (TravelVariation::Empirical, Some(quantiles)) => {
                let spec = DurationSpec::Empirical {
                    quantiles: quantiles.clone(),
                };
                match spec.check() {
                    Err((_, expected)) => {
                        self.fail(travel_path.key("quantiles"), expected);
                        Vec::new()
                    }
                    Ok(()) if spec.mean() <= 0.0 => {
                        self.fail(
                            travel_path.key("quantiles"),
                            "quantiles of the factor on the matrix's mean, not all 0",
                        );
                        Vec::new()
                    }
                    Ok(()) => spec.with_mean(1.0).quantiles().to_vec(),
                }
            }
            (TravelVariation::Empirical, None) => {
                self.fail(
                    travel_path.key("quantiles"),
                    "the factor's quantiles (from probability 0 to 1) with variation = \"empirical\"",
                );
                Vec::new()
            }
            (_, Some(_)) => {
                self.fail(
                    travel_path.key("quantiles"),
                    "no quantiles unless variation = \"empirical\" (other variations take cv)",
                );
                Vec::new()
            }
            (_, None) => Vec::new(),
        };
        let mut priority_factor = [1.0; 10];
        for (key, &factor) in &raw_travel.priority_factor {
            let path = travel_path.key("priority_factor").key(key);
            match key.parse::<usize>() {
                Ok(p) if (1..=9).contains(&p) => {
                    priority_factor[p] = self.number(path, factor, 0.0, true, 100.0);
                }
                _ => self.fail(path, format!("a priority from 1 to 9, found `{key}`")),
            }
        }
        let mut priority_quantiles: [Option<Vec<f64>>; 10] = std::array::from_fn(|_| None);
        for (key, quantiles) in &raw_travel.priority_quantiles {
            let path = travel_path.key("priority_quantiles").key(key);
            match key.parse::<usize>() {
                Ok(p) if (1..=9).contains(&p) => {
                    let spec = DurationSpec::Empirical {
                        quantiles: quantiles.clone(),
                    };
                    match spec.check() {
                        Ok(()) => priority_quantiles[p] = Some(quantiles.clone()),
                        Err((_, expected)) => self.fail(path, expected),
                    }
                }
                _ => self.fail(path, format!("a priority from 1 to 9, found `{key}`")),
            }
        }
        Travel {
            minutes,
            zones: n,
            variation: raw_travel.variation,
            cv,
            quantiles,
            priority_factor,
            priority_quantiles,
        }
    }

    /// `[[call_types]]`: unique names, shares summing to one, each type checked.
    fn call_types(&mut self, root: &FieldPath, raw_types: &[raw::RawCallType]) -> Vec<CallType> {
        let types_path = root.key("call_types");
        if raw_types.is_empty() {
            self.fail(types_path.clone(), "at least one call type");
        }
        if raw_types.len() > usize::from(u16::MAX) {
            self.fail(types_path.clone(), "at most 65535 call types");
        }
        self.unique_names(
            &types_path,
            "call type",
            raw_types.iter().map(|t| t.name.as_str()),
        );
        let call_types: Vec<CallType> = raw_types
            .iter()
            .enumerate()
            .map(|(i, t)| self.call_type(&types_path.index(i), t))
            .collect();
        let type_shares: Vec<f64> = call_types.iter().map(|t| t.share).collect();
        self.shares_sum_to_one(types_path, "call type", &type_shares);

        call_types
    }

    /// `[[fleet]]`: unique pool names, each pool checked, and at least one police pool.
    fn fleet(&mut self, root: &FieldPath, raw_fleet: &[raw::RawPool], zones: &[Zone]) -> Vec<Pool> {
        let fleet_path = root.key("fleet");
        if raw_fleet.is_empty() {
            self.fail(fleet_path.clone(), "at least one unit pool");
        }
        self.unique_names(
            &fleet_path,
            "pool",
            raw_fleet.iter().map(|p| p.name.as_str()),
        );
        let pools: Vec<Pool> = raw_fleet
            .iter()
            .enumerate()
            .map(|(i, raw_pool)| self.pool(fleet_path.index(i), raw_pool, zones))
            .collect();
        if !raw_fleet.is_empty() && !pools.iter().any(|p| p.kind == ResponderKind::Police) {
            self.fail(
                fleet_path,
                "at least one pool of kind \"police\" (calls no care team may take need one)",
            );
        }

        pools
    }

    /// One pool of units (`[[fleet]]` entry `i`).
    fn pool(&mut self, path: FieldPath, raw_pool: &raw::RawPool, zones: &[Zone]) -> Pool {
        let zone_id = |name: &str| {
            zones
                .iter()
                .position(|z| z.name == name)
                .map(|i| ZoneId(i as u16))
        };
        let count = if raw_pool.count < 1 || raw_pool.count > i64::from(MAX_POOL_UNITS) {
            let expected = if raw_pool.count < 1 {
                "at least one unit (remove the pool to model none)".to_string()
            } else {
                format!("at most {MAX_POOL_UNITS} units in a pool")
            };
            self.fail(
                path.key("count"),
                format!("{expected}, found {}", raw_pool.count),
            );
            1
        } else {
            raw_pool.count as u32
        };
        let home_zones = match &raw_pool.home_zones {
            None => (0..zones.len()).map(|z| ZoneId(z as u16)).collect(),
            Some(names) if names.is_empty() => {
                self.fail(path.key("home_zones"), "at least one zone name");
                vec![ZoneId(0)]
            }
            Some(names) => names
                .iter()
                .enumerate()
                .map(|(k, name)| {
                    zone_id(name).unwrap_or_else(|| {
                        let known: Vec<&str> = zones.iter().map(|z| z.name.as_str()).collect();
                        self.fail(
                            path.key("home_zones").index(k),
                            format!(
                                "a zone defined in [[zones]] ({}), found `{name}`",
                                known.join(", ")
                            ),
                        );
                        ZoneId(0)
                    })
                })
                .collect(),
        };
        let shifts = raw_pool
            .shifts
            .iter()
            .enumerate()
            .map(|(k, s)| self.shift(&path.key("shifts").index(k), s, count))
            .collect();
        let cost = match (raw_pool.cost_per_unit_hour, raw_pool.cost_per_unit_year) {
            (Some(hourly), None) => Cost::PerUnitHour(self.number(
                path.key("cost_per_unit_hour"),
                hourly,
                0.0,
                false,
                MAX_COST_PER_UNIT_HOUR,
            )),
            (None, Some(yearly)) => Cost::PerUnitYear(self.number(
                path.key("cost_per_unit_year"),
                yearly,
                0.0,
                false,
                MAX_COST_PER_UNIT_YEAR,
            )),
            _ => {
                self.fail(
                    path.clone(),
                    "exactly one of cost_per_unit_hour or cost_per_unit_year",
                );
                Cost::PerUnitHour(0.0)
            }
        };
        let call_minutes = match (raw_pool.kind, raw_pool.call_minutes.clone()) {
            (ResponderKind::Counsellor, Some(spec)) => {
                Some(self.duration(path.key("call_minutes"), spec))
            }
            (ResponderKind::Counsellor, None) => {
                self.fail(
                    path.key("call_minutes"),
                    "how long a crisis-line call takes, e.g. { dist = \"lognormal\", mean = 20, sd = 12 }",
                );
                None
            }
            (_, Some(_)) => {
                self.fail(
                    path.key("call_minutes"),
                    "no call_minutes: only counsellor pools have it (other kinds use the call type's on_scene times)",
                );
                None
            }
            (_, None) => None,
        };
        Pool {
            name: raw_pool.name.clone(),
            kind: raw_pool.kind,
            count,
            home_zones,
            shifts,
            cost,
            after_clear: raw_pool.after_clear,
            call_minutes,
        }
    }

    /// `[[policies]]`: unique labels, each rule built, and the pools each needs present.
    fn policies(
        &mut self,
        root: &FieldPath,
        raw_policies: Vec<raw::RawPolicy>,
        pools: &[Pool],
        (facilities, transport): (&[Facility], &Transport),
    ) -> Vec<PolicySpec> {
        let policies_path = root.key("policies");
        if raw_policies.is_empty() {
            self.fail(policies_path.clone(), "at least one [[policies]] entry");
        }
        let mut labels = BTreeSet::new();
        let mut policies = Vec::with_capacity(raw_policies.len());
        for (i, raw_policy) in raw_policies.into_iter().enumerate() {
            let path = policies_path.index(i);
            let label = raw_policy
                .label
                .clone()
                .unwrap_or_else(|| raw_policy.policy.clone());
            if let Some(problem) = name_problem(&label) {
                self.fail(
                    path.key("label"),
                    format!(
                        "a label of at most {MAX_NAME_CHARS} characters, without control characters; found {problem}"
                    ),
                );
            }
            if !labels.insert(label.clone()) {
                self.fail(
                    path.key("label"),
                    format!("a unique label per policy, but `{label}` is used twice (add label = \"...\")"),
                );
            }
            // `transport_to` belongs to the scenario, not the rule: taken out before the rule
            // checks its parameters, and echoed with them into results.
            let mut rule_params = raw_policy.params.clone();
            let transport_to = rule_params.remove("transport_to");
            // `name`: how reports and charts call the policy (its label by default).
            match rule_params.remove("name") {
                None => {}
                Some(toml::Value::String(name))
                    if !name.trim().is_empty() && name_problem(&name).is_none() => {}
                Some(other) => self.fail(
                    path.key("name"),
                    format!(
                        "a name for reports and charts, at most {MAX_NAME_CHARS} characters without control characters, e.g. name = \"Care teams first\"; found {other}"
                    ),
                ),
            }
            match policy::build(&raw_policy.policy, &rule_params) {
                Ok((rule, built)) => {
                    if let Err(expected) = pools_for(pools, rule, built.as_ref()) {
                        self.fail(path.key("policy"), expected);
                    }
                    let built = match transport_to {
                        None => built,
                        Some(value) => self.policy_transport(
                            &path.key("transport_to"),
                            &value,
                            facilities,
                            transport,
                            built,
                        ),
                    };
                    policies.push(PolicySpec {
                        label,
                        rule,
                        params: raw_policy.params,
                        policy: built,
                    });
                }
                Err(err) => {
                    let path = match &err.field {
                        Some(field) => path.key(field),
                        None => path.key("policy"),
                    };
                    self.fail(path, err.expected);
                }
            }
        }

        policies
    }

    fn weights<const N: usize>(
        &mut self,
        path: FieldPath,
        weights: Option<&Vec<f64>>,
        what: &str,
    ) -> [f64; N] {
        let mut out = [1.0; N];
        let Some(weights) = weights else {
            return out;
        };
        if weights.len() != N {
            self.fail(path, format!("{N} {what} weights, found {}", weights.len()));
            return out;
        }
        for (i, &w) in weights.iter().enumerate() {
            out[i] = self.number(path.index(i), w, 0.0, false, f64::INFINITY);
        }
        if out.iter().all(|w| w.is_finite()) && out.iter().sum::<f64>() <= 0.0 {
            self.fail(path, format!("{what} weights with a positive sum"));
        }
        out
    }

    fn demand(&mut self, path: &FieldPath, raw: &raw::RawDemand) -> Demand {
        let calls_per_day = self.number(
            path.key("calls_per_day"),
            raw.calls_per_day,
            0.0,
            true,
            MAX_CALLS_PER_DAY,
        );
        let mut hour_of_day: [f64; 24] = self.weights(
            path.key("hour_of_day"),
            raw.hour_of_day.as_ref(),
            "hour-of-day",
        );
        let mut day_of_week: [f64; 7] = self.weights(
            path.key("day_of_week"),
            raw.day_of_week.as_ref(),
            "day-of-week",
        );
        let hour_sum: f64 = hour_of_day.iter().sum();
        let day_mean: f64 = day_of_week.iter().sum::<f64>() / 7.0;
        if hour_sum > 0.0 && day_mean > 0.0 {
            hour_of_day.iter_mut().for_each(|w| *w /= hour_sum);
            day_of_week.iter_mut().for_each(|w| *w /= day_mean);
        }
        Demand {
            calls_per_day,
            hour_of_day,
            day_of_week,
        }
    }

    fn call_type(&mut self, path: &FieldPath, raw: &raw::RawCallType) -> CallType {
        let share = self.probability(path.key("share"), raw.share);
        if !(1..=9).contains(&raw.priority) {
            self.fail(
                path.key("priority"),
                format!(
                    "a priority from 1 (most urgent) to 9, found {}",
                    raw.priority
                ),
            );
        }
        if !raw.demand && raw.care_eligible {
            self.fail(
                path.key("demand"),
                "911 demand for a care-eligible call type (work that is not demand is not routed to care)",
            );
        }
        let on_scene_path = path.key("on_scene");
        let police = self.duration(on_scene_path.key("police"), raw.on_scene.police.clone());
        // A care team may be sent to any call by a triage error; with no care time given, it
        // stays as long as police would.
        let care = match &raw.on_scene.care {
            Some(spec) => self.duration(on_scene_path.key("care"), spec.clone()),
            None => police.clone(),
        };
        let outcomes_path = path.key("outcomes");
        let p = &raw.outcomes.police;
        let police_outcomes = self.outcomes(
            &outcomes_path.key("police"),
            [p.arrest, p.booking, p.force, p.injury, p.er_transport],
        );
        let c = &raw.outcomes.care;
        let care_outcomes = self.outcomes(
            &outcomes_path.key("care"),
            [c.arrest, c.booking, c.force, c.injury, c.er_transport],
        );
        let care_backup = self.probability(outcomes_path.key("care").key("backup"), c.backup);
        CallType {
            name: raw.name.clone(),
            share,
            priority: raw.priority.clamp(1, 9) as u8,
            care_eligible: raw.care_eligible,
            demand: raw.demand,
            on_scene: [police, care],
            outcomes: [police_outcomes, care_outcomes],
            care_backup,
            transport_to: None,
        }
    }

    fn outcomes(&mut self, path: &FieldPath, values: [f64; 5]) -> OutcomeProbabilities {
        let names = ["arrest", "booking", "force", "injury", "er_transport"];
        let mut checked = [0.0; 5];
        for (i, (name, value)) in names.iter().zip(values).enumerate() {
            checked[i] = self.probability(path.key(name), value);
        }
        let [arrest, booking, force, injury, er_transport] = checked;
        if booking > arrest {
            self.fail(
                path.key("booking"),
                format!("a booking probability <= the arrest probability ({arrest}), found {booking} (every booking is an arrest)"),
            );
        }
        OutcomeProbabilities {
            arrest,
            booking,
            force,
            injury,
            er_transport,
        }
    }

    fn shift(&mut self, path: &FieldPath, raw: &raw::RawShift, pool_count: u32) -> ShiftBlock {
        let start_hour = self.number(path.key("start_hour"), raw.start_hour, 0.0, false, 23.999);
        let hours = self.number(path.key("hours"), raw.hours, 0.0, true, 24.0);
        let count = match raw.count {
            None => pool_count,
            Some(count) if count >= 1 && count <= i64::from(pool_count) => count as u32,
            Some(count) => {
                self.fail(
                    path.key("count"),
                    format!("from 1 to the pool's count ({pool_count}), found {count}"),
                );
                pool_count
            }
        };
        let days = match &raw.days {
            None => [true; 7],
            Some(days) if days.is_empty() => {
                self.fail(
                    path.key("days"),
                    "at least one day, e.g. [\"mon\", \"tue\"]",
                );
                [true; 7]
            }
            Some(days) => {
                let mut out = [false; 7];
                for &day in days {
                    out[day as usize] = true;
                }
                out
            }
        };
        ShiftBlock {
            start_minute_of_day: start_hour * 60.0,
            length_minutes: hours * 60.0,
            count,
            all_units: raw.count.is_none(),
            days,
        }
    }
}

#[cfg(test)]
mod tests;
