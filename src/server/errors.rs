//! The one place where a failed tool call becomes what the client sees.
//!
//! A tool that ran and did not work answers with a tool error (`isError: true`)
//! the model can read and act on; protocol errors are left to rmcp for requests
//! it cannot route. Who can act on an error is decided by an exhaustive match
//! ([`ToolError::disposition`]): errors the caller can fix are answered in full
//! and logged at `info`; set-up problems are answered with what to do; internal
//! failures are logged in full under a short reference and answered with the
//! reference only, never with paths or engine internals.

use rmcp::model::{CallToolResult, ContentBlock};

use crate::auth::AuthError;
use crate::datasets::DatasetError;
use crate::engine::{Disposition, QueryError};

/// Why a tool call failed.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    /// An argument outside what the tool accepts.
    #[error("{0}")]
    InvalidArgument(String),
    /// A blocking task died; nothing the caller can fix.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ToolError {
    /// Who can act on this error.
    pub fn disposition(&self) -> Disposition {
        match self {
            // A refusal the user fixes with a new token or by waiting; answered in full.
            ToolError::Auth(_) => Disposition::User,
            ToolError::Query(error) => error.disposition(),
            ToolError::Dataset(error) => error.disposition(),
            ToolError::InvalidArgument(_) => Disposition::User,
            ToolError::Internal(_) => Disposition::Internal,
        }
    }

    /// The tool result for this error, with the one log line for the failed call.
    pub fn into_result(self, tool: &str, user: &str, elapsed_ms: f64) -> CallToolResult {
        let message = match self.disposition() {
            Disposition::User => {
                if let ToolError::Auth(_) = &self {
                    tracing::warn!(tool, user, elapsed_ms, reason = %self, "call refused by OAuth2");
                } else {
                    tracing::info!(tool, user, elapsed_ms, error = %self, "tool call failed");
                }
                self.to_string()
            }
            Disposition::Setup => {
                let reference = log_reference();
                tracing::error!(tool, user, elapsed_ms, reference, error = %self, "tool call failed: data set problem");
                format!(
                    "m4 could not open or build the data set (log reference {reference}). Ask the user to run `m4 status` in a terminal to see what is wrong, then `m4 init <dataset>` to rebuild it."
                )
            }
            Disposition::Internal => {
                let reference = log_reference();
                tracing::error!(tool, user, elapsed_ms, reference, error = %self, "tool call failed inside m4");
                format!(
                    "m4 hit an internal error (log reference {reference}); the details are in m4's log (stderr)."
                )
            }
        };
        CallToolResult::error(vec![ContentBlock::text(message)])
    }
}

/// A short reference that ties an answer to its log line.
fn log_reference() -> String {
    format!("{:08x}", rand::random::<u32>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(result: &CallToolResult) -> String {
        serde_json::to_value(result).expect("serialise")["content"][0]["text"]
            .as_str()
            .expect("text")
            .to_string()
    }

    #[test]
    fn internal_errors_are_answered_without_internals() {
        let error = ToolError::Query(QueryError::Internal {
            message: "catalog query failed at /home/someone/data/x.duckdb".into(),
        });
        let answer = text(&error.into_result("t", "local", 1.0));
        assert!(!answer.contains("/home/someone"), "{answer}");
        assert!(answer.contains("log reference"), "{answer}");
    }

    #[test]
    fn a_database_that_will_not_open_is_answered_without_its_path() {
        let error = ToolError::Query(QueryError::Open {
            path: "/home/someone/data/x.duckdb".into(),
            message: "corrupt".into(),
            hint: "rebuild".into(),
        });
        let answer = text(&error.into_result("t", "local", 1.0));
        assert!(!answer.contains("/home/someone"), "{answer}");
        assert!(answer.contains("m4 status"), "{answer}");
    }

    #[test]
    fn user_errors_are_answered_in_full() {
        let error = ToolError::Query(QueryError::Rejected {
            reason: "found `INSERT`".into(),
        });
        let answer = text(&error.into_result("t", "local", 1.0));
        assert!(answer.contains("found `INSERT`"), "{answer}");
    }
}
