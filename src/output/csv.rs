//! CSV for spreadsheets: `replications.csv` (one row per policy and replication, one column
//! per figure) and `summary.csv` (one row per policy and figure: the estimate and the paired
//! difference against the baseline). Numbers are written shortest-exact; an undefined figure
//! is an empty cell.

use crate::experiment::Results;
use crate::stats::Estimate;

pub const REPLICATIONS_CSV: &str = "replications.csv";
pub const SUMMARY_CSV: &str = "summary.csv";

fn number(value: f64) -> String {
    if value.is_finite() {
        value.to_string()
    } else {
        String::new()
    }
}

/// `replications.csv`: `policy, replication, <figure keys...>`.
pub fn replications_csv(results: &Results) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["policy".to_string(), "replication".to_string()];
    header.extend(results.figures.iter().map(|f| f.key.clone()));
    writer.write_record(&header)?;
    for policy in &results.policies {
        for (replication, values) in results.replications.iter().zip(&policy.values) {
            let mut row = vec![policy.label().to_string(), replication.to_string()];
            row.extend(values.iter().map(|v| number(*v)));
            writer.write_record(&row)?;
        }
    }
    writer.into_inner().map_err(|e| e.into_error().into())
}

/// `summary.csv`: the estimate of every figure for every policy, with its paired difference.
pub fn summary_csv(results: &Results) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "policy",
        "figure",
        "label",
        "unit",
        "replications",
        "mean",
        "half_width",
        "ci_low",
        "ci_high",
        "sd",
        "difference_vs",
        "difference_mean",
        "difference_half_width",
        "difference_ci_low",
        "difference_ci_high",
    ])?;
    let baseline = results.baseline().label();
    for policy in &results.policies {
        for (f, def) in results.figures.iter().enumerate() {
            let e = policy.estimates[f];
            let d: Option<Estimate> = policy.differences.as_ref().map(|d| d[f]);
            let mut row = vec![
                policy.label().to_string(),
                def.key.clone(),
                def.label.clone(),
                def.unit.clone(),
                e.n.to_string(),
                number(e.mean),
                number(e.half_width),
                number(e.ci_low),
                number(e.ci_high),
                number(e.sd),
            ];
            match d {
                Some(d) => row.extend([
                    baseline.to_string(),
                    number(d.mean),
                    number(d.half_width),
                    number(d.ci_low),
                    number(d.ci_high),
                ]),
                None => row.extend(std::iter::repeat_n(String::new(), 5)),
            }
            writer.write_record(&row)?;
        }
    }
    writer.into_inner().map_err(|e| e.into_error().into())
}
