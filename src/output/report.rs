//! `report.html`: one self-contained page to hand to a city council. A plain-language summary,
//! the comparison table with intervals, the charts inline as SVG, the scenario with its cited
//! sources, and the method. No scripts, no network fetches; it prints cleanly to PDF.

use crate::stats::figures as key;
use std::fmt::Write;

use super::table::{NOT_COSTED, difference, format_number, mean_and_interval};
use super::{Drawable, SweepChart, results_charts};
use crate::experiment::Results;
use crate::stats::{CONFIDENCE_LEVEL, Estimate};

/// Escapes text for HTML. Control characters other than line breaks and tabs (a NUL from a
/// hand-edited results.json, say) become U+FFFD: HTML has no place for them.
fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .chars()
        .map(|c| {
            if c.is_control() && !matches!(c, '\n' | '\r' | '\t') {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

/// Whether an interval excludes zero (a difference the replications support).
fn clear(e: &Estimate) -> bool {
    e.ci_low.is_finite() && e.ci_high.is_finite() && (e.ci_low > 0.0 || e.ci_high < 0.0)
}

/// One summary phrase for a figure's paired difference, in plain words. `template` holds
/// `{n}` (the size of the change) and `{word}` (`lower` or `higher`).
fn change(e: &Estimate, template: &str, decimals: usize, lower: &str, higher: &str) -> String {
    if !e.mean.is_finite() {
        return "not measured".to_string();
    }
    if e.mean == 0.0 && e.ci_low == 0.0 && e.ci_high == 0.0 {
        return "exactly the same".to_string();
    }
    if !clear(e) {
        return format!(
            "no clear change (95% CI {} to {})",
            format_number(e.ci_low, decimals),
            format_number(e.ci_high, decimals)
        );
    }
    let word = if e.mean < 0.0 { lower } else { higher };
    let (a, b) = (e.ci_low.abs(), e.ci_high.abs());
    format!(
        "{} (95% CI {} to {})",
        template
            .replace("{n}", &format_number(e.mean.abs(), decimals))
            .replace("{word}", word),
        format_number(a.min(b), decimals),
        format_number(a.max(b), decimals)
    )
}

/// Calls a year in the results (the measured period scaled to 365 days), for turning rates
/// per 1,000 calls into counts a year.
fn calls_per_year(results: &Results, label: &str) -> Option<f64> {
    let s = &results.scenario;
    let days = s.horizon_days - s.warmup_days;
    let calls = results.estimate(label, key::CALLS)?.mean;
    (days > 0.0 && calls.is_finite()).then(|| calls * 365.0 / days)
}

/// The one sentence a reader takes away, first: what the first program against the baseline
/// frees, how much of the eligible work care teams take, and what it costs net a year.
pub(crate) fn headline(results: &Results) -> Option<String> {
    let policy = results.policies.get(1)?;
    let (label, baseline) = (policy.label(), results.baseline().name());
    let diff = |key: &str| results.difference(label, key);
    let mut parts = Vec::new();
    if let Some(hours) =
        diff(key::POLICE_BUSY_HOURS).or_else(|| diff(key::POLICE_HOURS_ON_ELIGIBLE))
        && clear(&hours)
        && hours.mean < 0.0
    {
        parts.push(format!(
            "frees about {} police unit-hours a year",
            format_number(-hours.mean, 0)
        ));
    }
    if let Some(share) = results.estimate(label, key::ELIGIBLE_CARE_SHARE)
        && share.mean > 0.0
    {
        parts.push(format!(
            "has care teams answer {:.0}% of care-eligible calls",
            share.mean * 100.0
        ));
    }
    let cost = diff(key::NET_PUBLIC_COST)
        .map(|c| (c, "net public cost"))
        .or_else(|| diff(key::ANNUAL_COST).map(|c| (c, "fleet cost")));
    let cost_text = cost.filter(|(c, _)| c.mean.is_finite()).map(|(c, what)| {
        let per_100k = if what == "net public cost" {
            results.difference(label, key::NET_PUBLIC_COST_PER_100K)
        } else {
            None
        };
        format!(
            "for {} {} a year in {what}{}",
            money(c.mean.abs()),
            if c.mean >= 0.0 { "more" } else { "less" },
            per_100k.map_or(String::new(), |p| format!(
                " ({} per 100,000 residents)",
                money(p.mean.abs())
            ))
        )
    });
    if parts.is_empty() && cost_text.is_none() {
        return None;
    }
    let mut sentence = format!(
        "Against {baseline}, {} {}",
        policy.name(),
        parts.join(" and ")
    );
    if let Some(cost) = cost_text {
        sentence.push_str(&format!(", {cost}"));
    }
    sentence.push('.');
    Some(sentence)
}

/// The plain-language findings: the headline, then one paragraph per policy against the
/// baseline, counts a year beside rates per 1,000 calls.
fn summary(results: &Results) -> String {
    let mut out = String::new();
    if let Some(headline) = headline(results) {
        let _ = writeln!(out, "<p class=\"headline\">{}</p>", esc(&headline));
    }
    let baseline = results.baseline().label();
    let baseline_name = results.baseline().name();
    let diff = |label: &str, key: &str| results.difference(label, key);
    let est = |label: &str, key: &str| results.estimate(label, key);
    for policy in &results.policies[1..] {
        let label = policy.label();
        let per_year = calls_per_year(results, label);
        // "0.15 fewer (95% CI ...), about 59 fewer a year"
        let rate_and_count = |d: &Estimate| {
            let text = change(d, "{n} {word}", 2, "fewer", "more");
            match per_year {
                Some(calls) if clear(d) => {
                    let count = d.mean * calls / 1000.0;
                    format!(
                        "{text}, about {} {} a year",
                        format_number(count.abs(), 0),
                        if count < 0.0 { "fewer" } else { "more" }
                    )
                }
                _ => text,
            }
        };
        let mut sentences = Vec::new();
        if let (Some(p90), Some(base), Some(d)) = (
            est(label, key::RESPONSE_P90),
            est(baseline, key::RESPONSE_P90),
            diff(label, key::RESPONSE_P90),
        ) {
            sentences.push(format!(
                "Nine in ten calls get a unit on scene within {} minutes, against {} under {baseline_name}: {}.",
                format_number(p90.mean, 1),
                format_number(base.mean, 1),
                change(&d, "{n} minutes {word}", 1, "faster", "slower")
            ));
        }
        if let Some(d) = diff(label, key::ELIGIBLE_RESPONSE_P90) {
            sentences.push(format!(
                "For care-eligible calls the 90th-percentile response is {}.",
                change(&d, "{n} minutes {word}", 1, "faster", "slower")
            ));
        }
        if let Some(share) = est(label, key::ELIGIBLE_CARE_SHARE)
            && share.mean > 0.0
        {
            sentences.push(format!(
                "Care teams handle {:.0}% of eligible calls.",
                share.mean * 100.0
            ));
        }
        if let Some(d) = diff(label, key::POLICE_HOURS_ON_ELIGIBLE) {
            sentences.push(format!(
                "Police hours on eligible calls: {}.",
                change(&d, "{n} {word} a year", 0, "fewer", "more")
            ));
        }
        for (figure, what) in [
            (key::FORCE_PER_1000, "Uses of force"),
            (key::ARRESTS_PER_1000, "Arrests"),
            (key::INJURIES_PER_1000, "Injuries"),
        ] {
            if let Some(d) = diff(label, figure)
                && !(d.mean == 0.0 && d.half_width == 0.0)
            {
                sentences.push(format!("{what} per 1,000 calls: {}.", rate_and_count(&d)));
            }
        }
        if let Some(d) = diff(label, key::ANNUAL_COST) {
            sentences.push(format!(
                "The fleet costs {} a year.",
                if d.mean.abs() < 0.5 {
                    "the same".to_string()
                } else {
                    format!(
                        "{} {}",
                        money(d.mean.abs()),
                        if d.mean > 0.0 { "more" } else { "less" }
                    )
                }
            ));
        }
        sentences.extend(budget_sentences(results, label));
        let _ = writeln!(
            out,
            "<p><strong>{}</strong> compared with {}: {}</p>",
            esc(policy.name()),
            esc(baseline_name),
            esc(&sentences.join(" "))
        );
    }
    out
}

/// Dollars as a person reads them in a budget: `$6.45M`, `$48,300`, `$176`.
fn money(dollars: f64) -> String {
    let sign = if dollars < 0.0 { "-" } else { "" };
    if dollars.abs() >= 1e6 {
        format!("{sign}${}M", format_number(dollars.abs() / 1e6, 2))
    } else {
        format!("{sign}${}", format_number(dollars.abs(), 0))
    }
}

/// An interval of dollars: `$6.34M to $6.55M`.
fn money_interval(e: &Estimate) -> String {
    format!("{} to {}", money(e.ci_low), money(e.ci_high))
}

/// The interval of a change stated by its size ("fall by $785,456"): the bounds' sizes, the
/// smaller first. Only for an interval that excludes zero.
fn money_size_interval(e: &Estimate) -> String {
    let (a, b) = (e.ci_low.abs(), e.ci_high.abs());
    format!("{} to {}", money(a.min(b)), money(a.max(b)))
}

/// With a cost ledger: what the program costs net of what it saves downstream, per 100,000
/// residents, what it frees of police time, and what each hour freed costs, with intervals;
/// and which ledger lines were not costed.
fn budget_sentences(results: &Results, label: &str) -> Vec<String> {
    let mut sentences = Vec::new();
    let (Some(net), Some(downstream)) = (
        results.difference(label, key::NET_PUBLIC_COST),
        results.difference(label, key::DOWNSTREAM_COST),
    ) else {
        return sentences;
    };
    let more_or_less = |e: &Estimate| if e.mean > 0.0 { "more" } else { "less" };
    let net_text = if clear(&net) {
        format!(
            "{} {} a year (95% CI {})",
            money(net.mean.abs()),
            more_or_less(&net),
            money_size_interval(&net)
        )
    } else {
        format!(
            "no clearly different amount (95% CI {})",
            money_interval(&net)
        )
    };
    let downstream_text = if clear(&downstream) {
        format!(
            "{} by {} a year (95% CI {})",
            if downstream.mean < 0.0 {
                "fall"
            } else {
                "rise"
            },
            money(downstream.mean.abs()),
            money_size_interval(&downstream)
        )
    } else {
        format!(
            "show no clear change (95% CI {})",
            money_interval(&downstream)
        )
    };
    let mut sentence = format!(
        "Downstream costs (bookings, jail days, emergency visits and the other costed lines) {downstream_text}; net of them and with the fleet, the public pays {net_text}"
    );
    if let Some(per_100k) = results.difference(label, key::NET_PUBLIC_COST_PER_100K) {
        sentence.push_str(&format!(
            ", or {} per 100,000 residents",
            money(per_100k.mean)
        ));
    }
    sentence.push('.');
    sentences.push(sentence);
    if let Some(hours) = results.difference(label, key::POLICE_BUSY_HOURS)
        && clear(&hours)
        && hours.mean < 0.0
    {
        let mut freed = format!(
            "It frees {} police unit-hours a year (95% CI {} to {}), counting transport, handover and booking time",
            format_number(-hours.mean, 0),
            format_number(-hours.ci_high, 0),
            format_number(-hours.ci_low, 0)
        );
        let p = results
            .policies
            .iter()
            .position(|policy| policy.label() == label)
            .unwrap_or(0);
        if let Some((_, _, price)) = results
            .cost_effectiveness(p)
            .into_iter()
            .find(|(name, _, _)| *name == key::COST_PER_POLICE_HOUR_FREED)
            && price.mean.is_finite()
        {
            freed.push_str(&format!(
                ", at a net {} per hour freed (95% CI {} to {})",
                money(price.mean),
                money(price.ci_low),
                money(price.ci_high)
            ));
        }
        freed.push('.');
        sentences.push(freed);
    }
    let not_costed: Vec<String> = results
        .figures
        .iter()
        .zip(&results.baseline().estimates)
        .filter(|(def, e)| key::is_cost_line(&def.key) && e.n == 0)
        .map(|(def, _)| {
            def.label
                .trim_start_matches("Downstream cost: ")
                .to_string()
        })
        .collect();
    if !not_costed.is_empty() {
        sentences.push(format!(
            "Not costed (no figure given in the scenario, so left out rather than counted as zero): {}.",
            not_costed.join(", ")
        ));
    }
    sentences
}

/// What the reader must know before the numbers: what the run warned about (kept in
/// results.json), and figures that rest on few calls.
fn warnings(results: &Results) -> Vec<String> {
    let mut out = results.warnings.clone();
    let baseline = results.baseline().label();
    let calls = results
        .estimate(baseline, key::CALLS)
        .map_or(0.0, |e| e.mean);
    let eligible = results
        .estimate(baseline, key::ELIGIBLE_CALLS)
        .map_or(0.0, |e| e.mean);
    if calls < 1_000.0 || (eligible > 0.0 && eligible < 100.0) {
        out.push(format!(
            "These figures rest on about {} calls a replication ({} care-eligible): shares, percentiles and costs from so few are rough, whatever their intervals say. Replay a longer stream or a whole year.",
            format_number(calls, 0),
            format_number(eligible, 0)
        ));
    }
    out
}

/// A table of text rows (the first is the header) as HTML: the first `left` columns are text,
/// the rest numbers.
fn rows_table(rows: &[Vec<String>], left: usize) -> String {
    let mut out = String::from("<div class=\"scroll\"><table>\n");
    for (i, row) in rows.iter().enumerate() {
        out.push_str("<tr>");
        for (c, cell) in row.iter().enumerate() {
            let tag = if i == 0 { "th" } else { "td" };
            let class = if i > 0 && c >= left {
                " class=\"num\""
            } else {
                ""
            };
            let _ = write!(out, "<{tag}{class}>{}</{tag}>", esc(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table></div>\n");
    out
}

/// The comparison table as HTML.
fn table(results: &Results) -> String {
    let baseline = results.baseline().name();
    let mut out =
        String::from("<div class=\"scroll\"><table>\n<thead><tr><th>Figure</th><th>Unit</th>");
    for policy in &results.policies {
        let _ = write!(out, "<th>{}</th>", esc(policy.name()));
    }
    for policy in &results.policies[1..] {
        let _ = write!(out, "<th>{} − {}</th>", esc(policy.name()), esc(baseline));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for (f, def) in results
        .figures
        .iter()
        .enumerate()
        .filter(|(_, d)| !d.detail)
    {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td>",
            esc(&def.label),
            esc(&def.unit)
        );
        let not_costed = |e: &Estimate| e.n == 0 && key::is_cost_line(&def.key);
        for policy in &results.policies {
            let estimate = &policy.estimates[f];
            let cell = if not_costed(estimate) {
                NOT_COSTED.to_string()
            } else {
                mean_and_interval(estimate)
            };
            let _ = write!(out, "<td class=\"num\">{}</td>", esc(&cell));
        }
        for policy in &results.policies[1..] {
            let cell = match &policy.differences {
                None => String::new(),
                Some(d) if not_costed(&d[f]) => NOT_COSTED.to_string(),
                Some(d) => difference(&d[f]),
            };
            let _ = write!(out, "<td class=\"num\">{}</td>", esc(&cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table></div>\n");
    out
}

const STYLE: &str = "body{font-family:'DejaVu Sans',Verdana,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45;overflow-wrap:anywhere}\
h1{font-size:1.8em;margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #ccc}\
.headline{font-size:1.15em;font-weight:bold}\
.warnings{border:2px solid #d55e00;background:#fff4ec;padding:0 1em;margin:1em 0}.warnings h2{border:none;margin-top:.6em;font-size:1.1em}\
.scroll{overflow-x:auto;max-width:100%}\
table{border-collapse:collapse;font-size:.78em;width:100%}th,td{border:1px solid #ccc;padding:3px 6px;vertical-align:top;overflow-wrap:normal}\
th{background:#f2f2f2;text-align:left}td.num{text-align:right;white-space:nowrap}\
figure{margin:1.2em 0;page-break-inside:avoid;break-inside:avoid;overflow-x:auto}figure svg{max-width:100%;height:auto;border:1px solid #ddd}\
figcaption{font-size:.9em;color:#555}pre{font-size:.72em;background:#f7f7f7;padding:1em;overflow-x:auto;white-space:pre-wrap}\
.meta{color:#555}\
@media (max-width:600px){body{margin:1em auto;padding:0 .6em}h1{font-size:1.4em}table{font-size:.7em}figure svg{width:760px;max-width:none}}\
@media print{body{margin:0;max-width:none}h2{page-break-after:avoid}table{font-size:.62em}figure svg{width:auto;max-width:100%}.scroll,figure{overflow:visible}}";

/// A sweep's answer for the report: the recommendation table (header first) and a line on
/// the targets.
#[derive(Clone, Copy, Debug)]
pub struct SweepAnswer<'a> {
    pub rows: &'a [Vec<String>],
    pub note: &'a str,
    /// What each step buys, for a sweep of a care program.
    pub trade_off: Option<&'a super::TradeOffChart>,
}

/// A back-test for the report (`backtest.json` beside the results): its table (header
/// first), a line on what it tested, and the chart of the log over the simulation.
#[derive(Clone, Copy, Debug)]
pub struct BacktestSection<'a> {
    pub rows: &'a [Vec<String>],
    pub note: &'a str,
    pub svg: Option<&'a str>,
}

/// The report page. `scenario_text` is the scenario file the results came from (with its
/// comments citing sources), when it is at hand; `sweep` adds a sweep's chart and answer;
/// `backtest` a back-test's comparison with the log.
pub fn report_html(
    results: &Results,
    scenario_text: Option<&str>,
    sweep: Option<(&SweepChart, SweepAnswer<'_>)>,
    backtest: Option<BacktestSection<'_>>,
) -> Result<String, super::ChartError> {
    let s = &results.scenario;
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        esc(&format!("Alternative crisis response: {}", s.name))
    );
    let _ = writeln!(
        html,
        "<h1>Alternative crisis response: {}</h1>\n<p class=\"meta\">Population {} · {} replications of {} measured days · every figure with its 95% confidence interval · crisis-sim {}</p>",
        esc(&s.name),
        format_number(s.population, 0),
        results.replications.len(),
        format_number(s.horizon_days - s.warmup_days, 0),
        env!("CARGO_PKG_VERSION")
    );
    let warnings = warnings(results);
    if !warnings.is_empty() {
        html.push_str("<div class=\"warnings\"><h2>Read these first</h2>\n<ul>\n");
        for warning in &warnings {
            let _ = writeln!(html, "<li>{}</li>", esc(warning));
        }
        html.push_str("</ul></div>\n");
    }
    html.push_str("<h2>Findings</h2>\n");
    html.push_str(&summary(results));
    if let Some((_, recommendation)) = sweep {
        html.push_str("<h3>How many teams?</h3>\n");
        html.push_str(&rows_table(recommendation.rows, 2));
        let _ = writeln!(html, "<p class=\"meta\">{}</p>", esc(recommendation.note));
    }
    if let Some(backtest) = backtest {
        html.push_str("<h2>Does the model reproduce the log?</h2>\n");
        let _ = writeln!(html, "<p>{}</p>", esc(backtest.note));
        html.push_str(&rows_table(backtest.rows, 2));
        if let Some(svg) = backtest.svg {
            let _ = writeln!(
                html,
                "<figure class=\"chart\">\n{svg}\n<figcaption>Response times: the log against the simulation</figcaption>\n</figure>"
            );
        }
    }
    html.push_str("<h2>Charts</h2>\n");
    let mut charts: Vec<(String, String)> = Vec::new();
    for chart in results_charts(results) {
        charts.push((chart.title(), chart.svg()?));
    }
    if let Some((chart, answer)) = sweep {
        charts.push((chart.title(), chart.svg()?));
        if let Some(trade_off) = answer.trade_off {
            charts.push((trade_off.title(), trade_off.svg()?));
        }
    }
    for (title, svg) in &charts {
        let _ = writeln!(
            html,
            "<figure class=\"chart\">\n{svg}\n<figcaption>{}</figcaption>\n</figure>",
            esc(title)
        );
    }
    let _ = writeln!(
        html,
        "<h2>All figures</h2>\n<p>Mean ± 95% CI half-width across replications; differences are paired by replication [95% CI], * where the interval excludes 0.</p>\n{}",
        table(results)
    );
    html.push_str("<h2>Method, in plain words</h2>\n<ul>\n");
    for item in [
        format!(
            "A discrete-event simulation replays the scenario's 911 calls through its police units and care teams under each policy, {} times ({} replications), seed {}.",
            results.replications.len(),
            results.replications.len(),
            results.seed
        ),
        format!(
            "Each replication simulates {} days from {}; the first {} days are a warm-up, simulated but not counted.",
            format_number(s.horizon_days, 0),
            esc(&s.start_date),
            format_number(s.warmup_days, 0)
        ),
        "Replication r of every policy sees the same calls and the same per-call random draws (common random numbers), so each policy's difference from the baseline is paired.".to_string(),
        format!(
            "Each figure is the mean over the replications, with a {:.0}% confidence interval (Student's t): if the whole study were repeated many times with new random draws, about 95 of 100 such intervals would hold the figure's true value for this scenario. The interval says how precise the simulation is, not whether the scenario's inputs are right.",
            CONFIDENCE_LEVEL * 100.0
        ),
        "A difference between policies is measured replication by replication on the same calls, then averaged, with its own interval (the paired t interval); a difference whose interval includes zero is called \"no clear change\".".to_string(),
        "Percentiles (the median, the 90th percentile) come from each replication's full distribution of times, recorded to 0.1%, then averaged over replications.".to_string(),
        "Costs a year are the measured days scaled to 365. Rates per 1,000 calls become counts a year the same way.".to_string(),
        format!(
            "Scenario: {} (fingerprint {}).",
            esc(&s.source),
            esc(&s.fingerprint)
        ),
    ] {
        let _ = writeln!(html, "<li>{item}</li>");
    }
    html.push_str("</ul>\n<h2>Scenario and sources</h2>\n");
    match scenario_text {
        Some(text) => {
            let _ = writeln!(
                html,
                "<p>The scenario file as run. Comments beside each figure cite its source in the project's domain notes, or say \"assumption\".</p>\n<pre>{}</pre>",
                esc(text)
            );
        }
        None => {
            let _ = writeln!(
                html,
                "<p>The scenario file ({}) was not found beside the results; its parameters and sources are in that file.</p>",
                esc(&s.source)
            );
        }
    }
    html.push_str("</body>\n</html>\n");
    Ok(html)
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn money_reads_as_a_budget_and_a_fall_is_stated_by_its_size() {
        use super::{Estimate, money, money_size_interval};
        assert_eq!(money(6_426_744.0), "$6.43M");
        assert_eq!(money(-785_456.2), "-$785,456");
        assert_eq!(money(175.04), "$175");
        let fall = Estimate {
            mean: -785_456.0,
            half_width: 49_000.0,
            ci_low: -834_948.0,
            ci_high: -735_965.0,
            sd: 1.0,
            n: 10,
        };
        assert_eq!(money_size_interval(&fall), "$735,965 to $834,948");
    }

    #[test]
    fn html_escaping_keeps_line_breaks_and_drops_other_control_characters() {
        assert_eq!(esc("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;");
        assert_eq!(esc("line\nnext\tcell"), "line\nnext\tcell");
        assert_eq!(esc("nul\u{0}vt\u{b}"), "nul\u{FFFD}vt\u{FFFD}");
    }
}
