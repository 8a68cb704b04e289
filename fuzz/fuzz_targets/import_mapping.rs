//! `import` on an arbitrary mapping and export: the input is split at the first NUL byte into
//! the mapping (TOML) and the raw CSV. Any result is fine but a panic; an import that succeeds
//! must write a stream that opens.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(split) = data.iter().position(|&b| b == 0) else {
        return;
    };
    let (mapping, raw) = (&data[..split], &data[split + 1..]);
    let dir = std::env::temp_dir().join(format!("crisis-sim-fuzz-import-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let (mapping_path, raw_path, output) =
        (dir.join("mapping.toml"), dir.join("raw.csv"), dir.join("calls.csv"));
    if std::fs::write(&mapping_path, mapping).is_err() || std::fs::write(&raw_path, raw).is_err() {
        return;
    }
    static SCENARIO: std::sync::OnceLock<crisis_sim::Scenario> = std::sync::OnceLock::new();
    let scenario = SCENARIO.get_or_init(crisis_sim::Scenario::default_scenario);
    let _ = std::fs::remove_file(&output);
    if crisis_sim::calls::import::import(&raw_path, &mapping_path, scenario, &output, false).is_ok() {
        crisis_sim::calls::stream::StreamFile::open(&output, scenario).expect("an imported stream opens");
    }
});
