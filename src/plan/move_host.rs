//! Deciding a host move (`volume move-host`, `backup move-host`) before anything is written:
//! the target service, what moves where (the pool kept, the target's uuid and cluster), and
//! what must be refused and why; and the undo of a move on record (`--undo TXN`), planned from
//! the audit log. The write repeats every condition in its WHERE clause.

use std::path::Path;

use anyhow::Result;
use chrono::NaiveDateTime;

use super::{Decision, plan_now};
use crate::audit::transactions::Outcomes;
use crate::audit::{self, Action, Line, Placement};
use crate::db::Db;
use crate::db::hosted::{self, HostedRow};
use crate::db::services::{self, ServiceFilter};
use crate::error::Failure;
use crate::hosts::HostPattern;
use crate::model::{Service, down_before};

/// The flags of both host moves (`volume move-host`, `backup move-host`); the volume's help
/// texts, which `backup move-host` rewords for backups.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct MoveArgs {
    /// The host to move off, e.g. node02@backend-2813902f-2c94 (matches it and its #pools)
    #[arg(long, value_name = "HOST", required_unless_present = "undo")]
    pub from: Option<String>,
    /// The host to move to: a live service's host, optionally with #pool to set the pool
    #[arg(long, value_name = "HOST", required_unless_present = "undo")]
    pub to: Option<String>,
    /// Move even when the target service is down
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
    /// `--from`/`--to` (or `--undo`) checked: one exact host each, `--to` with a `#pool` only
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
        exact_host("--from", from, false)?;
        exact_host("--to", to, kind.pools())?;
        if to.split('#').next() == Some(from) {
            return Err(Failure::Usage(format!(
                "--from and --to name the same host {from}; nothing to move"
            )));
        }
        what(Asked::Move {
            from: from.to_string(),
            to: to.to_string(),
            force: args.force,
        })
    }
}

/// `--from`/`--to` checked: one exact host each, `--to` optionally with `#pool`.
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
            let lines = audit::read(log)?;
            let outcomes = checked(db, &lines, txn, log).await?;
            Ok(undo(&lines, txn, kind, &outcomes))
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

    /// The tables whose rows move, the main one first.
    pub fn tables(self) -> &'static [&'static str] {
        match self {
            Kind::Volume => &["volumes", "groups", "consistencygroups"],
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

/// `migration_status` values of a finished (or never started) migration; any other value is
/// a migration in progress.
pub(crate) const SETTLED_MIGRATION: &[&str] = &["success", "error", "none"];

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

/// The service the rows move to, and the host (with the pool `--to` may name) they get.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub service: Service,
    /// `--to` as given: `host@backend`, or `host@backend#pool` to force a pool.
    pub to: String,
}

impl Target {
    /// Where `row` goes: host `TO#pool` keeping its pool unless `--to` names one, the target's
    /// uuid, and its cluster (with the pool, as Cinder writes a volume's cluster_name).
    /// Only volumes carry a `service_uuid`; backups carry no `cluster_name`.
    pub fn placement(&self, table: &str, row: &HostedRow, pools: bool) -> Placement {
        let (base, named) = match self.to.split_once('#') {
            Some((b, p)) => (b, Some(p)),
            None => (self.to.as_str(), None),
        };
        let pool = named.or(if pools { row.pool() } else { None });
        let with_pool = |base: &str| match pool {
            Some(p) => format!("{base}#{p}"),
            None => base.to_string(),
        };
        Placement {
            host: Some(with_pool(base)),
            service_uuid: self.service.row.uuid.clone().filter(|_| table == "volumes"),
            cluster_name: (table != "backups")
                .then(|| self.service.row.cluster_name.as_deref().map(with_pool))
                .flatten(),
        }
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
    /// None for an undo (the rows go back where they were), or when TO names no live service
    /// of the kind's binary (`target_missing`).
    pub target: Option<Target>,
    /// TO's host, when no live service of the kind's binary is there: the move is refused.
    pub target_missing: Option<String>,
    pub moves: Vec<Move>,
    pub blocked: Vec<Blocked>,
    /// Heartbeats before this are down: the write requires the target's to be at or after it
    /// (None with `--force`, or for an undo).
    pub target_alive_since: Option<NaiveDateTime>,
    /// The transaction an undo reverses.
    pub undo_of: Option<String>,
}

impl Plan {
    /// The target is down (moving onto it needs `--force`).
    pub fn target_down(&self) -> bool {
        self.target.as_ref().is_some_and(|t| !t.service.up)
    }

    pub fn decide(&self, force: bool) -> Decision {
        let refused = self.blocked.len()
            + usize::from(self.target_missing.is_some())
            + usize::from(self.target_down() && !force);
        Decision {
            matched: self.found,
            refused,
            to_change: self.moves.len(),
        }
    }
}

/// The plan to move the rows of `kind` on `from` to `to` (`host@backend`, or with `#pool`):
/// the target is the live service of the kind's binary on TO's host with the freshest
/// heartbeat; busy rows are refused; without `force`, a target that is down is refused too.
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
    let to_base = to.split('#').next().unwrap_or(to);
    let mut plan = Plan {
        kind,
        from: from.to_string(),
        to: to.to_string(),
        found: rows.len(),
        target: None,
        target_missing: None,
        moves: Vec::new(),
        blocked: Vec::new(),
        target_alive_since: (!force).then(|| down_before(now, service_down_time)),
        undo_of: None,
    };
    if rows.is_empty() {
        return Ok(plan);
    }
    let filter = ServiceFilter {
        hosts: vec![HostPattern::Exact(to_base.to_string())],
        binary: Some(kind.binary().to_string()),
        ..ServiceFilter::default()
    };
    // Two live rows for one (host, binary) can exist; the freshest heartbeat is the service.
    let Some(service) = services::fetch_all(db, &filter)
        .await?
        .into_iter()
        .max_by_key(|r| (r.heartbeat(), r.id))
    else {
        plan.target_missing = Some(to_base.to_string());
        return Ok(plan);
    };
    let target = Target {
        service: Service::judge(service, now, service_down_time),
        to: to.to_string(),
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
            old: placement_of(&row),
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
/// (`outcomes`: rolled back, or checked and not in the database).
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
        moves,
        blocked: Vec::new(),
        target_alive_since: None,
        undo_of: Some(txn.to_string()),
    }
}

pub(crate) fn placement_of(row: &HostedRow) -> Placement {
    Placement {
        host: row.host.clone(),
        service_uuid: row.service_uuid.clone(),
        cluster_name: row.cluster_name.clone(),
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
    }
}
