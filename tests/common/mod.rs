//! Helpers shared by the integration tests that drive the real binary.
#![allow(dead_code)] // each test crate uses a different subset

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const DEFAULT: &str = include_str!("../../scenarios/default.toml");

pub fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_crisis-sim"))
}

pub fn crisis_sim(args: &[&str]) -> Output {
    binary().args(args).output().expect("the binary runs")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("crisis-sim-test-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// The default scenario shortened to `days`, so debug-build tests stay quick.
pub fn short_scenario(dir: &Path, days: u32) -> PathBuf {
    let path = dir.join("short.toml");
    let text = DEFAULT.replacen("horizon_days = 372", &format!("horizon_days = {days}"), 1);
    fs::write(&path, text).unwrap();
    path
}

pub fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}
