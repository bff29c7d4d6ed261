//! `svcctl volume move-host --from HOST --to HOST`: the safe `cinder-manage volume
//! update_host`, and `--undo TXN` of such a move.

use anyhow::Result;

use crate::Context;
use crate::apply::{Flags, WriteFlags};
use crate::output::ReportArgs;
use crate::output::move_host::MoveReport;
use crate::output::report;
use crate::plan::move_host::{self as plan, Kind, Request};

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
    #[command(flatten)]
    pub output: ReportArgs,
}

pub(crate) async fn run(args: Args, ctx: &Context) -> Result<()> {
    let kind = Kind::Volume;
    let request = Request::new(
        kind,
        args.from.as_deref(),
        args.to.as_deref(),
        args.force,
        args.undo.as_deref(),
    )?;
    let flags = Flags::from(&args.flags).forced(args.force);
    let log = flags.audit.path();
    let mut db = ctx.connect().await?;
    let sdt = ctx.settings.service_down_time;
    let plan = plan::plan(&mut db, kind, &request, &log, sdt).await?;
    let report = MoveReport {
        plan: &plan,
        style: &args.output,
        log: Some(log),
    };
    report::run(&mut db, &plan, &report, &args.output, &flags).await
}
