//! svcctl agrees with Cinder where real deployments differ from the seed's cluster: the State and
//! Updated_at rules of `cinder service-list` after services are disabled the way Cinder disables
//! them, a heartbeat from the future, volumes that reach a service only through its cluster, and
//! the order rows come in, on SQLite and MariaDB.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::both_backends;
use crate::harness::{Schema, TestDb};

/// A stored timestamp as `cinder service-list` shows it: `2026-11-26T00:48:00.000000`.
fn shown(stored: &str) -> String {
    let t = stored.replace(' ', "T");
    if t.contains('.') {
        t
    } else {
        format!("{t}.000000")
    }
}

/// `cinder service-disable --reason R` / `service-enable`, as Cinder's DB API `service_update`
/// writes it: `disabled` and `disabled_reason`, `modified_at` stamped, `updated_at` kept.
fn cinder_set_disabled(db: &TestDb, id: i64, disabled: bool, reason: Option<&str>, at: &str) {
    db.exec(&format!(
        "UPDATE services SET disabled = {}, disabled_reason = {}, modified_at = '{at}', \
         updated_at = updated_at WHERE id = {id}",
        i32::from(disabled),
        reason.map_or("NULL".to_string(), |r| format!("'{r}'"))
    ));
}

fn heartbeat(db: &TestDb, id: i64, at: &str) {
    db.exec(&format!(
        "UPDATE services SET updated_at = '{at}' WHERE id = {id}"
    ));
}

// After `service-disable`/`service-enable`, the table is what `cinder service-list` prints,
// byte for byte: Updated_at shows modified_at when it is at least as close to now as the
// heartbeat, and a heartbeat more than service_down_time in the future is down.
both_backends!(
    disabled_like_cinder_lists_like_cinder,
    Schema::Cinder,
    |db| {
        db.service(1, "node01", "cinder-scheduler", 5);
        db.service(2, "node02@lvm", "cinder-volume", 1800);
        db.service(3, "node03@lvm", "cinder-volume", 5);
        db.service(4, "node04@lvm", "cinder-volume", 0);
        db.service(5, "node05@lvm", "cinder-volume", 0);
        // node01 is being decommissioned: disabled just now, still heartbeating.
        let t1 = db.ago(0);
        cinder_set_disabled(&db, 1, true, Some("decommission node01"), &t1);
        // node02 died half an hour ago and was disabled ten minutes ago.
        let t2 = db.ago(600);
        cinder_set_disabled(&db, 2, true, Some("disk failure"), &t2);
        // node03 was disabled and enabled again ten minutes ago; its heartbeat is newer.
        cinder_set_disabled(&db, 3, false, None, &db.ago(600));
        let t3 = db.rows(&format!(
            "SELECT {} FROM services WHERE id = 3",
            db.text("updated_at")
        ))[0][0]
            .clone()
            .unwrap();
        // Clocks ahead: node04 by 90 s (down, as Cinder says), node05 by 30 s (up).
        let (t4, t5) = (db.ago(-90), db.ago(-30));
        heartbeat(&db, 4, &t4);
        heartbeat(&db, 5, &t5);
        let expected = format!(
        "\
+------------------+------------+------+----------+-------+----------------------------+---------------------+
|      Binary      |    Host    | Zone |  Status  | State |         Updated_at         |   Disabled Reason   |
+------------------+------------+------+----------+-------+----------------------------+---------------------+
| cinder-scheduler |   node01   | nova | disabled |   up  | {} | decommission node01 |
|  cinder-volume   | node02@lvm | nova | disabled |  down | {} |     disk failure    |
|  cinder-volume   | node03@lvm | nova | enabled  |   up  | {} |          -          |
|  cinder-volume   | node04@lvm | nova | enabled  |  down | {} |          -          |
|  cinder-volume   | node05@lvm | nova | enabled  |   up  | {} |          -          |
+------------------+------------+------+----------+-------+----------------------------+---------------------+
",
        shown(&t1),
        shown(&t2),
        shown(&t3),
        shown(&t4),
        shown(&t5)
    );
        let run = db.svcctl().run(&["service", "list"]).code(0);
        assert_eq!(run.stdout, expected);
        // JSON: updated_at as the table shows it (Cinder's API field), modified_at as stored.
        let v = db
            .svcctl()
            .run(&["service", "list", "-f", "json"])
            .code(0)
            .json();
        let rows = v.as_array().unwrap();
        let get = |i: usize, k: &str| rows[i][k].clone();
        assert_eq!(get(0, "updated_at"), shown(&t1));
        assert_eq!(get(0, "modified_at"), shown(&t1));
        assert_eq!(get(0, "status"), "disabled");
        assert_eq!(get(0, "disabled_reason"), "decommission node01");
        assert_eq!(get(1, "updated_at"), shown(&t2));
        assert_eq!(get(1, "state"), "down");
        assert_eq!(get(2, "updated_at"), shown(&t3));
        assert_ne!(get(2, "modified_at"), Value::Null);
        assert_eq!(get(3, "state"), "down");
        assert_eq!(get(3, "modified_at"), Value::Null);
        assert_eq!(get(4, "state"), "up");
        // CSV gains the column too, after Updated_at; --state follows the same rule.
        // (--quote minimal: the raw text is compared; cliff's default quotes every string.)
        let csv = db
            .svcctl()
            .run(&["service", "list", "-f", "csv", "--quote", "minimal"])
            .code(0);
        let mut lines = csv.stdout.lines();
        assert_eq!(
            lines.next(),
            Some("Binary,Host,Zone,Status,State,Updated_at,Modified_at,Disabled Reason"),
            "{}",
            csv.stdout
        );
        let first: Vec<&str> = lines.next().unwrap().split(',').collect();
        assert_eq!(
            (first[5], first[6]),
            (shown(&t1).as_str(), shown(&t1).as_str())
        );
        let up = db
            .svcctl()
            .run(&[
                "service", "list", "--state", "up", "-f", "value", "-c", "host",
            ])
            .code(0);
        assert_eq!(up.stdout, "node01\nnode03@lvm\nnode05@lvm\n");
    }
);

// A heartbeat from the future is clock skew, up or down by Cinder's rule: never deleted without
// --force, and the refusal names the clock.
both_backends!(
    future_heartbeat_is_refused_for_deleting,
    Schema::Cinder,
    |db| {
        db.service(1, "skew1@lvm", "cinder-volume", 0);
        db.service(2, "skew2@lvm", "cinder-volume", 0);
        heartbeat(&db, 1, &db.ago(-10));
        heartbeat(&db, 2, &db.ago(-120));
        let before = db.fingerprint();
        for host in ["skew1@lvm", "skew2@lvm"] {
            let run = db
                .audited()
                .run(&["service", "delete", "--host", host, "--yes", "-f", "json"])
                .code(3);
            let reasons = run.json()["refused"][0]["reasons"].to_string();
            assert!(
                reasons.contains("s in the future: check this node's clock"),
                "{host}: {reasons}"
            );
            assert_eq!(db.fingerprint(), before);
        }
        let plan = db
            .audited()
            .run(&["service", "delete", "--host", "skew2@lvm", "--dry-run"])
            .code(3);
        assert!(plan.stdout.contains("refuse: heartbeat"), "{}", plan.stdout);
        db.audited()
            .run(&["service", "delete", "--host", "skew*", "--yes", "--force"])
            .code(0);
        assert_eq!(db.int("SELECT COUNT(*) FROM services WHERE deleted = 0"), 0);
    }
);

/// Inserts a live volume on `host` in cluster `cluster`.
fn cluster_volume(db: &TestDb, id: &str, host: &str, cluster: &str) {
    db.exec(&format!(
        "INSERT INTO volumes (created_at, deleted, id, host, cluster_name, status, \
         volume_type_id, use_quota) VALUES ('{}', 0, '{id}', '{host}', '{cluster}', \
         'available', 'vt', 1)",
        db.ago(100)
    ));
}

/// An active-active cluster c1@lvm: node01@lvm live, node02@lvm already removed; `members`
/// more live members (node1N@lvm).
fn cluster_c1(db: &TestDb, members: i64) {
    db.service(1, "node01@lvm", "cinder-volume", 600);
    db.service(2, "node02@lvm", "cinder-volume", 600);
    db.exec("UPDATE services SET deleted = 1 WHERE id = 2");
    for i in 0..members {
        db.service(10 + i, &format!("node1{i}@lvm"), "cinder-volume", 600);
    }
    db.exec("UPDATE services SET cluster_name = 'c1@lvm'");
}

// Volumes and groups whose cluster is c1@lvm and whose host names no live service reach the
// cluster's last live service only through the cluster: deleting it is refused with the count.
both_backends!(
    cluster_only_volumes_refuse_the_last_member,
    Schema::Cinder,
    |db| {
        cluster_c1(&db, 0);
        cluster_volume(&db, "v1", "node02@lvm#pool", "c1@lvm#pool");
        db.exec(
            "INSERT INTO `groups` (created_at, deleted, id, host, cluster_name) \
         VALUES ('2026-01-01 00:00:00', 0, 'g1', NULL, 'c1@lvm')",
        );
        // Not through the cluster: another cluster, and a host another live service serves.
        cluster_volume(&db, "v2", "node02@lvm#pool", "c2@lvm");
        db.service(30, "node03@lvm", "cinder-volume", 600);
        cluster_volume(&db, "v3", "node03@lvm#pool", "c1@lvm");
        let before = db.fingerprint();
        let run = db
            .audited()
            .run(&[
                "service",
                "delete",
                "--host",
                "node01@lvm",
                "--yes",
                "-f",
                "json",
            ])
            .code(3);
        let v = run.json();
        let reasons = v["refused"][0]["reasons"].to_string();
        assert!(
            reasons.contains("1 volume, 1 group reach it only through its cluster c1@lvm"),
            "{v}"
        );
        assert_eq!(db.fingerprint(), before);
        let table = db
            .audited()
            .run(&[
                "service",
                "delete",
                "--host",
                "node01@lvm",
                "--dry-run",
                "--max-width",
                "200",
            ])
            .code(3);
        assert!(
            table
                .stdout
                .contains("refuse: cluster c1@lvm: 1 volume, 1 group"),
            "{}",
            table.stdout
        );
        // With another live member the cluster stays, and so may this one go; then the last
        // member is refused, alone or deleted together with the other.
        db.service(11, "node11@lvm", "cinder-volume", 600);
        db.exec("UPDATE services SET cluster_name = 'c1@lvm' WHERE id = 11");
        let before = db.fingerprint();
        db.audited()
            .run(&[
                "service",
                "delete",
                "--host",
                "node0*@lvm",
                "--host",
                "node11@lvm",
                "--yes",
            ])
            .code(3);
        assert_eq!(db.fingerprint(), before);
        db.audited()
            .run(&["service", "delete", "--host", "node01@lvm", "--yes"])
            .code(0);
        db.audited()
            .run(&["service", "delete", "--host", "node11@lvm", "--yes"])
            .code(3);
        // --force overrides, as for every refusal.
        db.audited()
            .run(&[
                "service",
                "delete",
                "--host",
                "node11@lvm",
                "--yes",
                "--force",
            ])
            .code(0);
    }
);

// A volume joining the cluster between the plan and the write keeps its last member: the
// write's WHERE clause repeats the rule.
both_backends!(
    cluster_volume_between_plan_and_write,
    Schema::Cinder,
    |db| {
        cluster_c1(&db, 0);
        let pause = db.dir.path().join("pause");
        let child = db.audited().paused(
            "SVCCTL_TEST_PAUSE_FILE",
            &pause,
            &[
                "service",
                "delete",
                "--host",
                "node01@lvm",
                "--yes",
                "-f",
                "json",
            ],
        );
        cluster_volume(&db, "late", "node09@lvm#pool", "c1@lvm");
        let v = child.resume().code(3).json();
        assert_eq!(v["deleted"], serde_json::json!([]));
        assert_eq!(v["refused"][0]["id"], 1);
        assert_eq!(db.int("SELECT deleted FROM services WHERE id = 1"), 0);
        assert_eq!(db.int("SELECT COUNT(*) FROM clusters WHERE deleted = 1"), 0);
    }
);

/// The rows of a table svcctl printed, as their (Host, Updated_at) cells, found by the header.
fn table_rows(table: &str) -> Vec<(String, String)> {
    let cells = |l: &str| -> Vec<String> { l.split('|').map(|c| c.trim().to_string()).collect() };
    let mut lines = table.lines().filter(|l| l.starts_with('|'));
    let header = cells(lines.next().unwrap());
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (host, updated_at) = (column("Host"), column("Updated_at"));
    lines
        .map(|l| {
            let row = cells(l);
            (row[host].clone(), row[updated_at].clone())
        })
        .collect()
}

// JSON, CSV and value come in the table's order (cells compared by code point, as cinderclient
// sorts), not the database's: MySQL's collation ignores case, and ties on host and binary are
// decided by the other columns, not by id.
both_backends!(every_format_in_the_table_order, Schema::Cinder, |db| {
    for (id, host) in [(1, "node10"), (2, "Node2"), (3, "node_a"), (4, "nodeB")] {
        db.service(id, host, "cinder-scheduler", 5);
    }
    // Two live rows for one host (nothing in Cinder's schema prevents it): the older
    // heartbeat sorts first in the table, though its id is higher.
    db.service(5, "dup", "cinder-scheduler", 3);
    db.service(6, "dup", "cinder-scheduler", 20);
    let table = table_rows(&db.svcctl().run(&["service", "list"]).code(0).stdout);
    let hosts: Vec<&str> = table.iter().map(|(h, _)| h.as_str()).collect();
    assert_eq!(hosts, ["Node2", "dup", "dup", "node10", "nodeB", "node_a"]);
    let v = db
        .svcctl()
        .run(&["service", "list", "-f", "json"])
        .code(0)
        .json();
    let json: Vec<(String, String)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["host"].as_str().unwrap().to_string(),
                r["updated_at"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(json, table);
    let csv = db
        .svcctl()
        .run(&["service", "list", "-f", "csv"])
        .code(0)
        .stdout;
    let csv: Vec<(String, String)> = csv::Reader::from_reader(csv.as_bytes())
        .deserialize::<BTreeMap<String, String>>()
        .map(|r| {
            let r = r.unwrap();
            (r["Host"].clone(), r["Updated_at"].clone())
        })
        .collect();
    assert_eq!(csv, table);
    let value = db
        .svcctl()
        .run(&[
            "service",
            "list",
            "-f",
            "value",
            "-c",
            "host",
            "-c",
            "updated_at",
        ])
        .code(0)
        .stdout;
    let value: Vec<(String, String)> = value
        .lines()
        .map(|l| {
            let (h, t) = l.split_once(' ').unwrap();
            (h.to_string(), t.to_string())
        })
        .collect();
    assert_eq!(value, table);
});
