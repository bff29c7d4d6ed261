//! `svcctl backup move-host --from HOST --to HOST`: the safe `cinder-manage backup
//! update_backup_host`, and `--undo TXN` of such a move.

use anyhow::Result;

use crate::Context;
use crate::apply::{Flags, WriteFlags};
use crate::output::ReportArgs;
use crate::output::move_host::MoveReport;
use crate::output::report;
use crate::plan::move_host::{self as plan, Kind, Request};

/// Move a dead backup host's backups to a live cinder-backup service, safely
///
/// Moves live backups whose host is FROM to TO (backups.host names the cinder-backup host).
/// Refused (exit 3, nothing changed) when TO is not a live cinder-backup service, when it is
/// down (unless --force), or when a backup is busy (creating, deleting, restoring). One
/// transaction, audited; `--undo TXN` moves a committed move's backups back.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The cinder-backup host to move off, e.g. node02 (exactly that host)
    #[arg(long, value_name = "HOST", required_unless_present = "undo")]
    pub from: Option<String>,
    /// The host to move to: a live cinder-backup service's host
    #[arg(long, value_name = "HOST", required_unless_present = "undo")]
    pub to: Option<String>,
    /// Move even when the target service is down
    #[arg(long)]
    pub force: bool,
    /// Move back the backups that transaction TXN of the audit log moved (they must still be where it put them)
    #[arg(long, value_name = "TXN", conflicts_with_all = ["from", "to", "force"])]
    pub undo: Option<String>,
    #[command(flatten)]
    pub flags: WriteFlags,
    #[command(flatten)]
    pub output: ReportArgs,
}

pub(crate) async fn run(args: Args, ctx: &Context) -> Result<()> {
    let kind = Kind::Backup;
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
