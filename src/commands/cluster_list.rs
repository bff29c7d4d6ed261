//! `svcctl cluster list`: Cinder's clusters as `cinder-manage cluster list` shows them, with
//! each cluster's hosts and down hosts judged by the same up/down rule as `service list`.

use std::collections::HashMap;

use anyhow::Result;

use crate::Context;
use crate::db::clusters;
use crate::error::Failure;
use crate::model::is_up;
use crate::output::{self, OutputArgs, cluster::ClusterView};

/// List clusters as cinder-manage cluster list does
///
/// Live clusters (deleted = 0) with their status, state (up while any live member service
/// heartbeats), last heartbeat, number of live member services (services.cluster_name = name)
/// and how many of them are down.
#[derive(Debug, clap::Args)]
// The listing flags are service list's: their help, worded for clusters.
#[command(
    mut_arg("columns", |a| a.help("Show only this column (repeatable), by header (`Name`, \
        `Down Hosts`) or JSON key (`down_hosts`)")),
)]
pub(crate) struct Args {
    #[command(flatten)]
    pub output: OutputArgs,
}

pub(crate) async fn run(args: Args, ctx: &Context) -> Result<()> {
    let cols = output::cluster::cluster_columns(&args.output.columns)?;
    let mut db = ctx.connect().await?;
    if !clusters::supported(&db.schema) {
        return Err(Failure::NothingMatched(
            "this Cinder database has no clusters table (a release before Ocata)".into(),
        )
        .into());
    }
    let rows = clusters::live(&mut db).await?;
    let members = clusters::members(&mut db, None).await?;
    let now = chrono::Utc::now().naive_utc();
    let down_time = ctx.settings.service_down_time;
    let mut by_name: HashMap<&str, Vec<&clusters::Member>> = HashMap::new();
    for m in &members {
        by_name.entry(m.cluster_name.as_str()).or_default().push(m);
    }
    let views: Vec<ClusterView> = rows
        .iter()
        .map(|c| {
            let of = by_name
                .get(c.name.as_str())
                .map_or(&[][..], |v| v.as_slice());
            let heartbeat = of.iter().filter_map(|m| m.heartbeat()).max();
            ClusterView {
                row: c,
                up: is_up(heartbeat, now, down_time),
                heartbeat,
                hosts: of.len(),
                down_hosts: of
                    .iter()
                    .filter(|m| !is_up(m.heartbeat(), now, down_time))
                    .count(),
            }
        })
        .collect();
    output::cluster::print_clusters(&views, &args.output, &cols)
}
