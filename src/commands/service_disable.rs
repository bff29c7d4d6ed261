//! `svcctl service disable --host HOST --reason TEXT`: mark services disabled from the
//! database, as Cinder's `service_update` does for `cinder service-disable --reason` (which
//! needs a working Cinder API; svcctl leaves a service already disabled with the same reason
//! alone, where Cinder restamps it); `--cluster NAME` disables a cluster as `cinder
//! cluster-disable` does.

use anyhow::Result;

use crate::Context;
use crate::apply::{Flags, WriteFlags};
use crate::hosts::HostArgs;
use crate::output::{ReportArgs, toggle};

/// Disable a host's services with a reason, as `cinder service-disable --reason` does
///
/// Sets disabled, disabled_reason and modified_at; updated_at (the heartbeat) is left alone,
/// so a down service stays down and an up one stays up. Works on down services. Hosts match as
/// in `service delete`. Services already disabled with the same reason are reported and left
/// as they are; a new reason replaces the old one. For a service in a cluster the scheduler
/// reads only the cluster's flag: disable the cluster with --cluster NAME --binary B, as
/// `cinder cluster-disable` does.
#[derive(Debug, clap::Args)]
// The usage line lists the required `--reason` before the required group of `--host` and
// `--cluster` (one of them).
#[command(
    mut_arg("format", |a| a.help(crate::output::formatter::document_help(
        "dry_run, action, would_disable, disabled, unchanged, would_disable_clusters, disabled_clusters, unchanged_clusters, already_deleted, warnings"))),
    mut_arg("host", |a| a
        .help("Host whose services to disable; `*` and `?` make a glob; repeatable")
        .required(false)),
    group(clap::ArgGroup::new("what").args(["host", "cluster"]).required(true))
)]
pub(crate) struct Args {
    #[command(flatten)]
    pub target: HostArgs,
    /// Disable this cluster (name as in cluster list; needs --binary) instead of services
    #[arg(long, value_name = "NAME", requires = "binary",
          value_parser = crate::limits::name)]
    pub cluster: Option<String>,
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
    let (flags, sdt) = (Flags::from(&args.flags), ctx.settings.service_down_time);
    let cluster = args.cluster.as_deref();
    toggle::run(
        &mut db,
        &args.target,
        cluster,
        Some(args.reason.clone()),
        &flags,
        &args.output,
        sdt,
    )
    .await
}
