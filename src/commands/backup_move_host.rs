//! `svcctl backup move-host --from HOST --to HOST`: the safe `cinder-manage backup
//! update_backup_host`, and `--undo TXN` of such a move.

use anyhow::Result;

use crate::Context;
use crate::apply::{Flags, WriteFlags};
use crate::output::{ReportArgs, move_host};
use crate::plan::move_host::{Kind, MoveArgs, Request};

/// Move a dead backup host's backups to a live cinder-backup service, safely
///
/// Moves live backups whose host is FROM to TO (backups.host names the cinder-backup host).
/// Refused (exit 3, nothing changed) when TO is not a live cinder-backup service, when it is
/// down, disabled or frozen (unless --force), or when a backup is busy (creating, deleting,
/// restoring). One transaction, audited; `--undo TXN` moves a committed move's backups back,
/// if a live cinder-backup service is still where they were.
#[derive(Debug, clap::Args)]
// Backups have no pools: the shared flags' help, reworded for them.
#[command(
    mut_arg("format", |a| a.help(crate::output::formatter::document_help(
        "dry_run, txn, undo_of, from, to, target, would_move, moved, refused, not_moved"))),
    mut_arg("from", |a| a.help("The cinder-backup host to move off, e.g. node02 (exactly that host)")),
    mut_arg("to", |a| a.help("The host to move to: a live cinder-backup service's host")),
    mut_arg("force", |a| a.help("Move even when the target service is down, disabled or frozen")),
    mut_arg("undo", |a| a.help("Move back the backups that transaction TXN of the audit log moved \
                                 (they must still be where it put them)")),
)]
pub(crate) struct Args {
    #[command(flatten)]
    pub request: MoveArgs,
    #[command(flatten)]
    pub flags: WriteFlags,
    #[command(flatten)]
    pub output: ReportArgs,
}

pub(crate) async fn run(args: Args, ctx: &Context) -> Result<()> {
    let request = Request::new(Kind::Backup, &args.request)?;
    let flags = Flags::from(&args.flags).forced(args.request.force);
    let mut db = ctx.connect().await?;
    let sdt = ctx.settings.service_down_time;
    move_host::run(&mut db, &request, &flags, &args.output, sdt).await
}
