//! `svcctl service delete --host HOST` (or `--down-for DURATION`, a sweep): soft-delete dead
//! services the way Cinder does, after a plan that refuses services that are up or still in use.

use anyhow::Result;

use crate::Context;
use crate::apply::{self, DeleteFlags};
use crate::db::references;
use crate::db::services::{self, ServiceFilter};
use crate::duration::parse_down_for;
use crate::error::Failure;
use crate::hosts::HostPattern;
use crate::plan::{Locality, Plan, plan_now};

/// Soft-delete a host's services as Cinder does (deleted = 1), refusing what would hurt
///
/// Every binary on the host unless --binary. Hosts match exactly and case-sensitively:
/// `--host node02` deletes node02's scheduler and backup, never node02@... (use `node02@*`).
/// --down-for DURATION (7d, 12h, 90m) takes only services down at least that long; without
/// --host it sweeps the whole cloud (for cron: --down-for 7d --skip-refused --yes).
/// A service that is up (it would recreate its row) or still used by live volumes, backups,
/// groups, workers or cache entries is refused with exit 3 and nothing is changed; with
/// --skip-refused the others are deleted and the refused listed (exit 0, or 4 if none passed).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Host whose services to delete; `*` and `?` make a glob; repeatable
    #[arg(long, value_name = "HOST", required_unless_present = "down_for")]
    pub host: Vec<String>,
    /// Only this binary, e.g. cinder-volume
    #[arg(long, value_name = "BINARY", value_parser = crate::limits::name)]
    pub binary: Option<String>,
    /// Only services down (no heartbeat) for at least this long, at least [DEFAULT] service_down_time: 7d, 12h, 90m, or seconds
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    pub down_for: Option<String>,
    /// Leave this host alone (exact, or a glob); repeatable
    #[arg(long, value_name = "HOST")]
    pub exclude: Vec<String>,
    #[command(flatten)]
    pub flags: DeleteFlags,
}

/// The `--host`, `--exclude` and `--down-for` of `service list` and `service delete`, checked.
pub(crate) struct Selection {
    pub hosts: Vec<HostPattern>,
    pub exclude: Vec<HostPattern>,
    pub down_for: Option<(String, chrono::Duration)>,
}

impl Selection {
    pub fn parse(
        hosts: &[String],
        exclude: &[String],
        down_for: Option<&str>,
        service_down_time: i64,
    ) -> Result<Selection, Failure> {
        Ok(Selection {
            hosts: HostPattern::parse_all(hosts)?,
            exclude: HostPattern::parse_all(exclude)?,
            down_for: down_for
                .map(|d| parse_down_for(d, service_down_time).map(|dur| (d.to_string(), dur)))
                .transpose()?,
        })
    }

    /// The filter for live rows at `now`.
    pub fn filter(&self, binary: Option<String>, now: chrono::NaiveDateTime) -> ServiceFilter {
        ServiceFilter {
            hosts: self.hosts.clone(),
            binary,
            exclude: self.exclude.clone(),
            heartbeat_before: self.down_for.as_ref().map(|(_, d)| now - *d),
            ..ServiceFilter::default()
        }
    }
}

pub(crate) async fn run(args: Args, ctx: &Context) -> Result<()> {
    let down_time = ctx.settings.service_down_time;
    let sel = Selection::parse(
        &args.host,
        &args.exclude,
        args.down_for.as_deref(),
        down_time,
    )?;
    let mut log = args.flags.open_audit()?;
    let mut db = ctx.connect().await?;
    let now = plan_now();
    let filter = sel.filter(args.binary.clone(), now);
    let rows = services::fetch_all(&mut db, &filter).await?;
    if rows.is_empty() {
        let hosts: Vec<String> = sel.hosts.iter().map(|h| h.to_string()).collect();
        return apply::nothing_matched(
            &args.flags,
            format!(
                "no live service{} {}{}",
                args.binary
                    .as_deref()
                    .map_or(String::new(), |b| format!(" {b}")),
                if hosts.is_empty() {
                    "on any host".to_string()
                } else {
                    format!("on host {}", hosts.join(", "))
                },
                sel.down_for
                    .as_ref()
                    .map_or(String::new(), |(d, _)| format!(" down for {d} or more"))
            ),
            None,
        );
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let refs = references::count(&mut db, &ids).await?;
    let cluster_refs = references::count_cluster_only(&mut db, &rows).await?;
    let mut plan = Plan::build(rows, &refs, now, down_time, |_| Locality::Remote);
    if let Some((text, d)) = &sel.down_for {
        // The write's WHERE clause holds the sweep's own line, not just service_down_time's.
        plan.cutoff = plan.cutoff.min(now - *d);
        plan.sweep = Some(format!(
            "sweep of services down for {text} or more{}",
            if sel.hosts.is_empty() {
                " on every host"
            } else {
                ""
            }
        ));
    }
    plan.refuse_cluster_only(&cluster_refs);
    apply::check(&plan, &args.flags, None)?;
    let n = plan.to_write(args.flags.force).count();
    apply::confirm(
        &format!("Delete {n} service{}?", if n == 1 { "" } else { "s" }),
        &args.flags,
    )
    .await?;
    apply::write_and_report(&mut db, &plan, &args.flags, None, &mut log).await
}
