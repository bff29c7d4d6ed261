//! Closed and full standard streams: a closed pipe on stdout or stderr ends svcctl quietly with
//! the exit code the command would have had (never 101, never a hang), as does a reader that
//! stops reading (a broken pipe); a full disk names what could not be written (for help, the
//! version and `--generate` too); `--debug` into a file has no colour codes.

use std::io::Read;
use std::process::Stdio;

use crate::harness::{Backend, Run, Schema, Svcctl, TestDb};

fn db() -> TestDb {
    let db = TestDb::new(Backend::Sqlite, Schema::Cinder).unwrap();
    db.service(1, "node01", "cinder-scheduler", 5);
    db.service(2, "node02", "cinder-scheduler", 3600);
    db
}

/// A pipe whose reading end is already closed: every write to it fails with EPIPE, so the
/// test does not depend on when svcctl writes.
fn closed_pipe() -> std::io::PipeWriter {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    writer
}

#[test]
fn closed_stderr_under_debug_keeps_the_exit_code() {
    let db = db();
    let out = db
        .svcctl()
        .command(&["--debug", "service", "list"])
        .stdout(Stdio::null())
        .stderr(closed_pipe())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn closed_stdout_and_stderr_keep_a_refusal_exit_3() {
    let db = db();
    let before = db.fingerprint();
    // node01 is up: the real run would be refused, so the dry run exits 3 too.
    for stderr_closed in [false, true] {
        let mut cmd = db
            .audited()
            .command(&["service", "delete", "--host", "node01", "--dry-run"]);
        cmd.stdout(closed_pipe());
        if stderr_closed {
            cmd.stderr(closed_pipe());
        }
        let out = cmd.output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(3),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        if !stderr_closed {
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                stderr.ends_with("(--force deletes anyway; --skip-refused deletes the others)\n"),
                "{stderr}"
            );
        }
    }
    assert_eq!(db.fingerprint(), before);
}

#[test]
fn a_full_disk_names_what_could_not_be_written() {
    let db = db();
    for format in ["table", "json", "csv"] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = db
            .svcctl()
            .command(&["service", "list", "-f", format])
            .stdout(full)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let run = Run::from(out, &["service", "list"]);
        assert_eq!(run.code, 1, "{format}: {}", run.stderr);
        assert_eq!(
            run.stderr,
            "svcctl: cannot write to standard output (/dev/full): no space left on device; \
             free some space or send the output elsewhere\n",
            "{format}"
        );
    }
}

#[test]
fn debug_into_a_file_has_no_colour_codes() {
    let db = db();
    let log = db.dir.path().join("debug.log");
    let out = db
        .svcctl()
        .command(&["--debug", "service", "list"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("DEBUG"), "{text}");
    assert!(!text.contains('\u{1b}'), "{text}");
}

/// Help, the version and `--generate` are written as any output is: a full disk is exit 1 with
/// one line naming it (not exit 0 with nothing written), a closed pipe is exit 0.
#[test]
fn help_version_and_generate_into_a_full_disk_fail_in_one_line() {
    for args in [
        &["--help"][..],
        &["-h"],
        &["service", "delete", "--help"],
        &["help", "service"],
        &["--version"],
        &["--generate", "man"],
        &["--generate", "complete-bash"],
    ] {
        let run = Svcctl::new().run(args).code(0);
        assert!(!run.stdout.is_empty() && run.stderr.is_empty(), "{args:?}");
        if args == ["--version"] {
            assert_eq!(
                run.stdout,
                format!("svcctl {}\n", env!("CARGO_PKG_VERSION"))
            );
        }
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = Svcctl::new()
            .command(args)
            .stdout(full)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let run = Run::from(out, args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert_eq!(
            run.stderr,
            "svcctl: cannot write to standard output (/dev/full): no space left on device; \
             free some space or send the output elsewhere\n",
            "{args:?}"
        );
        let out = Svcctl::new()
            .command(args)
            .stdout(closed_pipe())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(out.stderr.is_empty(), "{args:?}");
    }
}

#[test]
fn broken_pipe_is_not_an_error() {
    let db = TestDb::new(Backend::Sqlite, Schema::Cinder).unwrap();
    let values: Vec<String> = (0..3000)
        .map(|i| format!("('2026-01-01 00:00:00', 0, {i}, 'host{i:05}@backend-with-a-long-name', 'cinder-volume', 1, 0)"))
        .collect();
    db.exec(&format!(
        "INSERT INTO services (updated_at, deleted, id, host, `binary`, report_count, disabled) VALUES {}",
        values.join(", ")
    ));
    let mut child = db
        .svcctl()
        .command(&["service", "list", "-f", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}
