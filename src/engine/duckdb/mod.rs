//! The DuckDB engine: a data set's DuckDB file opened read-only and locked
//! down, its statement check, its streaming executor, its catalog and the
//! DuckDB-dialect SQL of the convenience tools. Reached only through
//! [`crate::engine::Engine`]; opens nothing read-write.
//!
//! # The wall
//! The statement check (`check`) is the courtesy: it explains a refusal
//! before anything runs. The engine is the wall, and holds on its own:
//! - DuckDB's own configuration, set before the instance opens and then locked
//!   (`lock_configuration`): read-only access mode, external access off (no file
//!   reads or writes, no `COPY`, no `ATTACH` of files), extension auto-install and
//!   auto-load off, community extensions off, a memory limit, a thread cap, and a
//!   cap on temporary disk in a spill folder of this process's own. `SET`,
//!   `INSTALL`, `LOAD`, `COPY ... TO`, `read_text('/etc/...')` and `ATTACH` of a
//!   file are refused by DuckDB itself (tested by running them past the check).
//! - What DuckDB allows on a read-only database is closed by the executor:
//!   temporary tables and macros (DuckDB's temp catalog stays writable) and
//!   `ATTACH ':memory:'`. The executor runs a text only after DuckDB's parser, on
//!   the session's own connection, found it to be exactly one SELECT-shaped
//!   statement calling only allowed table functions; so a `CREATE`, an `ATTACH`
//!   or a second statement never reaches `prepare` (which would run every
//!   statement but the last). A connection serves the next session only after
//!   a query that ended on its own (not stopped); a SELECT cannot leave state on
//!   it, since temp objects, `SET`, `PREPARE` and `ATTACH` never reach DuckDB.

mod catalog;
mod check;
mod execute;
mod sql;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ::duckdb::{AccessMode, Config, Connection};

use super::{
    Canceller, CheckedQuery, Engine, EngineId, ItemMatch, Limits, QueryError, QueryResult, Session,
    TableInfo, TableSummary, ToolQuery,
};
use crate::sync::lock;

pub use check::{ALLOWED_TABLE_FUNCTIONS, MAX_SQL_BYTES};

/// How a DuckDB file is opened for serving.
#[derive(Debug, Clone)]
pub struct Options {
    /// DuckDB's memory limit, in bytes.
    pub memory_limit: u64,
    /// Cap on temporary disk (spilled sorts, joins and aggregates), in bytes; 0 turns spilling off.
    pub max_temp_size: u64,
    /// Worker threads for one instance.
    pub threads: usize,
    /// Folder for spill files, private to this process: removed when the engine
    /// closes, and never a build's temporary name.
    pub spill_dir: PathBuf,
}

/// A data set's DuckDB database, opened read-only and locked down.
///
/// One DuckDB instance per file per process; each session runs on its own
/// connection cloned from it, so queries run side by side and one can be
/// interrupted without touching the others.
pub struct DuckDbEngine {
    id: EngineId,
    path: PathBuf,
    spill_dir: PathBuf,
    max_temp_size: u64,
    // A std Mutex is right here: the critical section is a clone that never awaits.
    root: Mutex<Option<Connection>>,
    /// Connections ready for the next session: cloning one costs a little, and
    /// each keeps the check's prepared statement. Those made at open also carry
    /// [`STREAMING_BUFFER_SIZE`], which no later clone can be given.
    idle: Arc<Mutex<Vec<Connection>>>,
}

/// DuckDB's `late_materialization_max_rows`. Past this many rows DuckDB (2.0)
/// answers a plain `SELECT * ... LIMIT n` by scanning every column of the whole
/// table and joining it back on the row ids of the first `n`: 1,000 rows of the
/// demo's `labevents` took 3.5 ms instead of 1.8, `LIMIT 100` on `admissions`
/// 3.8 instead of 1.7. Up to it, a LIMIT reads the rows where they are, and an
/// `ORDER BY ... LIMIT n` (top-N) keeps the late materialization that pays on
/// wide tables (measured on the demo and on `synthetic --scale 120`; DuckDB's
/// default is 50). Ten times the default row cap (`M4_MAX_ROWS`).
const LATE_MATERIALIZATION_MAX_ROWS: u64 = 10_000;

/// DuckDB's `streaming_buffer_size`: how much of a result DuckDB computes ahead
/// of the reader. m4 reads at most its row cap plus one, then drops the stream,
/// so everything past that was work for nothing: with DuckDB's 10 MiB, a
/// `SELECT * FROM labevents WHERE itemid = 50912` cut at 1,000 rows took 50 ms on
/// `synthetic --scale 120`, 8.5 ms with 1 MiB (`chartevents WHERE itemid = …`:
/// 30 → 5.5 ms; the demo's whole `labevents`: 9 → 3.6 ms). 1,000 rows of 16
/// columns are about 300 KB in DuckDB, so a full page still streams without a stall.
const STREAMING_BUFFER_SIZE: &str = "1MiB";

/// Idle connections kept per engine; more sessions at once clone new ones.
const MAX_IDLE_CONNECTIONS: usize = 8;

impl std::fmt::Debug for DuckDbEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DuckDbEngine")
            .field("id", &self.id)
            .field("path", &self.path)
            .finish()
    }
}

impl DuckDbEngine {
    /// Opens `path` read-only with external access, extension loading and
    /// configuration changes all switched off, within `options`' bounds.
    ///
    /// Read-only mode takes a shared lock, so any number of m4 processes (Claude
    /// Desktop starts several) can serve the same file at once.
    pub fn open(path: &Path, options: &Options) -> Result<DuckDbEngine, QueryError> {
        let open_error = |message: String| QueryError::Open {
            path: path.display().to_string(),
            message,
            hint: "run `m4 status` to check the data set, and `m4 init <dataset>` to (re)build it"
                .to_string(),
        };
        if !path.is_file() {
            return Err(open_error("the file does not exist".to_string()));
        }
        let spill = options.spill_dir.display().to_string();
        // The temp directory first: DuckDB refuses to change it once external
        // access is off. Its size cap is set after the instance is up, because
        // DuckDB (2.0) ignores `max_temp_directory_size` given at open time;
        // the configuration is locked only after that.
        let config = Config::default()
            .access_mode(AccessMode::ReadOnly)
            .and_then(|c| {
                if options.max_temp_size == 0 {
                    c.with("temp_directory", "")
                } else {
                    c.with("temp_directory", &spill)
                }
            })
            .and_then(|c| c.enable_external_access(false))
            .and_then(|c| c.enable_autoload_extension(false))
            .and_then(|c| c.with("autoinstall_known_extensions", "false"))
            .and_then(|c| c.with("allow_community_extensions", "false"))
            .and_then(|c| c.max_memory(&format!("{}B", options.memory_limit)))
            .and_then(|c| c.threads(options.threads.max(1) as i64))
            .and_then(|c| {
                c.with(
                    "late_materialization_max_rows",
                    LATE_MATERIALIZATION_MAX_ROWS.to_string(),
                )
            })
            .map_err(|e| open_error(e.to_string()))?;
        let connection =
            Connection::open_with_flags(path, config).map_err(|e| open_error(e.to_string()))?;
        connection
            .execute_batch(&format!(
                "SET max_temp_directory_size = '{}B';",
                options.max_temp_size
            ))
            .map_err(|e| open_error(e.to_string()))?;
        // The streaming buffer is a setting of each connection, which a clone does
        // not inherit and which the lock below then freezes: the pool's connections
        // are made and set now. A session past them (more at once, or after stopped
        // queries, whose connections are not reused) gets a plain clone, which
        // answers the same, only with DuckDB's larger buffer.
        let idle = (0..MAX_IDLE_CONNECTIONS)
            .map(|_| {
                let session = connection.try_clone()?;
                session.execute_batch(&format!(
                    "SET streaming_buffer_size = '{STREAMING_BUFFER_SIZE}';"
                ))?;
                Ok(session)
            })
            .collect::<Result<Vec<_>, ::duckdb::Error>>()
            .map_err(|e| open_error(e.to_string()))?;
        connection
            .execute_batch("SET lock_configuration = true;")
            .map_err(|e| open_error(e.to_string()))?;
        Ok(DuckDbEngine {
            id: EngineId::fresh(),
            path: path.to_path_buf(),
            spill_dir: options.spill_dir.clone(),
            max_temp_size: options.max_temp_size,
            root: Mutex::new(Some(connection)),
            idle: Arc::new(Mutex::new(idle)),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn connect(&self) -> Result<Connection, QueryError> {
        let root = lock(&self.root);
        let root = root.as_ref().ok_or_else(|| QueryError::Internal {
            message: "the database is closed".to_string(),
        })?;
        root.try_clone().map_err(|e| QueryError::Internal {
            message: format!("could not open a connection: {e}"),
        })
    }

    /// A session on an idle connection, or a new one.
    fn session(&self) -> Result<DuckDbSession, QueryError> {
        let idle = lock(&self.idle).pop();
        let connection = match idle {
            Some(connection) => connection,
            None => self.connect()?,
        };
        let interrupt = connection.interrupt_handle();
        Ok(DuckDbSession {
            engine: self.id,
            connection: Some(connection),
            canceller: Canceller::new(move || interrupt.interrupt()),
            checked: None,
            max_temp_size: self.max_temp_size,
            idle: Arc::clone(&self.idle),
        })
    }
}

impl Drop for DuckDbEngine {
    fn drop(&mut self) {
        // Close the instance first, so DuckDB lets go of its spill files.
        lock(&self.idle).clear();
        drop(lock(&self.root).take());
        if self.spill_dir.exists()
            && let Err(error) = std::fs::remove_dir_all(&self.spill_dir)
        {
            tracing::warn!(dir = %self.spill_dir.display(), %error, "could not remove the spill folder");
        }
    }
}

impl Engine for DuckDbEngine {
    fn id(&self) -> EngineId {
        self.id
    }

    fn dialect(&self) -> &'static str {
        "DuckDB"
    }

    fn tables(&self) -> Result<Vec<TableSummary>, QueryError> {
        catalog::tables(&self.connect()?)
    }

    fn table_info(&self, table: &TableSummary) -> Result<TableInfo, QueryError> {
        catalog::table_info(&self.connect()?, table)
    }

    fn tool_query(&self, query: ToolQuery<'_>) -> Result<CheckedQuery, QueryError> {
        let (sql, params) = sql::tool_query(query);
        Ok(CheckedQuery::new(self.id, sql, params))
    }

    fn begin(&self) -> Result<Box<dyn Session>, QueryError> {
        Ok(Box::new(self.session()?))
    }

    fn search_items(&self, query: &str, limit: usize) -> Result<Vec<ItemMatch>, QueryError> {
        crate::concepts::search_items(&self.connect()?, query, limit).map_err(|e| {
            QueryError::Internal {
                message: format!("search_items failed: {e}"),
            }
        })
    }
}

/// One query on its own connection.
struct DuckDbSession {
    engine: EngineId,
    /// `None` once handed back to the idle list.
    connection: Option<Connection>,
    canceller: Canceller,
    /// The text this session's check accepted, so the executor need not parse it again.
    checked: Option<String>,
    max_temp_size: u64,
    idle: Arc<Mutex<Vec<Connection>>>,
}

impl DuckDbSession {
    fn connection(&self) -> Result<&Connection, QueryError> {
        self.connection
            .as_ref()
            .ok_or_else(|| QueryError::Internal {
                message: "the session's connection was already released".to_string(),
            })
    }

    /// Hands the connection back for another session, unless the query was
    /// stopped (DuckDB's interrupt flag could then reach the next query).
    fn release(&mut self) {
        if let Some(connection) = self.connection.take()
            && self.canceller.retire()
        {
            let mut idle = lock(&self.idle);
            if idle.len() < MAX_IDLE_CONNECTIONS {
                idle.push(connection);
            }
        }
    }
}

impl Drop for DuckDbSession {
    fn drop(&mut self) {
        self.release();
    }
}

impl Session for DuckDbSession {
    fn canceller(&self) -> Canceller {
        self.canceller.clone()
    }

    fn check(&mut self, sql: &str) -> Result<CheckedQuery, QueryError> {
        check::check(self.connection()?, sql)?;
        self.checked = Some(sql.to_string());
        Ok(CheckedQuery::new(self.engine, sql.to_string(), Vec::new()))
    }

    fn execute(
        mut self: Box<Self>,
        query: &CheckedQuery,
        limits: &Limits,
    ) -> Result<QueryResult, QueryError> {
        if query.engine() != self.engine {
            return Err(QueryError::Internal {
                message: "a query checked by another engine was refused".to_string(),
            });
        }
        let connection = self.connection()?;
        // The executor is a wall of its own: whatever made this query, it runs
        // only one SELECT-shaped statement that DuckDB's parser has seen here.
        if self.checked.as_deref() != Some(query.sql()) {
            check::check(connection, query.sql())?;
        }
        let outcome = execute::collect(connection, query, limits, self.max_temp_size);
        self.release();
        outcome
    }
}

#[cfg(test)]
mod tests;
