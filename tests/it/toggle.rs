//! `svcctl service disable` / `enable` on Cinder 29's schema, SQLite and MariaDB: Cinder's
//! `service_update` row for row (disabled, disabled_reason, modified_at; updated_at kept),
//! already-disabled rows reported, nothing matched, bad reasons, the dry run, and rows that
//! change between the plan and the write.

use crate::both_backends;
use crate::harness::fleet::ids;
use crate::harness::{Schema, TestDb};

/// A dead node02 (scheduler, volume) beside a live node01.
fn nodes(db: &TestDb) {
    db.service(1, "node01", "cinder-scheduler", 5);
    db.service(2, "node02", "cinder-scheduler", 600);
    db.service(3, "node02@lvm", "cinder-volume", 600);
}

/// `service disable --host node02@lvm --reason REASON EXTRA...`, expecting exit `code`.
fn disable_lvm(db: &TestDb, reason: &str, extra: &[&str], code: i32) -> crate::harness::Run {
    let mut args = vec![
        "service",
        "disable",
        "--host",
        "node02@lvm",
        "--reason",
        reason,
    ];
    args.extend_from_slice(extra);
    db.audited().run(&args).code(code)
}

// Disable then enable, exactly as Cinder's service_update: updated_at (the heartbeat) never
// moves, modified_at is stamped, the reason is set and then cleared; every change audited.
both_backends!(disable_and_enable_like_cinder, Schema::Cinder, |db| {
    nodes(&db);
    let heartbeat = db.service_row(3).updated_at;
    let v = db
        .audited()
        .run(&[
            "service", "disable", "--host", "node02*", "--reason", "RMA 4711", "--yes", "-f",
            "json",
        ])
        .code(0)
        .json();
    assert_eq!(ids(&v, "changed"), [2, 3]);
    assert_eq!(v["changed"][0]["status"], "enabled", "as it was before");
    for id in [2, 3] {
        let s = db.service_row(id);
        assert_eq!(s.disabled.as_deref(), Some("1"));
        assert_eq!(s.disabled_reason.as_deref(), Some("RMA 4711"));
        assert!(s.modified_at.is_some(), "modified_at stamped");
    }
    assert_eq!(
        db.service_row(3).updated_at,
        heartbeat,
        "updated_at untouched: still down"
    );
    assert_eq!(
        db.service_row(1).disabled.as_deref(),
        Some("0"),
        "node01 untouched"
    );
    let audit = db.audit_rows();
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[0]["event"], "service_disabled");
    assert_eq!(
        audit[0]["service"]["status"], "enabled",
        "the row as it was"
    );
    assert_eq!(audit[0]["disabled_reason"], "RMA 4711");

    // Again: already disabled, reported and fine, nothing rewritten.
    let again = db
        .audited()
        .run(&[
            "service", "disable", "--host", "node02", "--reason", "other", "--yes", "-f", "json",
        ])
        .code(0)
        .json();
    assert_eq!(ids(&again, "changed"), Vec::<i64>::new());
    assert_eq!(ids(&again, "unchanged"), [2]);
    assert_eq!(
        db.service_row(2).disabled_reason.as_deref(),
        Some("RMA 4711")
    );
    assert_eq!(db.audit_rows().len(), 2);

    let v = db
        .audited()
        .run(&[
            "service",
            "enable",
            "--host",
            "node02@lvm",
            "--yes",
            "-f",
            "json",
        ])
        .code(0)
        .json();
    assert_eq!(ids(&v, "changed"), [3]);
    let s = db.service_row(3);
    assert_eq!(s.disabled.as_deref(), Some("0"));
    assert_eq!(s.disabled_reason, None, "enable clears the reason");
    assert_eq!(s.updated_at, heartbeat);
    assert_eq!(db.audit_rows()[2]["event"], "service_enabled");
    // The listing shows it as Cinder's would.
    let list = db
        .svcctl()
        .run(&["service", "list", "--host", "node02", "-f", "json"])
        .code(0)
        .json();
    assert_eq!(list[0]["status"], "disabled");
    assert_eq!(list[0]["disabled_reason"], "RMA 4711");
});

// Nothing matched: 4 (0 with --missing-ok); a reason Cinder would not keep: 2; no terminal and
// no --yes: 2; a dry run: 0. None of them changes anything.
both_backends!(refusals_change_nothing, Schema::Cinder, |db| {
    nodes(&db);
    let before = db.fingerprint();
    let disabled = || db.service_row(3);
    let was = disabled();
    let run = db
        .audited()
        .run(&[
            "service", "disable", "--host", "node09", "--reason", "x", "--yes",
        ])
        .code(4);
    assert!(
        run.error_line().contains("no live service on host node09"),
        "{}",
        run.stderr
    );
    db.audited()
        .run(&[
            "service",
            "enable",
            "--host",
            "node09",
            "--yes",
            "--missing-ok",
            "-f",
            "json",
        ])
        .code(0)
        .json();
    let long = "x".repeat(256);
    let run = disable_lvm(&db, &long, &["--yes"], 2);
    assert!(run.error_line().contains("at most 255"), "{}", run.stderr);
    disable_lvm(&db, "x", &[], 2);
    let v = disable_lvm(&db, "x", &["--dry-run", "-f", "json"], 0).json();
    assert_eq!(v["dry_run"], true);
    assert_eq!(ids(&v, "changed"), [3]);
    assert_eq!(disabled(), was);
    assert_eq!(db.fingerprint(), before);
    assert!(db.audit_lines().is_empty());
    // 255 characters are fine.
    let max = "y".repeat(255);
    disable_lvm(&db, &max, &["--yes"], 0);
    assert_eq!(disabled().disabled_reason.as_deref(), Some(max.as_str()));
});

/// `service disable --host node02* --reason ours -f json`, paused before its write.
fn paused_disable(db: &TestDb) -> crate::harness::Paused {
    let pause = db.dir.path().join("pause");
    db.audited().paused(
        "SVCCTL_TEST_PAUSE_FILE",
        &pause,
        &[
            "service", "disable", "--host", "node02*", "--reason", "ours", "--yes", "-f", "json",
        ],
    )
}

// Disabled by someone else between plan and write (cinder service-disable): that row is
// reported as already disabled and keeps their reason; the others are disabled.
both_backends!(disabled_meanwhile_keeps_its_reason, Schema::Cinder, |db| {
    nodes(&db);
    let child = paused_disable(&db);
    db.exec("UPDATE services SET disabled = 1, disabled_reason = 'theirs' WHERE id = 3");
    let v = child.resume().code(0).json();
    assert_eq!(ids(&v, "changed"), [2]);
    assert_eq!(ids(&v, "unchanged"), [3]);
    assert_eq!(db.service_row(3).disabled_reason.as_deref(), Some("theirs"));
    assert_eq!(db.service_row(2).disabled_reason.as_deref(), Some("ours"));
    assert_eq!(db.audit_rows().len(), 1);
});

// Deleted by someone else between plan and write: all or nothing, the whole disable is rolled
// back (exit 3, naming it); nothing changed, nothing audited.
both_backends!(
    deleted_meanwhile_rolls_everything_back,
    Schema::Cinder,
    |db| {
        nodes(&db);
        let child = paused_disable(&db);
        db.exec("UPDATE services SET deleted = 1 WHERE id = 3");
        let before = db.fingerprint();
        let run = child.resume().code(3);
        let v = run.json();
        assert_eq!(ids(&v, "changed"), Vec::<i64>::new());
        assert_eq!(v["already_deleted"], serde_json::json!([3]));
        let last = run.error_line();
        assert!(
            last.contains("(id 3)") && last.contains("nothing was disabled"),
            "{last}"
        );
        assert_eq!(
            db.service_row(2).disabled.as_deref(),
            Some("0"),
            "service 2 still enabled"
        );
        assert_eq!(db.fingerprint(), before);
        assert!(db.audit_lines().is_empty());
    }
);
