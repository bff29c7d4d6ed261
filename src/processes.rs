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
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Proc {
    pub pid: i32,
    /// The command line, arguments joined by spaces.
    pub cmdline: String,
    /// Kernel start time (clock ticks since boot): with the pid, names this very process, so
    /// a recycled pid is never mistaken for it.
    pub start: u64,
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

/// True when `key` appears in the command line as a whole name: not preceded by a letter,
/// digit, `_` or `-`, and not followed by a letter, digit or `_` (a following `-`, as in the
/// full backend UUID, or `.`/`@`/`/`, still counts). So `normal` does not match `abnormal`.
pub(crate) fn names_key(cmdline: &str, key: &str) -> bool {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    cmdline.match_indices(key).any(|(at, _)| {
        let before = cmdline[..at].chars().next_back();
        let after = cmdline[at + key.len()..].chars().next();
        !before.is_some_and(|c| is_word(c) || c == '-') && !after.is_some_and(is_word)
    })
}

/// The cinder-volume processes of backend `key` on this node, never svcctl itself.
pub(crate) fn find(key: &str) -> Result<Vec<Proc>> {
    let me = std::process::id() as i32;
    let mut out = Vec::new();
    for p in procfs::process::all_processes()? {
        // A process may exit while we look: skip what can no longer be read.
        let Ok(p) = p else { continue };
        if p.pid == me {
            continue;
        }
        let Ok(args) = p.cmdline() else { continue };
        let cmdline = args.join(" ");
        if !runs_cinder_volume(&cmdline) || !names_key(&cmdline, key) {
            continue;
        }
        let Ok(stat) = p.stat() else { continue };
        if stat.state == 'Z' {
            continue;
        }
        out.push(Proc {
            pid: p.pid,
            cmdline,
            start: stat.starttime,
        });
    }
    out.sort_by_key(|p| p.pid);
    Ok(out)
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
    }
}
