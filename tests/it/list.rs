//! `svcctl service list` against Cinder 29's schema and rows, on SQLite and MariaDB.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::both_backends;
use crate::harness::snapshot::FIXED_TIMES;
use crate::harness::{Schema, load_fixture_rows};
use crate::svcctl_snapshot;

fn hosts_of(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s["host"].as_str().unwrap().to_string())
        .collect()
}

// The fixture's timestamps are fixed (2026-11-25 03:48), so every service is down by now and the
// table is the same on every run: snapshot it, byte for byte, on both backends.
both_backends!(fixture_table, Schema::Cinder, |db| {
    load_fixture_rows(&db);
    let run = db.svcctl().run(&["service", "list"]).code(0);
    svcctl_snapshot!(FIXED_TIMES, "fixture_service_list", run.stdout);
    let run = db
        .svcctl()
        .run(&["service", "list", "--withreplication", "--host", "node01"])
        .code(0);
    svcctl_snapshot!(FIXED_TIMES, "fixture_withreplication", run.stdout);
});

// With node01's heartbeats made current, svcctl reaches Cinder's verdicts: node01 up, node02 down,
// the two rows `cinder-manage service remove` soft-deleted invisible.
both_backends!(same_verdicts_as_cinder, Schema::Cinder, |db| {
    load_fixture_rows(&db);
    db.exec(&format!(
        "UPDATE services SET updated_at = '{}' WHERE host LIKE 'node01%'",
        db.ago(5)
    ));
    let v = db
        .svcctl()
        .run(&["service", "list", "-f", "json"])
        .code(0)
        .json();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 10);
    for r in rows {
        let host = r["host"].as_str().unwrap();
        let want = if host.starts_with("node01") {
            "up"
        } else {
            "down"
        };
        assert_eq!(r["state"], want, "{host}");
        assert_ne!(r["id"], 21);
        assert_ne!(r["id"], 24);
    }
    assert_eq!(rows[0]["uuid"], "d8e2897e-a413-4592-be0d-db175a039c85");
    assert_eq!(rows[0]["zone"], "zettakit");
    assert_eq!(rows[0]["status"], "enabled");
    let keys: Vec<&str> = rows[0]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        keys,
        [
            "id",
            "uuid",
            "binary",
            "host",
            "zone",
            "status",
            "state",
            "updated_at",
            "modified_at",
            "created_at",
            "disabled_reason",
            "cluster_name",
            "replication_status",
            "active_backend_id",
            "frozen"
        ]
    );
    let all = db
        .svcctl()
        .run(&["service", "list", "-f", "json", "--include-deleted"])
        .code(0)
        .json();
    let deleted: Vec<&Value> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["deleted"] == true)
        .collect();
    assert_eq!(deleted.len(), 2);
    assert_eq!(deleted[0]["deleted_at"], "2026-11-25T03:49:02.000000");
});

// Up within service_down_time (60 s): 59 s is up, 61 s is down; a NULL updated_at falls back to
// created_at; a row with neither is down.
// Up within service_down_time (60 s): 59 s is up, 61 s is down; a NULL updated_at falls back to
// created_at; a row with neither is down. The boundary is against the wall clock: each round
// stamps the heartbeats afresh, and a round whose svcctl took longer than the 1 s margin to
// answer (a loaded machine) proves nothing either way and is run again.
both_backends!(up_down_boundary, Schema::Cinder, |db| {
    db.service(1, "a59", "cinder-volume", 59);
    db.service(2, "b61", "cinder-volume", 61);
    db.service(3, "c-null-updated", "cinder-volume", 1000);
    db.service(4, "d-no-times", "cinder-volume", 0);
    db.exec("UPDATE services SET updated_at = NULL, created_at = NULL WHERE id = 4");
    let s = |h: &str, st: &str| (h.to_string(), st.to_string());
    let mut judged = false;
    for _ in 0..5 {
        db.exec(&format!(
            "UPDATE services SET updated_at = '{}' WHERE id = 1; \
             UPDATE services SET updated_at = '{}' WHERE id = 2; \
             UPDATE services SET updated_at = NULL, created_at = '{}' WHERE id = 3",
            db.ago_ceil(59),
            db.ago_ceil(61),
            db.ago_ceil(5)
        ));
        let started = std::time::Instant::now();
        let v = db
            .svcctl()
            .run(&["service", "list", "-f", "json"])
            .code(0)
            .json();
        if started.elapsed() > std::time::Duration::from_millis(900) {
            continue;
        }
        let state: Vec<(String, String)> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["host"].as_str().unwrap().into(),
                    r["state"].as_str().unwrap().into(),
                )
            })
            .collect();
        assert_eq!(
            state,
            [
                s("a59", "up"),
                s("b61", "down"),
                s("c-null-updated", "up"),
                s("d-no-times", "down")
            ]
        );
        judged = true;
        break;
    }
    assert!(
        judged,
        "svcctl never answered within the 1 s margin the boundary needs"
    );
    let down = db
        .svcctl()
        .run(&[
            "service", "list", "-f", "value", "-c", "host", "--state", "down",
        ])
        .code(0);
    assert_eq!(down.stdout, "b61\nd-no-times\n");
    db.exec(&format!(
        "UPDATE services SET updated_at = '{}' WHERE id = 1",
        db.ago_ceil(5)
    ));
    let up = db
        .svcctl()
        .run(&["service", "list", "-f", "json", "--state", "up"])
        .code(0)
        .json();
    assert_eq!(hosts_of(&up), ["a59", "c-null-updated"]);
});

both_backends!(host_matching, Schema::Cinder, |db| {
    for (id, host) in [
        (1, "node_1"),
        (2, "nodeX1"),
        (3, "Node1"),
        (4, "node1"),
        (5, "node1@lvm"),
        (6, "node%"),
    ] {
        db.service(id, host, "cinder-volume", 5);
    }
    let hosts = |args: &[&str]| {
        let mut a = vec!["service", "list", "-f", "json"];
        a.extend_from_slice(args);
        hosts_of(&db.svcctl().run(&a).code(0).json())
    };
    assert_eq!(hosts(&["--host", "node_1"]), ["node_1"]);
    assert_eq!(hosts(&["--host", "node1"]), ["node1"]);
    assert_eq!(hosts(&["--host", "Node1"]), ["Node1"]);
    assert_eq!(hosts(&["--host", "node1@*"]), ["node1@lvm"]);
    assert_eq!(hosts(&["--host", "node?1"]), ["nodeX1", "node_1"]);
    assert_eq!(hosts(&["--host", "node%"]), ["node%"]);
    assert_eq!(
        hosts(&["--host", "node1", "--host", "nodeX1"]),
        ["node1", "nodeX1"]
    );
    assert!(hosts(&["--host", "nod"]).is_empty());
    let bad = db
        .svcctl()
        .run(&["service", "list", "--host", "node1@lvm#pool"])
        .code(2);
    assert!(bad.error_line().contains("'#pool'"), "{}", bad.stderr);
});

both_backends!(filters, Schema::Cinder, |db| {
    db.service(1, "n1", "cinder-volume", 5);
    db.service(2, "n1", "cinder-backup", 5);
    db.service(3, "n2", "cinder-volume", 500);
    db.exec("UPDATE services SET disabled = 1, disabled_reason = 'maintenance', availability_zone = 'az2' WHERE id = 3");
    let ids = |args: &[&str]| -> Vec<i64> {
        let mut a = vec!["service", "list", "-f", "json"];
        a.extend_from_slice(args);
        db.svcctl()
            .run(&a)
            .code(0)
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(ids(&["--binary", "cinder-volume"]), [1, 3]);
    assert_eq!(ids(&["--zone", "az2"]), [3]);
    assert_eq!(ids(&["--disabled"]), [3]);
    assert_eq!(ids(&["--enabled"]), [2, 1]);
    assert_eq!(ids(&["--state", "down", "--binary", "cinder-volume"]), [3]);
    db.svcctl()
        .run(&["service", "list", "--disabled", "--enabled"])
        .code(2);
    db.svcctl()
        .run(&["service", "list", "--state", "sideways"])
        .code(2);
});

both_backends!(formats_round_trip, Schema::Cinder, |db| {
    db.service(1, "n1@lvm", "cinder-volume", 5);
    db.service(2, "n2", "cinder-backup", 500);
    db.exec("UPDATE services SET disabled_reason = 'has, a \"comma\"' WHERE id = 2");
    let csv_out = db
        .svcctl()
        .run(&["service", "list", "-f", "csv"])
        .code(0)
        .stdout;
    let mut r = csv::Reader::from_reader(csv_out.as_bytes());
    let headers: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        headers,
        [
            "Binary",
            "Host",
            "Zone",
            "Status",
            "State",
            "Updated_at",
            "Modified_at",
            "Disabled Reason"
        ]
    );
    // Each record by its header's names.
    let rows: Vec<BTreeMap<String, String>> = r.deserialize().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["Binary"], "cinder-backup");
    assert_eq!(rows[0]["Disabled Reason"], "has, a \"comma\"");
    assert_eq!(rows[1]["Disabled Reason"], "", "NULL is an empty CSV field");
    let v = db
        .svcctl()
        .run(&["service", "list", "-f", "json", "-c", "host", "-c", "State"])
        .code(0)
        .json();
    // In the order the table of these columns shows: by host, then state.
    assert_eq!(
        v,
        serde_json::json!([{"host": "n1@lvm", "state": "up"}, {"host": "n2", "state": "down"}])
    );
    let value = db
        .svcctl()
        .run(&["service", "list", "-f", "value", "-c", "binary", "-c", "id"])
        .code(0);
    assert_eq!(value.stdout, "cinder-backup 2\ncinder-volume 1\n");
    // As cliff's formatters write Python values: NULL is `None` in value output and an empty
    // field in CSV; booleans are True/False in both, unquoted in CSV.
    db.exec("UPDATE services SET frozen = 0 WHERE id = 1");
    db.exec("UPDATE services SET frozen = 1 WHERE id = 2");
    let value = db
        .svcctl()
        .run(&[
            "service",
            "list",
            "-f",
            "value",
            "-c",
            "id",
            "-c",
            "cluster_name",
            "-c",
            "frozen",
        ])
        .code(0);
    assert_eq!(value.stdout, "1 None False\n2 None True\n");
    let csv = db
        .svcctl()
        .run(&[
            "service",
            "list",
            "-f",
            "csv",
            "-c",
            "id",
            "-c",
            "cluster_name",
            "-c",
            "frozen",
        ])
        .code(0);
    assert_eq!(
        csv.stdout,
        "\"ID\",\"Cluster\",\"Frozen\"\n1,\"\",False\n2,\"\",True\n"
    );
    let bad = db.svcctl().run(&["service", "list", "-c", "nope"]).code(2);
    assert!(
        bad.error_line().contains("unknown column \"nope\""),
        "{}",
        bad.stderr
    );
    let empty = db
        .svcctl()
        .run(&["service", "list", "--host", "nobody"])
        .code(0);
    assert_eq!(
        empty.stdout.lines().count(),
        4,
        "an empty table keeps its header box:\n{}",
        empty.stdout
    );
    assert_eq!(
        db.svcctl()
            .run(&["service", "list", "--host", "nobody", "-f", "json"])
            .code(0)
            .json(),
        serde_json::json!([])
    );
});

// An old release's services table (no uuid, cluster_name, replication columns): still listed,
// missing columns as null.
both_backends!(old_schema, Schema::Empty, |db| {
    db.exec(
        "CREATE TABLE services (created_at DATETIME, updated_at DATETIME, deleted_at DATETIME, \
         deleted BOOLEAN, id INTEGER NOT NULL PRIMARY KEY, host VARCHAR(255), `binary` VARCHAR(255), \
         topic VARCHAR(255), report_count INTEGER NOT NULL, disabled BOOLEAN, \
         availability_zone VARCHAR(255), disabled_reason VARCHAR(255))",
    );
    db.exec(&format!(
        "INSERT INTO services VALUES ('{t}', '{t}', NULL, 0, 1, 'old@lvm', 'cinder-volume', 'cinder-volume', 3, 0, 'nova', NULL)",
        t = db.ago(5)
    ));
    let v = db
        .svcctl()
        .run(&["service", "list", "-f", "json", "--withreplication"])
        .code(0)
        .json();
    assert_eq!(v[0]["host"], "old@lvm");
    assert_eq!(v[0]["state"], "up");
    assert_eq!(v[0]["uuid"], Value::Null);
    assert_eq!(v[0]["cluster_name"], Value::Null);
    assert_eq!(v[0]["frozen"], Value::Null);
    let t = db
        .svcctl()
        .run(&["service", "list", "--withreplication"])
        .code(0);
    assert!(
        t.stdout
            .contains("| Replication Status | Active Backend ID | Frozen |"),
        "{}",
        t.stdout
    );
});
