//! Every line svcctl writes to stderr (notes, progress, warnings, the prompt), in one place,
//! so that how stderr is written can change in one spot. Errors themselves are printed once,
//! by main, as `svcctl: {err:#}`.

use std::fmt::Display;
use std::io::Write;
use std::path::Path;

use crate::db::Notice;
use crate::plan::Item;
use crate::processes::Progress;
use crate::write::soft_delete::Outcome;

/// One line on stderr.
fn line(text: impl Display) {
    eprintln!("{text}");
}

/// `svcctl: <text>` on stderr: the decommission commands' notes (`output::decom` words them).
pub(crate) fn note(text: impl Display) {
    line(format_args!("svcctl: {text}"));
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
        Notice::Retrying {
            what,
            lost,
            retry,
            max,
            wait_secs,
        } => line(format_args!(
            "svcctl: {what}: {}; retry {retry}{}, in {wait_secs}s",
            match lost {
                None => "deadlock or lock wait".to_string(),
                Some(target) => format!("lost the connection to {target}"),
            },
            if *max < 0 {
                String::new()
            } else {
                format!("/{max}")
            },
        )),
    }
}

/// `svcctl: <what> <binary> <host> (id N): <reasons>` for each item.
pub(crate) fn items<'a>(what: &str, items: impl Iterator<Item = &'a Item>) {
    for item in items {
        line(format_args!(
            "svcctl: {what} {} {} (id {}): {}",
            item.row().binary(),
            item.row().host(),
            item.row().id,
            item.reason_texts().join("; ")
        ));
    }
}

/// Nothing matched, and `--missing-ok` makes that fine.
pub(crate) fn nothing_to_do(what: &str) {
    line(format_args!("svcctl: {what}; nothing to do (--missing-ok)"));
}

pub(crate) fn dry_run(n: usize) {
    line(format_args!(
        "svcctl: dry run: would delete {n} service{}; nothing was changed",
        plural(n)
    ));
}

/// The default audit log cannot be written: the deletion goes ahead without a record.
pub(crate) fn audit_unavailable(path: &Path, err: &std::io::Error) {
    line(format_args!(
        "svcctl: warning: cannot write the audit log {} ({err}); no record of this deletion \
         will be kept; pass --audit-log PATH to keep one",
        path.display()
    ));
}

/// What the write did, in a sentence or two; the kept services follow as `items`.
pub(crate) fn deleted(outcome: &Outcome, audit_path: Option<&Path>) {
    let n = outcome.deleted.len();
    line(format_args!(
        "svcctl: soft-deleted {n} service{}{}{}",
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
            "svcctl: {} service{} had already been deleted by someone else: ids {gone:?}",
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
        "svcctl: waiting for {} node{} to go down ({}): {left_secs}s left",
        up.len(),
        plural(up.len()),
        up.join(", "),
    ));
}

pub(crate) fn wait_ran_out(secs: u64, up: &[String]) {
    line(format_args!(
        "svcctl: --wait {secs}s ran out with {} still up",
        up.join(", ")
    ));
}

/// `backend cleanup` found cinder-volume processes that name no backend and leaves them be.
pub(crate) fn shared_processes(n: usize) {
    line(format_args!(
        "svcctl: {n} cinder-volume process{} here name{} no backend (one service for all \
         enabled_backends); none is stopped",
        if n == 1 { "" } else { "es" },
        if n == 1 { "s" } else { "" },
    ));
}

/// Stopping a backend's processes.
pub(crate) fn process_progress(p: &Progress) {
    match p {
        Progress::Sent { pid, cmdline } => {
            line(format_args!("svcctl: sent SIGTERM to {pid} ({cmdline})"));
        }
        // A countdown redrawn in place: only where someone watches it.
        Progress::Waiting {
            live,
            of,
            left_secs,
        } if stderr_is_terminal() => eprint!(
            "\rsvcctl: waiting for {live} of {of} process(es) to exit, {left_secs}s left   "
        ),
        Progress::WaitOver if stderr_is_terminal() => line(""),
        Progress::Waiting { .. } | Progress::WaitOver => {}
        Progress::Escalating { pid, after_secs } => line(format_args!(
            "svcctl: {pid} did not exit within {after_secs}s of SIGTERM; sending SIGKILL"
        )),
    }
}

pub(crate) fn demo_ready(path: &Path) {
    line(format_args!(
        "svcctl: demo database {} ready: node01 up (but for removed backend deffaf27), node02 \
         down for 30 minutes, a volume on node01@normal and on node02@backend-2813902f-2c94",
        path.display()
    ));
}
