//! `svcctl backup move-host --from HOST --to HOST`: the safe `cinder-manage backup
//! update_backup_host`, through `volume move-host`'s flow.

use anyhow::Result;

use crate::Context;
use crate::relocate::Kind;

use super::volume_move_host::{MoveArgs, move_host};

/// Move a dead backup host's backups to a live cinder-backup service, safely
///
/// Moves live backups whose host is FROM to TO (backups.host names the cinder-backup host).
/// Refused (exit 3, nothing changed) when TO is not a live cinder-backup service, when it is
/// down (unless --force), or when a backup is busy (creating, deleting, restoring). One
/// transaction, audited; `--undo TXN` moves a committed move's backups back.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub common: MoveArgs,
}

pub(crate) async fn run(args: Args, ctx: &Context) -> Result<()> {
    move_host(Kind::Backup, args.common, ctx).await
}
