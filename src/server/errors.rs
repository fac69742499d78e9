//! The one place where a failed tool call becomes what the client sees.
//!
//! A tool that ran and did not work answers with a tool error (`isError: true`)
//! the model can read and act on; protocol errors are left to rmcp for requests
//! it cannot route. Errors the caller can fix are not logged as errors; internal
//! failures are logged in full and answered without internals.

use rmcp::model::{CallToolResult, ContentBlock};

use crate::auth::AuthError;
use crate::datasets::DatasetError;
use crate::query::QueryError;

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
    /// The data set exists in the registry but has no database yet.
    #[error(
        "Data set `{dataset}` is not initialised. Ask the user to run `m4 init {dataset}` in a terminal, or use list_datasets to pick an initialised one."
    )]
    NotInitialised { dataset: String },
    /// A blocking task died; nothing the caller can fix.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ToolError {
    /// The tool result for this error, logging internal failures.
    pub fn into_result(self, tool: &str) -> CallToolResult {
        let message = match &self {
            ToolError::Auth(error) => {
                tracing::warn!(tool, reason = %error, "call refused by OAuth2");
                error.to_string()
            }
            ToolError::Query(error) if error.is_user_error() => error.to_string(),
            ToolError::Query(error) => {
                tracing::error!(tool, error = %error, "query failed inside m4");
                format!("m4 could not run this: {error}")
            }
            ToolError::Dataset(error) => {
                tracing::error!(tool, error = %error, "data set failure");
                error.to_string()
            }
            ToolError::InvalidArgument(message) => message.clone(),
            ToolError::NotInitialised { .. } => self.to_string(),
            ToolError::Internal(message) => {
                tracing::error!(tool, error = %message, "internal failure");
                "m4 hit an internal error; the details are in its log (stderr).".to_string()
            }
        };
        CallToolResult::error(vec![ContentBlock::text(message)])
    }
}
