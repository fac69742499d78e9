//! Formatting query results (in progress; see issue 3).
