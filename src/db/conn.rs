//! One open connection to either backend, and the only place that runs a statement: a `Stmt`
//! goes in, typed rows (`sqlx::FromRow`) or a row count come out. Nothing else in svcctl
//! matches on the backend or binds a value.

use anyhow::Result;
use futures_util::TryStreamExt;
use sqlx::FromRow;
use sqlx::mysql::{MySqlConnection, MySqlRow};
use sqlx::sqlite::{SqliteConnection, SqliteRow};

use super::dialect::Dialect;
use super::stmt::{Bind, Stmt};

/// One open connection to either backend. svcctl runs one statement at a time, so a single
/// connection (not a pool) is all it needs, and a transaction never spans two connections.
pub(crate) enum Conn {
    MySql(MySqlConnection),
    Sqlite(SqliteConnection),
}

/// A row type both backends can decode (`#[derive(sqlx::FromRow)]` gives this).
pub(crate) trait Record:
    Send + Unpin + for<'r> FromRow<'r, MySqlRow> + for<'r> FromRow<'r, SqliteRow>
{
}

impl<T> Record for T where
    T: Send + Unpin + for<'r> FromRow<'r, MySqlRow> + for<'r> FromRow<'r, SqliteRow>
{
}

/// Builds the sqlx query for `$stmt` with `$make` (`sqlx::query`, `sqlx::query_as::<_, T>`),
/// binds its values, and runs `$body` with it on whichever connection is open. Each arm is
/// type-checked on its own; this macro is the one place both arms are written.
macro_rules! on_backend {
    ($conn:expr, $stmt:expr, $make:expr, |$c:ident, $q:ident| $body:expr) => {{
        let dialect = $conn.dialect();
        let stmt: &Stmt = $stmt;
        match $conn {
            Conn::MySql($c) => on_backend!(@arm dialect, stmt, $make, $q, $body),
            Conn::Sqlite($c) => on_backend!(@arm dialect, stmt, $make, $q, $body),
        }
    }};
    (@arm $dialect:ident, $stmt:ident, $make:expr, $q:ident, $body:expr) => {{
        let $q = bind_all!($dialect, $make(sqlx::AssertSqlSafe($stmt.sql().to_string())), $stmt);
        $body
    }};
}

macro_rules! bind_all {
    ($dialect:expr, $query:expr, $stmt:expr) => {{
        let mut q = $query;
        for b in $stmt.binds() {
            q = match b {
                Bind::Int(v) => q.bind(*v),
                Bind::Text(s) => q.bind(s.clone()),
                Bind::Time(t) => q.bind($dialect.timestamp(*t)),
                Bind::Null => q.bind(None::<String>),
            };
        }
        q
    }};
}

impl Conn {
    pub fn dialect(&self) -> Dialect {
        match self {
            Conn::MySql(_) => Dialect::MySql,
            Conn::Sqlite(_) => Dialect::Sqlite,
        }
    }

    /// Every row of a query.
    pub async fn fetch_all<T: Record>(&mut self, stmt: &Stmt) -> Result<Vec<T>, sqlx::Error> {
        on_backend!(self, stmt, sqlx::query_as::<_, T>, |c, q| q
            .fetch_all(c)
            .await)
    }

    /// The one row a query returns (an aggregate).
    pub async fn fetch_one<T: Record>(&mut self, stmt: &Stmt) -> Result<T, sqlx::Error> {
        on_backend!(self, stmt, sqlx::query_as::<_, T>, |c, q| q
            .fetch_one(c)
            .await)
    }

    /// The rows of a query, one at a time, to `each`: nothing is held beyond the row in hand.
    pub async fn for_each<T: Record>(
        &mut self,
        stmt: &Stmt,
        mut each: impl FnMut(T) -> Result<()>,
    ) -> Result<()> {
        on_backend!(self, stmt, sqlx::query_as::<_, T>, |c, q| {
            let mut rows = q.fetch(c);
            while let Some(row) = rows.try_next().await? {
                each(row)?;
            }
        });
        Ok(())
    }

    /// Runs a statement; returns the number of rows it changed.
    pub async fn execute(&mut self, stmt: &Stmt) -> Result<u64, sqlx::Error> {
        on_backend!(self, stmt, sqlx::query, |c, q| Ok(q
            .execute(c)
            .await?
            .rows_affected()))
    }

    /// Runs svcctl's own transaction control (`BEGIN`, `COMMIT`, `ROLLBACK`) as plain text.
    pub async fn control(&mut self, sql: &'static str) -> Result<(), sqlx::Error> {
        match self {
            Conn::MySql(c) => sqlx::raw_sql(sql).execute(c).await.map(|_| ()),
            Conn::Sqlite(c) => sqlx::raw_sql(sql).execute(c).await.map(|_| ()),
        }
    }
}
