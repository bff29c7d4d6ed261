//! The Cinder database, the lowest layer: the connection and its dialect, statements
//! (`Stmt`: SQL and binds together), connecting and retrying under oslo.db's policy, the
//! schema as it is, and the typed reads. It returns data and never prints: progress (a wait
//! before a retry) goes to the `Notify` observer the caller supplies.

mod conn;
mod connect;
mod diagnose;
mod dialect;
pub(crate) mod hosted;
pub(crate) mod references;
mod schema;
pub(crate) mod services;
mod stmt;
pub(crate) mod url;

use std::time::Duration;

use anyhow::{Context, Result};

pub(crate) use conn::{Conn, Record};
pub(crate) use connect::{Trouble, classify};
pub(crate) use dialect::Dialect;
pub(crate) use schema::Schema;
pub(crate) use stmt::{Bind, Stmt};
use url::DbUrl;

/// The `[database]` options of oslo.db that svcctl honours, as the db layer needs them.
#[derive(Clone)]
pub(crate) struct Options {
    /// The SQLAlchemy URL. It holds the password: never print it, use `url::mask`.
    pub connection: String,
    /// Where `connection` was set (`path:line`, "the environment"), for messages; None when
    /// it was set nowhere and Cinder's default applies.
    pub connection_origin: Option<String>,
    /// When it was set nowhere: where it was looked for, and a near miss (`conection`).
    pub connection_unset: String,
    pub max_retries: i64,
    pub retry_interval: u64,
    pub use_db_reconnect: bool,
    pub db_retry_interval: u64,
    pub db_inc_retry_interval: bool,
    pub db_max_retry_interval: u64,
    pub db_max_retries: i64,
    pub mysql_sql_mode: String,
    pub mysql_wsrep_sync_wait: Option<i64>,
}

/// Progress worth telling the user about while svcctl waits; the caller renders it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Notice {
    /// Connecting: the server could not be reached; attempt `attempt` follows in `wait_secs`.
    Unreachable {
        target: String,
        reason: String,
        attempt: i64,
        /// The number of attempts allowed; negative for "forever".
        attempts: i64,
        wait_secs: u64,
    },
    /// A step (`what`) failed in a way oslo.db retries; retry number `retry` follows.
    Retrying {
        what: String,
        /// None for a deadlock or lock wait; else the server whose connection was lost.
        lost: Option<String>,
        retry: i64,
        /// `db_max_retries`; negative for "forever".
        max: i64,
        wait_secs: u64,
    },
}

/// Where notices go.
pub(crate) type Notify = fn(&Notice);

/// An open database with what svcctl learned about it.
pub(crate) struct Db {
    pub conn: Conn,
    pub url: DbUrl,
    pub dialect: Dialect,
    pub schema: Schema,
    options: Options,
    notify: Notify,
}

impl Db {
    /// Connects with oslo.db's start-up retry policy, then reads the schema.
    pub async fn connect(options: &Options, notify: Notify) -> Result<Db> {
        let url = DbUrl::from_options(options)?;
        tracing::debug!(url = %url, "connecting");
        let mut conn = connect::connect_with_retries(&url, options, notify).await?;
        let schema = Schema::read(&mut conn)
            .await
            .with_context(|| format!("reading the schema of {url}"))?;
        schema.require_services(&url)?;
        Ok(Db {
            dialect: conn.dialect(),
            conn,
            url,
            schema,
            options: options.clone(),
            notify,
        })
    }

    /// Replaces a broken connection, with the start-up retry policy.
    pub async fn reconnect(&mut self) -> Result<()> {
        self.conn = connect::connect_with_retries(&self.url, &self.options, self.notify).await?;
        Ok(())
    }

    /// Runs `op` (one whole transaction or read) and, as oslo.db's `wrap_db_retry` does,
    /// runs it again after a deadlock, or after a lost connection when `use_db_reconnect` is
    /// set: waiting `db_retry_interval`, doubled each time up to `db_max_retry_interval` when
    /// `db_inc_retry_interval`, for up to `db_max_retries` retries (-1 = forever). `op` must
    /// leave nothing behind when it fails: a transaction it began is rolled back by the server
    /// when the statement fails or the connection goes.
    pub async fn retrying<T>(
        &mut self,
        what: &str,
        mut op: impl AsyncFnMut(&mut Conn) -> Result<T>,
    ) -> Result<T> {
        let s = self.options.clone();
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
            (self.notify)(&Notice::Retrying {
                what: what.to_string(),
                lost: match trouble {
                    Trouble::Deadlock => None,
                    _ => Some(self.url.target()),
                },
                retry: retries,
                max: s.db_max_retries,
                wait_secs: wait,
            });
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
