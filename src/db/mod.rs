//! The Cinder database: connection URL, connecting and retrying, the schema as it is, and the
//! typed reads and the one write svcctl makes. Nothing here prints; it returns data.

pub mod connect;
pub mod diagnose;
pub mod references;
pub mod schema;
pub mod services;
pub mod url;

pub use connect::{Conn, Db, Dialect};

/// Marks a statement built from svcctl's own fragments (identifiers, placeholders) as safe:
/// every value from the user or the database is bound, never formatted in.
pub fn sql(s: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(s)
}
