//! m4: an MCP server that lets clinical researchers query MIMIC-IV in DuckDB from
//! an LLM desktop client, plus the command line that sets it up.
//!
//! # Layout
//!
//! Each module owns one concern; the arrows are the only allowed dependencies.
//!
//! - [`cli`]: sub-commands (`serve`, `init`, `status`, `query`, `config`, `doctor`, `auth check|login`).
//!   Reads the environment once, builds the typed settings and hands them on; the
//!   only module that prints to stdout outside the MCP transport → everything.
//! - [`config`]: every `M4_*` environment variable and the typed settings parsed
//!   from them (`config::http`: the team server's `M4_HTTP_*`, `M4_AUDIT_*`).
//!   Depends on nothing else in m4.
//! - [`server`]: the MCP handler built from one `server::Config`, served over a
//!   transport given as an argument (`server::stdio`: stdin and stdout read and
//!   written on the event loop when they are pipes or sockets), or by `server::http` over streamable
//!   HTTP with per-request OAuth2 (the team server), and `server::audit`'s one
//!   JSON line per call → `datasets`, `engine`, `format`, `auth`, `config`.
//! - [`engine`]: the engine interface (catalog, check, run within limits, cancel),
//!   the checked-query type, the result builder every engine feeds typed cells to
//!   (it writes the table lines and the JSON rows in one pass), and the engines
//!   behind it: DuckDB, and BigQuery (`engine::bigquery`: REST over ureq, Google
//!   credentials, name rewriting, the dry-run gate) → `concepts` (the item
//!   search's DuckDB SQL) only.
//! - [`format`]: a query result → the reply's text (table plus notes, and what a
//!   billed-by-scan query cost) and structured content → `engine`'s types.
//! - [`datasets`]: the data-set registry, download, loading, the synthetic
//!   generator, and choosing and opening a data set's engine for a call
//!   (`datasets::Store`) → `engine`, `config`. The only code that opens a
//!   database read-write.
//! - [`concepts`]: the `mimiciv_derived` concept SQL by family, its dependency order and
//!   sources, the schema descriptions, `search_items`, and the primer and concept texts.
//!   Runs SQL on a connection `datasets` hands it; opens nothing itself → `datasets::schema`.
//! - [`auth`]: OAuth2 access-token validation (`authorize(bearer)` per call), the
//!   JWKS cache, the verified-token cache, the per-user rate limiter, client
//!   credentials and `m4 auth login`'s sign-in (device flow, or browser with PKCE) → `config`.
//! - [`client_config`]: writing m4's entry into MCP clients' configuration files,
//!   keeping the rest of the user's file as it was → `config`.
//! - [`doctor`]: `m4 doctor` and `m4 --version`: checks of this install (data sets,
//!   client entries, OAuth2 reachability, disk) → `datasets`, `client_config`,
//!   `config`, `auth`. Reads only.
//! - [`civil`]: days since 1970-01-01 → a calendar date, for every date m4 writes by
//!   hand. Depends on nothing.
//! - [`sync`]: locking a mutex whether or not a panicking thread poisoned it.
//!   Depends on nothing.
//!
//! `main.rs` parses the command line and calls [`run`]; errors travel up as typed
//! errors and become one message with its causes at the binary's edge.

pub mod auth;
pub mod civil;
pub mod cli;
pub mod client_config;
pub mod concepts;
pub mod config;
pub mod datasets;
pub mod doctor;
pub mod engine;
pub mod format;
pub mod server;
pub mod sync;

pub use cli::run;
