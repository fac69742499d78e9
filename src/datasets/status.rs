//! What `m4 status` (and the server's `list_datasets`) shows about each data set,
//! read from the database's own `m4_meta` schema through a read-only connection.
//! Building databases is `load`'s job.

use std::fmt;
use std::path::{Path, PathBuf};

use duckdb::{AccessMode, Config, Connection};

use super::{DatasetSpec, Source, all, database_path};

/// The state of one data set, for `m4 status` and `list_datasets`.
#[derive(Debug)]
pub struct DatasetStatus {
    pub spec: &'static DatasetSpec,
    pub database: PathBuf,
    pub initialised: bool,
    /// Size of the database file, when it exists.
    pub size_bytes: Option<u64>,
    /// What the database says about itself, when it could be read.
    pub info: Option<DatabaseInfo>,
    /// Why an existing database could not be read.
    pub error: Option<String>,
}

/// The contents of `m4_meta` in a built database.
#[derive(Debug, Clone)]
pub struct DatabaseInfo {
    pub synthetic: bool,
    pub source: String,
    pub built_at: String,
    pub m4_version: String,
    pub tables: Vec<TableInfo>,
    /// `m4_meta.derived`, when the concepts were built (`None` after `--no-derived`).
    pub derived: Option<Vec<DerivedInfo>>,
    /// The generator's scale, for a synthetic set built by an m4 that records it.
    pub scale: Option<SyntheticScale>,
}

/// One row of `m4_meta.derived`: a concept as the last build left it.
#[derive(Debug, Clone)]
pub struct DerivedInfo {
    /// `sofa` (in `mimiciv_derived`).
    pub name: String,
    pub built: bool,
    /// Why it was not built (`skipped: needs ...`, `failed: ...`), or what it lacked.
    pub note: Option<String>,
}

/// The row of `m4_meta.synthetic`: how large the generated set is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SyntheticScale {
    /// The factor of the default size (`m4 init synthetic --scale F`).
    pub scale: f64,
    pub patients: u64,
}

/// One row of `m4_meta.tables`.
#[derive(Debug, Clone)]
pub struct TableInfo {
    /// `mimiciv_hosp.patients`.
    pub name: String,
    pub present: bool,
    pub rows: Option<u64>,
}

impl DatabaseInfo {
    /// Tables the source lacked.
    pub fn missing(&self) -> impl Iterator<Item = &TableInfo> {
        self.tables.iter().filter(|t| !t.present)
    }
}

/// The state of every data set in `data_dir`.
pub fn status(data_dir: &Path) -> Vec<DatasetStatus> {
    all().iter().map(|spec| one(data_dir, spec)).collect()
}

fn one(data_dir: &Path, spec: &'static DatasetSpec) -> DatasetStatus {
    let database = database_path(data_dir, spec);
    let size_bytes = std::fs::metadata(&database).ok().map(|m| m.len());
    let initialised = size_bytes.is_some();
    let (info, error) = if initialised {
        match read_info(&database) {
            Ok(info) => (Some(info), None),
            Err(e) => (None, Some(e.to_string())),
        }
    } else {
        (None, None)
    };
    DatasetStatus {
        spec,
        database,
        initialised,
        size_bytes,
        info,
        error,
    }
}

pub(super) fn read_info(database: &Path) -> duckdb::Result<DatabaseInfo> {
    let config = Config::default()
        .access_mode(AccessMode::ReadOnly)?
        .enable_external_access(false)?;
    let conn = Connection::open_with_flags(database, config)?;
    let (synthetic, source, built_at, m4_version) = conn.query_row(
        "SELECT synthetic, source, strftime(built_at, '%Y-%m-%d %H:%M:%S'), m4_version \
         FROM m4_meta.dataset LIMIT 1",
        [],
        |row| {
            Ok((
                row.get::<_, bool>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
            ))
        },
    )?;
    let mut statement = conn.prepare(
        "SELECT schema_name || '.' || table_name, present, row_count FROM m4_meta.tables \
         ORDER BY schema_name, table_name",
    )?;
    let tables = statement
        .query_map([], |row| {
            Ok(TableInfo {
                name: row.get(0)?,
                present: row.get(1)?,
                rows: row.get::<_, Option<i64>>(2)?.map(|n| n.max(0) as u64),
            })
        })?
        .collect::<duckdb::Result<Vec<_>>>()?;
    let has_derived: bool = conn.query_row(
        "SELECT count(*) > 0 FROM duckdb_tables() WHERE schema_name = 'm4_meta' AND table_name = 'derived'",
        [],
        |row| row.get(0),
    )?;
    let derived = if has_derived {
        let mut statement = conn
            .prepare("SELECT table_name, built, note FROM m4_meta.derived ORDER BY table_name")?;
        let rows = statement
            .query_map([], |row| {
                Ok(DerivedInfo {
                    name: row.get(0)?,
                    built: row.get(1)?,
                    note: row.get(2)?,
                })
            })?
            .collect::<duckdb::Result<Vec<_>>>()?;
        Some(rows)
    } else {
        None
    };
    // Absent from real data sets and from synthetic ones built before m4 recorded it.
    let scale = conn
        .query_row(
            "SELECT scale, patients FROM m4_meta.synthetic LIMIT 1",
            [],
            |row| {
                Ok(SyntheticScale {
                    scale: row.get(0)?,
                    patients: row.get::<_, i64>(1)?.max(0) as u64,
                })
            },
        )
        .ok();
    Ok(DatabaseInfo {
        synthetic,
        source,
        built_at,
        m4_version,
        tables,
        derived,
        scale,
    })
}

impl fmt::Display for DatasetStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.spec.name;
        if self.spec.remote() {
            writeln!(
                f,
                "{name}: served from BigQuery (nothing to download or build)"
            )?;
            return write!(f, "  {}", self.spec.description);
        }
        if !self.initialised {
            writeln!(f, "{name}: not initialised")?;
            writeln!(f, "  {}", self.spec.description)?;
            let how = match self.spec.source {
                Source::Download { .. } => format!("m4 init {name}"),
                Source::Credentialed { .. } => format!("m4 init {name} --src DIR"),
                Source::Generated => format!("m4 init {name}"),
                Source::BigQuery => format!("m4 init {name}"),
            };
            return write!(
                f,
                "  would live at `{}`; build it with `{how}`",
                self.database.display()
            );
        }
        writeln!(f, "{name}: initialised")?;
        if self.spec.synthetic || self.info.as_ref().is_some_and(|i| i.synthetic) {
            writeln!(f, "  SYNTHETIC data generated by m4, not real patient data")?;
        }
        write!(
            f,
            "  database: `{}` ({})",
            self.database.display(),
            human_size(self.size_bytes.unwrap_or(0))
        )?;
        if let Some(error) = &self.error {
            return write!(
                f,
                "\n  could not read it: {error}\n  hint: rebuild it with `m4 init {name}`"
            );
        }
        let Some(info) = &self.info else {
            return Ok(());
        };
        writeln!(f)?;
        writeln!(f, "  source: {}", info.source)?;
        if let Some(scale) = info.scale {
            let default = if scale.scale == 1.0 {
                ", the default size".to_string()
            } else {
                format!("; `m4 init {name}` rebuilds the default size")
            };
            writeln!(
                f,
                "  scale: {} ({} patients{default})",
                scale.scale,
                thousands(scale.patients)
            )?;
        }
        writeln!(
            f,
            "  built: {} UTC by m4 {}",
            info.built_at, info.m4_version
        )?;
        let present: Vec<&TableInfo> = info.tables.iter().filter(|t| t.present).collect();
        let rows: u64 = present.iter().filter_map(|t| t.rows).sum();
        write!(
            f,
            "  tables: {} of {} loaded, {} rows",
            present.len(),
            info.tables.len(),
            thousands(rows)
        )?;
        let width = info.tables.iter().map(|t| t.name.len()).max().unwrap_or(0);
        for table in &info.tables {
            if table.present {
                write!(
                    f,
                    "\n    {:width$}  {:>12}",
                    table.name,
                    thousands(table.rows.unwrap_or(0))
                )?;
            } else {
                write!(f, "\n    {:width$}  {:>12}", table.name, "MISSING")?;
            }
        }
        let missing: Vec<&str> = info.missing().map(|t| t.name.as_str()).collect();
        if !missing.is_empty() {
            write!(f, "\n  missing tables: {}", missing.join(", "))?;
        }
        Ok(())
    }
}

/// `1234567` → `1,234,567`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Bytes in the largest unit that keeps the number at or above 1 (`12.3 MB`).
pub(crate) fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(668_862), "668,862");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn human_size_picks_a_unit() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1536), "1.5 KB");
        assert_eq!(human_size(3 * 1024 * 1024 * 1024), "3.0 GB");
    }

    #[test]
    fn missing_database_is_reported_with_how_to_build_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let statuses = status(dir.path());
        assert_eq!(statuses.len(), all().len());
        let full = statuses
            .iter()
            .find(|s| s.spec.name == "mimic-iv")
            .expect("mimic-iv listed");
        assert!(!full.initialised);
        assert!(full.to_string().contains("m4 init mimic-iv --src DIR"));
    }
}
