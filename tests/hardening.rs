//! Losing nothing: a repeated command never replaces earlier results without `--force`, an
//! interrupted run is not silently discarded, and a write that fails leaves earlier results
//! intact with a clear message. Also the CLI conveniences (completions, help examples).

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::{crisis_sim, path_str, scratch, short_scenario, text};

fn run_into(scenario: &Path, out_dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "run",
        path_str(scenario),
        "-r",
        "2",
        "-q",
        "--out",
        path_str(out_dir),
    ];
    args.extend_from_slice(extra);
    crisis_sim(&args)
}

#[test]
fn a_second_run_refuses_to_replace_results_without_force() {
    let dir = scratch("overwrite");
    let scenario = short_scenario(&dir, 9);
    let out_dir = dir.join("out");
    assert!(run_into(&scenario, &out_dir, &[]).status.success());
    let first = fs::read(out_dir.join("results.json")).unwrap();

    let again = run_into(&scenario, &out_dir, &["--seed", "99"]);
    assert_eq!(again.status.code(), Some(2));
    let stderr = text(&again.stderr);
    assert!(
        stderr.contains("results.json") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(fs::read(out_dir.join("results.json")).unwrap(), first);

    let forced = run_into(&scenario, &out_dir, &["--seed", "99", "--force"]);
    assert!(forced.status.success(), "{}", text(&forced.stderr));
    assert_ne!(fs::read(out_dir.join("results.json")).unwrap(), first);

    // Other commands' outputs likewise.
    let calls = dir.join("calls.csv");
    let generate = |extra: &[&str]| {
        let mut args = vec![
            "generate",
            path_str(&scenario),
            "-q",
            "-o",
            path_str(&calls),
        ];
        args.extend_from_slice(extra);
        crisis_sim(&args)
    };
    assert!(generate(&[]).status.success());
    let refused = generate(&["--seed", "5"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(text(&refused.stderr).contains("--force"));
    assert!(generate(&["--seed", "5", "--force"]).status.success());
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_interrupted_run_is_resumed_or_discarded_on_purpose_only() {
    let dir = scratch("interrupted");
    let scenario = short_scenario(&dir, 9);
    let out_dir = dir.join("out");
    fs::create_dir_all(&out_dir).unwrap();
    fs::write(out_dir.join("checkpoint.jsonl"), "half a run\n").unwrap();
    let out = run_into(&scenario, &out_dir, &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("--resume") && stderr.contains("--force"),
        "{stderr}"
    );
    assert!(run_into(&scenario, &out_dir, &["--force"]).status.success());
    fs::remove_dir_all(dir).unwrap();
}

/// Makes `dir` unwritable even for root (`chattr +i`), or by permissions for other users.
/// Returns false when neither is possible here.
fn make_unwritable(dir: &Path, unwritable: bool) -> bool {
    let flag = if unwritable { "+i" } else { "-i" };
    if Command::new("chattr")
        .args([flag, path_str(dir)])
        .status()
        .is_ok_and(|s| s.success())
    {
        return true;
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = if unwritable { 0o555 } else { 0o755 };
    fs::set_permissions(dir, fs::Permissions::from_mode(mode)).is_ok()
        && (!unwritable || fs::write(dir.join(".probe"), "").is_err())
}

#[test]
fn a_failed_write_says_where_and_leaves_earlier_results_intact() {
    let dir = scratch("unwritable");
    let scenario = short_scenario(&dir, 9);
    let out_dir = dir.join("out");
    assert!(run_into(&scenario, &out_dir, &[]).status.success());
    let first = fs::read(out_dir.join("results.json")).unwrap();
    if make_unwritable(&out_dir, true) {
        let out = run_into(&scenario, &out_dir, &["--seed", "7", "--force"]);
        make_unwritable(&out_dir, false);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        let stderr = text(&out.stderr);
        assert!(stderr.contains(path_str(&out_dir)), "{stderr}");
        assert_eq!(fs::read(out_dir.join("results.json")).unwrap(), first);
    } else {
        eprintln!("note: cannot make a directory unwritable here; skipped that half");
    }
    // An output directory that cannot exist (its parent is a file): exit 1, named.
    let file = dir.join("a-file");
    fs::write(&file, "not a directory").unwrap();
    let out = run_into(&scenario, &file.join("out"), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("a-file"),
        "{}",
        text(&out.stderr)
    );
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn completions_are_printed_for_each_shell() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef crisis-sim"),
        ("fish", "complete -c crisis-sim"),
    ] {
        let out = crisis_sim(&["completions", shell]);
        assert!(out.status.success());
        let script = text(&out.stdout);
        assert!(script.contains(marker), "{shell}");
        assert!(script.contains("replay"), "{shell}: subcommands listed");
    }
    assert_eq!(crisis_sim(&["completions", "tcsh"]).status.code(), Some(2));
}

#[test]
fn every_subcommand_has_help_with_an_example() {
    for command in [
        "run",
        "replay",
        "generate",
        "import",
        "fit",
        "merge",
        "sweep",
        "validate",
        "completions",
        "default-scenario",
    ] {
        let out = crisis_sim(&[command, "--help"]);
        assert!(out.status.success(), "{command}");
        let help = text(&out.stdout);
        assert!(
            help.contains("Example") && help.contains("crisis-sim "),
            "{command} --help has no example:\n{help}"
        );
    }
}

/// Issue #14, item 1: times far out of range in a stream were a panic (date arithmetic
/// overflow) or a run that never ended (a horizon of billions of days). Now each is a clear
/// error naming the file, line and column, exit 2, for replay and fit alike.
#[test]
fn far_out_times_in_a_stream_are_refused_not_panicked() {
    let dir = scratch("far-times");
    let header = "replication,call_id,received_at,received_minutes,call_type,priority,zone,care_eligible,draw_key";
    let cases = [
        (
            "minutes-1e12.csv",
            format!("{header}\n0,0,2024-01-01T00:00:00.000,1e12,welfare_check,3,,true,\n"),
            "received_minutes",
        ),
        (
            "minutes-1e15.csv",
            format!("{header}\n0,0,2024-01-01T00:00:00.000,1e15,welfare_check,3,,true,\n"),
            "received_minutes",
        ),
        (
            "year-2400.csv",
            "replication,call_id,received_at,call_type,priority,zone,care_eligible\n\
             0,0,2024-01-01T00:00:00,welfare_check,3,,true\n\
             0,1,2400-01-01T00:00:00,welfare_check,3,,true\n"
                .to_string(),
            "longest horizon",
        ),
    ];
    for (name, body, expected) in cases {
        let path = dir.join(name);
        fs::write(&path, body).unwrap();
        let out_dir = dir.join("out");
        let out = path_str(&out_dir);
        let fitted = dir.join("fitted.toml");
        for args in [
            vec!["replay", path_str(&path), "-q", "--force", "-o", out],
            vec![
                "fit",
                path_str(&path),
                "-q",
                "--force",
                "-o",
                path_str(&fitted),
            ],
        ] {
            let output = crisis_sim(&args);
            let stderr = text(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
            assert!(
                stderr.contains(name) && stderr.contains(expected),
                "{args:?}: {stderr}"
            );
        }
    }
    fs::remove_dir_all(dir).unwrap();
}

/// Issue #14, item 1: a scenario error past column 65535 panicked in the caret formatting.
/// Now the line is cut around the column and the caret still points at it.
#[test]
fn an_error_far_along_a_line_is_shown_without_a_panic() {
    let dir = scratch("long-line");
    let path = dir.join("long.toml");
    // The default scenario with its [city] table on one line, a 70,000-character name first.
    let default = text(&crisis_sim(&["default-scenario"]).stdout);
    let city_start = default.find("[city]").unwrap();
    let city_end = city_start + default[city_start..].find("\n[").unwrap();
    let long_name = "x".repeat(70_000);
    let text_in = format!(
        "{}city = {{ name = \"{long_name}\", population = -5, horizon_days = 10 }}\n{}",
        &default[..city_start],
        &default[city_end + 1..]
    );
    fs::write(&path, text_in).unwrap();
    let output = crisis_sim(&["validate", path_str(&path)]);
    let stderr = text(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}",
        &stderr[..stderr.len().min(400)]
    );
    assert!(
        stderr.contains("population"),
        "{}",
        &stderr[..stderr.len().min(400)]
    );
    assert!(
        stderr.len() < 2_000,
        "the message shows a window, not the whole line: {} bytes",
        stderr.len()
    );
    // The caret sits under the `population` key's value in the window shown.
    let lines: Vec<&str> = stderr.lines().collect();
    let caret_line = lines
        .iter()
        .position(|l| l.trim_end().ends_with('^'))
        .expect("a caret");
    let shown = lines[caret_line - 1];
    let caret_at = lines[caret_line].len() - 1;
    assert!(shown.len() > caret_at, "{shown}\n{}", lines[caret_line]);
    fs::remove_dir_all(dir).unwrap();
}

/// Issue #14, item 4: `--resume` into an `--out` holding finished results and no checkpoint
/// reran and replaced them, even for another seed. Now it is refused, and the results stay.
#[test]
fn resume_with_nothing_to_resume_does_not_replace_finished_results() {
    let dir = scratch("resume-nothing");
    let scenario = short_scenario(&dir, 9);
    let out = dir.join("out");
    assert!(run_into(&scenario, &out, &["--seed", "1"]).status.success());
    let before = fs::read(out.join("results.json")).unwrap();
    let output = run_into(&scenario, &out, &["--seed", "2", "--resume"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("no checkpoint") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(fs::read(out.join("results.json")).unwrap(), before);
    fs::remove_dir_all(dir).unwrap();
}

/// Every file in `dir` (hidden ones too) with its bytes, in name order.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name, fs::read(e.path()).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// Runs the binary with a ceiling on the size of any file it writes (`ulimit -f`, in 512-byte
/// blocks), its signal ignored, so a write past it fails with EFBIG as on a disk that fills up.
#[cfg(unix)]
fn with_file_limit(blocks: u32, args: &[&str]) -> std::process::Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!(
            r#"ulimit -f {blocks} && trap "" XFSZ && exec "$0" "$@""#
        ))
        .arg(env!("CARGO_BIN_EXE_crisis-sim"))
        .args(args)
        .output()
        .expect("sh runs")
}

/// Issue #14, items 4 and 5: a second writer into the same `--out` is refused, naming the
/// holder, whatever the command; and a `--force` run that fails part-way (the disk filled)
/// leaves the earlier set exactly as it was, names the file, and keeps its own work resumable.
#[cfg(unix)]
#[test]
fn one_writer_at_a_time_and_a_failed_set_leaves_the_earlier_one_whole() {
    let dir = scratch("output-sets");
    let scenario = short_scenario(&dir, 9);
    let out = dir.join("out");
    assert!(
        run_into(&scenario, &out, &["--seed", "1", "--csv"])
            .status
            .success()
    );
    let earlier = snapshot(&out);

    {
        let _held = crisis_sim::output::OutputDir::lock(&out, "run (the test's)").unwrap();
        let sweep = crisis_sim(&[
            "sweep",
            "--vary",
            "care.count=1,2",
            "-r",
            "2",
            "-q",
            "-o",
            path_str(&out),
        ]);
        let plot = crisis_sim(&["plot", path_str(&out), "-q"]);
        let merge = crisis_sim(&[
            "merge",
            path_str(&out),
            "-o",
            path_str(&out),
            "--force",
            "-q",
        ]);
        for second in [run_into(&scenario, &out, &["--force"]), sweep, plot, merge] {
            assert_eq!(second.status.code(), Some(2), "{}", text(&second.stderr));
            let stderr = text(&second.stderr);
            assert!(
                stderr
                    .contains("in use by another crisis-sim (crisis-sim run (the test's), process")
                    && stderr.contains(path_str(&out)),
                "{stderr}"
            );
        }
    }
    assert_eq!(snapshot(&out), earlier);

    // 40 blocks (20 KB): the checkpoint fits, results.json (about 86 KB) does not.
    let failed = with_file_limit(
        40,
        &[
            "run",
            path_str(&scenario),
            "-r",
            "2",
            "-q",
            "--seed",
            "5",
            "--force",
            "--csv",
            "-o",
            path_str(&out),
        ],
    );
    assert_eq!(failed.status.code(), Some(1));
    let stderr = text(&failed.stderr);
    assert!(
        stderr.contains(&format!(
            "cannot write {}",
            out.join("results.json").display()
        )) && !stderr.contains("staging")
            && !stderr.contains("Os {"),
        "{stderr}"
    );
    let after: Vec<(String, Vec<u8>)> = snapshot(&out)
        .into_iter()
        .filter(|(name, _)| name != "checkpoint.jsonl")
        .collect();
    assert_eq!(after, earlier, "the earlier set is untouched");
    assert_eq!(
        fs::read_dir(&out)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_type().unwrap().is_dir())
            .count(),
        0,
        "no staging directory remains"
    );

    // The failed run's replications are in its checkpoint: --resume finishes it, and the
    // result is that of an uninterrupted run.
    let resumed = run_into(&scenario, &out, &["--seed", "5", "--csv", "--resume"]);
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));
    assert!(text(&resumed.stdout).is_empty());
    let fresh = dir.join("fresh");
    assert!(
        run_into(&scenario, &fresh, &["--seed", "5", "--csv"])
            .status
            .success()
    );
    assert_eq!(
        fs::read(out.join("results.json")).unwrap(),
        fs::read(fresh.join("results.json")).unwrap()
    );
    fs::remove_dir_all(dir).unwrap();
}

/// A `--force` run replaces the earlier set whole: files of the earlier run that the new one
/// does not write (its CSVs, its logs) go with it; files of the user's own stay.
#[test]
fn a_new_set_replaces_the_old_one_whole() {
    let dir = scratch("whole-set");
    let scenario = short_scenario(&dir, 9);
    let out = dir.join("out");
    assert!(
        run_into(&scenario, &out, &["--csv", "--log", "calls"])
            .status
            .success()
    );
    assert!(out.join("calls.csv").exists() && out.join("summary.csv").exists());
    fs::write(out.join("notes.md"), "mine").unwrap();
    assert!(run_into(&scenario, &out, &["--force"]).status.success());
    for gone in ["calls.csv", "summary.csv", "replications.csv"] {
        assert!(!out.join(gone).exists(), "{gone} is from the earlier set");
    }
    assert!(out.join("results.json").exists() && out.join("key_figures.png").exists());
    assert_eq!(fs::read_to_string(out.join("notes.md")).unwrap(), "mine");
    fs::remove_dir_all(dir).unwrap();
}

/// Issue #14, items 9 and 11: a checkpoint append that fails (the disk is full) is said at
/// once, not silently dropped; and a checkpoint line changed after it was written is refused,
/// naming the line, instead of quietly changing the results.
#[cfg(unix)]
#[test]
fn checkpoint_failures_and_damage_are_reported() {
    let dir = scratch("checkpoint-damage");
    let scenario = short_scenario(&dir, 9);
    let out = dir.join("out");
    // One block: the header fits, no line does.
    let failed = with_file_limit(
        1,
        &[
            "run",
            path_str(&scenario),
            "-r",
            "2",
            "-q",
            "-o",
            path_str(&out),
        ],
    );
    assert_eq!(failed.status.code(), Some(1));
    let stderr = text(&failed.stderr);
    assert!(
        stderr.contains("Warning: cannot save progress to")
            && stderr.contains("checkpoint.jsonl")
            && stderr.contains("cannot be resumed"),
        "{stderr}"
    );

    // A whole checkpoint, from a run that could not write its results.
    let _ = fs::remove_dir_all(&out);
    let failed = with_file_limit(
        40,
        &[
            "run",
            path_str(&scenario),
            "-r",
            "2",
            "-q",
            "-o",
            path_str(&out),
        ],
    );
    assert_eq!(failed.status.code(), Some(1));
    let checkpoint = out.join("checkpoint.jsonl");
    let original = fs::read_to_string(&checkpoint).unwrap();
    let line = original.lines().nth(2).unwrap();
    // Change one figure's digits, keeping the line valid JSON.
    let at = line.find("\"values\":[").unwrap() + 10;
    let digit = line[at..].find(|c: char| c.is_ascii_digit()).unwrap() + at;
    let changed = line[digit..=digit].replace(
        |c: char| c.is_ascii_digit(),
        if &line[digit..=digit] == "7" {
            "8"
        } else {
            "7"
        },
    );
    let edited_line = format!("{}{changed}{}", &line[..digit], &line[digit + 1..]);
    fs::write(&checkpoint, original.replacen(line, &edited_line, 1)).unwrap();
    let resumed = run_into(&scenario, &out, &["--resume"]);
    assert_eq!(resumed.status.code(), Some(2));
    let stderr = text(&resumed.stderr);
    assert!(
        stderr.contains("line 3") && stderr.contains("checksum") && stderr.contains("--force"),
        "{stderr}"
    );
    // Put back as written, it resumes.
    fs::write(&checkpoint, &original).unwrap();
    assert!(run_into(&scenario, &out, &["--resume"]).status.success());
    fs::remove_dir_all(dir).unwrap();
}

/// Issue #14, item 3: an overloaded city grew the waiting queue, and memory, without limit and
/// without a word; `calls_per_day = 1e9` passed the checker and then aborted at 2 GB. Now the
/// offered load is warned about before the run, a replication whose open calls pass a million
/// stops with exit 2 and a finding about the fleet, and calls_per_day has a ceiling.
#[test]
fn an_overloaded_city_is_reported_not_run_out_of_memory() {
    let dir = scratch("overload");
    let flood = |calls_per_day: &str, horizon: &str| {
        let text = common::DEFAULT
            .replacen(
                "horizon_days = 372",
                &format!("horizon_days = {horizon}"),
                1,
            )
            .replacen("warmup_days = 7", "warmup_days = 0", 1);
        let at = text.find("calls_per_day = ").unwrap();
        let end = at + text[at..].find('\n').unwrap();
        let text = format!(
            "{}calls_per_day = {calls_per_day}{}",
            &text[..at],
            &text[end..]
        );
        let path = dir.join(format!("flood-{calls_per_day}.toml"));
        fs::write(&path, text).unwrap();
        path
    };
    let too_many = flood("1e9", "10");
    let out = crisis_sim(&["validate", path_str(&too_many)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("calls_per_day: expected a number > 0 and <= 1000000"),
        "{}",
        text(&out.stderr)
    );

    // Twice the default's calls on its fleet, for 3 days: warned, and run.
    let busy = flood("2200", "3");
    let out = run_into(&busy, &dir.join("busy"), &["--policy", "police_only"]);
    assert!(out.status.success());
    let busy_run = crisis_sim(&[
        "run",
        path_str(&busy),
        "-r",
        "1",
        "--policy",
        "police_only",
        "-o",
        path_str(&dir.join("busy2")),
    ]);
    assert!(
        text(&busy_run.stderr).contains("Warning: under police_only, pool `police` is overloaded"),
        "{}",
        text(&busy_run.stderr)
    );

    // A million calls a day: the queue passes a million open calls on day 1 and the run stops.
    let flooded = flood("1000000", "10");
    let out = run_into(&flooded, &dir.join("flooded"), &["--policy", "police_only"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("the fleet cannot keep up with the calls under policy `police_only`")
            && stderr.contains("more than 1,000,000 calls were open at once"),
        "{stderr}"
    );
    assert!(!dir.join("flooded").join("results.json").exists());
    fs::remove_dir_all(dir).unwrap();
}

/// Issue #14, item 7: a name beginning with `=`, `+`, `-` or `@` went verbatim into every CSV
/// output, where spreadsheets execute it. Every CSV cell that could start a formula now starts
/// with `'` (OWASP), and a generated stream with such names still replays exactly.
#[test]
fn csv_outputs_never_start_a_formula_and_streams_still_replay() {
    let dir = scratch("formula");
    let toml = common::DEFAULT
        .replacen("horizon_days = 372", "horizon_days = 9", 1)
        .replacen(
            "name = \"north\"",
            "name = \"=HYPERLINK(\\\"http://x\\\")\"",
            1,
        )
        .replace("\"north\"", "\"=HYPERLINK(\\\"http://x\\\")\"")
        .replacen("name = \"disturbance\"", "name = \"@disturbance\"", 1)
        .replacen(
            "policy = \"care_first\"",
            "policy = \"care_first\"\nlabel = \"-care\"",
            1,
        );
    let scenario = dir.join("formula.toml");
    fs::write(&scenario, toml).unwrap();
    let out = dir.join("out");
    let run = run_into(&scenario, &out, &["--csv", "--log", "calls,units"]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let stream = dir.join("calls.csv");
    let generate = crisis_sim(&[
        "generate",
        path_str(&scenario),
        "-r",
        "2",
        "-q",
        "-o",
        path_str(&stream),
    ]);
    assert!(generate.status.success(), "{}", text(&generate.stderr));
    let mut guarded = 0;
    for file in [
        out.join("replications.csv"),
        out.join("summary.csv"),
        out.join("calls.csv"),
        out.join("units.csv"),
        stream.clone(),
    ] {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_path(&file)
            .unwrap();
        for record in reader.records() {
            for cell in record.unwrap().iter() {
                let number = cell.parse::<f64>().is_ok();
                assert!(
                    number || !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "{}: `{cell}`",
                    file.display()
                );
                guarded += usize::from(cell.starts_with("'=") || cell.starts_with("'@"));
            }
        }
    }
    assert!(guarded > 100, "the names were written, guarded: {guarded}");
    // The stream replays to exactly the direct run's results.
    let replayed = dir.join("replayed");
    let replay = crisis_sim(&[
        "replay",
        path_str(&stream),
        "--scenario",
        path_str(&scenario),
        "-q",
        "-o",
        path_str(&replayed),
    ]);
    assert!(replay.status.success(), "{}", text(&replay.stderr));
    let direct = dir.join("direct");
    assert!(run_into(&scenario, &direct, &[]).status.success());
    let figures = |dir: &Path| -> serde_json::Value {
        let v: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(dir.join("results.json")).unwrap()).unwrap();
        v["policies"].clone()
    };
    assert_eq!(figures(&replayed), figures(&direct));
    fs::remove_dir_all(dir).unwrap();
}

/// Issue #14, item 6: `-o SOME_DEVICE --force` replaced a device node. A device, a FIFO or a
/// directory where an output file should go is refused before any work, with or without
/// `--force`, and left as it was.
#[cfg(unix)]
#[test]
fn outputs_are_never_written_over_devices_fifos_or_directories() {
    let dir = scratch("devices");
    let fifo = dir.join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let folder = dir.join("folder");
    fs::create_dir_all(&folder).unwrap();
    for target in [Path::new("/dev/null"), fifo.as_path(), folder.as_path()] {
        for args in [
            vec![
                "generate",
                "--days",
                "1",
                "-q",
                "--force",
                "-o",
                path_str(target),
            ],
            vec![
                "report",
                "/nonexistent",
                "-q",
                "--force",
                "-o",
                path_str(target),
            ],
        ] {
            let out = crisis_sim(&args);
            assert_eq!(out.status.code(), Some(2), "{args:?}");
            assert!(
                text(&out.stderr).contains("is not a regular file"),
                "{args:?}: {}",
                text(&out.stderr)
            );
        }
    }
    use std::os::unix::fs::FileTypeExt;
    assert!(
        fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device()
    );
    assert!(fs::metadata(&fifo).unwrap().file_type().is_fifo());
    // An output directory that is a file, likewise.
    let out = crisis_sim(&["run", "-r", "1", "-q", "-o", "/dev/null", "--force"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("is not a directory"));
    fs::remove_dir_all(dir).unwrap();
}
