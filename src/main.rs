//! The `m4` binary: parse the command line, run, and turn an error into one
//! message on stderr and exit status 2. Nothing else lives here.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = m4::cli::Cli::parse();
    match m4::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        // `m4 status | head -1`: the reader has all it wanted. Rust ignores SIGPIPE,
        // so the write fails instead of killing the process; end quietly (ripgrep does too).
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            // `{:#}` prints the whole cause chain on one line; hints are part of the message.
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// Whether `err` was caused by writing to a pipe whose reader has gone.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
