//! The writing transactions, and the one runner every one of them goes through.
//!
//! A command that changes the database describes its change as a [`Change`]: the statements
//! of one attempt (`apply`, run inside an open transaction through a [`Tx`]) and the audit
//! lines that record what they did (`audit`). [`run`] supplies everything else, the same way
//! for every change:
//!
//! 1. `BEGIN` (`BEGIN IMMEDIATE` on SQLite, so two writers queue instead of failing at COMMIT);
//! 2. `apply`: lock the rows by id in id order (`Tx::lock_services`), run the guarded UPDATE
//!    whose WHERE clause repeats the plan's safety conditions (`Tx::execute`), read the rows
//!    back to see what changed, and return that as the change's `Outcome`;
//! 3. append `audit(outcome)` to the audit log and sync it, *before* COMMIT: a change that is
//!    not on record is never committed;
//! 4. `COMMIT`.
//!
//! Any failure rolls back; when the attempt's lines were already appended, a `rolled_back`
//! line follows them. The whole attempt is retried under the `[database]` policy
//! (`Db::retrying`: deadlocks, and lost connections with `use_db_reconnect`), each attempt with
//! its own transaction id and timestamp (`Tx::now`, `Stamp`).
//!
//! To add a writing command (restore, purge, disable/enable, volume moves): implement
//! `Change` for a struct holding what the plan decided (ids, the safety condition as a
//! `Stmt`), with `apply` building its statements from `Tx::dialect`, and call `run`.
//! `soft_delete` is the worked example.

pub(crate) mod move_host;
pub(crate) mod set_disabled;
pub(crate) mod soft_delete;

use anyhow::Result;
use chrono::NaiveDateTime;
use serde::Serialize;

use crate::audit::{self, Actor, AuditLog, Stamp};
use crate::db::{Conn, Db, Dialect, Record, Schema, Stmt, services};
use crate::model::ServiceRow;

/// One writing transaction's own part; see the module documentation.
pub(crate) trait Change {
    /// What one attempt found and did, returned by `run` once it committed.
    type Outcome;
    /// The fields of this change's audit lines (beside event, time, txn, user, hostname).
    type Detail: Serialize;

    /// The step, as messages name it: "deleting services".
    fn what(&self) -> &str;

    /// The statements of one attempt, inside the open transaction: lock, guarded UPDATE, read
    /// back. Must not commit or roll back.
    async fn apply(&self, tx: &mut Tx<'_>) -> Result<Self::Outcome>;

    /// The audit lines (event name, detail) recording what `apply` did.
    fn audit(&self, outcome: &Self::Outcome) -> Vec<(&'static str, Self::Detail)>;
}

/// The open transaction, as `Change::apply` sees it.
pub(crate) struct Tx<'c> {
    conn: &'c mut Conn,
    schema: &'c Schema,
    /// This attempt's instant (UTC): what it writes into `deleted_at`, `updated_at`, ... and
    /// what its audit lines say.
    pub now: NaiveDateTime,
    /// This attempt's transaction id, as its audit lines name it (what `--undo TXN` takes).
    pub txn: String,
}

impl Tx<'_> {
    pub fn dialect(&self) -> Dialect {
        self.conn.dialect()
    }

    /// Locks the services with these ids (in id order, so two runs cannot deadlock each other
    /// on them) and reads them as they are now.
    pub async fn lock_services(&mut self, ids: &[i64]) -> Result<Vec<ServiceRow>> {
        services::lock_by_ids(self.conn, self.schema, ids).await
    }

    /// Runs a statement; returns the number of rows it changed.
    pub async fn execute(&mut self, stmt: &Stmt) -> Result<u64> {
        Ok(self.conn.execute(stmt).await?)
    }

    /// The connection and schema, for the db layer's own reads inside this transaction.
    pub fn conn_schema(&mut self) -> (&mut Conn, &Schema) {
        (&mut *self.conn, self.schema)
    }

    pub async fn fetch_all<T: Record>(&mut self, stmt: &Stmt) -> Result<Vec<T>> {
        Ok(self.conn.fetch_all(stmt).await?)
    }
}

/// Runs `change` in one transaction, retried under the `[database]` policy, audited before
/// COMMIT; see the module documentation.
pub(crate) async fn run<C: Change>(
    db: &mut Db,
    change: &C,
    audit: &mut AuditLog,
    actor: &Actor,
) -> Result<C::Outcome> {
    let schema = db.schema.clone();
    db.retrying(change.what(), async |conn| {
        attempt(conn, &schema, change, audit, actor).await
    })
    .await
}

/// One attempt: BEGIN, apply, audit, COMMIT; on failure ROLLBACK (and `rolled_back`).
async fn attempt<C: Change>(
    conn: &mut Conn,
    schema: &Schema,
    change: &C,
    log: &mut AuditLog,
    actor: &Actor,
) -> Result<C::Outcome> {
    let stamp = Stamp {
        txn: format!("{}-{}", std::process::id(), uuid_ish()),
        now: chrono::Utc::now().naive_utc(),
    };
    conn.control(conn.dialect().begin()).await?;
    let mut logged = false;
    let result = async {
        let mut tx = Tx {
            conn: &mut *conn,
            schema,
            now: stamp.now,
            txn: stamp.txn.clone(),
        };
        let outcome = change.apply(&mut tx).await?;
        crate::seams::pause(crate::seams::Seam::InTransaction).await;
        let lines: Vec<_> = change
            .audit(&outcome)
            .into_iter()
            .map(|(event, detail)| audit::Line::new(event, &stamp, actor, detail))
            .collect();
        log.append(&lines)?;
        logged = !lines.is_empty();
        conn.control("COMMIT").await?;
        Ok::<_, anyhow::Error>(outcome)
    }
    .await;
    match result {
        Ok(outcome) => Ok(outcome),
        Err(err) => {
            // Best effort: the server also rolls back when the connection is gone.
            let _ = conn.control("ROLLBACK").await;
            if logged {
                let detail = audit::RolledBack {
                    error: format!("{err:#}"),
                };
                let _ = log.append(&[audit::Line::new("rolled_back", &stamp, actor, detail)]);
            }
            Err(err)
        }
    }
}

/// A short random id for one transaction attempt in the audit log.
fn uuid_ish() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    format!("{:016x}", h.finish())
}
