//! `svcctl cluster remove NAME --binary B [--recursive]`: Cinder's `cluster remove`, with the
//! checks it lacks: an empty cluster is soft-deleted as Cinder does; with `--recursive` its
//! services go first, through exactly the path `service delete` takes.

use anyhow::Result;

use crate::Context;
use crate::apply::{DeleteFlags, Flags};
use crate::db::services;
use crate::output::ReportArgs;
use crate::output::cluster::ClusterReport;
use crate::output::delete::{self, DeleteReport, Scope};
use crate::output::report;
use crate::plan::delete::{self as delete_plan, Locality};
use crate::plan::{cluster as plan, plan_now};
use crate::write::delete::Delete;

/// Remove a cluster: soft-delete it as Cinder does (deleted = 1, race_preventer = id)
///
/// A cluster whose name live services still carry (services.cluster_name) is refused, exit 3,
/// unless --recursive, which first deletes its BINARY services the way service delete does:
/// the same plan, refusals (up, in use), confirmation, --dry-run and audit. The cluster goes
/// with its last service. A cluster that live volumes, groups or cache entries name through
/// their cluster_name is refused too, unless --force. No live cluster NAME with BINARY: exit 4.
#[derive(Debug, clap::Args)]
#[command(
    mut_arg("format", |a| a.help(crate::output::formatter::document_help(
        "dry_run, would_delete, deleted, refused (each with reasons), would_delete_clusters, deleted_clusters, already_deleted"))),
)]
pub(crate) struct Args {
    /// The cluster's name, exactly as in cluster list
    #[arg(value_name = "NAME")]
    pub name: String,
    /// The cluster's binary, e.g. cinder-volume
    #[arg(long, value_name = "BINARY", required = true)]
    pub binary: String,
    /// Also delete the cluster's services (with service delete's checks)
    #[arg(long)]
    pub recursive: bool,
    #[command(flatten)]
    pub flags: DeleteFlags,
    #[command(flatten)]
    pub output: ReportArgs,
}

pub(crate) async fn run(args: Args, ctx: &Context) -> Result<()> {
    let flags = Flags::from(&args.flags);
    let mut db = ctx.connect().await?;
    let plan = plan::build(&mut db, &args.name, &args.binary).await?;
    let members_all_go = !plan.members.is_empty() && plan.other_members().next().is_none();
    // Rows that name the cluster refuse it on either path (unless --force): the removal's own
    // plan says so and why.
    let named = plan.named_by.total() > 0 && !flags.force;
    if !(args.recursive && members_all_go) || named {
        let report = ClusterReport {
            plan: &plan,
            style: &args.output,
        };
        // One cluster: a refusal has nothing beside it to go on with.
        let flags = Flags {
            skip_refused: false,
            ..flags
        };
        return report::run(&mut db, &plan, &report, &args.output, &flags).await;
    }
    // --recursive: the cluster's services through service delete's own path; the soft delete
    // removes the cluster with its last live service.
    let ids: Vec<i64> = plan.members.iter().map(|m| m.id).collect();
    let rows = services::by_ids(&mut db, &ids)
        .await?
        .into_iter()
        .filter(|r| r.deleted == Some(false))
        .collect();
    let sdt = ctx.settings.service_down_time;
    let mut deletion =
        delete_plan::build(&mut db, rows, plan_now(), sdt, |_| Locality::Remote).await?;
    if flags.dry_run && args.output.document() {
        deletion.read_emptied(&mut db, flags.force).await?;
    }
    let report = DeleteReport {
        plan: &deletion,
        scope: Scope::Cluster { name: args.name },
        style: &args.output,
        processes: None,
    };
    let op = Delete {
        plan: &deletion,
        describe: delete::describe,
    };
    report::run(&mut db, &op, &report, &args.output, &flags).await
}
