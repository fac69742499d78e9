//! Deciding whether a text is exactly one read-only query, with DuckDB's parser.
//!
//! DuckDB's `json_serialize_sql` parses the text with the same parser that would
//! run it and serialises only SELECT-shaped statements (SELECT, WITH ... SELECT,
//! VALUES, FROM-first, DESCRIBE/SHOW/SUMMARIZE, which DuckDB rewrites into
//! selects). Anything else — INSERT, COPY, ATTACH, SET, INSTALL, PRAGMA, CREATE —
//! comes back as an error, and several statements come back as a list longer
//! than one. Comments and string literals are handled by the parser, so
//! `-- drop table` or `'delete'` in a literal never cause a false rejection, and
//! a column named `administration_type` is just a column.

use duckdb::Connection;
use serde::Deserialize;

use super::QueryError;

/// The longest SQL text accepted; a query an LLM writes is a few KB at most.
pub const MAX_SQL_BYTES: usize = 100_000;

/// A statement that passed [`super::QueryRun::check`], or SQL that m4 itself wrote.
/// The executor accepts nothing else.
#[derive(Debug, Clone)]
pub struct CheckedQuery {
    sql: String,
}

impl CheckedQuery {
    /// m4's own fixed SQL (values go in as bound parameters). Only a `'static`
    /// string is accepted so that text from a request can never arrive here.
    pub fn fixed(sql: &'static str) -> CheckedQuery {
        CheckedQuery {
            sql: sql.to_string(),
        }
    }

    /// SQL that m4 assembled from catalog identifiers (see `catalog`).
    pub(crate) fn from_catalog(sql: String) -> CheckedQuery {
        CheckedQuery { sql }
    }

    /// The SQL text.
    pub fn sql(&self) -> &str {
        &self.sql
    }
}

/// What `json_serialize_sql` returns.
#[derive(Debug, Deserialize)]
struct Serialized {
    error: bool,
    #[serde(default)]
    error_type: Option<String>,
    #[serde(default)]
    error_message: Option<String>,
    #[serde(default)]
    statements: Vec<serde_json::Value>,
}

pub(crate) fn check_with(connection: &Connection, sql: &str) -> Result<CheckedQuery, QueryError> {
    let reject = |reason: String| Err(QueryError::Rejected { reason });
    if sql.trim().is_empty() {
        return reject("the query is empty".to_string());
    }
    if sql.len() > MAX_SQL_BYTES {
        return reject(format!(
            "the query is {} bytes long, over the {MAX_SQL_BYTES}-byte limit",
            sql.len()
        ));
    }
    if sql.contains('\0') {
        return reject("the query contains a NUL character".to_string());
    }
    let serialized: String = connection
        .query_row("SELECT json_serialize_sql(?::VARCHAR)", [sql], |row| {
            row.get(0)
        })
        .map_err(|e| QueryError::Internal {
            message: format!("the SQL parser failed: {e}"),
        })?;
    let parsed: Serialized =
        serde_json::from_str(&serialized).map_err(|e| QueryError::Internal {
            message: format!("unexpected parser output: {e}"),
        })?;
    if parsed.error {
        let message = parsed.error_message.unwrap_or_default();
        // A syntax error is DuckDB's to explain; anything else that fails to
        // serialise is a statement that is not a query.
        if parsed.error_type.as_deref() == Some("parser") {
            return Err(QueryError::Sql { message });
        }
        return reject(format!("found {}", describe_statement(sql)));
    }
    match parsed.statements.len() {
        1 => Ok(CheckedQuery {
            sql: sql.to_string(),
        }),
        0 => reject("the text contains no statement".to_string()),
        n => reject(format!("found {n} statements; send them one at a time")),
    }
}

/// Names the kind of statement for the rejection message: the first keyword,
/// skipping comments, as a hint only (the decision was the parser's).
fn describe_statement(sql: &str) -> String {
    let mut rest = sql.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix("--") {
            rest = after
                .split_once('\n')
                .map_or("", |(_, tail)| tail)
                .trim_start();
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after
                .split_once("*/")
                .map_or("", |(_, tail)| tail)
                .trim_start();
        } else {
            break;
        }
    }
    let keyword: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect::<String>()
        .to_ascii_uppercase();
    const QUERY_STARTS: &[&str] = &[
        "SELECT",
        "WITH",
        "FROM",
        "VALUES",
        "DESCRIBE",
        "SHOW",
        "SUMMARIZE",
        "TABLE",
    ];
    if keyword.is_empty() {
        "a statement that is not a query".to_string()
    } else if QUERY_STARTS.contains(&keyword.as_str()) {
        // The first statement is a query, so the offender comes after a `;`.
        "a second statement that is not a read-only query".to_string()
    } else {
        format!("`{keyword}`, which is not a read-only query")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn connection() -> Connection {
        Connection::open_in_memory().expect("in-memory DuckDB")
    }

    const QUERIES: &[&str] = &[
        "SELECT 1",
        "select 'a;b' as x -- ; drop",
        "WITH t AS (SELECT 2) SELECT * FROM t",
        "VALUES (1)",
        "FROM range(3)",
        "/* ; */ SELECT 3",
    ];
    const STATEMENTS: &[&str] = &[
        "SELECT 2",
        "DROP TABLE t",
        "COPY (SELECT 1) TO 'x.csv'",
        "ATTACH 'x.db'",
        "SET threads = 1",
        "INSTALL httpfs",
        "PRAGMA version",
    ];

    #[test]
    fn accepts_one_query_in_any_form() {
        for sql in QUERIES {
            assert!(check_with(&connection(), sql).is_ok(), "{sql}");
        }
    }

    #[test]
    fn a_syntax_error_keeps_duckdbs_message() {
        let error = check_with(&connection(), "selec 1").unwrap_err();
        assert!(matches!(error, QueryError::Sql { .. }), "{error}");
        assert!(error.to_string().contains("selec"), "{error}");
    }

    proptest! {
        #[test]
        fn never_panics_on_any_text(text in ".{0,200}") {
            let _ = check_with(&connection(), &text);
        }

        #[test]
        fn rejects_anything_with_a_second_statement(
            first in proptest::sample::select(QUERIES),
            second in proptest::sample::select(STATEMENTS),
            separator in "[ \n]{0,3};[ \n]{0,3}",
        ) {
            let sql = format!("{first}\n{separator}{second}");
            let outcome = check_with(&connection(), &sql);
            prop_assert!(matches!(outcome, Err(QueryError::Rejected { .. })), "{}: {:?}", sql, outcome);
        }
    }

    #[test]
    fn names_the_first_keyword_after_comments() {
        assert_eq!(
            describe_statement("/* x */ -- y\n insert into t values (1)"),
            "`INSERT`, which is not a read-only query"
        );
        assert_eq!(describe_statement("  "), "a statement that is not a query");
        assert_eq!(
            describe_statement("SELECT 1 /* ; */ ; DELETE FROM t"),
            "a second statement that is not a read-only query"
        );
    }
}
