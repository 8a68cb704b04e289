use super::*;

/// A fresh directory for one use: tests run in parallel threads of one process, so the process
/// id alone is not enough (two tests writing `calls.csv` into one directory read each other's).
fn temp_dir(name: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!(
        "crisis-sim-stream-{name}-{}-{n}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn short_scenario() -> Scenario {
    let mut scenario = Scenario::default_scenario();
    scenario.horizon_days = 3.0;
    scenario.warmup_days = 1.0;
    scenario
}

fn write(dir: &Path, name: &str, text: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn open_error(text: &[u8]) -> String {
    let dir = temp_dir("bad");
    let path = write(&dir, "calls.csv", text);
    let error = StreamFile::open(&path, &short_scenario())
        .unwrap_err()
        .to_string();
    std::fs::remove_dir_all(dir).unwrap();
    error
}

#[test]
fn a_generated_stream_reads_back_as_the_calls_the_generator_makes() {
    let dir = temp_dir("roundtrip");
    let scenario = short_scenario();
    let path = dir.join("calls.csv");
    let summary = generate(&scenario, 42, 3, &path).unwrap();
    let stream = StreamFile::open(&path, &scenario).unwrap();
    assert_eq!(stream.replications(), 3);
    assert_eq!(stream.calls, summary.calls);
    assert_eq!(stream.days(), 3.0);
    assert_eq!(stream.start_date, scenario.start_date);
    assert!(stream.has_draw_keys);
    for replication in 0..3 {
        let mut calls = stream.calls(&scenario, 7, replication).unwrap();
        let read: Vec<Call> = calls.by_ref().collect();
        assert!(calls.take_error().is_none());
        let made: Vec<Call> = CallGenerator::new(&scenario, 42, replication).collect();
        assert_eq!(read, made, "replication {replication}");
    }
    assert!(matches!(
        stream.calls(&scenario, 42, 3),
        Err(StreamError::TooFewReplications {
            available: 3,
            asked: 4,
            ..
        })
    ));
    std::fs::remove_dir_all(dir).unwrap();
}

use crate::calls::CallGenerator;

#[test]
fn one_stream_replicates_with_fresh_draws_but_the_same_arrivals() {
    let dir = temp_dir("one");
    let scenario = short_scenario();
    let path = dir.join("calls.csv");
    generate(&scenario, 42, 1, &path).unwrap();
    let stream = StreamFile::open(&path, &scenario).unwrap();
    let first: Vec<Call> = stream.calls(&scenario, 42, 0).unwrap().collect();
    let second: Vec<Call> = stream.calls(&scenario, 42, 1).unwrap().collect();
    assert_eq!(
        first,
        CallGenerator::new(&scenario, 42, 0).collect::<Vec<_>>()
    );
    assert_eq!(first.len(), second.len());
    assert!(
        first
            .iter()
            .zip(&second)
            .all(|(a, b)| a.received_minutes == b.received_minutes
                && a.call_type == b.call_type
                && a.zone == b.zone
                && a.draw_key != b.draw_key)
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn timestamps_alone_set_the_start_date_and_minutes() {
    let dir = temp_dir("at");
    let path = write(
        &dir,
        "calls.csv",
        b"received_at,call_type,notes\n2021-01-28 20:05:26,disturbance,x\n2021-01-28T20:07:10,mental_health_crisis,\n2021-01-29 00:00:00,disturbance,y\n",
    );
    let scenario = short_scenario();
    let stream = StreamFile::open(&path, &scenario).unwrap();
    assert_eq!(stream.start_date.to_string(), "2021-01-28");
    assert_eq!(stream.days(), 2.0);
    let calls: Vec<Call> = stream.calls(&scenario, 1, 0).unwrap().collect();
    let minutes: Vec<f64> = calls.iter().map(|c| c.received_minutes).collect();
    assert!((minutes[0] - (20.0 * 60.0 + 5.0 + 26.0 / 60.0)).abs() < 1e-9);
    assert_eq!(minutes[2], 1440.0);
    assert_eq!(calls.iter().map(|c| c.id).collect::<Vec<_>>(), [0, 1, 2]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_streams_name_the_file_line_column_and_what_was_expected() {
    let cases: [(&[u8], &[&str]); 14] = [
        (b"", &["empty"]),
        (b"received_minutes,call_type\n", &["no calls"]),
        (
            b"received_minutes;call_type\n1;disturbance\n",
            &["no `call_type` column", "delimited"],
        ),
        (
            b"call_type\ndisturbance\n",
            &["received_minutes` or `received_at"],
        ),
        (
            b"received_minutes,call_type\n5,disturbance\n4,disturbance\n",
            &[":3:", "out of order", "line 2"],
        ),
        (
            b"call_id,received_minutes,call_type\n1,5,disturbance\n1,6,disturbance\n",
            &[":3:", "call_id 1 repeats"],
        ),
        (
            b"received_minutes,call_type\n5,robbery\n",
            &[":2:", "`call_type`", "`robbery`", "mental_health_crisis"],
        ),
        (
            b"received_minutes,call_type\nabc,disturbance\n",
            &[":2:", "`received_minutes`", "`abc`"],
        ),
        (
            b"received_minutes,call_type\n1,disturb\xffance\n",
            &[":2:", "UTF-8"],
        ),
        (
            b"received_minutes,call_type\n1,disturbance,extra\n",
            &[":2:", "3 fields", "2"],
        ),
        (
            b"replication,received_minutes,call_type\n1,1,disturbance\n",
            &[":2:", "replication 1 where 0"],
        ),
        // Issue #14: a draw key is exactly 16 hex digits (`a` and `+abc` were accepted).
        (
            b"received_minutes,call_type,draw_key\n1,disturbance,a\n",
            &[":2:", "`draw_key`", "16 hexadecimal digits"],
        ),
        (
            b"received_minutes,call_type,draw_key\n1,disturbance,+abc\n",
            &[":2:", "`draw_key`", "`+abc`"],
        ),
        // Issue #14: past the longest horizon.
        (
            b"received_minutes,call_type\n1e12,disturbance\n",
            &[":2:", "`received_minutes`", "longest horizon"],
        ),
    ];
    for (text, expected) in cases {
        let error = open_error(text);
        assert!(error.contains("calls.csv"), "{error}");
        for part in expected {
            assert!(error.contains(part), "`{part}` not in: {error}");
        }
    }
}

#[test]
fn an_empty_zone_is_drawn_from_the_zone_shares_and_a_named_one_is_kept() {
    let dir = temp_dir("zone");
    let path = write(
        &dir,
        "calls.csv",
        b"received_minutes,call_type,zone\n1,disturbance,north\n2,disturbance,\n",
    );
    let scenario = short_scenario();
    let stream = StreamFile::open(&path, &scenario).unwrap();
    let calls: Vec<Call> = stream.calls(&scenario, 1, 0).unwrap().collect();
    assert_eq!(calls[0].zone, ZoneId(1));
    let expected = Categorical::new(scenario.zones.iter().map(|z| z.share))
        .pick(calls[1].draw_key, Purpose::Zone);
    assert_eq!(calls[1].zone, ZoneId(expected as u16));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn repeated_calls_are_kept_but_counted() {
    let dir = temp_dir("same");
    let path = write(
        &dir,
        "calls.csv",
        b"received_at,call_type,zone\n2021-01-28 20:05:26,disturbance,north\n2021-01-28 20:05:26,disturbance,north\n2021-01-28 20:05:26,disturbance,south\n",
    );
    let stream = StreamFile::open(&path, &short_scenario()).unwrap();
    assert_eq!(stream.calls, 3);
    assert_eq!(
        (stream.same_as_previous, stream.first_same_as_previous),
        (1, Some(3))
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// Issue #17: a call with coordinates and no zone goes to the zone of the nearest centre; a
/// call with a zone keeps it; one with neither is drawn from the shares. Half a coordinate is
/// an error naming the line.
#[test]
fn coordinates_place_a_call_in_the_nearest_zone() {
    let dir = temp_dir("xy");
    let mut scenario = short_scenario();
    let centers = [
        [0.0, 0.0],
        [100.0, 0.0],
        [0.0, 100.0],
        [100.0, 100.0],
        [50.0, 50.0],
    ];
    for (zone, center) in scenario.zones.iter_mut().zip(centers) {
        zone.center = Some(center);
    }
    let path = write(
        &dir,
        "calls.csv",
        b"received_minutes,call_type,zone,x,y\n1,disturbance,,95,3\n2,disturbance,north,95,3\n3,disturbance,,55,45\n",
    );
    let stream = StreamFile::open(&path, &scenario).unwrap();
    let calls: Vec<Call> = stream.calls(&scenario, 1, 0).unwrap().collect();
    assert_eq!(calls[0].zone, ZoneId(1), "nearest (100, 0)");
    assert_eq!(
        calls[1].zone.0 as usize,
        scenario
            .zones
            .iter()
            .position(|z| z.name == "north")
            .unwrap()
    );
    assert_eq!(calls[2].zone, ZoneId(4), "nearest (50, 50)");
    let error = open_error(b"received_minutes,call_type,x,y\n1,disturbance,5,\n");
    assert!(error.contains("calls.csv:2: column `y`"), "{error}");
    std::fs::remove_dir_all(dir).unwrap();
}
