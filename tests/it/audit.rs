//! The audit log is mandatory for writes: checked appendable before anything changes, created
//! with restrictive modes, `--no-audit` the explicit opt-out, and each record naming its
//! database absolutely with the keys of `service list -f json`.

use std::os::unix::fs::PermissionsExt;

use crate::both_backends;
use crate::harness::fleet::node02_scheduler_and_backup_down;
use crate::harness::{Backend, PASSWORD, PASSWORD_ENCODED, Schema, Svcctl};

// A log that cannot be created stops every writing command before it changes anything: exit 1,
// naming the path and --audit-log. (The path runs through a regular file, so not even root can
// create it.)
both_backends!(
    unwritable_audit_log_refuses_before_any_change,
    Schema::Cinder,
    |db| {
        node02_scheduler_and_backup_down(&db);
        let before = db.fingerprint();
        let bad = "/proc/svcctl-audit.jsonl";
        for args in [
            &["service", "delete", "--host", "node02", "--yes"][..],
            &["service", "purge", "--older-than", "0", "--yes"],
            &[
                "cluster",
                "remove",
                "c",
                "--binary",
                "cinder-volume",
                "--yes",
            ],
        ] {
            let mut all = args.to_vec();
            all.extend(["--audit-log", bad]);
            let run = Svcctl::new()
                .config(&db.conf("node01", ""))
                .run(&all)
                .code(1);
            let line = run.error_line();
            assert!(
                line.contains(bad) && line.contains("--audit-log"),
                "{args:?}: {}",
                run.stderr
            );
            assert_eq!(db.fingerprint(), before);
        }
        // A restore acts on what the log holds: none there is nothing to restore (exit 4),
        // and reading it creates nothing.
        let run = Svcctl::new()
            .config(&db.conf("node01", ""))
            .run(&[
                "service",
                "restore",
                "--host",
                "node02",
                "--yes",
                "--audit-log",
                bad,
            ])
            .code(4);
        assert!(
            run.error_line().contains(bad) && run.error_line().contains("does not exist"),
            "{}",
            run.stderr
        );
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        // --dry-run writes nothing, so needs no log.
        Svcctl::new()
            .config(&db.conf("node01", ""))
            .run(&[
                "service",
                "delete",
                "--host",
                "node02",
                "--dry-run",
                "--audit-log",
                bad,
            ])
            .code(0);
    }
);

// --no-audit is the explicit opt-out: the deletion goes ahead without a record.
both_backends!(no_audit_opts_out, Schema::Cinder, |db| {
    node02_scheduler_and_backup_down(&db);
    let run = Svcctl::new()
        .config(&db.conf("node01", ""))
        .run(&[
            "service",
            "delete",
            "--host",
            "node02",
            "--yes",
            "--no-audit",
        ])
        .code(0);
    assert!(run.stderr.contains("--no-audit"), "said so: {}", run.stderr);
    assert_eq!(db.int("SELECT COUNT(*) FROM services WHERE deleted = 1"), 2);
    Svcctl::new()
        .config(&db.conf("node01", ""))
        .run(&[
            "service",
            "delete",
            "--host",
            "node01",
            "--no-audit",
            "--audit-log",
            "/tmp/x",
        ])
        .code(2);
});

// Missing directories are created 0750 and the log 0640, said once on stderr; records name the
// database absolutely and use service list's keys.
both_backends!(created_modes_and_record_keys, Schema::Cinder, |db| {
    node02_scheduler_and_backup_down(&db);
    // An explicit log's directory must exist (svcctl makes only the default's, see
    // audit_file.rs); the log itself is made 0640 by the first record, whatever the umask.
    let dir = db.dir.path().join("log");
    std::fs::create_dir(&dir).unwrap();
    let log = dir.join("audit.jsonl");
    // A relative SQLite path, run from the database's directory.
    let conf = match db.backend {
        Backend::Sqlite => {
            let p = db.dir.path().join("rel.conf");
            std::fs::write(
                &p,
                "[DEFAULT]\nhost = node01\n[database]\nconnection = sqlite:///cinder.sqlite\n\
                 max_retries = 1\n",
            )
            .unwrap();
            p
        }
        Backend::MySql => db.conf("node01", ""),
    };
    let run = |args: &[&str]| {
        let out = Svcctl::new()
            .config(&conf)
            .command(args)
            .current_dir(db.dir.path())
            .output()
            .unwrap();
        crate::harness::Run::from(out, args)
    };
    let log_s = log.display().to_string();
    let first = run(&[
        "service",
        "delete",
        "--host",
        "node02",
        "--binary",
        "cinder-backup",
        "--yes",
        "--audit-log",
        &log_s,
    ])
    .code(0);
    assert_eq!(
        first.stderr.matches("created").count(),
        1,
        "said once: {}",
        first.stderr
    );
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&log), 0o640);
    let second = run(&[
        "service",
        "delete",
        "--host",
        "node02",
        "--yes",
        "--audit-log",
        &log_s,
    ])
    .code(0);
    assert!(!second.stderr.contains("created"), "{}", second.stderr);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains(PASSWORD) && !text.contains(PASSWORD_ENCODED));
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Each deletion: its row, then the line that confirms it committed.
    assert_eq!(lines.len(), 4);
    for (row, end) in [(&lines[0], &lines[1]), (&lines[2], &lines[3])] {
        assert_eq!(end["event"], "committed", "{end}");
        assert_eq!(end["action"], "committed", "{end}");
        assert_eq!(end["txn"], row["txn"], "{end}");
        assert_eq!(end["database"], row["database"], "{end}");
        assert!(end.get("service").is_none(), "{end}");
    }
    let db_name = lines[0]["database"].as_str().unwrap();
    match db.backend {
        Backend::Sqlite => assert_eq!(
            db_name,
            format!("sqlite:///{}", db.sqlite_path().display()),
            "the SQLite path made absolute"
        ),
        Backend::MySql => {
            assert!(
                db_name.starts_with("mysql+pymysql://svcctl_test:***@127.0.0.1:"),
                "{db_name}"
            )
        }
    }
    let svc = &lines[0]["service"];
    assert_eq!(lines[0]["action"], "delete");
    assert_eq!(svc["zone"], "nova");
    assert_eq!(svc["status"], "enabled");
    assert_eq!(svc["overridden"], serde_json::json!([]));
    assert!(svc.get("availability_zone").is_none(), "{svc}");
});
