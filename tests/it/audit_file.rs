//! The audit log as a file (issue 19): svcctl runs as root and acts on its log later, so what
//! sits at the log's place cannot turn it against the node. A link, FIFO, device, or a directory
//! others can write is refused in one line (exit 2) with nothing written anywhere; `/dev/null`
//! is `--no-audit` with its warning; a full disk leaves the log exactly as it was; a torn line is
//! ended by the next writer and skipped (and named) by a reader; a log that does not exist is
//! never created by a command that reads it. SQLite and MariaDB.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::both_backends;
use crate::harness::fleet::node02_scheduler_and_backup_down;
use crate::harness::{Run, Schema, TestDb};

/// A delete that would change the database, and a restore that reads the log, each with
/// `--audit-log log`.
fn delete(db: &TestDb, log: &Path) -> Run {
    db.svcctl().audit_log(log).run(&[
        "service",
        "delete",
        "--host",
        "node02",
        "--binary",
        "cinder-backup",
        "--yes",
    ])
}

fn restore(db: &TestDb, log: &Path) -> Run {
    db.svcctl()
        .audit_log(log)
        .run(&["service", "restore", "--host", "node02", "--yes"])
}

/// Exit 2 in one line naming `what`, the database and every file in `dir` as they were.
fn refused_in_one_line(db: &TestDb, run: Run, what: &str, dir: &Path, before: &Listing) {
    let run = run.code(2);
    assert_eq!(run.stderr.lines().count(), 1, "one line: {}", run.stderr);
    assert!(
        run.error_line().starts_with("svcctl: ") && run.error_line().contains(what),
        "{what}: {}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert_eq!(&listing(db, dir), before, "nothing written anywhere");
}

/// The database's rows, and every file under `dir` (but the SQLite database's own, which its
/// rows stand for) with the length and a hash of its bytes.
#[derive(Debug, PartialEq)]
struct Listing(
    Vec<Vec<Option<String>>>,
    Vec<(PathBuf, Option<(usize, u64)>)>,
);

fn listing(db: &TestDb, dir: &Path) -> Listing {
    use std::hash::{Hash, Hasher};
    let mut files = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("cinder.sqlite"))
            {
                continue;
            }
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                todo.push(p.clone());
                files.push((p, None));
            } else if meta.is_file() {
                let bytes = std::fs::read(&p).unwrap();
                let mut h = std::collections::hash_map::DefaultHasher::new();
                bytes.hash(&mut h);
                files.push((p, Some((bytes.len(), h.finish()))));
            } else {
                files.push((p, None));
            }
        }
    }
    files.sort();
    Listing(db.fingerprint(), files)
}

// A link at the log's place, explicit or dangling, is never followed: not for appending (the
// target, any file on the node, would get the record; a dangling one would be created), not for
// reading. Refused in one line, exit 2, nothing written anywhere.
both_backends!(a_symlink_is_never_followed, Schema::Cinder, |db| {
    node02_scheduler_and_backup_down(&db);
    let dir = db.dir.path().join("logs");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o750)).unwrap();
    let victim = dir.join("victim");
    std::fs::write(&victim, "root's file\n").unwrap();
    let link = dir.join("audit.jsonl");
    for target in [victim.clone(), dir.join("dangling")] {
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let before = listing(&db, &dir);
        refused_in_one_line(&db, delete(&db, &link), "is a symbolic link", &dir, &before);
        refused_in_one_line(
            &db,
            restore(&db, &link),
            "is a symbolic link",
            &dir,
            &before,
        );
        assert!(!dir.join("dangling").exists());
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "root's file\n");
    }
    // The log's directory as a link (to a directory svcctl would accept itself) is refused too.
    let real = dir.join("real");
    std::fs::create_dir(&real).unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o750)).unwrap();
    let linked = dir.join("linked");
    std::os::unix::fs::symlink(&real, &linked).unwrap();
    let before = listing(&db, &dir);
    refused_in_one_line(
        &db,
        delete(&db, &linked.join("audit.jsonl")),
        "is a symbolic link",
        &dir,
        &before,
    );
});

// A FIFO hung restore and disable forever; a device fed restore zeros until memory ran out or
// swallowed the record. Both are refused at once, without being opened; /dev/null is --no-audit,
// with the same warning, and the write goes ahead without a record.
both_backends!(
    fifos_and_devices_are_refused_at_once,
    Schema::Cinder,
    |db| {
        node02_scheduler_and_backup_down(&db);
        let dir = db.dir.path().join("logs");
        std::fs::create_dir(&dir).unwrap();
        let fifo = dir.join("audit.jsonl");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let before = listing(&db, &dir);
        for args in [
            &["service", "restore", "--host", "node02", "--yes"][..],
            &[
                "service", "disable", "--host", "node02", "--reason", "x", "--yes",
            ],
        ] {
            // It used to block in open(2) forever; now it never opens a FIFO.
            let out = db.svcctl().audit_log(&fifo).run(args);
            refused_in_one_line(&db, out, "is a FIFO", &dir, &before);
        }
        for device in ["/dev/full", "/dev/zero", "/dev/urandom"] {
            let before = listing(&db, &dir);
            refused_in_one_line(
                &db,
                restore(&db, Path::new(device)),
                "is a character device",
                &dir,
                &before,
            );
            refused_in_one_line(
                &db,
                delete(&db, Path::new(device)),
                "is a character device",
                &dir,
                &before,
            );
        }
        let run = delete(&db, Path::new("/dev/null")).code(0);
        assert!(
            run.stderr
                .contains("warning: --audit-log /dev/null: no audit record"),
            "{}",
            run.stderr
        );
        assert_eq!(db.int("SELECT deleted FROM services WHERE id = 4"), 1);
    }
);

// A directory or log others can write lets them forge or replace records: refused, naming the
// mode, for writing and for reading. So are a log owned by another user and a log with a second
// name (a hard link).
both_backends!(loose_modes_and_owners_are_refused, Schema::Cinder, |db| {
    node02_scheduler_and_backup_down(&db);
    let dir = db.dir.path().join("logs");
    std::fs::create_dir(&dir).unwrap();
    let log = dir.join("audit.jsonl");
    let chmod =
        |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    for (mode, said) in [
        (0o777, "writable by everyone"),
        (0o770, "writable by its group"),
    ] {
        chmod(&dir, mode);
        let before = listing(&db, &dir);
        refused_in_one_line(&db, delete(&db, &log), said, &dir, &before);
        refused_in_one_line(&db, restore(&db, &log), said, &dir, &before);
    }
    chmod(&dir, 0o750);
    std::fs::write(&log, "").unwrap();
    for (mode, said) in [
        (0o666, "writable by everyone"),
        (0o660, "writable by its group"),
    ] {
        chmod(&log, mode);
        let before = listing(&db, &dir);
        refused_in_one_line(&db, delete(&db, &log), said, &dir, &before);
        refused_in_one_line(&db, restore(&db, &log), said, &dir, &before);
    }
    chmod(&log, 0o640);
    nix::unistd::chown(&log, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
    let before = listing(&db, &dir);
    refused_in_one_line(&db, delete(&db, &log), "owned by uid 65534", &dir, &before);
    nix::unistd::chown(&log, Some(nix::unistd::Uid::from_raw(0)), None).unwrap();
    std::fs::hard_link(&log, dir.join("other-name")).unwrap();
    let before = listing(&db, &dir);
    refused_in_one_line(&db, delete(&db, &log), "has 2 hard links", &dir, &before);
    std::fs::remove_file(dir.join("other-name")).unwrap();
    // As it should be: the write goes ahead, recorded.
    delete(&db, &log).code(0);
    // Its record and the line that confirms it.
    assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 2);
});

// The default log (/var/log/svcctl/audit.jsonl; moved into a test directory by the test seam):
// no directory above it may be a link or writable by everyone; a group-writable /var/log (as
// Ubuntu's 0775 root:syslog) is fine, and svcctl makes /var/log/svcctl 0750 and the log 0640.
both_backends!(
    the_default_logs_directories_are_checked,
    Schema::Cinder,
    |db| {
        node02_scheduler_and_backup_down(&db);
        let top = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let default = top.path().join("var/log/svcctl/audit.jsonl");
        let var_log = top.path().join("var/log");
        std::fs::create_dir_all(&var_log).unwrap();
        let run = |args: &[&str]| {
            db.svcctl()
                .env("SVCCTL_TEST_DEFAULT_AUDIT_LOG", default.to_str().unwrap())
                .run(args)
        };
        let del = [
            "service",
            "delete",
            "--host",
            "node02",
            "--binary",
            "cinder-backup",
            "--yes",
        ];
        let chmod = |p: &Path, m: u32| {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
        };
        chmod(&var_log, 0o777);
        let before = listing(&db, top.path());
        refused_in_one_line(
            &db,
            run(&del),
            "is writable by everyone",
            top.path(),
            &before,
        );
        chmod(&var_log, 0o775);
        // /var/log/svcctl planted as a link to a directory anyone can write.
        let planted = top.path().join("planted");
        std::fs::create_dir(&planted).unwrap();
        chmod(&planted, 0o777);
        std::os::unix::fs::symlink(&planted, var_log.join("svcctl")).unwrap();
        let before = listing(&db, top.path());
        refused_in_one_line(&db, run(&del), "is a symbolic link", top.path(), &before);
        std::fs::remove_file(var_log.join("svcctl")).unwrap();
        // /var itself a link.
        std::fs::rename(top.path().join("var"), top.path().join("realvar")).unwrap();
        std::os::unix::fs::symlink(top.path().join("realvar"), top.path().join("var")).unwrap();
        let before = listing(&db, top.path());
        refused_in_one_line(&db, run(&del), "is a symbolic link", top.path(), &before);
        std::fs::remove_file(top.path().join("var")).unwrap();
        std::fs::rename(top.path().join("realvar"), top.path().join("var")).unwrap();
        // Nothing to write makes nothing, not even the directory.
        run(&["service", "delete", "--host", "nodeX", "--yes"]).code(4);
        assert!(!var_log.join("svcctl").exists());
        // As packaged: the write goes ahead and creates what is missing with its modes.
        let ok = run(&del).code(0);
        assert!(ok.stderr.contains("created"), "{}", ok.stderr);
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&var_log.join("svcctl")), 0o750);
        assert_eq!(mode(&default), 0o640);
        assert_eq!(
            std::fs::read_to_string(&default).unwrap().lines().count(),
            2
        );
    }
);

// A log that does not exist holds nothing to undo: restore and --undo exit 4 in one line and
// create nothing (they used to create the log, and say so, for an exit 4).
both_backends!(
    reading_a_missing_log_creates_nothing,
    Schema::Cinder,
    |db| {
        node02_scheduler_and_backup_down(&db);
        let log = db.dir.path().join("never.jsonl");
        db.conf("node01", "");
        let before = listing(&db, db.dir.path());
        for args in [
            &["service", "restore", "--host", "node02", "--yes"][..],
            &["service", "restore", "--txn", "1-2", "--yes"],
            &["volume", "move-host", "--undo", "1-2", "--yes"],
        ] {
            let run = db.svcctl().audit_log(&log).run(args).code(4);
            assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.stderr);
            assert!(!log.exists(), "{args:?} created the log");
        }
        assert_eq!(listing(&db, db.dir.path()), before);
    }
);

// The log is made by the first record, never before: a run that writes nothing (nothing
// matched, refused, a dry run) leaves no file behind, and a write says what it made once. An
// explicit --audit-log in a directory that does not exist is a usage error (exit 2, as `tee`
// refuses one), in a dry run too: only the default log's directory is ever made.
both_backends!(a_log_is_made_by_its_first_record, Schema::Cinder, |db| {
    node02_scheduler_and_backup_down(&db);
    let log = db.dir.path().join("fresh.jsonl");
    db.conf("node01", "");
    let before = listing(&db, db.dir.path());
    let args = |host: &'static str, extra: &'static str| {
        let mut a = vec!["service", "delete", "--host", host, "--yes"];
        if !extra.is_empty() {
            a.push(extra);
        }
        a
    };
    for (host, extra, code) in [
        ("nodeX", "", 4),
        ("node01", "", 3),
        ("node02", "--dry-run", 0),
    ] {
        db.svcctl()
            .audit_log(&log)
            .run(&args(host, extra))
            .code(code);
        assert!(!log.exists(), "{host} {extra}: the log was made");
    }
    assert_eq!(listing(&db, db.dir.path()), before);
    let typo = db.dir.path().join("no-such-dir/audit.jsonl");
    for extra in ["", "--dry-run"] {
        let run = db.svcctl().audit_log(&typo).run(&args("node02", extra));
        refused_in_one_line(&db, run, "does not exist", db.dir.path(), &before);
    }
    let run = db.svcctl().audit_log(&log).run(&args("node02", "")).code(0);
    let said: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("for the audit log"))
        .collect();
    assert_eq!(said.len(), 1, "{}", run.stderr);
    assert!(said[0].starts_with("created ") && said[0].contains("fresh.jsonl"));
    // node02's two services, and the line that confirms their transaction.
    assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 3);
});

// A write whose record cannot be written whole (a full disk) changes nothing, and leaves the
// log exactly as it was: no half record for later restores to fail on or the next record to
// be glued to. On a real full filesystem: a tmpfs of 64 KiB, mounted here (root).
both_backends!(a_full_disk_leaves_the_log_as_it_was, Schema::Cinder, |db| {
    node02_scheduler_and_backup_down(&db);
    let Some(fs) = SmallFs::mount(&db.dir.path().join("small")) else {
        return;
    };
    let log = fs.path.join("audit.jsonl");
    // A first record, padded so the log ends near the end of a page: the next record crosses
    // into a page the full filesystem does not have.
    delete(&db, &log).code(0);
    let mut padded = std::fs::read(&log).unwrap();
    let line = |n: usize| {
        format!(
            "{{\"event\":\"padding\",\"time\":\"t\",\"txn\":\"p\",\"user\":\"u\",\
             \"hostname\":\"h\",\"note\":\"{}\"}}\n",
            "x".repeat(n)
        )
    };
    // 40 bytes short of a page boundary, so a record of several hundred bytes cannot fit.
    let end = (padded.len() + line(0).len()).div_ceil(4096) * 4096 - 40;
    padded.extend_from_slice(line(end - padded.len() - line(0).len()).as_bytes());
    assert_eq!(padded.len() % 4096, 4096 - 40);
    std::fs::write(&log, &padded).unwrap();
    fs.fill();
    let before_db = db.fingerprint();
    let run = db
        .svcctl()
        .audit_log(&log)
        .run(&["service", "delete", "--host", "node02", "--yes"])
        .code(1);
    assert!(
        run.error_line().contains("cannot write the audit log")
            && run.error_line().contains("left as it was"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read(&log).unwrap(),
        padded,
        "the log exactly as it was"
    );
    assert_eq!(db.fingerprint(), before_db, "the database unchanged");
    // Space again: the next write is recorded on a line of its own, and the log reads back.
    fs.unfill();
    db.svcctl()
        .audit_log(&log)
        .run(&["service", "delete", "--host", "node02", "--yes"])
        .code(0);
    let text = std::fs::read_to_string(&log).unwrap();
    for l in text.lines() {
        serde_json::from_str::<serde_json::Value>(l).unwrap();
    }
    restore(&db, &log).code(0);
});

/// A small tmpfs mounted for one test, and a file that fills it; unmounted when dropped. None
/// (with a SKIPPED line) where this machine lets no one mount one.
struct SmallFs {
    path: PathBuf,
}

impl SmallFs {
    fn mount(path: &Path) -> Option<SmallFs> {
        std::fs::create_dir(path).unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=64k,mode=0750", "tmpfs"])
            .arg(path)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("*** SKIPPED: cannot mount a tmpfs here (not root?): no full-disk test");
            return None;
        }
        Some(SmallFs {
            path: path.to_path_buf(),
        })
    }

    /// Fills every free byte.
    fn fill(&self) {
        use std::io::Write;
        let mut f = std::fs::File::create(self.path.join("filler")).unwrap();
        let chunk = [0u8; 4096];
        while f.write(&chunk).is_ok_and(|n| n > 0) {}
        while f.write(&chunk[..1]).is_ok_and(|n| n > 0) {}
    }

    fn unfill(&self) {
        std::fs::remove_file(self.path.join("filler")).unwrap();
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(&self.path)
            .status();
    }
}

// A record torn by a crash (a last line without its newline): a reader skips it with a warning
// naming the file and line, and the next writer ends it first, so its own record stands on a
// line of its own and reads back.
both_backends!(a_torn_line_is_ended_and_skipped, Schema::Cinder, |db| {
    node02_scheduler_and_backup_down(&db);
    let log = db.audit_path();
    delete(&db, &log).code(0);
    let whole = std::fs::read_to_string(&log).unwrap();
    let torn = format!("{whole}{}", &whole[..whole.len() / 2]);
    std::fs::write(&log, &torn).unwrap();
    // The deletion's record and its `committed` line, then half of the record again.
    let warned = format!("warning: the audit log {} line 3", log.display());
    let run = db
        .svcctl()
        .audit_log(&log)
        .run(&["service", "restore", "--host", "node02", "--dry-run"])
        .code(0);
    assert!(run.stderr.contains(&warned), "{}", run.stderr);
    // The next write ends the torn line and appends its own record whole.
    db.svcctl()
        .audit_log(&log)
        .run(&["service", "delete", "--host", "node02", "--yes"])
        .code(0);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.starts_with(&torn), "what was there stays");
    assert_eq!(text.lines().count(), 5, "{text}");
    for line in text.lines().skip(3) {
        serde_json::from_str::<serde_json::Value>(line).unwrap();
    }
    // The reader skips the ended torn line (still naming it) and restores the newest deletion.
    let run = restore(&db, &log).code(0);
    assert!(run.stderr.contains(&warned), "{}", run.stderr);
    assert_eq!(db.int("SELECT deleted FROM services WHERE id = 3"), 0);
});

// Reading is bounded: a line longer than a record could be is an error naming the file and
// line (exit 1), never a read until memory runs out.
both_backends!(
    an_endless_line_is_an_error_naming_it,
    Schema::Cinder,
    |db| {
        node02_scheduler_and_backup_down(&db);
        let log = db.audit_path();
        delete(&db, &log).code(0);
        // 2 GiB of zeros without a newline (a sparse file: no disk space), which a reader
        // without a bound takes into memory whole.
        let len = std::fs::metadata(&log).unwrap().len();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&log)
            .unwrap()
            .set_len(len + (2 << 30))
            .unwrap();
        let before = db.fingerprint();
        let run = restore(&db, &log).code(1);
        // The largest child this test binary has waited for: svcctl takes a few MiB, a stopped
        // MariaDB a few hundred.
        let peak = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
            .unwrap()
            .max_rss();
        assert!(
            peak < 1 << 20,
            "a child took {peak} KiB: the line was read whole"
        );
        assert!(
            run.error_line()
                .contains(&format!("{} line 3 is longer than", log.display())),
            "{}",
            run.stderr
        );
        assert_eq!(db.fingerprint(), before);
    }
);

// A directory above the default log that anyone may write but that has the sticky bit and is
// root's (as /tmp, where a clone of this repository may sit) protects what is in it: it is
// accepted when the directory below it is root's or svcctl's own user's, and refused as any
// world-writable directory when it is not root's (as when the tests run unprivileged).
both_backends!(
    a_sticky_directory_of_roots_above_the_default_log_is_fine,
    Schema::Cinder,
    |db| {
        node02_scheduler_and_backup_down(&db);
        let top = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let default = top.path().join("var/log/svcctl/audit.jsonl");
        let var = top.path().join("var");
        std::fs::create_dir_all(var.join("log")).unwrap();
        std::fs::set_permissions(&var, std::fs::Permissions::from_mode(0o1777)).unwrap();
        let run = db
            .svcctl()
            .env("SVCCTL_TEST_DEFAULT_AUDIT_LOG", default.to_str().unwrap())
            .run(&[
                "service",
                "delete",
                "--host",
                "node02",
                "--binary",
                "cinder-backup",
                "--yes",
            ]);
        if nix::unistd::geteuid().is_root() {
            run.code(0);
            assert_eq!(
                std::fs::read_to_string(&default).unwrap().lines().count(),
                2
            );
            // The directory below it someone else's (nobody's): they could swap it.
            nix::unistd::chown(&var.join("log"), Some(65534.into()), Some(65534.into())).unwrap();
            let run = db
                .svcctl()
                .env("SVCCTL_TEST_DEFAULT_AUDIT_LOG", default.to_str().unwrap())
                .run(&["service", "delete", "--host", "node02", "--yes"])
                .code(2);
            assert!(
                run.stderr.contains("is writable by everyone"),
                "{}",
                run.stderr
            );
            assert_eq!(
                std::fs::read_to_string(&default).unwrap().lines().count(),
                2
            );
        } else {
            let run = run.code(2);
            assert!(
                run.stderr.contains("is writable by everyone"),
                "{}",
                run.stderr
            );
        }
    }
);
