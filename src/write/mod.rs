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
//! 5. `COMMIT`, and once it is acknowledged a `committed` line that confirms the transaction.
//!
//! Any failure rolls back; when the attempt's lines were already appended, a `rolled_back`
//! line follows them. The whole attempt is retried under the `[database]` policy
//! (`Db::retrying_within`: deadlocks, lock-wait timeouts, and lost connections and failed
//! reconnects with `use_db_reconnect`, one retry each), each attempt with its own transaction
//! id and timestamp (`Tx::now`, `Stamp`).
//!
//! A connection lost after COMMIT was sent leaves the outcome open: the server may have
//! committed. Before anything is reported or retried, `run` connects again (same policy, even
//! without `use_db_reconnect`) and runs the read-back of the attempt's own lines
//! (`audit::transactions::Landed`, the one readers run on an unconfirmed transaction): this
//! attempt's own mark on exactly the rows it changed. There: committed (a `committed` line).
//! Not there: rolled back (a `rolled_back` line), and retried. Cannot tell, or no connection:
//! exit 5 with an `outcome_unknown` line, never `rolled_back`.
//!
//! A stop (SIGINT, SIGTERM, `--timeout`: `interrupt`) is the runner's to handle from the intent
//! lines to the line that ends the transaction (`interrupt::Critical`): before COMMIT is sent,
//! it rolls back and records `rolled_back`; once COMMIT is sent, it waits for the answer (up to
//! `interrupt::GRACE` more) or reads back as for a lost connection, records the truth, and stops
//! there, a committed change standing. No transaction begins once the run was stopped.
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
use chrono::{NaiveDateTime, SubsecRound};

use crate::audit::transactions::{self, Landed, Verdict, count_locked};
use crate::audit::{self, Actor, AuditLog, Detail, Event, Stamp};
use crate::db::clusters::{self, ClusterRow};
use crate::db::{
    Budget, Cause, Conn, Db, Dialect, GaveUp, Notice, Notify, Retry, Schema, Stmt, Trouble,
    classify, services,
};
use crate::error::Failure;
use crate::interrupt::{self, Critical, Stopped};
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
/// COMMIT and confirmed after it, a lost COMMIT resolved, a stop handled where it came; see the
/// module documentation.
pub(crate) async fn run<C: Change>(
    db: &mut Db,
    change: &C,
    audit: &mut AuditLog,
    actor: &Actor,
) -> Result<Written<C::Outcome>> {
    interrupt::begin_write()?;
    let schema = db.schema.clone();
    let what = change.what().to_string();
    let mut budget = db.budget();
    let reconnect = db.reconnects();
    let notify = db.notifier();
    let target = db.url.target();
    loop {
        let tried = db
            .retrying_within(
                &what,
                &mut budget,
                Retry {
                    lost: false,
                    reconnect,
                },
                async |conn| attempt(conn, &schema, change, audit, actor, notify, &target).await,
            )
            .await?;
        let lost = match tried {
            Attempt::Done(written) => return stop_after(written),
            Attempt::CommitLost(lost) => lost,
        };
        let (why, reason) = (lost.why.clone(), lost.reason.clone());
        if let Some(written) =
            resolve_lost_commit(db, change, lost, &mut budget, audit, actor).await?
        {
            return stop_after(written);
        }
        // It did not commit: nothing was changed. Stopped: no new attempt; else retry, under
        // the same budget, when reconnecting is allowed.
        interrupt::begin_write()?;
        if !reconnect {
            return Err(anyhow!(
                "{what}: {why}; it did not commit, nothing was changed (set [database] \
                 use_db_reconnect = true to retry)"
            ));
        }
        let cause = Cause::Lost {
            target: target.clone(),
            reason,
        };
        db.spend_retry(&what, &mut budget, cause).await?;
    }
}

/// A committed change stands, confirmed; when the run was stopped while its COMMIT was in
/// flight, it stops right here (nothing after it runs, nothing more is shown).
fn stop_after<O>(written: Written<O>) -> Result<Written<O>> {
    if let Written::Committed(_) = &written
        && let Some(cause) = interrupt::cause()
    {
        return Err(Stopped(cause).into());
    }
    Ok(written)
}

/// An attempt whose COMMIT was sent and whose answer never came.
struct CommitLost<O> {
    outcome: O,
    stamp: Stamp,
    /// What happened, in a phrase: "lost the connection to H after COMMIT was sent (...)".
    why: String,
    /// The driver's words for the lost connection (or that no answer came in time).
    reason: String,
    /// The attempt's intent lines (appended to the log unless there is none).
    lines: Vec<audit::Line>,
    /// Its audit lines were appended (so a line that ends the transaction must follow).
    logged: bool,
    /// Its critical section, still open: the outcome is not on record yet.
    _critical: Critical,
}

/// Confirms a committed transaction that changed something: the `committed` line after its
/// intent lines (`note` says how the commit was found, when not by its answer), and the run's
/// record of it. Should the line not be written, the change still stands: its lines stay
/// unconfirmed, and a reader checks them in the database (said once on stderr).
fn confirm(
    log: &mut AuditLog,
    stamp: &Stamp,
    actor: &Actor,
    lines: &[audit::Line],
    note: Option<String>,
    notify: Notify,
) {
    if lines.is_empty() {
        return;
    }
    let detail = Detail {
        note,
        ..Detail::default()
    };
    if let Err(e) = log.append(&[audit::Line::new(Event::Committed, stamp, actor, detail)]) {
        notify(&Notice::Unconfirmed {
            txn: stamp.txn.clone(),
            reason: format!("{e:#}"),
        });
    }
    interrupt::committed(&stamp.txn, log.path());
}

/// Finds out, after reconnecting, whether the attempt whose COMMIT answer was lost (or not
/// waited for, once stopped) committed: the read-back of its own lines, locking its rows.
/// Committed: the outcome, after a `committed` line. Not committed: None, after a `rolled_back`
/// line (the caller retries). Cannot tell: `OutcomeUnknown` (exit 5), after an
/// `outcome_unknown` line; never `rolled_back`.
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
        why: lost,
        lines,
        logged,
        _critical,
        ..
    } = lost;
    let refs: Vec<&audit::Line> = lines.iter().collect();
    let Some(landed) = Landed::of(&refs, &db.schema, db.dialect) else {
        // It changed nothing: committed or not, the outcome is the same.
        return Ok(Some(Written::Committed(outcome)));
    };
    let checking = format!("{what}: checking whether its COMMIT landed");
    let found = interrupt::bounded(db.retrying_within(
        &checking,
        budget,
        Retry {
            lost: true,
            reconnect: true,
        },
        async |conn| count_locked(conn, &landed.count).await,
    ))
    .await;
    let why = match found {
        Some(Ok(n)) => match landed.judge(n) {
            Verdict::Landed => {
                db.note(&Notice::CommitChecked {
                    what: what.to_string(),
                    committed: true,
                });
                let note = format!("{lost}; read back after reconnecting, it committed");
                confirm(audit, &stamp, actor, &lines, Some(note), db.notifier());
                return Ok(Some(Written::Committed(outcome)));
            }
            Verdict::NotLanded => {
                db.note(&Notice::CommitChecked {
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
            Verdict::Partly(n) => format!(
                "{n} of the {} rows it changed carry its mark now",
                landed.expect
            ),
        },
        Some(Err(e)) => match e.downcast_ref::<GaveUp>().map(|g| &g.cause) {
            Some(Cause::Reconnect { reason, .. }) => {
                format!("could not reconnect to check ({reason})")
            }
            Some(Cause::Lost { reason, .. }) => {
                format!("lost the connection again while checking ({reason})")
            }
            Some(Cause::Deadlock) => "the rows stayed locked while checking (lock wait)".into(),
            None => format!("could not check ({e:#})"),
        },
        None => format!(
            "the check did not finish within {}s of {}",
            interrupt::GRACE.as_secs(),
            interrupt::cause().map_or_else(|| "the stop".into(), |c| c.name())
        ),
    };
    let check = transactions::how_to_check(&refs, &stamp.txn, audit.path(), &landed);
    let kept = if logged {
        let detail = Detail {
            note: Some(format!("outcome unknown: {lost}; {why}; {check}")),
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
    Err(Failure::OutcomeUnknown(format!(
        "{what}: outcome unknown: {lost}; {why}; {check}{kept}"
    ))
    .into())
}

/// One attempt: BEGIN, apply, (all or nothing), audit, COMMIT, confirm; on failure ROLLBACK
/// (and `rolled_back`); a COMMIT whose answer did not come is `CommitLost`, for `run` to
/// resolve.
async fn attempt<C: Change>(
    conn: &mut Conn,
    schema: &Schema,
    change: &C,
    log: &mut AuditLog,
    actor: &Actor,
    notify: Notify,
    target: &str,
) -> Result<Attempt<C::Outcome>> {
    let stamp = Stamp {
        txn: format!("{}-{}", std::process::id(), uuid_ish()),
        // To the microsecond, as the audit line and SQLite write it: the instant a reader
        // parses back from the line is the one this attempt wrote.
        now: chrono::Utc::now().naive_utc().trunc_subsecs(6),
    };
    conn.control(conn.dialect().begin()).await?;
    let mut logged = false;
    // From the intent lines to the line that ends the transaction, a stop is this attempt's
    // to handle; the section ends when this function (or `resolve_lost_commit`) has said how.
    let mut critical: Option<Critical> = None;
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
        let section = critical.insert(Critical::enter());
        log.append(&lines)?;
        // With `--no-audit` there is no log to end the transaction in.
        logged = !lines.is_empty() && log.path().is_some();
        let refs: Vec<&audit::Line> = lines.iter().collect();
        let check = Landed::of(&refs, schema, conn.dialect()).map_or_else(
            || "it changed nothing".to_string(),
            |landed| transactions::how_to_check(&refs, &stamp.txn, log.path(), &landed),
        );
        if let Err(cause) = section.commit(&stamp.txn, check) {
            // Stopped before COMMIT was sent: it cannot commit now; rolled back below.
            return Err(anyhow::Error::new(Stopped(cause))
                .context(format!("{}: stopped before COMMIT was sent", change.what())));
        }
        match interrupt::bounded(conn.control("COMMIT")).await {
            Some(Ok(())) => {
                confirm(log, &stamp, actor, &lines, None, notify);
                Ok(Attempt::Done(Written::Committed(outcome)))
            }
            Some(Err(e))
                if matches!(
                    classify(&e),
                    Trouble::LostConnection | Trouble::Unreachable(_)
                ) =>
            {
                let reason = crate::db::driver_text(&e);
                Ok(Attempt::CommitLost(CommitLost {
                    outcome,
                    why: format!(
                        "lost the connection to {target} after COMMIT was sent ({reason})"
                    ),
                    reason,
                    stamp: stamp.clone(),
                    lines,
                    logged,
                    _critical: critical.take().expect("in the critical section"),
                }))
            }
            // The server refused the COMMIT (a Galera certification failure): not committed.
            Some(Err(e)) => Err(e.into()),
            None => {
                let reason = format!(
                    "no answer within {}s of {}",
                    interrupt::GRACE.as_secs(),
                    interrupt::cause().map_or_else(|| "the stop".into(), |c| c.name())
                );
                Ok(Attempt::CommitLost(CommitLost {
                    outcome,
                    why: format!("had {reason} to the COMMIT sent to {target}"),
                    reason,
                    stamp: stamp.clone(),
                    lines,
                    logged,
                    _critical: critical.take().expect("in the critical section"),
                }))
            }
        }
    }
    .await;
    match result {
        Ok(done) => Ok(done),
        Err(err) => {
            // Best effort, and bounded once stopped: the server also rolls back when the
            // connection is gone, and no COMMIT was sent or it failed.
            let _ = interrupt::bounded(conn.control("ROLLBACK")).await;
            if logged {
                let detail = Detail {
                    error: Some(format!("{err:#}")),
                    ..Detail::default()
                };
                let _ = log.append(&[audit::Line::new(Event::RolledBack, &stamp, actor, detail)]);
            }
            drop(critical);
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
