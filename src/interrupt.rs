//! What stops a run before it is done (SIGINT, SIGTERM, `--timeout`), and where it may stop.
//!
//! SIGINT and SIGTERM are blocked in every thread and taken by one thread of their own
//! (`sigwait`), so no signal lands in the middle of a step and both are handled alike. The
//! first one becomes the run's [`Cause`] (as does `--timeout` when it runs out, `raise`), and the
//! run stops at the first place it may:
//!
//! - outside a transaction's critical section (planning, a lock wait, a statement, a retry's
//!   wait, the prompt, output: `Phase::Free`), `lib::run` drops the work where it stands
//!   ([`stop`]): an open transaction dies with its connection and the server rolls it back;
//! - from the audit's intent lines to COMMIT ([`Critical`], `Phase::Prepared`), the runner sees
//!   the cause before it sends COMMIT ([`Critical::commit`]), rolls back and records
//!   `rolled_back`;
//! - once COMMIT is sent (`Phase::Committing`), the runner waits for its answer for up to
//!   [`GRACE`] more ([`bounded`]), or reads back whether it landed (again for up to `GRACE`),
//!   records the truth (`committed`, `rolled_back`, `outcome_unknown`), and stops;
//! - a second signal ends svcctl at once with one line that says what is known: nothing was
//!   changed (no COMMIT was sent), or the COMMIT's outcome is unknown and how to check it.
//!
//! [`conclude`] turns how the run ended into its last line and exit code: 130 (SIGINT) or 143
//! (SIGTERM) when nothing was changed, 1 for `--timeout`, 6 when a transaction had committed
//! before the stop, and 5 (the runner's) when a COMMIT's outcome is unknown.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use anyhow::Result;
use nix::sys::signal::{SigSet, Signal};
use tokio::sync::Notify;

use crate::error::{Failure, code};

/// How long svcctl, once stopped, still waits for the answer to a COMMIT it already sent, and
/// then again for the read-back that finds out whether that COMMIT landed.
pub(crate) const GRACE: Duration = Duration::from_secs(5);

/// What stopped the run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Cause {
    Int,
    Term,
    /// `--timeout SECONDS` ran out.
    Timeout(f64),
}

impl Cause {
    /// As messages name it: `SIGINT`, `--timeout 5s`.
    pub fn name(self) -> String {
        match self {
            Cause::Int => "SIGINT".into(),
            Cause::Term => "SIGTERM".into(),
            Cause::Timeout(s) => format!("--timeout {s}s"),
        }
    }

    /// What it did, as the run's last line begins: `interrupted by SIGINT`.
    pub fn stopped(self) -> String {
        match self {
            Cause::Int | Cause::Term => format!("interrupted by {}", self.name()),
            Cause::Timeout(s) => format!("gave up after {s}s (--timeout)"),
        }
    }

    /// The exit code of a stop that changed nothing.
    fn exit_code(self) -> i32 {
        match self {
            Cause::Int => code::INTERRUPTED,
            Cause::Term => code::TERMINATED,
            Cause::Timeout(_) => code::RUNTIME,
        }
    }
}

/// The work stopped here because of `Cause`; `conclude` words it.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.stopped())]
pub(crate) struct Stopped(pub Cause);

/// What the run is doing about the transaction in progress.
enum Phase {
    /// No transaction is between its intent lines and its recorded end.
    Free,
    /// Its intent lines are (being) appended; COMMIT is not sent.
    Prepared,
    /// COMMIT of `txn` is sent and its outcome not yet recorded; `check` says how to find it
    /// out, should svcctl have to exit before it knows.
    Committing { txn: String, check: String },
}

struct State {
    cause: Option<Cause>,
    /// When the first cause came.
    since: Option<Instant>,
    signals: u32,
    phase: Phase,
    /// The run began to write (so its last line says whether anything was changed).
    writing: bool,
    /// The transactions this run committed, and the audit log that confirms each.
    committed: Vec<(String, Option<PathBuf>)>,
}

static STATE: Mutex<State> = Mutex::new(State {
    cause: None,
    since: None,
    signals: 0,
    phase: Phase::Free,
    writing: false,
    committed: Vec::new(),
});

/// Wakes what waits for the state to change (`stop`, `bounded`).
static CHANGED: Notify = Notify::const_new();

/// The pipe a signal writes to, so that a write to stdout blocked on a reader that never
/// reads wakes up (`term`); its read end is never read.
static WAKE: OnceLock<(OwnedFd, OwnedFd)> = OnceLock::new();

/// Where notes on the way go (`output::messages::interrupt_note`).
static NOTE: OnceLock<fn(&Note)> = OnceLock::new();

fn state() -> MutexGuard<'static, State> {
    STATE.lock().unwrap_or_else(|e| e.into_inner())
}

/// What an interruption says on its way, before the run's last line.
pub(crate) enum Note<'a> {
    /// The first cause came while the COMMIT of `txn` was in flight: svcctl waits for its
    /// answer (up to `GRACE`), then reads back.
    CommitInFlight { cause: Cause, txn: &'a str },
}

/// Takes SIGINT and SIGTERM from here on: blocks them in this thread (and so in every thread
/// started after it: call this before the runtime starts) and starts the thread that waits
/// for them. `note` shows notes on the way.
pub(crate) fn install(note: fn(&Note)) -> Result<()> {
    let _ = NOTE.set(note);
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGTERM);
    set.thread_block()?;
    let (read, write) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC | nix::fcntl::OFlag::O_NONBLOCK)?;
    crate::term::set_wake(read.as_raw_fd());
    let _ = WAKE.set((read, write));
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            loop {
                match set.wait() {
                    Ok(Signal::SIGTERM) => received(Cause::Term),
                    Ok(_) => received(Cause::Int),
                    Err(_) => {}
                }
            }
        })?;
    Ok(())
}

/// A signal: the run's cause if it is the first; a second one ends svcctl at once.
fn received(cause: Cause) {
    let mut st = state();
    st.signals += 1;
    raise_locked(&mut st, cause);
    if let Some((_, w)) = WAKE.get() {
        let _ = nix::unistd::write(w, b"!");
    }
    if st.signals < 2 {
        return;
    }
    // Again: exit now, saying what is known. The state stays locked, so no COMMIT can be
    // sent between this verdict and the exit.
    let (code, line) = match &st.phase {
        Phase::Committing { txn, check } => (
            code::OUTCOME_UNKNOWN,
            format!(
                "outcome unknown: {} again while the COMMIT of transaction {txn} was in flight; \
                 the change may or may not be in the database; {check}",
                cause.stopped()
            ),
        ),
        _ => stop_message(&st, cause, format!("{} again", cause.stopped())),
    };
    crate::term::urgent_error(&line);
    // SAFETY: `_exit` ends the process at once; nothing of this process is used after it.
    unsafe { libc::_exit(code) }
}

fn raise_locked(st: &mut State, cause: Cause) {
    if st.cause.is_none() {
        st.cause = Some(cause);
        st.since = Some(Instant::now());
        if let (Phase::Committing { txn, .. }, Some(note)) = (&st.phase, NOTE.get()) {
            note(&Note::CommitInFlight { cause, txn });
        }
    }
    CHANGED.notify_waiters();
}

/// `--timeout` ran out: a cause like a signal's (but never an exit at once).
pub(crate) fn raise(cause: Cause) {
    raise_locked(&mut state(), cause);
}

/// The cause, once there is one.
pub(crate) fn cause() -> Option<Cause> {
    state().cause
}

/// A writing command's flow began: a stop from here on says whether anything was changed.
pub(crate) fn writing() {
    state().writing = true;
}

/// Before a write's transaction begins: no new transaction once the run was stopped.
pub(crate) fn begin_write() -> Result<(), Stopped> {
    let mut st = state();
    st.writing = true;
    match st.cause {
        Some(c) => Err(Stopped(c)),
        None => Ok(()),
    }
}

/// After a transaction committed (and its confirmation was appended to `log`): the run's last
/// line names it if the run is stopped later.
pub(crate) fn committed(txn: &str, log: Option<&Path>) {
    state()
        .committed
        .push((txn.to_string(), log.map(Path::to_path_buf)));
}

/// Resolves once the run is stopped and no transaction is in its critical section: where
/// `lib::run` drops the work.
pub(crate) async fn stop() -> Cause {
    loop {
        let notified = CHANGED.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        {
            let st = state();
            if let (Some(c), Phase::Free) = (st.cause, &st.phase) {
                return c;
            }
        }
        notified.await;
    }
}

/// `fut`, or None when the run is stopped and `GRACE` has passed since (or since `fut` began,
/// if later): a COMMIT's answer, a read-back, a rollback, each waited for that long at most.
pub(crate) async fn bounded<F: Future>(fut: F) -> Option<F::Output> {
    let started = Instant::now();
    tokio::select! {
        biased;
        v = fut => Some(v),
        () = grace_over(started) => None,
    }
}

async fn grace_over(started: Instant) {
    let since = loop {
        let notified = CHANGED.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if let Some(since) = state().since {
            break since;
        }
        notified.await;
    };
    tokio::time::sleep_until((since.max(started) + GRACE).into()).await;
}

/// A transaction's critical section, from just before its intent lines are appended to the
/// audit log until its end (committed, rolled back, or unknown) is recorded: `lib::run` does
/// not drop the work inside it; the runner stops it itself, truthfully.
pub(crate) struct Critical(());

impl Critical {
    pub fn enter() -> Critical {
        let mut st = state();
        st.phase = Phase::Prepared;
        st.writing = true;
        Critical(())
    }

    /// Whether COMMIT of `txn` may be sent: not once the run is stopped (the cause). From
    /// here until this section ends, a second signal exits with `check` (what to look at).
    pub fn commit(&self, txn: &str, check: String) -> Result<(), Cause> {
        let mut st = state();
        if let Some(c) = st.cause {
            return Err(c);
        }
        st.phase = Phase::Committing {
            txn: txn.to_string(),
            check,
        };
        Ok(())
    }
}

impl Drop for Critical {
    fn drop(&mut self) {
        state().phase = Phase::Free;
        CHANGED.notify_waiters();
    }
}

/// The run's last line and exit code, once it was stopped (nothing stopped it: the work's own
/// result, as it is). A COMMIT whose outcome is unknown keeps the runner's own line (exit 5).
pub(crate) fn conclude(result: Result<()>) -> Result<()> {
    let err = match result {
        Ok(()) => return Ok(()),
        Err(e) => e,
    };
    if crate::error::exit_code(&err) == code::OUTCOME_UNKNOWN {
        return Err(err);
    }
    let st = state();
    let timed_out = crate::term::timed_out();
    let Some(cause) = st.cause.or(timed_out.map(Cause::Timeout)) else {
        return Err(err);
    };
    // A signal explains whatever the work said on its way out; a timeout that a write to
    // stdout ran into says so itself.
    let head = match cause {
        Cause::Timeout(_) if timed_out.is_some() => format!("{err:#}"),
        _ => cause.stopped(),
    };
    let (code, message) = stop_message(&st, cause, head);
    Err(Failure::Stopped { message, code }.into())
}

/// The last line of a run stopped by `cause` (`head` says how), and its exit code: nothing was
/// changed, or which transactions had committed before the stop.
fn stop_message(st: &State, cause: Cause, head: String) -> (i32, String) {
    if st.committed.is_empty() {
        let tail = if st.writing {
            "; nothing was changed"
        } else {
            ""
        };
        return (cause.exit_code(), format!("{head}{tail}"));
    }
    let txns: Vec<&str> = st.committed.iter().map(|(t, _)| t.as_str()).collect();
    let one = txns.len() == 1;
    let confirmed = st
        .committed
        .iter()
        .find_map(|(_, log)| log.as_ref())
        .map_or(String::new(), |log| {
            format!(", confirmed in the audit log {}", log.display())
        });
    (
        code::STOPPED_AFTER_COMMIT,
        format!(
            "{head} after transaction{} {} had committed: {} stand{}{confirmed}; nothing after \
             {} was done, and its output may be cut short",
            if one { "" } else { "s" },
            txns.join(", "),
            if one { "it" } else { "they" },
            if one { "s" } else { "" },
            if one { "it" } else { "them" },
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(writing: bool, committed: &[&str]) -> State {
        State {
            cause: None,
            since: None,
            signals: 0,
            phase: Phase::Free,
            writing,
            committed: committed
                .iter()
                .map(|t| (t.to_string(), Some(PathBuf::from("/var/log/a.jsonl"))))
                .collect(),
        }
    }

    #[test]
    fn the_last_line_says_what_was_changed_and_the_code_agrees() {
        let head = |c: Cause| c.stopped();
        assert_eq!(
            stop_message(&state(true, &[]), Cause::Int, head(Cause::Int)),
            (130, "interrupted by SIGINT; nothing was changed".into())
        );
        assert_eq!(
            stop_message(&state(true, &[]), Cause::Term, head(Cause::Term)),
            (143, "interrupted by SIGTERM; nothing was changed".into())
        );
        // A read-only command has nothing to say of changes.
        assert_eq!(
            stop_message(
                &state(false, &[]),
                Cause::Timeout(5.0),
                head(Cause::Timeout(5.0))
            ),
            (1, "gave up after 5s (--timeout)".into())
        );
        let (code, line) = stop_message(&state(true, &["t1"]), Cause::Term, head(Cause::Term));
        assert_eq!(code, code::STOPPED_AFTER_COMMIT);
        assert_eq!(
            line,
            "interrupted by SIGTERM after transaction t1 had committed: it stands, confirmed in \
             the audit log /var/log/a.jsonl; nothing after it was done, and its output may be cut \
             short"
        );
        let (code, line) = stop_message(
            &state(true, &["t1", "t2"]),
            Cause::Timeout(2.0),
            head(Cause::Timeout(2.0)),
        );
        assert_eq!(code, code::STOPPED_AFTER_COMMIT);
        assert!(
            line.starts_with(
                "gave up after 2s (--timeout) after transactions t1, t2 had committed: they stand"
            ),
            "{line}"
        );
    }
}
