//! The comparison table printed by `run`: each figure's mean and 95% CI per policy, and each
//! policy's paired difference against the baseline. Numbers are rounded to what their interval
//! supports (two significant digits of the half-width), so no figure looks more precise than it is.

use crate::stats::figures as key;
use std::fmt::Write;

use crate::experiment::Results;
use crate::stats::Estimate;

/// Decimals that show `half_width` to two significant digits (or a sensible default).
fn decimals(value: f64, half_width: f64) -> usize {
    let reference = if half_width.is_finite() && half_width > 0.0 {
        half_width
    } else {
        value.abs() / 100.0
    };
    if !(reference.is_finite() && reference > 0.0) {
        return if value.fract() == 0.0 { 0 } else { 2 };
    }
    (1.0 - reference.log10().floor()).clamp(0.0, 4.0) as usize
}

/// Formats a number with `decimals` places and thousands separators.
pub fn format_number(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return "n/a".to_string();
    }
    let text = format!("{:.*}", decimals, value.abs());
    let (whole, fraction) = text
        .split_once('.')
        .map_or((text.as_str(), ""), |(w, f)| (w, f));
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let sign = if value < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') {
        "-"
    } else {
        ""
    };
    if fraction.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{fraction}")
    }
}

/// `mean ± half-width`, rounded to what the interval supports.
pub(super) fn mean_and_interval(e: &Estimate) -> String {
    if e.n == 0 {
        return "n/a".to_string();
    }
    let d = decimals(e.mean, e.half_width);
    if e.half_width.is_finite() {
        format!(
            "{} ± {}",
            format_number(e.mean, d),
            format_number(e.half_width, d)
        )
    } else {
        format_number(e.mean, d)
    }
}

pub(super) fn difference(e: &Estimate) -> String {
    if e.n == 0 {
        return "n/a".to_string();
    }
    let d = decimals(e.mean, e.half_width);
    if !e.half_width.is_finite() {
        return format_number(e.mean, d);
    }
    let marker = if e.excludes_zero() { " *" } else { "" };
    let mean = format_number(e.mean, d);
    let sign = if mean.starts_with('-') || mean.trim_matches(['0', '.', ',']).is_empty() {
        ""
    } else {
        "+"
    };
    format!(
        "{sign}{mean} [{}, {}]{marker}",
        format_number(e.ci_low, d),
        format_number(e.ci_high, d)
    )
}

/// Lays `rows` out in columns two spaces apart (the first row is the header): the first
/// `left_aligned` columns flush left, the rest flush right, with a rule under the header when
/// `rule`. Every table this crate prints goes through here.
pub(super) fn render_rows(rows: &[Vec<String>], left_aligned: usize, rule: bool) -> String {
    render_rows_inner(rows, left_aligned, rule)
}

/// A plain table (the first row is the header, the first column text, the rest numbers), laid
/// out as every table this crate prints.
pub fn render_table(rows: &[Vec<String>]) -> String {
    render_rows_inner(rows, 1, true)
}

fn render_rows_inner(rows: &[Vec<String>], left_aligned: usize, rule: bool) -> String {
    let columns = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (cell, &width))| {
                if c < left_aligned {
                    format!("{cell:<width$}")
                } else {
                    format!("{cell:>width$}")
                }
            })
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
        if i == 0 && rule {
            let total = widths.iter().sum::<usize>() + 2 * columns.saturating_sub(1);
            let _ = writeln!(out, "{}", "-".repeat(total));
        }
    }
    out
}

/// Policies beside the baseline in one block of the comparison table.
const POLICIES_PER_BLOCK: usize = 2;

/// The comparison table as text: every policy against the baseline (the first), two policies
/// to a block so lines stay readable.
pub fn comparison_table(results: &Results) -> String {
    let baseline = results.baseline().label();
    // With many policies, one block per pair beside the baseline keeps lines readable.
    let others: Vec<usize> = (1..results.policies.len()).collect();
    let blocks: Vec<&[usize]> = if others.is_empty() {
        vec![&[]]
    } else {
        others.chunks(POLICIES_PER_BLOCK).collect()
    };
    let mut tables = Vec::new();
    for block in blocks {
        let shown: Vec<usize> = std::iter::once(0).chain(block.iter().copied()).collect();
        let mut header = vec!["figure".to_string(), "unit".to_string()];
        for &p in &shown {
            header.push(results.policies[p].label().to_string());
        }
        for &p in block {
            header.push(format!("{} − {baseline}", results.policies[p].label()));
        }
        let mut rows = vec![header];
        for (f, def) in results
            .figures
            .iter()
            .enumerate()
            .filter(|(_, d)| !d.detail)
        {
            let mut row = vec![def.label.clone(), def.unit.clone()];
            for &p in &shown {
                let estimate = &results.policies[p].estimates[f];
                row.push(if estimate.n == 0 && key::is_cost_line(&def.key) {
                    NOT_COSTED.to_string()
                } else {
                    mean_and_interval(estimate)
                });
            }
            for &p in block {
                row.push(match &results.policies[p].differences {
                    None => String::new(),
                    Some(d) if d[f].n == 0 && key::is_cost_line(&def.key) => NOT_COSTED.to_string(),
                    Some(d) => difference(&d[f]),
                });
            }
            rows.push(row);
        }
        tables.push(render_rows(&rows, 2, true));
    }
    if let Some(block) = cost_effectiveness_table(results) {
        tables.push(block);
    }
    let s = &results.scenario;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} (population {}): {} replication{}, seed {}, {} measured days after a {}-day warm-up",
        s.name,
        format_number(s.population, 0),
        results.replications.len(),
        if results.replications.len() == 1 {
            ""
        } else {
            "s"
        },
        results.seed,
        format_number(s.horizon_days - s.warmup_days, 1).trim_end_matches(".0"),
        format_number(s.warmup_days, 1).trim_end_matches(".0"),
    );
    let _ = writeln!(
        out,
        "Mean ± 95% CI half-width across replications; differences are paired by replication \
         [95% CI], * where the interval excludes 0.\n"
    );
    out.push_str(&tables.join("\n"));
    out
}

/// How a ledger line with no cost given reads (never as zero).
pub const NOT_COSTED: &str = "not costed";

/// With a cost ledger and more than one policy: each policy's net public cost per police
/// unit-hour freed, per booking and per ED visit avoided, against the baseline.
fn cost_effectiveness_table(results: &Results) -> Option<String> {
    let baseline = results.baseline().label();
    let mut header = vec!["against ".to_string() + baseline, "unit".to_string()];
    let mut rows = Vec::new();
    for p in 1..results.policies.len() {
        let figures = results.cost_effectiveness(p);
        if rows.is_empty() {
            rows = figures
                .iter()
                .map(|(_, label, _)| vec![label.to_string(), "$ each".to_string()])
                .collect();
        }
        header.push(results.policies[p].label().to_string());
        for (row, (_, _, estimate)) in rows.iter_mut().zip(&figures) {
            row.push(if estimate.mean.is_finite() {
                mean_and_interval(estimate)
            } else {
                "no clear change".to_string()
            });
        }
    }
    if rows.is_empty() {
        return None;
    }
    rows.insert(0, header);
    let mut out = String::from(
        "Net public cost (fleet + downstream) per outcome avoided: the paired difference in cost \
         over the paired difference avoided (95% CI, delta method).\n",
    );
    out.push_str(&render_rows(&rows, 2, true));
    Some(out)
}

/// Hourly profiles (utilization per pool, eligible calls not handled by care), as the means
/// over replications, one row per hour of day: when are teams short?
pub fn hourly_table(results: &Results) -> String {
    // Columns: every hourly figure family (key without the hour), per policy, where defined.
    let mut families: Vec<(String, String)> = Vec::new();
    for def in results.figures.iter().filter(|d| d.detail) {
        if let Some(family) = def.key.strip_suffix(".00") {
            let short = family
                .replace(".utilization_by_hour", " util")
                .replace(key::ELIGIBLE_UNMET_SHARE_BY_HOUR, "unmet eligible");
            families.push((family.to_string(), short));
        }
    }
    let mut header = vec!["hour".to_string()];
    let mut columns: Vec<(usize, usize)> = Vec::new(); // (policy, first figure index)
    for (p, policy) in results.policies.iter().enumerate() {
        for (family, short) in &families {
            let Some(first) = results.figure_index(&format!("{family}.00")) else {
                continue;
            };
            // Leave out pools the policy does not use (undefined at every hour).
            if (0..24).all(|h| policy.estimates[first + h].n == 0) {
                continue;
            }
            header.push(format!("{} {short}", policy.label()));
            columns.push((p, first));
        }
    }
    let mut rows = vec![header];
    for hour in 0..24 {
        let mut row = vec![format!("{hour:02}:00")];
        for &(p, first) in &columns {
            let e = results.policies[p].estimates[first + hour];
            // A pool's utilization is undefined only in hours no unit of it is scheduled.
            let is_utilization = results.figures[first].key.contains(".utilization_by_hour.");
            row.push(if e.n == 0 && is_utilization {
                "off".to_string()
            } else {
                format_number(e.mean, 2)
            });
        }
        rows.push(row);
    }
    let mut out = String::from(
        "By hour of day (means over replications; intervals are in results.json; off: no unit of the pool on shift):\n",
    );
    out.push_str(&render_rows(&rows, 0, false));
    out
}

/// A back-test's rows as a table (header first): each figure with the calls it rests on, the
/// log's value and interval, the simulation's, the error and the verdict.
pub fn backtest_rows(rows: &[crate::stats::backtest::Row]) -> Vec<Vec<String>> {
    let interval = |mean: f64, low: f64, high: f64| {
        format!(
            "{} [{}, {}]",
            format_number(mean, 2),
            format_number(low, 2),
            format_number(high, 2)
        )
    };
    let mut table = vec![
        [
            "figure",
            "calls",
            "observed (95% CI)",
            "simulated (95% CI)",
            "error",
            "verdict",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for row in rows {
        let s = row.simulated;
        table.push(vec![
            row.label.clone(),
            format_number(row.observed_calls as f64, 0),
            interval(row.observed, row.observed_ci[0], row.observed_ci[1]),
            interval(s.mean, s.ci_low, s.ci_high),
            format!("{:+.0}%", row.relative_error * 100.0),
            if row.agrees { "agrees" } else { "DIFFERS" }.to_string(),
        ]);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_and_rounded() {
        assert_eq!(format_number(31_536_000.4, 0), "31,536,000");
        assert_eq!(format_number(-1234.5678, 2), "-1,234.57");
        assert_eq!(format_number(0.04321, 4), "0.0432");
        assert_eq!(format_number(-0.0001, 2), "0.00");
        assert_eq!(format_number(f64::NAN, 2), "n/a");
    }

    #[test]
    fn precision_follows_the_interval() {
        assert_eq!(decimals(12.3456, 0.56), 2);
        assert_eq!(decimals(12.3456, 0.056), 3);
        assert_eq!(decimals(31_000_000.0, 12_345.0), 0);
        assert_eq!(decimals(0.25, 0.0), 4);
    }

    #[test]
    fn differences_show_sign_interval_and_marker() {
        let e = Estimate::paired_difference(&[1.0, 1.2, 0.8, 1.1], &[0.0; 4]);
        let text = difference(&e);
        assert!(text.starts_with("+1.0"), "{text}");
        assert!(text.ends_with(" *"), "{text}");
        let e = Estimate::paired_difference(&[1.0, -1.0, 0.5, -0.5], &[0.0; 4]);
        assert!(!difference(&e).ends_with('*'));
    }
}
