//! DuckDB's catalog: the data tables of this database and their columns, read
//! from `duckdb_tables()` and `duckdb_columns()` with bound values only.

use duckdb::Connection;

use crate::engine::{ColumnInfo, QueryError, TableInfo, TableSummary};

/// Schemas that hold m4's own bookkeeping, not MIMIC data.
const HIDDEN_SCHEMAS: &[&str] = &["m4_meta"];

/// Every data table, schema-qualified, in name order, with its description.
pub(super) fn tables(connection: &Connection) -> Result<Vec<TableSummary>, QueryError> {
    let mut statement = connection
        .prepare(
            "SELECT schema_name, table_name, estimated_size, comment FROM duckdb_tables() \
             WHERE NOT internal AND database_name = current_database() \
             ORDER BY schema_name, table_name",
        )
        .map_err(internal)?;
    let rows = statement
        .query_map([], |row| {
            Ok(TableSummary {
                schema: row.get(0)?,
                table: row.get(1)?,
                rows: row.get(2)?,
                description: row.get::<_, Option<String>>(3)?.filter(|c| !c.is_empty()),
            })
        })
        .map_err(internal)?;
    let mut tables = Vec::new();
    for table in rows {
        let table = table.map_err(internal)?;
        if !HIDDEN_SCHEMAS.contains(&table.schema.as_str()) {
            tables.push(table);
        }
    }
    Ok(tables)
}

/// The columns of a resolved table, with their descriptions.
pub(super) fn table_info(
    connection: &Connection,
    table: &TableSummary,
) -> Result<TableInfo, QueryError> {
    let mut statement = connection
        .prepare(
            "SELECT column_name, data_type, is_nullable, comment FROM duckdb_columns() \
             WHERE database_name = current_database() AND schema_name = ? AND table_name = ? \
             ORDER BY column_index",
        )
        .map_err(internal)?;
    let rows = statement
        .query_map([&table.schema, &table.table], |row| {
            Ok(ColumnInfo {
                name: row.get(0)?,
                type_name: row.get(1)?,
                nullable: row.get(2)?,
                description: row.get::<_, Option<String>>(3)?.filter(|c| !c.is_empty()),
            })
        })
        .map_err(internal)?;
    let columns = rows.collect::<Result<Vec<_>, _>>().map_err(internal)?;
    Ok(TableInfo {
        summary: table.clone(),
        columns,
    })
}

fn internal(error: duckdb::Error) -> QueryError {
    QueryError::Internal {
        message: format!("catalog query failed: {error}"),
    }
}
