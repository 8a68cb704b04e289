//! CSV for spreadsheets: `replications.csv` (one row per policy and replication, one column
//! per figure) and `summary.csv` (one row per policy and figure: the estimate and the paired
//! difference against the baseline). Numbers are written shortest-exact; an undefined figure
//! is an empty cell. Every name (a policy, figure, pool, zone or call type, a CAD id) that a
//! spreadsheet would read as a formula is neutralised the way OWASP recommends ("CSV
//! Injection"): a leading `'`, which spreadsheets show as text; [`from_spreadsheet_safe`]
//! takes it off again where crisis-sim reads its own files back (a replayed stream).

use std::borrow::Cow;

use crate::experiment::Results;
use crate::stats::Estimate;

pub const REPLICATIONS_CSV: &str = "replications.csv";
pub const SUMMARY_CSV: &str = "summary.csv";

/// The first characters that make a spreadsheet evaluate a cell (OWASP: `=`, `+`, `-`, `@`,
/// tab and carriage return).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A text cell a spreadsheet will not evaluate: one starting with a formula character gets a
/// leading `'`, and so does one already starting with `'` followed by a formula character or
/// another `'` (so that [`from_spreadsheet_safe`] gives back exactly the name written).
/// Numbers are not passed through this: `-1.5` is a number, not a formula.
pub fn spreadsheet_safe(cell: &str) -> Cow<'_, str> {
    let mut chars = cell.chars();
    let guard = match chars.next() {
        Some(first) if FORMULA_STARTS.contains(&first) => true,
        Some('\'') => chars
            .next()
            .is_some_and(|second| second == '\'' || FORMULA_STARTS.contains(&second)),
        _ => false,
    };
    if guard {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// The name a cell written by [`spreadsheet_safe`] holds.
pub fn from_spreadsheet_safe(cell: &[u8]) -> &[u8] {
    match cell {
        [b'\'', second, ..]
            if *second == b'\'' || FORMULA_STARTS.iter().any(|&c| c as u8 == *second) =>
        {
            &cell[1..]
        }
        _ => cell,
    }
}

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
    header.extend(
        results
            .figures
            .iter()
            .map(|f| spreadsheet_safe(&f.key).into_owned()),
    );
    writer.write_record(&header)?;
    for policy in &results.policies {
        for (replication, values) in results.replications.iter().zip(&policy.values) {
            let mut row = vec![
                spreadsheet_safe(policy.label()).into_owned(),
                replication.to_string(),
            ];
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
                spreadsheet_safe(policy.label()).into_owned(),
                spreadsheet_safe(&def.key).into_owned(),
                spreadsheet_safe(&def.label).into_owned(),
                spreadsheet_safe(&def.unit).into_owned(),
                e.n.to_string(),
                number(e.mean),
                number(e.half_width),
                number(e.ci_low),
                number(e.ci_high),
                number(e.sd),
            ];
            match d {
                Some(d) => row.extend([
                    spreadsheet_safe(baseline).into_owned(),
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
    // With a cost ledger: each policy's cost per outcome avoided, against the baseline. The
    // ratio is itself the comparison, so it fills the difference columns.
    for (p, policy) in results.policies.iter().enumerate() {
        for (key, label, e) in results.cost_effectiveness(p) {
            let mut row = vec![
                spreadsheet_safe(policy.label()).into_owned(),
                key.to_string(),
                label.to_string(),
                "$".to_string(),
                e.n.to_string(),
            ];
            row.extend(std::iter::repeat_n(String::new(), 5));
            row.extend([
                spreadsheet_safe(baseline).into_owned(),
                number(e.mean),
                number(e.half_width),
                number(e.ci_low),
                number(e.ci_high),
            ]);
            writer.write_record(&row)?;
        }
    }
    writer.into_inner().map_err(|e| e.into_error().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised_and_read_back_exactly() {
        for (name, written) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1", "'+1"),
            ("-cmd", "'-cmd"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("'=x", "''=x"),
            ("''", "'''"),
            ("'quoted'", "'quoted'"),
            ("north", "north"),
            ("", ""),
        ] {
            assert_eq!(spreadsheet_safe(name), written, "{name}");
            assert_eq!(
                from_spreadsheet_safe(written.as_bytes()),
                name.as_bytes(),
                "{name}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn any_name_round_trips_and_never_starts_a_formula(name in "['=+@\\t\\r-]{0,3}\\PC{0,8}") {
            let written = spreadsheet_safe(&name);
            proptest::prop_assert!(!written.starts_with(FORMULA_STARTS));
            proptest::prop_assert_eq!(from_spreadsheet_safe(written.as_bytes()), name.as_bytes());
        }
    }
}
