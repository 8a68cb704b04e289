//! What the explorer's page shows of a run's results, as JSON: the headline sentence, the key
//! figures with their 95% intervals and paired differences, the police hours freed, the budget
//! and the charts (the report's own, as SVG). Every number is the results' own, unrounded, so
//! the page can be checked against `crisis-sim run`.

use serde::Serialize;

use crate::experiment::{PolicyResults, Results};
use crate::output::{Drawable, results_charts};
use crate::stats::Estimate;
use crate::stats::figures as key;

/// The key figures, in the order the page shows them.
const KEY_FIGURES: [&str; 10] = [
    key::RESPONSE_MEDIAN,
    key::RESPONSE_P90,
    key::ELIGIBLE_RESPONSE_P90,
    key::ELIGIBLE_CARE_SHARE,
    key::POLICE_BUSY_HOURS,
    key::POLICE_HOURS_ON_ELIGIBLE,
    key::ARRESTS_PER_1000,
    key::FORCE_PER_1000,
    key::ER_TRANSPORTS_PER_1000,
    key::UNSERVED_AT_HORIZON,
];

/// The budget lines.
const BUDGET: [&str; 4] = [
    key::ANNUAL_COST,
    key::DOWNSTREAM_COST,
    key::NET_PUBLIC_COST,
    key::NET_PUBLIC_COST_PER_100K,
];

/// A mean and its 95% interval (NaN, written as null, where undefined).
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct Interval {
    pub mean: f64,
    pub low: f64,
    pub high: f64,
}

impl From<Estimate> for Interval {
    fn from(e: Estimate) -> Self {
        Self {
            mean: e.mean,
            low: e.ci_low,
            high: e.ci_high,
        }
    }
}

/// One figure for every policy.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FigureView {
    pub key: String,
    pub label: String,
    pub unit: String,
    pub estimates: Vec<Interval>,
    /// Paired against the baseline (`null` for the baseline itself).
    pub differences: Vec<Option<Interval>>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ChartView {
    pub title: String,
    pub svg: String,
}

/// The page's view of one run's results.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct View {
    pub headline: Option<String>,
    pub replications: usize,
    pub policies: Vec<String>,
    pub figures: Vec<FigureView>,
    /// Police unit-hours a year each policy frees against the baseline (`null` for it).
    pub hours_freed: Vec<Option<Interval>>,
    pub budget: Vec<FigureView>,
    pub charts: Vec<ChartView>,
    pub warnings: Vec<String>,
}

fn figure(results: &Results, key: &str) -> Option<FigureView> {
    let f = results.figure_index(key)?;
    let def = &results.figures[f];
    Some(FigureView {
        key: def.key.clone(),
        label: def.label.clone(),
        unit: def.unit.clone(),
        estimates: results
            .policies
            .iter()
            .map(|p| p.estimates[f].into())
            .collect(),
        differences: results
            .policies
            .iter()
            .map(|p| p.differences.as_ref().map(|d| d[f].into()))
            .collect(),
    })
}

/// The view of `results`.
pub fn of(results: &Results) -> View {
    let busy = results.figure_index(key::POLICE_BUSY_HOURS);
    let hours_freed = results
        .policies
        .iter()
        .map(|p| {
            let d = p.differences.as_ref()?[busy?];
            Some(Interval {
                mean: -d.mean,
                low: -d.ci_high,
                high: -d.ci_low,
            })
        })
        .collect();
    let charts = results_charts(results)
        .into_iter()
        .filter(|chart| matches!(chart.name(), "response_distribution" | "budget"))
        .filter_map(|chart| {
            Some(ChartView {
                title: chart.title(),
                svg: chart.svg().ok()?,
            })
        })
        .collect();
    View {
        headline: crate::output::headline(results),
        replications: results.replications.len(),
        policies: results
            .policies
            .iter()
            .map(|p| p.name().to_string())
            .collect(),
        figures: KEY_FIGURES
            .iter()
            .filter_map(|k| figure(results, k))
            .collect(),
        hours_freed,
        budget: BUDGET.iter().filter_map(|k| figure(results, k)).collect(),
        charts,
        warnings: results.warnings.clone(),
    }
}

/// Pinned variants side by side.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Comparison {
    /// Column names: each variant's policies, "1 · Police only", ...
    pub columns: Vec<String>,
    pub figures: Vec<FigureView>,
    pub chart: Option<ChartView>,
}

/// Variants (each a label and its results) side by side: every policy of each, as columns.
pub fn compare(variants: &[(String, &Results)]) -> Comparison {
    let Some((_, first)) = variants.first() else {
        return Comparison {
            columns: Vec::new(),
            figures: Vec::new(),
            chart: None,
        };
    };
    // One results set whose "policies" are the variants' policies, for the key-figures chart;
    // a figure a variant lacks is undefined there.
    let mut policies: Vec<PolicyResults> = Vec::new();
    for (label, results) in variants {
        for policy in &results.policies {
            let mut column = policy.clone();
            column.estimates = first
                .figures
                .iter()
                .map(|def| {
                    results
                        .figure_index(&def.key)
                        .map_or_else(|| Estimate::from_samples(&[]), |f| policy.estimates[f])
                })
                .collect();
            column.differences = None;
            column.values = Vec::new();
            let name = format!("{label} · {}", policy.name());
            column.info.params = serde_json::json!({ "name": name });
            policies.push(column);
        }
    }
    let mut side_by_side = (*first).clone();
    side_by_side.policies = policies;
    let columns = side_by_side
        .policies
        .iter()
        .map(|p| p.name().to_string())
        .collect();
    let chart = results_charts(&side_by_side)
        .into_iter()
        .find(|chart| chart.name() == "key_figures")
        .and_then(|chart| {
            Some(ChartView {
                title: "Pinned variants: key figures (mean and 95% CI)".to_string(),
                svg: chart.svg().ok()?,
            })
        });
    let mut figures: Vec<FigureView> = KEY_FIGURES
        .iter()
        .chain(&BUDGET)
        .filter_map(|k| figure(&side_by_side, k))
        .collect();
    for figure in &mut figures {
        figure.differences = Vec::new();
    }
    Comparison {
        columns,
        figures,
        chart,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Scenario;
    use crate::experiment::{RunSettings, run};

    fn results(care: u32) -> Results {
        let mut scenario = Scenario::default_scenario();
        scenario.horizon_days = 12.0;
        scenario.warmup_days = 2.0;
        scenario.pools[1].set_count(care);
        run(
            &scenario,
            &RunSettings {
                replications: 3,
                seed: 5,
                threads: Some(1),
            },
        )
        .unwrap()
    }

    #[test]
    fn the_view_carries_the_results_own_numbers() {
        let results = results(8);
        let view = of(&results);
        assert_eq!(view.replications, 3);
        assert_eq!(view.policies.len(), 2);
        let p90 = view
            .figures
            .iter()
            .find(|f| f.key == key::RESPONSE_P90)
            .unwrap();
        assert_eq!(
            p90.estimates[1],
            Interval::from(results.estimate("care_first", key::RESPONSE_P90).unwrap())
        );
        assert_eq!(p90.differences[0], None);
        assert_eq!(
            p90.differences[1],
            Some(
                results
                    .difference("care_first", key::RESPONSE_P90)
                    .unwrap()
                    .into()
            )
        );
        let busy = results
            .difference("care_first", key::POLICE_BUSY_HOURS)
            .unwrap();
        assert_eq!(view.hours_freed[1].unwrap().mean, -busy.mean);
        assert!(view.charts.iter().any(|c| c.svg.starts_with("<svg")));
        assert!(view.budget.iter().any(|f| f.key == key::NET_PUBLIC_COST));
    }

    #[test]
    fn pinned_variants_sit_side_by_side() {
        let (a, b) = (results(4), results(12));
        let comparison = compare(&[("1".to_string(), &a), ("2".to_string(), &b)]);
        assert_eq!(comparison.columns.len(), 4);
        assert_eq!(comparison.columns[3], "2 · Care teams first");
        let p90 = comparison
            .figures
            .iter()
            .find(|f| f.key == key::RESPONSE_P90)
            .unwrap();
        assert_eq!(
            p90.estimates[3],
            Interval::from(b.estimate("care_first", key::RESPONSE_P90).unwrap())
        );
        assert!(comparison.chart.is_some());
    }
}
