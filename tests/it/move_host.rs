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
                    k["reasons"][0]["kind"].as_str().unwrap(),
                    k["reasons"][0]["text"].as_str().unwrap(),
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
    // Undone already: every row is back where it was before TXN, so there is nothing left to
    // undo, as for a deletion restored already: exit 4 in the dry run and the real run alike
    // (0 with --missing-ok), nothing moved, nothing audited.
    let before = db.fingerprint();
    for extra in [&["--dry-run"][..], &["--yes"], &["--dry-run", "-f", "json"]] {
        let run = db
            .audited()
            .run(&[&["volume", "move-host", "--undo", &txn][..], extra].concat())
            .code(4);
        let line = run.error_line();
        assert!(line.contains("is undone already"), "{line}");
        assert!(line.contains("nothing left to undo"), "{line}");
        assert!(!line.contains("spelling"), "{line}");
    }
    db.audited()
        .run(&[
            "volume",
            "move-host",
            "--undo",
            &txn,
            "--yes",
            "--missing-ok",
        ])
        .code(0);
    assert_eq!(db.fingerprint(), before);
    assert_eq!(db.audit_rows().len(), 6);
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
            v["not_moved"][0]["reasons"][0]["text"]
                .as_str()
                .unwrap()
                .contains("target service went down"),
            "{v}"
        );
        assert_eq!(db.fingerprint(), before);
        assert!(db.audit_lines().is_empty());
    }
);

/// The transaction id of a successful move's JSON result.
fn txn_of(v: &Value) -> String {
    v["txn"].as_str().unwrap().to_string()
}

// An undo re-checks its target as a move does. After a move and the delete of the old host, the
// undo would put v1 and v2 back on a host with no live service, pointing at a deleted service:
// refused, exit 3, naming it; nothing changed, nothing points at a deleted service, and a purge
// as `cinder-manage db purge 0` runs it succeeds. When the old host's service came back with a
// new row (Cinder recreates a deleted service's row with a new uuid), the recorded uuid names no
// live service: refused too.
both_backends!(
    undo_after_the_source_was_deleted_is_refused,
    Schema::Cinder,
    |db| {
        cloud(&db);
        let txn = txn_of(
            &db.audited()
                .run(&move_args("node02@lvm", "node01@lvm", &["--yes"]))
                .code(0)
                .json(),
        );
        db.audited()
            .run(&["service", "delete", "--host", "node02@lvm", "--yes"])
            .code(0);
        let before = db.fingerprint();
        let lines = db.audit_lines().len();
        let undo = || {
            db.audited()
                .run(&["volume", "move-host", "--undo", &txn, "--yes", "-f", "json"])
                .code(3)
        };
        let run = undo();
        assert!(
            run.error_line()
                .contains("no live cinder-volume service on host node02@lvm, where they were"),
            "{}",
            run.stderr
        );
        assert_eq!(run.json()["moved"], serde_json::json!([]));
        assert_eq!(db.fingerprint(), before);
        assert_eq!(db.audit_lines().len(), lines);
        assert_eq!(
            crate::harness::fleet::volumes_naming_dead_services(&db),
            Vec::<String>::new()
        );
        // node02@lvm's cinder-volume starts again: a new row, a new uuid.
        db.exec(&format!(
            "INSERT INTO services (created_at, updated_at, deleted, id, host, `binary`, topic, \
         report_count, disabled, availability_zone, uuid) VALUES ('{t}', '{t}', 0, 12, \
         'node02@lvm', 'cinder-volume', 'cinder-volume', 1, 0, 'nova', 'uuid-12')",
            t = db.ago(5)
        ));
        let before = db.fingerprint();
        let run = undo();
        assert!(
            run.error_line()
                .contains("service uuid uuid-2 names no live service"),
            "{}",
            run.stderr
        );
        assert_eq!(db.fingerprint(), before);
        assert_eq!(db.placement("volumes", "v1").service_uuid, s("uuid-1"));
        crate::harness::fleet::cinder_purge_0(&db);
        assert_eq!(
            db.int("SELECT COUNT(*) FROM services WHERE id = 2"),
            0,
            "purged"
        );
    }
);

// The same re-check inside the undo's write: the old host's service is deleted between the
// undo's plan and its write; the WHERE clause sees it, the undo rolls back, exit 3.
both_backends!(
    undo_whose_target_goes_meanwhile_rolls_back,
    Schema::Cinder,
    |db| {
        cloud(&db);
        let txn = txn_of(
            &db.audited()
                .run(&move_args("node02@lvm", "node01@lvm", &["--yes"]))
                .code(0)
                .json(),
        );
        let child = db.audited().paused(
            "SVCCTL_TEST_PAUSE_FILE",
            &db.dir.path().join("pause"),
            &["volume", "move-host", "--undo", &txn, "--yes", "-f", "json"],
        );
        db.exec(&format!(
            "UPDATE services SET deleted = 1, deleted_at = '{}' WHERE id = 2",
            db.ago(0)
        ));
        let before = db.fingerprint();
        let v = child.resume().code(3).json();
        assert_eq!(v["moved"], serde_json::json!([]), "{v}");
        assert_eq!(db.fingerprint(), before);
        assert_eq!(db.placement("volumes", "v1").host, s("node01@lvm#nvme"));
        assert_eq!(
            crate::harness::fleet::volumes_naming_dead_services(&db),
            Vec::<String>::new()
        );
    }
);

/// Cluster `name` of cinder-volume, live, with these flags.
fn add_cluster(db: &TestDb, id: i64, name: &str, disabled: bool, frozen: bool) {
    db.exec(&format!(
        "INSERT INTO clusters (created_at, updated_at, deleted, id, name, `binary`, disabled, \
         disabled_reason, race_preventer, frozen) VALUES ('{t}', '{t}', 0, {id}, '{name}', \
         'cinder-volume', {}, 'maintenance', 0, {})",
        i32::from(disabled),
        i32::from(frozen),
        t = db.ago(100)
    ));
}

// A disabled or frozen target is refused (exit 3, naming why; --force overrides, with a
// warning), as Cinder's own migration requires the target enabled (cinder/volume/api.py
// migrate_volume asks for `disabled=False`). For a service in a cluster the cluster's flags are
// the ones Cinder reads (cinder/db/api.py _clustered_bool_field_filter; is_backend_frozen), so a
// disabled service in an enabled cluster is a fine target, and an enabled one in a disabled
// cluster is not.
both_backends!(
    a_disabled_or_frozen_target_is_refused,
    Schema::Cinder,
    |db| {
        cloud(&db);
        let refused = |says: &str| {
            let before = db.fingerprint();
            let run = db
                .audited()
                .run(&move_args("node02@lvm", "node01@lvm", &["--yes"]))
                .code(3);
            assert!(run.error_line().contains(says), "{says}: {}", run.stderr);
            assert_eq!(db.fingerprint(), before);
            assert!(db.audit_lines().is_empty());
        };
        // node01@lvm is in cluster cl1@lvm: its own flags do not count, the cluster's do.
        db.exec("UPDATE services SET disabled = 1, frozen = 1 WHERE id = 1");
        add_cluster(&db, 9, "cl1@lvm", true, false);
        refused("node01@lvm is disabled by its cluster cl1@lvm: \"maintenance\"");
        db.exec("UPDATE clusters SET disabled = 0, frozen = 1 WHERE id = 9");
        refused("node01@lvm is frozen by its cluster cl1@lvm");
        // Outside a cluster, the service's own flags.
        db.exec("UPDATE clusters SET frozen = 0 WHERE id = 9");
        db.exec("UPDATE services SET cluster_name = NULL, frozen = 0, disabled_reason = 'RMA' WHERE id = 1");
        refused("node01@lvm is disabled: \"RMA\"");
        db.exec("UPDATE services SET disabled = 0, frozen = 1 WHERE id = 1");
        refused("node01@lvm is frozen");
        // --force moves anyway, and says over what.
        let run = db
            .audited()
            .run(&move_args(
                "node02@lvm",
                "node01@lvm",
                &["--yes", "--force"],
            ))
            .code(0);
        assert!(
            run.stderr.contains(
                "warning: --force: moving onto cinder-volume node01@lvm, which is frozen"
            ),
            "{}",
            run.stderr
        );
        assert_eq!(db.placement("volumes", "v1").host, s("node01@lvm#nvme"));
    }
);

// A disabled service in an enabled cluster is a fine target (the scheduler reads the cluster's
// flag only); the target disabled by its cluster between the plan and the write is seen by the
// write's WHERE clause: the move rolls back, exit 3.
both_backends!(
    the_cluster_flag_counts_in_the_write_too,
    Schema::Cinder,
    |db| {
        cloud(&db);
        add_cluster(&db, 9, "cl1@lvm", false, false);
        db.exec("UPDATE services SET disabled = 1 WHERE id = 1");
        db.audited()
            .run(&move_args("node02@lvm", "node01@lvm", &["--dry-run"]))
            .code(0);
        let child = paused_move(&db);
        db.exec("UPDATE clusters SET disabled = 1 WHERE id = 9");
        let before = db.fingerprint();
        let v = child.resume().code(3).json();
        assert_eq!(moved_ids(&v), Vec::<String>::new());
        assert_eq!(db.fingerprint(), before);
        assert!(db.audit_lines().is_empty());
    }
);

// A target in another zone: Cinder's scheduler does not migrate a volume across zones
// (cinder/scheduler/filters/availability_zone_filter.py, run by scheduler/manager.py
// migrate_volume), so the move is refused, exit 3, naming the zones. With --force the volumes
// move and get the target's zone, as Cinder's migration sets it from the destination service
// (cinder/volume/manager.py migrate_volume); the old zone is recorded and --undo puts it back.
both_backends!(a_target_in_another_zone_is_refused, Schema::Cinder, |db| {
    cloud(&db);
    db.exec("UPDATE volumes SET availability_zone = 'nova'");
    db.exec("UPDATE services SET availability_zone = 'az2' WHERE id = 1");
    let before = db.fingerprint();
    let run = db
        .audited()
        .run(&move_args("node02@lvm", "node01@lvm", &["--yes"]))
        .code(3);
    assert!(
        run.error_line()
            .contains("is in zone az2, and 2 volumes are in another (v1 in nova, v2 in nova)"),
        "{}",
        run.stderr
    );
    assert_eq!(db.fingerprint(), before);
    let zone = |id: &str| {
        db.rows(&format!(
            "SELECT availability_zone FROM volumes WHERE id = '{id}'"
        ))[0][0]
            .clone()
    };
    let v = db
        .audited()
        .run(&move_args(
            "node02@lvm",
            "node01@lvm",
            &["--yes", "--force"],
        ))
        .code(0)
        .json();
    assert_eq!(
        (zone("v1"), zone("v2"), zone("v3")),
        (s("az2"), s("az2"), s("nova"))
    );
    assert_eq!(v["moved"][0]["old"]["availability_zone"], "nova");
    assert_eq!(v["moved"][0]["new"]["availability_zone"], "az2");
    let audit = db.audit_lines();
    assert_eq!(audit[0]["old"]["availability_zone"], "nova");
    // The group keeps its own zone: only volumes have one that Cinder's migration sets.
    assert_eq!(audit[2]["new"].get("availability_zone"), None);
    db.audited()
        .run(&["volume", "move-host", "--undo", &txn_of(&v), "--yes"])
        .code(0);
    assert_eq!((zone("v1"), zone("v2")), (s("nova"), s("nova")));
    assert_eq!(db.placement("volumes", "v1").host, s("node02@lvm#nvme"));
});

// --from HOST#POOL moves only that pool's rows (as `cinder-manage volume update_host
// --currenthost HOST#POOL` selects them: cinder/db/api.py volume_get_all_by_host with a pool
// matches that pool exactly); --to HOST#POOL gives every moved row that pool. Both are shown in
// the plan.
both_backends!(one_pool_moves_alone, Schema::Cinder, |db| {
    cloud(&db);
    let plan = db
        .audited()
        .run(&[
            "volume",
            "move-host",
            "--from",
            "node02@lvm#nvme",
            "--to",
            "node01@lvm#gold",
            "--dry-run",
        ])
        .code(0);
    // Wrapped to 80 columns, each further line indented.
    assert!(
        plan.stdout.replace("\n  ", " ").contains(
            "From: node02@lvm#nvme (pool nvme only); to: node01@lvm#gold (every row gets pool gold)"
        ),
        "{}",
        plan.stdout
    );
    let v = db
        .audited()
        .run(&move_args("node02@lvm#nvme", "node01@lvm#gold", &["--yes"]))
        .code(0)
        .json();
    assert_eq!(moved_ids(&v), ["v1", "g1"]);
    assert_eq!(db.placement("volumes", "v1").host, s("node01@lvm#gold"));
    assert_eq!(db.placement("groups", "g1").host, s("node01@lvm#gold"));
    assert_eq!(
        db.placement("volumes", "v2").host,
        s("node02@lvm"),
        "no pool: stays"
    );
    // Nothing left in that pool: 4; the pool on the same host is not a move.
    db.audited()
        .run(&move_args("node02@lvm#nvme", "node01@lvm", &["--yes"]))
        .code(4);
    db.audited()
        .run(&move_args("node02@lvm#a", "node02@lvm#b", &["--yes"]))
        .code(2);
    db.audited()
        .run(&[
            "backup",
            "move-host",
            "--from",
            "node02#p",
            "--to",
            "node01",
            "--yes",
        ])
        .code(2);
});

// Image-volume cache entries name the host and cluster of the volume they cache
// (cinder/image/cache.py create_cache_entry writes volume_ref.host and .cluster_name), so they
// move with the volumes by the same pool rule, and the old host's delete, refused for them
// before, succeeds after the move. --undo puts them back.
both_backends!(
    image_cache_entries_follow_their_volumes,
    Schema::Cinder,
    |db| {
        cloud(&db);
        db.exec(&format!(
            "INSERT INTO image_volume_cache_entries (id, host, cluster_name, image_id, volume_id, \
         size, last_used) VALUES (5, 'node02@lvm#nvme', NULL, 'img', 'v1', 1, '{}')",
            db.ago(60)
        ));
        let entry = || {
            db.rows("SELECT host, cluster_name FROM image_volume_cache_entries WHERE id = 5")
                .remove(0)
        };
        let v = db
            .audited()
            .run(&move_args("node02@lvm", "node01@lvm", &["--yes"]))
            .code(0)
            .json();
        assert_eq!(moved_ids(&v), ["v1", "v2", "g1", "5"]);
        assert_eq!(entry(), [s("node01@lvm#nvme"), s("cl1@lvm#nvme")]);
        assert_eq!(
            db.audit_lines()[3]["event"],
            "image_volume_cache_entry_host_moved"
        );
        db.audited()
            .run(&["volume", "move-host", "--undo", &txn_of(&v), "--yes"])
            .code(0);
        assert_eq!(entry(), [s("node02@lvm#nvme"), None]);
        db.audited()
            .run(&move_args("node02@lvm", "node01@lvm", &["--yes"]))
            .code(0);
        db.audited()
            .run(&["service", "delete", "--host", "node02@lvm", "--yes"])
            .code(0);
        crate::harness::fleet::cinder_purge_0(&db);
    }
);

// Busy rows on a dead node never settle: the refusal says so and gives the command that
// resets each (cinderclient's reset-state, by id) instead of "wait". A migration_status of
// 'deleting' is settled, as Cinder's AVAILABLE_MIGRATION_STATUS (cinder/volume/api.py) has it.
both_backends!(
    busy_rows_on_a_dead_node_say_how_to_reset_them,
    Schema::Cinder,
    |db| {
        cloud(&db);
        db.exec("UPDATE volumes SET status = 'creating' WHERE id = 'v2'");
        db.exec("UPDATE volumes SET migration_status = 'migrating' WHERE id = 'v1'");
        let before = db.fingerprint();
        let run = db
            .audited()
            .run(&move_args("node02@lvm", "node01@lvm", &["--yes"]))
            .code(3);
        let last = run.error_line();
        assert!(
            last.contains("their host's service is down, so they will not settle"),
            "{last}"
        );
        assert!(
            last.contains("cinder reset-state --reset-migration-status v1"),
            "{last}"
        );
        assert!(
            last.contains("cinder reset-state --state STATE v2"),
            "{last}"
        );
        assert_eq!(db.fingerprint(), before);
        // The same rows on a live host: wait for them.
        db.exec(&format!(
            "UPDATE services SET updated_at = '{}' WHERE id = 2",
            db.ago(5)
        ));
        let run = db
            .audited()
            .run(&move_args("node02@lvm", "node01@lvm", &["--yes"]))
            .code(3);
        assert!(
            run.error_line().contains("busy, wait for them to settle"),
            "{}",
            run.stderr
        );
        db.exec(&format!(
            "UPDATE services SET updated_at = '{}' WHERE id = 2",
            db.ago(600)
        ));
        db.exec("UPDATE volumes SET status = 'available' WHERE id = 'v2'");
        db.exec("UPDATE volumes SET migration_status = 'deleting' WHERE id = 'v1'");
        db.audited()
            .run(&move_args("node02@lvm", "node01@lvm", &["--yes"]))
            .code(0);
        assert_eq!(db.placement("volumes", "v1").host, s("node01@lvm#nvme"));
    }
);

// The target moves to another zone between the plan and the write: the volumes would get a
// zone the plan did not show; the WHERE clause sees it, the move rolls back, exit 3.
both_backends!(
    a_target_zone_changed_after_the_plan_rolls_back,
    Schema::Cinder,
    |db| {
        cloud(&db);
        let child = paused_move(&db);
        db.exec("UPDATE services SET availability_zone = 'az2' WHERE id = 1");
        let before = db.fingerprint();
        let v = child.resume().code(3).json();
        assert_eq!(moved_ids(&v), Vec::<String>::new());
        assert_eq!(db.fingerprint(), before);
        assert!(db.audit_lines().is_empty());
    }
);
