//! `svcctl backend cleanup BACKEND`: after a storage backend is removed, stop its leftover
//! cinder-volume processes on this node and soft-delete its services on every node, through
//! the same plan, confirmation and write as `service delete`.

use std::time::{Duration, Instant};

use anyhow::Result;

use crate::Context;
use crate::apply::{self, DeleteFlags};
use crate::db::references;
use crate::db::services::{self, ServiceFilter};
use crate::error::Failure;
use crate::hosts::{self, HostPattern};
use crate::model::ServiceRow;
use crate::output::{self, messages, report};
use crate::plan::{self, Locality, Plan, Reason, plan_now};
use crate::processes::{self, ProcessReport, Stopped};

/// Clean up after a removed backend: stop its leftover cinder-volume processes on this node
/// and soft-delete its cinder-volume services on every node
///
/// BACKEND is the backend's UUID (its first 13 characters make the host key, as in
/// node01@backend-2813902f-2c94), that 13-character prefix, or a backend name from
/// enabled_backends. This node is [DEFAULT] host (else the hostname): its services of the
/// backend count as down once the processes naming the backend are confirmed gone. A
/// cinder-volume naming no backend (one process for all enabled_backends) is never signalled;
/// then this node's services, like other nodes', must be down by heartbeat (or go down within
/// --wait). Refused, exit 3, while the backend is still in [DEFAULT] enabled_backends, or live
/// volumes, groups, workers or cache entries remain on it.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Backend UUID, its first 13 characters, or its name in enabled_backends
    #[arg(value_name = "BACKEND")]
    pub backend: String,
    /// Neither look for nor stop processes on this node; judge every service by its heartbeat
    #[arg(long)]
    pub no_kill: bool,
    /// How long between SIGTERM and SIGKILL: 0 to 31536000 seconds (a year), e.g. 30, 2m
    #[arg(long, value_name = "DURATION", default_value_t = 30, allow_negative_numbers = true,
          value_parser = crate::duration::wait_secs)]
    pub kill_timeout: u64,
    /// Wait up to this long (0 to 31536000 seconds, a year; e.g. 300, 5m) for services judged by heartbeat (other nodes', or this node's when no process names the backend) to go down
    #[arg(long, value_name = "DURATION", allow_negative_numbers = true,
          value_parser = crate::duration::wait_secs)]
    pub wait: Option<u64>,
    #[command(flatten)]
    pub flags: DeleteFlags,
}

/// The host key of a backend: `backend-` + the UUID's first 13 characters, or the name itself.
pub(crate) fn backend_key(arg: &str) -> Result<String, Failure> {
    let bad = |why: &str| {
        Failure::Usage(format!(
            "invalid BACKEND {}: {why}",
            crate::text::quote(arg)
        ))
    };
    let arg = arg.trim();
    let hex = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_hexdigit());
    let parts: Vec<&str> = arg.split('-').collect();
    let is_uuid = parts.len() == 5
        && parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts.iter().all(|p| hex(p));
    let is_prefix = parts.len() == 2
        && parts[0].len() == 8
        && parts[1].len() == 4
        && parts.iter().all(|p| hex(p));
    if is_uuid || is_prefix {
        return Ok(format!("backend-{}", &arg[..13].to_lowercase()));
    }
    if arg.is_empty() {
        return Err(bad(
            "give a backend UUID, its first 13 characters, or its name",
        ));
    }
    if arg
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || "@#*?/".contains(c))
    {
        return Err(bad(
            "a backend name has no spaces or '@#*?/'; give the UUID (e.g. \
             2813902f-2c94-4ff9-988a-2b475e0bd5a5) or the name from enabled_backends",
        ));
    }
    Ok(arg.to_string())
}

pub(crate) async fn run(args: Args, ctx: &Context) -> Result<()> {
    let key = backend_key(&args.backend)?;
    // Before anything changes, processes included: no change without a record.
    let mut log = args.flags.open_audit()?;
    let this_node = ctx.settings.host.clone();
    let mut db = ctx.connect().await?;
    let read = |rows: Vec<ServiceRow>| -> Vec<ServiceRow> {
        rows.into_iter()
            .filter(|r| {
                let h = hosts::split(r.host());
                h.backend == Some(key.as_str()) && h.pool.is_none()
            })
            .collect()
    };
    let filter = ServiceFilter {
        hosts: vec![HostPattern::Glob(format!("*@{key}"))],
        binary: Some("cinder-volume".into()),
        ..ServiceFilter::default()
    };
    let mut rows = read(services::fetch_all(&mut db, &filter).await?);
    // This node's other backends, so that their own processes are not taken for a shared one.
    let known: Vec<String> = ctx
        .settings
        .enabled_backends
        .iter()
        .filter_map(|b| backend_key(b).ok())
        .collect();
    let found = if args.no_kill {
        processes::Found::default()
    } else {
        processes::find(&key, &known)?
    };
    let procs = found.named;
    let shared = found.shared;
    if !shared.is_empty() {
        messages::shared_processes(shared.len());
    }
    let still_enabled = ctx
        .settings
        .enabled_backends
        .iter()
        .find(|b| backend_key(b).is_ok_and(|k| k == key))
        .map(|entry| Reason::StillEnabled {
            key: key.clone(),
            entry: entry.clone(),
            files: if ctx.settings.files_read.is_empty() {
                "the configuration".into()
            } else {
                ctx.settings
                    .files_read
                    .iter()
                    .map(|f| f.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        });
    // The processes as the plan and a dry run show them: not yet signalled.
    let planned: Vec<Stopped> = procs.iter().map(Stopped::planned).collect();
    let found = |processes| ProcessReport {
        processes,
        shared_processes: &shared,
    };
    if rows.is_empty() && procs.is_empty() {
        return apply::nothing_matched(
            &args.flags,
            format!(
                "no live cinder-volume service of backend {key} on any node{}",
                if args.no_kill {
                    ""
                } else {
                    ", and no leftover process of it here"
                }
            ),
            Some(found(&[])),
        );
    }
    if let (Some(reason), true, false) = (&still_enabled, rows.is_empty(), args.flags.force) {
        // No service to refuse, only processes: refuse them, for the same reason.
        return Err(Failure::Refused(format!(
            "{}; nothing was changed (--force stops its processes anyway)",
            reason.describe_for_host("")
        ))
        .into());
    }
    // This node's services count as down once the processes naming the backend are gone;
    // with none here (a shared cinder-volume, or --no-kill) their heartbeat decides.
    let locality = |r: &ServiceRow| {
        if hosts::split(r.host()).node != this_node {
            Locality::OtherNode {
                here: this_node.clone(),
            }
        } else if args.no_kill {
            Locality::Remote
        } else if procs.is_empty() {
            Locality::HereUnnamed {
                key: key.clone(),
                shared: shared.len(),
            }
        } else {
            Locality::StoppedHere
        }
    };
    let down_time = ctx.settings.service_down_time;
    if let Some(secs) = args.wait {
        rows =
            wait_for_heartbeats(&mut db, rows, &locality, down_time, secs, &filter, &read).await?;
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let refs = references::count(&mut db, &ids).await?;
    let cluster_refs = references::count_cluster_only(&mut db, &rows).await?;
    let backend_refs = references::count_backend(&mut db, &key).await?;
    let mut plan = Plan::build(rows, &refs, plan_now(), down_time, locality);
    plan.refuse_cluster_only(&cluster_refs);
    for item in &mut plan.items {
        if backend_refs.total() > 0 {
            item.reasons.push(Reason::BackendInUse {
                key: key.clone(),
                counts: backend_refs.clone(),
            });
        }
        item.reasons.extend(still_enabled.clone());
    }
    plan.guard = Some(references::backend_unreferenced(&db.schema, &key));
    plan.exempt_note = format!("on {this_node}; after its processes here are stopped");

    if !args.flags.document() && !procs.is_empty() {
        output::print(&report::planned_processes_table(
            &planned,
            args.kill_timeout,
            args.flags.fit_to(),
        ))?;
    }
    apply::check(&plan, &args.flags, Some(found(&planned)))?;
    let n = plan.items.len();
    apply::confirm(
        &format!(
            "Stop {} process{} on {this_node} and delete {n} service{}?",
            procs.len(),
            if procs.len() == 1 { "" } else { "es" },
            if n == 1 { "" } else { "s" }
        ),
        &args.flags,
    )
    .await?;
    if args.flags.dry_run {
        return apply::write_and_report(
            &mut db,
            &plan,
            &args.flags,
            Some(found(&planned)),
            &mut log,
        )
        .await;
    }
    processes::check_permission(&procs)?;
    let stopped = processes::stop(
        &procs,
        Duration::from_secs(args.kill_timeout),
        messages::process_progress,
    )
    .await?;
    if !args.flags.document() && !stopped.is_empty() {
        output::print(&report::stopped_processes_table(
            &stopped,
            args.flags.fit_to(),
        ))?;
    }
    if let Some(p) = stopped.iter().find(|s| !s.stopped) {
        anyhow::bail!(
            "process {} ({}) is still running after SIGKILL; no service was deleted (it would \
             recreate its row); find out what holds it and run the cleanup again",
            p.pid,
            p.cmdline
        );
    }
    apply::write_and_report(&mut db, &plan, &args.flags, Some(found(&stopped)), &mut log).await
}

/// `--wait`: re-reads the services judged by heartbeat (other nodes', and this node's when no
/// process here names the backend) until none is up or time runs out, showing which nodes are
/// still up and the time left.
async fn wait_for_heartbeats(
    db: &mut crate::db::Db,
    mut rows: Vec<ServiceRow>,
    locality: &impl Fn(&ServiceRow) -> Locality,
    down_time: i64,
    secs: u64,
    filter: &ServiceFilter,
    read: &impl Fn(Vec<ServiceRow>) -> Vec<ServiceRow>,
) -> Result<Vec<ServiceRow>> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let now = plan_now();
        let up: Vec<String> = rows
            .iter()
            .filter(|r| {
                locality(r) != Locality::StoppedHere && plan::still_running(r, now, down_time)
            })
            .map(|r| hosts::split(r.host()).node.to_string())
            .collect();
        if up.is_empty() {
            return Ok(rows);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            messages::wait_ran_out(secs, &up);
            return Ok(rows);
        }
        messages::waiting_for_nodes(&up, left.as_secs());
        tokio::time::sleep(left.min(Duration::from_secs(2))).await;
        rows = read(services::fetch_all(db, filter).await?);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_keys() {
        let k = |s| backend_key(s).unwrap();
        assert_eq!(
            k("2813902f-2c94-4ff9-988a-2b475e0bd5a5"),
            "backend-2813902f-2c94"
        );
        assert_eq!(k("2813902f-2c94"), "backend-2813902f-2c94");
        assert_eq!(k("normal"), "normal");
        assert_eq!(k("backend-2813902f-2c94"), "backend-2813902f-2c94");
        for bad in ["", "node01@normal", "a b", "x*", "pool#1"] {
            assert!(backend_key(bad).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        /// Any BACKEND: no panic, and an error is one line.
        #[test]
        fn any_backend_id_gives_a_key_or_one_line(s in "(?s).{0,60}") {
            if let Err(e) = backend_key(&s) {
                proptest::prop_assert!(!e.to_string().contains(['\n', '\r']), "{}", e);
            }
        }
    }
}
