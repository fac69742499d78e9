//! The trust-boundary type: a query an engine vouches for. Every constructor is
//! here, and none is reachable from outside `engine`.

use std::sync::atomic::{AtomicU64, Ordering};

/// Which engine instance checked a query. Unique per engine opened in this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EngineId(u64);

impl EngineId {
    /// A new identity, never handed out before in this process.
    pub(in crate::engine) fn fresh() -> EngineId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        EngineId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// A value bound to a query parameter. Nulls are typed, as engines that bind by
/// type (BigQuery) need them to be.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Int(Option<i64>),
    Text(Option<String>),
}

/// A statement that passed an engine's check, or SQL the engine wrote itself,
/// with its bound values. The executor of the engine named by
/// [`CheckedQuery::engine`] accepts it; every other executor refuses it.
#[derive(Debug, Clone)]
pub struct CheckedQuery {
    engine: EngineId,
    sql: String,
    params: Vec<Param>,
}

impl CheckedQuery {
    /// Text that `engine`'s check accepted, or that `engine` wrote from its own
    /// constants and catalog identifiers. Only engines call this.
    pub(in crate::engine) fn new(
        engine: EngineId,
        sql: String,
        params: Vec<Param>,
    ) -> CheckedQuery {
        CheckedQuery {
            engine,
            sql,
            params,
        }
    }

    /// The engine that vouches for this query.
    pub fn engine(&self) -> EngineId {
        self.engine
    }

    /// The SQL text.
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// The bound values, in parameter order.
    pub fn params(&self) -> &[Param] {
        &self.params
    }
}
