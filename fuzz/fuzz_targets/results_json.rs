//! `plot` and `report` on arbitrary text: a `results.json` or `sweep.json` is read or refused,
//! and one that is read is drawn (every chart as SVG, the report as HTML) without a panic or a
//! hang. A hand-edited file once made plotters spin forever on a 1e308.
#![no_main]

use libfuzzer_sys::fuzz_target;

use crisis_sim::output::{self, Drawable};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(parsed) = output::parse_results(text) {
        for chart in output::results_charts(&parsed.results) {
            let svg = chart.svg().expect("a chart of readable results draws");
            assert!(svg.starts_with("<svg"));
        }
        let html = output::report_html(&parsed.results, None, None, None).expect("the report renders");
        assert!(html.ends_with("</html>\n"));
    }
    if let Ok(sweep) = serde_json::from_str::<output::SweepDocument>(text)
        && let Ok(chart) = output::SweepChart::of(&sweep)
    {
        let svg = chart.svg().expect("a sweep chart of a readable sweep draws");
        assert!(svg.starts_with("<svg"));
    }
});
