//! `crisis-sim serve`: starts the what-if explorer on a scenario and prints its address.

use std::io::Write;
use std::net::IpAddr;
use std::path::Path;

use crisis_sim::explorer::{Explorer, ServeError, ServeOptions};
use crisis_sim::scenario::{DEFAULT_SCENARIO_NAME, DEFAULT_SCENARIO_TOML};

use super::error::AppError;

pub fn serve(
    scenario: Option<&Path>,
    host: IpAddr,
    port: u16,
    stdout: &mut dyn Write,
) -> Result<(), AppError> {
    let (scenario_text, scenario_file) = match scenario {
        Some(path) => (
            std::fs::read_to_string(path).map_err(|source| {
                AppError::BadInput(format!("cannot read scenario {}: {source}", path.display()))
            })?,
            path.display().to_string(),
        ),
        None => (
            DEFAULT_SCENARIO_TOML.to_string(),
            DEFAULT_SCENARIO_NAME.to_string(),
        ),
    };
    if !host.is_loopback() {
        eprintln!(
            "warning: listening on {host}: any machine that can reach it can use the explorer, which has no login and runs simulations on request. Use --host only on a network you trust."
        );
    }
    let explorer = Explorer::bind(&ServeOptions {
        scenario_text,
        scenario_file,
        host,
        port,
    })
    .map_err(|e| match e {
        ServeError::Scenario(message) => AppError::BadInput(message),
        bind => AppError::BadInput(bind.to_string()),
    })?;
    let address = explorer
        .address()
        .map_or_else(|| format!("{host}:{port}"), |a| a.to_string());
    let _ = writeln!(stdout, "Explorer: http://{address}/");
    let _ = writeln!(
        stdout,
        "Open that address in a browser. Ctrl-C stops the explorer."
    );
    let _ = stdout.flush();
    explorer.run();
    Ok(())
}
