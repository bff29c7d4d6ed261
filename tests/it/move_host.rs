//! `svcctl volume move-host` and `backup move-host` on Cinder 29's schema, SQLite and MariaDB:
//! the pool kept, service_uuid and cluster_name re-pointed, groups moved along; each refusal
//! (no target, target down, busy volume) changing nothing; rows that change or appear between
//! plan and write reported, not moved; `--undo`; and a Cinder-style purge after move + delete.

use serde_json::Value;

use crate::both_backends;
use crate::harness::{Placement, Schema, TestDb};
use crate::svcctl_snapshot;

/// node01@lvm (up, cluster cl1@lvm) and node01's backup up; node02@lvm and node02's backup
/// dead; node03@lvm dead. On node02@lvm: v1 (pool nvme, pointing at node02's uuid), v2 (no
/// pool), group g1; v3 on node02@lvmx#p is another backend and stays.
fn cloud(db: &TestDb) {
    db.service(1, "node01@lvm", "cinder-volume", 5);
    db.service(2, "node02@lvm", "cinder-volume", 600);
    db.service(3, "node03@lvm", "cinder-volume", 600);
    db.service(4, "node01", "cinder-backup", 5);
    db.service(5, "node02", "cinder-backup", 600);
    db.exec("UPDATE services SET cluster_name = 'cl1@lvm' WHERE id = 1");
    db.volume("v1", "node02@lvm#nvme");
    db.volume("v2", "node02@lvm");
    db.volume("v3", "node02@lvmx#p");
    db.exec("UPDATE volumes SET service_uuid = 'uuid-2' WHERE id IN ('v1', 'v2')");
    db.exec("INSERT INTO `groups` (deleted, id, host, status) VALUES (0, 'g1', 'node02@lvm#nvme', 'available')");
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

fn moved_ids(v: &Value) -> Vec<String> {
    v["moved"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect()
}

/// `volume move-host` node02@lvm to node01@lvm, stopped between its plan and its write.
fn paused_move(db: &TestDb) -> crate::harness::Paused {
    db.audited().paused(
        "SVCCTL_TEST_PAUSE_FILE",
        &db.dir.path().join("pause"),
        &move_args("node02@lvm", "node01@lvm", &["--yes"]),
    )
}

fn move_args<'a>(from: &'a str, to: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![
        "volume",
        "move-host",
        "--from",
        from,
        "--to",
        to,
        "-f",
        "json",
    ];
    a.extend_from_slice(extra);
    a
}

// The pool kept, the target's uuid and cluster (with the pool), the group along; the other
// backend untouched; audited with the old values. Then the delete that was refused for the
// volumes succeeds, and a purge as `cinder-manage db purge` does it (foreign keys on) finds no
// stale service_uuid.
both_backends!(
    moves_keep_the_pool_and_repoint_the_service,
    Schema::Cinder,
    |db| {
        cloud(&db);
        db.audited()
            .run(&["service", "delete", "--host", "node02@lvm", "--yes"])
            .code(3);
        let v = db
            .audited()
            .run(&move_args("node02@lvm", "node01@lvm", &["--yes"]))
            .code(0)
            .json();
        assert_eq!(moved_ids(&v), ["v1", "v2", "g1"]);
        assert_eq!(v["target"]["id"], 1);
        assert_eq!(
            db.placement("volumes", "v1"),
            Placement {
                host: s("node01@lvm#nvme"),
                service_uuid: s("uuid-1"),
                cluster_name: s("cl1@lvm#nvme"),
            }
        );
        assert_eq!(
            db.placement("volumes", "v2"),
            Placement {
                host: s("node01@lvm"),
                service_uuid: s("uuid-1"),
                cluster_name: s("cl1@lvm"),
            }
        );
        assert_eq!(db.placement("groups", "g1").host, s("node01@lvm#nvme"));
        assert_eq!(db.placement("volumes", "v3").host, s("node02@lvmx#p"));
        let audit = db.audit_rows();
        assert_eq!(audit.len(), 3);
        assert_eq!(audit[0]["event"], "volume_host_moved");
        assert_eq!(audit[0]["old"]["host"], "node02@lvm#nvme");
        assert_eq!(audit[0]["old"]["service_uuid"], "uuid-2");
        assert_eq!(audit[0]["txn"], v["txn"]);
        assert_eq!(audit[2]["event"], "group_host_moved");

        db.audited()
            .run(&["service", "delete", "--host", "node02@lvm", "--yes"])
            .code(0);
        // What `cinder-manage db purge 0` runs on services, with the foreign keys enforced (MySQL
        // always; SQLite when asked): it fails while a volume's service_uuid points at the row.
        db.exec(
            &format!(
                "PRAGMA_OR_NOT; DELETE FROM services WHERE deleted = 1 AND deleted_at < '{}'",
                db.ago(-5)
            )
            .replace(
                "PRAGMA_OR_NOT;",
                match db.backend {
                    crate::harness::Backend::Sqlite => "PRAGMA foreign_keys = ON;",
                    crate::harness::Backend::MySql => "",
                },
            ),
        );
        assert_eq!(db.int("SELECT COUNT(*) FROM services WHERE id = 2"), 0);
    }
);

// `--to HOST#pool` sets that pool; a volume never loses one silently.
both_backends!(a_pool_in_the_target_is_set, Schema::Cinder, |db| {
    cloud(&db);
    let plan = db
        .audited()
        .run(&[
            "volume",
            "move-host",
            "--from",
            "node02@lvm",
            "--to",
            "node01@lvm#gold",
            "--dry-run",
        ])
        .code(0);
    svcctl_snapshot!("dry_run_plan", plan.stdout);
    db.audited()
        .run(&move_args("node02@lvm", "node01@lvm#gold", &["--yes"]))
        .code(0);
    assert_eq!(db.placement("volumes", "v1").host, s("node01@lvm#gold"));
    assert_eq!(db.placement("volumes", "v2").host, s("node01@lvm#gold"));
});

// Each refusal: exit 3, the one-line error names it, nothing changed, nothing audited.
both_backends!(refusals_change_nothing, Schema::Cinder, |db| {
    cloud(&db);
    let before = db.fingerprint();
    let refused = |args: Vec<&str>, says: &str| {
        let run = db.audited().run(&args).code(3);
        assert!(run.error_line().contains(says), "{}", run.stderr);
        assert_eq!(db.fingerprint(), before);
        assert_eq!(db.placement("groups", "g1").host, s("node02@lvm#nvme"));
        assert!(db.audit_lines().is_empty());
        run
    };
    // A target that does not exist, or is not a cinder-volume service.
    refused(
        move_args("node02@lvm", "node09@lvm", &["--yes"]),
        "no live cinder-volume service on host node09@lvm",
    );
    refused(
        move_args("node02@lvm", "node01", &["--yes"]),
        "no live cinder-volume service on host node01",
    );
    // A target that is down; --dry-run says the same.
    refused(
        move_args("node02@lvm", "node03@lvm", &["--yes"]),
        "node03@lvm is down",
    );
    refused(
        move_args("node02@lvm", "node03@lvm", &["--dry-run"]),
        "node03@lvm is down",
    );
    // A volume that is attaching, one in a migration: named.
    db.exec("UPDATE volumes SET status = 'attaching' WHERE id = 'v2'");
    let before_busy = db.fingerprint();
    let run = db
        .audited()
        .run(&move_args("node02@lvm", "node01@lvm", &["--yes"]))
        .code(3);
    assert!(
        run.error_line().contains("volumes v2 (status attaching)"),
        "{}",
        run.stderr
    );
    assert_eq!(run.json()["refused"][0]["id"], "v2");
    assert_eq!(db.fingerprint(), before_busy);
    db.exec("UPDATE volumes SET status = 'in-use', migration_status = 'migrating' WHERE id = 'v2'");
    let run = db
        .audited()
        .run(&move_args("node02@lvm", "node01@lvm", &["--yes"]))
        .code(3);
    assert!(
        run.error_line().contains("migration_status migrating"),
        "{}",
        run.stderr
    );
    assert_eq!(db.placement("volumes", "v1").host, s("node02@lvm#nvme"));
    assert!(db.audit_lines().is_empty());
    // Nothing on FROM: 4.
    db.audited()
        .run(&move_args("node07@lvm", "node01@lvm", &["--yes"]))
        .code(4);
});

// A down target with --force: moved, with a warning.
both_backends!(force_moves_onto_a_down_target, Schema::Cinder, |db| {
    cloud(&db);
    let run = db
        .audited()
        .run(&move_args(
            "node02@lvm",
            "node03@lvm",
            &["--yes", "--force"],
        ))
        .code(0);
    assert!(run.stderr.contains("warning: --force"), "{}", run.stderr);
    assert_eq!(
        db.placement("volumes", "v1"),
        Placement {
            host: s("node03@lvm#nvme"),
            service_uuid: s("uuid-3"),
            cluster_name: None,
        }
    );
});

// Between plan and write: a volume created on FROM, and one that starts attaching: all or
// nothing, so the whole move is rolled back; both named, exit 3; nothing moved or audited.
both_backends!(
    changes_after_the_plan_are_reported_not_moved,
    Schema::Cinder,
    |db| {
        cloud(&db);
        let child = paused_move(&db);
        db.volume("v9", "node02@lvm#nvme");
        db.exec("UPDATE volumes SET status = 'attaching' WHERE id = 'v2'");
        let before = db.fingerprint();
        let run = child.resume().code(3);
        let v = run.json();
        assert_eq!(moved_ids(&v), Vec::<String>::new());
        let kept: Vec<(&str, &str, &str)> = v["not_moved"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| {
                (
                    k["id"].as_str().unwrap(),
                    k["reason"]["kind"].as_str().unwrap(),
                    k["reason"]["text"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(kept.len(), 2, "{v}");
        assert_eq!(kept[0].0, "v2");
        assert_eq!(kept[0].1, "changed", "{v}");
        assert!(kept[0].2.contains("attaching"), "{v}");
        assert_eq!(kept[1].0, "v9");
        assert_eq!(kept[1].1, "appeared", "{v}");
        assert!(kept[1].2.contains("appeared"), "{v}");
        assert!(
            run.error_line().contains("nothing was changed"),
            "{}",
            run.stderr
        );
        assert!(
            run.error_line().contains("v9 (appeared after the plan)"),
            "{}",
            run.stderr
        );
        assert_eq!(db.placement("volumes", "v9").host, s("node02@lvm#nvme"));
        assert_eq!(db.placement("volumes", "v2").host, s("node02@lvm"));
        assert_eq!(db.placement("volumes", "v1").host, s("node02@lvm#nvme"));
        assert_eq!(db.fingerprint(), before);
        assert!(db.audit_lines().is_empty());
    }
);

// --undo TXN puts back what TXN moved (host, service_uuid, cluster_name), audited itself.
both_backends!(undo_moves_them_back, Schema::Cinder, |db| {
    cloud(&db);
    let was = (db.placement("volumes", "v1"), db.placement("groups", "g1"));
    let v = db
        .audited()
        .run(&move_args("node02@lvm", "node01@lvm", &["--yes"]))
        .code(0)
        .json();
    let txn = v["txn"].as_str().unwrap().to_string();
    let undo = db
        .audited()
        .run(&["volume", "move-host", "--undo", &txn, "--yes", "-f", "json"])
        .code(0)
        .json();
    assert_eq!(undo["undo_of"], txn.as_str());
    assert_eq!(moved_ids(&undo).len(), 3);
    assert_eq!(
        (db.placement("volumes", "v1"), db.placement("groups", "g1")),
        was
    );
    assert_eq!(db.placement("volumes", "v2").host, s("node02@lvm"));
    assert_eq!(db.audit_rows().len(), 6);
    // Undone already: the rows are no longer where TXN put them; nothing moves, exit 3.
    db.audited()
        .run(&["volume", "move-host", "--undo", &txn, "--yes"])
        .code(3);
    assert_eq!(db.placement("volumes", "v1"), was.0);
    db.audited()
        .run(&["volume", "move-host", "--undo", "no-such-txn", "--yes"])
        .code(4);
});

// backup move-host: backups.host exactly, onto a live cinder-backup service only.
both_backends!(backups_move_to_a_live_backup_host, Schema::Cinder, |db| {
    cloud(&db);
    for (id, status) in [("b1", "available"), ("b2", "error")] {
        db.exec(&format!(
            "INSERT INTO backups (deleted, id, volume_id, host, status) VALUES (0, '{id}', 'v1', 'node02', '{status}')"
        ));
    }
    let backup = |id: &str| db.placement("backups", id).host.clone();
    let args = |to: &'static str| {
        vec![
            "backup",
            "move-host",
            "--from",
            "node02",
            "--to",
            to,
            "--yes",
        ]
    };
    // node01@lvm is a volume service, not a backup one.
    db.audited().run(&args("node01@lvm")).code(3);
    db.exec("UPDATE backups SET status = 'creating' WHERE id = 'b2'");
    let run = db.audited().run(&args("node01")).code(3);
    assert!(
        run.error_line().contains("backups b2 (status creating)"),
        "{}",
        run.stderr
    );
    assert_eq!(backup("b1"), s("node02"));
    db.exec("UPDATE backups SET status = 'available' WHERE id = 'b2'");
    db.audited().run(&args("node01")).code(0);
    assert_eq!((backup("b1"), backup("b2")), (s("node01"), s("node01")));
    assert_eq!(db.audit_lines()[0]["event"], "backup_host_moved");
    db.audited()
        .run(&["service", "delete", "--host", "node02", "--yes"])
        .code(0);
});

// The target dies between plan and write: the WHERE clause sees it, nothing moves, exit 3.
both_backends!(
    a_target_gone_down_after_the_plan_gets_nothing,
    Schema::Cinder,
    |db| {
        cloud(&db);
        let child = paused_move(&db);
        db.exec(&format!(
            "UPDATE services SET updated_at = '{}' WHERE id = 1",
            db.ago(600)
        ));
        let before = db.fingerprint();
        let run = child.resume().code(3);
        let v = run.json();
        assert_eq!(moved_ids(&v), Vec::<String>::new());
        assert!(
            v["not_moved"][0]["reason"]["text"]
                .as_str()
                .unwrap()
                .contains("target service went down"),
            "{v}"
        );
        assert_eq!(db.fingerprint(), before);
        assert!(db.audit_lines().is_empty());
    }
);
