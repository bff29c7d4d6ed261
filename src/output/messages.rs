//! The lines svcctl writes to stderr that belong to no one operation (progress while waiting
//! or stopping processes, the prompt, the audit log's notes), and `note`, through which every
//! operation's rendering writes its own. Notes carry no prefix (warnings say `warning: `): only
//! an error begins with `svcctl: `, printed once, by main, as `svcctl: {err:#}`, so a script
//! can tell the two apart.

use std::fmt::Display;
use std::path::Path;

use super::report::plural;
use crate::db::Notice;
use crate::processes::Progress;

/// One line on stderr.
fn line(text: impl Display) {
    crate::term::errln!("{text}");
}

/// A note on stderr, worded by the caller (an operation's rendering).
pub(crate) fn note(text: impl Display) {
    line(text);
}

fn stderr_is_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal()
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
        Notice::Unconfirmed { txn, reason } => line(format_args!(
            "warning: transaction {txn} committed, but the audit log could not confirm it \
             ({reason}); its lines stay unconfirmed there, and service restore or --undo checks \
             them in the database before acting on them"
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

/// A note from `interrupt` on the way to the run's last line. Written from the signal thread,
/// so it never waits long on a stderr nobody reads.
pub(crate) fn interrupt_note(note: &crate::interrupt::Note) {
    match note {
        crate::interrupt::Note::CommitInFlight { cause, txn } => {
            crate::term::urgent_line(&format!(
                "{}: the COMMIT of transaction {txn} was already sent; waiting up to {}s for its \
                 answer, then checking the database, to record what happened (interrupt again \
                 to exit at once, leaving its outcome unknown)",
                cause.name(),
                crate::interrupt::GRACE.as_secs()
            ))
        }
    }
}

/// Nothing matched, and `--missing-ok` makes that fine.
pub(crate) fn nothing_to_do(what: &str) {
    line(format_args!("{what}; nothing to do (--missing-ok)"));
}

/// Asks `question` and leaves the cursor after it.
pub(crate) fn prompt(question: &str) -> std::io::Result<()> {
    crate::term::err_part!("{} [y/N] ", crate::text::human(question));
    Ok(())
}

/// What `backend cleanup --wait` says as it waits: at a terminal, one line redrawn in place;
/// elsewhere (a pipe, a cron mail), a line when the wait starts and one per change.
#[derive(Debug)]
pub(crate) enum Wait<'a> {
    /// The wait begins: each service still up, and when it counts as down if its heartbeat
    /// has stopped (its last heartbeat plus `service_down_time`).
    Started {
        secs: u64,
        up: &'a [(String, chrono::NaiveDateTime)],
    },
    /// The countdown (shown at a terminal only).
    Tick { up: &'a [String], left_secs: u64 },
    /// Some went down; these are still up.
    Changed {
        down: &'a [String],
        up: &'a [String],
        left_secs: u64,
    },
    /// Every one went down.
    AllDown,
    /// The wait (or `--timeout`) ran out with these still up.
    RanOut { up: &'a [String] },
}

pub(crate) fn wait(w: &Wait<'_>) {
    let tty = stderr_is_terminal();
    // At a terminal a countdown line may be open: a line of its own starts over it.
    let over = if tty { "\r" } else { "" };
    match w {
        Wait::Started { secs, up } => line(format_args!(
            "waiting up to {secs}s for {} service{} to go down: {}",
            up.len(),
            plural(up.len()),
            up.iter()
                .map(|(host, at)| format!("{host} (down after {} UTC)", at.format("%H:%M:%S")))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        Wait::Tick { up, left_secs } if tty => {
            crate::term::err_part!("\rwaiting for {} ({left_secs}s left)   ", up.join(", "))
        }
        Wait::Tick { .. } => {}
        Wait::Changed {
            down,
            up,
            left_secs,
        } => line(format_args!(
            "{over}{} went down; still up: {} ({left_secs}s left)",
            down.join(", "),
            up.join(", ")
        )),
        Wait::AllDown => line(format_args!("{over}all went down; going on")),
        Wait::RanOut { up } => line(format_args!(
            "{over}the wait ran out with {} still up",
            up.join(", ")
        )),
    }
}

/// `backend cleanup` found cinder-volume processes that name no backend and leaves them be.
pub(crate) fn shared_processes(n: usize) {
    line(format_args!(
        "{n} cinder-volume process{} here name{} no backend (one service for all \
         enabled_backends); none is stopped",
        crate::text::plural_es(n),
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
            crate::term::err_part!(
                "\rwaiting for {live} of {of} process(es) to exit, {left_secs}s left   "
            )
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

/// `--audit-log /dev/null`: as `--no-audit`, said once.
pub(crate) fn null_audit() {
    line(
        "warning: --audit-log /dev/null: no audit record of this change will be kept (as with --no-audit)",
    );
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

/// The lines of the audit log a reader skipped, one warning each, naming file and line.
pub(crate) fn skipped_lines(skipped: &[crate::audit::Skipped]) -> Vec<String> {
    use crate::audit::SkipWhy;
    skipped
        .iter()
        .map(|s| {
            format!(
                "warning: the audit log {} line {} {}: skipped (a record is synced whole before \
                 its transaction commits, so a cut one stands for nothing)",
                s.path.display(),
                s.line,
                match s.why {
                    SkipWhy::Unterminated =>
                        "has no newline at its end (a write that did not finish)",
                    SkipWhy::Torn =>
                        "is cut short (a record torn by a crash, ended by a later write)",
                }
            )
        })
        .collect()
}
