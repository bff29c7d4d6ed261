//! Connecting to the Cinder database with oslo.db's start-up policy: `max_retries` attempts,
//! `retry_interval` apart, on connection errors only, each wait reported to the caller's
//! `Notify`; and `classify`, which tells the retry loop (`Db::retrying`) what went wrong.

use std::io::ErrorKind as IoKind;
use std::time::Duration;

use anyhow::Result;
use sqlx::ConnectOptions;
use sqlx::mysql::MySqlDatabaseError;

use super::conn::Conn;
use super::options::SqlxOptions;
use super::url::DbUrl;
use super::{Notice, Notify};
use crate::config::DatabaseSettings;

/// What went wrong, as far as retrying is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Trouble {
    /// The server could not be reached (refused, timed out, unknown host, Galera not ready).
    Unreachable(String),
    /// The connection broke during an operation (MySQL 2006/2013, the server shutting down or
    /// killing it).
    LostConnection,
    /// A deadlock or lock wait timeout (MySQL 1213/1205/1020, SQLite busy): retry the transaction.
    Deadlock,
    AccessDenied,
    UnknownDatabase,
    Other,
}

pub(crate) fn classify(e: &sqlx::Error) -> Trouble {
    match e {
        sqlx::Error::Io(io) => Trouble::Unreachable(io_reason(io)),
        sqlx::Error::PoolTimedOut => Trouble::Unreachable("timed out".into()),
        sqlx::Error::Database(db) => {
            if let Some(my) = db.try_downcast_ref::<MySqlDatabaseError>() {
                match my.number() {
                    1044 | 1045 | 1698 => Trouble::AccessDenied,
                    1049 => Trouble::UnknownDatabase,
                    2002 | 2003 | 1047 => Trouble::Unreachable(my.message().to_string()),
                    // Gone away, lost during a query, server shutting down, connection killed,
                    // disconnected for inactivity: the connection is no more.
                    2006 | 2013 | 1053 | 1927 | 4031 => Trouble::LostConnection,
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

/// The driver's own words for an error, once: sqlx's `Database` error repeats its source in
/// its own text, and an I/O error's kind says more to an operator than its message.
pub(crate) fn driver_text(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Io(io) => io_reason(io),
        sqlx::Error::Database(db) => db.to_string(),
        sqlx::Error::Protocol(p) => p.clone(),
        other => other.to_string(),
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

pub(super) async fn connect_once(
    url: &DbUrl,
    settings: &DatabaseSettings,
) -> Result<Conn, sqlx::Error> {
    let opts = match SqlxOptions::of(url) {
        SqlxOptions::MySql(opts) => opts,
        SqlxOptions::Sqlite(opts) => return Ok(Conn::Sqlite(opts.connect().await?)),
    };
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
    Ok(Conn::MySql(conn))
}

pub(super) async fn connect_with_retries(
    url: &DbUrl,
    settings: &DatabaseSettings,
    notify: Notify,
) -> Result<Conn> {
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
                        crate::text::plural(usize::try_from(attempt).unwrap_or(usize::MAX))
                    ));
                }
                notify(&Notice::Unreachable {
                    target: target.clone(),
                    reason,
                    attempt: attempt + 1,
                    attempts,
                    wait_secs: settings.retry_interval,
                });
                tokio::time::sleep(Duration::from_secs(settings.retry_interval)).await;
                attempt += 1;
            }
            _ => return Err(super::diagnose::connect_failure(&err, url, settings)),
        }
    }
}
