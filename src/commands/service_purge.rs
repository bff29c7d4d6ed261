//! `svcctl service purge --older-than DAYS`: hard-delete old soft-deleted services and
//! clusters in batches, skipping the rows a foreign key still names.

use anyhow::Result;

use crate::Context;
use crate::apply::{Flags, WriteFlags};
use crate::output::ReportArgs;
use crate::output::purge::PurgeReport;
use crate::output::report;
use crate::plan::purge as plan;

/// Hard-delete soft-deleted services and clusters older than DAYS, skipping rows still named
///
/// Only rows with deleted = 1 whose deleted_at is more than DAYS days ago (0: any), from the
/// services and clusters tables and no other. A service still named by volumes.service_uuid or
/// workers.service_id (even by deleted rows) cannot be hard-deleted: it is skipped and
/// reported, and the rest go, in transactions of --batch rows. Each purged row is written to
/// the audit log (action "purge") before its transaction commits. Nothing purgeable: exit 4.
#[derive(Debug, clap::Args)]
#[command(
    mut_arg("format", |a| a.help(crate::output::formatter::document_help(
        "dry_run, would_purge, purged, skipped (each with reasons), would_purge_clusters, purged_clusters, batches"))),
)]
pub(crate) struct Args {
    /// Only rows soft-deleted more than this many days ago (0 or more)
    #[arg(long, value_name = "DAYS", value_parser = parse_days, allow_negative_numbers = true)]
    pub older_than: i64,
    /// Rows per transaction, 1 to 100000
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = crate::limits::batch)]
    pub batch: u32,
    #[command(flatten)]
    pub flags: WriteFlags,
    #[command(flatten)]
    pub output: ReportArgs,
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
    let mut db = ctx.connect().await?;
    let now = chrono::Utc::now().naive_utc();
    let plan = plan::build(
        &mut db,
        args.older_than,
        args.batch as usize,
        now,
        ctx.settings.service_down_time,
    )
    .await?;
    let report = PurgeReport {
        plan: &plan,
        style: &args.output,
    };
    let flags = Flags::from(&args.flags);
    report::run(&mut db, &plan, &report, &args.output, &flags).await
}
