//! `svcctl service disable --host HOST --reason TEXT`: mark services disabled from the
//! database, exactly as Cinder's `service_update` does for `cinder service-disable --reason`
//! (which needs a working Cinder API).

use anyhow::Result;

use crate::Context;
use crate::apply::{Flags, WriteFlags};
use crate::hosts::HostArgs;
use crate::output::{ReportArgs, toggle};

/// Disable a host's services with a reason, as `cinder service-disable --reason` does
///
/// Sets disabled, disabled_reason and modified_at; updated_at (the heartbeat) is left alone,
/// so a down service stays down and an up one stays up. Works on down services. Hosts match as
/// in `service delete`. Services already disabled are reported and left as they are.
#[derive(Debug, clap::Args)]
// `mut_arg` moves the argument it changes to the end, and the usage line lists required
// arguments in that order: `reason` goes after `host` again, as declared.
#[command(
    mut_arg("host", |a| a.help("Host whose services to disable; `*` and `?` make a glob; repeatable")),
    mut_arg("reason", |a| a)
)]
pub(crate) struct Args {
    #[command(flatten)]
    pub target: HostArgs,
    /// Why (1 to 255 characters, not only blanks, no control characters), shown by `cinder service-list` as Disabled Reason
    #[arg(long, value_name = "TEXT", required = true, value_parser = crate::limits::reason)]
    pub reason: String,
    #[command(flatten)]
    pub flags: WriteFlags,
    #[command(flatten)]
    pub output: ReportArgs,
}

pub(crate) async fn run(args: Args, ctx: &Context) -> Result<()> {
    // Checked before connecting: a bad host is a usage error whatever the database says.
    args.target.patterns()?;
    let mut db = ctx.connect().await?;
    let flags = Flags::from(&args.flags);
    let sdt = ctx.settings.service_down_time;
    let reason = Some(args.reason.clone());
    toggle::run(&mut db, &args.target, reason, &flags, &args.output, sdt).await
}
