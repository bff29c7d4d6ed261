//! `svcctl service delete --host HOST`: soft-delete a dead host's services the way Cinder
//! does, after a plan that refuses services that are up or still in use.

use anyhow::Result;

use crate::Context;
use crate::apply::{self, DeleteFlags};
use crate::db::references;
use crate::db::services::{self, ServiceFilter};
use crate::hosts::HostPattern;
use crate::plan::{Locality, Plan, plan_now};

/// Soft-delete a host's services as Cinder does (deleted = 1), refusing what would hurt
///
/// Every binary on the host unless --binary. Hosts match exactly and case-sensitively:
/// `--host node02` deletes node02's scheduler and backup, never node02@... (use `node02@*`).
/// A service that is up (it would recreate its row) or still used by live volumes, backups,
/// groups, workers or cache entries is refused with exit 3 and nothing is changed.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Host whose services to delete; `*` and `?` make a glob; repeatable
    #[arg(long, value_name = "HOST", required = true)]
    pub host: Vec<String>,
    /// Only this binary, e.g. cinder-volume
    #[arg(long, value_name = "BINARY", value_parser = crate::limits::name)]
    pub binary: Option<String>,
    #[command(flatten)]
    pub flags: DeleteFlags,
}

pub(crate) async fn run(args: Args, ctx: &Context) -> Result<()> {
    let hosts = HostPattern::parse_all(&args.host)?;
    let mut db = ctx.connect().await?;
    let filter = ServiceFilter {
        hosts: hosts.clone(),
        binary: args.binary.clone(),
        ..ServiceFilter::default()
    };
    let rows = services::fetch_all(&mut db, &filter).await?;
    if rows.is_empty() {
        let hosts: Vec<String> = hosts.iter().map(|h| h.to_string()).collect();
        return apply::nothing_matched(
            &args.flags,
            format!(
                "no live service{} on host {}",
                args.binary
                    .as_deref()
                    .map_or(String::new(), |b| format!(" {b}")),
                hosts.join(", ")
            ),
            None,
        );
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let refs = references::count(&mut db, &ids).await?;
    let cluster_refs = references::count_cluster_only(&mut db, &rows).await?;
    let mut plan = Plan::build(
        rows,
        &refs,
        plan_now(),
        ctx.settings.service_down_time,
        |_| Locality::Remote,
    );
    plan.refuse_cluster_only(&cluster_refs);
    apply::check(&plan, &args.flags, None)?;
    let n = plan.items.len();
    apply::confirm(
        &format!("Delete {n} service{}?", if n == 1 { "" } else { "s" }),
        &args.flags,
    )
    .await?;
    apply::write_and_report(&mut db, &plan, &args.flags, None).await
}
