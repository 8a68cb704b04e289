//! Past one machine (issue #19): the README's Slurm job-array scripts, submitted as they stand
//! to a real Slurm cluster (`scripts/slurm-one-node.sh` starts one on this machine; `.ci/run`
//! does so), and their merged outputs compared byte for byte with the same work run whole;
//! and the README's Kubernetes Indexed Job checked for syntax and consistency.
//!
//! Without a Slurm cluster the Slurm test says so and passes, unless
//! `CRISIS_SIM_REQUIRE_SLURM` is set (CI sets it): then it fails, loudly.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{path_str, scratch, short_scenario, text};

const README: &str = include_str!("../README.md");

/// The code block after the marker comment `<!-- NAME` in the README.
fn readme_block(name: &str) -> &'static str {
    let marker = format!("<!-- {name}");
    let at = README
        .find(&marker)
        .unwrap_or_else(|| panic!("the README has no `{marker}` block"));
    let rest = &README[at..];
    let start = rest.find("```").expect("a code block after the marker");
    let body = &rest[start..];
    let body = &body[body.find('\n').unwrap() + 1..];
    &body[..body.find("```").expect("the block ends")]
}

/// Whether a Slurm cluster answers with a node ready to run jobs.
fn slurm_ready() -> bool {
    Command::new("sinfo")
        .args(["-h", "-o", "%T"])
        .output()
        .is_ok_and(|out| {
            let states = String::from_utf8_lossy(&out.stdout);
            out.status.success()
                && states.lines().any(|s| {
                    s.starts_with("idle") || s.starts_with("mixed") || s.starts_with("alloc")
                })
        })
}

/// The directory of the crisis-sim binary under test (put on the jobs' PATH).
fn binary_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_crisis-sim"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Runs `sbatch ARGS` in `dir` with the binary on the PATH; returns the job id.
fn sbatch(dir: &Path, args: &[&str]) -> String {
    let path = format!(
        "{}:{}",
        binary_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("sbatch")
        .arg("--parsable")
        .args(args)
        .current_dir(dir)
        .env("PATH", path)
        .output()
        .expect("sbatch runs");
    assert!(
        out.status.success(),
        "sbatch {args:?}: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
        .trim()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

/// Waits until no job of `ids` is queued or running (at most `limit`).
fn wait_for(ids: &[&str], limit: Duration) {
    let started = Instant::now();
    loop {
        let out = Command::new("squeue")
            .args(["-h", "-j", &ids.join(",")])
            .output()
            .expect("squeue runs");
        if text(&out.stdout).trim().is_empty() {
            return;
        }
        assert!(
            started.elapsed() < limit,
            "Slurm jobs {ids:?} still queued after {limit:?}: {}",
            text(&out.stdout)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Submits the README's array script `script` and its merge line `merge` in `dir`, waits for
/// both, and returns the merge job's id.
fn submit_readme_pair(dir: &Path, script: &str, merge: &str) -> String {
    let script_path = dir.join(format!("{script}.sbatch"));
    fs::write(&script_path, readme_block(script)).unwrap();
    let array = sbatch(dir, &[path_str(&script_path)]);
    // The merge line as the README gives it, with the array's job id for `<jobid>`.
    let line = readme_block(merge).trim().replace("<jobid>", &array);
    let line = line
        .strip_prefix("sbatch ")
        .expect("the merge line is an sbatch command");
    let merge_job = {
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!("sbatch --parsable {line}"))
            .current_dir(dir)
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    binary_dir().display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .output()
            .unwrap();
        assert!(out.status.success(), "{line}: {}", text(&out.stderr));
        text(&out.stdout).trim().to_string()
    };
    wait_for(&[&array, &merge_job], Duration::from_secs(600));
    merge_job
}

#[test]
fn the_readme_slurm_recipes_run_on_slurm_and_merge_to_the_whole_runs_bytes() {
    if !slurm_ready() {
        assert!(
            std::env::var_os("CRISIS_SIM_REQUIRE_SLURM").is_none(),
            "CRISIS_SIM_REQUIRE_SLURM is set but no Slurm cluster answers (scripts/slurm-one-node.sh starts one)"
        );
        eprintln!(
            "SKIPPED: no Slurm cluster here (scripts/slurm-one-node.sh starts one); the README's job arrays were not submitted"
        );
        return;
    }
    let dir = scratch("slurm");
    // A short city: the recipes' replications, on days enough for their figures.
    let scenario = short_scenario(&dir, 10);
    fs::rename(&scenario, dir.join("city.toml")).unwrap();

    // A run sharded 4 ways, merged by a dependent job, against the same run whole.
    let merge_job = submit_readme_pair(&dir, "slurm-run", "slurm-run-merge");
    let whole = common::binary()
        .args([
            "run",
            "city.toml",
            "--replications",
            "40",
            "--seed",
            "7",
            "--quiet",
            "--csv",
            "--out",
            "whole",
        ])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(whole.status.success(), "{}", text(&whole.stderr));
    for file in ["results.json", "summary.csv", "replications.csv"] {
        let merged = fs::read(dir.join("merged").join(file)).unwrap_or_else(|e| {
            panic!(
                "merged/{file} ({e}); the merge job's log: {}",
                fs::read_to_string(dir.join(format!("slurm-{merge_job}.out"))).unwrap_or_default()
            )
        });
        assert_eq!(
            merged,
            fs::read(dir.join("whole").join(file)).unwrap(),
            "{file}"
        );
    }

    // A sweep sharded 4 ways, merged, against the same sweep whole.
    let merge_job = submit_readme_pair(&dir, "slurm-sweep", "slurm-sweep-merge");
    let whole = common::binary()
        .args([
            "sweep",
            "city.toml",
            "--vary",
            "care.count=0..=12:4",
            "--replications",
            "10",
            "--seed",
            "7",
            "--target",
            "eligible.response_p90 <= 30",
            "--quiet",
            "--out",
            "sweep-whole",
        ])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(whole.status.success(), "{}", text(&whole.stderr));
    for file in ["sweep.json", "sweep.csv", "sweep.svg", "sweep.png"] {
        let merged = fs::read(dir.join("sweep").join(file)).unwrap_or_else(|e| {
            panic!(
                "sweep/{file} ({e}); the merge job's log: {}",
                fs::read_to_string(dir.join(format!("slurm-{merge_job}.out"))).unwrap_or_default()
            )
        });
        assert_eq!(
            merged,
            fs::read(dir.join("sweep-whole").join(file)).unwrap(),
            "{file}"
        );
    }
    fs::remove_dir_all(dir).unwrap();
}

/// The README's Kubernetes Indexed Job is `deploy/kubernetes/sweep-job.yaml`, parses as YAML,
/// and runs one shard per completion index: `completionMode: Indexed`, as many completions as
/// shards, the index (plus one) as the shard.
#[test]
fn the_kubernetes_indexed_job_parses_and_its_shards_add_up() {
    let file = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/kubernetes/sweep-job.yaml"),
    )
    .unwrap();
    let in_readme = {
        let at = README
            .find("```yaml\napiVersion: batch/v1")
            .expect("the README's manifest");
        let body = &README[at + "```yaml\n".len()..];
        &body[..body.find("```").unwrap()]
    };
    assert!(
        file.ends_with(in_readme),
        "deploy/kubernetes/sweep-job.yaml has drifted from the README"
    );
    let docs = yaml_rust2::YamlLoader::load_from_str(&file).expect("valid YAML");
    let job = &docs[0];
    assert_eq!(job["kind"].as_str(), Some("Job"));
    assert_eq!(job["apiVersion"].as_str(), Some("batch/v1"));
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"].as_str(), Some("Indexed"));
    let completions = spec["completions"].as_i64().unwrap();
    assert_eq!(spec["parallelism"].as_i64(), Some(completions));
    let container = &spec["template"]["spec"]["containers"][0];
    let command = container["args"][0].as_str().unwrap();
    assert!(
        command.contains(&format!(
            "--shard $((JOB_COMPLETION_INDEX + 1))/{completions}"
        )),
        "{command}"
    );
    assert!(command.contains("--out /data/sweep-part-$((JOB_COMPLETION_INDEX + 1))"));
    // The command is one a shell accepts (no unbalanced quotes or parentheses).
    let out = Command::new("sh")
        .args(["-n", "-c", command])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
}
