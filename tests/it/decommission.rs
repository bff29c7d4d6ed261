//! `svcctl service disable` / `enable` on Cinder 29's schema, SQLite and MariaDB: Cinder's
//! `service_update` row for row (disabled, disabled_reason, modified_at; updated_at kept),
//! already-disabled rows reported, nothing matched, bad reasons, the dry run.

use serde_json::Value;

use crate::both_backends;
use crate::harness::{Schema, TestDb};

fn ids(v: &Value, key: &str) -> Vec<i64> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} in {v}"))
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect()
}

/// A dead node02 (scheduler, volume) beside a live node01.
fn nodes(db: &TestDb) {
    db.service(1, "node01", "cinder-scheduler", 5);
    db.service(2, "node02", "cinder-scheduler", 600);
    db.service(3, "node02@lvm", "cinder-volume", 600);
}

/// (disabled, disabled_reason, modified_at, updated_at) of service `id`, as text.
fn state(db: &TestDb, id: i64) -> Vec<Option<String>> {
    db.rows(&format!(
        "SELECT {}, {}, {}, {} FROM services WHERE id = {id}",
        db.text("disabled"),
        db.text("disabled_reason"),
        db.text("modified_at"),
        db.text("updated_at")
    ))
    .remove(0)
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
    db.svcctl().run(&args).code(code)
}

// Disable then enable, exactly as Cinder's service_update: updated_at (the heartbeat) never
// moves, modified_at is stamped, the reason is set and then cleared; every change audited.
both_backends!(disable_and_enable_like_cinder, Schema::Cinder, |db| {
    nodes(&db);
    let heartbeat = state(&db, 3)[3].clone();
    let v = db
        .svcctl()
        .run(&[
            "service", "disable", "--host", "node02*", "--reason", "RMA 4711", "--yes", "-f",
            "json",
        ])
        .code(0)
        .json();
    assert_eq!(ids(&v, "changed"), [2, 3]);
    assert_eq!(v["changed"][0]["status"], "enabled", "as it was before");
    for id in [2, 3] {
        let s = state(&db, id);
        assert_eq!(s[0].as_deref(), Some("1"));
        assert_eq!(s[1].as_deref(), Some("RMA 4711"));
        assert!(s[2].is_some(), "modified_at stamped");
    }
    assert_eq!(
        state(&db, 3)[3],
        heartbeat,
        "updated_at untouched: still down"
    );
    assert_eq!(state(&db, 1)[0].as_deref(), Some("0"), "node01 untouched");
    let audit = db.audit_lines();
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[0]["event"], "service_disabled");
    assert_eq!(
        audit[0]["service"]["status"], "enabled",
        "the row as it was"
    );
    assert_eq!(audit[0]["disabled_reason"], "RMA 4711");

    // Again: already disabled, reported and fine, nothing rewritten.
    let again = db
        .svcctl()
        .run(&[
            "service", "disable", "--host", "node02", "--reason", "other", "--yes", "-f", "json",
        ])
        .code(0)
        .json();
    assert_eq!(ids(&again, "changed"), Vec::<i64>::new());
    assert_eq!(ids(&again, "unchanged"), [2]);
    assert_eq!(state(&db, 2)[1].as_deref(), Some("RMA 4711"));
    assert_eq!(db.audit_lines().len(), 2);

    let v = db
        .svcctl()
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
    let s = state(&db, 3);
    assert_eq!(s[0].as_deref(), Some("0"));
    assert_eq!(s[1], None, "enable clears the reason");
    assert_eq!(s[3], heartbeat);
    assert_eq!(db.audit_lines()[2]["event"], "service_enabled");
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
    let disabled = || state(&db, 3);
    let was = disabled();
    let run = db
        .svcctl()
        .run(&[
            "service", "disable", "--host", "node09", "--reason", "x", "--yes",
        ])
        .code(4);
    assert!(
        run.error_line().contains("no live service on host node09"),
        "{}",
        run.stderr
    );
    db.svcctl()
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
    assert_eq!(disabled()[1].as_deref(), Some(max.as_str()));
});

/// `service disable --host node02* --reason ours -f json`, paused before its write.
fn paused_disable(db: &TestDb) -> crate::harness::Paused {
    let pause = db.dir.path().join("pause");
    db.svcctl().paused(
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
    assert_eq!(state(&db, 3)[1].as_deref(), Some("theirs"));
    assert_eq!(state(&db, 2)[1].as_deref(), Some("ours"));
    assert_eq!(db.audit_lines().len(), 1);
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
            state(&db, 2)[0].as_deref(),
            Some("0"),
            "service 2 still enabled"
        );
        assert_eq!(db.fingerprint(), before);
        assert!(db.audit_lines().is_empty());
    }
);

#[test]
fn help_documents_every_flag() {
    for sub in [
        &["service", "disable", "--help"][..],
        &["service", "enable", "--help"],
        &["volume", "move-host", "--help"],
        &["backup", "move-host", "--help"],
    ] {
        let run = crate::harness::Svcctl::new().run(sub).code(0);
        insta::assert_snapshot!(sub[..2].join("_"), run.stdout);
    }
}

// The README's decommission walk-through, on the demo database and with cinder.conf.example's
// settings (service_down_time, host, enabled_backends), as the README runs it: the delete
// refused for the volume succeeds after the move, the volume keeps its pool and points at
// node01's service.
#[test]
fn the_readme_decommission_runs_on_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.sqlite");
    let conf = dir.path().join("demo.conf");
    let example = include_str!("../../cinder.conf.example");
    let ours = format!("connection = sqlite:///{}", path.display());
    assert!(example.contains("\nconnection = sqlite:///svcctl-demo.sqlite\n"));
    std::fs::write(
        &conf,
        example.replace("connection = sqlite:///svcctl-demo.sqlite", &ours),
    )
    .unwrap();
    let audit = dir.path().join("demo-audit.jsonl");
    let svcctl = crate::harness::Svcctl::new().config(&conf).audit(audit);
    svcctl.run(&["demo"]).code(0);
    let all = ["--host", "node02", "--host", "node02@*"];
    let step = |args: &[&str], code: i32| svcctl.run(args).code(code);
    step(
        &[
            &["service", "disable"][..],
            &all,
            &["--reason", "RMA 4711", "--yes"],
        ]
        .concat(),
        0,
    );
    let backend = "node02@backend-2813902f-2c94";
    step(&["service", "delete", "--host", backend, "--yes"], 3);
    step(
        &[
            "volume",
            "move-host",
            "--from",
            backend,
            "--to",
            "node01@backend-2813902f-2c94",
            "--yes",
        ],
        0,
    );
    let up = step(
        &[
            &["service", "list"][..],
            &all,
            &["--state", "up", "-f", "json"],
        ]
        .concat(),
        0,
    );
    assert_eq!(up.json(), serde_json::json!([]));
    let v = step(
        &[&["service", "delete"][..], &all, &["--yes", "-f", "json"]].concat(),
        0,
    )
    .json();
    assert_eq!(v["deleted"].as_array().unwrap().len(), 5, "{v}");
    let rows = crate::harness::block_on(async {
        use sqlx::ConnectOptions;
        let mut c = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .connect()
            .await
            .unwrap();
        sqlx::query_as::<_, (String, Option<String>)>(
            "SELECT host, service_uuid FROM volumes WHERE id = '5e61041f-413e-4421-9ebb-a3e33bbdbaf1'",
        )
        .fetch_all(&mut c)
        .await
        .unwrap()
    });
    assert_eq!(
        rows,
        [(
            "node01@backend-2813902f-2c94#nvme".to_string(),
            Some("10cd3de7-5087-4839-bfdd-730d10c92b18".to_string())
        )]
    );
}
