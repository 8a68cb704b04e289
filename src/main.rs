//! The `crisis-sim` binary: parses arguments and calls the library, through the [`cli`]
//! module. Nothing else lives here.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
