//! What still uses a service, counted as the plan counts it: every kind of reference on its
//! own service, so that the counting statement's shortcut (it counts only the services that
//! may have something, found through one read of each table) misses none of them.

use serde_json::Value;

use crate::both_backends;
use crate::harness::Schema;

/// The refused services' ids and the counts that refused each, in id order.
fn refused(v: &Value) -> Vec<(i64, Value)> {
    let mut out: Vec<(i64, Value)> = v["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let reason = r["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["kind"] == "in_use")
                .unwrap_or_else(|| panic!("no in_use reason: {r}"));
            (r["id"].as_i64().unwrap(), reason["counts"].clone())
        })
        .collect();
    out.sort_by_key(|(id, _)| *id);
    out
}

/// Twelve services, `n01`..`n12`: the first nine each with one kind of reference (see
/// `add_references`), the last three with none.
fn add_services(db: &crate::harness::TestDb) {
    for (id, host, binary) in [
        (1, "n01@lvm", "cinder-volume"),
        (2, "n02@lvm", "cinder-volume"),
        (3, "n03@lvm", "cinder-volume"),
        (4, "n04", "cinder-backup"),
        (5, "n05@lvm", "cinder-volume"),
        (6, "n06@lvm", "cinder-volume"),
        (7, "n07@lvm", "cinder-volume"),
        (8, "n08@lvm", "cinder-volume"),
        (9, "n09#odd", "cinder-volume"),
        (10, "n10@lvm", "cinder-volume"),
        (11, "n11", "cinder-volume"),
        (12, "n12@lvm", "cinder-volume"),
    ] {
        db.service(id, host, binary, 600);
    }
}

/// One reference of each kind, on services 1 to 9, and three rows that are not references, on
/// services 10 to 12.
fn add_references(db: &crate::harness::TestDb) {
    db.volume("v1", "n01@lvm");
    db.volume("v2", "n02@lvm#p1");
    // On no host of its service: found by the service's uuid alone.
    db.volume("v3", "elsewhere@x#p");
    db.exec("UPDATE volumes SET service_uuid = 'uuid-3' WHERE id = 'v3'");
    db.exec(
        "INSERT INTO backups (deleted, id, volume_id, host, status) \
         VALUES (0, 'b4', 'v1', 'n04', 'available')",
    );
    db.exec(
        "INSERT INTO `groups` (deleted, id, host, status) VALUES (0, 'g5', 'n05@lvm#p', 'available')",
    );
    db.exec("INSERT INTO consistencygroups (deleted, id, host) VALUES (0, 'c6', 'n06@lvm')");
    db.exec(&format!(
        "INSERT INTO image_volume_cache_entries (host, image_id, volume_id, size, last_used) \
         VALUES ('n07@lvm#p', 'i7', 'v7', 1, '{}')",
        db.ago(100)
    ));
    db.exec(
        "INSERT INTO workers (created_at, deleted, resource_type, resource_id, status, \
         service_id, race_preventer) VALUES ('2026-01-01 00:00:00', 0, 'Volume', 'v8', \
         'creating', 8, 0)",
    );
    // A host that itself holds a '#': its pool's volume is found all the same.
    db.volume("v9", "n09#odd#p");
    // Not references: another case (hosts compare exactly), a backup host on a service that
    // is no cinder-backup, and rows that are deleted.
    db.volume("v10", "N10@LVM");
    db.exec(
        "INSERT INTO backups (deleted, id, volume_id, host, status) \
         VALUES (0, 'b11', 'v1', 'n11', 'available')",
    );
    db.volume("v12", "n12@lvm");
    db.exec("UPDATE volumes SET deleted = 1 WHERE id = 'v12'");
}

both_backends!(every_kind_of_reference_is_counted, Schema::Cinder, |db| {
    add_services(&db);
    add_references(&db);

    let before = db.fingerprint();
    let v = db
        .svcctl()
        .run(&["service", "delete", "--host", "n*", "--yes", "-f", "json"])
        .code(3)
        .json();
    assert_eq!(db.fingerprint(), before, "refused: nothing changed");
    let got = refused(&v);
    let ids: Vec<i64> = got.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, [1, 2, 3, 4, 5, 6, 7, 8, 9], "{v}");
    let table = [
        "volumes",
        "volumes",
        "volumes",
        "backups",
        "groups",
        "consistencygroups",
        "image_volume_cache_entries",
        "workers",
        "volumes",
    ];
    for ((id, counts), table) in got.iter().zip(table) {
        assert_eq!(counts[table], 1, "service {id}: {counts}");
        let total: i64 = counts
            .as_object()
            .unwrap()
            .values()
            .filter_map(Value::as_i64)
            .sum();
        assert_eq!(total, 1, "service {id}: {counts}");
    }
});

// The same references, each arriving between the plan (which saw none) and the write: the
// write's WHERE clause keeps every service they use, whichever table or form (a pool, a uuid,
// a host that holds a '#', a worker) points at it.
both_backends!(
    every_kind_of_reference_between_plan_and_write,
    Schema::Cinder,
    |db| {
        add_services(&db);
        let pause = db.dir.path().join("pause");
        let child = db.audited().paused(
            "SVCCTL_TEST_PAUSE_FILE",
            &pause,
            &["service", "delete", "--host", "n*", "--yes", "-f", "json"],
        );
        add_references(&db);
        let v = child.resume().code(3).json();
        let mut kept: Vec<i64> = v["refused"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect();
        kept.sort_unstable();
        assert_eq!(kept, [1, 2, 3, 4, 5, 6, 7, 8, 9], "{v}");
        // All or nothing: the three unused services stay too, until a new plan.
        assert_eq!(v["deleted"], serde_json::json!([]), "{v}");
        assert_eq!(
            db.int("SELECT COUNT(*) FROM services WHERE deleted = 0"),
            12,
            "{v}"
        );
    }
);

// A uuid compares under the columns' collation (MySQL's folds case, SQLite's does not), a host
// byte for byte on both: the count agrees with the write's guard on each backend, whatever
// case or characters the values hold.
both_backends!(
    uuids_and_hosts_compare_as_the_server_does,
    Schema::Cinder,
    |db| {
        for (id, host) in [
            (1, "m01@lvm"),
            (2, "m02é@lvm"),
            (3, "m03@lvm"),
            (4, "m04@lvm"),
            (5, "m05@lvm"),
        ] {
            db.service(id, host, "cinder-volume", 600);
        }
        let mysql = db.backend == crate::harness::Backend::MySql;
        // Service 1's uuid in capitals: the same uuid to MySQL, another to SQLite (where the
        // foreign key wants a service of its own with it: one that is up, not matched below).
        if !mysql {
            db.service(6, "other", "cinder-volume", 0);
            db.exec("UPDATE services SET uuid = 'UUID-1' WHERE id = 6");
        }
        db.volume("v1", "elsewhere@x#p");
        db.exec("UPDATE volumes SET service_uuid = 'UUID-1' WHERE id = 'v1'");
        // A host that is not ASCII, on a pool.
        db.volume("v2", "m02é@lvm#p");
        // Another case of a host: never the same host.
        db.volume("v3", "M03@LVM#p");
        // A host that only starts like another's.
        db.volume("v4", "m04@lvm2");
        let before = db.fingerprint();
        let v = db
            .svcctl()
            .run(&["service", "delete", "--host", "m*", "--yes", "-f", "json"])
            .code(3)
            .json();
        assert_eq!(db.fingerprint(), before, "refused: nothing changed");
        let ids: Vec<i64> = refused(&v).iter().map(|(id, _)| *id).collect();
        let want: &[i64] = if mysql { &[1, 2] } else { &[2] };
        assert_eq!(ids, want, "{v}");
        // The rest go, and the guard lets them: what the count said is what the write finds.
        let v = db
            .audited()
            .run(&[
                "service",
                "delete",
                "--host",
                "m*",
                "--yes",
                "--skip-refused",
                "-f",
                "json",
            ])
            .code(0)
            .json();
        let mut deleted: Vec<i64> = v["deleted"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect();
        deleted.sort_unstable();
        let want: &[i64] = if mysql { &[3, 4, 5] } else { &[1, 3, 4, 5] };
        assert_eq!(deleted, want, "{v}");
    }
);

// A SQLite database may store its text as UTF-16 (`PRAGMA encoding`, fixed when its first
// table is made): its bytes are then not the UTF-8 svcctl reads, and the count asks about every
// service rather than find none on a host it cannot match byte for byte.
#[test]
fn a_utf16_sqlite_database_is_counted_all_the_same() {
    let db = crate::harness::TestDb::new(crate::harness::Backend::Sqlite, Schema::Empty).unwrap();
    db.exec(&format!(
        "PRAGMA encoding = 'UTF-16le'; {}",
        crate::harness::fixture("cinder-29.0.0-sqlite-schema.sql")
    ));
    let encoding = db.rows("SELECT encoding FROM pragma_encoding");
    assert_eq!(encoding[0][0].as_deref(), Some("UTF-16le"));
    // Volumes alone (a worker's id, unreadable as UTF-16 bytes, would have every service
    // asked anyway): on a pool, on the host, and none.
    for (id, host) in [(1, "n01@lvm"), (2, "n02@lvm"), (3, "n03@lvm")] {
        db.service(id, host, "cinder-volume", 600);
    }
    db.volume("v1", "n01@lvm#p");
    db.volume("v2", "n02@lvm");
    let v = db
        .svcctl()
        .run(&[
            "service",
            "delete",
            "--host",
            "n*",
            "--dry-run",
            "-f",
            "json",
        ])
        .json();
    let ids: Vec<i64> = refused(&v).iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, [1, 2], "{v}");
}

// Hosts compare as BINARY compares them, in each column's own character set: a volume whose
// host column is latin1 holds the bytes of the service's UTF-8 host `né02@lvm` (to latin1 they
// read `nÃ©02@lvm`). Arriving between plan and write, it keeps the service: the guard's
// superset compares those bytes, where text converted to one character set would differ and let
// the service go.
#[test]
fn a_host_in_another_character_set_is_matched_byte_for_byte() {
    let Some(db) = crate::harness::fleet::mysql_db() else {
        return;
    };
    db.exec("ALTER TABLE volumes MODIFY host VARCHAR(255) CHARACTER SET latin1");
    db.service(1, "né02@lvm", "cinder-volume", 600);
    let pause = db.dir.path().join("pause");
    let child = db.audited().paused(
        "SVCCTL_TEST_PAUSE_FILE",
        &pause,
        &[
            "service",
            "delete",
            "--host",
            "né02@lvm",
            "--yes",
            "-f",
            "json",
        ],
    );
    // `né02@lvm` as bytes (C3 A9 for `é`), stored as latin1 text.
    db.exec(
        "INSERT INTO volumes (created_at, deleted, id, host, status, volume_type_id, use_quota) \
         VALUES (UTC_TIMESTAMP(), 0, 'v1', CONVERT(_binary 0x6EC3A93032406C766D USING latin1), \
         'available', 'vt', 1)",
    );
    let v = child.resume().code(3).json();
    assert_eq!(v["deleted"], serde_json::json!([]), "{v}");
    assert_eq!(
        db.int("SELECT deleted FROM services WHERE id = 1"),
        0,
        "{v}"
    );
}
