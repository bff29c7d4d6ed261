//! `svcctl volume move-host --from HOST --to HOST`: the safe `cinder-manage volume
//! update_host`; `move_host` is also `backup move-host`'s flow, and both take `--undo TXN`.

use anyhow::Result;

use crate::Context;
use crate::apply::{self, WriteFlags};
use crate::audit::{self, Actor};
use crate::db::hosted;
use crate::db::services::{self, ServiceFilter};
use crate::error::Failure;
use crate::hosts::HostPattern;
use crate::model::Service;
use crate::model::down_before;
use crate::output::{self, decom};
use crate::plan::plan_now;
use crate::relocate::{Kind, MovePlan, Target};
use crate::write::{self, Written, move_host};

/// Move a dead host's volumes (and its groups) to a live cinder-volume service, safely
///
/// Moves live volumes whose host is FROM or FROM#pool to TO, keeping the pool (FROM#p becomes
/// TO#p) unless TO names one; sets service_uuid to the target service's uuid and cluster_name
/// to its cluster (or NULL); groups and consistency groups on FROM move with them. Refused
/// (exit 3, nothing changed) when TO is not a live cinder-volume service, when it is down
/// (unless --force), or when a volume is busy (creating, attaching, migrating, ...). All in
/// one transaction, audited; `--undo TXN` moves a committed move's rows back.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub common: MoveArgs,
}

/// The flags of both host moves.
#[derive(Debug, clap::Args)]
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
    #[command(flatten)]
    pub flags: WriteFlags,
}

pub(crate) async fn run(args: Args, ctx: &Context) -> Result<()> {
    move_host(Kind::Volume, args.common, ctx).await
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

/// Plan, refuse, confirm, write and report one host move of `kind`, or its `--undo`.
pub(crate) async fn move_host(kind: Kind, args: MoveArgs, ctx: &Context) -> Result<()> {
    let flags = &args.flags;
    if let Some(txn) = &args.undo {
        return undo(kind, txn, flags, ctx).await;
    }
    let (Some(from), Some(to)) = (args.from.as_deref(), args.to.as_deref()) else {
        return Err(Failure::Usage("give --from HOST and --to HOST, or --undo TXN".into()).into());
    };
    exact_host("--from", from, false)?;
    exact_host("--to", to, kind.pools())?;
    let to_base = to.split('#').next().unwrap_or(to);
    if to_base == from {
        return Err(Failure::Usage(format!(
            "--from and --to name the same host {from}; nothing to move"
        ))
        .into());
    }
    let mut db = ctx.connect().await?;
    let now = plan_now();
    let sdt = ctx.settings.service_down_time;
    let mut rows = Vec::new();
    for table in kind.tables() {
        for r in hosted::fetch_on_host(&mut db, table, from, kind.pools()).await? {
            rows.push((*table, r));
        }
    }
    if rows.is_empty() {
        if flags.document() {
            flags.print(&decom::MoveDoc::empty(flags.dry_run, from, to))?;
        }
        // Nothing to move is nothing to refuse: scripts re-run with --missing-ok.
        return apply::missing(
            flags.missing_ok,
            format!("no live {}s on host {from}", kind.noun()),
        );
    }
    let filter = ServiceFilter {
        hosts: vec![HostPattern::Exact(to_base.to_string())],
        binary: Some(kind.binary().to_string()),
        ..ServiceFilter::default()
    };
    // Two live rows for one (host, binary) can exist; the freshest heartbeat is the service.
    let Some(target) = services::fetch_all(&mut db, &filter)
        .await?
        .into_iter()
        .max_by_key(|r| (r.heartbeat(), r.id))
    else {
        if flags.document() {
            flags.print(&decom::MoveDoc::empty(flags.dry_run, from, to))?;
        }
        return Err(Failure::Refused(format!(
            "no live {} service on host {to_base}; nothing was changed; the target must be one \
             (see svcctl service list --binary {})",
            kind.binary(),
            kind.binary()
        ))
        .into());
    };
    let target = Target {
        service: Service::judge(target, now, sdt),
        to: to.to_string(),
    };
    let alive_since = (!args.force).then(|| down_before(now, sdt));
    let plan = MovePlan::build(kind, from, target, rows, alive_since);
    apply(&plan, &mut db, flags, args.force).await
}

/// `--undo TXN`: the rows transaction TXN moved go back where they were.
async fn undo(kind: Kind, txn: &str, flags: &WriteFlags, ctx: &Context) -> Result<()> {
    let path = flags.audit_path();
    let lines = move_host::host_moves(audit::read(&path)?, txn);
    let moves = move_host::reversed(&lines, kind.tables());
    if moves.is_empty() {
        if flags.document() {
            flags.print(&decom::MoveDoc::empty(flags.dry_run, "", ""))?;
        }
        return apply::missing(
            flags.missing_ok,
            format!(
                "no {} moves of transaction {txn} in {}",
                kind.noun(),
                path.display()
            ),
        );
    }
    let plan = MovePlan {
        kind,
        from: lines
            .first()
            .and_then(|l| l.detail.new.as_ref()?.host.clone())
            .unwrap_or_default(),
        to: lines
            .first()
            .and_then(|l| l.detail.old.as_ref()?.host.clone())
            .unwrap_or_default(),
        target: None,
        moves,
        blocked: Vec::new(),
        target_alive_since: None,
        undo_of: Some(txn.to_string()),
    };
    let mut db = ctx.connect().await?;
    apply(&plan, &mut db, flags, false).await
}

/// Prints the plan, refuses (exit 3) what must not move, confirms, writes, reports.
async fn apply(
    plan: &MovePlan,
    db: &mut crate::db::Db,
    flags: &WriteFlags,
    force: bool,
) -> Result<()> {
    if !flags.document() {
        output::print(&decom::move_plan_table(plan, flags.fit_to()))?;
    }
    let target_down = plan.target.as_ref().is_some_and(|t| !t.service.up);
    if (target_down && !force) || !plan.blocked.is_empty() {
        if flags.document() {
            flags.print(&decom::MoveDoc::planned(plan, flags.dry_run))?;
        }
        return Err(Failure::Refused(decom::move_refusal(
            plan,
            target_down && !force,
            flags.dry_run,
        ))
        .into());
    }
    if target_down {
        decom::move_forced_note(plan);
    }
    if flags.dry_run {
        if flags.document() {
            flags.print(&decom::MoveDoc::planned(plan, true))?;
        }
        decom::move_dry_run_note(plan);
        return Ok(());
    }
    apply::confirm(&decom::move_question(plan), flags).await?;
    let mut audit = flags.open_audit()?;
    let actor = Actor::current(audit::database_name(&db.url));
    crate::seams::pause(crate::seams::Seam::BeforeWrite).await;
    let schema = db.schema.clone();
    let change = move_host::MoveHost::new(plan, &schema);
    // All or nothing: a planned row that changed, or a row that appeared on FROM, rolls the
    // whole move back (exit 3, naming them).
    let (outcome, rolled_back) = match write::run(db, &change, &mut audit, &actor).await? {
        Written::Committed(o) => (o, false),
        Written::RolledBack(mut o) => {
            o.moved.clear();
            (o, true)
        }
    };
    if flags.document() {
        flags.print(&decom::MoveDoc::done(plan, &outcome))?;
    } else {
        output::print(&decom::move_result_table(&outcome, flags.fit_to()))?;
    }
    if rolled_back {
        return Err(Failure::Refused(decom::move_leftovers(plan, &outcome)).into());
    }
    decom::move_done_note(plan, &outcome, audit.path());
    Ok(())
}
