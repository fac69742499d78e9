//! Choosing the data set for a call and opening its engine, once per process.
//!
//! One source of truth for "which data set": a name given by the call, else the
//! configured one (`M4_DATASET`/`--dataset`), else the most complete data set
//! initialised (full MIMIC-IV, then the demo), else the synthetic set, which is
//! built on first use so that m4 does real work on a fresh machine. `list_datasets`
//! and every call ask the same [`Store::choose`], so they cannot disagree after a
//! data set is initialised mid-session.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::{DatasetError, DatasetSpec, InitOptions, database_path, ensure, find};
use crate::config::{BigQuerySettings, Settings};
use crate::engine::bigquery::{self, BigQueryEngine, CredentialMode};
use crate::engine::duckdb::{DuckDbEngine, Options};
use crate::engine::{Engine, Limits};
use crate::sync::lock;

/// Order in which an unnamed data set is chosen: the most complete real data first.
const PREFERENCE: [&str; 3] = ["mimic-iv", "mimic-iv-demo", "synthetic"];

/// Folder inside the data folder where each serving process keeps its spill files.
const SPILL_FOLDER: &str = ".spill";

/// The data sets of one data folder, and the engines opened on them so far.
pub struct Store {
    data_dir: PathBuf,
    configured: Option<String>,
    limits: Limits,
    engine_options: Options,
    demo_url: Option<String>,
    bigquery: BigQuerySettings,
    // A std Mutex is right here: the critical sections are map look-ups; the
    // slow open happens under `opening`, so a build does not block other data sets' calls.
    open: Mutex<HashMap<&'static str, Arc<dyn Engine>>>,
    opening: Mutex<()>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("data_dir", &self.data_dir)
            .finish()
    }
}

impl Store {
    /// A store over `settings.data_dir`, opening engines within `settings`' bounds.
    pub fn new(settings: &Settings) -> Store {
        Store {
            data_dir: settings.data_dir.clone(),
            configured: settings.dataset.clone(),
            limits: Limits {
                max_rows: settings.max_rows,
                max_bytes: settings.max_bytes,
                timeout: settings.query_timeout,
            },
            engine_options: Options {
                memory_limit: settings.memory_limit,
                max_temp_size: settings.max_temp_size,
                threads: settings.threads,
                // Filled per data set in `open_engine`.
                spill_dir: PathBuf::new(),
            },
            demo_url: settings.demo_url.clone(),
            bigquery: settings.bigquery.clone(),
            open: Mutex::new(HashMap::new()),
            opening: Mutex::new(()),
        }
    }

    /// The data folder.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The bounds every query runs within.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Whether `spec` has a database in this folder (for BigQuery: a billing project is set).
    pub fn is_initialised(&self, spec: &DatasetSpec) -> bool {
        if spec.remote() {
            return self.bigquery.project.is_some();
        }
        database_path(&self.data_dir, spec).is_file()
    }

    /// The data set for `requested` (a tool argument), else the configured one,
    /// else the best one initialised; with none initialised, the synthetic set.
    pub fn choose(&self, requested: Option<&str>) -> Result<&'static DatasetSpec, DatasetError> {
        if let Some(name) = requested.or(self.configured.as_deref()) {
            return find(name.trim());
        }
        let initialised = PREFERENCE
            .iter()
            .filter_map(|name| find(name).ok())
            .find(|spec| self.is_initialised(spec));
        match initialised {
            Some(spec) => Ok(spec),
            None => find("synthetic"),
        }
    }

    /// `spec`'s engine, opened on first use; the synthetic set is built first if absent.
    pub fn engine(&self, spec: &'static DatasetSpec) -> Result<Arc<dyn Engine>, DatasetError> {
        if let Some(engine) = lock(&self.open).get(spec.name) {
            return Ok(Arc::clone(engine));
        }
        let _opening = lock(&self.opening);
        // Another call may have opened it while this one waited.
        if let Some(engine) = lock(&self.open).get(spec.name) {
            return Ok(Arc::clone(engine));
        }
        let engine = self.open_engine(spec)?;
        lock(&self.open).insert(spec.name, Arc::clone(&engine));
        Ok(engine)
    }

    /// Opens the default data set now, if it is initialised, so the first call does not pay for it.
    pub fn warm_up(&self) {
        match self.choose(None) {
            Ok(spec) if self.is_initialised(spec) => {
                if let Err(error) = self.engine(spec) {
                    tracing::warn!(dataset = spec.name, %error, "could not open the default data set");
                }
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "no default data set"),
        }
    }

    fn open_engine(&self, spec: &'static DatasetSpec) -> Result<Arc<dyn Engine>, DatasetError> {
        if spec.remote() {
            if self.bigquery.project.is_none() {
                return Err(DatasetError::NoBillingProject);
            }
            let options = bigquery_options(&self.bigquery, self.limits.timeout);
            return Ok(Arc::new(BigQueryEngine::open(options)?));
        }
        let path = database_path(&self.data_dir, spec);
        if !path.is_file() {
            if !spec.synthetic {
                return Err(DatasetError::NotInitialised {
                    name: spec.name.to_string(),
                });
            }
            tracing::warn!(
                "no data set is initialised; building the SYNTHETIC data set in {} (run `m4 init mimic-iv-demo` for real data)",
                self.data_dir.display()
            );
            let options = InitOptions {
                base_url: self.demo_url.clone(),
                ..InitOptions::default()
            };
            // Waits for, and reuses, a build another process has under way.
            ensure(&self.data_dir, spec, &options)?;
        }
        let spill_root = self.data_dir.join(SPILL_FOLDER);
        remove_abandoned_spill_folders(&spill_root);
        let mut options = Options {
            spill_dir: spill_root.join(format!("{}-{}", spec.name, std::process::id())),
            ..self.engine_options.clone()
        };
        if let Err(error) = std::fs::create_dir_all(&spill_root) {
            // A read-only data folder (a shared copy) still serves; big sorts then
            // fail for lack of memory instead of spilling.
            tracing::warn!(dir = %spill_root.display(), %error, "cannot create the spill folder; spilling to disk is off");
            options.max_temp_size = 0;
        }
        Ok(Arc::new(DuckDbEngine::open(&path, &options)?))
    }
}

/// The BigQuery engine's options from the settings (an unset billing project is empty).
pub fn bigquery_options(
    settings: &BigQuerySettings,
    timeout: std::time::Duration,
) -> bigquery::Options {
    bigquery::Options {
        api_url: settings
            .api_url
            .clone()
            .unwrap_or_else(|| bigquery::DEFAULT_API_URL.to_string()),
        billing_project: settings.project.clone().unwrap_or_default(),
        data_project: settings.data_project.clone(),
        datasets: settings.datasets.clone(),
        location: settings.location.clone(),
        max_bytes_billed: settings.max_bytes_billed,
        credentials: if settings.no_credentials {
            CredentialMode::None
        } else {
            CredentialMode::Adc(bigquery::AdcEnv {
                credentials_file: settings.credentials_file.clone(),
                gcloud_config_dir: settings.gcloud_config_dir.clone(),
                metadata_host: settings.metadata_host.clone(),
            })
        },
        timeout,
    }
}

/// Removes spill folders left by m4 processes that no longer run (killed, or
/// crashed). Only where the OS tells which processes run (Linux's `/proc`).
fn remove_abandoned_spill_folders(root: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.rsplit_once('-'))
            .and_then(|(_, pid)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id()
            && !Path::new(&format!("/proc/{pid}")).exists()
            && let Err(error) = std::fs::remove_dir_all(entry.path())
        {
            tracing::debug!(dir = %entry.path().display(), %error, "could not remove an abandoned spill folder");
        }
    }
}
