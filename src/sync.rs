//! Locking a std `Mutex` that another thread panicked while holding.
//!
//! m4's mutexes guard small maps, slots and caches whose every update is one
//! assignment, so a panic elsewhere cannot leave them half-written: the guard is
//! taken back rather than turning one failed call into a failed server.

use std::sync::{Mutex, MutexGuard};

/// The guard of `mutex`, poisoned or not.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
