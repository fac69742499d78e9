//! m4: an MCP server that lets clinical researchers query MIMIC-IV in DuckDB from
//! an LLM desktop client, plus the command line that sets it up.
//!
//! # Layout
//!
//! Each module owns one concern; the arrows are the only allowed dependencies.
//!
//! - [`cli`]: sub-commands (`serve`, `init`, `status`, `query`, `config`, `doctor`, `auth check`).
//!   The only module that prints to stdout outside the MCP transport.
//! - [`config`]: every `M4_*` environment variable and the typed settings parsed from them.
//! - [`server`]: the MCP handler and its tools → `query`, `format`, `datasets`, `auth`.
//! - [`query`]: opening DuckDB safely, checking a statement, running it within limits.
//! - [`format`]: query results → a text table and structured content.
//! - [`datasets`]: the data-set registry, download, loading and the synthetic generator.
//!   The only code that opens a database read-write.
//! - [`auth`]: OAuth2 access-token validation, the JWKS cache and the per-user rate limiter.
//! - [`client_config`]: writing m4's entry into MCP clients' configuration files.
//! - [`doctor`]: `m4 doctor` and `m4 --version`: checks of this install → `datasets`,
//!   `client_config`, `config`, `auth`. Reads only.
//!
//! `main.rs` parses the command line and calls [`run`]; errors travel up as typed
//! errors and become one message with its causes at the binary's edge.

pub mod auth;
pub mod cli;
pub mod client_config;
pub mod config;
pub mod datasets;
pub mod doctor;
pub mod format;
pub mod query;
pub mod server;

pub use cli::run;
