//! The MCP server (in progress; see issue 3).
