//! Opening a data set's DuckDB file for serving.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use duckdb::{AccessMode, Config, Connection};

use super::QueryError;

/// A data set's database, opened read-only and locked down.
///
/// One DuckDB instance per file per process; each query runs on its own
/// connection cloned from it, so queries run side by side and one can be
/// interrupted without touching the others.
pub struct Database {
    path: PathBuf,
    root: std::sync::Mutex<Connection>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("path", &self.path)
            .finish()
    }
}

impl Database {
    /// Opens `path` read-only with external access, extension loading and
    /// configuration changes all switched off, and `memory_limit` applied.
    ///
    /// Read-only mode takes a shared lock, so any number of m4 processes (Claude
    /// Desktop starts several) can serve the same file at once.
    pub fn open_read_only(path: &Path, memory_limit: &str) -> Result<Arc<Database>, QueryError> {
        let open_error = |message: String| QueryError::Open {
            path: path.display().to_string(),
            message,
            hint: "run `m4 status` to check the data set, and `m4 init <dataset>` to (re)build it"
                .to_string(),
        };
        if !path.is_file() {
            return Err(open_error("the file does not exist".to_string()));
        }
        let config = Config::default()
            .access_mode(AccessMode::ReadOnly)
            .and_then(|c| c.enable_external_access(false))
            .and_then(|c| c.enable_autoload_extension(false))
            .and_then(|c| c.with("autoinstall_known_extensions", "false"))
            .and_then(|c| c.with("allow_community_extensions", "false"))
            .and_then(|c| c.max_memory(memory_limit))
            .and_then(|c| c.with("lock_configuration", "true"))
            .map_err(|e| open_error(e.to_string()))?;
        let connection =
            Connection::open_with_flags(path, config).map_err(|e| open_error(e.to_string()))?;
        Ok(Arc::new(Database {
            path: path.to_path_buf(),
            root: std::sync::Mutex::new(connection),
        }))
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A new connection to the same database instance.
    pub(crate) fn connect(&self) -> Result<Connection, QueryError> {
        // A std Mutex is right here: the critical section is a clone that never awaits.
        let root = self
            .root
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        root.try_clone().map_err(|e| QueryError::Internal {
            message: format!("could not open a connection: {e}"),
        })
    }
}
