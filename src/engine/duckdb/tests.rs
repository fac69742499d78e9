//! The wall, tested on its own: the database opened exactly as the server opens
//! it, and statements run *past* the statement check, straight into DuckDB.

use std::time::Duration;

use super::*;
use crate::engine::{Param, StopReason};

struct Fixture {
    _dir: tempfile::TempDir,
    engine: DuckDbEngine,
    file: PathBuf,
    spill_dir: PathBuf,
}

fn limits() -> Limits {
    Limits {
        max_rows: 1000,
        max_bytes: 1_000_000,
        timeout: Duration::from_secs(30),
    }
}

fn options(dir: &Path) -> Options {
    Options {
        memory_limit: 256 << 20,
        max_temp_size: 64 << 20,
        threads: 2,
        spill_dir: dir.join("spill"),
    }
}

fn fixture_with(options: impl FnOnce(&Path) -> Options) -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("t.duckdb");
    {
        let writer = Connection::open(&file).expect("create database");
        writer
            .execute_batch(
                "CREATE SCHEMA mimiciv_hosp;
                 CREATE TABLE mimiciv_hosp.patients (subject_id BIGINT, gender VARCHAR);
                 INSERT INTO mimiciv_hosp.patients VALUES (1, 'F'), (2, 'M');",
            )
            .expect("fill database");
    }
    let options = options(dir.path());
    let spill_dir = options.spill_dir.clone();
    let engine = DuckDbEngine::open(&file, &options).expect("open read-only");
    Fixture {
        _dir: dir,
        engine,
        file,
        spill_dir,
    }
}

fn fixture() -> Fixture {
    fixture_with(options)
}

/// Runs `sql` on a fresh session's connection with no check at all: neither the
/// session's check nor the executor's own guard.
fn past_every_check(engine: &DuckDbEngine, sql: &str) -> Result<QueryResult, QueryError> {
    let session = engine.session()?;
    let query = CheckedQuery::new(engine.id, sql.to_string(), Vec::new());
    let connection = session.connection()?;
    execute::collect(connection, &query, &limits(), engine.max_temp_size)
}

/// Runs `sql` through the executor (its own guard on), skipping the session's check.
fn through_executor(engine: &DuckDbEngine, sql: &str) -> Result<QueryResult, QueryError> {
    let session: Box<dyn Session> = Box::new(engine.session()?);
    let query = CheckedQuery::new(engine.id, sql.to_string(), Vec::new());
    session.run(&query, &limits())
}

fn file_digest(path: &Path) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(std::fs::read(path).expect("read database")).to_vec()
}

#[test]
fn duckdb_itself_refuses_settings_extensions_files_and_exports() {
    let fixture = fixture();
    let before = file_digest(&fixture.file);
    for sql in [
        "SET threads = 1",
        "SET memory_limit = '100GB'",
        "SET max_temp_directory_size = '1TB'",
        "SET enable_external_access = true",
        "INSTALL httpfs",
        "LOAD httpfs",
        "COPY (SELECT 1) TO 'x.csv'",
        "SELECT * FROM read_text('/etc/hostname')",
        "SELECT * FROM read_csv('/etc/passwd')",
        "ATTACH 'other.duckdb' AS other",
        "CREATE TABLE mimiciv_hosp.x AS SELECT 1",
        "INSERT INTO mimiciv_hosp.patients VALUES (3, 'F')",
    ] {
        let outcome = past_every_check(&fixture.engine, sql);
        assert!(
            matches!(outcome, Err(QueryError::Sql { .. })),
            "DuckDB ran `{sql}`: {outcome:?}"
        );
    }
    assert!(
        !Path::new("x.csv").exists(),
        "COPY wrote into the working directory"
    );
    drop(fixture.engine);
    assert_eq!(
        file_digest(&fixture.file),
        before,
        "the database file changed"
    );
}

/// What DuckDB allows on a read-only database (temp objects, in-memory attaches,
/// checkpoints) the executor refuses before `prepare`.
#[test]
fn the_executor_refuses_what_duckdb_would_allow() {
    let fixture = fixture();
    for sql in [
        "CREATE TEMP TABLE t AS SELECT 1",
        "CREATE TEMP MACRO m() AS 1",
        "ATTACH ':memory:' AS x",
        "SELECT * FROM force_checkpoint()",
        "SELECT * FROM checkpoint()",
        "CREATE TEMP TABLE t AS SELECT 1; SELECT 1",
    ] {
        let outcome = through_executor(&fixture.engine, sql);
        assert!(
            matches!(outcome, Err(QueryError::Rejected { .. })),
            "the executor ran `{sql}`: {outcome:?}"
        );
    }
}

/// S1: duckdb-rs `prepare` runs every statement but the last; the executor must
/// not let a prefix run even when the text reached it without the session's check.
#[test]
fn a_multi_statement_text_never_runs_its_prefix() {
    let fixture = fixture();
    // Had the prefix run, the last statement would find its macro and answer 42.
    let outcome = through_executor(
        &fixture.engine,
        "CREATE TEMP MACRO leaked() AS 42; SELECT leaked()",
    );
    assert!(
        matches!(outcome, Err(QueryError::Rejected { .. })),
        "{outcome:?}"
    );
}

#[test]
fn a_query_checked_by_another_engine_is_refused() {
    let first = fixture();
    let second = fixture();
    let mut session = first.engine.session().expect("session");
    let checked = session.check("SELECT 1").expect("check");
    let other: Box<dyn Session> = Box::new(second.engine.session().expect("session"));
    let outcome = other.run(&checked, &limits());
    assert!(
        matches!(outcome, Err(QueryError::Internal { .. })),
        "{outcome:?}"
    );
}

#[test]
fn tool_queries_bind_their_values() {
    let fixture = fixture();
    let table = fixture.engine.resolve_table("patients").expect("resolve");
    let query = fixture
        .engine
        .tool_query(ToolQuery::SampleRows {
            table: &table,
            limit: 1,
        })
        .expect("tool query");
    assert_eq!(query.params(), &[Param::Int(Some(1))]);
    let result = fixture
        .engine
        .begin()
        .expect("session")
        .run(&query, &limits());
    assert_eq!(result.expect("run").rows.len(), 1);
}

#[test]
fn a_deadline_interrupts_a_long_query_as_a_timeout() {
    let fixture = fixture();
    let mut session = fixture.engine.begin().expect("session");
    let query = session
        .check("SELECT count(*) FROM range(100000000000) a")
        .expect("check");
    let canceller = session.canceller();
    let limits = Limits {
        timeout: Duration::from_millis(200),
        ..limits()
    };
    let outcome = session.run(&query, &limits);
    assert!(
        matches!(outcome, Err(QueryError::Timeout { .. })),
        "{outcome:?}"
    );
    assert_eq!(canceller.reason(), Some(StopReason::TimedOut));
}

#[test]
fn a_cancellation_interrupts_a_long_query() {
    let fixture = fixture();
    let mut session = fixture.engine.begin().expect("session");
    let query = session
        .check("SELECT count(*) FROM range(100000000000) a")
        .expect("check");
    let canceller = session.canceller();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        canceller.cancel();
    });
    let outcome = session.run(&query, &limits());
    stopper.join().expect("stopper");
    assert!(matches!(outcome, Err(QueryError::Cancelled)), "{outcome:?}");
}

/// S3: a sort bigger than memory spills only up to the cap, in this process's
/// own folder, and the folder is gone once the engine closes.
#[test]
fn a_runaway_sort_stops_at_the_temp_cap_and_leaves_nothing() {
    let fixture = fixture_with(|dir| Options {
        memory_limit: 64 << 20,
        max_temp_size: 32 << 20,
        threads: 1,
        spill_dir: dir.join("spill"),
    });
    let mut session = fixture.engine.begin().expect("session");
    let query = session
        .check("SELECT range AS r, md5(range::VARCHAR) AS h FROM range(20000000) ORDER BY h")
        .expect("check");
    let outcome = session.run(&query, &limits());
    assert!(
        matches!(outcome, Err(QueryError::TempSpace { .. })),
        "{outcome:?}"
    );
    let message = outcome.unwrap_err().to_string();
    assert!(message.contains("M4_MAX_TEMP_SIZE"), "{message}");
    let spill_dir = fixture.spill_dir.clone();
    drop(fixture.engine);
    assert!(!spill_dir.exists(), "spill files were left behind");
}

/// A connection serves the next session only after a query that ended on its
/// own: one that was stopped may carry DuckDB's interrupt flag.
#[test]
fn only_connections_of_queries_that_ended_on_their_own_are_reused() {
    let fixture = fixture();
    let idle = || lock(&fixture.engine.idle).len();
    // The pool starts full (its connections are set before the lock).
    let full = MAX_IDLE_CONNECTIONS;
    assert_eq!(idle(), full);
    let mut session = fixture.engine.begin().expect("session");
    assert_eq!(idle(), full - 1, "an idle connection was taken");
    let query = session.check("SELECT 1").expect("check");
    session.run(&query, &limits()).expect("run");
    assert_eq!(idle(), full, "a query that ended on its own gave it back");
    let mut session = fixture.engine.begin().expect("session");
    assert_eq!(idle(), full - 1, "the idle connection was taken");
    let query = session
        .check("SELECT count(*) FROM range(1000000) a, range(1000000) b WHERE (a.range * b.range) % 7 = 3")
        .expect("check");
    let outcome = session.run(
        &query,
        &Limits {
            timeout: Duration::from_millis(100),
            ..limits()
        },
    );
    assert!(
        matches!(outcome, Err(QueryError::Timeout { .. })),
        "{outcome:?}"
    );
    assert_eq!(
        idle(),
        full - 1,
        "an interrupted connection went back to the pool"
    );
    // And a reused connection answers normally.
    let mut first = fixture.engine.begin().expect("session");
    let query = first.check("SELECT 41 + 1").expect("check");
    first.run(&query, &limits()).expect("run");
    let mut again = fixture.engine.begin().expect("session");
    let query = again.check("SELECT 42").expect("check");
    let result = again
        .run(&query, &limits())
        .expect("run on a reused connection");
    assert_eq!(result.rows[0][0], 42);
    assert!(result.table.contains("| 42 |"), "{}", result.table);
}

/// A plain LIMIT reads its rows where they are: no scan of the whole table joined
/// back on row ids (DuckDB's late materialization past 50 rows), which tripled
/// the time of `SELECT * ... LIMIT 1000`.
#[test]
fn a_plain_limit_is_not_joined_back_on_row_ids() {
    let f = fixture();
    let connection = f.engine.connect().expect("connect");
    let plan = |sql: &str| -> String {
        let mut statement = connection
            .prepare(&format!("EXPLAIN {sql}"))
            .expect("explain");
        statement
            .query_map([], |row| row.get::<_, String>(1))
            .expect("plan")
            .map(|line| line.expect("plan line"))
            .collect()
    };
    let limited = plan("SELECT * FROM mimiciv_hosp.patients LIMIT 1000");
    assert!(!limited.contains("SEMI"), "{limited}");
    // Top-N keeps it: it pays on wide tables.
    let top_n = plan("SELECT * FROM mimiciv_hosp.patients ORDER BY gender LIMIT 1000");
    assert!(top_n.contains("SEMI"), "{top_n}");
}

/// A query the row cap cuts short is computed only a little ahead of what is
/// read: DuckDB's 10 MiB default made `SELECT * FROM labevents WHERE itemid = …`
/// at `synthetic --scale 120` cost 50 ms for the 1,001 rows m4 reads.
#[test]
fn a_session_computes_a_streaming_result_only_a_little_ahead() {
    let f = fixture();
    let buffer = |session: &DuckDbSession| -> String {
        session
            .connection()
            .expect("connection")
            .query_row(
                "SELECT current_setting('streaming_buffer_size')",
                [],
                |row| row.get(0),
            )
            .expect("setting")
    };
    // As many sessions at once as the pool holds, each on a connection set so.
    let sessions: Vec<DuckDbSession> = (0..MAX_IDLE_CONNECTIONS)
        .map(|_| f.engine.session().expect("session"))
        .collect();
    for session in &sessions {
        assert_eq!(buffer(session), "1.0 MiB");
    }
    drop(sessions);
    // Handed back and taken again, they keep it.
    assert_eq!(buffer(&f.engine.session().expect("session")), "1.0 MiB");
}
