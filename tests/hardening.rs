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
