//! stdout and stderr: every write to either goes through here, and every one is fallible.
//!
//! - A closed pipe (`svcctl ... | head`) on either stream is not an error: that stream's later
//!   writes are dropped and the command runs on to the exit code it would have had.
//! - A write never waits past `--timeout` (`set_deadline`): svcctl waits (`poll`) until the
//!   stream can take at most `PIPE_BUF` bytes without blocking, then writes them. A stdout
//!   that nothing reads ends the run in `TimedOut` at the deadline; stderr drops what it cannot
//!   write by then (the exit code still tells). A signal wakes a stdout write at once
//!   (`set_wake`), so a reader that never reads cannot hold a stopped run either.
//! - Any other failure (a full disk) is an error naming the stream and where it goes.
//! - Colour only where that stream is a terminal and `NO_COLOR` is unset (`--help` keeps clap's
//!   own rule: `styled_for_stdout`).
//! - stderr lines go through `errln!` and `err_part!` (below), never std's `eprintln!`/`eprint!`,
//!   which panic on a closed stderr: clippy.toml forbids std's print macros everywhere else.
//!   Each line they write has every known secret redacted (`secret::redact`).
//! - The final error, a clap usage error and a panic each end as one `svcctl: ` line.

use std::fmt;
use std::io::{self, IsTerminal, Write};
use std::os::fd::{BorrowedFd, RawFd};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use crate::{secret, text};

/// One of the two standard streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

static CLOSED: [AtomicBool; 2] = [AtomicBool::new(false), AtomicBool::new(false)];

impl Stream {
    fn closed(self) -> &'static AtomicBool {
        &CLOSED[self as usize]
    }

    fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "standard output",
            Stream::Stderr => "standard error",
        }
    }

    /// Where the stream goes (`/dev/full`, a file), for a message about failing to write it.
    fn target(self) -> Option<String> {
        let fd = match self {
            Stream::Stdout => 1,
            Stream::Stderr => 2,
        };
        std::fs::read_link(format!("/proc/self/fd/{fd}"))
            .ok()
            .map(|p| text::one_line(&p.display().to_string(), 200))
    }

    /// True when this stream is a terminal and `NO_COLOR` is unset (or empty).
    pub fn colour(self) -> bool {
        let tty = match self {
            Stream::Stdout => io::stdout().is_terminal(),
            Stream::Stderr => io::stderr().is_terminal(),
        };
        tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
    }
}

/// A write failure other than a closed pipe, naming the stream and its target.
#[derive(Debug)]
struct StreamError {
    stream: Stream,
    target: Option<String>,
    reason: String,
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot write to {}", self.stream.name())?;
        if let Some(t) = &self.target {
            write!(f, " ({t})")?;
        }
        write!(
            f,
            ": {}; free some space or send the output elsewhere",
            self.reason
        )
    }
}

impl std::error::Error for StreamError {}

/// A handle on stdout or stderr whose writes follow this module's rules.
#[derive(Debug, Clone, Copy)]
pub struct Writer(Stream);

/// Standard output, for data.
pub fn stdout() -> Writer {
    Writer(Stream::Stdout)
}

/// Standard error, for notes, progress, warnings and errors.
pub fn stderr() -> Writer {
    Writer(Stream::Stderr)
}

impl Writer {
    fn outcome<T>(&self, result: io::Result<T>, dropped: T) -> io::Result<T> {
        match result {
            Ok(v) => Ok(v),
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.0.closed().store(true, Ordering::Relaxed);
                Ok(dropped)
            }
            // svcctl's own verdicts (the deadline, a signal) pass as they are.
            Err(e)
                if e.get_ref()
                    .is_some_and(|i| i.is::<TimedOut>() || i.is::<Woken>()) =>
            {
                Err(e)
            }
            Err(e) => Err(io::Error::new(
                e.kind(),
                StreamError {
                    stream: self.0,
                    target: self.0.target(),
                    reason: crate::error::io_reason(&e),
                },
            )),
        }
    }
}

impl Write for Writer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.0.closed().load(Ordering::Relaxed) {
            return Ok(buf.len());
        }
        let result = write_within(self.0, buf, deadline());
        self.outcome(result, buf.len())
    }

    /// Nothing is buffered here: each `write` reaches the stream before it returns.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// `--timeout`'s deadline, and its length as the flag gave it.
static DEADLINE: OnceLock<(Instant, f64)> = OnceLock::new();

/// The read end of `interrupt`'s wake pipe: readable once a signal came (-1: none).
static WAKE: AtomicI32 = AtomicI32::new(-1);

/// Every write from now on ends by `at`, `secs` (`--timeout`) after the run began.
pub fn set_deadline(at: Instant, secs: f64) {
    let _ = DEADLINE.set((at, secs));
}

/// Once `fd` is readable, a blocked write to stdout gives up (`Woken`).
pub(crate) fn set_wake(fd: RawFd) {
    WAKE.store(fd, Ordering::Relaxed);
}

fn deadline() -> Option<Instant> {
    DEADLINE.get().map(|(at, _)| *at)
}

/// stdout could not be written by the deadline: nothing read it in time.
#[derive(Debug)]
pub struct TimedOut {
    stream: Stream,
    target: Option<String>,
    secs: f64,
}

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "gave up after {}s (--timeout) writing to {}",
            self.secs,
            self.stream.name()
        )?;
        if let Some(t) = &self.target {
            write!(f, " ({t})")?;
        }
        write!(f, ": its reader did not read it in time")
    }
}

impl std::error::Error for TimedOut {}

/// A signal came while a write to stdout waited.
#[derive(Debug)]
struct Woken;

impl fmt::Display for Woken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("interrupted while writing to standard output")
    }
}

impl std::error::Error for Woken {}

/// Set once a write to stdout ran into the deadline.
static TIMED_OUT: AtomicBool = AtomicBool::new(false);

/// `--timeout`'s length, once a write to stdout ran into its deadline (whatever wrapped the
/// error on its way up: serde_json, for one, keeps only its text).
pub(crate) fn timed_out() -> Option<f64> {
    TIMED_OUT
        .load(Ordering::Relaxed)
        .then(|| DEADLINE.get().map_or(0.0, |(_, s)| *s))
}

/// The most written at once to a pipe, socket or terminal: a pipe with room for one write
/// (`poll` says so) takes up to `PIPE_BUF` bytes without blocking.
const PIPE_BUF: usize = 4096;

/// Whether writes to this stream can block on a reader (a pipe, a socket, a terminal), so must
/// be cut to `PIPE_BUF`; a file or a device such as /dev/null takes any write at once.
fn may_block(stream: Stream) -> bool {
    static MAY_BLOCK: [OnceLock<bool>; 2] = [OnceLock::new(), OnceLock::new()];
    *MAY_BLOCK[stream as usize].get_or_init(|| {
        let fd = fd_of(stream);
        let fifo_or_socket = nix::sys::stat::fstat(fd).is_ok_and(|st| {
            let kind = st.st_mode & libc::S_IFMT;
            kind == libc::S_IFIFO || kind == libc::S_IFSOCK
        });
        fifo_or_socket || fd.is_terminal()
    })
}

fn fd_of(stream: Stream) -> BorrowedFd<'static> {
    // SAFETY: fds 1 and 2 stay open for the whole process (std never closes them).
    unsafe {
        BorrowedFd::borrow_raw(match stream {
            Stream::Stdout => 1,
            Stream::Stderr => 2,
        })
    }
}

/// Writes part of `buf` to `stream`, waiting for it to take the bytes until `by` at most
/// (forever without). Allowed here and only here: the one place the standard streams are
/// written. stdout gives up with `TimedOut` at the deadline, or `Woken` once a signal came;
/// stderr drops what it cannot write by then.
fn write_within(stream: Stream, buf: &[u8], by: Option<Instant>) -> io::Result<usize> {
    let fd = fd_of(stream);
    let chunk = if may_block(stream) {
        &buf[..buf.len().min(PIPE_BUF)]
    } else {
        buf
    };
    let wake = WAKE.load(Ordering::Relaxed);
    // SAFETY: the wake pipe's read end is owned by `interrupt` for the rest of the process.
    let wake =
        (stream == Stream::Stdout && wake >= 0).then(|| unsafe { BorrowedFd::borrow_raw(wake) });
    loop {
        let timeout = match by {
            None => PollTimeout::NONE,
            Some(by) => {
                let left = by.saturating_duration_since(Instant::now());
                PollTimeout::try_from(left.as_millis().min(i32::MAX as u128) as i32)
                    .unwrap_or(PollTimeout::MAX)
            }
        };
        let mut fds = vec![PollFd::new(fd, PollFlags::POLLOUT)];
        if let Some(w) = wake {
            fds.push(PollFd::new(w, PollFlags::POLLIN));
        }
        match poll(&mut fds, timeout) {
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
            Ok(0) if stream == Stream::Stderr => return Ok(buf.len()),
            Ok(0) => {
                TIMED_OUT.store(true, Ordering::Relaxed);
                let secs = DEADLINE.get().map_or(0.0, |(_, s)| *s);
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    TimedOut {
                        stream,
                        target: stream.target(),
                        secs,
                    },
                ));
            }
            Ok(_) => {}
        }
        if fds
            .get(1)
            .and_then(PollFd::revents)
            .is_some_and(|r| !r.is_empty())
        {
            return Err(io::Error::other(Woken));
        }
        return match nix::unistd::write(fd, chunk) {
            // As std's own streams: a stream that was never open swallows what it is given.
            Err(nix::errno::Errno::EBADF) => Ok(buf.len()),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => Err(e.into()),
            Ok(n) => Ok(n),
        };
    }
}

/// Writes `text` to stderr as the final error line of an exit that cannot wait (a second
/// signal): at most a quarter of a second for the stream to take it, secrets redacted.
pub(crate) fn urgent_error(text: &str) {
    urgent_line(&format!(
        "svcctl: {}",
        text::one_line(&secret::redact(text), text::LINE_MAX)
    ));
}

/// Writes one line to stderr, waiting a quarter of a second at most (a note from the signal
/// thread, which must never hang on a stderr nobody reads).
pub(crate) fn urgent_line(text: &str) {
    let by = Instant::now() + Duration::from_millis(250);
    let mut rest = format!("{}\n", own_line(&secret::redact(text))).into_bytes();
    while !rest.is_empty() {
        match write_within(Stream::Stderr, &rest, Some(by)) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                rest.drain(..n.min(rest.len()));
            }
        }
    }
}

/// clap's styled text (`--help`) as it goes to stdout: with its styles where clap itself would
/// show them (anstream's rule, which clap's own printing follows: a terminal, or
/// `CLICOLOR_FORCE`; never with `NO_COLOR` or `CLICOLOR=0`), plain text otherwise.
pub fn styled_for_stdout(text: &clap::builder::StyledStr) -> String {
    match anstream::AutoStream::choice(&io::stdout()) {
        anstream::ColorChoice::Never => text.to_string(),
        _ => text.ansi().to_string(),
    }
}

/// Writes one line to stderr, secrets redacted and every character that would act on a
/// terminal escaped (`text::human`: values from the database or the audit log reach notes and
/// errors). A failure to write stderr has nowhere to be reported, so it is dropped: the exit
/// code still tells.
pub fn line(args: fmt::Arguments<'_>) {
    let mut s = text::human(&secret::redact(&args.to_string())).into_owned();
    s.push('\n');
    LINE_OPEN.store(false, Ordering::SeqCst);
    let _ = stderr().write_all(s.as_bytes());
}

/// Whether stderr's last write left a line open (a prompt waiting for its answer, a progress
/// line): the final line of a run then starts on a line of its own, never after the question.
static LINE_OPEN: AtomicBool = AtomicBool::new(false);

/// The line left open ended outside svcctl's writes (the answer to a prompt, with its Enter).
pub(crate) fn line_ended() {
    LINE_OPEN.store(false, Ordering::SeqCst);
}

/// The text a final line is written with: on a line of its own.
fn own_line(text: &str) -> String {
    if LINE_OPEN.swap(false, Ordering::SeqCst) {
        format!("\n{text}")
    } else {
        text.to_string()
    }
}

/// Writes text without a newline to stderr (a progress line redrawn with `\r`), then flushes.
pub fn part(args: fmt::Arguments<'_>) {
    let s = secret::redact(&args.to_string());
    LINE_OPEN.store(!s.ends_with('\n'), Ordering::SeqCst);
    let mut err = stderr();
    let _ = err.write_all(s.as_bytes()).and_then(|()| err.flush());
}

/// A line to stderr through `term::line`: secrets redacted, never a panic. svcctl's own name,
/// not std's `eprintln!` (which panics on a closed stderr and redacts nothing, and which
/// clippy.toml forbids outside this file).
macro_rules! errln {
    () => {
        $crate::term::line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::term::line(format_args!($($arg)*))
    };
}
pub(crate) use errln;

/// Text without a newline to stderr through `term::part` (a progress line redrawn with `\r`):
/// secrets redacted, never a panic.
macro_rules! err_part {
    ($($arg:tt)*) => {
        $crate::term::part(format_args!($($arg)*))
    };
}
pub(crate) use err_part;

/// The one line an error ends svcctl with: `svcctl: ` and the error with its causes, each
/// said once (a driver's error often repeats its cause in its own text), on one line, cut
/// short, secrets redacted.
pub fn error_line(err: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for e in err.chain() {
        let s = e.to_string();
        if parts.last().is_some_and(|p| p.contains(s.as_str())) {
            continue;
        }
        parts.push(s);
    }
    format!(
        "svcctl: {}",
        text::one_line(&secret::redact(&parts.join(": ")), text::LINE_MAX)
    )
}

/// Prints the final error, once.
pub fn print_error(err: &anyhow::Error) {
    let _ = stderr().write_all(own_line("").as_bytes());
    line(format_args!("{}", error_line(err)));
}

/// Installs the panic hook: a panic prints `svcctl: internal error: ...` (one line, no secret:
/// registered secrets redacted, a URL's userinfo masked) and exits 1 at once, so that nothing
/// waits on the runtime's blocking threads (a prompt reading stdin) after it.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let line = panic_line(info.payload_as_str(), info.location());
        let _ = stderr().write_all(line.as_bytes());
        std::process::exit(crate::error::code::RUNTIME);
    }));
}

/// The line the panic hook prints, newline included.
pub fn panic_line(payload: Option<&str>, location: Option<&std::panic::Location<'_>>) -> String {
    let message = payload.unwrap_or("no message");
    let message = secret::mask(&secret::redact(message));
    let at = location.map_or(String::new(), |l| format!(" at {}:{}", l.file(), l.line()));
    format!(
        "svcctl: internal error: {}{at}; this is a bug in svcctl, please report it\n",
        text::one_line(&message, text::LINE_MAX)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_line_says_each_cause_once_on_one_line() {
        #[derive(Debug)]
        struct Driver;
        impl fmt::Display for Driver {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("error returned from database: 1045 (28000): Access\ndenied")
            }
        }
        impl std::error::Error for Driver {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&Inner)
            }
        }
        #[derive(Debug)]
        struct Inner;
        impl fmt::Display for Inner {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("1045 (28000): Access\ndenied")
            }
        }
        impl std::error::Error for Inner {}
        let err = anyhow::Error::new(Driver).context("connecting");
        assert_eq!(
            error_line(&err),
            "svcctl: connecting: error returned from database: 1045 (28000): Access denied"
        );
    }

    #[test]
    fn panic_line_is_one_line_without_the_password() {
        crate::secret::register("term-rs-pw");
        let line = panic_line(
            Some("boom\nconnection = mysql://u:other-pw@h/c and term-rs-pw"),
            None,
        );
        assert_eq!(line.lines().count(), 1, "{line}");
        assert!(
            line.starts_with("svcctl: internal error: boom connection"),
            "{line}"
        );
        assert!(
            !line.contains("other-pw") && !line.contains("term-rs-pw"),
            "{line}"
        );
    }

    #[test]
    fn clap_errors_become_one_line_without_the_dash_dash_tip() {
        for args in [
            &["svcctl", "--timeout", "-1", "service", "list"][..],
            &["svcctl", "service", "delete"],
            &["svcctl", "service", "remove"],
            &["svcctl", "backend", "cleanup", "x", "--wait", "-1"],
            &["svcctl", "service"],
            &["svcctl", "--bogus"],
        ] {
            let Err(e) = crate::cli::parse_from(args) else {
                panic!("{args:?} parsed")
            };
            assert_eq!(crate::error::exit_code(&e), crate::error::code::USAGE);
            let line = format!("svcctl: {e:#}");
            assert!(line.starts_with("svcctl: "), "{line}");
            assert!(
                !line.contains('\n') && !line.contains("'-- "),
                "{args:?}: {line}"
            );
        }
    }

    #[test]
    fn a_closed_pipe_is_remembered_and_later_writes_dropped() {
        let w = Writer(Stream::Stdout);
        let r = w.outcome(Err(io::Error::from(io::ErrorKind::BrokenPipe)), 5);
        assert_eq!(r.unwrap(), 5);
        assert!(Stream::Stdout.closed().load(Ordering::Relaxed));
        Stream::Stdout.closed().store(false, Ordering::Relaxed);
        let full = w
            .outcome::<usize>(Err(io::Error::from(io::ErrorKind::StorageFull)), 0)
            .unwrap_err();
        assert_eq!(full.kind(), io::ErrorKind::StorageFull);
        assert!(
            full.to_string()
                .starts_with("cannot write to standard output"),
            "{full}"
        );
        assert!(
            full.to_string().contains("no space left on device"),
            "{full}"
        );
    }
}
