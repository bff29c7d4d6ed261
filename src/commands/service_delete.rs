//! `svcctl service delete --host HOST` (or `--down-for DURATION`, a sweep): soft-delete dead
//! services the way Cinder does, after a plan that refuses services that are up or still in use.

use anyhow::Result;

use crate::Context;
use crate::apply::{DeleteFlags, Flags};
use crate::db::services::{self, ServiceFilter};
use crate::hosts::{HostArgs, Selection};
use crate::output::ReportArgs;
use crate::output::delete::{self, DeleteReport, Scope};
use crate::output::report;
use crate::plan::delete::{self as plan, Locality, Sweep};
use crate::plan::plan_now;
use crate::write::delete::Delete;

/// Soft-delete a host's services as Cinder does (deleted = 1), refusing what would hurt
///
/// Every binary on the host unless --binary. Hosts match exactly and case-sensitively:
/// `--host node02` deletes node02's scheduler and backup, never node02@... (use `node02@*`).
/// --down-for DURATION (7d, 12h, 90m) takes only services down at least that long; without
/// --host it sweeps the whole cloud (for cron: --down-for 7d --skip-refused --missing-ok --yes).
/// A service that is up (it would recreate its row) or still used by live volumes, backups,
/// groups, workers or cache entries is refused with exit 3 and nothing is changed; with
/// --skip-refused the others are deleted and the refused listed (exit 0, or 4 if none passed).
#[derive(Debug, clap::Args)]
#[command(
    mut_arg("format", |a| a.help(crate::output::formatter::document_help(
        "dry_run, would_delete, deleted, refused (each with reasons), would_delete_clusters, deleted_clusters, already_deleted"))),
    mut_arg("host", |a| a
        .help("Host whose services to delete; `*` and `?` make a glob; repeatable")
        .required(false)),
    // A host, a sweep, or both: without either, the usage error names both.
    group = clap::ArgGroup::new("which").required(true).multiple(true).args(["host", "down_for"]),
)]
pub(crate) struct Args {
    #[command(flatten)]
    pub target: HostArgs,
    /// Only services down (no heartbeat) for at least this long, at least [DEFAULT] service_down_time: 7d, 12h, 90m, or seconds
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    pub down_for: Option<String>,
    /// Leave this host alone (exact, or a glob); repeatable
    #[arg(long, value_name = "HOST")]
    pub exclude: Vec<String>,
    /// Keep a cluster whose last live service goes (by default svcctl soft-deletes it; Cinder
    /// itself deletes clusters only in cinder-manage cluster remove)
    #[arg(long)]
    pub keep_clusters: bool,
    #[command(flatten)]
    pub flags: DeleteFlags,
    #[command(flatten)]
    pub output: ReportArgs,
}

pub(crate) async fn run(args: Args, ctx: &Context) -> Result<()> {
    let down_time = ctx.settings.service_down_time;
    let sel = Selection::parse(
        &args.target.host,
        &args.exclude,
        args.down_for.as_deref(),
        down_time,
    )?;
    let mut db = ctx.connect().await?;
    let now = plan_now();
    let filter = ServiceFilter::selecting(&sel, args.target.binary.clone(), now);
    let rows = services::fetch_all(&mut db, &filter).await?;
    let mut plan = plan::build(&mut db, rows, now, down_time, |_| Locality::Remote).await?;
    plan.keep_clusters = args.keep_clusters;
    if let Some((text, d)) = &sel.down_for {
        // The write's WHERE clause holds the sweep's own line, not just service_down_time's.
        plan.cutoff = plan.cutoff.min(now - *d);
        plan.sweep = Some(Sweep {
            down_for: text.clone(),
            every_host: sel.hosts.is_empty(),
        });
    }
    let flags = Flags::from(&args.flags);
    if flags.dry_run && args.output.document() {
        plan.read_emptied(&mut db, flags.force).await?;
    }
    let report = DeleteReport {
        plan: &plan,
        scope: Scope::Hosts {
            hosts: sel.hosts.iter().map(ToString::to_string).collect(),
            binary: args.target.binary.clone(),
            down_for: sel.down_for.as_ref().map(|(d, _)| d.clone()),
        },
        style: &args.output,
        processes: None,
    };
    let op = Delete {
        plan: &plan,
        describe: delete::describe,
    };
    report::run(&mut db, &op, &report, &args.output, &flags).await
}
