//! Loading csv.gz files laid out as PhysioNet lays them out (`<root>/hosp/*.csv.gz`,
//! `<root>/icu/*.csv.gz`, optional `<root>/SHA256SUMS.txt`) into a DuckDB file.
//!
//! Everything that can be checked cheaply is checked before DuckDB is opened
//! (checksums, every header against the DDL). The database is built in a unique
//! build folder beside the real one (`.<name>.build-XXXXXX/<name>.duckdb`, see
//! `lock`), checkpointed, closed and only then renamed over `<name>.duckdb`, so a
//! failure at any point leaves an earlier good database as it was and removes the
//! build folder with its WAL and spill files. The caller holds the data set's build
//! lock. Tables are materialised (not views over the files): the server opens the
//! database read-only with external access off. Downloading and generating files
//! are `download`'s and `synthetic`'s jobs.

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::Instant;

use duckdb::{Config, Connection};
use flate2::read::MultiGzDecoder;

use super::checksum;
use super::lock::build_dir;
use super::progress::Progress;
use super::schema::{self, Column, HeaderMismatch, Table};
use super::{DatasetError, DatasetSpec, LoadedTable, database_path};

/// Memory the build connection may use: a full MIMIC-IV load must not exhaust the
/// machine; DuckDB spills to disk beyond it.
const BUILD_MEMORY_LIMIT: &str = "4GB";

const SOURCE_MISMATCH_HINT: &str = "the file is corrupt or incomplete; replace it with a fresh copy from PhysioNet (or delete it to load without that table), then rerun `m4 init`";

/// Where the files are and whether to check them against `SHA256SUMS.txt`.
pub(super) struct Source<'a> {
    pub root: &'a Path,
    /// Recorded in `m4_meta.dataset.source` and shown by `m4 status`.
    pub description: String,
    pub verify: bool,
    /// Build the `mimiciv_derived` concepts after the tables (`m4 init --no-derived` skips it).
    pub derived: bool,
    /// How the generator made the files, for the synthetic set: kept in `m4_meta.synthetic`.
    pub generated: Option<Generated>,
}

/// The synthetic generator's settings for one build, as `m4 status` reports them.
#[derive(Debug, Clone, Copy)]
pub(super) struct Generated {
    pub scale: f64,
    pub patients: u64,
    pub seed: u64,
}

/// What a build produced.
pub(super) struct Outcome {
    pub source: String,
    pub tables: Vec<LoadedTable>,
    pub missing: Vec<String>,
    /// `None` when the concepts were not asked for.
    pub derived: Option<crate::concepts::DerivedSummary>,
}

/// A table whose file is present, with its header mapped to the DDL.
struct PlannedTable {
    table: &'static Table,
    file: PathBuf,
    /// DDL columns in the file's column order.
    columns: Vec<&'static Column>,
}

/// Loads every registry table found under `source.root` into `<data_dir>/<name>.duckdb`.
pub(super) fn build(
    data_dir: &Path,
    spec: &DatasetSpec,
    source: &Source<'_>,
    progress: &Progress,
) -> Result<Outcome, DatasetError> {
    let (present, missing) = find_files(source.root);
    if present.is_empty() {
        return Err(DatasetError::NoTables {
            path: source.root.to_path_buf(),
        });
    }
    if source.verify {
        verify(source.root, &present, progress)?;
    }
    let planned = present
        .into_iter()
        .map(|(table, file)| {
            let header = read_header(&file)?;
            let columns = schema::match_header(table, &header)
                .map_err(|mismatch| header_error(table, &file, mismatch))?;
            Ok(PlannedTable {
                table,
                file,
                columns,
            })
        })
        .collect::<Result<Vec<_>, DatasetError>>()?;
    for table in &missing {
        progress.line(&format!(
            "missing: no {} in `{}`; `{}` will not be loaded",
            table.relative_path(),
            source.root.display(),
            table.qualified_name()
        ));
    }

    let target = database_path(data_dir, spec);
    let temp = TempDatabase::new(data_dir, spec)?;
    let (loaded, derived) = write_database(&temp.path, spec, source, &planned, &missing, progress)?;
    temp.commit(&target)?;
    Ok(Outcome {
        source: source.description.clone(),
        tables: loaded,
        missing: missing.iter().map(|t| t.qualified_name()).collect(),
        derived,
    })
}

/// Splits the registry into tables with a file under `root` (`.csv.gz`, or an
/// uncompressed `.csv`) and tables without.
fn find_files(root: &Path) -> (Vec<(&'static Table, PathBuf)>, Vec<&'static Table>) {
    let mut present = Vec::new();
    let mut missing = Vec::new();
    for table in schema::tables() {
        let gz = root.join(table.relative_path());
        let plain = root.join(table.module).join(format!("{}.csv", table.name));
        if gz.is_file() {
            present.push((table, gz));
        } else if plain.is_file() {
            present.push((table, plain));
        } else {
            missing.push(table);
        }
    }
    (present, missing)
}

/// Checks every present file listed in `<root>/SHA256SUMS.txt`, when there is one.
fn verify(
    root: &Path,
    present: &[(&'static Table, PathBuf)],
    progress: &Progress,
) -> Result<(), DatasetError> {
    let list = root.join("SHA256SUMS.txt");
    if !list.is_file() {
        progress.line(&format!(
            "no SHA256SUMS.txt in `{}`: files are loaded without checksum verification",
            root.display()
        ));
        return Ok(());
    }
    let text = fs::read_to_string(&list).map_err(|e| DatasetError::io("read", &list, e))?;
    let sums = checksum::parse(&text).map_err(|line| DatasetError::ChecksumList {
        file: list.display().to_string(),
        line,
    })?;
    let started = Instant::now();
    let mut verified = 0;
    for (table, file) in present {
        let relative = file
            .strip_prefix(root)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_else(|_| table.relative_path());
        let Some(expected) = sums.get(&relative) else {
            progress.line(&format!(
                "warning: `{relative}` is not listed in SHA256SUMS.txt; loading it unverified"
            ));
            continue;
        };
        let step = progress.spinner(&format!("verifying {relative}"));
        let actual = checksum::sha256_file(file).map_err(|e| DatasetError::io("read", file, e))?;
        step.finish();
        if &actual != expected {
            return Err(DatasetError::ChecksumMismatch {
                file: file.clone(),
                expected: expected.clone(),
                actual,
                hint: SOURCE_MISMATCH_HINT,
            });
        }
        verified += 1;
    }
    progress.line(&format!(
        "verified {verified} files against SHA256SUMS.txt ({:.1} s)",
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// The header line of a csv or csv.gz file, split into names.
fn read_header(file: &Path) -> Result<Vec<String>, DatasetError> {
    let unreadable = |reason: String| DatasetError::Unreadable {
        file: file.to_path_buf(),
        reason,
    };
    let raw = File::open(file).map_err(|e| unreadable(e.to_string()))?;
    let reader: Box<dyn Read> = if is_gzip(file) {
        Box::new(MultiGzDecoder::new(raw))
    } else {
        Box::new(raw)
    };
    let mut line = String::new();
    BufReader::new(reader)
        .read_line(&mut line)
        .map_err(|e| unreadable(e.to_string()))?;
    if line.trim().is_empty() {
        return Err(unreadable("the file is empty (no header line)".into()));
    }
    Ok(split_header(&line))
}

fn is_gzip(file: &Path) -> bool {
    file.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

/// Splits a csv header line; names may be quoted, a UTF-8 byte-order mark is dropped.
fn split_header(line: &str) -> Vec<String> {
    line.trim_start_matches('\u{feff}')
        .trim_end_matches(['\r', '\n'])
        .split(',')
        .map(|name| name.trim().trim_matches('"').to_string())
        .collect()
}

fn header_error(table: &Table, file: &Path, mismatch: HeaderMismatch) -> DatasetError {
    let expected: Vec<&str> = table.columns.iter().map(|c| c.name).collect();
    let problem = match mismatch {
        HeaderMismatch::Unknown(name) => {
            format!(
                "its header has column `{name}`, which the MIMIC-IV definition of the table lacks"
            )
        }
        HeaderMismatch::Missing(name) => format!("its header lacks column `{name}`"),
        HeaderMismatch::Duplicate(name) => format!("its header names column `{name}` twice"),
    };
    DatasetError::Header {
        file: file.to_path_buf(),
        table: table.qualified_name(),
        problem,
        hint: format!(
            "check that this is PhysioNet's MIMIC-IV file; m4 expects the columns {}",
            expected.join(", ")
        ),
    }
}

/// A database being built in its own build folder, which goes (with the WAL and
/// spill files DuckDB puts beside the database) unless the database is committed.
struct TempDatabase {
    path: PathBuf,
    dir: tempfile::TempDir,
}

impl TempDatabase {
    fn new(data_dir: &Path, spec: &DatasetSpec) -> Result<TempDatabase, DatasetError> {
        let dir = build_dir(data_dir, spec)?;
        Ok(TempDatabase {
            path: dir.path().join(format!("{}.duckdb", spec.name)),
            dir,
        })
    }

    /// Moves the finished database over `target`; the build folder goes.
    fn commit(self, target: &Path) -> Result<(), DatasetError> {
        // A WAL left by the old database would be replayed onto the new one.
        let old_wal = with_suffix(target, ".wal");
        if old_wal.exists() {
            fs::remove_file(&old_wal).map_err(|e| DatasetError::io("remove", &old_wal, e))?;
        }
        fs::rename(&self.path, target).map_err(|e| DatasetError::io("rename", &self.path, e))?;
        let folder = self.dir.path().to_path_buf();
        self.dir
            .close()
            .map_err(|e| DatasetError::io("remove the build folder", &folder, e))
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn db_error<'a>(
    path: &'a Path,
    action: &'static str,
) -> impl Fn(duckdb::Error) -> DatasetError + 'a {
    move |e| DatasetError::Database {
        action,
        path: path.to_path_buf(),
        reason: e.to_string(),
        hint: "check free disk space in the data folder (set `M4_DATA_DIR` to use another)",
    }
}

fn write_database(
    path: &Path,
    spec: &DatasetSpec,
    source: &Source<'_>,
    planned: &[PlannedTable],
    missing: &[&'static Table],
    progress: &Progress,
) -> Result<(Vec<LoadedTable>, Option<crate::concepts::DerivedSummary>), DatasetError> {
    let config = Config::default()
        .max_memory(BUILD_MEMORY_LIMIT)
        .and_then(|c| c.with("preserve_insertion_order", "false"))
        .map_err(db_error(path, "configure DuckDB for"))?;
    let conn = Connection::open_with_flags(path, config).map_err(db_error(path, "create"))?;
    conn.execute_batch(
        "CREATE SCHEMA mimiciv_hosp; CREATE SCHEMA mimiciv_icu; CREATE SCHEMA m4_meta;",
    )
    .map_err(db_error(path, "create schemas in"))?;

    let mut loaded = Vec::with_capacity(planned.len());
    for plan in planned {
        let name = plan.table.qualified_name();
        let started = Instant::now();
        let step = progress.spinner(&format!("loading {name}"));
        conn.execute_batch(&plan.table.create_sql())
            .map_err(db_error(path, "create a table in"))?;
        let rows = conn
            .execute(&insert_sql(plan), [])
            .map_err(|e| DatasetError::Load {
                file: plan.file.clone(),
                table: name.clone(),
                reason: e.to_string(),
            })?;
        step.finish();
        progress.line(&format!(
            "loaded {name}: {} rows ({:.1} s)",
            super::status::thousands(rows as u64),
            started.elapsed().as_secs_f64()
        ));
        loaded.push(LoadedTable {
            name,
            rows: rows as u64,
        });
    }

    write_metadata(&conn, path, spec, source, &loaded, missing)?;
    let present: Vec<String> = loaded.iter().map(|t| t.name.clone()).collect();
    let derived = build_concepts(&conn, path, &present, source.derived, progress)?;
    conn.execute_batch("CHECKPOINT")
        .map_err(db_error(path, "checkpoint"))?;
    conn.close().map_err(|(_, e)| db_error(path, "close")(e))?;
    Ok((loaded, derived))
}

/// Stores the raw tables' descriptions and, when asked, builds `mimiciv_derived`.
fn build_concepts(
    conn: &Connection,
    path: &Path,
    present: &[String],
    derived: bool,
    progress: &Progress,
) -> Result<Option<crate::concepts::DerivedSummary>, DatasetError> {
    let failed = |e: crate::concepts::ConceptError| DatasetError::Database {
        action: "build the derived concepts in",
        path: path.to_path_buf(),
        reason: e.to_string(),
        hint: "rerun `m4 init NAME --derived-only`, or `m4 init NAME --no-derived` to do without them",
    };
    crate::concepts::index_sources(conn, present).map_err(failed)?;
    if !derived {
        return Ok(None);
    }
    let summary =
        crate::concepts::build(conn, present, &mut |line| progress.line(line)).map_err(failed)?;
    Ok(Some(summary))
}

/// `m4 init NAME --derived-only`: rebuilds `mimiciv_derived` (and the descriptions) in
/// an existing database, in one transaction, leaving the raw tables as they are.
pub(super) fn rebuild_derived(
    data_dir: &Path,
    spec: &DatasetSpec,
    progress: &Progress,
) -> Result<Outcome, DatasetError> {
    let path = database_path(data_dir, spec);
    if !path.is_file() {
        return Err(DatasetError::Database {
            action: "open",
            path,
            reason: "the data set is not initialised".into(),
            hint: "run `m4 init NAME` first; `--derived-only` rebuilds the concepts of an existing database",
        });
    }
    let config = Config::default()
        .max_memory(BUILD_MEMORY_LIMIT)
        .and_then(|c| c.with("preserve_insertion_order", "false"))
        .map_err(db_error(&path, "configure DuckDB for"))?;
    let conn = Connection::open_with_flags(&path, config).map_err(db_error(&path, "open"))?;
    let source: String = conn
        .query_row("SELECT source FROM m4_meta.dataset", [], |r| r.get(0))
        .map_err(db_error(&path, "read m4_meta in"))?;
    let mut tables = Vec::new();
    let mut missing = Vec::new();
    {
        let mut stmt = conn
            .prepare(
                "SELECT schema_name || '.' || table_name, present, row_count FROM m4_meta.tables",
            )
            .map_err(db_error(&path, "read m4_meta in"))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, bool>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                ))
            })
            .map_err(db_error(&path, "read m4_meta in"))?;
        for row in rows {
            let (name, present, rows) = row.map_err(db_error(&path, "read m4_meta in"))?;
            if present {
                tables.push(LoadedTable {
                    name,
                    rows: rows.unwrap_or(0) as u64,
                });
            } else {
                missing.push(name);
            }
        }
    }
    let present: Vec<String> = tables.iter().map(|t| t.name.clone()).collect();
    conn.execute_batch("BEGIN TRANSACTION")
        .map_err(db_error(&path, "start a transaction in"))?;
    let derived = build_concepts(&conn, &path, &present, true, progress)?;
    conn.execute_batch("COMMIT; CHECKPOINT;")
        .map_err(db_error(&path, "commit the concepts in"))?;
    conn.close().map_err(|(_, e)| db_error(&path, "close")(e))?;
    Ok(Outcome {
        source,
        tables,
        missing,
        derived,
    })
}

/// `INSERT INTO t (file's columns) SELECT * FROM read_csv(...)`, typed by the DDL so
/// DuckDB streams the file without sniffing it.
fn insert_sql(plan: &PlannedTable) -> String {
    let names: Vec<String> = plan
        .columns
        .iter()
        .map(|c| format!("\"{}\"", c.name))
        .collect();
    let types: Vec<String> = plan
        .columns
        .iter()
        .map(|c| format!("'{}': '{}'", c.name, c.sql_type))
        .collect();
    let file = plan.file.to_string_lossy().replace('\'', "''");
    let compression = if is_gzip(&plan.file) { "gzip" } else { "none" };
    format!(
        "INSERT INTO {table} ({names}) SELECT * FROM read_csv('{file}', header = true, \
         auto_detect = false, delim = ',', quote = '\"', escape = '\"', \
         compression = '{compression}', columns = {{{types}}})",
        table = plan.table.qualified_name(),
        names = names.join(", "),
        types = types.join(", "),
    )
}

fn write_metadata(
    conn: &Connection,
    path: &Path,
    spec: &DatasetSpec,
    source: &Source<'_>,
    loaded: &[LoadedTable],
    missing: &[&'static Table],
) -> Result<(), DatasetError> {
    let fail = db_error(path, "write m4_meta in");
    conn.execute_batch(
        "CREATE TABLE m4_meta.dataset (name VARCHAR, synthetic BOOLEAN, source VARCHAR, \
         built_at TIMESTAMP, m4_version VARCHAR); \
         CREATE TABLE m4_meta.tables (schema_name VARCHAR, table_name VARCHAR, \
         present BOOLEAN, row_count BIGINT);",
    )
    .map_err(&fail)?;
    conn.execute(
        "INSERT INTO m4_meta.dataset VALUES (?, ?, ?, now()::TIMESTAMP, ?)",
        duckdb::params![
            spec.name,
            spec.synthetic,
            source.description,
            env!("CARGO_PKG_VERSION")
        ],
    )
    .map_err(&fail)?;
    for table in schema::tables() {
        let qualified = table.qualified_name();
        let is_missing = missing.iter().any(|m| m.qualified_name() == qualified);
        let rows = loaded
            .iter()
            .find(|l| l.name == qualified)
            .map(|l| l.rows as i64);
        conn.execute(
            "INSERT INTO m4_meta.tables VALUES (?, ?, ?, ?)",
            duckdb::params![table.schema(), table.name, !is_missing, rows],
        )
        .map_err(&fail)?;
    }
    if let Some(generated) = source.generated {
        conn.execute_batch(
            "CREATE TABLE m4_meta.synthetic (scale DOUBLE, patients BIGINT, seed VARCHAR);",
        )
        .map_err(&fail)?;
        conn.execute(
            "INSERT INTO m4_meta.synthetic VALUES (?, ?, ?)",
            duckdb::params![
                generated.scale,
                generated.patients as i64,
                format!("{:#x}", generated.seed)
            ],
        )
        .map_err(&fail)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_split_handles_quotes_bom_and_crlf() {
        assert_eq!(
            split_header("\u{feff}\"subject_id\",GENDER, anchor_age\r\n"),
            ["subject_id", "GENDER", "anchor_age"]
        );
    }

    #[test]
    fn insert_names_file_order_and_ddl_types() {
        let table = schema::table("hosp", "d_labitems").expect("registered");
        let columns = vec![&table.columns[1], &table.columns[0]];
        let sql = insert_sql(&PlannedTable {
            table,
            file: PathBuf::from("/x/it's/d_labitems.csv.gz"),
            columns,
        });
        assert!(sql.starts_with("INSERT INTO mimiciv_hosp.d_labitems (\"label\", \"itemid\")"));
        assert!(sql.contains("read_csv('/x/it''s/d_labitems.csv.gz'"));
        assert!(sql.contains("columns = {'label': 'VARCHAR', 'itemid': 'INTEGER'}"));
        assert!(sql.contains("compression = 'gzip'"));
    }

    #[test]
    fn failed_build_leaves_no_temporary_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spec = super::super::find("synthetic").expect("registered");
        let folder = {
            let temp = TempDatabase::new(dir.path(), spec).expect("temp");
            assert!(temp.path.starts_with(dir.path()));
            assert_ne!(
                temp.path,
                with_suffix(&database_path(dir.path(), spec), ".tmp")
            );
            fs::write(&temp.path, b"partial").expect("write");
            fs::write(with_suffix(&temp.path, ".wal"), b"wal").expect("write");
            temp.dir.path().to_path_buf()
        };
        assert!(!folder.exists());
        assert_eq!(fs::read_dir(dir.path()).expect("list").count(), 0);
    }

    #[test]
    fn two_builds_never_share_a_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spec = super::super::find("synthetic").expect("registered");
        let a = TempDatabase::new(dir.path(), spec).expect("a");
        let b = TempDatabase::new(dir.path(), spec).expect("b");
        assert_ne!(a.path, b.path);
    }
}
