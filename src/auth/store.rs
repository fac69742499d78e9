//! Where a sign-in (`m4 auth login`) is kept between runs: the refresh token, and the
//! current access token with its expiry.
//!
//! Owns storage only: it does not talk to the provider or validate anything. One
//! sign-in per issuer and client id, as one JSON record. [`default_store`] chooses:
//! the operating system's credential store first ([`KeyringStore`], the `keyring`
//! crate: macOS Keychain, Windows Credential Manager, the kernel keyring on Linux,
//! which needs no D-Bus daemon but does not survive a reboot), and only where none
//! answers, or `M4_OAUTH2_CREDENTIAL_STORE=file`, the [`FileStore`]: a file readable
//! and writable by the user alone (0600 in a 0700 folder on Unix), replaced
//! atomically. Each store's [`CredentialStore::describe`] names where the secret is.

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
        "could not {action} the stored sign-in in {place}: {reason}\n\nhint: set `M4_OAUTH2_CREDENTIAL_STORE=file` to keep it in a file readable by you alone instead"
    )]
    Keyring {
        action: &'static str,
        place: String,
        reason: String,
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
/// `m4 serve` all use it): the operating system's credential store when it answers
/// and `file_only` is false, else the user-only file (with a warning naming it), or
/// `None` when there is nowhere (no configuration folder).
pub fn default_store(file_only: bool) -> Option<Arc<dyn CredentialStore>> {
    let file = || FileStore::default_dir().map(FileStore::at);
    if file_only {
        return file().map(|f| Arc::new(f) as Arc<dyn CredentialStore>);
    }
    match KeyringStore::probe() {
        Ok(store) => Some(Arc::new(store)),
        Err(reason) => {
            let file = file();
            tracing::warn!(
                "no operating-system credential store is available ({reason}); the sign-in is kept in {}",
                file.as_ref().map_or_else(
                    || "no place at all (no configuration folder; set `HOME`)".to_string(),
                    |f| format!("the folder `{}`, readable by you alone", f.dir.display())
                )
            );
            file.map(|f| Arc::new(f) as Arc<dyn CredentialStore>)
        }
    }
}

/// The `keyring` service name m4's sign-ins are kept under.
const KEYRING_SERVICE: &str = "m4-oauth2-sign-in";

/// Sign-ins in the operating system's credential store, one entry per key.
#[derive(Debug, Clone, Default)]
pub struct KeyringStore;

impl KeyringStore {
    /// The store, when this machine's credential store accepts, returns and deletes
    /// a probe entry; otherwise why not.
    pub fn probe() -> Result<KeyringStore, String> {
        own_session_keyring();
        let entry = keyring::Entry::new(KEYRING_SERVICE, "probe").map_err(|e| e.to_string())?;
        let round_trip = entry
            .set_password("probe")
            .and_then(|()| entry.get_password());
        // Also after a half-done probe: a leftover entry would refuse the next one.
        let _ = entry.delete_credential();
        if round_trip.map_err(|e| e.to_string())? != "probe" {
            return Err("it did not return what was stored".into());
        }
        Ok(KeyringStore)
    }

    fn entry(key: &SignInKey) -> Result<keyring::Entry, StoreError> {
        own_session_keyring();
        keyring::Entry::new(KEYRING_SERVICE, &Self::user(key))
            .map_err(|e| keyring_error("open", key, e))
    }

    fn user(key: &SignInKey) -> String {
        key.file_name().trim_end_matches(".json").to_string()
    }

    fn place(key: &SignInKey) -> String {
        format!(
            "the operating system's credential store ({}), entry `{KEYRING_SERVICE}` / `{}`",
            store_name(),
            Self::user(key)
        )
    }
}

/// Linux: gives this thread a session keyring of its own when it has none (a
/// container, CI job, cron or service without `pam_keyinit`), before `keyring`
/// looks for one. Without it `keyring` takes the user's default session keyring for
/// the entry, then asks for the persistent keyring linked to "the session keyring",
/// which makes the kernel create a new anonymous session keyring; the entry, added
/// to the first keyring, is then not possessed by the process, and its
/// possessor-only permissions refuse the link into the persistent keyring (EACCES:
/// the store never answers). With a session keyring of its own (what a desktop or
/// SSH login already has; then this changes nothing), entries live in the user's
/// persistent keyring, which outlives this process (not a reboot; it expires after
/// `/proc/sys/kernel/keys/persistent_keyring_expiry` seconds unused, 3 days by
/// default), and every later m4 finds them there.
fn own_session_keyring() {
    #[cfg(target_os = "linux")]
    {
        use linux_keyutils::{KeyRing, KeyRingIdentifier};
        let _ = KeyRing::from_special_id(KeyRingIdentifier::Session, true);
    }
}

fn store_name() -> &'static str {
    if cfg!(target_os = "macos") {
        "macOS Keychain"
    } else if cfg!(windows) {
        "Windows Credential Manager"
    } else if cfg!(target_os = "linux") {
        "the Linux kernel keyring; it does not survive a reboot"
    } else {
        "the system keyring"
    }
}

fn keyring_error(action: &'static str, key: &SignInKey, e: keyring::Error) -> StoreError {
    StoreError::Keyring {
        action,
        place: KeyringStore::place(key),
        reason: e.to_string(),
    }
}

impl CredentialStore for KeyringStore {
    fn load(&self, key: &SignInKey) -> Result<Option<StoredSignIn>, StoreError> {
        let text = match Self::entry(key)?.get_password() {
            Ok(text) => text,
            Err(keyring::Error::NoEntry) => return Ok(None),
            Err(e) => return Err(keyring_error("read", key, e)),
        };
        from_json(key, &text, || PathBuf::from(Self::place(key))).map(Some)
    }

    fn save(&self, sign_in: &StoredSignIn) -> Result<(), StoreError> {
        let json = to_json(sign_in, &PathBuf::from(Self::place(&sign_in.key)))?;
        let json = String::from_utf8_lossy(&json);
        Self::entry(&sign_in.key)?
            .set_password(&json)
            .map_err(|e| keyring_error("write", &sign_in.key, e))
    }

    fn delete(&self, key: &SignInKey) -> Result<bool, StoreError> {
        match Self::entry(key)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(keyring_error("delete", key, e)),
        }
    }

    fn describe(&self, key: &SignInKey) -> String {
        Self::place(key)
    }
}

fn to_json(sign_in: &StoredSignIn, path: &Path) -> Result<Vec<u8>, StoreError> {
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
    serde_json::to_vec_pretty(&record).map_err(|e| StoreError::Corrupt {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

fn from_json(
    key: &SignInKey,
    text: &str,
    path: impl Fn() -> PathBuf,
) -> Result<StoredSignIn, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        path: path(),
        reason,
    };
    let record: Record =
        serde_json::from_str(text).map_err(|e| corrupt(format!("not m4's JSON: {e}")))?;
    if record.version != 1 {
        return Err(corrupt(format!("unknown version {}", record.version)));
    }
    if record.issuer != key.issuer || record.client_id != key.client_id {
        return Err(corrupt("it belongs to another issuer or client".into()));
    }
    Ok(StoredSignIn {
        key: key.clone(),
        refresh_token: Secret::new(record.refresh_token),
        access_token: record.access_token.map(Secret::new),
        access_expires_at: record.access_expires_at,
        subject: record.subject,
    })
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
        from_json(key, &text, || path.clone()).map(Some)
    }

    fn save(&self, sign_in: &StoredSignIn) -> Result<(), StoreError> {
        let path = self.path(&sign_in.key);
        create_private_dir(&self.dir)?;
        let json = to_json(sign_in, &path)?;
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

    #[test]
    fn the_os_credential_store_round_trips_where_this_machine_has_one() {
        let store = match KeyringStore::probe() {
            Ok(store) => store,
            Err(reason) => {
                // Written past the test harness's capture, so that it shows.
                let _ = std::io::stderr().write_all(
                    format!("SKIPPED: no operating-system credential store here ({reason})\n")
                        .as_bytes(),
                );
                return;
            }
        };
        let mut sign_in = sign_in();
        sign_in.key.issuer = format!("https://idp.example/test-{}", std::process::id());
        let key = sign_in.key.clone();
        store.save(&sign_in).unwrap();
        let loaded = store.load(&key).unwrap().expect("stored");
        assert_eq!(loaded.refresh_token.expose(), "refresh-secret-1");
        assert!(store.describe(&key).contains("credential store"));
        assert!(store.delete(&key).unwrap());
        assert!(store.load(&key).unwrap().is_none());
        assert!(!store.delete(&key).unwrap());
    }

    /// Where the kernel offers keyrings at all (not, say, under a seccomp profile that
    /// blocks `keyctl`), the store answers, also in a process without a session
    /// keyring of its own (CI, containers, services: see `own_session_keyring`).
    #[cfg(target_os = "linux")]
    #[test]
    fn the_kernel_keyring_answers_wherever_the_kernel_offers_one() {
        use linux_keyutils::{KeyRing, KeyRingIdentifier};
        // A new thread, with the credentials the test harness started with.
        let outcome = std::thread::spawn(|| {
            KeyRing::from_special_id(KeyRingIdentifier::UserSession, false)
                .map_err(|e| format!("{e:?}"))?;
            Ok::<_, String>(KeyringStore::probe().map(|_| ()))
        })
        .join()
        .unwrap();
        match outcome {
            Err(reason) => {
                let _ = std::io::stderr().write_all(
                    format!("SKIPPED: the kernel offers no keyring here ({reason})\n").as_bytes(),
                );
            }
            Ok(probe) => assert!(
                probe.is_ok(),
                "the kernel keyring is there, yet m4's store does not answer: {probe:?}"
            ),
        }
    }

    #[test]
    fn the_file_store_is_forced_by_the_setting() {
        let store = default_store(true).expect("a configuration folder");
        assert!(
            store.describe(&key()).contains("readable by you alone"),
            "{}",
            store.describe(&key())
        );
    }
}
