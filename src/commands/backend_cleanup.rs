//! `svcctl backend cleanup BACKEND`: after a storage backend is removed, stop its leftover
//! cinder-volume processes on this node and soft-delete its services on every node, through
//! the same plan, confirmation and write as `service delete`.

use std::cell::OnceCell;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::Context;
use crate::apply::{self, DeleteFlags, Flags};
use crate::db::services::{self, ServiceFilter};
use crate::db::{Db, references};
use crate::error::Failure;
use crate::hosts::{self, HostPattern};
use crate::model::ServiceRow;
use crate::output::delete::{self, DeleteReport, Processes, Scope};
use crate::output::report::{self, Screen};
use crate::output::{ReportArgs, messages};
use crate::plan::delete::{self as plan, Locality, Reason, still_running};
use crate::plan::{Decision, plan_now};
use crate::processes::{self, Proc, Stopped};
use crate::write::Operation;
use crate::write::delete::{Delete, Deletion, SoftDelete};

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
#[command(
    mut_arg("format", |a| a.help(crate::output::formatter::document_help(
        "dry_run, would_delete, deleted, refused (each with reasons), would_delete_clusters, deleted_clusters, already_deleted, processes, shared_processes"))),
)]
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
    #[command(flatten)]
    pub output: ReportArgs,
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

/// The cleanup: the delete of the backend's services, with this node's processes of the
/// backend stopped first (once the operator agreed, with the audit log open).
struct Cleanup<'a> {
    delete: Delete<'a>,
    procs: &'a [Proc],
    kill_timeout: u64,
    /// No service left, only processes, and the backend is still in enabled_backends.
    refuse_processes: bool,
    /// Where the processes, as stopped, go for the report.
    stopped: &'a OnceCell<Vec<Stopped>>,
}

impl Operation for Cleanup<'_> {
    type Outcome = Deletion;
    type Change<'b>
        = SoftDelete<'b>
    where
        Self: 'b;

    fn decide(&self, force: bool) -> Decision {
        let mut d = self.delete.decide(force);
        d.matched += self.procs.len();
        d.to_change += self.procs.len();
        d.refused += usize::from(self.refuse_processes && !force);
        d
    }

    fn changes<'b>(&'b self, db: &Db, force: bool) -> Vec<SoftDelete<'b>> {
        self.delete.changes(db, force)
    }

    async fn before_write(&self) -> Result<()> {
        processes::check_permission(self.procs)?;
        let stopped = processes::stop(
            self.procs,
            Duration::from_secs(self.kill_timeout),
            messages::process_progress,
        )
        .await?;
        let left = stopped.iter().find(|s| !s.stopped).cloned();
        let _ = self.stopped.set(stopped);
        if let Some(p) = left {
            anyhow::bail!(
                "process {} ({}) is still running after SIGKILL; no service was deleted (it \
                 would recreate its row); find out what holds it and run the cleanup again",
                p.pid,
                p.cmdline
            );
        }
        Ok(())
    }
}

pub(crate) async fn run(args: Args, ctx: &Context) -> Result<()> {
    let key = backend_key(&args.backend)?;
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
        rows = wait_for_heartbeats(
            &mut db,
            rows,
            &locality,
            down_time,
            secs,
            ctx.deadline,
            &filter,
            &read,
        )
        .await?;
    }
    let backend_refs = references::count_backend(&mut db, &key).await?;
    let mut plan = plan::build(&mut db, rows, plan_now(), down_time, locality).await?;
    for item in &mut plan.items {
        // What the service itself still holds is the backend's too: said once, as its own,
        // when it is all the backend holds.
        let all_its_own = item
            .reasons
            .iter()
            .any(|r| matches!(r, Reason::InUse(c) if c.total() == backend_refs.total()));
        if backend_refs.total() > 0 && !all_its_own {
            item.reasons.push(Reason::BackendInUse {
                key: key.clone(),
                counts: backend_refs.clone(),
            });
        }
        item.reasons.extend(still_enabled.clone());
    }
    if let Some(secs) = args.wait {
        plan.waited(secs);
    }
    plan.guard = Some(references::backend_unreferenced(&db.schema, &key));
    plan.exempt_on = Some(this_node.clone());
    let flags = Flags::from(&args.flags);
    if flags.dry_run && args.output.document() {
        plan.read_emptied(&mut db, flags.force).await?;
    }

    let stopped = OnceCell::new();
    let report = DeleteReport {
        plan: &plan,
        scope: Scope::Backend {
            key: key.clone(),
            node: this_node.clone(),
            no_kill: args.no_kill,
        },
        style: &args.output,
        processes: Some(Processes {
            // The processes as the plan and a dry run show them: not yet signalled.
            planned: procs.iter().map(Stopped::planned).collect(),
            stopped: &stopped,
            shared,
            kill_timeout: args.kill_timeout,
            still_enabled: still_enabled.clone(),
        }),
    };
    let op = Cleanup {
        delete: Delete {
            plan: &plan,
            describe: delete::describe,
        },
        procs: &procs,
        kill_timeout: args.kill_timeout,
        refuse_processes: plan.items.is_empty() && still_enabled.is_some(),
        stopped: &stopped,
    };
    let screen = Screen {
        render: &report,
        style: &args.output,
    };
    match apply::run(&mut db, &op, &screen, &flags).await {
        Ok(applied) => report::finish(&report, &args.output, &flags, applied),
        Err(e) => {
            // Processes were stopped and the write did not happen: show which.
            if let Some(table) = report.stopped_table() {
                crate::output::print(&table)?;
            }
            Err(e)
        }
    }
}

/// `--wait`: re-reads the services judged by heartbeat (other nodes', and this node's when no
/// process here names the backend) until none is up or time runs out (`--wait`, or `--timeout`
/// first), saying when it starts, what goes down, and what is left.
#[allow(clippy::too_many_arguments)]
async fn wait_for_heartbeats(
    db: &mut Db,
    mut rows: Vec<ServiceRow>,
    locality: &impl Fn(&ServiceRow) -> Locality,
    down_time: i64,
    secs: u64,
    timeout: Option<Instant>,
    filter: &ServiceFilter,
    read: &impl Fn(Vec<ServiceRow>) -> Vec<ServiceRow>,
) -> Result<Vec<ServiceRow>> {
    let waited = Instant::now() + Duration::from_secs(secs);
    let deadline = timeout.map_or(waited, |t| t.min(waited));
    let up_now = |rows: &[ServiceRow]| -> Vec<ServiceRow> {
        let now = plan_now();
        rows.iter()
            .filter(|r| locality(r) != Locality::StoppedHere && still_running(r, now, down_time))
            .cloned()
            .collect()
    };
    let hosts = |rows: &[ServiceRow]| -> Vec<String> {
        rows.iter().map(|r| r.host().to_string()).collect()
    };
    let mut up = up_now(&rows);
    if up.is_empty() {
        return Ok(rows);
    }
    let window = chrono::Duration::seconds(down_time);
    let down_after: Vec<(String, chrono::NaiveDateTime)> = up
        .iter()
        .filter_map(|r| Some((r.host().to_string(), r.heartbeat()? + window)))
        .collect();
    messages::wait(&messages::Wait::Started {
        secs,
        up: &down_after,
    });
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            messages::wait(&messages::Wait::RanOut { up: &hosts(&up) });
            return Ok(rows);
        }
        messages::wait(&messages::Wait::Tick {
            up: &hosts(&up),
            left_secs: left.as_secs(),
        });
        tokio::time::sleep(left.min(Duration::from_secs(2))).await;
        rows = read(services::fetch_all(db, filter).await?);
        let still = up_now(&rows);
        if still.is_empty() {
            messages::wait(&messages::Wait::AllDown);
            return Ok(rows);
        }
        let gone: Vec<String> = up
            .iter()
            .filter(|r| !still.iter().any(|s| s.id == r.id))
            .map(|r| r.host().to_string())
            .collect();
        if !gone.is_empty() {
            messages::wait(&messages::Wait::Changed {
                down: &gone,
                up: &hosts(&still),
                left_secs: deadline.saturating_duration_since(Instant::now()).as_secs(),
            });
        }
        up = still;
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
