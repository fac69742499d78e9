//! The `m4` binary: parse the command line, run, and turn an error into one
//! message on stderr and exit status 2. Nothing else lives here.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = m4::cli::Cli::parse();
    match m4::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // `{:#}` prints the whole cause chain on one line; hints are part of the message.
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
