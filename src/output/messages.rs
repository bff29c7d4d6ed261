//! Every line svcctl writes to stderr (notes, progress, warnings, the prompt), in one place,
//! so that how stderr is written can change in one spot. Notes carry no prefix (warnings say
//! `warning: `): only an error begins with `svcctl: `, printed once, by main, as
//! `svcctl: {err:#}`, so a script can tell the two apart.

use std::fmt::Display;
use std::io::Write;
use std::path::Path;

use crate::db::Notice;
use crate::db::foreign_keys::FkCounts;
use crate::model::Service;
use crate::plan::Item;
use crate::processes::Progress;
use crate::undo::RestorePlan;
use crate::write::soft_delete::Outcome;

/// One line on stderr.
fn line(text: impl Display) {
    eprintln!("{text}");
}

/// A note on stderr: the decommission commands' (`output::decom` words them).
pub(crate) fn note(text: impl Display) {
    line(text);
}

fn stderr_is_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal()
}

/// `s` when `n` is not one.
fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A wait before connecting again or retrying a step (`Db`'s `Notify`).
pub(crate) fn db_notice(notice: &Notice) {
    match notice {
        Notice::Unreachable {
            target,
            reason,
            attempt,
            attempts,
            wait_secs,
        } => {
            let of = if *attempts < 0 {
                String::from(" (retrying forever)")
            } else {
                format!("/{attempts}")
            };
            line(format_args!(
                "database {target} unreachable ({reason}); attempt {attempt}{of}, next in {wait_secs}s"
            ));
        }
        Notice::CommitChecked { what, committed } => line(format_args!(
            "{what}: the answer to COMMIT was lost; read back after reconnecting, it {}",
            if *committed {
                "committed"
            } else {
                "did not commit"
            }
        )),
        Notice::Retrying {
            what,
            cause,
            retry,
            max,
            wait_secs,
        } => line(format_args!(
            "{what}: {cause}; retry {retry}{}, in {wait_secs}s",
            if *max < 0 {
                String::new()
            } else {
                format!("/{max}")
            },
        )),
    }
}

/// `<what> <binary> <host> (id N): <reasons>` for each item.
pub(crate) fn items<'a>(what: &str, items: impl Iterator<Item = &'a Item>) {
    for item in items {
        line(format_args!(
            "{what} {} {} (id {}): {}",
            item.row().binary(),
            item.row().host(),
            item.row().id,
            item.reason_texts().join("; ")
        ));
    }
}

/// Nothing matched, and `--missing-ok` makes that fine.
pub(crate) fn nothing_to_do(what: &str) {
    line(format_args!("{what}; nothing to do (--missing-ok)"));
}

pub(crate) fn dry_run(n: usize) {
    line(format_args!(
        "dry run: would delete {n} service{}; nothing was changed",
        plural(n)
    ));
}

/// What the write did, in a sentence or two; the kept services follow as `items`.
pub(crate) fn deleted(outcome: &Outcome, audit_path: Option<&Path>) {
    let n = outcome.deleted.len();
    line(format_args!(
        "soft-deleted {n} service{}{}{}",
        plural(n),
        match outcome.clusters_deleted.len() {
            0 => String::new(),
            c => format!(
                " and {c} emptied cluster{} ({})",
                plural(c),
                outcome
                    .clusters_deleted
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
        audit_path.map_or(String::new(), |p| format!(
            "; audit record in {}",
            p.display()
        ))
    ));
    let gone = &outcome.already_gone;
    if !gone.is_empty() {
        line(format_args!(
            "{} service{} had already been deleted by someone else: ids {gone:?}",
            gone.len(),
            plural(gone.len()),
        ));
    }
}

/// Asks `question` and leaves the cursor after it.
pub(crate) fn prompt(question: &str) -> std::io::Result<()> {
    let mut err = crate::term::stderr();
    write!(err, "{question} [y/N] ")?;
    err.flush()
}

/// `backend cleanup --wait`: nodes whose service of the backend is still up.
pub(crate) fn waiting_for_nodes(up: &[String], left_secs: u64) {
    line(format_args!(
        "waiting for {} node{} to go down ({}): {left_secs}s left",
        up.len(),
        plural(up.len()),
        up.join(", "),
    ));
}

pub(crate) fn wait_ran_out(secs: u64, up: &[String]) {
    line(format_args!(
        "--wait {secs}s ran out with {} still up",
        up.join(", ")
    ));
}

/// `backend cleanup` found cinder-volume processes that name no backend and leaves them be.
pub(crate) fn shared_processes(n: usize) {
    line(format_args!(
        "{n} cinder-volume process{} here name{} no backend (one service for all \
         enabled_backends); none is stopped",
        if n == 1 { "" } else { "es" },
        if n == 1 { "s" } else { "" },
    ));
}

/// Stopping a backend's processes.
pub(crate) fn process_progress(p: &Progress) {
    match p {
        Progress::Sent { pid, cmdline } => {
            line(format_args!("sent SIGTERM to {pid} ({cmdline})"));
        }
        // A countdown redrawn in place: only where someone watches it.
        Progress::Waiting {
            live,
            of,
            left_secs,
        } if stderr_is_terminal() => {
            eprint!("\rwaiting for {live} of {of} process(es) to exit, {left_secs}s left   ")
        }
        Progress::WaitOver if stderr_is_terminal() => line(""),
        Progress::Waiting { .. } | Progress::WaitOver => {}
        Progress::Escalating { pid, after_secs } => line(format_args!(
            "{pid} did not exit within {after_secs}s of SIGTERM; sending SIGKILL"
        )),
    }
}

/// `up_until` is when node01's one heartbeat, written by the demo, gets older than
/// `service_down_time` (nothing heartbeats in the demo): after it, node01 counts as down.
pub(crate) fn demo_ready(
    path: &Path,
    node02_down_days: i64,
    up_until: chrono::NaiveDateTime,
    service_down_time: chrono::Duration,
) {
    line(format_args!(
        "demo database {} ready: node01 up (but for removed backend deffaf27), node02 \
         down for {node02_down_days} days, a volume on node01@normal and on \
         node02@backend-2813902f-2c94",
        path.display()
    ));
    line(format_args!(
        "node01 counts as up until {} UTC ([DEFAULT] service_down_time {} after its last \
         heartbeat); run demo again after that for a fresh one",
        up_until.format("%Y-%m-%d %H:%M:%S"),
        crate::duration::format(service_down_time.to_std().unwrap_or_default())
    ));
}

/// `--no-audit`: the change goes ahead without a record, said once.
pub(crate) fn no_audit() {
    line("warning: --no-audit: no audit record of this change will be kept");
}

/// What svcctl created for the audit log, said once.
pub(crate) fn audit_created(created: &[std::path::PathBuf]) {
    let what: Vec<String> = created
        .iter()
        .map(|p| {
            let kind = if p.is_dir() { "0750" } else { "0640" };
            format!("{} (mode {kind})", p.display())
        })
        .collect();
    line(format_args!(
        "created {} for the audit log",
        what.join(" and ")
    ));
}

/// `2 services and 1 cluster`.
fn counts(services: usize, clusters: usize) -> String {
    let mut parts = Vec::new();
    if services > 0 || clusters == 0 {
        parts.push(format!("{services} service{}", plural(services)));
    }
    if clusters > 0 {
        parts.push(format!("{clusters} cluster{}", plural(clusters)));
    }
    parts.join(" and ")
}

/// `Restore 2 services and 1 cluster?`
pub(crate) fn count_question(verb: &str, services: usize, clusters: usize) -> String {
    format!("{verb} {}?", counts(services, clusters))
}

/// The rows a restore refuses, one line each.
pub(crate) fn restore_refusals(plan: &RestorePlan) {
    for i in &plan.services {
        if let Some(r) = &i.refusal {
            let s = &i.deleted.record;
            line(format_args!(
                "refusing {} {} (id {}): {}",
                s.binary.as_deref().unwrap_or(""),
                s.host.as_deref().unwrap_or(""),
                s.id,
                r.describe()
            ));
        }
    }
    for i in &plan.clusters {
        if let Some(r) = &i.refusal {
            let c = &i.deleted.record;
            line(format_args!(
                "refusing cluster {} (id {}): {}",
                c.name,
                c.id,
                r.describe()
            ));
        }
    }
}

pub(crate) fn dry_run_restore(services: usize, clusters: usize) {
    line(format_args!(
        "dry run: would restore {}; nothing was changed",
        counts(services, clusters)
    ));
}

pub(crate) fn restored(plan: &RestorePlan, audit_path: Option<&Path>) {
    line(format_args!(
        "restored {} of deletion {}{}",
        counts(plan.services.len(), plan.clusters.len()),
        plan.txn,
        audit_path.map_or(String::new(), |p| format!(
            "; audit record in {}",
            p.display()
        ))
    ));
}

/// The services a purge skips, one line each.
pub(crate) fn purge_skipped(skipped: &[(Service, FkCounts)]) {
    for (s, c) in skipped {
        line(format_args!(
            "skipped {} {} (id {}): {}",
            s.row.binary(),
            s.row.host(),
            s.row.id,
            crate::output::undo::fk_reasons(c).join("; ")
        ));
    }
}

pub(crate) fn dry_run_purge(services: usize, clusters: usize) {
    line(format_args!(
        "dry run: would purge {}; nothing was changed",
        counts(services, clusters)
    ));
}

/// What the purge did, in one line; `kept` are rows that changed since the plan.
pub(crate) fn purged(
    services: usize,
    clusters: usize,
    batches: usize,
    kept: &[i64],
    audit_path: Option<&Path>,
) {
    line(format_args!(
        "purged {} in {batches} transaction{}{}{}",
        counts(services, clusters),
        plural(batches),
        if kept.is_empty() {
            String::new()
        } else {
            format!("; kept ids {kept:?}, which changed or gained a reference since the plan")
        },
        audit_path.map_or(String::new(), |p| format!(
            "; audit record in {}",
            p.display()
        ))
    ));
}

pub(crate) fn dry_run_cluster(name: &str) {
    line(format_args!(
        "dry run: would remove cluster {name}; nothing was changed"
    ));
}

pub(crate) fn cluster_removed(name: &str, audit_path: Option<&Path>) {
    line(format_args!(
        "removed cluster {name}{}",
        audit_path.map_or(String::new(), |p| format!(
            "; audit record in {}",
            p.display()
        ))
    ));
}

/// The last line of a sweep (`--down-for`, `--skip-refused`): one summary for a cron mail.
pub(crate) fn sweep_summary(deleted: usize, refused: usize, scope: &str) {
    line(format_args!(
        "{scope}: deleted {deleted} service{}, refused {refused}{}",
        plural(deleted),
        if refused > 0 { " (listed above)" } else { "" }
    ));
}
