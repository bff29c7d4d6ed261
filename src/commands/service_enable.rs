//! `svcctl service enable --host HOST`: clear `disabled` and `disabled_reason` from the
//! database, exactly as Cinder's `service_update` does for `cinder service-enable`.

use anyhow::Result;

use crate::Context;
use crate::apply::{Flags, WriteFlags};
use crate::hosts::HostArgs;
use crate::output::ReportArgs;
use crate::output::report;
use crate::output::toggle::ToggleReport;
use crate::plan::toggle as plan;

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
    let hosts = args.target.patterns()?;
    let mut db = ctx.connect().await?;
    let binary = args.target.binary.clone();
    let sdt = ctx.settings.service_down_time;
    let plan = plan::build(&mut db, hosts, binary, None, sdt).await?;
    let report = ToggleReport {
        plan: &plan,
        style: &args.output,
        target: &args.target,
    };
    let flags = Flags::from(&args.flags);
    report::run(&mut db, &plan, &report, &args.output, &flags).await
}
