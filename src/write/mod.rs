//! The writing transactions, and the one runner every one of them goes through.
//!
//! A command that changes the database describes its change as a [`Change`]: the statements
//! of one attempt (`apply`, run inside an open transaction through a [`Tx`]), whether what
//! they found refuses the whole change (`refuses`), the audit lines that record what they did
//! (`audit`), and how to recognise the attempt's write in the database (`landed`). [`run`]
//! supplies everything else, the same way for every change:
//!
//! 1. `BEGIN` (`BEGIN IMMEDIATE` on SQLite, so two writers queue instead of failing at COMMIT);
//! 2. `apply`: lock the rows by id in id order (`Tx::lock_services`), run the guarded UPDATE
//!    whose WHERE clause repeats the plan's safety conditions (`Tx::execute`), read the rows
//!    back to see what changed, and return that as the change's `Outcome`;
//! 3. all or nothing: when any planned row no longer qualified (`refuses`), `ROLLBACK` and
//!    return `Written::RolledBack`: nothing changed, nothing audited, the caller exits 3;
//! 4. append `audit(outcome)` to the audit log and sync it, *before* COMMIT: a change that is
//!    not on record is never committed;
//! 5. `COMMIT`.
//!
//! Any failure rolls back; when the attempt's lines were already appended, a `rolled_back`
//! line follows them. The whole attempt is retried under the `[database]` policy
//! (`Db::retrying_within`: deadlocks, lock-wait timeouts, and lost connections and failed
//! reconnects with `use_db_reconnect`, one retry each), each attempt with its own transaction
//! id and timestamp (`Tx::now`, `Stamp`).
//!
//! A connection lost after COMMIT was sent leaves the outcome open: the server may have
//! committed. Before anything is reported or retried, `run` connects again (same policy, even
//! without `use_db_reconnect`) and runs `landed`'s locking read: this attempt's own timestamp
//! on exactly the rows it changed. All there: committed (the lines already appended are the
//! record). None: rolled back (a `rolled_back` line), and retried. Anything else, or no
//! connection: exit 1 with an `outcome_unknown` line, never `rolled_back`.
//!
//! A writing command is an [`Operation`]: a plan (its `decide`, for `apply::run`'s flow) and
//! the [`Change`]s that carry it out, one module per operation with the plan's name
//! (`delete`, `restore`, `purge`, `toggle`, `cluster_toggle`, `move_host`, `cluster`). To add
//! one: its plan in `plan/`, its `Change` and `Operation` here, its rendering in `output/`;
//! `apply::run` and this runner do the rest. `delete` is the worked example, `cluster_toggle`
//! the smallest.

pub(crate) mod cluster;
pub(crate) mod cluster_toggle;
pub(crate) mod delete;
pub(crate) mod move_host;
pub(crate) mod purge;
pub(crate) mod restore;
pub(crate) mod toggle;

use anyhow::{Result, anyhow};
use chrono::NaiveDateTime;

use crate::audit::{self, Actor, AuditLog, Detail, Event, Stamp};
use crate::db::clusters::{self, ClusterRow};
use crate::db::{
    Budget, Cause, Conn, Db, Dialect, GaveUp, Retry, Schema, Stmt, Trouble, classify, services,
};
use crate::model::ServiceRow;
use crate::plan::Decision;

/// A writing command's own part, for `apply::run`: what its plan decided, and the
/// transactions that carry it out.
pub(crate) trait Operation {
    /// What one transaction did.
    type Outcome;
    /// One transaction, borrowing the plan.
    type Change<'a>: Change<Outcome = Self::Outcome>
    where
        Self: 'a;

    /// The plan's verdict, with or without `--force`.
    fn decide(&self, force: bool) -> Decision;

    /// The transactions to run, in order: one for most commands, one per batch for a purge.
    fn changes<'a>(&'a self, db: &Db, force: bool) -> Vec<Self::Change<'a>>;

    /// Work after the operator agreed and before the first transaction, with the audit log
    /// already open (`backend cleanup` stops the backend's processes here).
    async fn before_write(&self) -> Result<()> {
        Ok(())
    }
}

/// One writing transaction's own part; see the module documentation.
pub(crate) trait Change {
    /// What one attempt found and did, returned by `run` once it committed.
    type Outcome;

    /// The step, as messages name it: "deleting services".
    fn what(&self) -> &str;

    /// The statements of one attempt, inside the open transaction: lock, guarded UPDATE, read
    /// back. Must not commit or roll back.
    async fn apply(&self, tx: &mut Tx<'_>) -> Result<Self::Outcome>;

    /// The audit lines (event, detail) recording what `apply` did; the runner adds who, when,
    /// which transaction and which database.
    fn audit(&self, outcome: &Self::Outcome) -> Vec<(Event, Detail)>;

    /// All or nothing: true when a planned row no longer qualified at write time (came up,
    /// gained a reference), so that the whole transaction is rolled back.
    fn refuses(&self, outcome: &Self::Outcome) -> bool;

    /// How to tell whether the attempt that wrote `outcome` at `now` committed, when the
    /// answer to its COMMIT was lost; None when it changed nothing.
    fn landed(&self, outcome: &Self::Outcome, now: NaiveDateTime, d: Dialect) -> Option<Landed>;
}

/// A read that finds one attempt's write by what identifies it.
pub(crate) struct Landed {
    /// `SELECT COUNT(*) ...` of the rows carrying the attempt's mark, locking them (so it
    /// waits for a transaction the server still holds open).
    pub count: Stmt,
    /// The count when the attempt committed (0 when it did not).
    pub expect: i64,
    /// What an operator should look at when svcctl cannot tell, in a phrase.
    pub check: String,
}

impl Landed {
    /// Counts the rows of `table` among `ids` whose columns match `mark` (what this attempt
    /// wrote on them), locking them; the attempt committed when all of them match.
    /// `expect` is `ids.len()`; None when there are no rows.
    pub fn marked(
        table: &str,
        ids: &[i64],
        mark: &Stmt,
        d: Dialect,
        check: String,
    ) -> Option<Landed> {
        if ids.is_empty() {
            return None;
        }
        let mut count = Stmt::new(format!("SELECT COUNT(*) FROM {table} WHERE id IN ("));
        count
            .push_list(ids.iter().copied())
            .push(") AND ")
            .push_stmt(mark)
            .push(d.for_update());
        Some(Landed {
            count,
            expect: i64::try_from(ids.len()).unwrap_or(i64::MAX),
            check,
        })
    }
}

/// The ids as a message lists them: `3, 4, 9`.
pub(crate) fn id_list(ids: &[i64]) -> String {
    ids.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// How a change ended.
#[derive(Debug)]
pub(crate) enum Written<O> {
    /// Committed (and audited).
    Committed(O),
    /// Refused at write time, all or nothing: rolled back; nothing changed or audited.
    RolledBack(O),
}

/// How one attempt ended, for `run`.
enum Attempt<O> {
    Done(Written<O>),
    /// COMMIT was sent and the connection went before its answer came.
    CommitLost(CommitLost<O>),
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

    /// Locks the clusters with these ids (in id order) and reads them as they are now.
    pub async fn lock_clusters(&mut self, ids: &[i64]) -> Result<Vec<ClusterRow>> {
        clusters::lock_by_ids(self.conn, self.schema, ids).await
    }

    /// Locks the live clusters among these (name, binary) pairs.
    pub async fn lock_live_clusters(
        &mut self,
        pairs: &[(String, String)],
    ) -> Result<Vec<ClusterRow>> {
        clusters::lock_live_named(self.conn, self.schema, pairs).await
    }

    pub fn schema(&self) -> &Schema {
        self.schema
    }

    /// Runs a statement; returns the number of rows it changed.
    pub async fn execute(&mut self, stmt: &Stmt) -> Result<u64> {
        Ok(self.conn.execute(stmt).await?)
    }

    /// The connection and schema, for the db layer's own reads inside this transaction.
    pub fn conn_schema(&mut self) -> (&mut Conn, &Schema) {
        (&mut *self.conn, self.schema)
    }
}

/// Runs `change` in one transaction, retried under the `[database]` policy, audited before
/// COMMIT, a lost COMMIT resolved; see the module documentation.
pub(crate) async fn run<C: Change>(
    db: &mut Db,
    change: &C,
    audit: &mut AuditLog,
    actor: &Actor,
) -> Result<Written<C::Outcome>> {
    let schema = db.schema.clone();
    let what = change.what().to_string();
    let mut budget = db.budget();
    let reconnect = db.reconnects();
    loop {
        let tried = db
            .retrying_within(
                &what,
                &mut budget,
                Retry {
                    lost: false,
                    reconnect,
                },
                async |conn| attempt(conn, &schema, change, audit, actor).await,
            )
            .await?;
        let lost = match tried {
            Attempt::Done(written) => return Ok(written),
            Attempt::CommitLost(lost) => lost,
        };
        let reason = lost.reason.clone();
        if let Some(written) =
            resolve_lost_commit(db, change, lost, &mut budget, audit, actor).await?
        {
            return Ok(written);
        }
        // It did not commit: retry, under the same budget, when reconnecting is allowed.
        if !reconnect {
            return Err(anyhow!(
                "{what}: lost the connection to {} after COMMIT was sent ({reason}); it did not \
                 commit, nothing was changed (set [database] use_db_reconnect = true to retry)",
                db.url.target()
            ));
        }
        let cause = Cause::Lost {
            target: db.url.target(),
            reason,
        };
        db.spend_retry(&what, &mut budget, cause).await?;
    }
}

/// An attempt whose COMMIT was sent and whose answer never came.
struct CommitLost<O> {
    outcome: O,
    stamp: Stamp,
    /// The driver's words for the lost connection.
    reason: String,
    /// Its audit lines were appended (so a `rolled_back` or `outcome_unknown` line must follow).
    logged: bool,
}

/// Finds out, after reconnecting, whether the attempt whose COMMIT answer was lost committed:
/// `landed`'s locking read of the attempt's own mark on exactly its rows. Committed: the
/// outcome (its lines stand). Not committed: None, after a `rolled_back` line (the caller
/// retries). Cannot tell: an error, after an `outcome_unknown` line; never `rolled_back`.
async fn resolve_lost_commit<C: Change>(
    db: &mut Db,
    change: &C,
    lost: CommitLost<C::Outcome>,
    budget: &mut Budget,
    audit: &mut AuditLog,
    actor: &Actor,
) -> Result<Option<Written<C::Outcome>>> {
    let what = change.what();
    let CommitLost {
        outcome,
        stamp,
        reason,
        logged,
    } = lost;
    let lost = format!(
        "lost the connection to {} after COMMIT was sent ({reason})",
        db.url.target()
    );
    let Some(landed) = change.landed(&outcome, stamp.now, db.dialect) else {
        // It changed nothing: committed or not, the outcome is the same.
        return Ok(Some(Written::Committed(outcome)));
    };
    let checking = format!("{what}: checking whether its COMMIT landed");
    let found = db
        .retrying_within(
            &checking,
            budget,
            Retry {
                lost: true,
                reconnect: true,
            },
            async |conn| count_locked(conn, &landed.count).await,
        )
        .await;
    let why = match found {
        Ok(n) if n == landed.expect => {
            db.note(&crate::db::Notice::CommitChecked {
                what: what.to_string(),
                committed: true,
            });
            return Ok(Some(Written::Committed(outcome)));
        }
        Ok(0) => {
            db.note(&crate::db::Notice::CommitChecked {
                what: what.to_string(),
                committed: false,
            });
            if logged {
                let detail = Detail {
                    error: Some(format!("{lost}; it did not commit")),
                    ..Detail::default()
                };
                let line = audit::Line::new(Event::RolledBack, &stamp, actor, detail);
                audit.append(&[line])?;
            }
            return Ok(None);
        }
        Ok(n) => format!(
            "{n} of the {} rows it changed carry its timestamp now",
            landed.expect
        ),
        Err(e) => match e.downcast_ref::<GaveUp>().map(|g| &g.cause) {
            Some(Cause::Reconnect { reason, .. }) => {
                format!("could not reconnect to check ({reason})")
            }
            Some(Cause::Lost { reason, .. }) => {
                format!("lost the connection again while checking ({reason})")
            }
            Some(Cause::Deadlock) => "the rows stayed locked while checking (lock wait)".into(),
            None => format!("could not check ({e:#})"),
        },
    };
    let kept = if logged {
        let detail = Detail {
            note: Some(format!(
                "outcome unknown: {lost}; {why}; check {}",
                landed.check
            )),
            ..Detail::default()
        };
        let line = audit::Line::new(Event::OutcomeUnknown, &stamp, actor, detail);
        audit.append(&[line]).map_or_else(
            |e| format!("; the audit log could not say so ({e:#})"),
            |()| format!("; audit txn {} is marked outcome_unknown", stamp.txn),
        )
    } else {
        String::new()
    };
    Err(anyhow!(
        "{what}: outcome unknown: {lost}; {why}; check {}{kept}",
        landed.check
    ))
}

/// The locking count that finds an attempt's write (`Landed::count`), in a transaction of its
/// own that changes nothing. On Galera it first waits until this node has applied everything
/// committed in the cluster (`wsrep_sync_wait`), so a COMMIT made through another node is seen.
async fn count_locked(conn: &mut Conn, count: &Stmt) -> Result<i64> {
    if conn.dialect() == Dialect::MySql
        && let Err(e) = conn
            .control("SET SESSION wsrep_sync_wait = @@wsrep_sync_wait | 1")
            .await
        && !matches!(e, sqlx::Error::Database(_))
    {
        // A server without Galera has no such variable (an error, harmless); a lost
        // connection is not harmless.
        return Err(e.into());
    }
    conn.control(conn.dialect().begin()).await?;
    let (n,): (i64,) = conn.fetch_one(count).await?;
    let _ = conn.control("ROLLBACK").await;
    Ok(n)
}

/// One attempt: BEGIN, apply, (all or nothing), audit, COMMIT; on failure ROLLBACK (and
/// `rolled_back`); a connection lost at COMMIT is `CommitLost`, for `run` to resolve.
async fn attempt<C: Change>(
    conn: &mut Conn,
    schema: &Schema,
    change: &C,
    log: &mut AuditLog,
    actor: &Actor,
) -> Result<Attempt<C::Outcome>> {
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
        if change.refuses(&outcome) {
            // Uncommitted either way: a failed ROLLBACK means a lost connection, and the
            // server rolls back what it loses.
            let _ = conn.control("ROLLBACK").await;
            return Ok(Attempt::Done(Written::RolledBack(outcome)));
        }
        let lines: Vec<_> = change
            .audit(&outcome)
            .into_iter()
            .map(|(event, detail)| audit::Line::new(event, &stamp, actor, detail))
            .collect();
        log.append(&lines)?;
        logged = !lines.is_empty();
        match conn.control("COMMIT").await {
            Ok(()) => Ok(Attempt::Done(Written::Committed(outcome))),
            Err(e)
                if matches!(
                    classify(&e),
                    Trouble::LostConnection | Trouble::Unreachable(_)
                ) =>
            {
                Ok(Attempt::CommitLost(CommitLost {
                    outcome,
                    reason: crate::db::driver_text(&e),
                    stamp: stamp.clone(),
                    logged,
                }))
            }
            Err(e) => Err(e.into()),
        }
    }
    .await;
    match result {
        Ok(done) => Ok(done),
        Err(err) => {
            // Best effort: the server also rolls back when the connection is gone.
            let _ = conn.control("ROLLBACK").await;
            if logged {
                let detail = Detail {
                    error: Some(format!("{err:#}")),
                    ..Detail::default()
                };
                let _ = log.append(&[audit::Line::new(Event::RolledBack, &stamp, actor, detail)]);
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
