//! svcctl run by strace with every sync (`fdatasync`, `fsync`) held back for a while after it
//! returns, so a test can act while svcctl waits for its audit line to reach the disk. No seam
//! in svcctl: strace's fault injection (`inject=...:delay_exit`).

use std::time::{Duration, Instant};

use nix::unistd::Pid;

/// Whether strace can trace here; where it cannot, a loud skip (a failure with
/// SVCCTL_REQUIRE_MARIADB=1, which CI sets and for which `.ci/run` installs strace).
pub fn usable() -> bool {
    static USABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let ok = *USABLE.get_or_init(|| {
        std::process::Command::new("strace")
            .args(["-f", "-qq", "-o", "/dev/null", "true"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if !ok {
        let required = std::env::var("SVCCTL_REQUIRE_MARIADB").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "SVCCTL_REQUIRE_MARIADB=1 but strace cannot trace here (apt-get install -y strace)"
        );
        use std::io::Write;
        let test = std::thread::current().name().unwrap_or("?").to_string();
        let _ = writeln!(
            std::io::stderr(),
            "*** SKIPPED {test}: strace cannot trace here (apt-get install -y strace); \
             SVCCTL_REQUIRE_MARIADB=1 makes this a failure ***"
        );
    }
    ok
}

/// strace's command line before svcctl's: follow its threads, print nothing, and hold each
/// sync's return back for `delay`.
pub fn wrapper(delay: Duration) -> Vec<String> {
    [
        "strace",
        "-f",
        "-qq",
        "-o",
        "/dev/null",
        "-e",
        "trace=fdatasync,fsync",
        "-e",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([format!(
        "inject=fdatasync,fsync:delay_exit={}",
        delay.as_micros()
    )])
    .collect()
}

/// The process strace (`strace_pid`) runs: svcctl, once it has started.
pub fn tracee(strace_pid: u32) -> Pid {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let children =
            std::fs::read_to_string(format!("/proc/{strace_pid}/task/{strace_pid}/children"))
                .unwrap_or_default();
        if let Some(pid) = children
            .split_whitespace()
            .filter_map(|p| p.parse::<i32>().ok())
            .find(|p| {
                std::fs::read_link(format!("/proc/{p}/exe"))
                    .is_ok_and(|exe| exe.file_name().is_some_and(|n| n == "svcctl"))
            })
        {
            return Pid::from_raw(pid);
        }
        assert!(Instant::now() < deadline, "strace never started svcctl");
        std::thread::sleep(Duration::from_millis(10));
    }
}
