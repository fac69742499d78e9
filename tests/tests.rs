//! m4's integration tests: one binary, one module per area. They run the real `m4`
//! binary, as an MCP client or a user at a terminal would.

mod auth;
mod bigquery;
mod client_config;
mod common;
mod concepts;
mod csv_reader;
mod datasets;
mod doctor;
mod http;
mod install;
mod mcp;
mod safety;
mod synthetic_scale;
