//! `svcctl service purge --older-than DAYS`: hard-deleting old soft-deleted services and
//! clusters, in batches, skipping (never failing on) rows a foreign key still names, each
//! purged row audited first. SQLite and MariaDB.

use serde_json::Value;

use crate::both_backends;
use crate::harness::fleet::ids;
use crate::harness::{Schema, TestDb};

/// A row of `services`, soft-deleted `days` days ago (as Cinder leaves it).
fn soft_deleted(db: &TestDb, id: i64, host: &str, days: i64) {
    db.service(id, host, "cinder-volume", days * 86400 + 600);
    db.exec(&format!(
        "UPDATE services SET deleted = 1, deleted_at = '{}' WHERE id = {id}",
        db.ago(days * 86400)
    ));
}

fn all_ids(db: &TestDb) -> Vec<i64> {
    db.rows("SELECT CAST(id AS CHAR) FROM services ORDER BY id")
        .into_iter()
        .map(|r| r[0].as_ref().unwrap().parse().unwrap())
        .collect()
}

/// Everything but services and clusters, as text: purge must never touch it.
fn other_tables(db: &TestDb) -> Vec<Vec<Option<String>>> {
    let mut all = db.rows(&format!(
        "SELECT {}, {}, {}, {} FROM volumes ORDER BY id",
        db.text("id"),
        db.text("deleted"),
        db.text("deleted_at"),
        db.text("service_uuid")
    ));
    all.extend(db.rows(&format!(
        "SELECT {}, {}, {} FROM workers ORDER BY id",
        db.text("id"),
        db.text("deleted"),
        db.text("service_id")
    )));
    all
}

// 3 is old and free; 4 is named by a (soft-deleted) volume's service_uuid, 5 by a worker's
// service_id: skipped and reported, not a failed whole as `cinder-manage db purge`. 6 is too
// young for 7 days but not for 0. Live rows and other tables are never touched.
both_backends!(purge_skips_rows_still_referenced, Schema::Cinder, |db| {
    db.service(1, "node01", "cinder-scheduler", 5);
    soft_deleted(&db, 3, "old@a", 10);
    soft_deleted(&db, 4, "old@b", 10);
    soft_deleted(&db, 5, "old@c", 10);
    soft_deleted(&db, 6, "young@d", 1);
    db.exec(&format!(
        "INSERT INTO volumes (created_at, deleted, deleted_at, id, host, status, volume_type_id, \
         use_quota, service_uuid) VALUES ('{t}', 1, '{t}', 'v1', 'old@b#p', 'deleted', 'vt', 1, \
         'uuid-4')",
        t = db.ago(20 * 86400)
    ));
    db.exec(
        "INSERT INTO workers (created_at, deleted, resource_type, resource_id, status, \
             service_id, race_preventer) VALUES ('2026-01-01 00:00:00', 0, 'Volume', 'v9', \
             'creating', 5, 0)",
    );
    db.exec(&format!(
        "INSERT INTO clusters (created_at, deleted, deleted_at, id, name, `binary`, disabled, \
         race_preventer, frozen) VALUES ('2026-01-01 00:00:00', 1, '{}', 8, 'gone', \
         'cinder-volume', 0, 8, 0), ('2026-01-01 00:00:00', 0, NULL, 9, 'live', \
         'cinder-volume', 0, 0, 0)",
        db.ago(30 * 86400)
    ));
    let others = other_tables(&db);
    let before = db.fingerprint();
    let dry = db
        .audited()
        .run(&[
            "service",
            "purge",
            "--older-than",
            "7",
            "--dry-run",
            "-f",
            "json",
        ])
        .code(0)
        .json();
    assert_eq!(dry["dry_run"], true);
    assert_eq!(ids(&dry, "would_purge"), [3]);
    assert_eq!(ids(&dry, "skipped"), [4, 5]);
    assert_eq!(ids(&dry, "would_purge_clusters"), [8]);
    assert_eq!(db.fingerprint(), before);
    assert!(db.audit_lines().is_empty());
    // No --yes and no terminal: exit 2, nothing changed.
    db.audited()
        .run(&["service", "purge", "--older-than", "7"])
        .code(2);
    assert_eq!(db.fingerprint(), before);
    let run = db
        .audited()
        .run(&[
            "service",
            "purge",
            "--older-than",
            "7",
            "--yes",
            "-f",
            "json",
        ])
        .code(0);
    let v = run.json();
    assert_eq!(ids(&v, "purged"), [3]);
    assert_eq!(ids(&v, "skipped"), [4, 5]);
    let reasons = v["skipped"].to_string();
    assert!(reasons.contains("volumes.service_uuid"), "{reasons}");
    assert!(reasons.contains("workers.service_id"), "{reasons}");
    assert!(run.stderr.contains("skipped"), "{}", run.stderr);
    assert_eq!(all_ids(&db), [1, 4, 5, 6]);
    assert_eq!(db.int("SELECT COUNT(*) FROM clusters WHERE id = 8"), 0);
    assert_eq!(db.int("SELECT COUNT(*) FROM clusters WHERE id = 9"), 1);
    assert_eq!(other_tables(&db), others);
    // Each purged row is on record, whole, before it went.
    let lines = db.audit_lines();
    let purged: Vec<&Value> = lines.iter().filter(|l| l["action"] == "purge").collect();
    assert_eq!(purged.len(), 2, "{lines:?}");
    let svc = purged.iter().find(|l| l["service"]["id"] == 3).unwrap();
    assert_eq!(svc["service"]["host"], "old@a");
    assert_eq!(svc["service"]["uuid"], "uuid-3");
    assert_eq!(svc["service"]["deleted"], true);
    assert!(purged.iter().any(|l| l["cluster"]["name"] == "gone"));
    // DAYS 0: the young row goes too; the referenced ones still stay.
    let v = db
        .audited()
        .run(&[
            "service",
            "purge",
            "--older-than",
            "0",
            "--yes",
            "-f",
            "json",
        ])
        .code(0)
        .json();
    assert_eq!(ids(&v, "purged"), [6]);
    assert_eq!(all_ids(&db), [1, 4, 5]);
    // Nothing left to purge: exit 4, or 0 with --missing-ok... only the referenced remain,
    // which are reported again.
    let v = db
        .audited()
        .run(&[
            "service",
            "purge",
            "--older-than",
            "0",
            "--yes",
            "-f",
            "json",
        ])
        .code(4)
        .json();
    assert_eq!(ids(&v, "skipped"), [4, 5]);
    db.audited()
        .run(&[
            "service",
            "purge",
            "--older-than",
            "0",
            "--yes",
            "--missing-ok",
        ])
        .code(0);
    assert_eq!(other_tables(&db), others);
});

// 25 rows with --batch 10: three transactions, every row purged and audited once.
both_backends!(purge_in_batches, Schema::Cinder, |db| {
    for id in 1..=25 {
        soft_deleted(&db, id, &format!("n{id}"), 3);
    }
    let v = db
        .audited()
        .run(&[
            "service",
            "purge",
            "--older-than",
            "2",
            "--batch",
            "10",
            "--yes",
            "-f",
            "json",
        ])
        .code(0)
        .json();
    assert_eq!(ids(&v, "purged").len(), 25);
    assert_eq!(v["batches"], 3);
    assert_eq!(db.int("SELECT COUNT(*) FROM services"), 0);
    let lines = db.audit_lines();
    let mut audited_ids: Vec<i64> = lines
        .iter()
        .filter(|l| l["action"] == "purge")
        .map(|l| l["service"]["id"].as_i64().unwrap())
        .collect();
    audited_ids.sort();
    assert_eq!(audited_ids, (1..=25).collect::<Vec<_>>());
    let mut txns: Vec<&str> = lines.iter().map(|l| l["txn"].as_str().unwrap()).collect();
    txns.sort();
    txns.dedup();
    assert_eq!(txns.len(), 3, "one transaction per batch");
});

// DAYS must be a whole number from 0 up to the days since 1970; --batch at least 1.
both_backends!(purge_usage_errors_change_nothing, Schema::Cinder, |db| {
    soft_deleted(&db, 3, "old@a", 10);
    let before = db.fingerprint();
    for bad in [
        &["--older-than", "-1"][..],
        &["--older-than", "abc"],
        &["--older-than", "1e3"],
        &["--older-than", "100000"],
        &["--older-than", "7", "--batch", "0"],
        &[],
    ] {
        let mut args = vec!["service", "purge", "--yes"];
        args.extend_from_slice(bad);
        let run = db.audited().run(&args).code(2);
        assert!(
            run.stderr.starts_with("error:") || run.stderr.contains("svcctl: "),
            "{}",
            run.stderr
        );
    }
    assert_eq!(db.fingerprint(), before);
    assert!(db.audit_lines().is_empty());
});

// A volume that names the row between the plan and the write: the DELETE's WHERE clause keeps
// the row (reported), and the batch goes on with the rest.
both_backends!(
    purge_write_repeats_the_foreign_key_check,
    Schema::Cinder,
    |db| {
        soft_deleted(&db, 3, "old@a", 10);
        soft_deleted(&db, 4, "old@b", 10);
        let pause = db.dir.path().join("pause");
        let log = db.audit_path().display().to_string();
        let child = db.svcctl().paused(
            "SVCCTL_TEST_PAUSE_FILE",
            &pause,
            &[
                "service",
                "purge",
                "--older-than",
                "1",
                "--yes",
                "-f",
                "json",
                "--audit-log",
                &log,
            ],
        );
        db.exec(&format!(
        "INSERT INTO volumes (created_at, deleted, id, host, status, volume_type_id, use_quota, \
         service_uuid) VALUES ('{}', 0, 'late', 'old@b#p', 'available', 'vt', 1, 'uuid-4')",
        db.ago(5)
    ));
        let run = child.resume().code(0);
        let v = run.json();
        assert_eq!(ids(&v, "purged"), [3]);
        assert_eq!(all_ids(&db), [4]);
        assert!(run.stderr.contains("kept ids [4]"), "{}", run.stderr);
        let purged: Vec<Value> = db
            .audit_lines()
            .into_iter()
            .filter(|l| l["action"] == "purge")
            .collect();
        assert_eq!(purged.len(), 1, "only what went is on record");
    }
);

// Why a service is skipped says what works: named only by soft-deleted volumes, it waits for
// `cinder-manage db purge DAYS` (which removes deleted volume rows; cinder-manage volume
// update_service re-points live volumes only: cinder/db/api.py volume_update_all_by_service
// reads with read_deleted='no'), and the text says the service is skipped only because of
// deleted rows; named by a live volume, it must be re-pointed first. Once Cinder's own purge has
// removed the deleted volume row, svcctl's purge takes the service.
both_backends!(
    purge_hints_what_frees_a_skipped_service,
    Schema::Cinder,
    |db| {
        soft_deleted(&db, 4, "old@b", 10);
        soft_deleted(&db, 5, "old@c", 10);
        db.exec(&format!(
        "INSERT INTO volumes (created_at, deleted, deleted_at, id, host, status, volume_type_id, \
         use_quota, service_uuid) VALUES ('{t}', 1, '{t}', 'v1', 'old@b#p', 'deleted', 'vt', 1, \
         'uuid-4'), ('{t}', 0, NULL, 'v2', 'old@c#p', 'available', 'vt', 1, 'uuid-5')",
        t = db.ago(20 * 86400)
    ));
        let run = db
            .audited()
            .run(&[
                "service",
                "purge",
                "--older-than",
                "7",
                "--yes",
                "-f",
                "json",
            ])
            .code(4);
        let v = run.json();
        let reason = |i: usize| {
            let r = &v["skipped"][i]["reasons"][0];
            let kind = if i == 0 {
                "named_by_deleted"
            } else {
                "named_by_live"
            };
            assert_eq!(r["kind"], kind, "{r}");
            r["text"].as_str().unwrap().to_string()
        };
        assert!(
            reason(0).contains("named only by 1 soft-deleted row of volumes.service_uuid"),
            "{}",
            reason(0)
        );
        assert!(
            reason(0).contains("`cinder-manage db purge DAYS`"),
            "{}",
            reason(0)
        );
        assert!(!reason(0).contains("update_service"), "{}", reason(0));
        assert!(
            reason(1).contains("named by 1 live row of volumes.service_uuid")
                && reason(1).contains("svcctl volume move-host"),
            "{}",
            reason(1)
        );
        assert!(
            run.stderr
                .contains("skipped cinder-volume old@b (id 4): named only by"),
            "{}",
            run.stderr
        );
        // What `cinder-manage db purge 7` removes from volumes: the deleted row.
        db.exec(&format!(
            "DELETE FROM volumes WHERE deleted = 1 AND deleted_at < '{}'",
            db.ago(7 * 86400)
        ));
        let v = db
            .audited()
            .run(&[
                "service",
                "purge",
                "--older-than",
                "7",
                "--yes",
                "-f",
                "json",
            ])
            .code(0)
            .json();
        assert_eq!(ids(&v, "purged"), [4]);
        assert_eq!(ids(&v, "skipped"), [5]);
    }
);
