//! Stale-service sweeps for cron: `service list/delete --down-for DURATION`, `--exclude`, and
//! `--skip-refused` (delete what passes, report the rest). SQLite and MariaDB.

use crate::both_backends;
use crate::harness::fleet::{ids, live_ids};
use crate::harness::{Schema, TestDb};

const DAY: i64 = 86400;

/// 1 up; 2 down 8 days; 3 down 2 days; 4 down 10 days but owning a volume; 5 down 9 days.
fn fleet(db: &TestDb) {
    db.service(1, "node01", "cinder-scheduler", 5);
    db.service(2, "node02", "cinder-scheduler", 8 * DAY);
    db.service(3, "node03", "cinder-scheduler", 2 * DAY);
    db.service(4, "node04@lvm", "cinder-volume", 10 * DAY);
    db.service(5, "node05", "cinder-backup", 9 * DAY);
    db.volume("v1", "node04@lvm#pool");
}

// The cron sweep: everything down for a week that nothing uses goes; a service down for less
// than the duration, an up one and one in use stay; the refusal is reported, exit 0.
both_backends!(
    sweep_deletes_only_services_down_long_enough,
    Schema::Cinder,
    |db| {
        fleet(&db);
        let run = db
            .audited()
            .run(&[
                "service",
                "delete",
                "--down-for",
                "7d",
                "--skip-refused",
                "--exclude",
                "node05",
                "--yes",
                "-f",
                "json",
            ])
            .code(0);
        let v = run.json();
        assert_eq!(ids(&v, "deleted"), [2]);
        assert_eq!(ids(&v, "refused"), [4]);
        assert!(
            v["refused"][0]["reasons"].to_string().contains("1 volume"),
            "{v}"
        );
        assert_eq!(live_ids(&db), [1, 3, 4, 5]);
        assert!(
            run.stderr
                .contains("refused cinder-volume node04@lvm (id 4)"),
            "the refusal on stderr, for the cron mail:\n{}",
            run.stderr
        );
        let summary = run.stderr.lines().last().unwrap();
        assert!(
            summary.contains("deleted 1 service") && summary.contains("refused 1"),
            "one summary line: {summary}"
        );
        assert_eq!(db.audit_rows().len(), 1);
        // Again: node05 (not excluded now) goes; 4 is still refused.
        let v = db
            .audited()
            .run(&[
                "service",
                "delete",
                "--down-for",
                "7d",
                "--skip-refused",
                "--yes",
                "-f",
                "json",
            ])
            .code(0)
            .json();
        assert_eq!(ids(&v, "deleted"), [5]);
        // Nothing passes any more: exit 4, nothing changed.
        let before = db.fingerprint();
        let v = db
            .audited()
            .run(&[
                "service",
                "delete",
                "--down-for",
                "7d",
                "--skip-refused",
                "--yes",
                "-f",
                "json",
            ])
            .code(4)
            .json();
        assert_eq!(ids(&v, "refused"), [4]);
        assert_eq!(db.fingerprint(), before);
    }
);

// Without --skip-refused one refusal refuses the whole sweep: exit 3, nothing changed.
both_backends!(
    sweep_without_skip_refused_is_all_or_nothing,
    Schema::Cinder,
    |db| {
        fleet(&db);
        let before = db.fingerprint();
        let run = db
            .audited()
            .run(&["service", "delete", "--down-for", "7d", "--yes"])
            .code(3);
        assert!(run.stderr.contains("--skip-refused"), "{}", run.stderr);
        assert_eq!(db.fingerprint(), before);
        // --skip-refused also works for a --host delete.
        let v = db
            .audited()
            .run(&[
                "service",
                "delete",
                "--host",
                "node0?*",
                "--skip-refused",
                "--yes",
                "-f",
                "json",
            ])
            .code(0)
            .json();
        let mut deleted = ids(&v, "deleted");
        deleted.sort();
        assert_eq!(deleted, [2, 3, 5]);
        let mut refused = ids(&v, "refused");
        refused.sort();
        assert_eq!(refused, [1, 4]);
    }
);

// `service list --down-for` selects the same rows, with --host, --binary and --exclude.
both_backends!(list_down_for_with_filters, Schema::Cinder, |db| {
    fleet(&db);
    let list = |extra: &[&str]| {
        let mut args = vec!["service", "list", "-f", "json", "--down-for", "7d"];
        args.extend_from_slice(extra);
        let v = db.svcctl().run(&args).code(0).json();
        let mut out: Vec<i64> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect();
        out.sort();
        out
    };
    assert_eq!(list(&[]), [2, 4, 5]);
    assert_eq!(list(&["--exclude", "node05", "--exclude", "node04@*"]), [2]);
    assert_eq!(
        list(&["--host", "node0*", "--binary", "cinder-scheduler"]),
        [2]
    );
    let v = db
        .svcctl()
        .run(&["service", "list", "-f", "json", "--down-for", "36h"])
        .code(0)
        .json();
    assert_eq!(v.as_array().unwrap().len(), 4);
    let v = db
        .svcctl()
        .run(&["service", "list", "-f", "json", "--down-for", "90m"])
        .code(0)
        .json();
    assert_eq!(v.as_array().unwrap().len(), 4);
});

// One duration syntax for every flag: bare seconds and units select the same rows
// (--down-for 604800 is 7d, 2160 minutes are 36h), and --timeout, --wait and --kill-timeout take
// units and bare seconds alike (--timeout a fraction too).
both_backends!(durations_take_one_syntax, Schema::Cinder, |db| {
    fleet(&db);
    let listed = |args: &[&str]| {
        let mut all = vec!["service", "list", "-f", "json"];
        all.extend_from_slice(args);
        let v = db.svcctl().run(&all).code(0).json();
        let mut out: Vec<i64> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect();
        out.sort();
        out
    };
    for (a, b) in [
        ("7d", "604800"),
        ("1w", "7d"),
        ("36h", "2160m"),
        ("1.5d", "36h"),
    ] {
        assert_eq!(
            listed(&["--down-for", a]),
            listed(&["--down-for", b]),
            "{a} vs {b}"
        );
    }
    assert_eq!(listed(&["--down-for", "604800"]), [2, 4, 5]);
    for timeout in ["30", "30s", "0.5m", "2.5", "1h"] {
        assert_eq!(
            listed(&["--timeout", timeout]),
            [1, 2, 3, 4, 5],
            "--timeout {timeout}"
        );
    }
    // --wait and --kill-timeout, in a dry run of a backend with nothing up.
    let before = db.fingerprint();
    for (wait, kill) in [("0", "30"), ("5m", "2m"), ("1h", "0s"), ("300s", "45")] {
        let v = db
            .svcctl()
            .run(&[
                "backend",
                "cleanup",
                "lvm",
                "--dry-run",
                "--no-kill",
                "--wait",
                wait,
                "--kill-timeout",
                kill,
                "-f",
                "json",
            ])
            .code(3)
            .json();
        assert_eq!(
            ids(&v, "refused"),
            [4],
            "--wait {wait} --kill-timeout {kill}: {v}"
        );
    }
    assert_eq!(db.fingerprint(), before);
});

// Bad durations and a sweep with no terminal and no --yes are usage errors; nothing changes.
both_backends!(sweep_usage_errors, Schema::Cinder, |db| {
    fleet(&db);
    let before = db.fingerprint();
    for bad in ["30s", "59s", "7x", "d", "-7d", "0d", "99999999d"] {
        let run = db
            .audited()
            .run(&["service", "delete", "--down-for", bad, "--yes"])
            .code(2);
        assert!(run.stderr.contains("--down-for"), "{bad}: {}", run.stderr);
    }
    let short = db
        .svcctl()
        .run(&["service", "list", "--down-for", "30s"])
        .code(2);
    assert!(
        short.error_line().contains("service_down_time"),
        "{}",
        short.stderr
    );
    // Without --host the sweep covers the whole cloud: it needs --yes or a terminal.
    let no_tty = db
        .audited()
        .run(&["service", "delete", "--down-for", "7d", "--skip-refused"])
        .code(2);
    assert!(no_tty.error_line().contains("--yes"), "{}", no_tty.stderr);
    // Neither --host nor --down-for: a usage error, not a cloud-wide delete.
    db.audited().run(&["service", "delete", "--yes"]).code(2);
    assert_eq!(db.fingerprint(), before);
});

// A service that heartbeats between the plan and the write, still down by service_down_time
// but no longer down for the sweep's duration, is kept by the write's WHERE clause.
both_backends!(sweep_write_holds_its_own_duration, Schema::Cinder, |db| {
    fleet(&db);
    let pause = db.dir.path().join("pause");
    let child = db.audited().paused(
        "SVCCTL_TEST_PAUSE_FILE",
        &pause,
        &[
            "service",
            "delete",
            "--down-for",
            "7d",
            "--host",
            "node02",
            "--yes",
            "-f",
            "json",
        ],
    );
    db.exec(&format!(
        "UPDATE services SET updated_at = '{}' WHERE id = 2",
        db.ago(DAY)
    ));
    let run = child.resume().code(3);
    let v = run.json();
    assert_eq!(ids(&v, "deleted"), Vec::<i64>::new());
    assert_eq!(live_ids(&db), [1, 2, 3, 4, 5]);
});

// A quiet night: the cron line with nothing down long enough exits 0 (cron mails nothing) and
// says so plainly; without --missing-ok it is exit 4, never with a word on spelling, which
// belongs to a name the operator typed (a host that matches nothing).
both_backends!(quiet_night_and_spelling, Schema::Cinder, |db| {
    db.service(1, "node01", "cinder-scheduler", 5);
    db.service(2, "node02", "cinder-scheduler", 2 * DAY);
    let before = db.fingerprint();
    let cron = [
        "service",
        "delete",
        "--down-for",
        "7d",
        "--skip-refused",
        "--missing-ok",
        "--yes",
    ];
    let run = db.audited().run(&cron).code(0);
    assert!(run.stderr.contains("nothing to do"), "{}", run.stderr);
    assert!(!run.stderr.contains("spelling"), "{}", run.stderr);
    let run = db.audited().run(&cron[..5]).code(4);
    assert!(!run.error_line().contains("spelling"), "{}", run.stderr);
    // A log with no record of node02 (nothing above wrote one, so none was made).
    assert!(!db.audit_path().exists());
    std::fs::write(db.audit_path(), "").unwrap();
    std::fs::set_permissions(
        db.audit_path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o640),
    )
    .unwrap();
    for quiet in [
        &["service", "purge", "--older-than", "0", "--yes"][..],
        &["service", "restore", "--host", "node02", "--yes"],
    ] {
        let run = db.audited().run(quiet).code(4);
        let says_spelling = run.error_line().contains("spelling");
        // A restore of a host is a name typed; a purge is not.
        assert_eq!(
            says_spelling,
            quiet[1] == "restore",
            "{quiet:?}: {}",
            run.stderr
        );
    }
    let run = db
        .audited()
        .run(&["service", "delete", "--host", "node09", "--yes"])
        .code(4);
    assert!(
        run.error_line().contains("check the spelling"),
        "{}",
        run.stderr
    );
    assert_eq!(db.fingerprint(), before);
});
