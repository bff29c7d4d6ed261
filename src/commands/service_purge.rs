//! `svcctl service purge --older-than DAYS`: hard-delete old soft-deleted services and
//! clusters in batches, skipping the rows a foreign key still names.

use anyhow::Result;

use crate::Context;
use crate::apply::{self, WriteFlags};
use crate::audit::{self, Actor};
use crate::db::clusters;
use crate::db::foreign_keys::{self, FkCounts};
use crate::db::services;
use crate::model::Service;
use crate::output::{self, messages, undo::PurgeDoc};
use crate::write::{self, purge::PurgeBatch};

/// Hard-delete soft-deleted services and clusters older than DAYS, skipping rows still named
///
/// Only rows with deleted = 1 whose deleted_at is more than DAYS days ago (0: any), from the
/// services and clusters tables and no other. A service still named by volumes.service_uuid or
/// workers.service_id (even by deleted rows) cannot be hard-deleted: it is skipped and
/// reported, and the rest go, in transactions of --batch rows. Each purged row is written to
/// the audit log (action "purge") before its transaction commits. Nothing purgeable: exit 4.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Only rows soft-deleted more than this many days ago (0 or more)
    #[arg(long, value_name = "DAYS", value_parser = parse_days, allow_negative_numbers = true)]
    pub older_than: i64,
    /// Rows per transaction, 1 to 100000
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = crate::limits::batch)]
    pub batch: u32,
    #[command(flatten)]
    pub flags: WriteFlags,
}

/// DAYS as `cinder-manage db purge` takes it: a whole number from 0 to the days since 1970.
fn parse_days(s: &str) -> Result<i64, String> {
    let days: i64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a whole number of days"))?;
    let since_epoch = chrono::Utc::now().timestamp() / 86400;
    if days < 0 {
        return Err("must be 0 or more".into());
    }
    if days >= since_epoch {
        return Err(format!(
            "{days} days reaches back before 1970; give fewer than {since_epoch}"
        ));
    }
    Ok(days)
}

pub(crate) async fn run(args: Args, ctx: &Context) -> Result<()> {
    let flags = &args.flags;
    let mut log = flags.open_audit()?;
    let mut db = ctx.connect().await?;
    let now = chrono::Utc::now().naive_utc();
    let cutoff = now - chrono::Duration::days(args.older_than);
    let rows = services::deleted_before(&mut db, cutoff).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let named = foreign_keys::count(&mut db, &ids).await?;
    let down_time = ctx.settings.service_down_time;
    let (mut purgeable, mut skipped) = (Vec::new(), Vec::new());
    for row in rows {
        let s = Service::judge(row, now, down_time);
        match named.get(&s.row.id).filter(|c| c.volumes + c.workers > 0) {
            Some(c) => skipped.push((s, *c)),
            None => purgeable.push(s),
        }
    }
    let dead_clusters = if clusters::supported(&db.schema) {
        clusters::deleted_before(&mut db, cutoff).await?
    } else {
        Vec::new()
    };
    fn doc<'a>(
        dry_run: bool,
        purged: &'a [Service],
        skipped: &'a [(Service, FkCounts)],
        clusters_purged: &'a [clusters::ClusterRow],
        batches: usize,
    ) -> PurgeDoc<'a> {
        PurgeDoc {
            dry_run,
            purged,
            skipped,
            clusters_purged,
            batches,
        }
    }
    if !flags.document() {
        output::print(&output::undo::purge_plan_table(
            &purgeable,
            &skipped,
            &dead_clusters,
        ))?;
    }
    messages::purge_skipped(&skipped);
    if purgeable.is_empty() && dead_clusters.is_empty() {
        return apply::nothing(
            flags,
            format!(
                "no soft-deleted service or cluster older than {} day{} that nothing names",
                args.older_than,
                if args.older_than == 1 { "" } else { "s" }
            ),
            &doc(flags.dry_run, &[], &skipped, &[], 0),
        );
    }
    apply::confirm(
        &messages::count_question("Purge", purgeable.len(), dead_clusters.len()),
        flags,
    )
    .await?;
    if flags.dry_run {
        if flags.document() {
            flags.print(&doc(true, &purgeable, &skipped, &dead_clusters, 0))?;
        }
        messages::dry_run_purge(purgeable.len(), dead_clusters.len());
        return Ok(());
    }
    crate::seams::pause(crate::seams::Seam::BeforeWrite).await;
    let actor = Actor::current(audit::database_name(&db.url));
    let batch = args.batch as usize;
    let service_ids: Vec<i64> = purgeable.iter().map(|s| s.row.id).collect();
    let cluster_ids: Vec<i64> = dead_clusters.iter().map(|c| c.id).collect();
    let (mut purged, mut purged_clusters, mut batches) = (Vec::new(), Vec::new(), 0);
    let mut kept = Vec::new();
    for chunk in service_ids.chunks(batch) {
        let change = PurgeBatch {
            services: chunk.to_vec(),
            clusters: Vec::new(),
            cutoff,
            service_down_time: down_time,
        };
        let out = write::run(&mut db, &change, &mut log, &actor)
            .await?
            .into_outcome();
        purged.extend(out.services);
        kept.extend(out.kept_services);
        batches += 1;
    }
    for chunk in cluster_ids.chunks(batch) {
        let change = PurgeBatch {
            services: Vec::new(),
            clusters: chunk.to_vec(),
            cutoff,
            service_down_time: down_time,
        };
        let out = write::run(&mut db, &change, &mut log, &actor)
            .await?
            .into_outcome();
        purged_clusters.extend(out.clusters);
        kept.extend(out.kept_clusters);
        batches += 1;
    }
    if flags.document() {
        flags.print(&doc(false, &purged, &skipped, &purged_clusters, batches))?;
    } else {
        output::print(&output::undo::purge_result_table(&purged, &purged_clusters))?;
    }
    messages::purged(
        purged.len(),
        purged_clusters.len(),
        batches,
        &kept,
        log.path(),
    );
    Ok(())
}
