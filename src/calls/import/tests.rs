use super::*;
use crate::calls::stream::StreamFile;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/cad")
        .join(name)
}

fn mapping(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/mappings")
        .join(name)
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("crisis-sim-import-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Imports `raw` with `mapping`, checks the output opens as a stream, and returns the report
/// and the output's rows.
fn import_sample(raw: &str, mapping_file: &str) -> (ImportReport, Vec<csv::StringRecord>) {
    let dir = temp_dir(raw);
    let output = dir.join("calls.csv");
    let scenario = Scenario::default_scenario();
    let report = import(
        &data(raw),
        &mapping(mapping_file),
        &scenario,
        &output,
        false,
    )
    .unwrap();
    StreamFile::open(&output, &scenario).unwrap();
    let rows = csv::Reader::from_path(&output)
        .unwrap()
        .records()
        .map(Result::unwrap)
        .collect();
    std::fs::remove_dir_all(dir).unwrap();
    (report, rows)
}

fn column(rows: &[csv::StringRecord], index: usize) -> Vec<String> {
    rows.iter().map(|r| r[index].to_string()).collect()
}

#[test]
fn new_orleans_sample_counts_every_row() {
    let (report, rows) = import_sample("new-orleans-sample.csv", "new-orleans.toml");
    assert_eq!(report.rows_read, 12);
    assert_eq!(report.imported, 9);
    assert_eq!(
        report.excluded,
        [("officer-initiated (SelfInitiated = Y)".to_string(), 1)]
    );
    assert_eq!(report.duplicates_merged, 1);
    assert_eq!(report.bad_time.rows, 1);
    assert_eq!(report.bad_time.examples[0].0, 7);
    assert_eq!(report.unknown_code.rows, 0);
    assert_eq!(report.defaulted, 1);
    assert_eq!(report.unmapped_zone, 1);
    // Arrive before create (1900 placeholder), clear before arrive, and no arrival: no time.
    assert_eq!((report.with_on_scene, report.without_on_scene), (6, 3));
    assert_eq!(
        report.rows_read,
        report.imported + report.excluded[0].1 + report.duplicates_merged + report.rejected()
    );
    // Sorted by time: the New Year's Eve call comes first and sets day 0.
    assert_eq!(column(&rows, 8)[0], "A0000126");
    assert_eq!(column(&rows, 2)[0], "1430");
    assert_eq!(
        column(&rows, 3),
        [
            "mental_health_crisis",
            "mental_health_crisis",
            "disturbance",
            "suspicious_or_alarm",
            "property_crime",
            "other_service",
            "disturbance",
            "welfare_check",
            "mental_health_crisis"
        ]
    );
    // The older `MM/DD/YYYY hh:mm:ss AM` form in the same file.
    assert_eq!(rows[3][1].to_string(), "2023-01-02T10:15:00.000");
    assert_eq!(column(&rows, 7)[0], "67");
    let text = report.render();
    for part in ["line 7", "2023-13-45", "AREA CHECK", "6 calls have it"] {
        assert!(text.contains(part), "{part} not in {text}");
    }
}

#[test]
fn seattle_sample_reads_both_time_formats() {
    let (report, rows) = import_sample("seattle-sample.csv", "seattle.toml");
    assert_eq!(report.rows_read, 11);
    assert_eq!(report.excluded[0].1, 1);
    assert_eq!(report.bad_time.rows, 1);
    assert_eq!(report.imported, 9);
    assert_eq!(
        column(&rows, 3),
        [
            "mental_health_crisis",
            "disturbance",
            "welfare_check",
            "violent_crime",
            "traffic_collision",
            "intoxication",
            "unhoused_person",
            "property_crime",
            "other_service"
        ]
    );
    // `Jun 1 2019 09:15:44` (the second format) between two `06/01/2019` times.
    assert_eq!(rows[2][1].to_string(), "2019-06-01T09:15:44.000");
    assert_eq!(column(&rows, 5)[1], "downtown");
}

#[test]
fn real_exports_from_four_cities_import() {
    // St. Louis: newest first in the file; 56 rows with no problems.
    let (report, rows) = import_sample("st-louis-2021-01.csv", "st-louis.toml");
    assert_eq!((report.rows_read, report.imported), (56, 56));
    let minutes: Vec<f64> = column(&rows, 2)
        .iter()
        .map(|m| m.parse().unwrap())
        .collect();
    assert!(minutes.windows(2).all(|w| w[0] <= w[1]));
    assert!(
        report
            .rule_matches
            .iter()
            .any(|(_, t, n)| t == "disturbance" && *n >= 12)
    );
    // Los Angeles: date and time in separate columns.
    let (report, rows) = import_sample("los-angeles-2019.csv", "los-angeles.toml");
    assert_eq!(report.imported, 9);
    assert_eq!(rows[0][1].to_string(), "2019-02-03T19:50:18.000");
    // Dallas: one row per responding unit, merged by incident number.
    let (report, _) = import_sample("dallas-2021-05-10-units.csv", "dallas.toml");
    assert_eq!((report.imported, report.duplicates_merged), (4, 2));
    // Cincinnati: codes, ISO times with milliseconds.
    let (report, rows) = import_sample("cincinnati-2015.csv", "cincinnati.toml");
    assert_eq!(report.imported, 3);
    assert_eq!(
        column(&rows, 3),
        ["suspicious_or_alarm", "other_service", "other_service"]
    );
}

fn write(dir: &Path, name: &str, text: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const SIMPLE_MAPPING: &str = r#"
[received]
column = "time"
[call_type]
column = "code"
[[call_type.rule]]
type = "mental_health_crisis"
codes = ["MH"]
[[call_type.rule]]
type = "disturbance"
codes = ["DIST"]
"#;

fn try_import(raw: &[u8], mapping_text: &str, strict: bool) -> Result<ImportReport, ImportError> {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = temp_dir(&format!("case-{n}"));
    let raw = write(&dir, "raw.csv", raw);
    let mapping = write(&dir, "mapping.toml", mapping_text.as_bytes());
    let output = dir.join("out.csv");
    let result = import(
        &raw,
        &mapping,
        &Scenario::default_scenario(),
        &output,
        strict,
    );
    assert_eq!(output.exists(), result.is_ok(), "output only on success");
    std::fs::remove_dir_all(dir).unwrap();
    result
}

#[test]
fn bad_rows_are_counted_with_line_numbers_and_strict_refuses_them() {
    let raw = b"time,code\n2024-01-01 10:00:00,MH\nyesterday,MH\n2024-01-01 09:00:00,XX\n2024-01-01 11:00:00,DI\xffST\n2024-01-01 12:00:00,DIST,extra\n2024-01-01 13:00:00,DIST\n";
    let report = try_import(raw, SIMPLE_MAPPING, false).unwrap();
    assert_eq!(report.imported, 2);
    assert_eq!(
        report.bad_time.examples,
        [(
            3,
            "received time `yesterday` matches none of the mapping's formats".to_string()
        )]
    );
    assert_eq!(report.unknown_code.rows, 1);
    assert_eq!(report.unknown_code.examples[0].0, 4);
    assert_eq!(report.top_unknown_codes, [("XX".to_string(), 1)]);
    assert_eq!(report.malformed.rows, 2);
    assert!(report.malformed.examples[0].1.contains("UTF-8"));
    assert!(report.malformed.examples[1].1.contains("3 fields"));
    let error = try_import(raw, SIMPLE_MAPPING, true)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("strict import") && error.contains("line 3"),
        "{error}"
    );
}

#[test]
fn bad_files_and_mappings_say_what_is_wrong() {
    let cases: [(&[u8], String, &[&str]); 7] = [
        (b"", SIMPLE_MAPPING.to_string(), &["empty"]),
        (
            b"time,code\n",
            SIMPLE_MAPPING.to_string(),
            &["no calls could be imported"],
        ),
        (
            b"time;code\n2024-01-01 10:00:00;MH\n",
            SIMPLE_MAPPING.to_string(),
            &[
                "no column `time`",
                "field `received.column`",
                "delimited",
                "source.delimiter",
            ],
        ),
        (
            b"when,code\n2024-01-01 10:00:00,MH\n",
            SIMPLE_MAPPING.to_string(),
            &["no column `time`", "the header has: when, code"],
        ),
        (
            b"time,code\n2024-01-01 10:00:00,MH\n",
            SIMPLE_MAPPING.replace("\"disturbance\"", "\"disturbances\""),
            &["call_type.rule[2].type", "`disturbances`", "welfare_check"],
        ),
        (
            b"time,code\n2024-01-01 10:00:00,MH\n",
            SIMPLE_MAPPING.replace("[received]", "[recieved]"),
            &["mapping", "recieved"],
        ),
        (
            b"time,code\nnever,MH\n",
            SIMPLE_MAPPING.to_string(),
            &["no calls could be imported", "line 2", "never"],
        ),
    ];
    for (raw, mapping, expected) in cases {
        let error = try_import(raw, &mapping, false).unwrap_err().to_string();
        for part in expected {
            assert!(error.contains(part), "`{part}` not in: {error}");
        }
    }
}

#[test]
fn a_semicolon_export_imports_with_its_delimiter_set() {
    let mapping = format!("[source]\ndelimiter = \";\"\n{SIMPLE_MAPPING}");
    let report = try_import(b"time;code\n2024-01-01 10:00:00;MH\n", &mapping, true).unwrap();
    assert_eq!(report.imported, 1);
}

/// Issue #17: a rule may match on the row's priority (as `[priority]` reads it), alone or with
/// codes; without a `[priority]` section such a rule is refused.
#[test]
fn a_rule_can_match_on_the_priority() {
    let mapping = r#"
[received]
column = "time"
[priority]
column = "nature"
from = "mpds_letter"
[call_type]
column = "nature"
default = "disturbance"
[[call_type.rule]]
type = "welfare_check"
contains = ["TRANSFER"]
[[call_type.rule]]
type = "mental_health_crisis"
priority = ["A", "B"]
"#;
    let raw = b"time,nature\n2024-01-01 10:00:00,26A1 SICK\n2024-01-01 10:05:00,EMS RESPONSE\n2024-01-01 10:06:00,10D4 CHEST\n2024-01-01 10:07:00,33A1 PT TRANSFER\n";
    let report = try_import(raw, mapping, false).unwrap();
    let matched: Vec<(String, u64)> = report
        .rule_matches
        .iter()
        .map(|(label, _, rows)| (label.clone(), *rows))
        .collect();
    // The transfer is an A, but the first rule that matches wins.
    assert_eq!(
        matched,
        [
            ("*TRANSFER*".to_string(), 1),
            ("priority A/B".to_string(), 1)
        ]
    );
    assert_eq!(report.defaulted, 2);
    let error = try_import(
        raw,
        &mapping.replace(
            "[priority]\ncolumn = \"nature\"\nfrom = \"mpds_letter\"\n",
            "",
        ),
        false,
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("`priority` needs a [priority] section"),
        "{error}"
    );
}

/// Found by the fuzzer: a date misread (a two-digit year as the first century) made calls
/// span more than the longest horizon, and import wrote a stream that could not be opened.
/// It is refused, naming both ends.
#[test]
fn calls_spanning_more_than_the_longest_horizon_are_refused() {
    let raw = b"time,code\n2024-01-01 10:00:00,MH\n0022-01-12 08:05:26,DIST\n";
    let error = try_import(raw, SIMPLE_MAPPING, false)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("more than the longest horizon")
            && error.contains("(line 3)")
            && error.contains("(line 2)"),
        "{error}"
    );
}
