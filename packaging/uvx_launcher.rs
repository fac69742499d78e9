//! `m4-duckdb`: runs the `m4` binary installed beside it with the same arguments.
//!
//! It exists for `uvx m4-duckdb ...` (and the MCP registry's PyPI entry, which clients
//! turn into that command): uvx runs the executable named like the PyPI package, and
//! m4's is `m4`. It owns nothing else and links no m4 code, so the wheel grows by a few
//! hundred kilobytes only. On Unix it replaces itself with m4 (`exec`), so m4 sees the
//! client's stdio directly; on Windows it waits for m4 and returns its exit status.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let m4 = match std::env::current_exe() {
        Ok(exe) => exe.with_file_name(if cfg!(windows) { "m4.exe" } else { "m4" }),
        Err(e) => {
            eprintln!(
                "error: m4-duckdb could not find its own path ({e})\n\nhint: run `m4` directly"
            );
            return ExitCode::from(127);
        }
    };
    let mut command = Command::new(&m4);
    command.args(std::env::args_os().skip(1));
    run(command, m4)
}

#[cfg(unix)]
fn run(mut command: Command, m4: PathBuf) -> ExitCode {
    use std::os::unix::process::CommandExt;
    let err = command.exec();
    eprintln!(
        "error: m4-duckdb could not start `{}` ({err})\n\nhint: reinstall with `uv tool install --force m4-duckdb`",
        m4.display()
    );
    ExitCode::from(127)
}

#[cfg(not(unix))]
fn run(mut command: Command, m4: PathBuf) -> ExitCode {
    match command.status() {
        Ok(status) => ExitCode::from(status.code().unwrap_or(1).clamp(0, 255) as u8),
        Err(err) => {
            eprintln!(
                "error: m4-duckdb could not start `{}` ({err})\n\nhint: reinstall with `uv tool install --force m4-duckdb`",
                m4.display()
            );
            ExitCode::from(127)
        }
    }
}
