//! Deciding a host move (`volume move-host`, `backup move-host`) before anything is written:
//! the target service, what moves where (the pool kept, the target's uuid, cluster and zone),
//! and what must be refused and why (the target missing, down, disabled, frozen or in another
//! zone; rows being worked on); and the undo of a move on record (`--undo TXN`), planned from
//! the audit log and checked against the database like a move. The write repeats every
//! condition in its WHERE clause.

use std::path::Path;

use anyhow::Result;
use chrono::NaiveDateTime;

use super::{Decision, plan_now};
use crate::audit::transactions::Outcomes;
use crate::audit::{self, Action, Line, Placement, Skipped};
use crate::db::Db;
use crate::db::clusters;
use crate::db::hosted::{self, HostedRow};
use crate::db::services::{self, ServiceFilter};
use crate::error::Failure;
use crate::hosts::HostPattern;
use crate::model::{Service, down_before};

/// The flags of both host moves (`volume move-host`, `backup move-host`); the volume's help
/// texts, which `backup move-host` rewords for backups.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct MoveArgs {
    /// The host to move off, e.g. node02@backend-2813902f-2c94 (matches it and its #pools), or
    /// HOST#POOL for that pool only
    #[arg(long, value_name = "HOST", required_unless_present = "undo")]
    pub from: Option<String>,
    /// The host to move to: a live service's host, optionally with #pool to set the pool
    #[arg(long, value_name = "HOST", required_unless_present = "undo", value_parser = crate::limits::stored_host)]
    pub to: Option<String>,
    /// Move even when the target service is down, disabled, frozen or in another zone
    #[arg(long)]
    pub force: bool,
    /// Move back the rows that transaction TXN of the audit log moved (they must still be where it put them)
    #[arg(long, value_name = "TXN", conflicts_with_all = ["from", "to", "force"])]
    pub undo: Option<String>,
}

/// What a move command was asked: a move of `kind`, or the undo of one on record.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub kind: Kind,
    pub what: Asked,
}

/// A move, or the undo of one on record.
#[derive(Debug, Clone)]
pub(crate) enum Asked {
    Move {
        from: String,
        /// `host@backend`, or `host@backend#pool` (volumes only).
        to: String,
        /// Move onto a target that is down.
        force: bool,
    },
    Undo {
        txn: String,
    },
}

impl Request {
    /// `--from`/`--to` (or `--undo`) checked: one exact host each, either with a `#pool` only
    /// where `kind` has pools, and not the same host.
    pub fn new(kind: Kind, args: &MoveArgs) -> Result<Request, Failure> {
        let what = |what| Ok(Request { kind, what });
        if let Some(txn) = &args.undo {
            return what(Asked::Undo { txn: txn.clone() });
        }
        let (Some(from), Some(to)) = (args.from.as_deref(), args.to.as_deref()) else {
            return Err(Failure::Usage(
                "give --from HOST and --to HOST, or --undo TXN".into(),
            ));
        };
        exact_host("--from", from, kind.pools())?;
        exact_host("--to", to, kind.pools())?;
        if base(to) == base(from) {
            return Err(Failure::Usage(format!(
                "--from and --to name the same host {}; nothing to move",
                base(from)
            )));
        }
        what(Asked::Move {
            from: from.to_string(),
            to: to.to_string(),
            force: args.force,
        })
    }
}

/// `host@backend` of `host@backend#pool`.
pub(crate) fn base(host: &str) -> &str {
    host.split('#').next().unwrap_or(host)
}

/// The `#pool` of `host@backend#pool`, if any.
pub(crate) fn pool(host: &str) -> Option<&str> {
    host.split_once('#').map(|(_, p)| p)
}

/// `--from`/`--to` checked: one exact host each, optionally with `#pool`.
fn exact_host(flag: &str, value: &str, pool_allowed: bool) -> Result<(), Failure> {
    let (base, pool) = match value.split_once('#') {
        Some((b, p)) if pool_allowed => (b, Some(p)),
        _ => (value, None),
    };
    let bad = |why: &str| Failure::Usage(format!("invalid {flag} {value:?}: {why}"));
    if pool.is_some_and(|p| p.is_empty() || p.contains('#')) {
        return Err(bad("give one pool after '#', e.g. node01@lvm#pool1"));
    }
    match HostPattern::parse(base).map_err(|e| bad(&e.to_string()))? {
        HostPattern::Glob(_) => Err(bad("give one exact host, not a glob")),
        HostPattern::Exact(_) => Ok(()),
    }
}

/// The plan for `request`: a move (see `build`), or the undo of a move on record in the audit
/// log at `log` (see `undo`).
pub(crate) async fn plan(
    db: &mut Db,
    request: &Request,
    log: &Path,
    service_down_time: i64,
) -> Result<Plan> {
    let kind = request.kind;
    match &request.what {
        Asked::Move { from, to, force } => {
            build(db, kind, from, to, *force, plan_now(), service_down_time).await
        }
        Asked::Undo { txn } => {
            let mut plan = undo_on_record(db, &audit::read(log)?, log, txn, kind).await?;
            check_undo_target(db, &mut plan, plan_now(), service_down_time).await?;
            Ok(plan)
        }
    }
}

/// What moves: volumes (with their groups and consistency groups), or backups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Volume,
    Backup,
}

impl Kind {
    /// The binary of a service that may own the rows.
    pub fn binary(self) -> &'static str {
        match self {
            Kind::Volume => "cinder-volume",
            Kind::Backup => "cinder-backup",
        }
    }

    /// The tables whose rows move, the main one first. An image-volume cache entry names the
    /// host (and cluster) of the volume it caches (cinder/image/cache.py `create_cache_entry`),
    /// so it moves with the volumes, by the same pool rule.
    pub fn tables(self) -> &'static [&'static str] {
        match self {
            Kind::Volume => &[
                "volumes",
                "groups",
                "consistencygroups",
                "image_volume_cache_entries",
            ],
            Kind::Backup => &["backups"],
        }
    }

    /// Whether hosts carry a `#pool` (volume hosts do; a backup's host is the backup node).
    pub fn pools(self) -> bool {
        self == Kind::Volume
    }

    pub fn noun(self) -> &'static str {
        match self {
            Kind::Volume => "volume",
            Kind::Backup => "backup",
        }
    }
}

/// Statuses of rows being worked on (or held for someone): a move under them would strand
/// the work, so they are refused. From Cinder's cinder/objects/fields.py (`VolumeStatus`,
/// `BackupStatus`, `GroupStatus`).
pub(crate) fn busy_statuses(table: &str) -> &'static [&'static str] {
    match table {
        "volumes" => &[
            "creating",
            "deleting",
            "attaching",
            "detaching",
            "migrating",
            "extending",
            "retyping",
            "backing-up",
            "restoring-backup",
            "uploading",
            "downloading",
            "managing",
            "maintenance",
            "reserved",
            "awaiting-transfer",
        ],
        "backups" => &["creating", "deleting", "restoring"],
        _ => &["creating", "deleting", "updating"],
    }
}

/// `migration_status` values (besides NULL) of a volume no migration is working on, exactly
/// Cinder's `AVAILABLE_MIGRATION_STATUS` (cinder/volume/api.py: None, 'deleting', 'error',
/// 'success'); any other value is a migration in progress.
pub(crate) const SETTLED_MIGRATION: &[&str] = &["deleting", "error", "success"];

/// Why a row must not move now: work in progress on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Busy {
    /// Its status is one of `busy_statuses`.
    Status(String),
    /// Its `migration_status` is not one of `SETTLED_MIGRATION`.
    Migration(String),
}

/// Why a row must not move now, if it must not.
pub(crate) fn busy(table: &str, row: &HostedRow) -> Option<Busy> {
    if let Some(s) = row
        .status
        .as_deref()
        .filter(|s| busy_statuses(table).contains(s))
    {
        return Some(Busy::Status(s.to_string()));
    }
    row.migration_status
        .as_deref()
        .filter(|m| !SETTLED_MIGRATION.contains(m))
        .map(|m| Busy::Migration(m.to_string()))
}

/// Whose flag makes a target disabled or frozen: for a service in a cluster Cinder reads only
/// the cluster's (cinder/db/api.py `_clustered_bool_field_filter` for `disabled`,
/// `is_backend_frozen` for `frozen`), otherwise the service's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Flagged {
    Service {
        reason: Option<String>,
    },
    Cluster {
        name: String,
        reason: Option<String>,
    },
}

/// The service the rows move to, and the host (with the pool `--to` may name) they get.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub service: Service,
    /// `--to` as given: `host@backend`, or `host@backend#pool` to force a pool.
    pub to: String,
    /// Disabled, as Cinder's scheduler sees it (a migration needs `disabled=False`:
    /// cinder/volume/api.py `migrate_volume`).
    pub disabled: Option<Flagged>,
    /// Frozen (failed over): nothing is to be placed on it.
    pub frozen: Option<Flagged>,
}

impl Target {
    /// Where `row` goes: host `TO#pool` keeping its pool unless `--to` names one, the target's
    /// uuid, its cluster (with the pool, as Cinder writes a volume's cluster_name) and, for a
    /// volume, its zone (as cinder/volume/manager.py `migrate_volume` sets both from the
    /// destination service). Only volumes carry a `service_uuid`; backups no `cluster_name`.
    pub fn placement(&self, table: &str, row: &HostedRow, pools: bool) -> Placement {
        let named = pool(&self.to);
        let pool = named.or(if pools { row.pool() } else { None });
        let with_pool = |base: &str| match pool {
            Some(p) => format!("{base}#{p}"),
            None => base.to_string(),
        };
        let r = &self.service.row;
        Placement {
            host: Some(with_pool(base(&self.to))),
            service_uuid: r.uuid.clone().filter(|_| table == "volumes"),
            cluster_name: (table != "backups")
                .then(|| r.cluster_name.as_deref().map(with_pool))
                .flatten(),
            availability_zone: r.availability_zone.clone().filter(|_| table == "volumes"),
        }
    }

    /// A volume that must change zone to move here (its zone set, and another): Cinder's
    /// scheduler refuses such a migration (cinder/scheduler/filters/availability_zone_filter.py,
    /// run by cinder/scheduler/manager.py `migrate_volume`).
    pub fn other_zone(&self, m: &Move) -> bool {
        m.table == "volumes"
            && m.old.availability_zone.is_some()
            && m.old.availability_zone != m.new.availability_zone
    }
}

/// One row the plan moves.
#[derive(Debug, Clone)]
pub(crate) struct Move {
    pub table: &'static str,
    pub id: String,
    pub status: Option<String>,
    pub old: Placement,
    pub new: Placement,
}

impl Move {
    /// The move writes the volume's zone: a move does where the target has one; an undo
    /// where its move did (the record's zone of where it put the row).
    pub fn sets_zone(&self, undo: bool) -> bool {
        self.table == "volumes"
            && if undo {
                self.old.availability_zone.is_some()
            } else {
                self.new.availability_zone.is_some()
            }
    }
}

/// One row the plan refuses to move.
#[derive(Debug, Clone)]
pub(crate) struct Blocked {
    pub table: &'static str,
    pub row: HostedRow,
    pub why: Busy,
}

/// The whole plan of one host move (or of one `--undo`).
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub kind: Kind,
    pub from: String,
    pub to: String,
    /// The rows found on FROM (or on record, for an undo), moving or not.
    pub found: usize,
    /// None when TO names no live service of the kind's binary (`target_missing`). For an
    /// undo, the live service where the rows go back.
    pub target: Option<Target>,
    /// TO's host, when no live service of the kind's binary is there: the move is refused.
    pub target_missing: Option<String>,
    /// An undo's service uuids (where the rows were) that name no live service: refused, as
    /// the rows would point at a deleted service (and `cinder-manage db purge` would fail on
    /// the foreign key once it ages).
    pub uuids_gone: Vec<String>,
    pub moves: Vec<Move>,
    pub blocked: Vec<Blocked>,
    /// FROM's own service of the kind's binary is down or gone: busy rows will not settle.
    pub source_down: bool,
    /// Heartbeats before this are down: the write requires the target's to be at or after it
    /// (None with `--force`, or for an undo).
    pub target_alive_since: Option<NaiveDateTime>,
    /// `--force`: a down, disabled, frozen or other-zone target is moved onto anyway.
    pub force: bool,
    /// The transaction an undo reverses.
    pub undo_of: Option<String>,
    /// An undo's record held to the database (`check_record`), and the log's skipped lines.
    pub on_record: OnRecord,
}

/// What an undo found of its record: rows refused because they are not as the record says,
/// rows already back where they were before the move (undone already), and the log's lines
/// skipped as torn (for a warning).
#[derive(Debug, Clone, Default)]
pub(crate) struct OnRecord {
    pub mismatched: Vec<Mismatch>,
    /// How many rows of the move are back where they were before it (an undo of it committed,
    /// or they were moved back otherwise): nothing left to undo for them.
    pub back: usize,
    pub skipped: Vec<Skipped>,
}

/// A row an undo refuses to move back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mismatch {
    pub table: &'static str,
    pub id: String,
    pub what: OffRecord,
}

/// How a row is not what its record of the move says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OffRecord {
    /// Its `column` is not what the record says the move wrote (an edited or forged record,
    /// or a row changed since).
    Moved {
        column: &'static str,
        recorded: Option<String>,
        actual: Option<String>,
    },
    /// The record would write back a value svcctl never stores (`limits::stored_text`).
    Unstorable { column: &'static str, why: String },
}

impl Plan {
    /// The target is down (moving onto it needs `--force`). An undo puts rows back where they
    /// were, which is usually a node being taken out: it needs only a live service there.
    pub fn target_down(&self) -> bool {
        self.undo_of.is_none() && self.target.as_ref().is_some_and(|t| !t.service.up)
    }

    /// The target is disabled or frozen (moving onto it needs `--force`); not for an undo.
    pub fn target_closed(&self) -> bool {
        let closed = |t: &Target| t.disabled.is_some() || t.frozen.is_some();
        self.undo_of.is_none() && self.target.as_ref().is_some_and(closed)
    }

    /// The volumes whose zone the move changes (refused without `--force`); none for an undo,
    /// which puts back the zone the move changed.
    pub fn other_zone(&self) -> Vec<&Move> {
        match (&self.target, &self.undo_of) {
            (Some(t), None) => self.moves.iter().filter(|m| t.other_zone(m)).collect(),
            _ => Vec::new(),
        }
    }

    pub fn decide(&self, force: bool) -> Decision {
        let overridable = usize::from(self.target_down())
            + usize::from(self.target_closed())
            + usize::from(!self.other_zone().is_empty());
        let refused = self.blocked.len()
            + self.on_record.mismatched.len()
            + usize::from(self.target_missing.is_some())
            + usize::from(!self.uuids_gone.is_empty())
            + if force { 0 } else { overridable };
        Decision {
            matched: self.found,
            refused,
            to_change: self.moves.len(),
        }
    }
}

/// The live service of `binary` on `host` with the freshest heartbeat (two live rows for one
/// host and binary can exist), judged at `now`.
async fn live_service(
    db: &mut Db,
    host: &str,
    binary: &str,
    now: NaiveDateTime,
    service_down_time: i64,
) -> Result<Option<Service>> {
    let filter = ServiceFilter {
        hosts: vec![HostPattern::Exact(host.to_string())],
        binary: Some(binary.to_string()),
        ..ServiceFilter::default()
    };
    Ok(services::fetch_all(db, &filter)
        .await?
        .into_iter()
        .max_by_key(|r| (r.heartbeat(), r.id))
        .map(|r| Service::judge(r, now, service_down_time)))
}

/// Whether `service` is disabled and frozen as Cinder's scheduler sees it: by its cluster's
/// flags when it is in one (a cluster that is gone counts as neither), else by its own.
async fn flags_of(db: &mut Db, service: &Service) -> Result<(Option<Flagged>, Option<Flagged>)> {
    let r = &service.row;
    let Some(name) = &r.cluster_name else {
        let own = |on: Option<bool>, reason: Option<String>| {
            on.unwrap_or(false).then_some(Flagged::Service { reason })
        };
        return Ok((
            own(r.disabled, r.disabled_reason.clone()),
            own(r.frozen, None),
        ));
    };
    let Some(c) = clusters::find_live(db, name, r.binary()).await? else {
        return Ok((None, None));
    };
    let by = |on: Option<bool>, reason: Option<String>| {
        on.unwrap_or(false).then(|| Flagged::Cluster {
            name: name.clone(),
            reason,
        })
    };
    Ok((
        by(c.disabled, c.disabled_reason.clone()),
        by(c.frozen, None),
    ))
}

/// The plan to move the rows of `kind` on `from` (`host@backend`, or with `#pool` for that pool
/// only) to `to` (`host@backend`, or with `#pool`): the target is the live service of the
/// kind's binary on TO's host with the freshest heartbeat; busy rows are refused; without
/// `force`, a target that is down, disabled or frozen, or a zone change, is refused too.
pub(crate) async fn build(
    db: &mut Db,
    kind: Kind,
    from: &str,
    to: &str,
    force: bool,
    now: NaiveDateTime,
    service_down_time: i64,
) -> Result<Plan> {
    let mut rows = Vec::new();
    for table in kind.tables() {
        for r in hosted::fetch_on_host(db, table, from, kind.pools()).await? {
            rows.push((*table, r));
        }
    }
    let mut plan = Plan {
        kind,
        from: from.to_string(),
        to: to.to_string(),
        found: rows.len(),
        target: None,
        target_missing: None,
        uuids_gone: Vec::new(),
        moves: Vec::new(),
        blocked: Vec::new(),
        source_down: false,
        target_alive_since: (!force).then(|| down_before(now, service_down_time)),
        force,
        undo_of: None,
        on_record: OnRecord::default(),
    };
    if rows.is_empty() {
        return Ok(plan);
    }
    let source = live_service(db, base(from), kind.binary(), now, service_down_time).await?;
    plan.source_down = source.is_none_or(|s| !s.up);
    let Some(service) = live_service(db, base(to), kind.binary(), now, service_down_time).await?
    else {
        plan.target_missing = Some(base(to).to_string());
        return Ok(plan);
    };
    let (disabled, frozen) = flags_of(db, &service).await?;
    let target = Target {
        service,
        to: to.to_string(),
        disabled,
        frozen,
    };
    for (table, row) in rows {
        if let Some(why) = busy(table, &row) {
            plan.blocked.push(Blocked { table, row, why });
            continue;
        }
        plan.moves.push(Move {
            table,
            id: row.id.clone(),
            status: row.status.clone(),
            new: target.placement(table, &row, kind.pools()),
            old: placement_of(table, &row),
        });
    }
    plan.target = Some(target);
    Ok(plan)
}

/// What the audit log says of move `txn`, and, when it is unconfirmed, what the database says
/// (`Outcomes::resolve`): a move the database never saw is never undone, and one svcctl cannot
/// tell about is an error (exit 5) naming what to check.
async fn checked(db: &mut Db, lines: &[Line], txn: &str, log: &Path) -> Result<Outcomes> {
    let mut outcomes = Outcomes::of_log(lines);
    let moved: Vec<&Line> = lines
        .iter()
        .filter(|l| l.txn == txn && l.event.action() == Action::Move)
        .collect();
    if !moved.is_empty() {
        outcomes.resolve(db, txn, &moved).await?;
    }
    if let Some(why) = outcomes.unknown(txn) {
        return Err(Failure::OutcomeUnknown(format!(
            "move {txn} in the audit log {} was never confirmed, and svcctl cannot tell whether \
             it committed: {why}; nothing was changed",
            log.display()
        ))
        .into());
    }
    Ok(outcomes)
}

/// The undo of transaction `txn` among the audit log's `lines`: the rows of `kind` it moved,
/// from where it put them back to where they were. Only rows still where the move left them go
/// back (the write's WHERE clause checks). Nothing when the transaction did not commit
/// (`outcomes`: rolled back, or checked and not in the database). Its target is checked against
/// the database by `check_undo_target`.
pub(crate) fn undo(lines: &[Line], txn: &str, kind: Kind, outcomes: &Outcomes) -> Plan {
    let rolled_back = outcomes.landed(txn) == Some(false);
    let moved: Vec<&Line> = lines
        .iter()
        .filter(|l| !rolled_back && l.txn == txn && l.event.action() == Action::Move)
        .collect();
    let moves: Vec<Move> = moved
        .iter()
        .filter_map(|l| {
            let d = &l.detail;
            let table = *kind
                .tables()
                .iter()
                .find(|t| Some(**t) == d.table.as_deref())?;
            Some(Move {
                table,
                id: d.id.clone()?,
                status: None,
                old: d.new.clone()?,
                new: d.old.clone()?,
            })
        })
        .collect();
    let first = moved.first().map(|l| &l.detail);
    Plan {
        kind,
        from: first
            .and_then(|d| d.new.as_ref()?.host.clone())
            .unwrap_or_default(),
        to: first
            .and_then(|d| d.old.as_ref()?.host.clone())
            .unwrap_or_default(),
        found: moves.len(),
        target: None,
        target_missing: None,
        uuids_gone: Vec::new(),
        moves,
        blocked: Vec::new(),
        source_down: false,
        target_alive_since: None,
        force: false,
        undo_of: Some(txn.to_string()),
        on_record: OnRecord::default(),
    }
}

/// An undo re-checks its target as a move does: the rows go back to the host they were on, so
/// a live service of the kind's binary must be there (refused otherwise: no volume is put back
/// on a host whose service was deleted), and every service uuid they get back must name a live
/// service (refused otherwise: a volume would point at a deleted service, and `cinder-manage db
/// purge` fails on that foreign key once the row ages). The write holds both in its WHERE
/// clause. It need not be up or enabled: the rows were there before.
pub(crate) async fn check_undo_target(
    db: &mut Db,
    plan: &mut Plan,
    now: NaiveDateTime,
    service_down_time: i64,
) -> Result<()> {
    if plan.moves.is_empty() {
        return Ok(());
    }
    let host = base(&plan.to).to_string();
    let binary = plan.kind.binary();
    match live_service(db, &host, binary, now, service_down_time).await? {
        Some(service) => {
            plan.target = Some(Target {
                service,
                to: plan.to.clone(),
                disabled: None,
                frozen: None,
            })
        }
        None => plan.target_missing = Some(host),
    }
    let mut uuids: Vec<String> = plan
        .moves
        .iter()
        .filter_map(|m| m.new.service_uuid.clone())
        .collect();
    uuids.sort();
    uuids.dedup();
    let live = services::live_uuids(db, &uuids).await?;
    plan.uuids_gone = uuids.into_iter().filter(|u| !live.contains(u)).collect();
    Ok(())
}

/// The undo of `txn` as the audit log `log` (read from `path`) holds it, held to the database:
/// refused (exit 2) when its record was written on another database or names none; each row not
/// where the record says the move put it, or that the record would send back to a value svcctl
/// never stores, is refused (`OnRecord::mismatched`, exit 3).
async fn undo_on_record(
    db: &mut Db,
    log: &audit::Log,
    path: &Path,
    txn: &str,
    kind: Kind,
) -> Result<Plan> {
    let identity = crate::db::identity::read(db).await?;
    audit::check_origin(&log.lines, txn, &identity, path)?;
    let outcomes = checked(db, &log.lines, txn, path).await?;
    let mut plan = undo(&log.lines, txn, kind, &outcomes);
    plan.on_record.skipped = log.skipped.clone();
    let mut current = Vec::new();
    for table in kind.tables() {
        let ids: Vec<&str> = plan
            .moves
            .iter()
            .filter(|m| m.table == *table)
            .map(|m| m.id.as_str())
            .collect();
        let schema = db.schema.clone();
        let rows = db
            .retrying("reading the rows to move back", async |conn| {
                hosted::lock_by_ids(conn, &schema, table, &ids).await
            })
            .await?;
        current.extend(rows.into_iter().map(|r| (*table, r)));
    }
    check_record(&mut plan, &current);
    Ok(plan)
}

/// Holds each row of an undo to its record: the row (`current`, live rows by table and id) must
/// be where the record says the move put it (host, service uuid, cluster), and what the record
/// sends it back to must be a value svcctl would store. A row that is gone is left to the
/// write, which reports it. A row already back where it was before the move (host, service
/// uuid and cluster) has nothing left to undo: it leaves the plan, counted in `on_record.back`
/// (as `service restore` leaves out rows a restore already put back), so an undo of a move
/// undone already has nothing to do (exit 4). Refused rows leave `moves` for
/// `on_record.mismatched`.
pub(crate) fn check_record(plan: &mut Plan, current: &[(&str, HostedRow)]) {
    let mut kept = Vec::new();
    for m in std::mem::take(&mut plan.moves) {
        let row = current
            .iter()
            .find(|(t, r)| *t == m.table && r.id == m.id)
            .map(|(_, r)| r);
        if row.is_some_and(|r| is_back(&m, r)) {
            plan.on_record.back += 1;
            continue;
        }
        match row.and_then(|r| off_record(&m, r)) {
            Some(what) => plan.on_record.mismatched.push(Mismatch {
                table: m.table,
                id: m.id.clone(),
                what,
            }),
            None => kept.push(m),
        }
    }
    plan.moves = kept;
    plan.found = plan.moves.len() + plan.on_record.mismatched.len();
}

/// `row` is where it was before the move `m` undoes (`m.new`, the undo's destination): host,
/// service uuid and cluster as the record says they were.
fn is_back(m: &Move, row: &HostedRow) -> bool {
    m.new.host.is_some()
        && m.new.host == row.host
        && m.new.service_uuid == row.service_uuid
        && m.new.cluster_name == row.cluster_name
}

/// How `row` is not what the record of move `m` (undone: `m.old` is where the move put it,
/// `m.new` where it was) says.
fn off_record(m: &Move, row: &HostedRow) -> Option<OffRecord> {
    let moved = |column, recorded: &Option<String>, actual: &Option<String>| {
        (recorded != actual).then(|| OffRecord::Moved {
            column,
            recorded: recorded.clone(),
            actual: actual.clone(),
        })
    };
    let back = &m.new;
    let unstorable = |column, v: &Option<String>| {
        v.as_deref()
            .and_then(|v| crate::limits::stored_text(v, crate::limits::NAME_MAX).err())
            .map(|why| OffRecord::Unstorable { column, why })
    };
    moved("host", &m.old.host, &row.host)
        .or_else(|| moved("service_uuid", &m.old.service_uuid, &row.service_uuid))
        .or_else(|| moved("cluster_name", &m.old.cluster_name, &row.cluster_name))
        .or_else(|| {
            back.host.is_none().then(|| OffRecord::Unstorable {
                column: "host",
                why: "it names no host".into(),
            })
        })
        .or_else(|| unstorable("host", &back.host))
        .or_else(|| unstorable("service_uuid", &back.service_uuid))
        .or_else(|| unstorable("cluster_name", &back.cluster_name))
}

/// Where `row` of `table` sits now (a volume's zone with it).
pub(crate) fn placement_of(table: &str, row: &HostedRow) -> Placement {
    Placement {
        host: row.host.clone(),
        service_uuid: row.service_uuid.clone(),
        cluster_name: row.cluster_name.clone(),
        availability_zone: row.availability_zone.clone().filter(|_| table == "volumes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ServiceRow;

    fn row(host: &str) -> HostedRow {
        HostedRow {
            id: "v".into(),
            host: Some(host.into()),
            status: Some("available".into()),
            migration_status: None,
            service_uuid: Some("old".into()),
            cluster_name: None,
            availability_zone: Some("nova".into()),
        }
    }

    fn target(to: &str, cluster: Option<&str>) -> Target {
        let mut r = ServiceRow::example(1, to.split('#').next().unwrap(), "cinder-volume", None);
        r.uuid = Some("new".into());
        r.cluster_name = cluster.map(String::from);
        Target {
            service: Service {
                row: r,
                up: true,
                updated_at: None,
            },
            to: to.into(),
            disabled: None,
            frozen: None,
        }
    }

    #[test]
    fn the_pool_is_kept_unless_the_target_names_one() {
        let p = target("n1@b", Some("c@b")).placement("volumes", &row("n2@b#nvme"), true);
        assert_eq!(p.host.as_deref(), Some("n1@b#nvme"));
        assert_eq!(p.cluster_name.as_deref(), Some("c@b#nvme"));
        assert_eq!(p.service_uuid.as_deref(), Some("new"));
        let p = target("n1@b#ssd", None).placement("volumes", &row("n2@b#nvme"), true);
        assert_eq!(p.host.as_deref(), Some("n1@b#ssd"));
        assert_eq!(p.cluster_name, None);
        let p = target("n1@b#ssd", Some("c@b")).placement("volumes", &row("n2@b#nvme"), true);
        assert_eq!(p.cluster_name.as_deref(), Some("c@b#ssd"));
        let p = target("n1@b", None).placement("volumes", &row("n2@b"), true);
        assert_eq!(p.host.as_deref(), Some("n1@b"));
    }

    /// An undo of a move partly undone already moves back only what is still where the move
    /// put it; undone wholly, it has nothing left (`found` 0: exit 4), and refuses nothing.
    #[test]
    fn rows_back_where_they_were_leave_the_undo() {
        let at = |host: &str, uuid: &str| Placement {
            host: Some(host.into()),
            service_uuid: Some(uuid.into()),
            cluster_name: None,
            availability_zone: None,
        };
        let undo_of = |id: &str| Move {
            table: "volumes",
            id: id.into(),
            status: None,
            old: at("n1@b", "new"),
            new: at("n2@b", "old"),
        };
        let mut plan = build_undo(vec![undo_of("a"), undo_of("b")]);
        let row = |id: &str, host: &str, uuid: &str| HostedRow {
            id: id.into(),
            service_uuid: Some(uuid.into()),
            ..row(host)
        };
        let current = [
            ("volumes", row("a", "n2@b", "old")),
            ("volumes", row("b", "n1@b", "new")),
        ];
        check_record(&mut plan, &current);
        assert_eq!(plan.moves.len(), 1);
        assert_eq!(plan.moves[0].id, "b");
        assert_eq!((plan.on_record.back, plan.found), (1, 1));
        assert!(plan.on_record.mismatched.is_empty());

        let mut plan = build_undo(vec![undo_of("a")]);
        check_record(&mut plan, &current[..1]);
        assert_eq!(
            (plan.moves.len(), plan.on_record.back, plan.found),
            (0, 1, 0)
        );
        assert_eq!(plan.decide(false).matched, 0);
        assert!(plan.on_record.mismatched.is_empty());
    }

    /// An undo plan of these moves, as `undo` makes it.
    fn build_undo(moves: Vec<Move>) -> Plan {
        Plan {
            kind: Kind::Volume,
            from: "n1@b".into(),
            to: "n2@b".into(),
            found: moves.len(),
            target: None,
            target_missing: None,
            uuids_gone: Vec::new(),
            moves,
            blocked: Vec::new(),
            source_down: false,
            target_alive_since: None,
            force: false,
            undo_of: Some("t".into()),
            on_record: OnRecord::default(),
        }
    }

    #[test]
    fn work_in_progress_is_busy() {
        let mut r = row("n2@b");
        assert_eq!(busy("volumes", &r), None);
        r.status = Some("attaching".into());
        assert_eq!(busy("volumes", &r), Some(Busy::Status("attaching".into())));
        r.status = Some("in-use".into());
        r.migration_status = Some("migrating".into());
        assert!(busy("volumes", &r).is_some());
        r.migration_status = Some("success".into());
        assert_eq!(busy("volumes", &r), None);
        // Cinder's AVAILABLE_MIGRATION_STATUS: a volume being deleted is not migrating.
        r.migration_status = Some("deleting".into());
        assert_eq!(busy("volumes", &r), None);
    }
}
