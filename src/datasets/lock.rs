//! One build at a time per data set, and build files no one else uses.
//!
//! Owns: the advisory lock `<data_dir>/<name>.lock` that every build of a data set
//! holds from start to finish (two `m4 init`s, or two desktop clients building the
//! synthetic set on first use, take turns instead of clobbering each other); the
//! holder's pid and command line, written into the lock file so that a waiter can
//! say whom it waits for; the unique build folders `<data_dir>/.<name>.build-XXXXXX/`
//! (a scratch database or generated files), and removing the ones a killed build
//! left behind, which is safe only while the lock is held.
//!
//! Build folders never use `<name>.duckdb.tmp`: that is DuckDB's spill folder for
//! a server reading `<name>.duckdb`, and a build must not touch it.
//!
//! The lock file itself stays (empty once released): deleting it would let a
//! waiter lock a file that a newcomer can no longer see. The lock is released by
//! the operating system when the process ends, so a killed build never blocks the
//! next one. Does not decide what to build (`init`) nor how (`load`, `synthetic`).

use std::cell::RefCell;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use super::progress::Progress;
use super::{DatasetError, DatasetSpec, InitOptions, InitReport, database_path};

/// The most of the holder's command line written into the lock file.
const MAX_COMMAND_CHARS: usize = 200;

thread_local! {
    /// Lock files this thread holds: [`ensure`] holds the lock while it calls
    /// `init`, which takes it again.
    static HELD: RefCell<Vec<PathBuf>> = const { RefCell::new(Vec::new()) };
}

/// The lock on one data set's builds, released when dropped.
pub(super) struct BuildLock {
    path: PathBuf,
    /// `None` when this thread already held the lock further up the stack.
    file: Option<File>,
}

/// Where `spec`'s build lock lives.
pub(super) fn lock_path(data_dir: &Path, spec: &DatasetSpec) -> PathBuf {
    data_dir.join(format!("{}.lock", spec.name))
}

impl BuildLock {
    /// Takes the lock on `spec`'s builds in `data_dir`, waiting (and saying for
    /// whom) while another process holds it; then removes what killed builds left.
    pub(super) fn acquire(
        data_dir: &Path,
        spec: &DatasetSpec,
        progress: &Progress,
    ) -> Result<BuildLock, DatasetError> {
        let path = lock_path(data_dir, spec);
        if HELD.with(|held| held.borrow().contains(&path)) {
            return Ok(BuildLock { path, file: None });
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| DatasetError::io("open the build lock", &path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                progress.line(&format!(
                    "waiting for another build of `{}` in this data folder to finish ({}; lock `{}`)",
                    spec.name,
                    holder(&mut file),
                    path.display()
                ));
                file.lock()
                    .map_err(|e| DatasetError::io("wait for the build lock", &path, e))?;
                progress.line(&format!("the other build of `{}` ended", spec.name));
            }
            Err(TryLockError::Error(e)) => {
                return Err(DatasetError::io("take the build lock", &path, e));
            }
        }
        write_holder(&mut file).map_err(|e| DatasetError::io("write", &path, e))?;
        HELD.with(|held| held.borrow_mut().push(path.clone()));
        let lock = BuildLock {
            path,
            file: Some(file),
        };
        remove_stale_builds(data_dir, spec, progress);
        Ok(lock)
    }
}

impl Drop for BuildLock {
    fn drop(&mut self) {
        if let Some(file) = self.file.take() {
            // Best effort: the lock goes with the file handle whatever happens here.
            let _ = file.set_len(0);
            let _ = file.unlock();
            HELD.with(|held| held.borrow_mut().retain(|p| p != &self.path));
        }
    }
}

/// Who holds the lock, as its holder wrote it: `pid 123: m4 init synthetic`.
fn holder(file: &mut File) -> String {
    let mut text = String::new();
    // Windows locks are mandatory: the holder's note cannot be read there.
    let read = file.rewind().and_then(|()| file.read_to_string(&mut text));
    let text = text.trim();
    match read {
        Ok(_) if !text.is_empty() => format!("held by {}", text.replace('\n', ": ")),
        _ => "held by another m4 process".to_string(),
    }
}

fn write_holder(file: &mut File) -> std::io::Result<()> {
    let mut command: String = std::env::args().collect::<Vec<_>>().join(" ");
    if let Some((cut, _)) = command.char_indices().nth(MAX_COMMAND_CHARS) {
        command.truncate(cut);
        command.push_str("...");
    }
    file.set_len(0)?;
    file.rewind()?;
    write!(
        file,
        "pid {}\n{}\n",
        std::process::id(),
        command.replace('\n', " ")
    )?;
    file.flush()
}

/// The prefix of every build folder of `spec`: `.synthetic.build-`.
fn build_prefix(spec: &DatasetSpec) -> String {
    format!(".{}.build-", spec.name)
}

/// A new, unique build folder for `spec` in `data_dir`, removed with everything in
/// it when dropped. Call it only while holding the [`BuildLock`].
pub(super) fn build_dir(
    data_dir: &Path,
    spec: &DatasetSpec,
) -> Result<tempfile::TempDir, DatasetError> {
    tempfile::Builder::new()
        .prefix(&build_prefix(spec))
        .tempdir_in(data_dir)
        .map_err(|e| DatasetError::io("create a build folder in", data_dir, e))
}

/// Removes build folders (and files) of `spec` that a killed build left: no build
/// of `spec` runs while the lock is held, so nobody uses them.
fn remove_stale_builds(data_dir: &Path, spec: &DatasetSpec, progress: &Progress) {
    let prefix = build_prefix(spec);
    let Ok(entries) = fs::read_dir(data_dir) else {
        return;
    };
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with(&prefix) {
            continue;
        }
        let path = entry.path();
        let removed = if path.is_dir() {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        match removed {
            Ok(()) => progress.line(&format!(
                "removed `{}`, left by an interrupted build",
                path.display()
            )),
            Err(e) => progress.line(&format!(
                "warning: could not remove `{}`, left by an interrupted build: {e}",
                path.display()
            )),
        }
    }
}

/// Builds `spec` in `data_dir` unless its database is there, for a caller that
/// only needs it to exist (the server's first use of the synthetic set). When
/// another process is building it, waits and uses what that build made. Returns
/// the report of the build it ran, if any.
pub fn ensure(
    data_dir: &Path,
    spec: &'static DatasetSpec,
    options: &InitOptions,
) -> Result<Option<InitReport>, DatasetError> {
    let database = database_path(data_dir, spec);
    if database.is_file() {
        return Ok(None);
    }
    fs::create_dir_all(data_dir)
        .map_err(|e| DatasetError::io("create the data folder", data_dir, e))?;
    let progress = Progress::new();
    let _lock = BuildLock::acquire(data_dir, spec, &progress)?;
    if database.is_file() {
        progress.line(&format!(
            "`{}` was built by the other process meanwhile; using it",
            spec.name
        ));
        return Ok(None);
    }
    super::init(data_dir, spec, options).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn synthetic() -> &'static DatasetSpec {
        super::super::find("synthetic").expect("registered")
    }

    #[test]
    fn the_lock_is_reentrant_on_one_thread_and_names_its_holder() {
        let dir = tempfile::tempdir().expect("tempdir");
        let progress = Progress::new();
        let outer = BuildLock::acquire(dir.path(), synthetic(), &progress).expect("outer");
        let inner = BuildLock::acquire(dir.path(), synthetic(), &progress).expect("inner");
        assert!(inner.file.is_none());
        drop(inner);
        let note = fs::read_to_string(lock_path(dir.path(), synthetic())).expect("lock file");
        assert!(
            note.starts_with(&format!("pid {}\n", std::process::id())),
            "{note}"
        );

        // Another handle (as another process would hold) cannot take it.
        let other = File::options()
            .read(true)
            .write(true)
            .open(lock_path(dir.path(), synthetic()))
            .expect("open");
        assert!(matches!(other.try_lock(), Err(TryLockError::WouldBlock)));
        drop(outer);
        other.try_lock().expect("free once released");
    }

    #[test]
    fn stale_builds_of_this_data_set_are_removed_and_others_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let stale = build_dir(dir.path(), synthetic())
            .expect("build dir")
            .keep();
        fs::write(stale.join("synthetic.duckdb"), b"half").expect("write");
        let stale_file = dir.path().join(".synthetic.build-x.duckdb.wal");
        fs::write(&stale_file, b"wal").expect("write");
        let spill = dir.path().join("synthetic.duckdb.tmp");
        fs::create_dir(&spill).expect("spill dir");
        let other = dir.path().join(".mimic-iv-demo.build-abc");
        fs::create_dir(&other).expect("other");

        let lock = BuildLock::acquire(dir.path(), synthetic(), &Progress::new()).expect("lock");
        assert!(!stale.exists());
        assert!(!stale_file.exists());
        assert!(spill.is_dir(), "a server's spill folder is not a build's");
        assert!(other.is_dir(), "another data set's build is not ours");
        drop(lock);
    }
}
