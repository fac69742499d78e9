//! Data sets: which exist (the registry), how they are fetched and verified, how
//! they are loaded into a DuckDB file, the synthetic generator, and their status.
//!
//! This is the only module that opens a database read-write, and the one that
//! chooses and opens a data set's engine for a call ([`Store`]), building the
//! synthetic set on first use. It knows nothing of MCP.
//!
//! # Files
//! - `registry`: the data sets and the demo's pinned checksums.
//! - `schema`: the 31 MIMIC-IV table definitions (the one copy of the DDL).
//! - `checksum`: `SHA256SUMS.txt` parsing and file hashing.
//! - `download`: resumable HTTP download of the open demo.
//! - `load`: csv.gz files in PhysioNet's layout → a DuckDB file, built aside and renamed.
//! - `synthetic`: a deterministic generator writing PhysioNet-layout files for `load`,
//!   at any scale (`m4 init synthetic --scale F`), streaming one patient at a time.
//! - `lock`: one build at a time per data set (`<name>.lock`), in unique build folders.
//! - `status`: what `m4 status` reports, read from each database's `m4_meta` schema.
//! - `progress`: progress on stderr (a bar on a terminal, plain lines otherwise).
//! - `store`: choosing the data set for a call and opening (once) its engine.
//!
//! Every database m4 builds carries `m4_meta.dataset` (one row: name, synthetic,
//! source, built_at, m4_version) and `m4_meta.tables` (one row per registry table,
//! with `present` and `row_count`); a synthetic set also `m4_meta.synthetic` (one row:
//! scale, patients, seed).

mod checksum;
mod download;
mod load;
mod lock;
mod progress;
pub(crate) mod registry;
pub mod schema;
mod status;
mod store;
mod synthetic;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use lock::ensure;
pub use registry::Source;
pub use status::{DatabaseInfo, DatasetStatus, DerivedInfo, SyntheticScale, TableInfo, status};
/// How m4 prints counts and sizes, so that every report agrees.
pub(crate) use status::{human_size, thousands};
pub use store::{Store, bigquery_options};
pub use synthetic::{Scale, ScaleError};

use crate::engine::Disposition;

/// One data set m4 knows how to build.
#[derive(Debug)]
pub struct DatasetSpec {
    /// Name used on the command line, in `M4_DATASET` and in tool arguments.
    pub name: &'static str,
    /// One line for `list_datasets` and `m4 status`.
    pub description: &'static str,
    /// Generated data, not real patients: everything that shows it must say so.
    pub synthetic: bool,
    /// Where the files come from when `--src` is not given.
    pub source: Source,
}

impl DatasetSpec {
    /// The SQL dialect its engine speaks, as the model is told.
    pub fn dialect(&self) -> &'static str {
        match self.source {
            Source::BigQuery => "GoogleSQL",
            Source::Download { .. } | Source::Credentialed { .. } | Source::Generated => "DuckDB",
        }
    }

    /// Whether it is queried where it is hosted (nothing local to build).
    pub fn remote(&self) -> bool {
        matches!(self.source, Source::BigQuery)
    }
}

/// Every data set m4 knows, in a stable order.
pub fn all() -> &'static [DatasetSpec] {
    &registry::REGISTRY
}

/// Looks a data set up by name.
pub fn find(name: &str) -> Result<&'static DatasetSpec, DatasetError> {
    registry::REGISTRY
        .iter()
        .find(|spec| spec.name == name)
        .ok_or_else(|| DatasetError::Unknown {
            name: name.to_string(),
        })
}

/// Where `spec`'s database lives inside `data_dir`.
pub fn database_path(data_dir: &Path, spec: &DatasetSpec) -> PathBuf {
    data_dir.join(format!("{}.duckdb", spec.name))
}

/// Where `spec`'s downloaded files are kept inside `data_dir`.
pub fn downloads_path(data_dir: &Path, spec: &DatasetSpec) -> PathBuf {
    data_dir.join("downloads").join(spec.name)
}

/// What can go wrong with a data set.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// The name is not in the registry.
    #[error(
        "unknown data set `{name}`\n\nhint: choose one of: mimic-iv-demo, mimic-iv, synthetic, mimic-iv-bigquery"
    )]
    Unknown { name: String },

    /// The BigQuery data set has no billing project configured.
    #[error(
        "Data set `mimic-iv-bigquery` needs a Google Cloud billing project. Ask the user to set M4_BIGQUERY_PROJECT to their own project's id in m4's entry of the MCP client configuration (`M4_BIGQUERY_PROJECT=my-project m4 config claude --dataset mimic-iv-bigquery` writes it) and restart the client; `m4 init mimic-iv-bigquery` checks the access."
    )]
    NoBillingProject,

    /// The data set lives on BigQuery: there is nothing to build.
    #[error(
        "`{name}` is served from BigQuery where PhysioNet hosts it: there is nothing to download or build\n\nhint: run `m4 init {name}` to check access"
    )]
    Remote { name: String },

    /// The data set is in the registry but has no database yet.
    #[error(
        "Data set `{name}` is not initialised. Ask the user to run `m4 init {name}` in a terminal, or use list_datasets to pick an initialised one."
    )]
    NotInitialised { name: String },

    /// The data set's database exists but its engine could not open it.
    #[error(transparent)]
    Engine(#[from] crate::engine::QueryError),

    /// A credentialed data set cannot be downloaded by m4.
    #[error(
        "`{name}` needs credentialed PhysioNet access, so m4 cannot download it\n\nhint: get access at {page}, download the files yourself (keep PhysioNet's hosp/ and icu/ folders), then run `m4 init {name} --src DIR`"
    )]
    NeedsSource { name: String, page: String },

    /// `--src` does not name a folder.
    #[error(
        "source folder `{path}` does not exist or is not a folder\n\nhint: pass the folder that holds PhysioNet's hosp/ and icu/ folders"
    )]
    SourceNotFound { path: PathBuf },

    /// The source folder holds none of the registry's files.
    #[error(
        "no MIMIC-IV table files found in `{path}`\n\nhint: expected PhysioNet's layout: `{path}/hosp/patients.csv.gz`, `{path}/icu/icustays.csv.gz`, ..."
    )]
    NoTables { path: PathBuf },

    /// A file's SHA-256 differs from `SHA256SUMS.txt`.
    #[error(
        "`{file}` does not match its checksum in SHA256SUMS.txt (expected {expected}, got {actual})\n\nhint: {hint}"
    )]
    ChecksumMismatch {
        file: PathBuf,
        expected: String,
        actual: String,
        hint: &'static str,
    },

    /// `SHA256SUMS.txt` could not be parsed.
    #[error(
        "`{file}` is not a valid checksum list: line `{line}` is not `<sha256> <path>`\n\nhint: restore PhysioNet's SHA256SUMS.txt, or remove it to load without verification"
    )]
    ChecksumList { file: String, line: String },

    /// A mirror's checksum list disagrees with PhysioNet's published one.
    #[error(
        "the checksum list at `{url}` gives a different SHA-256 for `{path}` than PhysioNet publishes for the demo v2.2\n\nhint: the mirror serves different files; unset `M4_MIMIC_DEMO_URL` or point it at a faithful mirror"
    )]
    ChecksumListDisagrees { url: String, path: String },

    /// A csv header does not fit the table's definition.
    #[error("`{file}` does not fit table `{table}`: {problem}\n\nhint: {hint}")]
    Header {
        file: PathBuf,
        table: String,
        problem: String,
        hint: String,
    },

    /// A file could not be read or decompressed.
    #[error(
        "could not read `{file}`: {reason}\n\nhint: the file is probably truncated or corrupt; download it again, then rerun `m4 init`"
    )]
    Unreadable { file: PathBuf, reason: String },

    /// DuckDB rejected a file's contents.
    #[error(
        "could not load `{file}` into `{table}`: {reason}\n\nhint: the file is probably truncated or corrupt; download it again, then rerun `m4 init` (any earlier database was left as it was)"
    )]
    Load {
        file: PathBuf,
        table: String,
        reason: String,
    },

    /// A database operation failed outside a file load.
    #[error("could not {action} `{path}`: {reason}\n\nhint: {hint}")]
    Database {
        action: &'static str,
        path: PathBuf,
        reason: String,
        hint: &'static str,
    },

    /// A file-system operation failed.
    #[error(
        "could not {action} `{path}`: {source}\n\nhint: check that the folder exists and is writable (set `M4_DATA_DIR` to use another)"
    )]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },

    /// A download failed.
    #[error(
        "could not download `{url}`: {reason}\n\nhint: check the network connection or proxy and run `m4 init` again (finished files are kept, partial ones resume); or set `M4_MIMIC_DEMO_URL` to a mirror, or download the files yourself and run `m4 init mimic-iv-demo --src DIR`"
    )]
    Download { url: String, reason: String },
}

impl DatasetError {
    /// Who can act on this error: decided for every variant, so a new one forces a choice.
    pub fn disposition(&self) -> Disposition {
        match self {
            DatasetError::Unknown { .. }
            | DatasetError::NotInitialised { .. }
            | DatasetError::NoBillingProject
            | DatasetError::Remote { .. } => Disposition::User,
            DatasetError::Engine(error) => error.disposition(),
            DatasetError::NeedsSource { .. }
            | DatasetError::SourceNotFound { .. }
            | DatasetError::NoTables { .. }
            | DatasetError::ChecksumMismatch { .. }
            | DatasetError::ChecksumList { .. }
            | DatasetError::ChecksumListDisagrees { .. }
            | DatasetError::Header { .. }
            | DatasetError::Unreadable { .. }
            | DatasetError::Load { .. }
            | DatasetError::Database { .. }
            | DatasetError::Io { .. }
            | DatasetError::Download { .. } => Disposition::Setup,
        }
    }

    fn io(action: &'static str, path: &Path, source: std::io::Error) -> DatasetError {
        DatasetError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Options for [`init`].
#[derive(Debug, Default)]
pub struct InitOptions {
    /// Load from this folder (PhysioNet's layout) instead of downloading.
    pub src: Option<PathBuf>,
    /// Download the open demo from this base URL instead of PhysioNet (`M4_MIMIC_DEMO_URL`).
    pub base_url: Option<String>,
    /// Idle time after which a download attempt is resumed (default 30 s).
    pub download_idle: Option<Duration>,
    /// `--no-derived`: load the tables only, without `mimiciv_derived`.
    pub no_derived: bool,
    /// `--derived-only`: rebuild `mimiciv_derived` in the existing database.
    pub derived_only: bool,
    /// `--scale`: the synthetic set's size as a factor of the default (ignored by the others).
    pub scale: Scale,
}

/// One table as loaded by [`init`].
#[derive(Debug, Clone)]
pub struct LoadedTable {
    /// `mimiciv_hosp.patients`.
    pub name: String,
    pub rows: u64,
}

/// Summary of a finished [`init`].
#[derive(Debug)]
pub struct InitReport {
    pub dataset: &'static str,
    pub synthetic: bool,
    pub database: PathBuf,
    /// Where the files came from: a folder, a URL, or the generator.
    pub source: String,
    pub tables: Vec<LoadedTable>,
    /// Registry tables with no file in the source (`mimiciv_icu.chartevents`).
    pub missing: Vec<String>,
    pub elapsed: Duration,
    pub size_bytes: u64,
    /// The `mimiciv_derived` build; `None` with `--no-derived`.
    pub derived: Option<crate::concepts::DerivedSummary>,
}

impl fmt::Display for InitReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.synthetic {
            writeln!(
                f,
                "`{}` is SYNTHETIC data generated by m4, not real patient data.",
                self.dataset
            )?;
        }
        let rows: u64 = self.tables.iter().map(|t| t.rows).sum();
        writeln!(
            f,
            "built `{}` in {:.1} s: `{}` ({})",
            self.dataset,
            self.elapsed.as_secs_f64(),
            self.database.display(),
            status::human_size(self.size_bytes)
        )?;
        writeln!(f, "source: {}", self.source)?;
        write!(
            f,
            "{} of {} tables loaded, {} rows",
            self.tables.len(),
            self.tables.len() + self.missing.len(),
            status::thousands(rows)
        )?;
        for missing in &self.missing {
            write!(
                f,
                "\nmissing table: `{missing}` (no file in the source; queries on it will fail)"
            )?;
        }
        if let Some(derived) = &self.derived {
            write!(f, "\n{derived}")?;
        }
        Ok(())
    }
}

/// Builds `spec`'s database in `data_dir`: downloads (the demo), reads `options.src`,
/// or generates (synthetic); verifies checksums; loads every table present; replaces
/// any earlier database only once the new one is complete.
///
/// Progress goes to stderr only, so a library caller (the server) can use it.
pub fn init(
    data_dir: &Path,
    spec: &'static DatasetSpec,
    options: &InitOptions,
) -> Result<InitReport, DatasetError> {
    let started = Instant::now();
    std::fs::create_dir_all(data_dir)
        .map_err(|e| DatasetError::io("create the data folder", data_dir, e))?;
    if spec.remote() {
        return Err(DatasetError::Remote {
            name: spec.name.to_string(),
        });
    }
    let progress = progress::Progress::new();
    let _lock = lock::BuildLock::acquire(data_dir, spec, &progress)?;
    let derived = !options.no_derived;
    if spec.source != Source::Generated && options.scale != Scale::DEFAULT {
        progress.line("note: `--scale` applies only to `synthetic`; it is ignored");
    }
    let outcome = match (spec.source, &options.src) {
        _ if options.derived_only => load::rebuild_derived(data_dir, spec, &progress)?,
        (Source::Generated, _) => {
            if options.src.is_some() {
                progress.line("note: `synthetic` is generated by m4; `--src` is ignored");
            }
            synthetic::build(data_dir, spec, options.scale, derived, &progress)?
        }
        (_, Some(src)) => {
            if !src.is_dir() {
                return Err(DatasetError::SourceNotFound { path: src.clone() });
            }
            load::build(
                data_dir,
                spec,
                &load::Source {
                    root: src,
                    description: src.display().to_string(),
                    verify: true,
                    derived,
                    generated: None,
                },
                &progress,
            )?
        }
        (Source::Download { base_url }, None) => {
            let base_url = options
                .base_url
                .clone()
                .unwrap_or_else(|| base_url.to_string());
            let dest = downloads_path(data_dir, spec);
            download::fetch(&base_url, &dest, options.download_idle, &progress)?;
            load::build(
                data_dir,
                spec,
                &load::Source {
                    root: &dest,
                    description: base_url.clone(),
                    // Every file was verified as it finished downloading.
                    verify: false,
                    derived,
                    generated: None,
                },
                &progress,
            )?
        }
        (Source::BigQuery, None) => {
            return Err(DatasetError::Remote {
                name: spec.name.to_string(),
            });
        }
        (Source::Credentialed { page }, None) => {
            return Err(DatasetError::NeedsSource {
                name: spec.name.to_string(),
                page: page.to_string(),
            });
        }
    };
    let database = database_path(data_dir, spec);
    let size_bytes = std::fs::metadata(&database).map(|m| m.len()).unwrap_or(0);
    Ok(InitReport {
        dataset: spec.name,
        synthetic: spec.synthetic,
        database,
        source: outcome.source,
        tables: outcome.tables,
        missing: outcome.missing,
        elapsed: started.elapsed(),
        size_bytes,
        derived: outcome.derived,
    })
}
