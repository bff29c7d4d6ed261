//! `svcctl service disable` / `enable` on Cinder 29's schema, SQLite and MariaDB: Cinder's
//! `service_update` row for row (disabled, disabled_reason, modified_at; updated_at kept; the
//! reason kept on enable), a new reason overwriting the old one, already-disabled rows
//! reported, nothing matched, bad reasons, the dry run, rows that change between the plan and
//! the write, and the warning for services in a cluster.

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

// Disable then enable as Cinder 29's code writes them: cinder/api/v3/services.py
// `disable_log_reason` saves `disabled = True` and the reason through cinder/db/api.py
// `service_update`, which stamps `modified_at` and keeps `updated_at` (the heartbeat);
// `service_update(disabled=False)` keeps `disabled_reason` (29.0.0's own `enable()` saves
// nothing at all, a bug svcctl does not copy). Every change audited.
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
    assert_eq!(ids(&v, "disabled"), [2, 3]);
    assert_eq!(v["disabled"][0]["status"], "enabled", "as it was before");
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

    // The same reason again: already as asked, reported, nothing rewritten.
    let stamped = db.service_row(2).modified_at;
    let again = db
        .audited()
        .run(&[
            "service", "disable", "--host", "node02", "--reason", "RMA 4711", "--yes", "-f", "json",
        ])
        .code(0)
        .json();
    assert_eq!(ids(&again, "disabled"), Vec::<i64>::new());
    assert_eq!(ids(&again, "unchanged"), [2]);
    assert_eq!(db.service_row(2).modified_at, stamped);
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
    assert_eq!(ids(&v, "enabled"), [3]);
    let s = db.service_row(3);
    assert_eq!(s.disabled.as_deref(), Some("0"));
    assert_eq!(
        s.disabled_reason.as_deref(),
        Some("RMA 4711"),
        "enable keeps the reason, as service_update(disabled=False) does"
    );
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

// A disabled service given a new reason gets it, with a new modified_at, as a second
// `cinder service-disable --reason` does (disable_log_reason saves `disabled` again, so
// service_update restamps modified_at); the same reason is no change. Compared exactly: on
// MySQL's case-insensitive collation `rma 4711` is still another reason.
both_backends!(a_new_reason_overwrites_the_old_one, Schema::Cinder, |db| {
    nodes(&db);
    disable_lvm(&db, "RMA 4711", &["--yes"], 0);
    let old = db.ago(3600);
    db.exec(&format!(
        "UPDATE services SET modified_at = '{old}' WHERE id = 3"
    ));
    let heartbeat = db.service_row(3).updated_at;
    let plan = disable_lvm(&db, "rma 4711", &["--dry-run"], 0);
    assert!(plan.stdout.contains("new reason"), "{}", plan.stdout);
    let v = disable_lvm(&db, "rma 4711", &["--yes", "-f", "json"], 0).json();
    assert_eq!(ids(&v, "disabled"), [3]);
    assert_eq!(v["disabled"][0]["disabled_reason"], "RMA 4711", "as it was");
    let s = db.service_row(3);
    assert_eq!(s.disabled_reason.as_deref(), Some("rma 4711"));
    assert_ne!(s.modified_at.as_deref(), Some(old.as_str()), "restamped");
    assert_eq!(s.updated_at, heartbeat, "the heartbeat is kept");
    let audit = db.audit_rows();
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[1]["service"]["disabled_reason"], "RMA 4711");
    assert_eq!(audit[1]["disabled_reason"], "rma 4711");
    // The same reason again changes nothing.
    let stamped = db.service_row(3).modified_at;
    let v = disable_lvm(&db, "rma 4711", &["--yes", "-f", "json"], 0).json();
    assert_eq!(ids(&v, "unchanged"), [3]);
    assert_eq!(db.service_row(3).modified_at, stamped);
    assert_eq!(db.audit_rows().len(), 2);
});

// Reasons Cinder's API refuses (cinder/api/schemas/services.py disable_log_reason: 1 to 255
// characters, not only blanks) and reasons that are not one printable line: exit 2, one line
// naming the problem, nothing read or changed.
both_backends!(bad_reasons_are_usage_errors, Schema::Cinder, |db| {
    nodes(&db);
    let before = db.fingerprint();
    for (reason, says) in [
        ("", "is empty"),
        ("   ", "only blanks"),
        ("\t", "only blanks"),
        ("RMA\n4711", "control or invisible character"),
        ("RMA\u{1b}[31m", "control or invisible character"),
        (&"x".repeat(256), "longer than the 255"),
    ] {
        let run = disable_lvm(&db, reason, &["--yes"], 2);
        assert!(
            run.error_line().contains(says),
            "{reason:?}: {}",
            run.stderr
        );
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    }
    assert_eq!(db.fingerprint(), before);
    assert_eq!(db.service_row(3).disabled.as_deref(), Some("0"));
    assert!(db.audit_lines().is_empty());
});

// A service in a cluster: the scheduler reads only its cluster's `disabled`
// (cinder/db/api.py _clustered_bool_field_filter), so the service's own disable changes
// nothing for it. svcctl still writes it (as Cinder's API would) and warns, in the plan, the
// result and the JSON, naming the cluster-level command.
both_backends!(a_clustered_service_is_warned_about, Schema::Cinder, |db| {
    nodes(&db);
    db.exec("UPDATE services SET cluster_name = 'c1@lvm' WHERE id = 3");
    let run = disable_lvm(&db, "RMA", &["--yes"], 0);
    let warnings: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("warning: 1 service in cluster c1@lvm"))
        .collect();
    assert_eq!(
        warnings.len(),
        2,
        "in the plan and the result: {}",
        run.stderr
    );
    assert!(
        warnings[0].contains(
            "svcctl service disable --cluster c1@lvm --binary cinder-volume --reason TEXT"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(db.service_row(3).disabled.as_deref(), Some("1"));
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
    assert!(
        v["warnings"][0]
            .as_str()
            .unwrap()
            .contains("svcctl service enable --cluster c1@lvm --binary cinder-volume"),
        "{v}"
    );
    // No cluster, no warning.
    let v = db
        .audited()
        .run(&[
            "service", "disable", "--host", "node02", "--reason", "x", "--yes", "-f", "json",
        ])
        .code(0)
        .json();
    assert_eq!(v["warnings"], serde_json::json!([]));
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
    assert!(
        run.error_line().contains("longer than the 255"),
        "{}",
        run.stderr
    );
    disable_lvm(&db, "x", &[], 2);
    let v = disable_lvm(&db, "x", &["--dry-run", "-f", "json"], 0).json();
    assert_eq!(v["dry_run"], true);
    assert_eq!(ids(&v, "would_disable"), [3]);
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
    assert_eq!(ids(&v, "disabled"), [2]);
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
        assert_eq!(ids(&v, "disabled"), Vec::<i64>::new());
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

/// Cluster c1@lvm (id 7) as Cinder creates it, with node02@lvm in it.
fn cluster(db: &TestDb) {
    db.exec(
        "INSERT INTO clusters (created_at, updated_at, deleted, id, name, `binary`, disabled, \
         race_preventer, frozen) VALUES ('2026-01-01 00:00:00', '2026-01-02 00:00:00', 0, 7, \
         'c1@lvm', 'cinder-volume', 0, 0, 0)",
    );
    db.exec("UPDATE services SET cluster_name = 'c1@lvm' WHERE id = 3");
}

/// Cluster 7's disabled, disabled_reason and updated_at, as text.
fn cluster_state(db: &TestDb) -> Vec<Option<String>> {
    let cols = ["disabled", "disabled_reason", "updated_at"].map(|c| db.text(c));
    db.rows(&format!(
        "SELECT {} FROM clusters WHERE id = 7",
        cols.join(", ")
    ))
    .remove(0)
}

// The cluster-level disable and enable, as Cinder 29's own code writes them (checked by running
// cinder/api/v3/clusters.py `_update`'s steps, Cluster.save -> cinder/db/api.py cluster_update,
// on Cinder's schema): disable sets disabled = 1 and the reason stripped of blanks, enable sets
// disabled = 0 and the reason NULL, and each stamps updated_at (the ORM's onupdate). The same
// disable again changes nothing; each change is audited.
both_backends!(
    a_cluster_is_disabled_and_enabled_like_cinder,
    Schema::Cinder,
    |db| {
        nodes(&db);
        cluster(&db);
        let service_before = db.service_row(3);
        let cluster_args = |verb: &'static str, extra: &[&'static str]| {
            let mut a = vec![
                "service",
                verb,
                "--cluster",
                "c1@lvm",
                "--binary",
                "cinder-volume",
            ];
            a.extend_from_slice(extra);
            a
        };
        let plan = db
            .audited()
            .run(&cluster_args(
                "disable",
                &["--reason", " RMA 4711 ", "--dry-run"],
            ))
            .code(0);
        assert!(
            plan.stdout
                .contains("cluster c1@lvm (cinder-volume), id 7: enabled"),
            "{}",
            plan.stdout
        );
        let v = db
            .audited()
            .run(&cluster_args(
                "disable",
                &["--reason", " RMA 4711 ", "--yes", "-f", "json"],
            ))
            .code(0)
            .json();
        assert_eq!(ids(&v, "disabled_clusters"), [7]);
        assert_eq!(
            v["disabled_clusters"][0]["status"], "enabled",
            "as it was: {v}"
        );
        let state = cluster_state(&db);
        assert_eq!(state[0].as_deref(), Some("1"));
        assert_eq!(
            state[1].as_deref(),
            Some("RMA 4711"),
            "stripped, as the API strips it"
        );
        assert_ne!(
            state[2].as_deref().map(|t| &t[..10]),
            Some("2026-01-02"),
            "updated_at stamped"
        );
        assert_eq!(
            db.service_row(3),
            service_before,
            "the service row is not touched"
        );
        let audit = db.audit_rows();
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0]["event"], "cluster_disabled");
        assert_eq!(audit[0]["action"], "disable");
        assert_eq!(audit[0]["disabled_reason"], "RMA 4711");
        assert_eq!(audit[0]["cluster"]["name"], "c1@lvm");

        // The same reason again: nothing to do, nothing written.
        let stamped = cluster_state(&db);
        let run = db
            .audited()
            .run(&cluster_args("disable", &["--reason", "RMA 4711", "--yes"]))
            .code(0);
        assert!(
            run.stderr.contains("already disabled; nothing to do"),
            "{}",
            run.stderr
        );
        assert_eq!(cluster_state(&db), stamped);
        assert_eq!(db.audit_rows().len(), 1);

        let v = db
            .audited()
            .run(&cluster_args("enable", &["--yes", "-f", "json"]))
            .code(0)
            .json();
        assert_eq!(v["action"], "enable");
        let state = cluster_state(&db);
        assert_eq!(state[0].as_deref(), Some("0"));
        assert_eq!(state[1], None, "Cinder's cluster enable clears the reason");
        assert_eq!(db.audit_rows()[1]["event"], "cluster_enabled");
        let list = db
            .svcctl()
            .run(&["cluster", "list", "-f", "json"])
            .code(0)
            .json();
        assert_eq!(list[0]["status"], "enabled");

        // No such live cluster: 4; the wrong binary is another cluster.
        db.audited()
            .run(&[
                "service",
                "enable",
                "--cluster",
                "c1@lvm",
                "--binary",
                "cinder-backup",
                "--yes",
            ])
            .code(4);
        // --cluster needs --binary, and names a cluster instead of hosts.
        let before = db.fingerprint();
        for args in [
            vec![
                "service",
                "disable",
                "--cluster",
                "c1@lvm",
                "--reason",
                "x",
                "--yes",
            ],
            vec![
                "service",
                "enable",
                "--cluster",
                "c1@lvm",
                "--host",
                "node02",
                "--binary",
                "b",
            ],
            vec![
                "service",
                "disable",
                "--cluster",
                "",
                "--binary",
                "cinder-volume",
                "--reason",
                "x",
            ],
        ] {
            let run = db.audited().run(&args).code(2);
            assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        }
        assert_eq!(db.fingerprint(), before);
    }
);

// The cluster removed between the plan and the write: the UPDATE's WHERE clause (deleted = 0)
// finds nothing, the change rolls back, exit 3, nothing audited.
both_backends!(
    a_cluster_removed_meanwhile_is_not_disabled,
    Schema::Cinder,
    |db| {
        nodes(&db);
        cluster(&db);
        let child = db.audited().paused(
            "SVCCTL_TEST_PAUSE_FILE",
            &db.dir.path().join("pause"),
            &[
                "service",
                "disable",
                "--cluster",
                "c1@lvm",
                "--binary",
                "cinder-volume",
                "--reason",
                "RMA",
                "--yes",
            ],
        );
        db.exec("UPDATE clusters SET deleted = 1, deleted_at = updated_at, race_preventer = 7");
        let run = child.resume().code(3);
        assert!(
            run.error_line()
                .contains("was removed between plan and write"),
            "{}",
            run.stderr
        );
        assert_eq!(cluster_state(&db)[0].as_deref(), Some("0"));
        assert!(db.audit_lines().is_empty());
    }
);
