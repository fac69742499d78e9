//! Where a sign-in (`m4 auth login`) is kept between runs: the refresh token, and the
//! current access token with its expiry.
//!
//! Owns storage only: it does not talk to the provider or validate anything. One
//! sign-in per issuer and client id. This step provides the file store, the fallback
//! the issue asks for where the operating system has no credential store: a JSON file
//! readable and writable by the user alone (0600 in a 0700 folder on Unix), replaced
//! atomically, whose location [`FileStore::describe`] names for the warning. The
//! operating-system store (Keychain, Credential Manager, Secret Service, kernel
//! keyring) implements the same [`CredentialStore`] trait next.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::config::Secret;

/// Why a sign-in could not be read or written. Never contains a token.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("could not {action} the stored sign-in at `{path}`: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the stored sign-in at `{path}` is unreadable ({reason})\n\nhint: run `m4 auth logout`, then `m4 auth login`"
    )]
    Corrupt { path: PathBuf, reason: String },
}

/// Which sign-in: the provider and the public client it was made with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInKey {
    pub issuer: String,
    pub client_id: String,
}

impl SignInKey {
    /// A stable file-name-safe name for this key.
    fn file_name(&self) -> String {
        let digest = Sha256::digest(format!("{}\n{}", self.issuer, self.client_id).as_bytes());
        format!("sign-in-{}.json", &hex::encode(digest)[..16])
    }
}

/// A stored sign-in. `Debug` shows no secret.
#[derive(Clone)]
pub struct StoredSignIn {
    pub key: SignInKey,
    pub refresh_token: Secret,
    pub access_token: Option<Secret>,
    /// Unix seconds at which the access token expires.
    pub access_expires_at: Option<u64>,
    /// The token's `sub`, for `m4 auth status`.
    pub subject: Option<String>,
}

impl fmt::Debug for StoredSignIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredSignIn")
            .field("key", &self.key)
            .field("refresh_token", &self.refresh_token)
            .field("access_token", &self.access_token)
            .field("access_expires_at", &self.access_expires_at)
            .field("subject", &self.subject)
            .finish()
    }
}

/// The file format (version 1).
#[derive(Serialize, Deserialize)]
struct Record {
    version: u32,
    issuer: String,
    client_id: String,
    refresh_token: String,
    access_token: Option<String>,
    access_expires_at: Option<u64>,
    subject: Option<String>,
}

/// Somewhere sign-ins are kept.
pub trait CredentialStore: Send + Sync + fmt::Debug {
    fn load(&self, key: &SignInKey) -> Result<Option<StoredSignIn>, StoreError>;
    fn save(&self, sign_in: &StoredSignIn) -> Result<(), StoreError>;
    /// Deletes the sign-in; `Ok(false)` when there was none.
    fn delete(&self, key: &SignInKey) -> Result<bool, StoreError>;
    /// Where the secret is kept, for `m4 auth status` and the warning.
    fn describe(&self, key: &SignInKey) -> String;
}

/// Where this machine keeps sign-ins (`m4 auth login`, `status`, `logout` and
/// `m4 serve` all use it), or `None` when there is nowhere (no configuration folder).
pub fn default_store(_lookup: impl Fn(&str) -> Option<String>) -> Option<Arc<dyn CredentialStore>> {
    FileStore::default_dir().map(|dir| Arc::new(FileStore::at(dir)) as Arc<dyn CredentialStore>)
}

/// Sign-ins as files readable by the user alone.
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    /// The store in `dir` (created on first save).
    pub fn at(dir: impl Into<PathBuf>) -> FileStore {
        FileStore { dir: dir.into() }
    }

    /// The default folder: `m4` in the user's configuration folder.
    pub fn default_dir() -> Option<PathBuf> {
        dirs::config_dir().map(|d| d.join("m4"))
    }

    fn path(&self, key: &SignInKey) -> PathBuf {
        self.dir.join(key.file_name())
    }
}

fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> StoreError + 'a {
    move |source| StoreError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

impl CredentialStore for FileStore {
    fn load(&self, key: &SignInKey) -> Result<Option<StoredSignIn>, StoreError> {
        let path = self.path(key);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("read", &path)(e)),
        };
        let corrupt = |reason: String| StoreError::Corrupt {
            path: path.clone(),
            reason,
        };
        let record: Record =
            serde_json::from_str(&text).map_err(|e| corrupt(format!("not m4's JSON: {e}")))?;
        if record.version != 1 {
            return Err(corrupt(format!("unknown version {}", record.version)));
        }
        if record.issuer != key.issuer || record.client_id != key.client_id {
            return Err(corrupt("it belongs to another issuer or client".into()));
        }
        Ok(Some(StoredSignIn {
            key: key.clone(),
            refresh_token: Secret::new(record.refresh_token),
            access_token: record.access_token.map(Secret::new),
            access_expires_at: record.access_expires_at,
            subject: record.subject,
        }))
    }

    fn save(&self, sign_in: &StoredSignIn) -> Result<(), StoreError> {
        let path = self.path(&sign_in.key);
        create_private_dir(&self.dir)?;
        let record = Record {
            version: 1,
            issuer: sign_in.key.issuer.clone(),
            client_id: sign_in.key.client_id.clone(),
            refresh_token: sign_in.refresh_token.expose().to_string(),
            access_token: sign_in
                .access_token
                .as_ref()
                .map(|t| t.expose().to_string()),
            access_expires_at: sign_in.access_expires_at,
            subject: sign_in.subject.clone(),
        };
        let json = serde_json::to_vec_pretty(&record).map_err(|e| StoreError::Corrupt {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        // tempfile creates the file 0600 on Unix; the rename replaces atomically.
        let mut file = tempfile::NamedTempFile::new_in(&self.dir).map_err(io("write", &path))?;
        file.write_all(&json).map_err(io("write", &path))?;
        file.as_file().sync_all().map_err(io("write", &path))?;
        file.persist(&path)
            .map_err(|e| io("write", &path)(e.error))?;
        Ok(())
    }

    fn delete(&self, key: &SignInKey) -> Result<bool, StoreError> {
        let path = self.path(key);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io("delete", &path)(e)),
        }
    }

    fn describe(&self, key: &SignInKey) -> String {
        format!(
            "the file `{}` (readable by you alone; no operating-system credential store was available)",
            self.path(key).display()
        )
    }
}

fn create_private_dir(dir: &Path) -> Result<(), StoreError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(io("create the folder for", dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SignInKey {
        SignInKey {
            issuer: "https://idp.example".into(),
            client_id: "m4-cli".into(),
        }
    }

    fn sign_in() -> StoredSignIn {
        StoredSignIn {
            key: key(),
            refresh_token: Secret::new("refresh-secret-1"),
            access_token: Some(Secret::new("access.secret.1")),
            access_expires_at: Some(1_800_000_600),
            subject: Some("researcher-7".into()),
        }
    }

    #[test]
    fn a_sign_in_round_trips_and_is_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::at(dir.path().join("m4"));
        assert!(store.load(&key()).unwrap().is_none());
        store.save(&sign_in()).unwrap();
        let loaded = store.load(&key()).unwrap().unwrap();
        assert_eq!(loaded.refresh_token.expose(), "refresh-secret-1");
        assert_eq!(loaded.access_expires_at, Some(1_800_000_600));
        assert_eq!(loaded.subject.as_deref(), Some("researcher-7"));
        // A rotated refresh token replaces the old one.
        let mut rotated = sign_in();
        rotated.refresh_token = Secret::new("refresh-secret-2");
        store.save(&rotated).unwrap();
        assert_eq!(
            store.load(&key()).unwrap().unwrap().refresh_token.expose(),
            "refresh-secret-2"
        );
        assert!(store.delete(&key()).unwrap());
        assert!(!store.delete(&key()).unwrap());
        assert!(store.load(&key()).unwrap().is_none());
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_readable_by_the_user_alone() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("m4");
        let store = FileStore::at(&folder);
        store.save(&sign_in()).unwrap();
        let file = store.path(&key());
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(&folder), 0o700);
        let leftovers: Vec<_> = std::fs::read_dir(&folder).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file left behind");
    }

    #[test]
    fn sign_ins_for_other_issuers_or_clients_are_kept_apart() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::at(dir.path());
        store.save(&sign_in()).unwrap();
        let other = SignInKey {
            issuer: "https://other.example".into(),
            client_id: "m4-cli".into(),
        };
        assert!(store.load(&other).unwrap().is_none());
        assert!(store.describe(&key()).contains("readable by you alone"));
    }

    #[test]
    fn a_damaged_file_names_itself_and_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::at(dir.path());
        std::fs::write(store.path(&key()), "{not json").unwrap();
        let text = store.load(&key()).unwrap_err().to_string();
        assert!(
            text.contains(&store.path(&key()).display().to_string())
                && text.contains("m4 auth login"),
            "{text}"
        );
    }

    #[test]
    fn debug_output_shows_no_secret() {
        let text = format!("{:?}", sign_in());
        assert!(
            !text.contains("refresh-secret-1") && !text.contains("access.secret.1"),
            "{text}"
        );
    }
}
