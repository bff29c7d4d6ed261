//! A bad row is one row (issue 19): a value its column's type does not allow (a zero date such
//! as `updated_at = '2026-00-15'`, which MySQL stores when `sql_mode` lets it; the same text on
//! SQLite) made every `service list` format fail, naming neither row nor column, and the row
//! could not be deleted. Now the listing goes on and names it (`invalid: 2026-00-15` in tables,
//! null plus an `invalid` note in JSON), and a delete refuses it naming row and column (or, with
//! `--force`, deletes it). SQLite and MariaDB.

use serde_json::{Value, json};

use crate::both_backends;
use crate::harness::fleet::node02_scheduler_and_backup_down;
use crate::harness::{Backend, Schema, TestDb};

/// node02's scheduler (3) with `updated_at = '2026-00-15'`, its backup (4) with a day-zero
/// `modified_at`; node01's scheduler (1) as it should be. (An all-zero date reads as NULL, as
/// the MySQL driver and MySQLdb read it.)
fn zero_dates(db: &TestDb) {
    node02_scheduler_and_backup_down(db);
    let lax = match db.backend {
        Backend::MySql => "SET SESSION sql_mode = ''; ",
        Backend::Sqlite => "",
    };
    db.exec(&format!(
        "{lax}UPDATE services SET updated_at = '2026-00-15' WHERE id = 3; \
         UPDATE services SET modified_at = '2026-05-00 12:00:00' WHERE id = 4"
    ));
}

both_backends!(a_zero_date_is_one_bad_cell, Schema::Cinder, |db| {
    zero_dates(&db);
    let list = |f: &str| db.svcctl().run(&["service", "list", "-f", f]).code(0);
    let table = list("table");
    assert_eq!(
        table.stdout.lines().count(),
        3 + 4,
        "every row: {}",
        table.stdout
    );
    assert!(
        table.stdout.contains("invalid: 2026-00-15"),
        "{}",
        table.stdout
    );
    let v = list("json").json();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 3);
    let row = |id: i64| rows.iter().find(|r| r["id"] == id).unwrap().clone();
    assert_eq!(row(3)["updated_at"], Value::Null);
    assert_eq!(row(3)["invalid"], json!({"updated_at": "2026-00-15"}));
    assert_eq!(row(4)["modified_at"], Value::Null);
    assert_eq!(
        row(4)["invalid"],
        json!({"modified_at": "2026-05-00 12:00:00"})
    );
    assert!(
        row(1).get("invalid").is_none(),
        "only a bad row has the note"
    );
    assert!(row(1)["updated_at"].is_string());
    let csv = list("csv");
    assert!(csv.stdout.contains("invalid: 2026-00-15"), "{}", csv.stdout);
    assert!(
        csv.stdout.contains("invalid: 2026-05-00 12:00:00"),
        "{}",
        csv.stdout
    );
    assert_eq!(list("value").stdout.lines().count(), 3);
    let yaml: Value = serde_saphyr::from_str(&list("yaml").stdout).unwrap();
    assert_eq!(yaml, v);
});

// The delete of such a row is refused naming the row and the column (exit 3, nothing changed)
// where the verdict or a restore would stand on the value (here the heartbeat); with --force it
// is deleted. A bad value nothing stands on (modified_at) keeps nothing.
both_backends!(
    a_bad_row_is_refused_by_name_or_forced,
    Schema::Cinder,
    |db| {
        zero_dates(&db);
        let before = db.fingerprint();
        let run = db
            .audited()
            .run(&[
                "service",
                "delete",
                "--host",
                "node02",
                "--binary",
                "cinder-scheduler",
                "--yes",
            ])
            .code(3);
        assert!(
            run.stderr.contains(
                "refusing cinder-scheduler node02 (id 3): its updated_at holds \"2026-00-15\""
            ),
            "{}",
            run.stderr
        );
        assert_eq!(db.fingerprint(), before);
        let v = db
            .audited()
            .run(&[
                "service",
                "delete",
                "--host",
                "node02",
                "--yes",
                "--skip-refused",
                "-f",
                "json",
            ])
            .code(0)
            .json();
        assert_eq!(v["refused"][0]["reasons"][0]["kind"], "invalid_value");
        assert_eq!(v["refused"][0]["id"], 3);
        assert_eq!(v["refused"].as_array().unwrap().len(), 1, "{v}");
        assert_eq!(v["deleted"][0]["id"], 4, "{v}");
        assert_eq!(
            v["deleted"][0]["invalid"],
            json!({"modified_at": "2026-05-00 12:00:00"})
        );
        db.audited()
            .run(&["service", "delete", "--host", "node02", "--force", "--yes"])
            .code(0);
        assert_eq!(db.int("SELECT COUNT(*) FROM services WHERE deleted = 1"), 2);
    }
);
