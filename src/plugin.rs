//! `svcctl service check` is a monitoring plugin (the Monitoring Plugins development
//! guidelines): its exit codes are 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN, not svcctl's, and
//! every failure, a bad flag or a panic included, ends as one UNKNOWN status line on stdout,
//! where Nagios and Icinga read it (svcctl's usage exit 2 would page as CRITICAL). `main`
//! asks `detect` before it parses and hands any error to `finish`; nothing else changes.

use std::ffi::OsString;
use std::io::Write;

/// The check printed its verdict; exit with this code (1 WARNING, 2 CRITICAL, 3 UNKNOWN).
#[derive(Debug, thiserror::Error)]
#[error("monitoring status {0}")]
pub struct Exit(pub u8);

/// The exit code of the UNKNOWN state.
pub const UNKNOWN: u8 = 3;

/// True when the command line names `svcctl service check`; a panic then ends in UNKNOWN too.
pub fn detect() -> bool {
    let args: Vec<OsString> = std::env::args_os().collect();
    let check = names_check(&args);
    if check {
        install_panic_hook();
    }
    check
}

/// The subcommand path the arguments name, walked as clap walks it (a word that names a
/// subcommand of the level reached descends), is `service check`.
fn names_check(args: &[OsString]) -> bool {
    let root = crate::cli::command();
    let mut cmd = &root;
    let mut path: Vec<&str> = Vec::new();
    for a in args.iter().skip(1) {
        if let Some(sub) = a.to_str().and_then(|a| cmd.find_subcommand(a)) {
            cmd = sub;
            path.push(sub.get_name());
        }
    }
    path == ["service", "check"]
}

/// The exit code for the check's error, after printing the UNKNOWN line it needs: none for
/// `Exit` (the verdict was printed), else `CINDER SERVICES UNKNOWN - <the error>`, one line,
/// secrets redacted.
pub fn finish(err: &anyhow::Error) -> u8 {
    if let Some(Exit(code)) = err.chain().find_map(|e| e.downcast_ref::<Exit>()) {
        return *code;
    }
    let line = crate::output::check::unknown_line(&crate::term::error_line(err));
    let mut out = crate::term::stdout();
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
    UNKNOWN
}

/// A panic prints the UNKNOWN line (the panic hook's text, one line, no secret) and exits 3.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let text = crate::term::panic_line(info.payload_as_str(), info.location());
        let line = crate::output::check::unknown_line(text.trim_end());
        let mut out = crate::term::stdout();
        let _ = writeln!(out, "{line}").and_then(|()| out.flush());
        std::process::exit(i32::from(UNKNOWN));
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_service_check_is_the_plugin() {
        let check =
            |args: &[&str]| names_check(&args.iter().map(OsString::from).collect::<Vec<_>>());
        assert!(check(&["svcctl", "service", "check"]));
        assert!(check(&[
            "svcctl",
            "--config-file",
            "a.conf",
            "service",
            "check",
            "--bogus"
        ]));
        assert!(check(&[
            "svcctl",
            "--timeout",
            "x",
            "service",
            "check",
            "-v"
        ]));
        assert!(!check(&["svcctl", "service", "list"]));
        assert!(!check(&["svcctl", "service", "list", "check"]));
        assert!(!check(&["svcctl", "check"]));
        assert!(!check(&["svcctl"]));
    }

    #[test]
    fn exit_passes_through_and_errors_are_unknown() {
        assert_eq!(finish(&Exit(2).into()), 2);
        let err = anyhow::anyhow!("connecting to 127.0.0.1:1\nrefused");
        assert_eq!(finish(&err), UNKNOWN);
    }
}
