//! Writing Claude Desktop's configuration file: where it lives on each platform,
//! a backup of the old file, then an atomic replace (a temporary file in the same
//! folder, synced, renamed over the old one with its permissions), and nothing
//! written at all when the entry is already there. What the new text is, is
//! `merge`'s job.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::ClientConfigError;
use super::merge::{Merge, merge_entry};

/// Claude Desktop's configuration file at the platform's usual place: `~/Library/Application
/// Support/Claude` on macOS, `%APPDATA%\Claude` on Windows, `$XDG_CONFIG_HOME/Claude`
/// (default `~/.config/Claude`) on Linux — exactly what `dirs::config_dir` gives.
pub fn claude_desktop_config_path() -> Result<PathBuf, ClientConfigError> {
    dirs::config_dir()
        .map(|dir| dir.join("Claude").join("claude_desktop_config.json"))
        .ok_or(ClientConfigError::NoConfigDir)
}

/// What `m4 config claude` did to the file.
#[derive(Debug)]
pub struct WriteReport {
    pub path: PathBuf,
    pub merge: Merge,
    /// The previous file's copy, when there was one and it changed.
    pub backup: Option<PathBuf>,
}

impl fmt::Display for WriteReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        match &self.merge {
            Merge::Unchanged => write!(
                f,
                "`{path}` already has this entry; nothing changed (no backup written)."
            )?,
            Merge::Added(_) => write!(f, "Added the entry to `{path}`.")?,
            Merge::Updated(_) => write!(f, "Updated the entry in `{path}`.")?,
        }
        if let Some(backup) = &self.backup {
            write!(f, "\nThe previous file is saved as `{}`.", backup.display())?;
        }
        if !matches!(self.merge, Merge::Unchanged) {
            write!(f, "\nRestart Claude Desktop (quit it fully) to load m4.")?;
        }
        Ok(())
    }
}

/// Merges `entry` into the JSON file at `path`: a backup of the old file first, then
/// an atomic replace, so a crash never leaves a half-written file; nothing is written
/// when the entry is already there.
pub fn write_entry(
    path: &Path,
    servers_key: &str,
    name: &str,
    entry: &Value,
) -> Result<WriteReport, ClientConfigError> {
    // Write through a symlink (dotfile managers) instead of replacing it.
    let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let existing = match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
        Err(cause) => return Err(ClientConfigError::Read { path, cause }),
    };
    let merge = merge_entry(existing.as_deref(), servers_key, name, entry).map_err(|problem| {
        ClientConfigError::Malformed {
            path: path.clone(),
            problem,
        }
    })?;
    let text = match &merge {
        Merge::Unchanged => {
            return Ok(WriteReport {
                path,
                merge,
                backup: None,
            });
        }
        Merge::Added(text) | Merge::Updated(text) => text.clone(),
    };
    let write_err = |cause| ClientConfigError::Write {
        path: path.clone(),
        cause,
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(write_err)?;

    let backup = match existing {
        Some(_) => {
            let mut backup = path.clone().into_os_string();
            backup.push(".bak");
            let backup = PathBuf::from(backup);
            std::fs::copy(&path, &backup).map_err(|cause| ClientConfigError::Backup {
                path: path.clone(),
                backup: backup.clone(),
                cause,
            })?;
            Some(backup)
        }
        None => None,
    };

    let mut temp = tempfile::NamedTempFile::new_in(&dir).map_err(write_err)?;
    temp.write_all(text.as_bytes()).map_err(write_err)?;
    temp.as_file().sync_all().map_err(write_err)?;
    if let Ok(meta) = std::fs::metadata(&path) {
        // Keep the user's permissions; a new file keeps tempfile's owner-only mode,
        // which suits a file that may hold a token.
        std::fs::set_permissions(temp.path(), meta.permissions()).map_err(write_err)?;
    }
    temp.persist(&path).map_err(|err| write_err(err.error))?;
    Ok(WriteReport {
        path,
        merge,
        backup,
    })
}
