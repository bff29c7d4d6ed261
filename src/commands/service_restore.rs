//! `svcctl service restore`: undo a deletion svcctl made, from its audit log, after a plan
//! that refuses any row no longer as svcctl left it.

use anyhow::Result;

use crate::Context;
use crate::apply::{self, WriteFlags};
use crate::audit::{self, Actor};
use crate::db::clusters;
use crate::db::services::{self, ServiceFilter};
use crate::error::Failure;
use crate::hosts::HostPattern;
use crate::output::{self, messages, undo::RestoreDoc};
use crate::undo::{self, Selector};
use crate::write::{self, restore::Restore};

/// Put back the services (and clusters) a deletion soft-deleted, from the audit log
///
/// --txn ID restores one deletion (the "txn" of its lines in the audit log); --host HOST (and
/// --binary) the newest deletion of that host. Exactly the rows that deletion soft-deleted come
/// back: deleted = 0, deleted_at = NULL, updated_at as the audit line recorded it. A row that
/// is no longer as svcctl left it (purged, changed since) or whose service made a new live row
/// since is refused: exit 3, nothing changed. A deletion already restored exits 4. The restore
/// is audited too (action "restore"); undo it with service delete.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("which").required(true).args(["txn", "host"]))]
pub(crate) struct Args {
    /// The deletion to undo: its txn in the audit log
    #[arg(long, value_name = "ID", conflicts_with_all = ["host", "binary"])]
    pub txn: Option<String>,
    /// Undo the newest deletion of this host (exact; `*` and `?` make a glob)
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// With --host: only this binary's rows
    #[arg(long, value_name = "BINARY", requires = "host")]
    pub binary: Option<String>,
    #[command(flatten)]
    pub flags: WriteFlags,
}

pub(crate) async fn run(args: Args, ctx: &Context) -> Result<()> {
    let sel = match (&args.txn, &args.host) {
        (Some(t), _) => Selector::Txn(t.clone()),
        (None, Some(h)) => Selector::Host {
            host: HostPattern::parse(h)?,
            binary: args.binary.clone(),
        },
        (None, None) => {
            return Err(Failure::Usage("give --txn ID or --host HOST".into()).into());
        }
    };
    let flags = &args.flags;
    let mut log = flags.open_audit()?;
    let path = flags.audit_path();
    let mut db = ctx.connect().await?;
    let database = audit::database_name(&db.url);
    let lines = audit::read(&path)?;
    let deletion = match undo::find(&lines, &path, &database, &sel) {
        Ok(d) => d,
        Err(Failure::NothingMatched(what)) => {
            return apply::nothing(flags, what, &RestoreDoc::nothing(flags.dry_run));
        }
        Err(e) => return Err(e.into()),
    };
    let ids: Vec<i64> = deletion.services.iter().map(|s| s.record.id).collect();
    let current = services::by_ids(&mut db, &ids).await?;
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
        services::fetch_all(&mut db, &filter).await?
    };
    let cids: Vec<i64> = deletion.clusters.iter().map(|c| c.record.id).collect();
    let (current_clusters, live_clusters) = if cids.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        (
            clusters::by_ids(&mut db, &cids).await?,
            clusters::live(&mut db).await?,
        )
    };
    let d = db.dialect;
    let plan = undo::judge(
        deletion,
        &current,
        &live,
        &current_clusters,
        &live_clusters,
        |t| d.timestamp(t),
    );
    if !flags.document() {
        output::print(&output::undo::restore_plan_table(&plan))?;
    }
    let refused = plan.refused();
    if refused > 0 {
        if flags.document() {
            flags.print(&RestoreDoc::refused(&plan, flags.dry_run))?;
        }
        messages::restore_refusals(&plan);
        return Err(Failure::Refused(format!(
            "refused {refused} row{}; nothing was changed{}",
            if refused == 1 { "" } else { "s" },
            if flags.dry_run { " (dry run)" } else { "" }
        ))
        .into());
    }
    let (n, c) = (plan.services.len(), plan.clusters.len());
    apply::confirm(&messages::count_question("Restore", n, c), flags).await?;
    if flags.dry_run {
        if flags.document() {
            flags.print(&RestoreDoc::planned(&plan, true))?;
        }
        messages::dry_run_restore(n, c);
        return Ok(());
    }
    let actor = Actor::current(database);
    let change = Restore {
        plan: &plan,
        service_down_time: ctx.settings.service_down_time,
    };
    crate::seams::pause(crate::seams::Seam::BeforeWrite).await;
    write::run(&mut db, &change, &mut log, &actor)
        .await?
        .into_outcome();
    if flags.document() {
        flags.print(&RestoreDoc::planned(&plan, false))?;
    } else {
        output::print(&output::undo::restore_result_table(&plan))?;
    }
    messages::restored(&plan, log.path());
    Ok(())
}
