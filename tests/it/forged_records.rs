//! Records that drive writes prove what they claim first (issue 19): the audit log is not
//! signed and root can edit it, so `service restore` and `move-host --undo` hold every record
//! to the database before it writes anything. A record of another database, or with no
//! database identity, is refused (exit 2); a record whose row is not the row it names, or that
//! would put back what no deletion or move recorded, is refused (exit 3), naming the column; the
//! UPDATE's WHERE clause holds the same, and a `rolled_back` line counts only where svcctl's
//! runner writes it. SQLite and MariaDB.

use serde_json::{Value, json};

use crate::both_backends;
use crate::harness::fleet::node02_scheduler_and_backup_down;
use crate::harness::{Run, Schema, TestDb};

/// The log's records, as JSON.
fn records(db: &TestDb) -> Vec<Value> {
    db.audit_lines()
}

/// Appends `lines` to the log as they stand.
fn append(db: &TestDb, lines: &[Value]) {
    let mut text = std::fs::read_to_string(db.audit_path()).unwrap_or_default();
    for l in lines {
        text.push_str(&format!("{l}\n"));
    }
    std::fs::write(db.audit_path(), text).unwrap();
}

/// Rewrites every line of the log with `f`.
fn rewrite(db: &TestDb, f: impl Fn(&mut Value)) {
    let lines: Vec<Value> = records(db)
        .into_iter()
        .map(|mut l| {
            f(&mut l);
            l
        })
        .collect();
    std::fs::write(db.audit_path(), "").unwrap();
    append(db, &lines);
}

/// node02's scheduler (3) and backup (4) soft-deleted in one transaction; its txn.
fn deleted_node02(db: &TestDb) -> String {
    node02_scheduler_and_backup_down(db);
    db.audited()
        .run(&["service", "delete", "--host", "node02", "--yes"])
        .code(0);
    records(db)[0]["txn"].as_str().unwrap().to_string()
}

/// The record line of service `id` in the log.
fn line_of(db: &TestDb, id: i64) -> Value {
    records(db)
        .into_iter()
        .find(|l| l["service"]["id"] == id)
        .unwrap()
}

/// A restore of `txn`, refused (`code`), changing nothing and writing no line.
fn refused(db: &TestDb, txn: &str, code: i32, said: &[&str]) -> Run {
    let before = db.fingerprint();
    let lines = records(db).len();
    let run = db
        .audited()
        .run(&["service", "restore", "--txn", txn, "--yes", "-f", "json"])
        .code(code);
    let all = format!("{}\n{}", run.stdout, run.stderr);
    for s in said {
        assert!(all.contains(s), "{s:?} not said:\n{all}");
    }
    assert_eq!(db.fingerprint(), before, "nothing changed");
    assert_eq!(records(db).len(), lines, "nothing recorded");
    run
}

// A record that names `cinder-backup decoy@x` with another deleted row's id (and that row's
// own deleted_at) restored that other row while the plan and result showed decoy@x. Now every
// identifying column it names is held to the row: refused, exit 3, naming the column.
both_backends!(
    a_record_naming_another_row_restores_nothing,
    Schema::Cinder,
    |db| {
        deleted_node02(&db);
        let mut forged = line_of(&db, 4);
        forged["txn"] = "forged-decoy".into();
        forged["service"]["id"] = 3.into();
        forged["service"]["host"] = "decoy@x".into();
        append(&db, &[forged.clone()]);
        let run = refused(
            &db,
            "forged-decoy",
            3,
            &["the record does not name this row: its host is node02, the record says decoy@x"],
        );
        assert_eq!(run.json()["refused"][0]["id"], 3);
        // The uuid is named too.
        let mut forged = line_of(&db, 4);
        forged["txn"] = "forged-uuid".into();
        forged["service"]["uuid"] = "uuid-999".into();
        append(&db, &[forged]);
        refused(
            &db,
            "forged-uuid",
            3,
            &["its uuid is uuid-4, the record says uuid-999"],
        );
    }
);

// A forged record put back a heartbeat of 9999-12-31: a service that looks up forever. What a
// restore writes back must be what a deletion could have recorded.
both_backends!(
    a_heartbeat_after_the_deletion_is_refused,
    Schema::Cinder,
    |db| {
        deleted_node02(&db);
        let mut forged = line_of(&db, 4);
        forged["txn"] = "forged-future".into();
        forged["service"]["updated_at"] = "9999-12-31T00:00:00.000000".into();
        append(&db, &[forged]);
        refused(
            &db,
            "forged-future",
            3,
            &["would put back updated_at 9999-12-31"],
        );
    }
);

// A record of another database (another cloud's, whose URL reads the same; a staging copy) is
// refused by its identity, naming both; one with no identity is refused too. A record whose
// URL differs but whose identity is this database's (the connection string changed) is this
// database's.
both_backends!(
    records_of_other_databases_are_refused,
    Schema::Cinder,
    |db| {
        let txn = deleted_node02(&db);
        let own = records(&db)[0]["db_identity"].clone();
        assert!(own.is_object(), "every record names its database: {own}");
        rewrite(&db, |l| {
            l["db_identity"]["schema"] = "cinder_staging".into();
            l["db_identity"]["inode"] = 1.into();
        });
        refused(
            &db,
            &txn,
            2,
            &["another database's record", "svcctl is connected to"],
        );
        // Moved by --host too: another database's deletion of node02 is not this one's.
        db.audited()
            .run(&["service", "restore", "--host", "node02", "--yes"])
            .code(4);
        rewrite(&db, |l| {
            l.as_object_mut().unwrap().remove("db_identity");
        });
        refused(&db, &txn, 2, &["records no database identity"]);
        db.audited()
            .run(&["service", "restore", "--host", "node02", "--yes"])
            .code(2);
        rewrite(&db, |l| {
            l["db_identity"] = own.clone();
            l["database"] = "mysql+pymysql://cinder:***@old-vip/cinder".into();
        });
        db.audited()
            .run(&["service", "restore", "--txn", &txn, "--yes"])
            .code(0);
        assert_eq!(db.int("SELECT COUNT(*) FROM services WHERE deleted = 0"), 3);
    }
);

// A forged rolled_back line made a real deletion impossible to restore. One counts only after
// its own transaction's record, written by the record's own user on its host and database: a
// stray one before the record, or one by someone else, hides nothing.
both_backends!(
    a_stray_rolled_back_line_hides_nothing,
    Schema::Cinder,
    |db| {
        let txn = deleted_node02(&db);
        let first = records(&db)[0].clone();
        let rolled = |user: &str| {
            json!({"action": "rolled_back", "event": "rolled_back", "txn": txn,
            "time": first["time"], "user": user, "hostname": first["hostname"],
            "database": first["database"], "db_identity": first["db_identity"],
            "error": "forged"})
        };
        let text = std::fs::read_to_string(db.audit_path()).unwrap();
        std::fs::write(db.audit_path(), format!("{}\n{text}", rolled("root"))).unwrap();
        append(&db, &[rolled("mallory")]);
        db.audited()
            .run(&["service", "restore", "--txn", &txn, "--yes"])
            .code(0);
        assert_eq!(db.int("SELECT COUNT(*) FROM services WHERE deleted = 0"), 3);
    }
);

// Between the plan and the write, the row the record names becomes another service (its host
// rewritten, deleted_at kept): the UPDATE's WHERE clause holds the record's host, binary and
// uuid, so the whole restore rolls back (exit 3).
both_backends!(
    the_restores_where_clause_holds_the_record,
    Schema::Cinder,
    |db| {
        let txn = deleted_node02(&db);
        let log = db.audit_path().display().to_string();
        let before = db.fingerprint();
        let child = db.svcctl().paused(
            "SVCCTL_TEST_PAUSE_FILE",
            &db.dir.path().join("pause"),
            &[
                "service",
                "restore",
                "--txn",
                &txn,
                "--yes",
                "--audit-log",
                &log,
            ],
        );
        db.exec("UPDATE services SET host = 'node09' WHERE id = 3");
        let run = child.resume().code(3);
        assert!(
            run.error_line().contains("changed between plan and write"),
            "{}",
            run.stderr
        );
        db.exec("UPDATE services SET host = 'node02' WHERE id = 3");
        assert_eq!(db.fingerprint(), before, "nothing restored");
    }
);

/// node01@lvm up (uuid-1), node02@lvm dead (uuid-2); v1 on node02@lvm#nvme pointing at uuid-2,
/// moved to node01@lvm; the move's txn.
fn moved_v1(db: &TestDb) -> String {
    db.service(1, "node01@lvm", "cinder-volume", 5);
    db.service(2, "node02@lvm", "cinder-volume", 600);
    db.volume("v1", "node02@lvm#nvme");
    db.exec("UPDATE volumes SET service_uuid = 'uuid-2' WHERE id = 'v1'");
    let v = db
        .audited()
        .run(&[
            "volume",
            "move-host",
            "--from",
            "node02@lvm",
            "--to",
            "node01@lvm",
            "--yes",
            "-f",
            "json",
        ])
        .code(0)
        .json();
    v["txn"].as_str().unwrap().to_string()
}

/// `volume move-host --undo txn`, refused (`code`), changing nothing.
fn undo_refused(db: &TestDb, txn: &str, code: i32, said: &[&str]) {
    let before = db.fingerprint();
    let lines = records(db).len();
    let run = db
        .audited()
        .run(&["volume", "move-host", "--undo", txn, "--yes"])
        .code(code);
    for s in said {
        assert!(run.stderr.contains(s), "{s:?} not said:\n{}", run.stderr);
    }
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert_eq!(db.fingerprint(), before, "nothing moved");
    assert_eq!(records(db).len(), lines, "nothing recorded");
}

// `--undo` replayed whatever the record said. Now the row must be where the record says the
// move put it (host, service uuid, cluster), what it sends the row back to must be a value
// svcctl would store, and the record must be this database's.
both_backends!(an_undo_holds_its_record_to_the_rows, Schema::Cinder, |db| {
    let txn = moved_v1(&db);
    let moved = records(&db)[0].clone();
    let mut forged = moved.clone();
    forged["txn"] = "forged-uuid".into();
    forged["new"]["service_uuid"] = "uuid-x".into();
    append(&db, &[forged]);
    undo_refused(
        &db,
        "forged-uuid",
        3,
        &["service_uuid is uuid-1, the record of the move says uuid-x"],
    );
    let mut hostile = moved.clone();
    hostile["txn"] = "forged-escape".into();
    hostile["old"]["host"] = "node02@lvm#\u{1b}[2J".into();
    append(&db, &[hostile]);
    undo_refused(
        &db,
        "forged-escape",
        3,
        &["svcctl never stores", "\\e at character 12"],
    );
    // Another database's move, and a move recorded without identity.
    let mut foreign = moved.clone();
    foreign["txn"] = "forged-foreign".into();
    foreign["db_identity"]["port"] = 1.into();
    foreign["db_identity"]["path"] = "/elsewhere.sqlite".into();
    append(&db, &[foreign]);
    undo_refused(&db, "forged-foreign", 2, &["another database's record"]);
    let mut legacy = moved.clone();
    legacy["txn"] = "forged-legacy".into();
    legacy.as_object_mut().unwrap().remove("db_identity");
    append(&db, &[legacy]);
    undo_refused(&db, "forged-legacy", 2, &["records no database identity"]);
    // The real record still undoes the move.
    db.audited()
        .run(&["volume", "move-host", "--undo", &txn, "--yes"])
        .code(0);
    assert_eq!(
        db.rows("SELECT host, service_uuid FROM volumes WHERE id = 'v1'"),
        [[
            Some("node02@lvm#nvme".to_string()),
            Some("uuid-2".to_string())
        ]]
    );
});

// Between an undo's plan and its write, the row's service uuid changes: the WHERE clause holds
// the record's placement, not only its host, and the whole undo rolls back (exit 3).
both_backends!(
    the_undos_where_clause_holds_the_record,
    Schema::Cinder,
    |db| {
        let txn = moved_v1(&db);
        let log = db.audit_path().display().to_string();
        let child = db.svcctl().paused(
            "SVCCTL_TEST_PAUSE_FILE",
            &db.dir.path().join("pause"),
            &[
                "volume",
                "move-host",
                "--undo",
                &txn,
                "--yes",
                "--audit-log",
                &log,
            ],
        );
        db.exec("UPDATE volumes SET service_uuid = 'uuid-2' WHERE id = 'v1'");
        let after = db.fingerprint();
        let run = child.resume().code(3);
        assert!(
            run.error_line().contains("changed between plan and write"),
            "{}",
            run.stderr
        );
        assert_eq!(db.fingerprint(), after, "nothing moved back");
    }
);
