//! The Cinder database, the lowest layer: the connection and its dialect, statements
//! (`Stmt`: SQL and binds together), connecting and retrying under oslo.db's policy, the
//! schema as it is, and the typed reads. It returns data and never prints: progress (a wait
//! before a retry) goes to the `Notify` observer the caller supplies.

pub(crate) mod clusters;
mod conn;
mod connect;
mod diagnose;
mod dialect;
pub(crate) mod foreign_keys;
pub(crate) mod hosted;
pub(crate) mod identity;
mod options;
pub(crate) mod references;
mod schema;
pub(crate) mod services;
mod stmt;
pub(crate) mod url;

use std::time::Duration;

use anyhow::{Context, Result};

pub(crate) use conn::Conn;
pub(crate) use connect::{Trouble, classify, driver_text};
pub(crate) use dialect::Dialect;
pub(crate) use schema::Schema;
pub(crate) use stmt::{Bind, Stmt};
use url::DbUrl;

use crate::config::DatabaseSettings;

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
        cause: Cause,
        retry: i64,
        /// `db_max_retries`; negative for "forever".
        max: i64,
        wait_secs: u64,
    },
    /// The answer to a COMMIT of `what` was lost; reading back after reconnecting showed
    /// whether it `committed`.
    CommitChecked { what: String, committed: bool },
    /// Transaction `txn` committed, but the `committed` line that confirms it could not be
    /// appended to the audit log (`reason`): its lines stay unconfirmed there.
    Unconfirmed { txn: String, reason: String },
}

/// Why a step is retried: each of these counts as one retry under the `db_*` policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cause {
    /// A deadlock or lock-wait timeout: the transaction was rolled back.
    Deadlock,
    /// The connection to `target` broke (`reason`, the driver's words).
    Lost { target: String, reason: String },
    /// Connecting to `target` again failed.
    Reconnect { target: String, reason: String },
}

/// The retries a step has used and the wait before the next, under the `db_*` policy. One
/// budget can span several calls (a write, then the check of a COMMIT whose answer was lost).
pub(crate) struct Budget {
    pub retries: i64,
    wait: u64,
}

/// Where notices go.
pub(crate) type Notify = fn(&Notice);

/// An open database with what svcctl learned about it.
pub(crate) struct Db {
    pub conn: Conn,
    pub url: DbUrl,
    pub dialect: Dialect,
    pub schema: Schema,
    settings: DatabaseSettings,
    notify: Notify,
}

impl Db {
    /// Connects with oslo.db's start-up retry policy, then reads the schema.
    pub async fn connect(settings: &DatabaseSettings, notify: Notify) -> Result<Db> {
        let url = DbUrl::from_settings(settings)?;
        tracing::debug!(url = %url, "connecting");
        let mut conn = connect::connect_with_retries(&url, settings, notify).await?;
        let schema = Schema::read(&mut conn)
            .await
            .with_context(|| format!("reading the schema of {url}"))?;
        schema.require_services(&url)?;
        Ok(Db {
            dialect: conn.dialect(),
            conn,
            url,
            schema,
            settings: settings.clone(),
            notify,
        })
    }

    /// Tells the caller's observer, for steps taken outside `retrying` (the write runner).
    pub fn note(&self, notice: &Notice) {
        (self.notify)(notice)
    }

    /// The caller's observer, for steps that run while `self` is borrowed (the write runner's
    /// attempt).
    pub fn notifier(&self) -> Notify {
        self.notify
    }

    /// A fresh retry budget under the `db_*` policy.
    pub fn budget(&self) -> Budget {
        Budget {
            retries: 0,
            wait: self.settings.db_retry_interval,
        }
    }

    /// Whether a lost connection may be replaced to retry a step (`use_db_reconnect`).
    pub fn reconnects(&self) -> bool {
        self.settings.use_db_reconnect
    }

    /// Runs `op` (one whole transaction or read) and, as oslo.db's `wrap_db_retry` documents,
    /// runs it again after a deadlock or lock-wait timeout, or after a lost connection when
    /// `use_db_reconnect` is set; see `retrying_within`.
    pub async fn retrying<T>(
        &mut self,
        what: &str,
        op: impl AsyncFnMut(&mut Conn) -> Result<T>,
    ) -> Result<T> {
        let mut budget = self.budget();
        let reconnect = self.settings.use_db_reconnect;
        self.retrying_within(
            what,
            &mut budget,
            Retry {
                lost: false,
                reconnect,
            },
            op,
        )
        .await
    }

    /// The one retry loop. Each failure of `op` that oslo.db retries (a deadlock, a lock-wait
    /// timeout, a lost connection when `retry.reconnect`) and each failed attempt to connect
    /// again counts as one retry: one `Notice`, then a wait of `db_retry_interval`, doubled each
    /// time up to `db_max_retry_interval` when `db_inc_retry_interval`, for up to
    /// `db_max_retries` retries (-1 = forever: only `--timeout` and Ctrl-C end it). Connecting
    /// again is one attempt per retry; the start-up policy (`max_retries`) is for the first
    /// connection only. `op` must leave nothing behind when it fails: a transaction it began
    /// is rolled back by the server when the statement fails or the connection goes.
    pub async fn retrying_within<T>(
        &mut self,
        what: &str,
        budget: &mut Budget,
        retry: Retry,
        mut op: impl AsyncFnMut(&mut Conn) -> Result<T>,
    ) -> Result<T> {
        let s = self.settings.clone();
        let target = self.url.target();
        let mut lost = retry.lost;
        loop {
            let (err, cause) = if lost {
                match connect::connect_once(&self.url, &s).await {
                    Ok(conn) => {
                        self.conn = conn;
                        lost = false;
                        continue;
                    }
                    Err(e) => match classify(&e) {
                        Trouble::LostConnection | Trouble::Unreachable(_) => {
                            let reason = match classify(&e) {
                                Trouble::Unreachable(r) => r,
                                _ => "connection lost during handshake".into(),
                            };
                            (
                                e,
                                Cause::Reconnect {
                                    target: target.clone(),
                                    reason,
                                },
                            )
                        }
                        _ => {
                            return Err(anyhow::anyhow!(
                                "{what}: cannot connect to {target} again: {}; check [database] \
                                 connection",
                                connect::driver_text(&e)
                            ));
                        }
                    },
                }
            } else {
                let err = match op(&mut self.conn).await {
                    Ok(v) => return Ok(v),
                    Err(e) => e,
                };
                // Only the database's own errors are retried; anything else (the audit log, a
                // decoding bug, a refusal) is final, as it is.
                let Some(e) = err.downcast_ref::<sqlx::Error>() else {
                    return Err(err);
                };
                let cause = match classify(e) {
                    Trouble::Deadlock => Cause::Deadlock,
                    Trouble::LostConnection | Trouble::Unreachable(_) => Cause::Lost {
                        target: target.clone(),
                        reason: connect::driver_text(e),
                    },
                    _ => {
                        return Err(anyhow::anyhow!("{what}: {}", connect::driver_text(e)));
                    }
                };
                match err.downcast::<sqlx::Error>() {
                    Ok(e) => (e, cause),
                    Err(err) => return Err(err),
                }
            };
            if matches!(cause, Cause::Lost { .. }) && !retry.reconnect {
                return Err(anyhow::anyhow!(
                    "{what}: lost the connection to {target} ({}); nothing was changed by this \
                     step (set [database] use_db_reconnect = true to retry)",
                    connect::driver_text(&err)
                ));
            }
            self.spend_retry(what, budget, cause.clone()).await?;
            if !matches!(cause, Cause::Deadlock) {
                lost = true;
            }
        }
    }

    /// Counts one retry of `what` for `cause`: a notice, then the wait, the next one longer;
    /// `GaveUp` when `db_max_retries` are spent.
    pub async fn spend_retry(
        &mut self,
        what: &str,
        budget: &mut Budget,
        cause: Cause,
    ) -> Result<()> {
        let s = &self.settings;
        if s.db_max_retries >= 0 && budget.retries >= s.db_max_retries {
            return Err(GaveUp {
                what: what.to_string(),
                cause,
                retries: budget.retries,
            }
            .into());
        }
        budget.retries += 1;
        (self.notify)(&Notice::Retrying {
            what: what.to_string(),
            cause,
            retry: budget.retries,
            max: s.db_max_retries,
            wait_secs: budget.wait,
        });
        tokio::time::sleep(Duration::from_secs(budget.wait)).await;
        if s.db_inc_retry_interval {
            budget.wait = (budget.wait * 2).clamp(1, s.db_max_retry_interval.max(1));
        }
        Ok(())
    }
}

/// A step failed once more than `db_max_retries` allow.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {cause}; {}; nothing was changed by this step", tried(*.retries))]
pub(crate) struct GaveUp {
    pub what: String,
    pub cause: Cause,
    pub retries: i64,
}

fn tried(retries: i64) -> String {
    match retries {
        0 => "db_max_retries = 0".into(),
        1 => "after 1 retry (db_max_retries)".into(),
        n => format!("after {n} retries (db_max_retries)"),
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cause::Deadlock => write!(f, "deadlock or lock wait"),
            Cause::Lost { target, reason } => {
                write!(f, "lost the connection to {target} ({reason})")
            }
            Cause::Reconnect { target, reason } => {
                write!(f, "cannot reconnect to {target} ({reason})")
            }
        }
    }
}

/// How `retrying_within` treats the connection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Retry {
    /// The connection is known to be gone: connect again before the first try.
    pub lost: bool,
    /// A lost connection is replaced and the step retried (`use_db_reconnect`, or a step that
    /// must reconnect whatever it says, such as finding out whether a COMMIT landed).
    pub reconnect: bool,
}
