//! Deciding whether a text is exactly one read-only query, with DuckDB's parser.
//!
//! DuckDB's `json_serialize_sql` parses the text with the same parser that would
//! run it and serialises only SELECT-shaped statements (SELECT, WITH ... SELECT,
//! VALUES, FROM-first, DESCRIBE/SHOW/SUMMARIZE, PIVOT, which DuckDB rewrites into
//! selects). Anything else — INSERT, COPY, ATTACH, SET, INSTALL, PRAGMA, CREATE —
//! comes back as an error, and several statements come back as a list longer
//! than one. Comments and string literals are handled by the parser, so
//! `-- drop table` or `'delete'` in a literal never cause a false rejection, and
//! a column named `administration_type` is just a column.
//!
//! A SELECT can still call a table function, and some table functions act or
//! reveal: `checkpoint()`/`force_checkpoint()` (on this read-only file DuckDB
//! 2.0 answers them at once and a running query carries on, measured; on a
//! writable or future build FORCE waits for every other transaction),
//! `query('...')` runs text the check never saw, `duckdb_settings()` shows local
//! paths. The parsed tree is walked and table functions are allowed from a list
//! ([`ALLOWED_TABLE_FUNCTIONS`]): DuckDB adds table functions with every release
//! (logging switches, secrets listings), and an allow-list keeps a new one out
//! until someone has read it.

use duckdb::Connection;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;

use crate::engine::QueryError;

/// The longest SQL text accepted; a query an LLM writes is a few KB at most.
pub const MAX_SQL_BYTES: usize = 100_000;

/// Table functions a query may call: generators, unnesting and JSON helpers, and
/// the catalog views over this database. Everything else is refused by name.
pub const ALLOWED_TABLE_FUNCTIONS: &[&str] = &[
    "range",
    "generate_series",
    "unnest",
    "repeat",
    "json_each",
    "json_tree",
    "duckdb_tables",
    "duckdb_columns",
    "duckdb_views",
    "duckdb_schemas",
    "duckdb_types",
    "duckdb_functions",
    "duckdb_constraints",
    "duckdb_indexes",
    "duckdb_keywords",
    "pragma_table_info",
    "pragma_show",
];

/// What `json_serialize_sql` returns.
#[derive(Debug, Deserialize)]
struct Serialized {
    error: bool,
    #[serde(default)]
    error_type: Option<String>,
    #[serde(default)]
    error_message: Option<String>,
    /// Counted here; walked (as [`Value`]s) only when one may call a table function.
    #[serde(default)]
    statements: Vec<IgnoredAny>,
}

/// Checks that `sql` is exactly one read-only query calling only allowed table
/// functions, with the parser of `connection`'s DuckDB.
pub(super) fn check(connection: &Connection, sql: &str) -> Result<(), QueryError> {
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
    // Prepared once per connection: planning this statement costs more than the
    // parse it runs, and pooled connections keep it.
    let serialized: String = connection
        .prepare_cached("SELECT json_serialize_sql(?::VARCHAR)")
        .and_then(|mut statement| statement.query_row([sql], |row| row.get(0)))
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
        if is_automatic_pivot(sql) {
            return reject(
                "a PIVOT without `IN` (DuckDB turns it into two statements). List the values: `PIVOT t ON col IN ('a', 'b') USING count(*)`".to_string(),
            );
        }
        return reject(format!("found {}", describe_statement(sql)));
    }
    match parsed.statements.len() {
        1 => {}
        0 => return reject("the text contains no statement".to_string()),
        many => return reject(format!("found {many} statements; send them one at a time")),
    }
    // A table function is a node `"type":"TABLE_FUNCTION"`, and the parser writes
    // that string as is: without it there is none, and most queries need no walk
    // of their tree (a `Value` per node).
    if !serialized.contains("\"TABLE_FUNCTION\"") {
        return Ok(());
    }
    let tree: Value = serde_json::from_str(&serialized).map_err(|e| QueryError::Internal {
        message: format!("unexpected parser output: {e}"),
    })?;
    let mut functions = Vec::new();
    table_functions(&tree["statements"][0], &mut functions);
    if let Some(refused) = functions
        .iter()
        .find(|name| !ALLOWED_TABLE_FUNCTIONS.contains(&name.as_str()))
    {
        return reject(format!(
            "the table function `{}` is not available in m4 (allowed: {})",
            sanitised(refused),
            ALLOWED_TABLE_FUNCTIONS.join(", ")
        ));
    }
    Ok(())
}

/// Collects the lower-cased names of every table function in a serialised statement.
fn table_functions(node: &Value, found: &mut Vec<String>) {
    match node {
        Value::Object(map) => {
            if map.get("type").and_then(Value::as_str) == Some("TABLE_FUNCTION")
                && let Some(name) = map
                    .get("function")
                    .and_then(|f| f.get("function_name"))
                    .and_then(Value::as_str)
            {
                found.push(name.to_ascii_lowercase());
            }
            for value in map.values() {
                table_functions(value, found);
            }
        }
        Value::Array(items) => {
            for item in items {
                table_functions(item, found);
            }
        }
        _ => {}
    }
}

/// A name from the request, cut and stripped for a message.
fn sanitised(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(64)
        .collect()
}

fn is_automatic_pivot(sql: &str) -> bool {
    let upper = sql.to_ascii_uppercase();
    upper.contains("PIVOT") && !upper.contains(" IN ") && !upper.contains(" IN(")
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
        .take(32)
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
        "PIVOT",
        "UNPIVOT",
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
        "SELECT * FROM generate_series(1, 3), unnest([1, 2])",
        "SELECT 'force_checkpoint()' AS not_a_call",
    ];
    const STATEMENTS: &[&str] = &[
        "SELECT 2",
        "DROP TABLE t",
        "COPY (SELECT 1) TO 'x.csv'",
        "ATTACH 'x.db'",
        "SET threads = 1",
        "INSTALL httpfs",
        "PRAGMA version",
        "CREATE TEMP TABLE t AS SELECT 1",
    ];

    #[test]
    fn accepts_one_query_in_any_form() {
        for sql in QUERIES {
            assert!(check(&connection(), sql).is_ok(), "{sql}");
        }
    }

    #[test]
    fn a_syntax_error_keeps_duckdbs_message() {
        let error = check(&connection(), "selec 1").unwrap_err();
        assert!(matches!(error, QueryError::Sql { .. }), "{error}");
        assert!(error.to_string().contains("selec"), "{error}");
    }

    /// S2: table functions that act are refused wherever they hide in the query.
    #[test]
    fn refuses_table_functions_outside_the_allow_list() {
        for sql in [
            "SELECT * FROM force_checkpoint()",
            "SELECT * FROM checkpoint()",
            "SELECT * FROM main.force_checkpoint()",
            "SELECT (SELECT count(*) FROM checkpoint())",
            "WITH c AS (SELECT * FROM FORCE_CHECKPOINT()) SELECT * FROM c",
            "SELECT * FROM range(2) WHERE EXISTS (SELECT * FROM query('SELECT 1'))",
            "SELECT * FROM duckdb_settings()",
        ] {
            let error = check(&connection(), sql).unwrap_err();
            assert!(
                matches!(&error, QueryError::Rejected { reason } if reason.contains("table function")),
                "{sql}: {error}"
            );
        }
    }

    #[test]
    fn an_automatic_pivot_gets_a_hint() {
        let error = check(&connection(), "PIVOT range(3) ON range USING count(*)")
            .unwrap_err()
            .to_string();
        assert!(error.contains("IN ("), "{error}");
    }

    #[test]
    fn refuses_oversized_and_nul_texts() {
        let long = format!("SELECT 1 -- {}", "x".repeat(MAX_SQL_BYTES));
        assert!(matches!(
            check(&connection(), &long),
            Err(QueryError::Rejected { .. })
        ));
        assert!(matches!(
            check(&connection(), "SELECT 1\0; DROP TABLE t"),
            Err(QueryError::Rejected { .. })
        ));
    }

    proptest! {
        #[test]
        fn never_panics_on_any_text(text in ".{0,200}") {
            let _ = check(&connection(), &text);
        }

        #[test]
        fn never_panics_on_deep_nesting(depth in 1usize..400) {
            let sql = format!("SELECT {}1{}", "(".repeat(depth), ")".repeat(depth));
            let _ = check(&connection(), &sql);
        }

        #[test]
        fn rejects_anything_with_a_second_statement(
            first in proptest::sample::select(QUERIES),
            second in proptest::sample::select(STATEMENTS),
            separator in "[ \n]{0,3};[ \n]{0,3}",
            tail in proptest::sample::select(&["", " -- x", " /* ; */"][..]),
        ) {
            let sql = format!("{first}\n{separator}{second}{tail}");
            let outcome = check(&connection(), &sql);
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
