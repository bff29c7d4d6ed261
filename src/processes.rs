//! Leftover cinder-volume processes of a removed backend on this node: finding exactly them
//! (never an editor, a `less` on a log, a grep, or another backend's service), and stopping
//! them: SIGTERM, a bounded wait, SIGKILL, and confirmation that each is gone.

use std::time::{Duration, Instant};

use anyhow::Result;
use nix::errno::Errno;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde::Serialize;

/// A process found on this node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Proc {
    pub pid: i32,
    /// The command line, arguments joined by spaces.
    pub cmdline: String,
    /// Kernel start time (clock ticks since boot): with the pid, names this very process, so
    /// a recycled pid is never mistaken for it.
    #[serde(skip)]
    pub start: u64,
}

/// What `backend cleanup` did (or would do) with this node's cinder-volume processes, for its
/// result document.
#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct ProcessReport<'a> {
    /// The processes naming the backend: planned, or as stopped.
    pub processes: &'a [Stopped],
    /// The cinder-volume processes naming no backend, left alone.
    pub shared_processes: &'a [Proc],
}

/// What happened to one process.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct Stopped {
    pub pid: i32,
    pub cmdline: String,
    /// The last signal sent: SIGTERM, or SIGKILL when SIGTERM was not enough; none in a dry run.
    pub signal: Option<String>,
    pub stopped: bool,
}

impl Stopped {
    /// A process not yet signalled: as the plan and a dry run show it.
    pub(crate) fn planned(p: &Proc) -> Stopped {
        Stopped {
            pid: p.pid,
            cmdline: p.cmdline.clone(),
            signal: None,
            stopped: false,
        }
    }
}

/// What `stop` is doing, for the caller to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Progress {
    /// SIGTERM went to this process.
    Sent { pid: i32, cmdline: String },
    /// Still waiting for `live` of `of` processes, `left_secs` before SIGKILL.
    Waiting {
        live: usize,
        of: usize,
        left_secs: u64,
    },
    /// The wait for SIGTERM is over.
    WaitOver,
    /// This process outlived SIGTERM by `after_secs`: SIGKILL follows.
    Escalating { pid: i32, after_secs: u64 },
}

/// True when the command line runs cinder-volume: its program (or, for `python3
/// /usr/bin/cinder-volume`, the script) is named cinder-volume. `exec -a` titles such as
/// `cinder-volume --config-file ...` put the whole title in argv[0], so the words of the
/// joined command line are what is examined.
pub(crate) fn runs_cinder_volume(cmdline: &str) -> bool {
    let words: Vec<&str> = cmdline.split_whitespace().collect();
    let base = |w: &str| {
        w.rsplit('/')
            .next()
            .unwrap_or(w)
            .trim_end_matches(':')
            .to_string()
    };
    match words.first() {
        None => false,
        Some(first) if base(first) == "cinder-volume" => true,
        Some(first) if base(first).starts_with("python") => {
            words.get(1).is_some_and(|w| base(w) == "cinder-volume")
        }
        _ => false,
    }
}

/// The parts of a command line that can name a backend: its arguments, not the program
/// (`/usr/bin/python3 /usr/bin/cinder-volume`, a kolla venv path), not a directory on a path
/// (`/etc/cinder/`), and not `cinder.conf`, the file that configures every backend at once.
/// oslo.service's threading backend retitles processes through cotyledon: the parent as
/// `cinder-volume: master process [ARGV]` (its original arguments in brackets, examined like
/// any command line) and each worker as `cinder-volume: ServiceWrapper worker(N)`, which
/// names nothing. So a shared cinder-volume, titled or not, never names a backend here.
fn naming_words(cmdline: &str) -> Vec<&str> {
    let trimmed = cmdline.trim();
    let first = trimmed.split_whitespace().next().unwrap_or("");
    if first.ends_with(':') {
        // A process title: only a master's bracketed original command line can name anything.
        return match (trimmed.find('['), trimmed.rfind(']')) {
            (Some(open), Some(close)) if open < close => naming_words(&trimmed[open + 1..close]),
            _ => Vec::new(),
        };
    }
    let words: Vec<&str> = trimmed.split_whitespace().collect();
    let program_words = match words.first() {
        Some(w)
            if w.rsplit('/')
                .next()
                .is_some_and(|b| b.starts_with("python")) =>
        {
            2
        }
        _ => 1,
    };
    words
        .into_iter()
        .skip(program_words)
        .filter_map(|w| {
            // `--config-file=/etc/cinder/x.conf`: the value; the option name names nothing.
            let value = match w.split_once('=') {
                Some((opt, v)) if opt.starts_with('-') => v,
                _ => w,
            };
            let last = value.trim_end_matches('/').rsplit('/').next().unwrap_or("");
            (last != "cinder.conf" && !last.is_empty()).then_some(last)
        })
        .collect()
}

/// True when `key` appears in the command line's arguments (see `naming_words`) as a whole
/// name: not preceded by a letter, digit, `_` or `-`, and not followed by a letter, digit or
/// `_` (a following `-`, as in the full backend UUID, or `.`/`@`, still counts). So `normal`
/// does not match `abnormal`, and a backend named `cinder` is not named by
/// `/usr/bin/cinder-volume --config-file /etc/cinder/cinder.conf`.
pub(crate) fn names_key(cmdline: &str, key: &str) -> bool {
    naming_words(cmdline)
        .iter()
        .any(|word| word_names_key(word, key))
}

fn word_names_key(word: &str, key: &str) -> bool {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    !key.is_empty()
        && word.match_indices(key).any(|(at, _)| {
            let before = word[..at].chars().next_back();
            let after = word[at + key.len()..].chars().next();
            !before.is_some_and(|c| is_word(c) || c == '-') && !after.is_some_and(is_word)
        })
}

/// True when the command line names some backend: one of `known` (this node's backends), or
/// a key of the seed distribution's form, `backend-` + 8 and 4 hex digits.
fn names_some_backend(cmdline: &str, known: &[String]) -> bool {
    let seed_form = |w: &str| {
        w.match_indices("backend-").any(|(at, _)| {
            let rest = &w.as_bytes()[at + "backend-".len()..];
            rest.len() >= 13
                && rest[8] == b'-'
                && rest[..13]
                    .iter()
                    .enumerate()
                    .all(|(i, c)| i == 8 || c.is_ascii_hexdigit())
        })
    };
    naming_words(cmdline)
        .iter()
        .any(|w| seed_form(w) || known.iter().any(|k| word_names_key(w, k)))
}

/// This node's cinder-volume processes, as `backend cleanup` sees them for one backend.
#[derive(Debug, Default)]
pub(crate) struct Found {
    /// Those whose command line names the backend's key: the ones to stop.
    pub named: Vec<Proc>,
    /// Those that name no backend at all: upstream's one cinder-volume (a parent and one
    /// forked child per enabled backend, one command line) serving every enabled backend.
    /// Never signalled: stopping them would stop every other backend on this node.
    pub shared: Vec<Proc>,
}

/// This node's cinder-volume processes (never svcctl itself), sorted by pid: those naming
/// backend `key`, and those naming no backend (`known` lists this node's other backends, so
/// their own per-backend processes are neither).
pub(crate) fn find(key: &str, known: &[String]) -> Result<Found> {
    let me = std::process::id() as i32;
    let mut found = Found::default();
    for p in procfs::process::all_processes()? {
        // A process may exit while we look: skip what can no longer be read.
        let Ok(p) = p else { continue };
        if p.pid == me {
            continue;
        }
        let Ok(args) = p.cmdline() else { continue };
        // A retitled process may pad its title with NULs: drop the empty pieces.
        let cmdline = args
            .iter()
            .map(|a| a.trim_matches('\0'))
            .filter(|a| !a.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if !runs_cinder_volume(&cmdline) {
            continue;
        }
        let list = if names_key(&cmdline, key) {
            &mut found.named
        } else if !names_some_backend(&cmdline, known) {
            &mut found.shared
        } else {
            continue;
        };
        let Ok(stat) = p.stat() else { continue };
        if stat.state == 'Z' {
            continue;
        }
        list.push(Proc {
            pid: p.pid,
            cmdline,
            start: stat.starttime,
        });
    }
    found.named.sort_by_key(|p| p.pid);
    found.shared.sort_by_key(|p| p.pid);
    Ok(found)
}

/// Fails, before anything is signalled or deleted, when svcctl may not signal a process.
pub(crate) fn check_permission(procs: &[Proc]) -> Result<()> {
    for p in procs {
        match kill(Pid::from_raw(p.pid), None) {
            Ok(()) | Err(Errno::ESRCH) => {}
            Err(Errno::EPERM) => anyhow::bail!(
                "not permitted to signal process {} ({}); nothing was changed; run as root or \
                 as the user cinder runs as, or pass --no-kill",
                p.pid,
                p.cmdline
            ),
            Err(e) => anyhow::bail!("cannot signal process {}: {e}", p.pid),
        }
    }
    Ok(())
}

/// True while this very process (same pid, same start time) exists and is not a zombie.
pub(crate) fn alive(p: &Proc) -> bool {
    match procfs::process::Process::new(p.pid).and_then(|q| q.stat()) {
        Ok(stat) => stat.starttime == p.start && stat.state != 'Z',
        Err(_) => false,
    }
}

/// SIGTERM to each, wait up to `timeout` (telling `progress`), SIGKILL what is left, and
/// confirm every one is gone.
pub(crate) async fn stop(
    procs: &[Proc],
    timeout: Duration,
    progress: impl Fn(&Progress),
) -> Result<Vec<Stopped>> {
    let mut result: Vec<Stopped> = procs.iter().map(Stopped::planned).collect();
    for (p, r) in procs.iter().zip(result.iter_mut()) {
        if alive(p) {
            send(p, Signal::SIGTERM)?;
            r.signal = Some("SIGTERM".into());
            progress(&Progress::Sent {
                pid: p.pid,
                cmdline: p.cmdline.clone(),
            });
        }
    }
    let live = |procs: &[Proc]| procs.iter().filter(|p| alive(p)).count();
    let started = Instant::now();
    while live(procs) > 0 && started.elapsed() < timeout {
        progress(&Progress::Waiting {
            live: live(procs),
            of: procs.len(),
            left_secs: (timeout - started.elapsed()).as_secs(),
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    progress(&Progress::WaitOver);
    for (p, r) in procs.iter().zip(result.iter_mut()) {
        if alive(p) {
            progress(&Progress::Escalating {
                pid: p.pid,
                after_secs: timeout.as_secs(),
            });
            send(p, Signal::SIGKILL)?;
            r.signal = Some("SIGKILL".into());
        }
    }
    // SIGKILL cannot be ignored, but a process in uninterruptible I/O dies only when it returns.
    let deadline = Instant::now() + Duration::from_secs(5);
    while live(procs) > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for (p, r) in procs.iter().zip(result.iter_mut()) {
        r.stopped = !alive(p);
    }
    Ok(result)
}

fn send(p: &Proc, sig: Signal) -> Result<()> {
    match kill(Pid::from_raw(p.pid), sig) {
        Ok(()) | Err(Errno::ESRCH) => Ok(()),
        Err(e) => anyhow::bail!("cannot send {sig} to {} ({}): {e}", p.pid, p.cmdline),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_command_lines_are_cinder_volume() {
        assert!(runs_cinder_volume(
            "cinder-volume --config-file /etc/cinder/backend-x.conf 1000"
        ));
        assert!(runs_cinder_volume(
            "/usr/bin/python3 /usr/bin/cinder-volume --config-file a"
        ));
        assert!(runs_cinder_volume("/usr/bin/cinder-volume"));
        assert!(!runs_cinder_volume(
            "less /var/log/cinder/cinder-volume.log"
        ));
        assert!(!runs_cinder_volume("vim /usr/bin/cinder-volume"));
        assert!(!runs_cinder_volume("grep cinder-volume"));
        assert!(!runs_cinder_volume("svcctl backend cleanup cinder-volume"));
        assert!(!runs_cinder_volume(""));
    }

    #[test]
    fn key_must_be_a_whole_name() {
        let cl = "cinder-volume --config-file /etc/cinder/backend-2813902f-2c94.conf";
        assert!(names_key(cl, "backend-2813902f-2c94"));
        assert!(names_key(
            "x node01@backend-2813902f-2c94-4ff9-988a",
            "backend-2813902f-2c94"
        ));
        assert!(!names_key(cl, "backend-2813902f-2c9"));
        assert!(names_key("cinder-volume --backend normal", "normal"));
        assert!(!names_key("cinder-volume --backend abnormal", "normal"));
        assert!(!names_key("cinder-volume --backend normal2", "normal"));
        assert!(!names_key("cinder-volume --backend x-normal", "normal"));
        assert!(names_key(
            "cinder-volume --config-file=/etc/cinder/backends/normal/",
            "normal"
        ));
    }

    /// Upstream's one cinder-volume for every enabled backend names none of them, whatever
    /// the backends are called, as a plain command line or as oslo.service's threading
    /// backend retitles it.
    #[test]
    fn a_shared_cinder_volume_names_no_backend() {
        let shared = [
            "/usr/bin/python3 /usr/bin/cinder-volume --config-file /etc/cinder/cinder.conf",
            "/var/lib/kolla/venv/bin/python3 /var/lib/kolla/venv/bin/cinder-volume \
             --config-file /etc/cinder/cinder.conf",
            "cinder-volume: master process [/usr/bin/cinder-volume --config-file \
             /etc/cinder/cinder.conf]",
            "cinder-volume: ServiceWrapper worker(0)",
        ];
        for cl in shared {
            assert!(runs_cinder_volume(cl), "{cl}");
            for key in [
                "cinder", "etc", "usr", "bin", "kolla", "venv", "conf", "lvm",
            ] {
                assert!(!names_key(cl, key), "{cl} names {key}");
            }
            assert!(!names_some_backend(cl, &["lvm".into()]), "{cl}");
        }
        // The seed's per-backend process, plain or retitled, names its key.
        let key = "backend-2813902f-2c94";
        for cl in [
            "/usr/bin/python2 /usr/bin/cinder-volume --config-file /etc/cinder/cinder.conf \
             --config-file /etc/cinder/backend-2813902f-2c94.conf",
            "cinder-volume: master process [/usr/bin/cinder-volume --config-file \
             /etc/cinder/backend-2813902f-2c94.conf]",
        ] {
            assert!(names_key(cl, key), "{cl}");
            assert!(names_some_backend(cl, &[]), "{cl}");
            assert!(!names_key(cl, "backend-ffdc2630-def2"), "{cl}");
        }
        assert!(names_some_backend(
            "cinder-volume --backend lvm2",
            &["lvm2".into()]
        ));
    }
}
