//! What several test files share: the small clouds they seed a database with, and the helpers
//! that read svcctl's answers (ids, hosts) or run a step more than one of them needs. A test
//! file takes these from here, never from another test file.

use serde_json::Value;

use super::database::{Backend, Schema, TestDb};

/// A Cinder 29 database on the private MariaDB; None where there is none (the skip was said).
pub fn mysql_db() -> Option<TestDb> {
    TestDb::new(Backend::MySql, Schema::Cinder)
}

/// A live node01 (scheduler 1, backend lvm 2) beside a dead node02 (scheduler 3, backup 4,
/// backends lvm 5 and ceph 6).
pub fn node01_up_node02_down(db: &TestDb) {
    db.service(1, "node01", "cinder-scheduler", 5);
    db.service(2, "node01@lvm", "cinder-volume", 5);
    db.service(3, "node02", "cinder-scheduler", 600);
    db.service(4, "node02", "cinder-backup", 600);
    db.service(5, "node02@lvm", "cinder-volume", 600);
    db.service(6, "node02@ceph", "cinder-volume", 600);
}

/// A live node01 scheduler (1) beside node02's dead scheduler (3) and backup (4).
pub fn node02_scheduler_and_backup_down(db: &TestDb) {
    db.service(1, "node01", "cinder-scheduler", 5);
    db.service(3, "node02", "cinder-scheduler", 600);
    db.service(4, "node02", "cinder-backup", 600);
}

/// The ids of the live (deleted = 0) services, in id order.
pub fn live_ids(db: &TestDb) -> Vec<i64> {
    db.rows("SELECT CAST(id AS CHAR) FROM services WHERE deleted = 0 ORDER BY id")
        .into_iter()
        .map(|r| r[0].as_ref().unwrap().parse().unwrap())
        .collect()
}

/// The `id`s of the rows in the array `key` of a JSON result, in the order svcctl gave them.
pub fn ids(v: &Value, key: &str) -> Vec<i64> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("no array {key:?} in {v}"))
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect()
}

/// The hosts of the services a JSON result says were deleted, in its order.
pub fn deleted_hosts(v: &Value) -> Vec<String> {
    v["deleted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["host"].as_str().unwrap().to_string())
        .collect()
}

/// Service `id` on `node` last heartbeated 56 s ago: `backend cleanup KEY --wait 30` waits for
/// it to go down, says so, and succeeds. Its JSON result.
pub fn cleanup_seeing_go_down(db: &TestDb, key: &str, id: i64, node: &str) -> Value {
    db.exec(&format!(
        "UPDATE services SET updated_at = '{}' WHERE id = {id}",
        db.ago_ceil(56)
    ));
    let run = db
        .audited()
        .run(&[
            "backend", "cleanup", key, "--yes", "--wait", "30", "-f", "json",
        ])
        .code(0);
    // In a pipe: one line when the wait starts (with when the service counts as down) and one
    // per change, never a countdown.
    let start = format!("waiting up to 30s for 1 service to go down: {node}@");
    assert_eq!(
        run.stderr.lines().filter(|l| l.starts_with(&start)).count(),
        1,
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("(down after "), "{}", run.stderr);
    assert!(run.stderr.contains("all went down"), "{}", run.stderr);
    assert!(!run.stderr.contains("s left)   "), "{}", run.stderr);
    run.json()
}

/// What `cinder-manage db purge 0` does to the tables svcctl's tests write (cinder/db/api.py
/// `purge_deleted_rows`: each table, dependants first, `DELETE ... WHERE deleted AND
/// deleted_at < now`), with the foreign keys enforced as on MySQL (`PRAGMA foreign_keys` on
/// SQLite): it panics, failing the test, where Cinder's purge would fail on a foreign key
/// (`volumes.service_uuid` -> `services.uuid`, `workers.service_id` -> `services.id`).
pub fn cinder_purge_0(db: &TestDb) {
    let soon = db.ago(-5);
    let mut sql = String::new();
    if db.backend == Backend::Sqlite {
        sql.push_str("PRAGMA foreign_keys = ON;\n");
    }
    for table in ["volumes", "workers", "services", "clusters"] {
        sql.push_str(&format!(
            "DELETE FROM {table} WHERE deleted = 1 AND deleted_at < '{soon}';\n"
        ));
    }
    db.exec(&sql);
}

/// The live volumes whose `service_uuid` names no live service (a purge would fail on them
/// once those rows age): their ids.
pub fn volumes_naming_dead_services(db: &TestDb) -> Vec<String> {
    db.rows(
        "SELECT v.id FROM volumes v WHERE v.deleted = 0 AND v.service_uuid IS NOT NULL AND NOT \
         EXISTS (SELECT 1 FROM services s WHERE s.uuid = v.service_uuid AND s.deleted = 0)",
    )
    .into_iter()
    .map(|r| r[0].clone().unwrap())
    .collect()
}
