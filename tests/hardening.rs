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
