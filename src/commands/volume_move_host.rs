//! `svcctl volume move-host --from HOST --to HOST`: the safe `cinder-manage volume
//! update_host`, and `--undo TXN` of such a move.

use anyhow::Result;

use crate::Context;
use crate::apply::{Flags, WriteFlags};
use crate::output::{ReportArgs, move_host};
use crate::plan::move_host::{Kind, MoveArgs, Request};

/// Move a dead host's volumes (and its groups) to a live cinder-volume service, safely
///
/// Moves live volumes whose host is FROM or FROM#pool (only FROM#POOL's, when FROM names a
/// pool) to TO, keeping the pool (FROM#p becomes TO#p) unless TO names one; sets service_uuid
/// to the target service's uuid, cluster_name to its cluster (or NULL) and availability_zone to
/// its zone, as Cinder's migration does; groups, consistency groups and image-volume cache
/// entries on FROM move with them. Refused (exit 3, nothing changed) when TO is not a live
/// cinder-volume service, when it is down, disabled or frozen or in another zone (unless
/// --force), or when a volume is busy (creating, attaching, migrating, ...). All in one
/// transaction, audited; `--undo TXN` moves a committed move's rows back, if a live service
/// with the recorded uuid is still where they were.
#[derive(Debug, clap::Args)]
#[command(
    mut_arg("format", |a| a.help(crate::output::formatter::document_help(
        "dry_run, txn, undo_of, from, to, target, would_move, moved, refused, not_moved"))),
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
    let request = Request::new(Kind::Volume, &args.request)?;
    let flags = Flags::from(&args.flags).forced(args.request.force);
    let mut db = ctx.connect().await?;
    let sdt = ctx.settings.service_down_time;
    move_host::run(&mut db, &request, &flags, &args.output, sdt).await
}
