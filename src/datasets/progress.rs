//! Progress on stderr: an indicatif bar when stderr is a terminal, plain lines
//! otherwise (logs, CI, an MCP client's log file). Never stdout: it is the MCP
//! protocol when `init` runs inside the server.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Reports the steps of one `init`.
pub(super) struct Progress {
    terminal: bool,
}

/// One step with a known size (bytes or items).
pub(super) struct Step {
    bar: Option<ProgressBar>,
}

impl Progress {
    pub(super) fn new() -> Progress {
        Progress {
            terminal: std::io::stderr().is_terminal(),
        }
    }

    /// A line of its own.
    pub(super) fn line(&self, message: &str) {
        eprintln!("{message}");
    }

    /// Starts a step of `total` bytes (a download). On a terminal the bar shows
    /// bytes and rate; otherwise only the caller's start and end lines appear.
    pub(super) fn bytes(&self, label: &str, total: Option<u64>, start: u64) -> Step {
        if !self.terminal {
            return Step { bar: None };
        }
        let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
        let template = if total.is_some() {
            "{msg:28} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}"
        } else {
            "{msg:28} {spinner} {bytes} {bytes_per_sec}"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(label.to_string());
        bar.set_position(start);
        Step { bar: Some(bar) }
    }

    /// Starts an open-ended step (loading one table): a spinner on a terminal.
    pub(super) fn spinner(&self, label: &str) -> Step {
        if !self.terminal {
            return Step { bar: None };
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} {elapsed}") {
            bar.set_style(style);
        }
        bar.set_message(label.to_string());
        bar.enable_steady_tick(Duration::from_millis(200));
        Step { bar: Some(bar) }
    }
}

impl Step {
    pub(super) fn inc(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }

    /// Ends the step, leaving nothing behind on the terminal (the caller prints the
    /// outcome as a line, the same on and off a terminal).
    pub(super) fn finish(self) {
        drop(self);
    }
}

impl Drop for Step {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
