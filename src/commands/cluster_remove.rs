//! `svcctl cluster remove NAME --binary B [--recursive]`: Cinder's `cluster remove`, with the
//! checks it lacks: an empty cluster is soft-deleted as Cinder does; with `--recursive` its
//! services go first, through exactly the path `service delete` takes.

use anyhow::Result;

use crate::Context;
use crate::apply::{self, DeleteFlags};
use crate::audit::{self, Actor};
use crate::db::clusters;
use crate::db::references;
use crate::db::services;
use crate::error::Failure;
use crate::output::{self, messages, undo::ClusterGoneDoc};
use crate::plan::{Locality, Plan, plan_now};
use crate::write::{self, cluster_destroy::ClusterDestroy};

/// Remove a cluster: soft-delete it as Cinder does (deleted = 1, race_preventer = id)
///
/// A cluster whose name live services still carry (services.cluster_name) is refused, exit 3,
/// unless --recursive, which first deletes its BINARY services the way service delete does:
/// the same plan, refusals (up, in use), confirmation, --dry-run and audit. The cluster goes
/// with its last service. No live cluster NAME with BINARY: exit 4.
#[derive(Debug, clap::Args)]
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
}

pub(crate) async fn run(args: Args, ctx: &Context) -> Result<()> {
    let flags = &args.flags;
    let mut log = flags.open_audit()?;
    let mut db = ctx.connect().await?;
    let found = if clusters::supported(&db.schema) {
        clusters::find_live(&mut db, &args.name, &args.binary).await?
    } else {
        None
    };
    let Some(cluster) = found else {
        return apply::nothing_matched(
            flags,
            format!("no live cluster {} with binary {}", args.name, args.binary),
            None,
        );
    };
    let members = clusters::members(&mut db, Some(&cluster.name)).await?;
    if members.is_empty() {
        if !flags.document() {
            output::print(&output::undo::cluster_plan_table(&cluster))?;
        }
        apply::confirm(&format!("Remove cluster {}?", cluster.name), flags).await?;
        if flags.dry_run {
            if flags.document() {
                flags.print(&ClusterGoneDoc::new(&cluster, true))?;
            }
            messages::dry_run_cluster(&cluster.name);
            return Ok(());
        }
        crate::seams::pause(crate::seams::Seam::BeforeWrite).await;
        let actor = Actor::current(audit::database_name(&db.url));
        let change = ClusterDestroy {
            id: cluster.id,
            name: cluster.name.clone(),
        };
        write::run(&mut db, &change, &mut log, &actor)
            .await?
            .into_outcome();
        if flags.document() {
            flags.print(&ClusterGoneDoc::new(&cluster, false))?;
        }
        messages::cluster_removed(&cluster.name, log.path());
        return Ok(());
    }
    let others: Vec<&clusters::Member> = members
        .iter()
        .filter(|m| m.binary.as_deref() != Some(args.binary.as_str()))
        .collect();
    if !args.recursive || !others.is_empty() {
        let hosts: Vec<String> = members
            .iter()
            .map(|m| {
                format!(
                    "{} {}",
                    m.binary.as_deref().unwrap_or(""),
                    m.host.as_deref().unwrap_or("")
                )
            })
            .collect();
        return Err(Failure::Refused(format!(
            "cluster {} still has {} live service{} ({}); nothing was changed; {}",
            cluster.name,
            members.len(),
            if members.len() == 1 { "" } else { "s" },
            hosts.join(", "),
            if others.is_empty() {
                "delete them first (svcctl service delete), or pass --recursive".to_string()
            } else {
                format!(
                    "--recursive removes only {} services; delete the others first",
                    args.binary
                )
            }
        ))
        .into());
    }
    // --recursive: the cluster's services through service delete's own path; the soft delete
    // removes the cluster with its last live service.
    let ids: Vec<i64> = members.iter().map(|m| m.id).collect();
    let rows = services::by_ids(&mut db, &ids).await?;
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|r| r.deleted == Some(false))
        .collect();
    let refs = references::count(&mut db, &ids).await?;
    let plan = Plan::build(
        rows,
        &refs,
        plan_now(),
        ctx.settings.service_down_time,
        |_| Locality::Remote,
    );
    apply::check(&plan, flags, None)?;
    let n = plan.items.len();
    apply::confirm(
        &format!(
            "Delete {n} service{} of cluster {} and the cluster?",
            if n == 1 { "" } else { "s" },
            cluster.name
        ),
        flags,
    )
    .await?;
    apply::write_and_report(&mut db, &plan, flags, None, &mut log).await
}
