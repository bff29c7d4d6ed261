//! `svcctl service enable --host HOST`: clear `disabled` from the database, as Cinder's
//! `service_update(disabled=False)` does (the reason is kept); `--cluster NAME` enables a
//! cluster as `cinder cluster-enable` does.

use anyhow::Result;

use crate::Context;
use crate::apply::{Flags, WriteFlags};
use crate::hosts::HostArgs;
use crate::output::{ReportArgs, toggle};

/// Enable a host's services again, as `cinder service-enable` does
///
/// Clears disabled and sets modified_at; disabled_reason is kept, as Cinder's service_update
/// keeps it, and updated_at (the heartbeat) is left alone. Hosts match as in `service delete`.
/// Services already enabled are reported and left as they are. --cluster NAME --binary B
/// enables a cluster as `cinder cluster-enable` does (clearing its reason, as that does).
#[derive(Debug, clap::Args)]
#[command(
    mut_arg("format", |a| a.help(crate::output::formatter::document_help(
        "dry_run, action, would_enable, enabled, unchanged, would_enable_clusters, enabled_clusters, unchanged_clusters, already_deleted, warnings"))),
    mut_arg("host", |a| a
    .help("Host whose services to enable; `*` and `?` make a glob; repeatable")
    .required(false)),
    group(clap::ArgGroup::new("what").args(["host", "cluster"]).required(true)))]
pub(crate) struct Args {
    #[command(flatten)]
    pub target: HostArgs,
    /// Enable this cluster (name as in cluster list; needs --binary) instead of services
    #[arg(long, value_name = "NAME", requires = "binary",
          value_parser = crate::limits::name)]
    pub cluster: Option<String>,
    #[command(flatten)]
    pub flags: WriteFlags,
    #[command(flatten)]
    pub output: ReportArgs,
}

pub(crate) async fn run(args: Args, ctx: &Context) -> Result<()> {
    // Checked before connecting: a bad host is a usage error whatever the database says.
    args.target.patterns()?;
    let mut db = ctx.connect().await?;
    let (flags, sdt) = (Flags::from(&args.flags), ctx.settings.service_down_time);
    let cluster = args.cluster.as_deref();
    toggle::run(
        &mut db,
        &args.target,
        cluster,
        None,
        &flags,
        &args.output,
        sdt,
    )
    .await
}
