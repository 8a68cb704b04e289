//! The explorer's form: a city's key numbers read out of its scenario file, each with the
//! comment above it as its source, and a change of them written back into the file's own text
//! (with `toml_edit`, so every comment is kept) for the scenario checker to judge. What the
//! browser shows, what it runs and what it downloads are all that one text.

use std::collections::BTreeMap;

use serde::Serialize;
use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, Value};

use crate::scenario::{Problem, Scenario, ScenarioError};

/// Most replications the explorer runs for one answer: it answers while a person waits.
/// (`crisis-sim run` takes more; the downloaded scenario keeps the number asked for.)
pub const MAX_REPLICATIONS: u32 = 200;

/// Most calls one answer may simulate (calls a day x simulated days x replications x
/// policies): about two minutes of both cores of a small machine. A scenario past it is refused
/// with a message, so no request can start unbounded work.
pub const MAX_SIMULATED_CALLS: f64 = 4.0e8;

/// The file name the page gives the scenario it hands over.
pub const DOWNLOAD_NAME: &str = "scenario.toml";

/// Where a field's value lives in the scenario file.
#[derive(Clone, Debug, PartialEq)]
enum Target {
    /// A number at a key of a top-level table: `[city] population`.
    Key(&'static str, &'static str),
    /// A line of `[costs]`.
    Cost(String),
    /// A pool's `count` (`[[fleet]]` index).
    PoolCount(usize),
    /// A pool's `cost_per_unit_hour`.
    PoolCost(usize),
    /// The care-eligible call types' share of all calls (their shares rescaled, and the
    /// others' with them, so the shares still sum to 1).
    EligibleShare,
    /// The start hour of a pool's one shift block.
    ShiftStart(usize),
    /// Hours a day of a pool's one shift block; 24 means around the clock (no block).
    ShiftHours(usize),
    /// A parameter of every policy that has it (`max_care_wait_minutes`).
    PolicyParameter(&'static str),
}

/// One field of the form, as the browser gets it.
#[derive(Clone, Debug, Serialize)]
pub struct Field {
    pub id: String,
    pub group: &'static str,
    pub label: String,
    pub unit: &'static str,
    pub value: f64,
    pub min: f64,
    pub max: f64,
    pub step: f64,
    /// One of the main levers: drawn with a slider.
    pub slider: bool,
    /// Shown as a percentage (the value is a share, 0 to 1).
    pub percent: bool,
    /// The comment above the setting in the scenario file (empty when there is none).
    pub source: String,
    /// The comment calls the figure an assumption.
    pub assumption: bool,
    /// What the setting does, for a field that is not a figure about the city (the run's).
    pub note: &'static str,
    #[serde(skip)]
    target: Target,
    #[serde(skip)]
    integer: bool,
}

/// The form of one scenario: its text and the fields read from it.
#[derive(Clone, Debug)]
pub struct Form {
    /// The scenario file as given (or the built-in default), parsed once: each change edits
    /// a copy.
    doc: DocumentMut,
    /// The scenario it loads as.
    scenario: Scenario,
    pub scenario_name: String,
    pub fields: Vec<Field>,
    /// Policy names in scenario order (the first is the baseline).
    pub policies: Vec<String>,
}

/// A change the checker refused: messages by field id, and any it could not place on a field.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Refusal {
    pub fields: BTreeMap<String, String>,
    pub general: Vec<String>,
}

/// A checked change of the form: the scenario to run and its file text.
#[derive(Clone, Debug)]
pub struct Settings {
    pub scenario: Scenario,
    pub text: String,
    pub values: BTreeMap<String, f64>,
}

/// The comment lines of a decor prefix, without their `#`, joined into one paragraph.
fn comment_text(prefix: Option<&str>) -> String {
    let Some(prefix) = prefix else {
        return String::new();
    };
    prefix
        .lines()
        .map(str::trim)
        .filter_map(|line| line.strip_prefix('#'))
        .map(|line| line.trim_start_matches(['-', '#']).trim())
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The comment above `key`; for a key with none of its own written right under the line
/// before it, that line's (one comment often covers a group: `eligible_sent_to_police` and
/// `ineligible_sent_to_care`).
fn key_comment(table: &Table, key: &str) -> String {
    let keys: Vec<&str> = table.iter().map(|(k, _)| k).collect();
    let mut position = keys.iter().position(|k| *k == key);
    while let Some(i) = position {
        let prefix = table
            .key(keys[i])
            .and_then(|k| k.leaf_decor().prefix())
            .and_then(|p| p.as_str())
            .unwrap_or("");
        let comment = comment_text(Some(prefix));
        if !comment.is_empty() {
            return comment;
        }
        // A blank line ends the group.
        if prefix.contains('\n') || i == 0 {
            break;
        }
        position = Some(i - 1);
    }
    String::new()
}

fn table_comment(table: &Table) -> String {
    comment_text(table.decor().prefix().and_then(|p| p.as_str()))
}

fn number(item: Option<&Item>) -> Option<f64> {
    let value = item?.as_value()?;
    value
        .as_float()
        .or_else(|| value.as_integer().map(|i| i as f64))
}

fn fleet(doc: &DocumentMut) -> Option<&ArrayOfTables> {
    doc.get("fleet")?.as_array_of_tables()
}

fn policies(doc: &DocumentMut) -> Option<&ArrayOfTables> {
    doc.get("policies")?.as_array_of_tables()
}

/// Sets a number in place, keeping the comment written after it.
fn set_number(item: &mut Item, x: f64, integer: bool) {
    let decor = item.as_value().map(|v| v.decor().clone());
    let mut value = if integer {
        Value::from(x.round() as i64)
    } else {
        Value::from(x)
    };
    if let Some(decor) = decor {
        *value.decor_mut() = decor;
    }
    *item = Item::Value(value);
}

/// A share rounded for the file (the checker allows 1e-3 off a sum of 1).
fn share(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// A field being read: where it lives and how the page draws it.
struct Spec {
    id: String,
    group: &'static str,
    label: String,
    unit: &'static str,
    target: Target,
    /// (min, max, step) of the input.
    range: (f64, f64, f64),
    slider: bool,
    percent: bool,
    integer: bool,
    source: String,
    note: &'static str,
}

impl Spec {
    fn new(
        id: impl Into<String>,
        group: &'static str,
        label: impl Into<String>,
        unit: &'static str,
        target: Target,
        range: (f64, f64, f64),
    ) -> Self {
        Self {
            id: id.into(),
            group,
            label: label.into(),
            unit,
            target,
            range,
            slider: false,
            percent: false,
            integer: false,
            source: String::new(),
            note: "",
        }
    }

    /// One of the main levers: drawn with a slider.
    fn slider(self) -> Self {
        self.slider_if(true)
    }

    fn slider_if(mut self, slider: bool) -> Self {
        self.slider = slider;
        self
    }

    /// A share, shown as a percentage.
    fn percent(self) -> Self {
        self.percent_if(true)
    }

    fn percent_if(mut self, percent: bool) -> Self {
        self.percent = percent;
        self
    }

    /// Written as a whole number.
    fn integer(mut self) -> Self {
        self.integer = true;
        self
    }

    fn source(mut self, source: String) -> Self {
        self.source = source;
        self
    }

    fn note(mut self, note: &'static str) -> Self {
        self.note = note;
        self
    }
}

impl Form {
    /// The form of a scenario's text (already checked: it loaded as the scenario).
    pub fn new(text: &str, file: &str) -> Result<Self, String> {
        let scenario = Scenario::from_toml_str(text, file).map_err(|e| e.to_string())?;
        let doc: DocumentMut = text.parse().map_err(|e| format!("{file}: {e}"))?;
        let mut specs = Vec::new();
        let top = |name: &str| doc.get(name).and_then(Item::as_table);
        if let Some(city) = top("city") {
            specs.push(
                Spec::new(
                    "population",
                    "City",
                    "Population",
                    "residents",
                    Target::Key("city", "population"),
                    (1000.0, 20_000_000.0, 1000.0),
                )
                .integer()
                .source(key_comment(city, "population")),
            );
        }
        if let Some(demand) = top("demand") {
            let calls = scenario.demand.calls_per_day;
            specs.push(
                Spec::new(
                    "calls_per_day",
                    "Calls",
                    "911 calls a day",
                    "calls a day",
                    Target::Key("demand", "calls_per_day"),
                    (1.0, (calls * 3.0).max(100.0).round(), 1.0),
                )
                .slider()
                .source(key_comment(demand, "calls_per_day")),
            );
        }
        let eligible: f64 = scenario
            .call_types
            .iter()
            .filter(|t| t.care_eligible)
            .map(|t| t.share)
            .sum();
        if eligible > 0.0 && eligible < 1.0 {
            let first = doc
                .get("call_types")
                .and_then(Item::as_array_of_tables)
                .and_then(|types| types.get(0));
            specs.push(
                Spec::new(
                    "eligible_share",
                    "Calls",
                    "Care-eligible calls",
                    "% of calls",
                    Target::EligibleShare,
                    (0.005, 0.6, 0.005),
                )
                .slider()
                .percent()
                .source(first.map_or_else(String::new, table_comment)),
            );
        }
        let pools = fleet(&doc);
        for (p, pool) in scenario.pools.iter().enumerate() {
            let table = pools.and_then(|f| f.get(p));
            let comment = |key: &str| table.map_or_else(String::new, |t| key_comment(t, key));
            let kind = pool.kind.as_str();
            let (noun, slider) = match kind {
                "police" => ("units", true),
                "care" => ("teams", true),
                _ => ("units", false),
            };
            specs.push(
                Spec::new(
                    format!("{}.count", pool.name),
                    "Fleet",
                    format!("{} {noun}", capitalised(&pool.name)),
                    if noun == "teams" { "teams" } else { "units" },
                    Target::PoolCount(p),
                    (1.0, (f64::from(pool.count) * 3.0).max(30.0), 1.0),
                )
                .slider_if(slider)
                .integer()
                .source(comment("count")),
            );
            // Shift hours: around the clock, or one block a day (a pool with several blocks
            // keeps them: its file is the place to change those).
            let blocks = table
                .and_then(|t| t.get("shifts"))
                .and_then(Item::as_array_of_tables)
                .map_or(0, ArrayOfTables::len);
            if kind == "care" && blocks <= 1 && pool.shifts.len() <= 1 {
                let shift_comment = table.map_or_else(String::new, |t| {
                    t.get("shifts")
                        .and_then(Item::as_array_of_tables)
                        .and_then(|s| s.get(0))
                        .map_or_else(String::new, table_comment)
                });
                let source = if shift_comment.is_empty() {
                    comment("count")
                } else {
                    shift_comment
                };
                specs.push(
                    Spec::new(
                        format!("{}.shift_hours", pool.name),
                        "Fleet",
                        format!(
                            "{} hours a day (24 = around the clock)",
                            capitalised(&pool.name)
                        ),
                        "hours",
                        Target::ShiftHours(p),
                        (1.0, 24.0, 1.0),
                    )
                    .slider()
                    .source(source.clone()),
                );
                specs.push(
                    Spec::new(
                        format!("{}.shift_start", pool.name),
                        "Fleet",
                        format!("{} shift starts at", capitalised(&pool.name)),
                        "hour of day",
                        Target::ShiftStart(p),
                        (0.0, 23.0, 1.0),
                    )
                    .source(source),
                );
            }
        }
        for (parameter, label, unit, range, percent, slider) in [
            (
                "max_care_wait_minutes",
                "How long an eligible call may wait for a care team",
                "minutes",
                (0.0, 240.0, 1.0),
                false,
                true,
            ),
            (
                "eligible_sent_to_police",
                "Triage misses: eligible calls sent to police",
                "% of eligible calls",
                (0.0, 1.0, 0.01),
                true,
                false,
            ),
            (
                "ineligible_sent_to_care",
                "Triage errors: other calls sent to care",
                "% of other calls",
                (0.0, 1.0, 0.005),
                true,
                false,
            ),
        ] {
            let Some(table) =
                policies(&doc).and_then(|ps| ps.iter().find(|t| t.contains_key(parameter)))
            else {
                continue;
            };
            specs.push(
                Spec::new(
                    parameter,
                    "Policy",
                    label,
                    unit,
                    Target::PolicyParameter(parameter),
                    range,
                )
                .slider_if(slider)
                .percent_if(percent)
                .source(key_comment(table, parameter)),
            );
        }
        for (p, pool) in scenario.pools.iter().enumerate() {
            let table = pools.and_then(|f| f.get(p));
            if table.is_some_and(|t| number(t.get("cost_per_unit_hour")).is_some()) {
                specs.push(
                    Spec::new(
                        format!("{}.cost_per_unit_hour", pool.name),
                        "Costs",
                        format!("{} cost per unit-hour on duty", capitalised(&pool.name)),
                        "dollars",
                        Target::PoolCost(p),
                        (0.0, 2000.0, 1.0),
                    )
                    .source(
                        table.map_or_else(String::new, |t| key_comment(t, "cost_per_unit_hour")),
                    ),
                );
            }
        }
        if let Some(costs) = top("costs") {
            for (key, item) in costs.iter() {
                if number(Some(item)).is_none() {
                    continue;
                }
                let Some(line) = cost_line(key) else {
                    continue;
                };
                specs.push(
                    Spec::new(
                        format!("costs.{key}"),
                        "Costs",
                        line.label,
                        line.unit,
                        Target::Cost(key.to_string()),
                        line.range,
                    )
                    .percent_if(line.percent)
                    .source(key_comment(costs, key)),
                );
            }
        }
        if top("run").is_some() {
            specs.push(
                Spec::new(
                    "replications",
                    "Run",
                    "Replications",
                    "runs of the year",
                    Target::Key("run", "replications"),
                    (2.0, f64::from(MAX_REPLICATIONS), 1.0),
                )
                .integer()
                .note("More replications narrow the intervals; the explorer runs up to 200."),
            );
            specs.push(
                Spec::new(
                    "seed",
                    "Run",
                    "Seed",
                    "",
                    Target::Key("run", "seed"),
                    (0.0, 9.0e15, 1.0),
                )
                .integer()
                .note("The same seed gives the same numbers, here and with crisis-sim run."),
            );
        }
        let mut fields = Vec::new();
        for spec in specs {
            let Some(value) = read(&doc, &scenario, &spec.target) else {
                continue;
            };
            let (low, high, step) = spec.range;
            let assumption = spec.source.to_lowercase().contains("assumption");
            fields.push(Field {
                id: spec.id,
                group: spec.group,
                label: spec.label,
                unit: spec.unit,
                value,
                min: low.min(value),
                max: high.max(value),
                step,
                slider: spec.slider,
                percent: spec.percent,
                source: spec.source,
                assumption,
                note: spec.note,
                target: spec.target,
                integer: spec.integer,
            });
        }
        Ok(Self {
            scenario_name: scenario.name.clone(),
            fields,
            policies: scenario
                .policies
                .iter()
                .map(|p| crate::experiment::PolicyInfo::of(p).name().to_string())
                .collect(),
            doc,
            scenario,
        })
    }

    /// The scenario with `values` (by field id) set, checked as `crisis-sim run` checks a file,
    /// or why not, by field.
    pub fn apply(&self, values: &BTreeMap<String, f64>) -> Result<Settings, Refusal> {
        let mut refusal = Refusal::default();
        for id in values.keys() {
            if !self.fields.iter().any(|f| &f.id == id) {
                refusal
                    .general
                    .push(format!("no field `{id}` in this form"));
            }
        }
        let mut doc = self.doc.clone();
        let scenario = &self.scenario;
        let mut applied = BTreeMap::new();
        for field in &self.fields {
            let Some(&value) = values.get(&field.id) else {
                continue;
            };
            applied.insert(field.id.clone(), value);
            if !value.is_finite() {
                refusal
                    .fields
                    .insert(field.id.clone(), "expected a number".to_string());
                continue;
            }
            if value == field.value {
                continue;
            }
            if let Err(message) = write(&mut doc, scenario, field, value) {
                refusal.fields.insert(field.id.clone(), message);
            }
        }
        if !refusal.fields.is_empty() || !refusal.general.is_empty() {
            return Err(refusal);
        }
        let text = doc.to_string();
        // Named as the page's download names it: `crisis-sim run scenario.toml` then writes
        // the same results.json, its `source` included.
        let scenario = match Scenario::from_toml_str(&text, DOWNLOAD_NAME) {
            Ok(scenario) => scenario,
            Err(ScenarioError::Invalid { problems, .. }) => {
                return Err(self.place(&problems));
            }
            Err(other) => {
                return Err(Refusal {
                    general: vec![other.to_string()],
                    ..Refusal::default()
                });
            }
        };
        if scenario.replications > MAX_REPLICATIONS {
            refusal.fields.insert(
                "replications".to_string(),
                format!(
                    "at most {MAX_REPLICATIONS}: the explorer answers while you wait (crisis-sim run takes more)"
                ),
            );
            return Err(refusal);
        }
        let calls = scenario.demand.calls_per_day
            * scenario.horizon_days
            * f64::from(scenario.replications)
            * scenario.policies.len() as f64;
        if calls > MAX_SIMULATED_CALLS {
            let field = if values.contains_key("replications") {
                "replications"
            } else {
                "calls_per_day"
            };
            refusal.fields.insert(
                field.to_string(),
                format!(
                    "this asks for {} simulated calls; the explorer answers up to {} (run it with crisis-sim run)",
                    crate::output::format_number(calls, 0),
                    crate::output::format_number(MAX_SIMULATED_CALLS, 0)
                ),
            );
            return Err(refusal);
        }
        Ok(Settings {
            scenario,
            text,
            values: applied,
        })
    }

    /// Puts each of the checker's problems on the field it is about.
    fn place(&self, problems: &[Problem]) -> Refusal {
        let mut refusal = Refusal::default();
        for problem in problems {
            let message = format!("expected {}", problem.expected);
            match self.fields.iter().find(|f| {
                checker_paths(&f.target).iter().any(|p| {
                    // `.name`: that key of any table (every policy that has it).
                    if p.starts_with('.') {
                        problem.field.ends_with(p.as_str())
                    } else {
                        problem.field.starts_with(p.as_str())
                    }
                })
            }) {
                Some(field) => {
                    refusal.fields.entry(field.id.clone()).or_insert(message);
                }
                None => refusal
                    .general
                    .push(format!("{}: {message}", problem.field)),
            }
        }
        refusal
    }
}

/// How the checker names the settings a target writes (for placing its messages).
fn checker_paths(target: &Target) -> Vec<String> {
    match target {
        Target::Key(table, key) => vec![format!("{table}.{key}")],
        Target::Cost(key) => vec![format!("costs.{key}")],
        Target::PoolCount(p) => vec![format!("fleet[{p}].count")],
        Target::PoolCost(p) => vec![format!("fleet[{p}].cost_per_unit_hour")],
        Target::EligibleShare => vec!["call_types".to_string()],
        Target::ShiftStart(p) | Target::ShiftHours(p) => vec![format!("fleet[{p}].shifts")],
        Target::PolicyParameter(name) => vec![format!(".{name}")],
    }
}

fn capitalised(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first
            .to_uppercase()
            .chain(chars)
            .collect::<String>()
            .replace('_', " "),
        None => String::new(),
    }
}

/// How the form shows a `[costs]` line.
struct CostField {
    label: &'static str,
    unit: &'static str,
    /// (min, max, step).
    range: (f64, f64, f64),
    /// A share, shown as a percentage.
    percent: bool,
}

/// The `[costs]` lines the form shows.
fn cost_line(key: &str) -> Option<CostField> {
    let money = |label| CostField {
        label,
        unit: "dollars",
        range: (0.0, 1.0e6, 1.0),
        percent: false,
    };
    let share = |label, step| CostField {
        label,
        unit: "%",
        range: (0.0, 1.0, step),
        percent: true,
    };
    Some(match key {
        "booking" => money("A jail booking"),
        "jail_bed_day" => money("A jail bed-day"),
        "ed_visit" => money("An emergency-department visit"),
        "ambulance_transport" => money("An ambulance transport"),
        "ambulance_share" => share("ED visits that arrive by ambulance", 0.01),
        "crisis_center_admission" => money("A crisis-center admission"),
        "sobering_admission" => money("A sobering-center admission"),
        "call_988" => money("A 988 call handled"),
        "force_claim_probability" => share("Uses of force that end in a paid claim", 0.005),
        "force_claim_mean" => CostField {
            range: (0.0, 1.0e7, 100.0),
            ..money("A paid force claim")
        },
        _ => return None,
    })
}

/// A target's value in the document (and the checked scenario, for derived ones).
fn read(doc: &DocumentMut, scenario: &Scenario, target: &Target) -> Option<f64> {
    match target {
        Target::Key(table, key) => number(doc.get(table)?.as_table()?.get(key)),
        Target::Cost(key) => number(doc.get("costs")?.as_table()?.get(key)),
        Target::PoolCount(p) => Some(f64::from(scenario.pools.get(*p)?.count)),
        Target::PoolCost(p) => number(fleet(doc)?.get(*p)?.get("cost_per_unit_hour")),
        Target::EligibleShare => Some(
            scenario
                .call_types
                .iter()
                .filter(|t| t.care_eligible)
                .map(|t| t.share)
                .sum(),
        ),
        Target::ShiftStart(p) => Some(
            scenario
                .pools
                .get(*p)?
                .shifts
                .first()
                .map_or(0.0, |b| b.start_minute_of_day / 60.0),
        ),
        Target::ShiftHours(p) => Some(
            scenario
                .pools
                .get(*p)?
                .shifts
                .first()
                .map_or(24.0, |b| b.length_minutes / 60.0),
        ),
        Target::PolicyParameter(name) => policies(doc)?.iter().find_map(|t| number(t.get(name))),
    }
}

/// Sets the number at `[table] key`.
fn set_key(
    doc: &mut DocumentMut,
    table: &str,
    key: &str,
    field: &Field,
    value: f64,
) -> Result<(), String> {
    if field.integer && value.fract() != 0.0 {
        return Err("expected a whole number".to_string());
    }
    let item = doc
        .get_mut(table)
        .and_then(Item::as_table_mut)
        .and_then(|t| t.get_mut(key))
        .ok_or_else(|| format!("the scenario file has no place for {}", field.label))?;
    set_number(item, value, field.integer);
    Ok(())
}

/// Writes `value` of `field` into the document.
fn write(
    doc: &mut DocumentMut,
    scenario: &Scenario,
    field: &Field,
    value: f64,
) -> Result<(), String> {
    let missing = || format!("the scenario file has no place for {}", field.label);
    match &field.target {
        Target::Key(table, key) => set_key(doc, table, key, field, value)?,
        Target::Cost(key) => set_key(doc, "costs", key, field, value)?,
        Target::PoolCount(p) | Target::PoolCost(p) => {
            let key = if matches!(field.target, Target::PoolCount(_)) {
                "count"
            } else {
                "cost_per_unit_hour"
            };
            if field.integer && value.fract() != 0.0 {
                return Err("expected a whole number".to_string());
            }
            let table = doc
                .get_mut("fleet")
                .and_then(Item::as_array_of_tables_mut)
                .and_then(|f| f.get_mut(*p))
                .ok_or_else(missing)?;
            let item = table.get_mut(key).ok_or_else(missing)?;
            set_number(item, value, field.integer);
        }
        Target::EligibleShare => {
            if !(value > 0.0 && value < 1.0) {
                return Err("expected a share above 0% and below 100%".to_string());
            }
            let now: f64 = scenario
                .call_types
                .iter()
                .filter(|t| t.care_eligible)
                .map(|t| t.share)
                .sum();
            let types = doc
                .get_mut("call_types")
                .and_then(Item::as_array_of_tables_mut)
                .ok_or_else(missing)?;
            for (table, call_type) in types.iter_mut().zip(&scenario.call_types) {
                let factor = if call_type.care_eligible {
                    value / now
                } else {
                    (1.0 - value) / (1.0 - now)
                };
                let item = table.get_mut("share").ok_or_else(missing)?;
                set_number(item, share(call_type.share * factor), false);
            }
        }
        Target::ShiftStart(p) | Target::ShiftHours(p) => {
            let pool = &scenario.pools[*p];
            let (mut start, mut hours) = pool.shifts.first().map_or((0.0, 24.0), |b| {
                (b.start_minute_of_day / 60.0, b.length_minutes / 60.0)
            });
            if matches!(field.target, Target::ShiftStart(_)) {
                start = value;
            } else {
                hours = value;
            }
            let table = doc
                .get_mut("fleet")
                .and_then(Item::as_array_of_tables_mut)
                .and_then(|f| f.get_mut(*p))
                .ok_or_else(missing)?;
            if hours >= 24.0 {
                // Around the clock: no shift block.
                table.remove("shifts");
            } else {
                let shifts = table
                    .entry("shifts")
                    .or_insert_with(|| Item::ArrayOfTables(ArrayOfTables::new()))
                    .as_array_of_tables_mut()
                    .ok_or_else(missing)?;
                if shifts.is_empty() {
                    shifts.push(Table::new());
                }
                let block = shifts.get_mut(0).ok_or_else(missing)?;
                for (key, x) in [("start_hour", start), ("hours", hours)] {
                    match block.get_mut(key) {
                        Some(item) => set_number(item, x, false),
                        None => {
                            block.insert(key, toml_edit::value(x));
                        }
                    }
                }
            }
        }
        Target::PolicyParameter(name) => {
            let tables = doc
                .get_mut("policies")
                .and_then(Item::as_array_of_tables_mut)
                .ok_or_else(missing)?;
            for table in tables.iter_mut() {
                if let Some(item) = table.get_mut(name) {
                    set_number(item, value, false);
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::DEFAULT_SCENARIO_TOML;

    fn form() -> Form {
        Form::new(DEFAULT_SCENARIO_TOML, "default.toml").unwrap()
    }

    fn field<'a>(form: &'a Form, id: &str) -> &'a Field {
        form.fields
            .iter()
            .find(|f| f.id == id)
            .unwrap_or_else(|| panic!("no field {id}"))
    }

    #[test]
    fn the_default_city_fills_the_form_with_sources() {
        let form = form();
        assert_eq!(field(&form, "population").value, 400_000.0);
        assert_eq!(field(&form, "care.count").value, 8.0);
        assert_eq!(field(&form, "police.count").value, 58.0);
        assert_eq!(field(&form, "care.shift_hours").value, 16.0);
        assert_eq!(field(&form, "care.shift_start").value, 7.0);
        assert_eq!(field(&form, "max_care_wait_minutes").value, 10.0);
        assert!((field(&form, "eligible_share").value - 0.14).abs() < 1e-9);
        assert_eq!(field(&form, "costs.jail_bed_day").value, 120.0);
        let care = field(&form, "care.count");
        assert!(care.slider);
        assert!(care.source.contains("Denver STAR"), "{}", care.source);
        assert!(field(&form, "costs.jail_bed_day").assumption);
        assert!(!field(&form, "costs.booking").assumption);
        // A key under another's comment shares it; a key after a blank line does not.
        assert!(
            field(&form, "costs.ambulance_share")
                .source
                .contains("GAO-13-6")
        );
        assert!(
            field(&form, "ineligible_sent_to_care")
                .source
                .contains("triage error")
        );
        assert!(!field(&form, "police.cost_per_unit_hour").source.is_empty());
    }

    #[test]
    fn a_change_keeps_every_comment_and_loads_as_run_would() {
        let form = form();
        let values = BTreeMap::from([
            ("care.count".to_string(), 12.0),
            ("eligible_share".to_string(), 0.2),
            ("care.shift_hours".to_string(), 24.0),
            ("max_care_wait_minutes".to_string(), 15.0),
        ]);
        let settings = form.apply(&values).unwrap();
        let scenario = &settings.scenario;
        let care = scenario.pools.iter().find(|p| p.name == "care").unwrap();
        assert_eq!(care.count, 12);
        assert!(care.shifts.is_empty(), "24 hours: around the clock");
        let eligible: f64 = scenario
            .call_types
            .iter()
            .filter(|t| t.care_eligible)
            .map(|t| t.share)
            .sum();
        assert!((eligible - 0.2).abs() < 1e-5, "{eligible}");
        // Every comment line of the file is still there.
        for line in DEFAULT_SCENARIO_TOML
            .lines()
            .filter(|l| l.trim_start().starts_with('#'))
        {
            assert!(settings.text.contains(line), "lost: {line}");
        }
        let again = Scenario::from_toml_str(&settings.text, "again.toml").unwrap();
        assert_eq!(again.pools[1].count, 12);
    }

    #[test]
    fn refused_values_come_back_on_their_field() {
        let form = form();
        let refusal = form
            .apply(&BTreeMap::from([("care.count".to_string(), 0.0)]))
            .unwrap_err();
        assert!(
            refusal.fields["care.count"].contains("at least one unit"),
            "{refusal:?}"
        );
        let refusal = form
            .apply(&BTreeMap::from([(
                "max_care_wait_minutes".to_string(),
                -5.0,
            )]))
            .unwrap_err();
        assert!(
            refusal.fields.contains_key("max_care_wait_minutes"),
            "{refusal:?}"
        );
        let refusal = form
            .apply(&BTreeMap::from([("calls_per_day".to_string(), 900_000.0)]))
            .unwrap_err();
        assert!(
            refusal.fields["calls_per_day"].contains("explorer answers up to"),
            "{refusal:?}"
        );
        let refusal = form
            .apply(&BTreeMap::from([("nonsense".to_string(), 1.0)]))
            .unwrap_err();
        assert_eq!(refusal.general.len(), 1);
    }
}
