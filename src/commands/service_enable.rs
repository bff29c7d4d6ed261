//! `svcctl service enable --host HOST`: clear `disabled` and `disabled_reason` from the
//! database, exactly as Cinder's `service_update` does for `cinder service-enable`.

use anyhow::Result;

use crate::Context;
use crate::apply::{Flags, WriteFlags};
use crate::hosts::HostArgs;
use crate::output::{ReportArgs, toggle};

/// Enable a host's services again, as `cinder service-enable` does
///
/// Clears disabled and disabled_reason and sets modified_at; updated_at (the heartbeat) is
/// left alone. Hosts match as in `service delete`. Services already enabled are reported and
/// left as they are.
#[derive(Debug, clap::Args)]
#[command(mut_arg("host", |a| a
    .help("Host whose services to enable; `*` and `?` make a glob; repeatable")))]
pub(crate) struct Args {
    #[command(flatten)]
    pub target: HostArgs,
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
    let reason = None;
    toggle::run(&mut db, &args.target, reason, &flags, &args.output, sdt).await
}
