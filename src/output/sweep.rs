//! Sweep outputs: the table a budget analyst reads (one row per point), the recommendation in
//! absolute and per-100,000-resident terms, `sweep.csv` (one row per point and swept policy)
//! and `sweep.json` (every estimate of every point).

use std::fmt::Write;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::table::format_number;
use crate::experiment::ScenarioInfo;
use crate::experiment::sweep::SweepResults;
use crate::experiment::sweep::{best_reached, target_met};
use crate::scenario::ResponderKind;
use crate::stats::figures::{
    self as key, CARE_TEAMS_PER_100K, COST_PER_CARE_CALL, POLICE_HOURS_FREED,
};
use crate::stats::{Estimate, FigureDef};

pub const SWEEP_CSV: &str = "sweep.csv";
pub const SWEEP_JSON: &str = "sweep.json";

/// The figures the table shows: targets first, then the usual answers to "how many teams?".
fn table_figures(sweep: &SweepResults) -> Vec<String> {
    let mut keys: Vec<String> = sweep.targets.iter().map(|t| t.figure.clone()).collect();
    let pools_util = sweep
        .figures
        .iter()
        .filter(|f| !f.detail && key::is_pool_utilization(&f.key))
        .map(|f| f.key.clone());
    let usual = [
        key::ELIGIBLE_RESPONSE_P90,
        key::RESPONSE_P90,
        key::ELIGIBLE_CARE_SHARE,
    ]
    .into_iter()
    .map(String::from)
    .chain(pools_util)
    .chain([POLICE_HOURS_FREED, key::ANNUAL_COST, COST_PER_CARE_CALL].map(String::from))
    .chain(
        [key::NET_PUBLIC_COST, key::NET_PUBLIC_COST_PER_100K]
            .into_iter()
            .filter(|k| sweep.figures.iter().any(|f| f.key == *k))
            .map(String::from),
    );
    for key in usual {
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys
}

fn cell(e: &Estimate) -> String {
    super::table::mean_and_interval(e)
}

/// The sweep table and the recommendation, as text.
pub fn sweep_table(sweep: &SweepResults) -> String {
    let mut out = String::new();
    let s = &sweep.scenario;
    let _ = writeln!(
        out,
        "{} (population {}): {} points x {} replications, seed {}",
        s.name,
        format_number(s.population, 0),
        sweep.points.len(),
        sweep.replications,
        sweep.seed
    );
    let _ = writeln!(
        out,
        "Mean ± 95% CI half-width. A point meets a target only if the whole interval does.\n"
    );
    let keys = table_figures(sweep);
    for (s_index, label) in sweep.swept.iter().enumerate() {
        let mut header: Vec<String> = sweep.varies.clone();
        header.push("teams/100k".into());
        for key in &keys {
            let unit = sweep
                .figures
                .iter()
                .find(|f| &f.key == key)
                .map_or("", |f| f.unit.as_str());
            header.push(format!("{key} ({unit})"));
        }
        if !sweep.targets.is_empty() {
            header.push("meets targets".into());
        }
        let mut rows = vec![header];
        for point in &sweep.points {
            let results = &point.results;
            let Some(policy) = results.policies.iter().find(|p| p.label() == label) else {
                continue;
            };
            let mut row: Vec<String> = point.settings.iter().map(|(_, v)| v.clone()).collect();
            let per_100k = results
                .figure_index(CARE_TEAMS_PER_100K)
                .map_or(f64::NAN, |f| policy.estimates[f].mean);
            row.push(format_number(per_100k, 2));
            for key in &keys {
                row.push(
                    results
                        .figure_index(key)
                        .map_or("n/a".to_string(), |f| cell(&policy.estimates[f])),
                );
            }
            if !sweep.targets.is_empty() {
                row.push(if point.meets[s_index] { "yes" } else { "no" }.into());
            }
            rows.push(row);
        }
        let _ = writeln!(out, "Policy {label}:");
        out.push_str(&super::table::render_rows(&rows, 0, true));
        let _ = writeln!(out);
        let steps = trade_off(sweep, label);
        if !steps.is_empty() {
            out.push_str(&steps);
            let _ = writeln!(out);
        }
    }
    out.push_str(&recommendation_text(sweep));
    out
}

/// The recommendation in words: the point, teams in absolute and per-100,000 terms, its cost.
pub fn recommendation_text(sweep: &SweepResults) -> String {
    let mut out = String::new();
    if sweep.targets.is_empty() {
        let _ = writeln!(
            out,
            "No target given, so no recommendation: a sweep recommends the cheapest point that meets every target."
        );
        return out;
    }
    let targets: Vec<&str> = sweep.targets.iter().map(|t| t.text.as_str()).collect();
    for recommendation in &sweep.recommendations {
        match recommendation.point {
            None => {
                let _ = writeln!(
                    out,
                    "{}: no point meets every target with 95% confidence ({}).",
                    recommendation.policy,
                    targets.join("; ")
                );
                let slot = sweep.points[0]
                    .results
                    .policies
                    .iter()
                    .position(|p| p.label() == recommendation.policy)
                    .unwrap_or(0);
                for target in &sweep.targets {
                    let met_somewhere = sweep
                        .points
                        .iter()
                        .any(|point| target_met(&point.results, slot, target));
                    if !met_somewhere {
                        let _ = writeln!(out, "{}", best_reached(sweep, slot, target));
                    }
                }
                let _ = writeln!(
                    out,
                    "  Each target may be met at some point, but not all at one: relax one, or widen the grid."
                );
            }
            Some(x) => {
                let point = &sweep.points[x];
                let results = &point.results;
                let policy = results
                    .policies
                    .iter()
                    .find(|p| p.label() == recommendation.policy)
                    .expect("recommended policy is in the point");
                let estimate = |key: &str| results.figure_index(key).map(|f| policy.estimates[f]);
                let settings: Vec<String> = point
                    .settings
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                let population = sweep.scenario.population;
                let _ = writeln!(
                    out,
                    "Recommended for {} (cheapest point meeting every target with 95% confidence: {}):",
                    recommendation.policy,
                    targets.join("; ")
                );
                let _ = writeln!(out, "  {}", settings.join(", "));
                // The program's own units: care teams, clinicians, crisis-line seats.
                let kinds = sweep
                    .swept
                    .iter()
                    .position(|label| *label == recommendation.policy)
                    .map_or(&[][..], |s| sweep.program_kinds[s].as_slice());
                let parts: Vec<String> = kinds
                    .iter()
                    .map(|&kind| {
                        let noun = match kind {
                            ResponderKind::Care => "care teams",
                            ResponderKind::Clinician => "clinicians",
                            ResponderKind::Counsellor => "crisis-line seats",
                            ResponderKind::Police => "police units",
                        };
                        format!("{} {noun}", point.units_by_kind[kind.index()])
                    })
                    .collect();
                let units: u32 = kinds.iter().map(|k| point.units_by_kind[k.index()]).sum();
                if !parts.is_empty() {
                    let _ = writeln!(
                        out,
                        "  {} = {} per 100,000 residents (population {})",
                        parts.join(" + "),
                        format_number(f64::from(units) / population * 100_000.0, 2),
                        format_number(population, 0)
                    );
                }
                if let Some(cost) = estimate(key::ANNUAL_COST) {
                    let _ = writeln!(out, "  annual fleet cost ${}", cell(&cost));
                }
                if let Some(net) = estimate(key::NET_PUBLIC_COST) {
                    let _ = writeln!(
                        out,
                        "  net public cost ${} a year (fleet + downstream)",
                        cell(&net)
                    );
                }
                if let Some(freed) = estimate(POLICE_HOURS_FREED) {
                    let _ = writeln!(out, "  police unit-hours freed {} a year", cell(&freed));
                }
                if !kinds.is_empty() && units == 0 {
                    out.push_str(&why_no_program(sweep, &policy.info.params));
                }
            }
        }
    }
    out
}

/// Why the cheapest point meeting the targets has no program at all, and what to ask
/// instead: a response-time target alone cannot size a care program.
fn why_no_program(sweep: &SweepResults, params: &serde_json::Value) -> String {
    let wait = params
        .get("max_care_wait_minutes")
        .and_then(serde_json::Value::as_f64)
        .map_or(String::new(), |minutes| {
            format!(" up to {} min", format_number(minutes, 0))
        });
    let mut out = format!(
        "  Why none: with no teams the targets are met most cheaply, by police alone. With few \
         teams, an eligible call first waits{wait} for a team before police go, which can make \
         its response slower than with none, so a response-time target alone cannot size a care \
         program.\n"
    );
    let has_coverage = sweep
        .targets
        .iter()
        .any(|t| t.figure == key::ELIGIBLE_CARE_SHARE || t.figure == POLICE_HOURS_FREED);
    if !has_coverage {
        out.push_str(
            "  Ask what the program is for as well, e.g. --target \"eligible.care_share >= 0.5\" (half of eligible calls handled by care) or a police-hours-freed target; the trade-off table shows what each step buys.\n",
        );
    }
    out
}

/// What each step along a one-setting count sweep buys, for one policy: the added cost a year,
/// the added share of eligible calls care handles, the added police hours freed, and the cost
/// per added hour. Empty for other grids.
fn trade_off(sweep: &SweepResults, label: &str) -> String {
    if sweep.varies.len() != 1 || !sweep.varies[0].ends_with(".count") || sweep.points.len() < 2 {
        return String::new();
    }
    let cost_key = if sweep.figures.iter().any(|f| f.key == key::NET_PUBLIC_COST) {
        key::NET_PUBLIC_COST
    } else {
        key::ANNUAL_COST
    };
    let mean = |point: &crate::experiment::sweep::PointResults, k: &str| {
        let results = &point.results;
        let policy = results.policies.iter().find(|p| p.label() == label)?;
        results.figure_index(k).map(|f| policy.estimates[f].mean)
    };
    let mut rows = vec![vec![
        sweep.varies[0].clone(),
        format!("added {} ($/yr)", cost_key.replace('_', " ")),
        "added eligible calls to care (points)".to_string(),
        "added police hours freed (h/yr)".to_string(),
        "$ per added hour freed".to_string(),
    ]];
    for pair in sweep.points.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let (Some(cost_a), Some(cost_b)) = (mean(a, cost_key), mean(b, cost_key)) else {
            continue;
        };
        let share = |p| mean(p, key::ELIGIBLE_CARE_SHARE).unwrap_or(f64::NAN);
        let hours = |p| mean(p, POLICE_HOURS_FREED).unwrap_or(f64::NAN);
        let (added_cost, added_hours) = (cost_b - cost_a, hours(b) - hours(a));
        rows.push(vec![
            format!("{} -> {}", a.settings[0].1, b.settings[0].1),
            format_number(added_cost, 0),
            format_number((share(b) - share(a)) * 100.0, 1),
            format_number(added_hours, 0),
            if added_hours > 0.0 {
                format_number(added_cost / added_hours, 0)
            } else {
                "n/a".to_string()
            },
        ]);
    }
    let mut out = format!("What each step buys ({label}; differences of means):\n");
    out.push_str(&super::table::render_rows(&rows, 1, true));
    out
}

/// `sweep.json` as a type: what `sweep` writes and what `plot` and `report` read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepDocument {
    pub crisis_sim_version: String,
    pub scenario: ScenarioInfo,
    pub seed: u64,
    /// Replications per point.
    pub replications: u32,
    pub confidence_level: f64,
    /// The `--vary` settings, as given.
    pub varies: Vec<String>,
    /// The targets, as given.
    pub targets: Vec<String>,
    pub swept_policies: Vec<String>,
    pub figures: Vec<FigureDef>,
    pub points: Vec<SweepPointDocument>,
    pub recommendations: Vec<RecommendationDocument>,
}

/// One grid point of a sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepPointDocument {
    pub point: usize,
    /// Setting name to value, e.g. `care.count` to `8`.
    pub settings: BTreeMap<String, String>,
    pub care_teams: u32,
    pub policies: Vec<SweepPolicyDocument>,
}

/// One policy's estimates at a sweep point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepPolicyDocument {
    pub label: String,
    /// How charts and reports name the policy, when its scenario entry gives a `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// By figure key.
    pub estimates: BTreeMap<String, Estimate>,
    /// Whether the point meets every target under this policy (`null` if it is not swept).
    pub meets_targets: Option<bool>,
}

/// The recommended point of one swept policy (`null` fields: no point meets the targets).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecommendationDocument {
    pub policy: String,
    pub point: Option<usize>,
    pub settings: Option<BTreeMap<String, String>>,
    pub care_teams: Option<u32>,
    pub care_teams_per_100k: Option<f64>,
}

impl SweepDocument {
    pub fn of(sweep: &SweepResults) -> Self {
        let settings = |x: usize| -> BTreeMap<String, String> {
            sweep.points[x].settings.iter().cloned().collect()
        };
        let points = sweep
            .points
            .iter()
            .enumerate()
            .map(|(x, point)| SweepPointDocument {
                point: x,
                settings: settings(x),
                care_teams: point.care_teams,
                policies: point
                    .results
                    .policies
                    .iter()
                    .map(|policy| SweepPolicyDocument {
                        label: policy.label().to_string(),
                        name: (policy.name() != policy.label()).then(|| policy.name().to_string()),
                        estimates: point
                            .results
                            .figures
                            .iter()
                            .zip(&policy.estimates)
                            .map(|(f, e)| (f.key.clone(), *e))
                            .collect(),
                        meets_targets: sweep
                            .swept
                            .iter()
                            .position(|l| l == policy.label())
                            .map(|s| point.meets[s]),
                    })
                    .collect(),
            })
            .collect();
        let recommendations = sweep
            .recommendations
            .iter()
            .map(|r| RecommendationDocument {
                policy: r.policy.clone(),
                point: r.point,
                settings: r.point.map(settings),
                care_teams: r.point.map(|x| sweep.points[x].care_teams),
                care_teams_per_100k: r.point.map(|x| {
                    f64::from(sweep.points[x].care_teams) / sweep.scenario.population * 100_000.0
                }),
            })
            .collect();
        Self {
            crisis_sim_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario: sweep.scenario.clone(),
            seed: sweep.seed,
            replications: sweep.replications,
            confidence_level: crate::stats::CONFIDENCE_LEVEL,
            varies: sweep.varies.clone(),
            targets: sweep.targets.iter().map(|t| t.text.clone()).collect(),
            swept_policies: sweep.swept.clone(),
            figures: sweep.figures.clone(),
            points,
            recommendations,
        }
    }

    /// The recommendations in words.
    /// The recommendation as a table (header first): per swept policy, the point, its teams
    /// in all and per 100,000 residents, the fleet's cost, the net public cost (with a ledger)
    /// and the police hours freed, each with its 95% interval; or that no point qualifies.
    pub fn recommendation_rows(&self) -> Vec<Vec<String>> {
        let has_net = self.figures.iter().any(|f| f.key == key::NET_PUBLIC_COST);
        let mut header = vec![
            "Policy".to_string(),
            "Recommended point".to_string(),
            "Care teams".to_string(),
            "Per 100,000 residents".to_string(),
            "Fleet cost a year".to_string(),
        ];
        if has_net {
            header.push("Net public cost a year".to_string());
        }
        header.push("Police hours freed a year".to_string());
        let mut rows = vec![header];
        for r in &self.recommendations {
            let (Some(x), Some(settings)) = (r.point, &r.settings) else {
                let mut row = vec![r.policy.clone(), "no point meets every target".to_string()];
                row.resize(rows[0].len(), String::new());
                rows.push(row);
                continue;
            };
            let estimates = self.points[x]
                .policies
                .iter()
                .find(|p| p.label == r.policy)
                .map(|p| &p.estimates);
            let figure = |k: &str| {
                estimates
                    .and_then(|e| e.get(k))
                    .map_or("n/a".to_string(), cell)
            };
            let mut row = vec![
                r.policy.clone(),
                settings
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                r.care_teams.map_or(String::new(), |n| n.to_string()),
                r.care_teams_per_100k
                    .map_or(String::new(), |n| format_number(n, 2)),
                format!("${}", figure(key::ANNUAL_COST)),
            ];
            if has_net {
                row.push(format!("${}", figure(key::NET_PUBLIC_COST)));
            }
            row.push(figure(POLICE_HOURS_FREED));
            rows.push(row);
        }
        rows
    }
}

/// `sweep.json`.
pub fn sweep_json(sweep: &SweepResults) -> String {
    super::json::pretty(&SweepDocument::of(sweep))
}

/// `sweep.csv`: one row per point and swept policy; for each (non-hourly) figure its mean and
/// 95% CI bounds.
pub fn sweep_csv(sweep: &SweepResults) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let figures: Vec<(usize, &str)> = sweep
        .figures
        .iter()
        .enumerate()
        .filter(|(_, f)| !f.detail)
        .map(|(i, f)| (i, f.key.as_str()))
        .collect();
    let mut header = vec!["point".to_string()];
    let safe = |text: &str| super::csv::spreadsheet_safe(text).into_owned();
    header.extend(sweep.varies.iter().map(|v| safe(v)));
    header.extend(["policy", "care_teams", "meets_targets"].map(String::from));
    for (_, key) in &figures {
        header.extend([
            safe(key),
            safe(&format!("{key}.ci_low")),
            safe(&format!("{key}.ci_high")),
        ]);
    }
    writer.write_record(&header)?;
    let number = |v: f64| {
        if v.is_finite() {
            v.to_string()
        } else {
            String::new()
        }
    };
    for (x, point) in sweep.points.iter().enumerate() {
        for (s, label) in sweep.swept.iter().enumerate() {
            let Some(policy) = point.results.policies.iter().find(|p| p.label() == label) else {
                continue;
            };
            let mut row = vec![x.to_string()];
            row.extend(point.settings.iter().map(|(_, v)| safe(v)));
            row.push(safe(label));
            row.push(point.care_teams.to_string());
            row.push(if sweep.targets.is_empty() {
                String::new()
            } else {
                point.meets[s].to_string()
            });
            for &(f, _) in &figures {
                let e = policy.estimates[f];
                row.extend([number(e.mean), number(e.ci_low), number(e.ci_high)]);
            }
            writer.write_record(&row)?;
        }
    }
    writer.into_inner().map_err(|e| e.into_error().into())
}
