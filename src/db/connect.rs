//! Connecting to the Cinder database with oslo.db's policy: `max_retries` attempts at start,
//! `retry_interval` apart, on connection errors only; then, during an operation, deadlocks (and
//! lost connections with `use_db_reconnect`) retry the whole transaction with a growing wait.

use std::future::Future;
use std::io::ErrorKind as IoKind;
use std::pin::Pin;
use std::time::Duration;

use anyhow::{Context, Result};
use sqlx::ConnectOptions;
use sqlx::mysql::{MySqlConnection, MySqlDatabaseError};
use sqlx::sqlite::SqliteConnection;

use super::schema::Schema;
use super::url::DbUrl;
use crate::config::settings::DatabaseSettings;

/// One open connection to either backend. svcctl runs one statement at a time, so a single
/// connection (not a pool) is all it needs, and a transaction never spans two connections.
pub enum Conn {
    MySql(MySqlConnection),
    Sqlite(SqliteConnection),
}

/// Runs the same code against whichever connection is open. Each arm is type-checked on its
/// own, so the body may use anything both sqlx drivers implement.
#[macro_export]
macro_rules! on_conn {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::Conn::MySql($c) => $body,
            $crate::db::Conn::Sqlite($c) => $body,
        }
    };
}

/// The SQL dialect: the little that differs between MySQL and SQLite for svcctl's statements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    MySql,
    Sqlite,
}

impl Dialect {
    /// A case- and collation-exact string comparison. MySQL compares case-insensitively under
    /// Cinder's utf8 collations; Cinder itself compares hosts with BINARY, and so does svcctl.
    pub fn eq_exact(self, a: &str, b: &str) -> String {
        match self {
            Dialect::MySql => format!("BINARY {a} = {b}"),
            Dialect::Sqlite => format!("{a} = {b}"),
        }
    }

    /// `a` starts with `b` followed by `sep`, compared exactly; no LIKE, so `_` and `%` in
    /// a host are never wildcards.
    pub fn starts_with_then(self, a: &str, b: &str, sep: char) -> String {
        match self {
            Dialect::MySql => format!(
                "BINARY SUBSTRING({a}, 1, CHAR_LENGTH({b}) + 1) = BINARY CONCAT({b}, '{sep}')"
            ),
            Dialect::Sqlite => format!("substr({a}, 1, length({b}) + 1) = {b} || '{sep}'"),
        }
    }

    /// Timestamps as Cinder writes them: DATETIME to the second on MySQL, text with
    /// microseconds on SQLite.
    pub fn timestamp(self, t: chrono::NaiveDateTime) -> String {
        match self {
            Dialect::MySql => t.format("%Y-%m-%d %H:%M:%S").to_string(),
            Dialect::Sqlite => t.format("%Y-%m-%d %H:%M:%S%.6f").to_string(),
        }
    }

    /// How a write transaction starts. SQLite takes the write lock at once (IMMEDIATE) so two
    /// svcctl runs serialize instead of failing at commit.
    pub fn begin(self) -> &'static str {
        match self {
            Dialect::MySql => "START TRANSACTION",
            Dialect::Sqlite => "BEGIN IMMEDIATE",
        }
    }

    /// Locks rows read inside a write transaction (SQLite's IMMEDIATE lock already covers it).
    pub fn for_update(self) -> &'static str {
        match self {
            Dialect::MySql => " FOR UPDATE",
            Dialect::Sqlite => "",
        }
    }
}

/// What went wrong, as far as retrying is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trouble {
    /// The server could not be reached (refused, timed out, unknown host, Galera not ready).
    Unreachable(String),
    /// The connection broke during an operation (MySQL 2006/2013, an I/O error).
    LostConnection,
    /// A deadlock or lock wait timeout (MySQL 1213/1205/1020, SQLite busy): retry the transaction.
    Deadlock,
    AccessDenied,
    UnknownDatabase,
    Other,
}

pub fn classify(e: &sqlx::Error) -> Trouble {
    match e {
        sqlx::Error::Io(io) => Trouble::Unreachable(io_reason(io)),
        sqlx::Error::PoolTimedOut => Trouble::Unreachable("timed out".into()),
        sqlx::Error::Database(db) => {
            if let Some(my) = db.try_downcast_ref::<MySqlDatabaseError>() {
                match my.number() {
                    1044 | 1045 | 1698 => Trouble::AccessDenied,
                    1049 => Trouble::UnknownDatabase,
                    2002 | 2003 | 1047 => Trouble::Unreachable(my.message().to_string()),
                    2006 | 2013 => Trouble::LostConnection,
                    1213 | 1205 | 1020 => Trouble::Deadlock,
                    _ => Trouble::Other,
                }
            } else {
                // SQLite: SQLITE_BUSY (5) and SQLITE_LOCKED (6) are lock contention.
                match db.code().as_deref() {
                    Some("5") | Some("6") | Some("517") | Some("262") => Trouble::Deadlock,
                    _ => Trouble::Other,
                }
            }
        }
        _ => Trouble::Other,
    }
}

fn io_reason(io: &std::io::Error) -> String {
    match io.kind() {
        IoKind::ConnectionRefused => "connection refused".into(),
        IoKind::TimedOut => "timed out".into(),
        IoKind::NotFound => "no such socket".into(),
        IoKind::HostUnreachable => "host unreachable".into(),
        IoKind::NetworkUnreachable => "network unreachable".into(),
        IoKind::ConnectionReset | IoKind::ConnectionAborted | IoKind::UnexpectedEof => {
            "connection closed by the server".into()
        }
        _ => io.to_string(),
    }
}

/// An open database with what svcctl learned about it.
pub struct Db {
    pub conn: Conn,
    pub url: DbUrl,
    pub dialect: Dialect,
    pub schema: Schema,
    settings: DatabaseSettings,
}

/// A boxed future borrowing the connection, for `Db::retrying`.
pub type OpFuture<'c, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'c>>;

impl Db {
    /// Connects with oslo.db's start-up retry policy, then reads the schema.
    pub async fn connect(settings: &DatabaseSettings) -> Result<Db> {
        let url = DbUrl::from_settings(settings)?;
        tracing::debug!(url = %url, "connecting");
        let conn = connect_with_retries(&url, settings).await?;
        let dialect = match conn {
            Conn::MySql(_) => Dialect::MySql,
            Conn::Sqlite(_) => Dialect::Sqlite,
        };
        let mut db = Db {
            conn,
            url,
            dialect,
            schema: Schema::default(),
            settings: settings.clone(),
        };
        db.schema = Schema::read(&mut db.conn)
            .await
            .with_context(|| format!("reading the schema of {}", db.url))?;
        db.schema.require_services(&db.url)?;
        Ok(db)
    }

    /// Replaces a broken connection, with the start-up retry policy.
    pub async fn reconnect(&mut self) -> Result<()> {
        self.conn = connect_with_retries(&self.url, &self.settings).await?;
        Ok(())
    }

    /// Runs `op` (one whole transaction or read) and, as oslo.db's `wrap_db_retry` does,
    /// runs it again after a deadlock, or after a lost connection when `use_db_reconnect` is
    /// set: waiting `db_retry_interval`, doubled each time up to `db_max_retry_interval` when
    /// `db_inc_retry_interval`, for up to `db_max_retries` retries (-1 = forever). `op` must
    /// leave nothing behind when it fails: a transaction it began is rolled back by the server
    /// when the statement fails or the connection goes.
    pub async fn retrying<T, F>(&mut self, what: &str, mut op: F) -> Result<T>
    where
        F: for<'c> FnMut(&'c mut Conn) -> OpFuture<'c, T>,
    {
        let s = self.settings.clone();
        let mut wait = s.db_retry_interval;
        let mut retries: i64 = 0;
        loop {
            let err = match op(&mut self.conn).await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            // Only the database's own errors are retried; anything else (the audit log, a
            // decoding bug) is final.
            let trouble = err
                .downcast_ref::<sqlx::Error>()
                .map_or(Trouble::Other, classify);
            let retryable = match trouble {
                Trouble::Deadlock => true,
                Trouble::LostConnection | Trouble::Unreachable(_) => s.use_db_reconnect,
                _ => false,
            };
            if !retryable || (s.db_max_retries >= 0 && retries >= s.db_max_retries) {
                if matches!(trouble, Trouble::LostConnection | Trouble::Unreachable(_)) {
                    return Err(err.context(format!(
                        "{what}: lost the connection to {}; nothing was changed by this step \
                         (set [database] use_db_reconnect = true to retry)",
                        self.url.target()
                    )));
                }
                return Err(err.context(what.to_string()));
            }
            retries += 1;
            eprintln!(
                "svcctl: {what}: {}; retry {retries}{}, in {wait}s",
                match trouble {
                    Trouble::Deadlock => "deadlock or lock wait".to_string(),
                    _ => format!("lost the connection to {}", self.url.target()),
                },
                if s.db_max_retries < 0 {
                    String::new()
                } else {
                    format!("/{}", s.db_max_retries)
                },
            );
            tokio::time::sleep(Duration::from_secs(wait)).await;
            if s.db_inc_retry_interval {
                wait = (wait * 2).clamp(1, s.db_max_retry_interval.max(1));
            }
            if !matches!(trouble, Trouble::Deadlock) {
                self.reconnect().await?;
            }
        }
    }
}

async fn connect_once(url: &DbUrl, settings: &DatabaseSettings) -> Result<Conn, sqlx::Error> {
    if let Some(opts) = url.mysql_options() {
        let connecting = opts.connect();
        let mut conn = match url.connect_timeout() {
            Some(t) => tokio::time::timeout(t, connecting)
                .await
                .map_err(|_| sqlx::Error::Io(IoKind::TimedOut.into()))??,
            None => connecting.await?,
        };
        // oslo.db's per-connection setup: the SQL mode, Galera's causality checks, UTC.
        sqlx::query("SET SESSION sql_mode = ?")
            .bind(&settings.mysql_sql_mode)
            .execute(&mut conn)
            .await?;
        if let Some(w) = settings.mysql_wsrep_sync_wait {
            sqlx::query("SET SESSION wsrep_sync_wait = ?")
                .bind(w)
                .execute(&mut conn)
                .await?;
        }
        return Ok(Conn::MySql(conn));
    }
    let opts = url.sqlite_options().expect("a URL is MySQL or SQLite");
    Ok(Conn::Sqlite(opts.connect().await?))
}

async fn connect_with_retries(url: &DbUrl, settings: &DatabaseSettings) -> Result<Conn> {
    if let DbUrl::Sqlite { path: Some(p), .. } = url
        && !p.exists()
    {
        return Err(super::url::missing_sqlite(p, settings));
    }
    // oslo.db: max_retries is the number of attempts; -1 tries forever.
    let attempts = settings.max_retries;
    let mut attempt: i64 = 1;
    loop {
        tracing::debug!(target = %url.target(), attempt, "connection attempt");
        let err = match connect_once(url, settings).await {
            Ok(conn) => return Ok(conn),
            Err(e) => e,
        };
        let target = url.target();
        let trouble = match classify(&err) {
            // A connection dropped during the handshake is the server not being ready yet.
            Trouble::LostConnection => {
                Trouble::Unreachable("connection lost during handshake".into())
            }
            t => t,
        };
        match trouble {
            Trouble::Unreachable(reason) => {
                if attempts >= 0 && attempt >= attempts.max(1) {
                    // The reason says it all; the driver's wording would only repeat it.
                    return Err(anyhow::anyhow!(
                        "cannot reach the database at {target} ({reason}) after {attempt} \
                         attempt{}; check that it runs and that [database] connection names it",
                        if attempt == 1 { "" } else { "s" }
                    ));
                }
                let of = if attempts < 0 {
                    String::from(" (retrying forever)")
                } else {
                    format!("/{attempts}")
                };
                eprintln!(
                    "database {target} unreachable ({reason}); attempt {}{of}, next in {}s",
                    attempt + 1,
                    settings.retry_interval
                );
                tokio::time::sleep(Duration::from_secs(settings.retry_interval)).await;
                attempt += 1;
            }
            _ => return Err(super::diagnose::connect_failure(&err, url, settings)),
        }
    }
}
