//! `crisis-sim sweep`: how many care teams does this city need? Runs a grid of fleet variants
//! (`--vary care.count=0..=20`, `--vary care.shifts=day,24x7`), every point with the same
//! replication seeds (common random numbers across points and policies), checks targets *with
//! confidence* (the 95% CI bound, not only the mean, must meet them) and names the cheapest point
//! that meets them all, also per 100,000 residents.
//!
//! A policy's results depend only on the pools it uses, so each distinct (policy, pools used)
//! combination runs once: `police_only` is not rerun at every care-team count.

use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::experiment::batch::Progress;
use crate::experiment::checkpoint;
use crate::experiment::{self, ExperimentError, PolicyInfo, Results, ScenarioInfo};
use crate::scenario::parameter::{PARAMETER_PATHS, Parameter, Value};
use crate::scenario::{KINDS, MAX_POOL_UNITS, ResponderKind, Scenario, ShiftBlock};
use crate::stats::{Estimate, FigureDef};

/// Figures a sweep adds to every point.
use crate::stats::figures::{
    self as key, CARE_TEAMS_PER_100K, COST_PER_CARE_CALL, POLICE_HOURS_FREED,
};

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("setting `{text}`: {reason}")]
    BadVary { text: String, reason: String },
    #[error("target `{text}`: {reason}")]
    BadTarget { text: String, reason: String },
    #[error("policy `{label}`: no such policy in the scenario; expected one of {valid}")]
    UnknownPolicy { label: String, valid: String },
    #[error(
        "the grid has {points} points; a sweep may have at most {max} (narrow a range, or step it: care.count=0..=100:5)",
        max = MAX_SWEEP_POINTS
    )]
    TooManyPoints { points: u64 },
    /// The grid's ends showed that a target cannot be met anywhere on the grid (see
    /// [`run_sweep`]); the message says which, and the best value reached.
    #[error("{report}")]
    OutOfReach { report: String },
    #[error(transparent)]
    Checkpoint(#[from] crate::experiment::checkpoint::CheckpointError),
    #[error(transparent)]
    Experiment(#[from] ExperimentError),
}

/// The most points a sweep's grid may have (the product of its `--vary` lists).
pub const MAX_SWEEP_POINTS: u64 = 10_000;

/// A named daily on-duty pattern for `--vary POOL.shifts=...`.
#[derive(Clone, Debug, PartialEq)]
pub struct ShiftPattern {
    pub name: String,
    /// (start hour, hours) blocks worked every day by every unit; empty means 24/7.
    pub blocks: Vec<(f64, f64)>,
}

impl ShiftPattern {
    /// `24x7`, `day` (07-19), `night` (19-07), `16h` (07-23), or blocks like `7-19` or
    /// `7-19+19-3` (start-end hours; an end before the start runs past midnight).
    pub fn parse(text: &str) -> Result<Self, String> {
        let preset = |blocks: &[(f64, f64)]| Self {
            name: text.to_string(),
            blocks: blocks.to_vec(),
        };
        match text {
            "24x7" | "24/7" => return Ok(preset(&[])),
            "day" => return Ok(preset(&[(7.0, 12.0)])),
            "night" => return Ok(preset(&[(19.0, 12.0)])),
            "16h" => return Ok(preset(&[(7.0, 16.0)])),
            _ => {}
        }
        let mut blocks = Vec::new();
        for part in text.split('+') {
            let hours = part.split_once('-').and_then(|(a, b)| {
                Some((a.trim().parse::<f64>().ok()?, b.trim().parse::<f64>().ok()?))
            });
            match hours {
                Some((start, end))
                    if (0.0..24.0).contains(&start)
                        && (0.0..=24.0).contains(&end)
                        && start != end =>
                {
                    let length = if end > start {
                        end - start
                    } else {
                        end + 24.0 - start
                    };
                    blocks.push((start, length));
                }
                _ => {
                    return Err(format!(
                        "expected a shift pattern: 24x7, day (7-19), night (19-7), 16h (7-23), or hours like 7-19 or 7-19+19-3; found `{text}`"
                    ));
                }
            }
        }
        Ok(Self {
            name: text.to_string(),
            blocks,
        })
    }
}

/// One value a `--vary` takes.
#[derive(Clone, Debug, PartialEq)]
pub enum Setting {
    Count(u32),
    Shifts(ShiftPattern),
    /// A value of a [`Parameter`] (beds, a stay, an outcome time, a cost).
    Value(Value),
}

/// What a `--vary` changes: a pool (its count or shifts), or another parameter.
#[derive(Clone, Debug, PartialEq)]
pub enum Varied {
    Pool(usize),
    Parameter(Parameter),
}

impl Setting {
    pub fn label(&self) -> String {
        match self {
            Self::Count(n) => n.to_string(),
            Self::Shifts(pattern) => pattern.name.clone(),
            Self::Value(Value::Number(n)) => n.to_string(),
            Self::Value(Value::Unlimited) => "unlimited".to_string(),
        }
    }

    /// Sets this value of `varied` in `scenario` (values were checked when parsed).
    fn apply(&self, scenario: &mut Scenario, varied: &Varied) {
        let pool = match (varied, self) {
            (Varied::Parameter(parameter), Self::Value(value)) => {
                // Checked on a copy of the base when the --vary was parsed; a failure here
                // would be a bug.
                let checked = parameter.apply(scenario, *value);
                debug_assert!(checked.is_ok(), "{checked:?}");
                return;
            }
            (Varied::Pool(pool), _) => &mut scenario.pools[*pool],
            (Varied::Parameter(_), _) => unreachable!("a parameter takes values only"),
        };
        match self {
            Self::Value(_) => unreachable!("a pool takes counts or shifts"),
            Self::Count(count) => pool.set_count(*count),
            Self::Shifts(pattern) => {
                pool.shifts = pattern
                    .blocks
                    .iter()
                    .map(|&(start, hours)| ShiftBlock {
                        start_minute_of_day: start * 60.0,
                        length_minutes: hours * 60.0,
                        count: pool.count,
                        all_units: true,
                        days: [true; 7],
                    })
                    .collect();
            }
        }
    }
}

/// One `--vary`: a pool's setting or a parameter, and the values it takes.
#[derive(Clone, Debug, PartialEq)]
pub struct Vary {
    /// `care.count`, as written.
    pub name: String,
    pub varied: Varied,
    pub values: Vec<Setting>,
}

/// Parses `POOL.count=0..=20`, `POOL.count=40..=60:5`, `POOL.count=2,4,8`, `POOL.shifts=day,24x7`.
pub fn parse_vary(text: &str, scenario: &Scenario) -> Result<Vary, SweepError> {
    let bad = |reason: String| SweepError::BadVary {
        text: text.to_string(),
        reason,
    };
    let pools: Vec<&str> = scenario.pools.iter().map(|p| p.name.as_str()).collect();
    let (name, values) = text.split_once('=').ok_or_else(|| {
        bad(format!(
            "expected POOL.count=..., POOL.shifts=... or a parameter ({PARAMETER_PATHS}), e.g. care.count=0..=20"
        ))
    })?;
    if let Some(parameter) = Parameter::parse(name.trim(), scenario) {
        let parameter = parameter.map_err(bad)?;
        let values = parse_values(values.trim()).map_err(bad)?;
        // Each value checked now, on a copy of the scenario: a sweep runs nothing the
        // scenario checker would refuse.
        for value in &values {
            parameter
                .apply(&mut scenario.clone(), *value)
                .map_err(|reason| {
                    bad(format!(
                        "value {}: expected {reason}",
                        Setting::Value(*value).label()
                    ))
                })?;
        }
        return Ok(Vary {
            name: name.trim().to_string(),
            varied: Varied::Parameter(parameter),
            values: values.into_iter().map(Setting::Value).collect(),
        });
    }
    let (pool_name, field) = name
        .trim()
        .rsplit_once('.')
        .ok_or_else(|| bad("expected POOL.count or POOL.shifts before `=`".into()))?;
    let pool = pools.iter().position(|p| *p == pool_name).ok_or_else(|| {
        bad(format!(
            "no pool `{pool_name}`; the scenario's pools are {}",
            pools.join(", ")
        ))
    })?;
    let values = match field {
        "count" => {
            let counts = parse_counts(values.trim()).map_err(bad)?;
            let other_police = scenario
                .pools
                .iter()
                .enumerate()
                .any(|(p, other)| p != pool && other.kind == ResponderKind::Police);
            if scenario.pools[pool].kind == ResponderKind::Police
                && !other_police
                && counts.contains(&Setting::Count(0))
            {
                return Err(bad(format!(
                    "0 units in `{pool_name}`, the only police pool: a city with no police is refused as a scenario is (calls no care team may take need one); start the range at 1"
                )));
            }
            counts
        }
        "shifts" => values
            .split(',')
            .map(|v| ShiftPattern::parse(v.trim()).map(Setting::Shifts))
            .collect::<Result<Vec<_>, _>>()
            .map_err(bad)?,
        other => {
            return Err(bad(format!(
                "no setting `{other}`; a sweep varies `count` or `shifts`"
            )));
        }
    };
    Ok(Vary {
        name: name.trim().to_string(),
        varied: Varied::Pool(pool),
        values,
    })
}

/// Numbers for a parameter: a list (`8,16,32`, `unlimited` for beds) or a range with a step
/// (`60..=240:30`; the step defaults to 1).
fn parse_values(text: &str) -> Result<Vec<Value>, String> {
    let expected = || {
        format!(
            "expected numbers like 8,16,32 or 60..=240:30 (or `unlimited` for beds); found `{text}`"
        )
    };
    let number = |s: &str| {
        s.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(expected)
    };
    if let Some((from, rest)) = text.split_once("..=") {
        let (to, step) = match rest.split_once(':') {
            Some((to, step)) => (number(to)?, number(step)?),
            None => (number(rest)?, 1.0),
        };
        let from = number(from)?;
        if step <= 0.0 || to < from {
            return Err(expected());
        }
        let count = ((to - from) / step + 1e-9).floor() + 1.0;
        if count > MAX_SWEEP_POINTS as f64 {
            return Err(format!(
                "{count} values; a sweep may have at most {MAX_SWEEP_POINTS} points"
            ));
        }
        // Each value from the start, not by repeated adding, so 0.1 steps do not drift.
        return Ok((0..count as u64)
            .map(|k| Value::Number(from + k as f64 * step))
            .collect());
    }
    text.split(',')
        .map(|v| match v.trim() {
            "unlimited" => Ok(Value::Unlimited),
            v => number(v).map(Value::Number),
        })
        .collect()
}

fn parse_counts(text: &str) -> Result<Vec<Setting>, String> {
    let expected = || {
        format!(
            "expected counts like 0..=20, 40..=60:5 (step 5), 0..20 (to 19) or 2,4,8; found `{text}`"
        )
    };
    let number = |s: &str| match s.trim().parse::<u32>() {
        Ok(n) if n > MAX_POOL_UNITS => Err(format!(
            "{n} units: at most {MAX_POOL_UNITS} units in a pool"
        )),
        Ok(n) => Ok(n),
        Err(_) => Err(expected()),
    };
    let (range, step) = match text.split_once(':') {
        Some((range, step)) => (range, number(step)?),
        None => (text, 1),
    };
    // How many values a range gives, checked before any is made.
    let span = |from: u32, last: Option<u32>| -> Result<std::ops::RangeInclusive<u32>, String> {
        let Some(last) = last.filter(|&last| last >= from) else {
            return Err(expected());
        };
        let values = u64::from(last - from) / u64::from(step.max(1)) + 1;
        if values > MAX_SWEEP_POINTS {
            return Err(format!(
                "{values} values; a sweep may have at most {MAX_SWEEP_POINTS} points (step it: {from}..={last}:{})",
                (u64::from(last - from) / MAX_SWEEP_POINTS + 1).max(2)
            ));
        }
        Ok(from..=last)
    };
    let counts: Vec<u32> = if let Some((from, to)) = range.split_once("..=") {
        let from = number(from)?;
        span(from, Some(number(to)?))?
            .step_by(step.max(1) as usize)
            .collect()
    } else if let Some((from, to)) = range.split_once("..") {
        let from = number(from)?;
        span(from, number(to)?.checked_sub(1))?
            .step_by(step.max(1) as usize)
            .collect()
    } else {
        range.split(',').map(number).collect::<Result<_, _>>()?
    };
    if counts.is_empty() || step == 0 {
        return Err(expected());
    }
    Ok(counts.into_iter().map(Setting::Count).collect())
}

/// A point of the grid: its settings and the scenario they give.
#[derive(Clone, Debug)]
pub struct Point {
    /// (`care.count`, `9`) per `--vary`, in the order given.
    pub settings: Vec<(String, String)>,
    pub scenario: Scenario,
}

/// The cartesian grid of the `--vary`s (the first given varies slowest).
pub fn grid(base: &Scenario, varies: &[Vary]) -> Vec<Point> {
    let mut points = vec![Point {
        settings: Vec::new(),
        scenario: base.clone(),
    }];
    for vary in varies {
        points = points
            .into_iter()
            .flat_map(|point| {
                vary.values.iter().map(move |value| {
                    let mut next = point.clone();
                    value.apply(&mut next.scenario, &vary.varied);
                    next.settings.push((vary.name.clone(), value.label()));
                    next
                })
            })
            .collect();
    }
    points
}

/// A condition on a figure, e.g. `eligible.response_p90 <= 20`.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    pub text: String,
    pub figure: String,
    pub op: Op,
    pub value: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Le,
    Lt,
    Ge,
    Gt,
}

impl Target {
    /// Parses `FIGURE OP VALUE`; `figures` are the valid names (listed in the error).
    pub fn parse(text: &str, figures: &[FigureDef]) -> Result<Self, SweepError> {
        let valid = || {
            figures
                .iter()
                .filter(|f| !f.detail)
                .map(|f| f.key.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let bad = |reason: String| SweepError::BadTarget {
            text: text.to_string(),
            reason,
        };
        let (figure, op, value) = [("<=", Op::Le), (">=", Op::Ge), ("<", Op::Lt), (">", Op::Gt)]
            .iter()
            .find_map(|(symbol, op)| {
                text.split_once(symbol)
                    .map(|(figure, value)| (figure.trim(), *op, value.trim()))
            })
            .ok_or_else(|| bad(format!("expected FIGURE <= VALUE (or <, >=, >), e.g. \"eligible.response_p90 <= 20\"; figures: {}", valid())))?;
        if !figures.iter().any(|f| f.key == figure) {
            return Err(bad(format!("no figure `{figure}`; figures: {}", valid())));
        }
        let value = value
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| {
                bad(format!(
                    "expected a number after the comparison, found `{value}`"
                ))
            })?;
        Ok(Self {
            text: text.to_string(),
            figure: figure.to_string(),
            op,
            value,
        })
    }

    /// Whether the figure leaves out calls no unit reached (response and wait times count
    /// served calls only): a point with unserved calls cannot meet a target on it.
    pub fn on_served_calls_only(&self) -> bool {
        let figure = self
            .figure
            .strip_prefix(key::ELIGIBLE)
            .unwrap_or(&self.figure);
        figure.starts_with("response_")
            || figure.starts_with("wait_")
            || figure.starts_with("priority_")
    }

    /// Whether the figure moves one way as a pool's units grow (utilization, shares handled,
    /// hours, costs): then the grid's ends bound every value between them.
    pub fn monotone_in_counts(&self) -> bool {
        let f = self.figure.as_str();
        key::is_pool_utilization(f)
            || f.ends_with(".annual_cost")
            || [
                key::CARE_SHARE,
                key::ELIGIBLE_CARE_SHARE,
                key::POLICE_HOURS_ON_ELIGIBLE,
                key::POLICE_HOURS_FREED,
                key::ANNUAL_COST,
                key::CARE_TEAMS_PER_100K,
                key::POLICE_BUSY_HOURS,
            ]
            .contains(&f)
    }

    /// How near an estimate comes to meeting the target: the interval's far bound (the one
    /// [`Target::met_by`] checks), oriented so that larger is better.
    pub fn closeness(&self, e: &Estimate) -> f64 {
        match self.op {
            Op::Le | Op::Lt => -e.ci_high,
            Op::Ge | Op::Gt => e.ci_low,
        }
    }

    /// Met with 95% confidence: the interval's far bound meets it (an estimate with no interval
    /// or no value does not).
    pub fn met_by(&self, e: &Estimate) -> bool {
        match self.op {
            Op::Le => e.ci_high <= self.value,
            Op::Lt => e.ci_high < self.value,
            Op::Ge => e.ci_low >= self.value,
            Op::Gt => e.ci_low > self.value,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct SweepSettings {
    pub replications: u32,
    pub seed: u64,
    pub threads: Option<usize>,
    /// Labels of the policies to sweep; empty = every policy but the baseline.
    pub policies: Vec<String>,
    pub targets: Vec<String>,
    /// Where finished replication runs are saved as they complete (`None`: nowhere).
    pub checkpoint: Option<std::path::PathBuf>,
    /// Continue from the checkpoint instead of starting afresh.
    pub resume: bool,
    /// Run only shard I of N (I from 1) of the grid's replication runs, saving them to the
    /// checkpoint for a merge ([`run_sweep_shard`]).
    pub shard: Option<(u32, u32)>,
}

/// What one shard of a sweep ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShardRun {
    /// Its replication runs: the half-open range of the grid's, in the sweep's job order.
    pub jobs: (usize, usize),
    /// The grid's distinct replication runs, all shards together.
    pub total: usize,
    /// Runs already in the checkpoint (a resumed shard).
    pub resumed: usize,
}

/// The replication runs shard `index` of `shards` takes out of `total` (half-open): the
/// shards split them evenly and in order, whatever the grid's shape, so 16 shards of a
/// 21-point sweep each take the same number of runs, give or take one.
pub fn shard_range(total: usize, (index, shards): (u32, u32)) -> (usize, usize) {
    let (i, n) = (index as usize, shards as usize);
    ((i - 1) * total / n, i * total / n)
}

/// One point's results: the baseline and the swept policies, with the sweep's derived figures.
#[derive(Clone, Debug)]
pub struct PointResults {
    pub settings: Vec<(String, String)>,
    /// Care teams in the point's fleet (all care pools).
    pub care_teams: u32,
    /// Units of each kind in the point's fleet (by `ResponderKind::index`).
    pub units_by_kind: [u32; KINDS],
    pub results: Results,
    /// Per swept policy (in `SweepResults::swept` order): meets every target with confidence.
    pub meets: Vec<bool>,
}

/// The cheapest point meeting every target, for one swept policy.
#[derive(Clone, Debug, PartialEq)]
pub struct Recommendation {
    pub policy: String,
    pub point: Option<usize>,
}

#[derive(Clone, Debug)]
pub struct SweepResults {
    pub scenario: ScenarioInfo,
    pub seed: u64,
    pub replications: u32,
    pub varies: Vec<String>,
    pub targets: Vec<Target>,
    /// Labels of the swept policies.
    pub swept: Vec<String>,
    /// Per swept policy: the kinds of unit besides police its program uses.
    pub program_kinds: Vec<Vec<ResponderKind>>,
    pub figures: Vec<FigureDef>,
    pub points: Vec<PointResults>,
    pub recommendations: Vec<Recommendation>,
}

/// How many figures [`sweep_figures`] adds to a run's.
const SWEEP_FIGURES: usize = 3;

/// The figure list of a sweep point: the run's figures plus the sweep's derived ones.
pub(crate) fn sweep_figures(scenario: &Scenario) -> Vec<FigureDef> {
    let mut figures = experiment::figure_defs(scenario);
    let def = |key: &str, label: &str, unit: &str| FigureDef {
        key: key.to_string(),
        label: label.to_string(),
        unit: unit.to_string(),
        detail: false,
    };
    figures.push(def(
        CARE_TEAMS_PER_100K,
        "Care teams per 100,000 residents",
        "teams",
    ));
    figures.push(def(
        COST_PER_CARE_CALL,
        "Cost per call handled by care",
        "$",
    ));
    figures.push(def(POLICE_HOURS_FREED, "Police unit-hours freed", "h/yr"));
    figures
}

/// Runs the sweep. With targets on figures that move one way with unit counts, it first runs
/// the grid's ends, and stops with [`SweepError::OutOfReach`] when they show no point can
/// meet a target.
pub fn run_sweep(
    base: &Scenario,
    varies: &[Vary],
    settings: &SweepSettings,
    progress: &dyn Progress,
) -> Result<SweepResults, SweepError> {
    let settings = SweepSettings {
        shard: None,
        ..settings.clone()
    };
    match run_sweep_checked(base, varies, &settings, progress, true)? {
        Ran::All(results) => Ok(*results),
        Ran::Shard(_) => unreachable!("no shard was asked for"),
    }
}

/// Runs one shard (`settings.shard`) of the sweep's replication runs and saves them to
/// `settings.checkpoint` (required). No probe of the grid's ends and no results: the merge of
/// every shard's checkpoint finishes the sweep ([`run_sweep`] with `resume`), with the same
/// numbers an unsharded sweep gives.
pub fn run_sweep_shard(
    base: &Scenario,
    varies: &[Vary],
    settings: &SweepSettings,
    progress: &dyn Progress,
) -> Result<ShardRun, SweepError> {
    assert!(
        settings.shard.is_some() && settings.checkpoint.is_some(),
        "a shard needs its index and a checkpoint"
    );
    match run_sweep_checked(base, varies, settings, progress, false)? {
        Ran::Shard(run) => Ok(run),
        Ran::All(_) => unreachable!("a shard returns its runs"),
    }
}

/// What [`run_sweep_checked`] did: the whole sweep, or one shard of its runs.
enum Ran {
    All(Box<SweepResults>),
    Shard(ShardRun),
}

/// Runs every point of the grid (no probe of its ends first).
fn run_sweep_points(
    base: &Scenario,
    varies: &[Vary],
    settings: &SweepSettings,
    progress: &dyn Progress,
) -> Result<SweepResults, SweepError> {
    match run_sweep_checked(base, varies, settings, progress, false)? {
        Ran::All(results) => Ok(*results),
        Ran::Shard(_) => unreachable!("the probe is never a shard"),
    }
}

fn run_sweep_checked(
    base: &Scenario,
    varies: &[Vary],
    settings: &SweepSettings,
    progress: &dyn Progress,
    probe_ends: bool,
) -> Result<Ran, SweepError> {
    if settings.replications == 0 {
        return Err(ExperimentError::ZeroReplications.into());
    }
    let swept = swept_policies(base, settings)?;
    // The baseline always runs: the freed police hours are measured against it.
    let mut run_policies = vec![0];
    run_policies.extend(swept.iter().copied().filter(|&p| p != 0));

    let figures = sweep_figures(base);
    let targets = settings
        .targets
        .iter()
        .map(|t| Target::parse(t, &figures))
        .collect::<Result<Vec<_>, _>>()?;
    let size = varies
        .iter()
        .try_fold(1u64, |points, vary| {
            points.checked_mul(vary.values.len() as u64)
        })
        .unwrap_or(u64::MAX);
    if size > MAX_SWEEP_POINTS {
        return Err(SweepError::TooManyPoints { points: size });
    }
    if probe_ends
        && let Some(report) = out_of_reach_at_the_ends(base, varies, settings, &targets, progress)?
    {
        return Err(SweepError::OutOfReach { report });
    }
    experiment::check_runs(
        size * run_policies.len() as u64 * u64::from(settings.replications),
        || {
            format!(
                "{size} points x {} policies x {} replications",
                run_policies.len(),
                settings.replications
            )
        },
    )?;
    let points = grid(base, varies);

    let (key_of, jobs) = distinct_jobs(&points, &run_policies, settings.replications);
    // The checkpoint (not for the probe of the grid's ends): each distinct job by the
    // fingerprint of its signature, the grid and seed in the header.
    let signatures: Vec<&String> = {
        let mut keys: Vec<&String> = jobs.iter().map(|job| &job.0).collect();
        keys.dedup();
        keys
    };
    let index_of: BTreeMap<&String, usize> = signatures
        .iter()
        .enumerate()
        .map(|(i, k)| (*k, i))
        .collect();
    let job_index = |key: &String| index_of.get(key).copied().unwrap_or(0);
    // The whole sweep saves its runs (not the probe, which sets no checkpoint); a shard must.
    let saving = match (&settings.checkpoint, probe_ends || settings.shard.is_some()) {
        (Some(path), true) => {
            let identity = crate::scenario::fingerprint(&format!(
                "{}|{}",
                base.fingerprint,
                varies
                    .iter()
                    .map(|v| v.name.clone()
                        + "="
                        + &v.values
                            .iter()
                            .map(Setting::label)
                            .collect::<Vec<_>>()
                            .join(","))
                    .collect::<Vec<_>>()
                    .join(";")
            ));
            let header = checkpoint::Header::for_sweep(
                &identity,
                settings.seed,
                signatures
                    .iter()
                    .map(|k| crate::scenario::fingerprint(k))
                    .collect(),
                figures.len() - SWEEP_FIGURES,
            );
            let done = if settings.resume {
                checkpoint::read(path, &header, 0..u64::from(settings.replications))?
            } else {
                checkpoint::Done::new()
            };
            let writer = checkpoint::Writer::open(path, &header, &done)?;
            Some((done, writer))
        }
        _ => None,
    };
    let resumed = |key: &String, r: u64| {
        saving
            .as_ref()
            .and_then(|(done, _)| done.get(&(r, job_index(key))))
    };
    // A shard runs its share of the jobs; the rest are another shard's.
    let (first, last) = settings
        .shard
        .map_or((0, jobs.len()), |shard| shard_range(jobs.len(), shard));
    let mine = &jobs[first..last];
    let already = mine
        .iter()
        .filter(|(k, _, _, r)| resumed(k, *r).is_some())
        .count();
    progress.set(mine.len() as u64, already as u64);
    let values: Vec<Vec<f64>> = experiment::with_threads(settings.threads, || {
        mine.par_iter()
            .map(|(key, x, p, r)| {
                let (x, p, r) = (*x, *p, *r);
                if let Some(values) = resumed(key, r) {
                    return Ok(values.clone());
                }
                let point = &points[x];
                let figures = experiment::run_replication(
                    &point.scenario,
                    &point.scenario.policies[p],
                    settings.seed,
                    r,
                )
                .map_err(|mut overloaded| {
                    overloaded.point = point
                        .settings
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    ExperimentError::from(overloaded)
                })?;
                progress.advance();
                let values: Vec<f64> = figures.into_iter().map(|(_, v)| v).collect();
                if let Some((_, writer)) = &saving
                    && let Some(message) = writer.append(r, job_index(key), &values)
                {
                    progress.warn(&message);
                }
                Ok(values)
            })
            .collect::<Result<_, ExperimentError>>()
    })??;
    if settings.shard.is_some() {
        return Ok(Ran::Shard(ShardRun {
            jobs: (first, last),
            total: jobs.len(),
            resumed: already,
        }));
    }
    let by_job: BTreeMap<(&String, u64), &Vec<f64>> = jobs
        .iter()
        .zip(&values)
        .map(|(&(ref key, _, _, r), v)| ((key, r), v))
        .collect();

    let sweep = Sweep {
        base,
        settings,
        figures: &figures,
        run_policies: &run_policies,
        swept: &swept,
        targets: &targets,
    };
    let point_results: Vec<PointResults> = points
        .iter()
        .enumerate()
        .map(|(x, point)| sweep.point_results(point, |p, r| by_job[&(&key_of[&(x, p)], r)]))
        .collect();
    let recommendations = sweep.recommend(&point_results);
    Ok(Ran::All(Box::new(SweepResults {
        scenario: ScenarioInfo::of(base),
        seed: settings.seed,
        replications: settings.replications,
        varies: varies.iter().map(|v| v.name.clone()).collect(),
        targets,
        swept: swept
            .iter()
            .map(|&p| base.policies[p].label.clone())
            .collect(),
        program_kinds: swept
            .iter()
            .map(|&p| {
                ResponderKind::ALL
                    .into_iter()
                    .filter(|&kind| {
                        kind != ResponderKind::Police && base.policies[p].policy.uses(kind)
                    })
                    .collect()
            })
            .collect(),
        figures,
        points: point_results,
        recommendations,
    })))
}

/// The most calls left unserved at the horizon, as a share of calls, for a point to meet a
/// target on a figure of served calls (a response time): a fleet that leaves calls unanswered
/// does not have a good response time, whatever the answered ones show. (Calls that arrive in
/// the last minutes before the horizon are unserved in any fleet: on a year that is a few in
/// 400,000; on a short test horizon of 3 measured days, about 0.2%.)
pub const MAX_UNSERVED_SHARE: f64 = 0.01;

/// Whether policy `slot` of a point's results meets `target` with 95% confidence (and, for a
/// figure of served calls, leaves at most [`MAX_UNSERVED_SHARE`] of calls unserved).
pub fn target_met(results: &Results, slot: usize, target: &Target) -> bool {
    let estimates = &results.policies[slot].estimates;
    let Some(f) = results.figure_index(&target.figure) else {
        return false;
    };
    if target.on_served_calls_only() && unserved_share(results, slot) > MAX_UNSERVED_SHARE {
        return false;
    }
    target.met_by(&estimates[f])
}

/// Calls unserved at the horizon over calls received (means over replications).
pub fn unserved_share(results: &Results, slot: usize) -> f64 {
    let estimates = &results.policies[slot].estimates;
    match (
        results.figure_index(key::UNSERVED_AT_HORIZON),
        results.figure_index(key::CALLS),
    ) {
        (Some(u), Some(c)) if estimates[c].mean > 0.0 => estimates[u].mean / estimates[c].mean,
        _ => 0.0,
    }
}

/// Before a grid of unit counts runs whole, its ends: when a target on a figure that moves one
/// way with the counts ([`Target::monotone_in_counts`]) is met at no end, for every swept
/// policy, no point between can meet it, and the sweep stops with the best value the ends
/// reached. `None` when the grid should run (or is no bigger than its ends).
fn out_of_reach_at_the_ends(
    base: &Scenario,
    varies: &[Vary],
    settings: &SweepSettings,
    targets: &[Target],
    progress: &dyn Progress,
) -> Result<Option<String>, SweepError> {
    let counts_only = varies.iter().all(|v| {
        matches!(v.varied, Varied::Pool(_))
            && v.values.iter().all(|s| matches!(s, Setting::Count(_)))
    });
    if !counts_only || !targets.iter().any(Target::monotone_in_counts) {
        return Ok(None);
    }
    let ends: Vec<Vary> = varies
        .iter()
        .map(|v| {
            let counts = v.values.iter().filter_map(|s| match s {
                Setting::Count(n) => Some(*n),
                _ => None,
            });
            let (low, high) = (counts.clone().min(), counts.max());
            let mut values: Vec<Setting> =
                low.into_iter().chain(high).map(Setting::Count).collect();
            values.dedup();
            Vary {
                values,
                ..v.clone()
            }
        })
        .collect();
    let end_points: usize = ends.iter().map(|v| v.values.len()).product();
    let all_points: usize = varies.iter().map(|v| v.values.len()).product();
    if end_points >= all_points {
        return Ok(None);
    }
    let probe = run_sweep_points(base, &ends, settings, progress)?;
    let mut lines = Vec::new();
    for (s, label) in probe.swept.iter().enumerate() {
        let slot = probe.points[0]
            .results
            .policies
            .iter()
            .position(|p| p.label() == label)
            .unwrap_or(0);
        let _ = s;
        let unreachable: Vec<String> = targets
            .iter()
            .filter(|t| t.monotone_in_counts())
            .filter(|t| {
                !probe
                    .points
                    .iter()
                    .any(|point| target_met(&point.results, slot, t))
            })
            .map(|t| best_reached(&probe, slot, t))
            .collect();
        if unreachable.is_empty() {
            return Ok(None);
        }
        lines.push(format!("{label}:\n{}", unreachable.join("\n")));
    }
    Ok(Some(format!(
        "no point of the grid can meet every target, so the sweep stopped after running the grid's ends ({end_points} of {all_points} points). These figures move one way with the unit counts, so the ends bound every point between:\n{}\nRelax the target, or vary something else (shifts, another pool).",
        lines.join("\n")
    )))
}

/// `  police.utilization <= 0.6: best 0.652 ± 0.003 (at care.count=20)`: the point that comes
/// nearest to meeting `target` for policy `slot`.
pub fn best_reached(sweep: &SweepResults, slot: usize, target: &Target) -> String {
    let Some(f) = sweep.figures.iter().position(|d| d.key == target.figure) else {
        return format!("  {}: not measured", target.text);
    };
    let best = sweep
        .points
        .iter()
        .map(|point| (point, point.results.policies[slot].estimates[f]))
        .filter(|(_, e)| e.mean.is_finite())
        .max_by(|a, b| target.closeness(&a.1).total_cmp(&target.closeness(&b.1)));
    match best {
        None => format!("  {}: not measured at any point", target.text),
        Some((point, e)) => {
            let settings: Vec<String> = point
                .settings
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            format!(
                "  {}: met at no point; the nearest is {} (95% CI {} to {}) at {}",
                target.text,
                crate::output::format_number(e.mean, 3),
                crate::output::format_number(e.ci_low, 3),
                crate::output::format_number(e.ci_high, 3),
                settings.join(", ")
            )
        }
    }
}

/// The policies a sweep is for: those named, or every policy but the baseline (the baseline
/// alone in a scenario with one policy).
fn swept_policies(base: &Scenario, settings: &SweepSettings) -> Result<Vec<usize>, SweepError> {
    let labels: Vec<&str> = base.policies.iter().map(|p| p.label.as_str()).collect();
    let swept: Vec<usize> = if settings.policies.is_empty() {
        (1..base.policies.len()).collect()
    } else {
        settings
            .policies
            .iter()
            .map(|label| {
                labels
                    .iter()
                    .position(|l| l == label)
                    .ok_or_else(|| SweepError::UnknownPolicy {
                        label: label.clone(),
                        valid: labels.join(", "),
                    })
            })
            .collect::<Result<_, _>>()?
    };
    Ok(if swept.is_empty() { vec![0] } else { swept })
}

/// A replication job of a sweep: (signature, representative point, policy, replication).
type Job = (String, usize, usize, u64);

/// One job per distinct (policy, pools it uses, replication): points where a policy's program is
/// the same (a police-only baseline at every care-team count) share one run. Returns each
/// (point, policy)'s signature and the jobs.
fn distinct_jobs(
    points: &[Point],
    run_policies: &[usize],
    replications: u32,
) -> (BTreeMap<(usize, usize), String>, Vec<Job>) {
    let signature = |point: &Point, policy: usize| {
        let spec = &point.scenario.policies[policy];
        let pools: Vec<String> = point
            .scenario
            .pools
            .iter()
            .filter(|pool| spec.policy.uses(pool.kind))
            .map(|pool| format!("{pool:?}"))
            .collect();
        // What happens after the scene applies whichever pools a policy uses: a point that
        // varies beds, costs or call processing runs anew.
        let s = &point.scenario;
        format!(
            "{}|{}|{:?}|{:?}|{:?}|{:?}",
            spec.label,
            pools.join("|"),
            s.outcome_time,
            s.facilities,
            s.costs,
            s.dispatch_delay
        )
    };
    let mut representative: BTreeMap<String, usize> = BTreeMap::new();
    let mut key_of: BTreeMap<(usize, usize), String> = BTreeMap::new();
    for (x, point) in points.iter().enumerate() {
        for &p in run_policies {
            let key = signature(point, p);
            representative.entry(key.clone()).or_insert(x);
            key_of.insert((x, p), key);
        }
    }
    let jobs: Vec<Job> = representative
        .iter()
        .flat_map(|(key, &x)| {
            let policy = run_policies
                .iter()
                .copied()
                .find(|&p| key_of[&(x, p)] == *key)
                .unwrap_or(0);
            (0..u64::from(replications)).map(move |r| (key.clone(), x, policy, r))
        })
        .collect();
    (key_of, jobs)
}

/// What every point of one sweep shares.
struct Sweep<'a> {
    base: &'a Scenario,
    settings: &'a SweepSettings,
    figures: &'a [FigureDef],
    /// The baseline first, then the swept policies.
    run_policies: &'a [usize],
    swept: &'a [usize],
    targets: &'a [Target],
}

impl Sweep<'_> {
    /// One point's results: each replication's figures (`values(policy, replication)`) plus
    /// the sweep's derived figures, assembled, and whether the point meets the targets.
    fn point_results<'v>(
        &self,
        point: &Point,
        values: impl Fn(usize, u64) -> &'v Vec<f64>,
    ) -> PointResults {
        let (base, settings, figures) = (self.base, self.settings, self.figures);
        let (run_policies, swept, targets) = (self.run_policies, self.swept, self.targets);
        let index = |key: &str| figures.iter().position(|f| f.key == key);
        let (calls_f, care_share_f, eligible_hours_f) = (
            index(key::CALLS),
            index(key::CARE_SHARE),
            index(key::POLICE_HOURS_ON_ELIGIBLE),
        );
        let replications: Vec<u64> = (0..u64::from(settings.replications)).collect();
        let scenario = &point.scenario;
        let care_cost_fs: Vec<usize> = scenario
            .pools
            .iter()
            .filter(|pool| pool.kind == ResponderKind::Care)
            .filter_map(|pool| index(&key::pool_annual_cost(&pool.name)))
            .collect();
        let care_teams: u32 = scenario
            .pools
            .iter()
            .filter(|pool| pool.kind == ResponderKind::Care)
            .map(|pool| pool.count)
            .sum();
        let year_factor = 365.0 / scenario.measured_days();
        let mut summaries = BTreeMap::new();
        for (slot, &p) in run_policies.iter().enumerate() {
            for &r in &replications {
                let mut row = values(p, r).clone();
                let baseline = values(0, r);
                let get = |v: &[f64], f: Option<usize>| f.map_or(f64::NAN, |f| v[f]);
                let uses_care = scenario.policies[p].policy.uses(ResponderKind::Care);
                let teams = if uses_care {
                    f64::from(care_teams)
                } else {
                    0.0
                };
                let care_calls_per_year =
                    get(&row, care_share_f) * get(&row, calls_f) * year_factor;
                let care_cost: f64 = care_cost_fs.iter().map(|&f| row[f]).sum();
                row.push(teams / scenario.population * 100_000.0);
                row.push(if care_calls_per_year > 0.0 {
                    care_cost / care_calls_per_year
                } else {
                    f64::NAN
                });
                row.push(get(baseline, eligible_hours_f) - get(&row, eligible_hours_f));
                summaries.insert((r, slot), row);
            }
        }
        let mut info = ScenarioInfo::of(scenario);
        info.fingerprint = format!(
            "{}+{}",
            base.fingerprint,
            point
                .settings
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        );
        let results = Results::assemble(
            info,
            settings.seed,
            None,
            figures.to_vec(),
            run_policies
                .iter()
                .map(|&p| PolicyInfo::of(&scenario.policies[p]))
                .collect(),
            &summaries,
            &replications,
        );
        let meets = swept
            .iter()
            .map(|&p| {
                let slot = run_policies.iter().position(|&q| q == p).unwrap_or(0);
                targets.iter().all(|t| target_met(&results, slot, t))
            })
            .collect();
        let mut units_by_kind = [0u32; KINDS];
        for pool in &scenario.pools {
            units_by_kind[pool.kind.index()] += pool.count;
        }
        PointResults {
            settings: point.settings.clone(),
            care_teams,
            units_by_kind,
            results,
            meets,
        }
    }

    /// Per swept policy, the cheapest point that meets every target (none without targets).
    fn recommend(&self, point_results: &[PointResults]) -> Vec<Recommendation> {
        let (base, figures, run_policies) = (self.base, self.figures, self.run_policies);
        let (swept, targets) = (self.swept, self.targets);
        // With a cost ledger, the cheapest point is the one with the lowest net public cost
        // (fleet plus downstream); otherwise the lowest fleet cost.
        let cost = figures
            .iter()
            .position(|f| f.key == key::NET_PUBLIC_COST)
            .or_else(|| figures.iter().position(|f| f.key == key::ANNUAL_COST));
        swept
            .iter()
            .enumerate()
            .map(|(s, &p)| {
                let slot = run_policies.iter().position(|&q| q == p).unwrap_or(0);
                let point = if targets.is_empty() {
                    None
                } else {
                    point_results
                        .iter()
                        .enumerate()
                        .filter(|(_, pr)| pr.meets[s])
                        .min_by(|(_, a), (_, b)| {
                            let c = |pr: &PointResults| {
                                cost.map_or(f64::INFINITY, |f| {
                                    pr.results.policies[slot].estimates[f].mean
                                })
                            };
                            c(a).total_cmp(&c(b))
                        })
                        .map(|(x, _)| x)
                };
                Recommendation {
                    policy: base.policies[p].label.clone(),
                    point,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
