//! `svcctl service restore`: putting back, from the audit log, exactly the rows a deletion
//! soft-deleted, and refusing what is no longer as svcctl left it. SQLite and MariaDB.

use serde_json::Value;

use crate::both_backends;
use crate::harness::fleet::{ids, node01_up_node02_down};
use crate::harness::{Backend, Schema, TestDb};

/// The services as `service list -f json --include-deleted` shows them.
fn listing(db: &TestDb) -> Value {
    db.svcctl()
        .run(&["service", "list", "--include-deleted", "-f", "json"])
        .code(0)
        .json()
}

/// node01 up; node02's scheduler and backup down, in cluster `c2` with its cluster row.
fn setup(db: &TestDb) {
    node01_up_node02_down(db);
    db.exec(
        "UPDATE services SET cluster_name = 'c2', disabled = 1, disabled_reason = 'broken' \
         WHERE id = 3",
    );
    // Timestamps in Cinder's format on this backend (SQLite: with microseconds).
    let frac = match db.backend {
        Backend::MySql => "",
        Backend::Sqlite => ".000000",
    };
    db.exec(&format!(
        "INSERT INTO clusters (created_at, updated_at, deleted, id, name, `binary`, disabled, \
         race_preventer, frozen) VALUES ('2026-01-01 00:00:00{frac}', \
         '2026-01-02 00:00:00{frac}', 0, 7, 'c2', 'cinder-scheduler', 0, 0, 0)"
    ));
}

/// `setup`, then `service delete --host HOST`; returns the deletion's txn.
fn setup_and_delete(db: &TestDb, host: &str) -> String {
    setup(db);
    db.audited()
        .run(&["service", "delete", "--host", host, "--yes"])
        .code(0);
    txns(db, "delete")[0].clone()
}

fn txns(db: &TestDb, action: &str) -> Vec<String> {
    let mut out: Vec<String> = db
        .audit_lines()
        .iter()
        .filter(|l| l["action"] == action)
        .map(|l| l["txn"].as_str().unwrap().to_string())
        .collect();
    out.dedup();
    out
}

// The demo's round trip: delete node02, restore it, and the table is as before, row for row,
// the cluster included; a second restore has nothing left (4, or 0 with --missing-ok); the
// restored rows are live, so a Cinder-style purge cannot take them.
both_backends!(
    restore_brings_back_exactly_the_deleted_rows,
    Schema::Cinder,
    |db| {
        setup(&db);
        let before = listing(&db);
        let before_clusters = db.rows(&format!(
            "SELECT {}, {}, {}, {}, {} FROM clusters ORDER BY id",
            db.text("id"),
            db.text("deleted"),
            db.text("deleted_at"),
            db.text("updated_at"),
            db.text("race_preventer")
        ));
        let v = db
            .audited()
            .run(&[
                "service", "delete", "--host", "node02", "--yes", "-f", "json",
            ])
            .code(0)
            .json();
        assert_eq!(ids(&v, "deleted"), [4, 3]);
        assert_eq!(v["deleted_clusters"][0]["name"], "c2");
        assert_ne!(listing(&db), before);
        // Also present: an unrelated later deletion of another host, which must stay deleted.
        db.audited()
            .run(&["service", "delete", "--host", "node02@ceph", "--yes"])
            .code(0);
        let v = db
            .audited()
            .run(&[
                "service", "restore", "--host", "node02", "--yes", "-f", "json",
            ])
            .code(0)
            .json();
        assert_eq!(v["dry_run"], false);
        let mut restored = ids(&v, "restored");
        restored.sort();
        assert_eq!(restored, [3, 4]);
        assert_eq!(v["refused"], serde_json::json!([]));
        assert_eq!(v["restored_clusters"][0]["name"], "c2");
        let after = listing(&db);
        let without_6 = |l: &Value| -> Vec<Value> {
            l.as_array()
                .unwrap()
                .iter()
                .filter(|r| r["id"] != 6)
                .cloned()
                .collect()
        };
        assert_eq!(
            without_6(&after),
            without_6(&before),
            "every restored row as before"
        );
        assert_eq!(
            db.int("SELECT deleted FROM services WHERE id = 6"),
            1,
            "a row another deletion took stays deleted"
        );
        let clusters_after = db.rows(&format!(
            "SELECT {}, {}, {}, {}, {} FROM clusters ORDER BY id",
            db.text("id"),
            db.text("deleted"),
            db.text("deleted_at"),
            db.text("updated_at"),
            db.text("race_preventer")
        ));
        assert_eq!(clusters_after, before_clusters, "the cluster as before");
        // Audited: one restore line per service and one for the cluster, naming the deletion.
        let deletion = txns(&db, "delete")[0].clone();
        let lines: Vec<Value> = db
            .audit_lines()
            .into_iter()
            .filter(|l| l["action"] == "restore")
            .collect();
        assert_eq!(lines.len(), 3, "{lines:?}");
        for l in &lines {
            assert_eq!(l["restores"], deletion.as_str());
        }
        let svc = lines.iter().find(|l| l["service"]["id"] == 3).unwrap();
        assert_eq!(
            svc["service"]["deleted"], true,
            "the row as it was before the restore"
        );
        assert_eq!(svc["service"]["zone"], "nova");
        assert_eq!(svc["service"]["status"], "disabled");
        // Again: the newest deletion of node02 was restored already.
        let before_again = db.fingerprint();
        let again = db
            .audited()
            .run(&["service", "restore", "--host", "node02", "--yes"])
            .code(4);
        assert!(
            again.error_line().contains("already restored"),
            "{}",
            again.stderr
        );
        db.audited()
            .run(&[
                "service",
                "restore",
                "--host",
                "node02",
                "--yes",
                "--missing-ok",
            ])
            .code(0);
        assert_eq!(db.fingerprint(), before_again);
        // Cinder's own purge (deleted rows older than now) cannot take live rows.
        db.exec(&format!(
            "DELETE FROM services WHERE deleted = 1 AND deleted_at < '{}'",
            db.ago(-5)
        ));
        assert_eq!(
            db.int("SELECT COUNT(*) FROM services WHERE id IN (3, 4) AND deleted = 0"),
            2
        );
    }
);

// The service came back on its own and made a new row: restoring the old one would leave two
// live rows for one service. Refused, exit 3, naming the row; nothing changes.
both_backends!(
    restore_refused_after_service_recreated_its_row,
    Schema::Cinder,
    |db| {
        setup_and_delete(&db, "node02");
        db.service(30, "node02", "cinder-scheduler", 1);
        let before = db.fingerprint();
        let lines_before = db.audit_lines().len();
        let run = db
            .audited()
            .run(&[
                "service", "restore", "--host", "node02", "--yes", "-f", "json",
            ])
            .code(3);
        let v = run.json();
        assert_eq!(ids(&v, "refused"), [3]);
        assert!(
            v["refused"][0]["reasons"]
                .to_string()
                .contains("live row (id 30)"),
            "{v}"
        );
        assert!(
            run.stderr.contains("cinder-scheduler node02 (id 3)"),
            "{}",
            run.stderr
        );
        assert_eq!(ids(&v, "restored"), Vec::<i64>::new());
        assert_eq!(db.fingerprint(), before);
        assert_eq!(db.audit_lines().len(), lines_before);
    }
);

// A row changed since svcctl deleted it (deleted_at rewritten) or purged is refused, by --txn.
both_backends!(
    restore_refuses_changed_and_purged_rows,
    Schema::Cinder,
    |db| {
        let txn = setup_and_delete(&db, "node02@*");
        db.exec("UPDATE services SET deleted_at = '2020-01-01 00:00:00' WHERE id = 5");
        db.exec("DELETE FROM services WHERE id = 6");
        let before = db.fingerprint();
        let run = db
            .audited()
            .run(&["service", "restore", "--txn", &txn, "--yes", "-f", "json"])
            .code(3);
        let v = run.json();
        let mut refused = ids(&v, "refused");
        refused.sort();
        assert_eq!(refused, [5, 6]);
        let reasons = v["refused"].to_string();
        assert!(reasons.contains("purged"), "{reasons}");
        assert!(reasons.contains("changed since"), "{reasons}");
        assert!(
            run.error_line().contains("nothing was changed"),
            "{}",
            run.stderr
        );
        assert_eq!(db.fingerprint(), before);
    }
);

// --txn picks one deletion; --dry-run shows it and changes nothing; --binary narrows --host.
both_backends!(restore_by_txn_binary_and_dry_run, Schema::Cinder, |db| {
    let first = setup_and_delete(&db, "node02@*");
    db.audited()
        .run(&["service", "delete", "--host", "node02", "--yes"])
        .code(0);
    let before = db.fingerprint();
    let dry = db
        .audited()
        .run(&[
            "service",
            "restore",
            "--txn",
            &first,
            "--dry-run",
            "-f",
            "json",
        ])
        .code(0)
        .json();
    assert_eq!(dry["dry_run"], true);
    let mut would = ids(&dry, "would_restore");
    would.sort();
    assert_eq!(would, [5, 6]);
    assert_eq!(db.fingerprint(), before);
    // No --yes and no terminal: exit 2, nothing changed.
    db.audited()
        .run(&["service", "restore", "--txn", &first])
        .code(2);
    assert_eq!(db.fingerprint(), before);
    db.audited()
        .run(&["service", "restore", "--txn", &first, "--yes"])
        .code(0);
    assert_eq!(db.int("SELECT COUNT(*) FROM services WHERE deleted = 0"), 4);
    let v = db
        .audited()
        .run(&[
            "service",
            "restore",
            "--host",
            "node02",
            "--binary",
            "cinder-backup",
            "--yes",
            "-f",
            "json",
        ])
        .code(0)
        .json();
    assert_eq!(ids(&v, "restored"), [4]);
    assert_eq!(db.int("SELECT deleted FROM services WHERE id = 3"), 1);
    // Usage: --txn and --host are exclusive; one of them is needed.
    db.audited().run(&["service", "restore", "--yes"]).code(2);
    db.audited()
        .run(&[
            "service", "restore", "--txn", &first, "--host", "x", "--yes",
        ])
        .code(2);
    // A transaction the log does not hold: nothing matched.
    let none = db
        .audited()
        .run(&["service", "restore", "--txn", "nope", "--yes"])
        .code(4);
    assert!(none.error_line().contains("nope"), "{}", none.stderr);
});

// A transaction that rolled back deleted nothing and is never restored; a hand-edited or
// truncated line is a clear error naming the file and line, never a panic.
both_backends!(rolled_back_and_damaged_audit_lines, Schema::Cinder, |db| {
    setup_and_delete(&db, "node02");
    let good = std::fs::read_to_string(db.audit_path()).unwrap();
    let txn = txns(&db, "delete")[0].clone();
    // Rewrite history: the same transaction, marked rolled back instead of committed, as
    // svcctl's runner marks it (after the record, by the same user on the same host and
    // database).
    let first: Value = serde_json::from_str(good.lines().next().unwrap()).unwrap();
    let unconfirmed: String = good
        .lines()
        .filter(|l| !l.contains("\"event\":\"committed\""))
        .map(|l| format!("{l}\n"))
        .collect();
    let rolled = format!(
        "{unconfirmed}{}\n",
        serde_json::json!({"action": "rolled_back", "event": "rolled_back", "txn": txn,
            "time": first["time"], "user": first["user"], "hostname": first["hostname"],
            "database": first["database"], "db_identity": first["db_identity"],
            "error": "test"})
    );
    std::fs::write(db.audit_path(), &rolled).unwrap();
    let before = db.fingerprint();
    let run = db
        .audited()
        .run(&["service", "restore", "--txn", &txn, "--yes"])
        .code(4);
    assert!(run.error_line().contains("rolled back"), "{}", run.stderr);
    let run = db
        .audited()
        .run(&["service", "restore", "--host", "node02", "--yes"])
        .code(4);
    assert!(run.error_line().contains("node02"), "{}", run.stderr);
    assert_eq!(db.fingerprint(), before);
    // A truncated last line (a write that did not finish) is skipped with a warning naming
    // the file and line; the records before it stand.
    let torn = format!("{good}{}", &good[..good.len() / 3]);
    std::fs::write(db.audit_path(), &torn).unwrap();
    // The torn line is the file's last.
    let n = torn.lines().count();
    let run = db
        .audited()
        .run(&["service", "restore", "--txn", &txn, "--dry-run"])
        .code(0);
    assert!(
        run.stderr.contains(&format!(
            "warning: the audit log {} line {n} has no newline at its end",
            db.audit_path().display()
        )),
        "{}",
        run.stderr
    );
    // A line whose service id was edited into text, and a line of zeros (as /dev/full
    // gives): exit 1, naming the file and line.
    for damaged in [
        good.replacen("\"id\":3", "\"id\":\"three\"", 1),
        format!("{good}\0\0\0\n"),
    ] {
        std::fs::write(db.audit_path(), &damaged).unwrap();
        let run = db
            .audited()
            .run(&["service", "restore", "--txn", &txn, "--yes"])
            .code(1);
        let line = run.error_line();
        assert!(
            line.starts_with("svcctl: ") && line.contains(&db.audit_path().display().to_string()),
            "{}",
            run.stderr
        );
        assert!(line.contains("line "), "{line}");
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        assert_eq!(db.fingerprint(), before);
    }
});

// A restore only ever acts on deletions of the database it is pointed at: a record of another
// database (its db_identity) is refused by --txn, naming both (exit 2), and not found by
// --host (exit 4). (tests/it/forged_records.rs has the rest.)
both_backends!(restore_ignores_other_databases, Schema::Cinder, |db| {
    let txn = setup_and_delete(&db, "node02");
    let text = std::fs::read_to_string(db.audit_path()).unwrap();
    let elsewhere: String = text
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            v["database"] = "sqlite:////somewhere/else.sqlite".into();
            v["db_identity"] = serde_json::json!({"backend": "sqlite",
                "path": "/somewhere/else.sqlite", "device": 1, "inode": 2});
            format!("{v}\n")
        })
        .collect();
    std::fs::write(db.audit_path(), elsewhere).unwrap();
    let before = db.fingerprint();
    let run = db
        .audited()
        .run(&["service", "restore", "--txn", &txn, "--yes"])
        .code(2);
    assert!(
        run.error_line().contains("/somewhere/else.sqlite")
            && run.error_line().contains("another database's record"),
        "{}",
        run.stderr
    );
    db.audited()
        .run(&["service", "restore", "--host", "node02", "--yes"])
        .code(4);
    assert_eq!(db.fingerprint(), before);
});

// Between the plan and the write, the service comes back with a new row, or someone rewrites
// the deleted row: the UPDATE's WHERE clause sees it, the whole restore rolls back (exit 3).
both_backends!(restore_write_repeats_the_checks, Schema::Cinder, |db| {
    setup_and_delete(&db, "node02");
    let log = db.audit_path().display().to_string();
    for (i, change) in [
        "INSERT INTO services (created_at, updated_at, deleted, id, host, `binary`, topic, \
         report_count, disabled, availability_zone, uuid) VALUES (NULL, NULL, 0, 40, 'node02', \
         'cinder-backup', 'cinder-backup', 1, 0, 'nova', 'uuid-40')",
        "UPDATE services SET deleted_at = '2020-01-01 00:00:00' WHERE id = 3",
    ]
    .iter()
    .enumerate()
    {
        let before = db.fingerprint();
        let lines = db.audit_lines().len();
        let pause = db.dir.path().join(format!("pause-{i}"));
        let child = db.svcctl().paused(
            "SVCCTL_TEST_PAUSE_FILE",
            &pause,
            &[
                "service",
                "restore",
                "--host",
                "node02",
                "--yes",
                "--audit-log",
                &log,
            ],
        );
        db.exec(change);
        let after_change = db.fingerprint();
        assert_ne!(after_change, before);
        let run = child.resume().code(3);
        assert!(
            run.error_line().contains("changed between plan and write"),
            "{}",
            run.stderr
        );
        assert_eq!(db.fingerprint(), after_change, "nothing restored");
        assert_eq!(
            db.audit_lines().len(),
            lines,
            "no line for a restore that did not happen"
        );
        db.exec("DELETE FROM services WHERE id = 40");
        db.exec(
            "UPDATE services SET deleted_at = (SELECT deleted_at FROM services WHERE id = 4) \
             WHERE id = 3",
        );
    }
});
