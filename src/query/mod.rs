//! Query execution and safety (in progress; see issue 3).
