//! Deciding what `service restore` puts back: which deletion on record (by `--txn`, or the
//! newest of a host), which of its rows are still to restore, and which must be refused because
//! the row is no longer as svcctl left it (purged, changed since) or its service came back on
//! its own with a new row. The write repeats every condition inside its WHERE clause.

use crate::error::Failure;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow};
use chrono::NaiveDateTime;

use super::Decision;
use crate::audit::transactions::Outcomes;
use crate::audit::{
    self, Action, ClusterRecord, Event, Line, Log, ServiceRecord, Skipped, parse_time,
};
use crate::db::Db;
use crate::db::clusters::{self, ClusterRow};
use crate::db::identity::Identity;
use crate::db::services::{self, ServiceFilter};
use crate::hosts::HostPattern;
use crate::model::ServiceRow;

/// Which deletion to undo.
#[derive(Debug, Clone)]
pub(crate) enum Selector {
    Txn(String),
    /// The newest deletion of services on this host (of this binary).
    Host {
        host: HostPattern,
        binary: Option<String>,
    },
}

/// A row a deletion soft-deleted, as its audit line recorded it.
#[derive(Debug, Clone)]
pub(crate) struct DeletedService {
    pub record: ServiceRecord,
    /// `deleted_at` as the deletion wrote it.
    pub deleted_at: NaiveDateTime,
    /// `updated_at` as it was before the deletion: what the restore puts back.
    pub updated_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone)]
pub(crate) struct DeletedCluster {
    pub record: ClusterRecord,
    pub deleted_at: NaiveDateTime,
    pub updated_at: Option<NaiveDateTime>,
}

/// A committed deletion on record, narrowed to what is left to restore.
#[derive(Debug, Clone)]
pub(crate) struct Deletion {
    pub txn: String,
    pub services: Vec<DeletedService>,
    pub clusters: Vec<DeletedCluster>,
    /// The restores that already put back some of its rows.
    pub restored_by: Vec<String>,
}

/// Why a row cannot be restored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The row is gone (hard-deleted, e.g. purged).
    Purged,
    /// The row is not as the deletion left it: someone changed or restored it since.
    Changed {
        deleted: bool,
        deleted_at: Option<String>,
        wrote: String,
    },
    /// A live row for the same host and binary (cluster: name and binary) exists again.
    Recreated { id: i64 },
    /// A cluster's state is not what the deletion recorded (these columns differ): restored,
    /// it would not be the cluster that was deleted.
    StateChanged { columns: Vec<&'static str> },
    /// The row with the recorded id is not the row the record names: one of its identifying
    /// columns differs (a forged or misattributed record).
    Mismatch {
        column: &'static str,
        recorded: Option<String>,
        actual: Option<String>,
    },
    /// The record would put back a value no deletion svcctl made could have recorded.
    Implausible {
        column: &'static str,
        value: String,
        deleted_at: String,
    },
}

/// One row of the restore plan: what is on record, and the verdict.
#[derive(Debug, Clone)]
pub(crate) struct Restorable<T> {
    pub deleted: T,
    pub refusal: Option<Refusal>,
}

/// Why there is nothing to restore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Nothing {
    /// The transaction named rolled back (or, never confirmed, is not in the database): it
    /// deleted nothing.
    RolledBack { txn: String },
    /// No deletion with that txn in the log, for this database.
    NoSuchTxn {
        txn: String,
        log: PathBuf,
        database: String,
    },
    /// No deletion of that host (of that binary) in the log, for this database.
    NoDeletionOf {
        host: String,
        binary: Option<String>,
        log: PathBuf,
        database: String,
    },
    /// The audit log does not exist (and was not created).
    NoLog { log: PathBuf },
    /// Every row of the deletion was already restored, by these restores.
    AlreadyRestored {
        txn: String,
        time: String,
        by: Vec<String>,
    },
}

/// What a restore puts back, and what it refuses; or why there is nothing to restore.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub txn: String,
    pub services: Vec<Restorable<DeletedService>>,
    pub clusters: Vec<Restorable<DeletedCluster>>,
    pub nothing: Option<Nothing>,
    /// Lines of the log skipped as torn, for a warning.
    pub skipped: Vec<Skipped>,
}

impl Plan {
    pub fn refused(&self) -> usize {
        self.services.iter().filter(|i| i.refusal.is_some()).count()
            + self.clusters.iter().filter(|i| i.refusal.is_some()).count()
    }

    pub fn decide(&self) -> Decision {
        let matched = self.services.len() + self.clusters.len();
        let refused = self.refused();
        Decision {
            matched,
            refused,
            to_change: matched - refused,
        }
    }
}

/// The restore plan for `sel` in the audit log `audit` (read from `log`; the records of the
/// database named `database` and identified as `identity` only): the deletion on record, each
/// of its rows judged against the database. A record written on another database, or with no
/// identity, is refused (exit 2).
pub(crate) async fn build(
    db: &mut Db,
    audit: &Log,
    log: &Path,
    database: &str,
    identity: &Identity,
    sel: &Selector,
) -> Result<Plan> {
    let lines = &audit.lines;
    let nothing = |nothing| Plan {
        txn: String::new(),
        services: Vec::new(),
        clusters: Vec::new(),
        nothing: Some(nothing),
        skipped: audit.skipped.clone(),
    };
    if audit.missing {
        return Ok(nothing(Nothing::NoLog {
            log: log.to_path_buf(),
        }));
    }
    if let Selector::Txn(t) = sel {
        audit::check_origin(lines, t, identity, log)?;
    }
    let deletion = match settle(db, lines, log, database, identity, sel).await? {
        Ok(d) => d,
        Err(n) => return Ok(nothing(n)),
    };
    audit::check_origin(lines, &deletion.txn, identity, log)?;
    let ids: Vec<i64> = deletion.services.iter().map(|s| s.record.id).collect();
    let current = services::by_ids(db, &ids).await?;
    let hosts: Vec<HostPattern> = deletion
        .services
        .iter()
        .filter_map(|s| s.record.host.clone())
        .map(HostPattern::Exact)
        .collect();
    let live = if hosts.is_empty() {
        Vec::new()
    } else {
        let filter = ServiceFilter {
            hosts,
            ..ServiceFilter::default()
        };
        services::fetch_all(db, &filter).await?
    };
    let cids: Vec<i64> = deletion.clusters.iter().map(|c| c.record.id).collect();
    let (current_clusters, live_clusters) = if cids.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        (
            clusters::by_ids(db, &cids).await?,
            clusters::live(db).await?,
        )
    };
    let d = db.dialect;
    let mut plan = judge(
        deletion,
        &current,
        &live,
        &current_clusters,
        &live_clusters,
        |t| d.timestamp(t),
    );
    plan.skipped = audit.skipped.clone();
    Ok(plan)
}

/// `find`, once every unconfirmed transaction its answer rests on (the deletion, and the
/// restores that narrowed it) was checked against the database (`Outcomes::resolve`), so that
/// a deletion or a restore the log holds but the database never saw is never acted on. An
/// unconfirmed restore svcctl cannot tell about counts as not done (the restore's own WHERE
/// clauses judge those rows); a deletion it cannot tell about is an error (exit 5) naming what
/// to check.
async fn settle(
    db: &mut Db,
    lines: &[Line],
    log: &Path,
    database: &str,
    identity: &Identity,
    sel: &Selector,
) -> Result<Result<Deletion, Nothing>> {
    let mut outcomes = Outcomes::of_log(lines);
    let of = |txn: &str| -> Vec<&Line> {
        lines
            .iter()
            .filter(|l| l.txn == txn && audit::belongs(l, database, identity))
            .collect()
    };
    loop {
        let found = find(lines, &outcomes, log, database, identity, sel)?;
        let (txn, by, rows) = match &found {
            Ok(d) => (d.txn.clone(), &d.restored_by, Some(d)),
            Err(Nothing::AlreadyRestored { txn, by, .. }) => (txn.clone(), by, None),
            Err(_) => return Ok(found),
        };
        // The restores first: what they put back is not the deletion's to show.
        if let Some(r) = by.iter().find(|r| outcomes.is_open(r)).cloned() {
            outcomes.resolve(db, &r, &of(&r)).await?;
            outcomes.unknown_as_not_landed(&r);
            continue;
        }
        // Everything put back by restores that landed: the deletion landed too.
        let Some(d) = rows else { return Ok(found) };
        if outcomes.is_open(&txn) {
            let services: BTreeSet<i64> = d.services.iter().map(|s| s.record.id).collect();
            let clusters: BTreeSet<i64> = d.clusters.iter().map(|c| c.record.id).collect();
            let left: Vec<&Line> = of(&txn)
                .into_iter()
                .filter(|l| match (&l.detail.service, &l.detail.cluster) {
                    (Some(s), _) => services.contains(&s.id),
                    (_, Some(c)) => clusters.contains(&c.id),
                    _ => false,
                })
                .collect();
            outcomes.resolve(db, &txn, &left).await?;
            continue;
        }
        if let Some(why) = outcomes.unknown(&txn) {
            return Err(Failure::OutcomeUnknown(format!(
                "deletion {txn} in the audit log {} was never confirmed, and svcctl cannot tell \
                 whether it committed: {why}; nothing was changed",
                log.display()
            ))
            .into());
        }
        return Ok(found);
    }
}

/// Finds the deletion `sel` names among `lines` (those of `database` only) and narrows it to
/// the rows no later restore already put back; `Err(Nothing)` inside when there is none. A
/// record that lacks what a restore needs is an error. Transactions that did not commit
/// (`outcomes`: rolled back, or checked and not in the database) count for nothing; `settle`
/// checks the unconfirmed ones the answer rests on.
pub(crate) fn find(
    lines: &[Line],
    outcomes: &Outcomes,
    log: &Path,
    database: &str,
    identity: &Identity,
    sel: &Selector,
) -> Result<Result<Deletion, Nothing>> {
    let rolled_back = outcomes.not_landed();
    let ours =
        |l: &&Line| audit::belongs(l, database, identity) && !rolled_back.contains(l.txn.as_str());
    let is_delete = |l: &Line| {
        matches!(
            l.event,
            Event::ServiceSoftDeleted | Event::ClusterSoftDeleted
        ) && matches!(l.action, Action::Delete | Action::Other)
    };
    let txn = match sel {
        Selector::Txn(t) => {
            if rolled_back.contains(t.as_str()) {
                return Ok(Err(Nothing::RolledBack { txn: t.clone() }));
            }
            if !lines
                .iter()
                .filter(ours)
                .any(|l| &l.txn == t && is_delete(l))
            {
                return Ok(Err(Nothing::NoSuchTxn {
                    txn: t.clone(),
                    log: log.to_path_buf(),
                    database: database.to_string(),
                }));
            }
            t.clone()
        }
        Selector::Host { host, binary } => {
            let newest = lines
                .iter()
                .filter(ours)
                .filter(|l| l.event == Event::ServiceSoftDeleted && is_delete(l))
                .filter(|l| {
                    l.detail.service.as_ref().is_some_and(|s| {
                        host.matches(s.host.as_deref().unwrap_or(""))
                            && binary
                                .as_deref()
                                .is_none_or(|b| s.binary.as_deref() == Some(b))
                    })
                })
                .map(|l| l.txn.clone())
                .next_back();
            match newest {
                Some(t) => t,
                None => {
                    return Ok(Err(Nothing::NoDeletionOf {
                        host: host.to_string(),
                        binary: binary.clone(),
                        log: log.to_path_buf(),
                        database: database.to_string(),
                    }));
                }
            }
        }
    };
    let of_txn: Vec<&Line> = lines.iter().filter(ours).filter(|l| l.txn == txn).collect();
    let time = of_txn.first().map(|l| l.time.clone()).unwrap_or_default();
    // What later restores (that committed) already put back.
    let mut restore_txns = Vec::new();
    let (mut done_services, mut done_clusters) = (BTreeSet::new(), BTreeSet::new());
    for l in lines.iter().filter(ours) {
        if l.detail.restores.as_deref() != Some(txn.as_str()) {
            continue;
        }
        match (l.event, &l.detail.service, &l.detail.cluster) {
            (Event::ServiceRestored, Some(s), _) => done_services.insert(s.id),
            (Event::ClusterRestored, _, Some(c)) => done_clusters.insert(c.id),
            _ => continue,
        };
        if !restore_txns.contains(&l.txn) {
            restore_txns.push(l.txn.clone());
        }
    }
    let bad = |l: &Line, what: &str| {
        anyhow!(
            "the audit log {} line {}, of deletion {txn}, lacks {what}; it was not written by \
             svcctl as it stands: restore by hand from the record",
            log.display(),
            l.at
        )
    };
    let mut services = Vec::new();
    let mut clusters = Vec::new();
    for l in &of_txn {
        if !is_delete(l) {
            continue;
        }
        let deleted_at = l
            .detail
            .set
            .as_ref()
            .and_then(|s| s.deleted_at.as_deref())
            .map_or_else(|| recorded_instant(&l.time), parse_time)
            .ok_or_else(|| bad(l, "a readable deleted_at"))?;
        match (l.event, &l.detail.service, &l.detail.cluster) {
            (Event::ServiceSoftDeleted, Some(s), _) => {
                if let Selector::Host { host, binary } = sel
                    && !(host.matches(s.host.as_deref().unwrap_or(""))
                        && binary
                            .as_deref()
                            .is_none_or(|b| s.binary.as_deref() == Some(b)))
                {
                    continue;
                }
                if done_services.contains(&s.id) {
                    continue;
                }
                services.push(DeletedService {
                    record: s.clone(),
                    deleted_at,
                    updated_at: time_field(&s.updated_at).map_err(|_| bad(l, "updated_at"))?,
                });
            }
            (Event::ClusterSoftDeleted, _, Some(c)) => {
                if done_clusters.contains(&c.id) {
                    continue;
                }
                clusters.push(DeletedCluster {
                    record: c.clone(),
                    deleted_at,
                    updated_at: time_field(&c.updated_at).map_err(|_| bad(l, "updated_at"))?,
                });
            }
            _ => return Err(bad(l, "the row it deleted")),
        }
    }
    // Narrowed to a host: only the clusters of the services restored come back.
    if let Selector::Host { .. } = sel {
        let named: BTreeSet<(Option<&str>, Option<&str>)> = services
            .iter()
            .map(|s| (s.record.cluster_name.as_deref(), s.record.binary.as_deref()))
            .collect();
        clusters.retain(|c| {
            named.contains(&(Some(c.record.name.as_str()), Some(c.record.binary.as_str())))
        });
    }
    if services.is_empty() && clusters.is_empty() {
        return Ok(Err(Nothing::AlreadyRestored {
            txn,
            time,
            by: restore_txns,
        }));
    }
    Ok(Ok(Deletion {
        txn,
        services,
        clusters,
        restored_by: restore_txns,
    }))
}

/// The instant a line's `time` names (lines written before `set` existed wrote it there).
fn recorded_instant(time: &str) -> Option<NaiveDateTime> {
    chrono::DateTime::parse_from_rfc3339(time)
        .ok()
        .map(|t| t.naive_utc())
}

/// An optional time field: absent or null is None; anything else must parse.
fn time_field(v: &Option<String>) -> Result<Option<NaiveDateTime>, ()> {
    match v {
        None => Ok(None),
        Some(s) => parse_time(s).map(Some).ok_or(()),
    }
}

/// The verdict on one row: `now` is the row as it is (deleted, deleted_at), None when gone;
/// `twin` finds a live row for the same service (or cluster) other than this one.
fn verdict(
    now: Option<(Option<bool>, Option<NaiveDateTime>)>,
    wrote: NaiveDateTime,
    twin: impl FnOnce() -> Option<i64>,
    stored: &impl Fn(NaiveDateTime) -> String,
) -> Option<Refusal> {
    let Some((deleted, deleted_at)) = now else {
        return Some(Refusal::Purged);
    };
    let wrote = stored(wrote);
    let now_at = deleted_at.map(stored);
    if deleted != Some(true) || now_at.as_deref() != Some(wrote.as_str()) {
        return Some(Refusal::Changed {
            deleted: deleted == Some(true),
            deleted_at: now_at,
            wrote,
        });
    }
    twin().map(|id| Refusal::Recreated { id })
}

/// A row as the restore checks it now: a service or a cluster.
trait Current {
    fn id(&self) -> i64;
    fn deleted(&self) -> (Option<bool>, Option<NaiveDateTime>);
    /// The same service (host, binary) or cluster (name, binary).
    fn same(&self, other: &Self) -> bool;
}

impl Current for ServiceRow {
    fn id(&self) -> i64 {
        self.id
    }
    fn deleted(&self) -> (Option<bool>, Option<NaiveDateTime>) {
        (self.deleted, self.deleted_at)
    }
    fn same(&self, other: &Self) -> bool {
        self.host == other.host && self.binary == other.binary
    }
}

impl Current for ClusterRow {
    fn id(&self) -> i64 {
        self.id
    }
    fn deleted(&self) -> (Option<bool>, Option<NaiveDateTime>) {
        (self.deleted, self.deleted_at)
    }
    fn same(&self, other: &Self) -> bool {
        self.name == other.name && self.binary == other.binary
    }
}

/// The verdict on each of `deleted` (id and `deleted_at` as written by `on_record`), given the
/// rows with those ids now (`current`) and the live rows that may be their twins (`live`);
/// `check` holds the record to the row first (`check_service`, `check_cluster`).
fn judge_all<D, R: Current>(
    deleted: Vec<D>,
    on_record: impl Fn(&D) -> (i64, NaiveDateTime),
    check: impl Fn(&D, &R, &dyn Fn(NaiveDateTime) -> String) -> Option<Refusal>,
    current: &[R],
    live: &[R],
    stored: &impl Fn(NaiveDateTime) -> String,
) -> Vec<Restorable<D>> {
    let by_id: HashMap<i64, &R> = current.iter().map(|r| (r.id(), r)).collect();
    deleted
        .into_iter()
        .map(|d| {
            let (id, wrote) = on_record(&d);
            let row = by_id.get(&id).copied();
            let twin = || {
                let row = row?;
                live.iter()
                    .find(|l| l.id() != row.id() && l.same(row))
                    .map(|l| l.id())
            };
            let refusal = row
                .and_then(|r| check(&d, r, stored))
                .or_else(|| verdict(row.map(Current::deleted), wrote, twin, stored));
            Restorable {
                deleted: d,
                refusal,
            }
        })
        .collect()
}

/// The verdict on each row, given the rows with those ids now (`current`), the live rows for
/// the same hosts and binaries (`live_services`), and the same for clusters. `stored` writes an
/// instant as the database stores it, so comparisons are the database's own.
pub(crate) fn judge(
    deletion: Deletion,
    current: &[ServiceRow],
    live_services: &[ServiceRow],
    current_clusters: &[ClusterRow],
    live_clusters: &[ClusterRow],
    stored: impl Fn(NaiveDateTime) -> String,
) -> Plan {
    Plan {
        txn: deletion.txn,
        services: judge_all(
            deletion.services,
            |d| (d.record.id, d.deleted_at),
            check_service,
            current,
            live_services,
            &stored,
        ),
        clusters: cluster_states(
            judge_all(
                deletion.clusters,
                |d| (d.record.id, d.deleted_at),
                check_cluster,
                current_clusters,
                live_clusters,
                &stored,
            ),
            current_clusters,
        ),
        nothing: None,
        skipped: Vec::new(),
    }
}

/// The columns of a cluster's state that its record and its row now disagree on: `disabled`,
/// `disabled_reason`, `frozen`, `replication_status`, `active_backend_id`. A soft delete does
/// not touch them and nothing in Cinder writes a deleted cluster, so a restore that finds them
/// as recorded brings the cluster back exactly as it was; the write's WHERE clause repeats it.
pub(crate) fn cluster_state_changed(record: &ClusterRecord, row: &ClusterRow) -> Vec<&'static str> {
    let mut out = Vec::new();
    if record.is_disabled() != row.disabled.unwrap_or(false) {
        out.push("disabled");
    }
    if record.disabled_reason != row.disabled_reason {
        out.push("disabled_reason");
    }
    if record.frozen.unwrap_or(false) != row.frozen.unwrap_or(false) {
        out.push("frozen");
    }
    if record.replication_status != row.replication_status {
        out.push("replication_status");
    }
    if record.active_backend_id != row.active_backend_id {
        out.push("active_backend_id");
    }
    out
}

/// Refuses each cluster otherwise restorable whose state changed since its deletion.
fn cluster_states(
    mut clusters: Vec<Restorable<DeletedCluster>>,
    current: &[ClusterRow],
) -> Vec<Restorable<DeletedCluster>> {
    for c in clusters.iter_mut().filter(|c| c.refusal.is_none()) {
        let Some(row) = current.iter().find(|r| r.id == c.deleted.record.id) else {
            continue;
        };
        let columns = cluster_state_changed(&c.deleted.record, row);
        if !columns.is_empty() {
            c.refusal = Some(Refusal::StateChanged { columns });
        }
    }
    clusters
}

/// A record is this row's only when every identifying column it names is the row's: the id
/// alone would let a record naming `decoy@x` restore whatever row has that id.
fn mismatch(column: &'static str, recorded: Option<&str>, actual: Option<&str>) -> Option<Refusal> {
    (recorded != actual).then(|| Refusal::Mismatch {
        column,
        recorded: recorded.map(String::from),
        actual: actual.map(String::from),
    })
}

/// What the restore would put back must be what a deletion could have recorded: a heartbeat
/// before the deletion (one after it, up to 9999-12-31, would make the service look up).
fn implausible(
    updated_at: Option<NaiveDateTime>,
    deleted_at: NaiveDateTime,
    stored: &dyn Fn(NaiveDateTime) -> String,
) -> Option<Refusal> {
    updated_at
        .filter(|u| *u > deleted_at)
        .map(|u| Refusal::Implausible {
            column: "updated_at",
            value: stored(u),
            deleted_at: stored(deleted_at),
        })
}

/// A service's record held to the row with its id: host, binary and uuid as recorded, and a
/// plausible heartbeat to put back.
fn check_service(
    d: &DeletedService,
    row: &ServiceRow,
    stored: &dyn Fn(NaiveDateTime) -> String,
) -> Option<Refusal> {
    let r = &d.record;
    mismatch("host", r.host.as_deref(), row.host.as_deref())
        .or_else(|| mismatch("binary", r.binary.as_deref(), row.binary.as_deref()))
        .or_else(|| mismatch("uuid", r.uuid.as_deref(), row.uuid.as_deref()))
        .or_else(|| implausible(d.updated_at, d.deleted_at, stored))
}

/// A cluster's record held to the row with its id: name and binary as recorded.
fn check_cluster(
    d: &DeletedCluster,
    row: &ClusterRow,
    stored: &dyn Fn(NaiveDateTime) -> String,
) -> Option<Refusal> {
    let r = &d.record;
    mismatch("name", Some(&r.name), Some(&row.name))
        .or_else(|| mismatch("binary", Some(&r.binary), Some(&row.binary)))
        .or_else(|| implausible(d.updated_at, d.deleted_at, stored))
}
