//! `svcctl cluster list` and `cluster remove NAME --binary B [--recursive]`, on SQLite and
//! MariaDB: Cinder's columns and soft delete, refusing a cluster with live hosts unless
//! `--recursive`, which goes through `service delete`'s checks.

use serde_json::Value;

use crate::both_backends;
use crate::harness::fleet::ids;
use crate::harness::{Schema, TestDb};

/// Inserts cluster `id` as Cinder writes it; a deleted one as `cluster_destroy` leaves it.
fn add_cluster(db: &TestDb, id: i64, name: &str, binary: &str, deleted: bool) {
    db.exec(&format!(
        "INSERT INTO clusters (created_at, updated_at, deleted, deleted_at, id, name, `binary`, \
         disabled, race_preventer, frozen) VALUES ('2026-01-01 00:00:00', \
         '2026-01-02 03:04:05', {d}, {at}, {id}, '{name}', '{binary}', 0, {rp}, 0)",
        d = deleted as i32,
        at = if deleted {
            "'2026-01-03 00:00:00'"
        } else {
            "NULL"
        },
        rp = if deleted { id } else { 0 },
    ));
}

fn member(db: &TestDb, id: i64, host: &str, cluster: &str, secs_ago: i64) {
    db.service(id, host, "cinder-volume", secs_ago);
    db.exec(&format!(
        "UPDATE services SET cluster_name = '{cluster}' WHERE id = {id}"
    ));
}

/// c1: one member up, one down; c2: no members; c3: soft-deleted.
fn clusters(db: &TestDb) {
    add_cluster(db, 1, "c1@lvm", "cinder-volume", false);
    add_cluster(db, 2, "c2@nfs", "cinder-volume", false);
    add_cluster(db, 3, "c3@old", "cinder-volume", true);
    member(db, 11, "a@lvm", "c1@lvm", 5);
    member(db, 12, "b@lvm", "c1@lvm", 600);
}

both_backends!(
    cluster_list_counts_hosts_like_cinder_manage,
    Schema::Cinder,
    |db| {
        clusters(&db);
        let v = db
            .svcctl()
            .run(&["cluster", "list", "-f", "json"])
            .code(0)
            .json();
        let rows = v.as_array().unwrap();
        assert_eq!(rows.len(), 2, "the deleted cluster is not listed: {v}");
        let c1 = &rows[0];
        let keys: Vec<&str> = c1.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "name",
                "binary",
                "status",
                "state",
                "heartbeat",
                "hosts",
                "down_hosts",
                "updated_at"
            ]
        );
        assert_eq!(c1["name"], "c1@lvm");
        assert_eq!(c1["status"], "enabled");
        assert_eq!(c1["state"], "up");
        assert_eq!(c1["hosts"], 2);
        assert_eq!(c1["down_hosts"], 1);
        assert_eq!(c1["updated_at"], "2026-01-02T03:04:05.000000");
        let c2 = &rows[1];
        assert_eq!(c2["state"], "down");
        assert_eq!(c2["hosts"], 0);
        assert_eq!(c2["heartbeat"], Value::Null);
        let table = db.svcctl().run(&["cluster", "list"]).code(0).stdout;
        let header = table.lines().nth(1).unwrap();
        for h in [
            "Name",
            "Binary",
            "Status",
            "State",
            "Heartbeat",
            "Hosts",
            "Down Hosts",
            "Updated At",
        ] {
            assert!(header.contains(h), "{header}");
        }
        assert!(table.contains("c2@nfs"), "{table}");
        let names = db
            .svcctl()
            .run(&["cluster", "list", "-f", "value", "-c", "name"])
            .code(0)
            .stdout;
        assert_eq!(names, "c1@lvm\nc2@nfs\n");
        // The listing flags hold as for service list: --quote, --sort-column, --noindent.
        let csv = |quote: &str| {
            db.svcctl()
                .run(&[
                    "cluster", "list", "-f", "csv", "-c", "name", "-c", "hosts", "--quote", quote,
                ])
                .code(0)
                .stdout
        };
        let all = csv("all");
        assert!(
            all.starts_with("\"Name\",\"Hosts\"\n\"c1@lvm\",\""),
            "{all}"
        );
        let minimal = csv("minimal");
        assert!(minimal.starts_with("Name,Hosts\nc1@lvm,"), "{minimal}");
        let sorted = db
            .svcctl()
            .run(&[
                "cluster",
                "list",
                "-f",
                "value",
                "-c",
                "name",
                "--sort-column",
                "name",
                "--sort-descending",
            ])
            .code(0)
            .stdout;
        assert_eq!(sorted, "c2@nfs\nc1@lvm\n");
        let one_line = db
            .svcctl()
            .run(&["cluster", "list", "-f", "json", "--noindent"])
            .code(0)
            .stdout;
        assert_eq!(one_line.trim_end().lines().count(), 1, "{one_line}");
        db.svcctl().run(&["cluster", "list", "-c", "nope"]).code(2);
    }
);

// Cinder's cluster_destroy on an empty cluster: deleted = 1, deleted_at, race_preventer = id.
both_backends!(cluster_remove_empty_and_missing, Schema::Cinder, |db| {
    clusters(&db);
    let v = db
        .audited()
        .run(&[
            "cluster",
            "remove",
            "c2@nfs",
            "--binary",
            "cinder-volume",
            "--yes",
            "-f",
            "json",
        ])
        .code(0)
        .json();
    assert_eq!(ids(&v, "deleted_clusters"), [2]);
    let c2 = db.cluster_row(2);
    assert_eq!(c2.deleted.as_deref(), Some("1"));
    assert_eq!(c2.race_preventer.as_deref(), Some("2"));
    assert!(c2.deleted_at.is_some());
    assert!(
        db.audit_lines()
            .iter()
            .any(|l| l["cluster"]["name"] == "c2@nfs")
    );
    let before = db.fingerprint();
    for (name, binary) in [
        ("c2@nfs", "cinder-volume"),
        ("c1@lvm", "cinder-backup"),
        ("nope", "cinder-volume"),
    ] {
        let run = db
            .audited()
            .run(&["cluster", "remove", name, "--binary", binary, "--yes"])
            .code(4);
        assert!(run.error_line().contains(name), "{}", run.stderr);
    }
    db.audited()
        .run(&[
            "cluster",
            "remove",
            "nope",
            "--binary",
            "cinder-volume",
            "--yes",
            "--missing-ok",
        ])
        .code(0);
    db.audited()
        .run(&["cluster", "remove", "c1@lvm", "--yes"])
        .code(2);
    assert_eq!(db.fingerprint(), before);
});

// A cluster with live hosts is refused unless --recursive; --recursive takes the path
// `service delete` takes, so an up member refuses the whole removal.
both_backends!(
    cluster_remove_refuses_live_hosts_unless_recursive,
    Schema::Cinder,
    |db| {
        clusters(&db);
        let before = db.fingerprint();
        let run = db
            .audited()
            .run(&[
                "cluster",
                "remove",
                "c1@lvm",
                "--binary",
                "cinder-volume",
                "--yes",
            ])
            .code(3);
        assert!(run.error_line().contains("--recursive"), "{}", run.stderr);
        assert_eq!(db.fingerprint(), before);
        let run = db
            .audited()
            .run(&[
                "cluster",
                "remove",
                "c1@lvm",
                "--binary",
                "cinder-volume",
                "--recursive",
                "--yes",
                "-f",
                "json",
            ])
            .code(3);
        let v = run.json();
        assert_eq!(ids(&v, "refused"), [11]);
        assert_eq!(db.fingerprint(), before);
        assert!(db.audit_lines().is_empty());
        // The up member stops heartbeating; now the recursive removal goes through.
        db.exec(&format!(
            "UPDATE services SET updated_at = '{}' WHERE id = 11",
            db.ago(600)
        ));
        let v = db
            .audited()
            .run(&[
                "cluster",
                "remove",
                "c1@lvm",
                "--binary",
                "cinder-volume",
                "--recursive",
                "--yes",
                "-f",
                "json",
            ])
            .code(0)
            .json();
        let mut deleted = ids(&v, "deleted");
        deleted.sort();
        assert_eq!(deleted, [11, 12]);
        assert_eq!(ids(&v, "deleted_clusters"), [1]);
        assert_eq!(
            db.int("SELECT COUNT(*) FROM services WHERE deleted = 0 AND cluster_name = 'c1@lvm'"),
            0
        );
        assert_eq!(
            db.int("SELECT race_preventer FROM clusters WHERE id = 1"),
            1
        );
        let lines = db.audit_lines();
        assert_eq!(
            lines
                .iter()
                .filter(|l| l["service"]["id"].is_number())
                .count(),
            2
        );
        assert!(lines.iter().any(|l| l["cluster"]["name"] == "c1@lvm"));
    }
);

// A service joins the empty cluster between the plan and the write: the UPDATE's WHERE clause
// (Cinder's num_hosts == 0) keeps the cluster; exit 3, nothing changed.
both_backends!(
    cluster_remove_write_rechecks_members,
    Schema::Cinder,
    |db| {
        clusters(&db);
        let pause = db.dir.path().join("pause");
        let log = db.audit_path().display().to_string();
        let child = db.svcctl().paused(
            "SVCCTL_TEST_PAUSE_FILE",
            &pause,
            &[
                "cluster",
                "remove",
                "c2@nfs",
                "--binary",
                "cinder-volume",
                "--yes",
                "--audit-log",
                &log,
            ],
        );
        member(&db, 13, "c@nfs", "c2@nfs", 5);
        let before = db.fingerprint();
        let run = child.resume().code(3);
        assert!(run.error_line().contains("c2@nfs"), "{}", run.stderr);
        assert_eq!(db.fingerprint(), before);
        assert!(db.audit_lines().is_empty());
    }
);

/// Every column of cluster `id`, as text: compared whole before a delete and after its restore.
fn cluster_columns(db: &TestDb, id: i64) -> Vec<Option<String>> {
    let cols = [
        "created_at",
        "updated_at",
        "deleted_at",
        "deleted",
        "name",
        "`binary`",
        "disabled",
        "disabled_reason",
        "race_preventer",
        "replication_status",
        "active_backend_id",
        "frozen",
    ]
    .map(|c| db.text(c));
    db.rows(&format!(
        "SELECT {} FROM clusters WHERE id = {id}",
        cols.join(", ")
    ))
    .remove(0)
}

/// c1@lvm (1) disabled with a reason, frozen, failed over, its times as Cinder stores them on
/// this backend; its only member (11) down for an hour.
fn failed_over_cluster(db: &TestDb) {
    add_cluster(db, 1, "c1@lvm", "cinder-volume", false);
    db.exec(&format!(
        "UPDATE clusters SET disabled = 1, disabled_reason = 'RMA 4711', frozen = 1, \
         replication_status = 'failed-over', active_backend_id = 'secondary', \
         created_at = '{}', updated_at = '{}' WHERE id = 1",
        db.ago(86400),
        db.ago(7200)
    ));
    member(db, 11, "a@lvm", "c1@lvm", 3600);
}

// A sweep that deletes a cluster's last live service soft-deletes the cluster too: svcctl's own
// choice (Cinder deletes a cluster only in `cinder-manage cluster remove`, cinder/cmd/manage.py
// ClusterCommands.remove), said in the result. The audit record keeps the cluster's disabled,
// disabled_reason, frozen and replication columns, and `service restore` brings the cluster
// back exactly as it was. With --keep-clusters the cluster stays.
both_backends!(
    a_sweep_deletes_an_emptied_cluster_and_restore_brings_it_back,
    Schema::Cinder,
    |db| {
        failed_over_cluster(&db);
        let was = cluster_columns(&db, 1);
        let sweep = [
            "service",
            "delete",
            "--down-for",
            "30m",
            "--skip-refused",
            "--yes",
        ];
        let run = db.audited().run(&sweep).code(0);
        assert!(
            run.stderr.contains(
                "soft-deleted 1 service and 1 emptied cluster (c1@lvm; svcctl's choice: Cinder \
             deletes a cluster only in cinder-manage cluster remove; --keep-clusters keeps them)"
            ),
            "{}",
            run.stderr
        );
        assert_eq!(db.cluster_row(1).deleted.as_deref(), Some("1"));
        let line = db
            .audit_lines()
            .into_iter()
            .find(|l| l["event"] == "cluster_soft_deleted")
            .unwrap();
        let c = &line["cluster"];
        assert_eq!(
            (&c["disabled"], &c["disabled_reason"], &c["frozen"]),
            (
                &Value::Bool(true),
                &Value::from("RMA 4711"),
                &Value::Bool(true)
            )
        );
        assert_eq!(
            (&c["replication_status"], &c["active_backend_id"]),
            (&Value::from("failed-over"), &Value::from("secondary"))
        );
        db.audited()
            .run(&["service", "restore", "--host", "a@lvm", "--yes"])
            .code(0);
        assert_eq!(cluster_columns(&db, 1), was, "the cluster as it was");
        assert_eq!(db.service_row(11).deleted.as_deref(), Some("0"));

        // --keep-clusters: the service goes, the cluster stays as it is.
        let run = db
            .audited()
            .run(&[&sweep[..], &["--keep-clusters", "-f", "json"]].concat())
            .code(0);
        let v = run.json();
        assert_eq!(ids(&v, "deleted"), [11]);
        assert_eq!(v["deleted_clusters"], serde_json::json!([]));
        assert_eq!(cluster_columns(&db, 1), was);
    }
);

// The cluster's state changed while it was deleted: the restore refuses it (exit 3, naming the
// columns), in its plan and, when the change comes between plan and write, in its WHERE clause;
// nothing is restored.
both_backends!(
    a_cluster_whose_state_changed_is_not_restored,
    Schema::Cinder,
    |db| {
        failed_over_cluster(&db);
        db.audited()
            .run(&["service", "delete", "--host", "a@lvm", "--yes"])
            .code(0);
        db.exec("UPDATE clusters SET frozen = 0, disabled_reason = 'other' WHERE id = 1");
        let before = db.fingerprint();
        let run = db
            .audited()
            .run(&["service", "restore", "--host", "a@lvm", "--yes"])
            .code(3);
        assert!(
            run.stderr
                .contains("its disabled_reason, frozen differ from the record"),
            "{}",
            run.stderr
        );
        assert_eq!(db.fingerprint(), before);
        // Put back as recorded, the plan passes; changed again between plan and write, the write
        // refuses it.
        db.exec("UPDATE clusters SET frozen = 1, disabled_reason = 'RMA 4711' WHERE id = 1");
        let child = db.audited().paused(
            "SVCCTL_TEST_PAUSE_FILE",
            &db.dir.path().join("pause"),
            &["service", "restore", "--host", "a@lvm", "--yes"],
        );
        db.exec("UPDATE clusters SET disabled = 0 WHERE id = 1");
        let before = db.fingerprint();
        child.resume().code(3);
        assert_eq!(db.fingerprint(), before);
        assert_eq!(db.service_row(11).deleted.as_deref(), Some("1"));
    }
);

// `cluster remove` refuses a cluster that live volumes (or groups, or cache entries) name
// through cluster_name (`c2@nfs#pool`), as `service delete` refuses a host they name; Cinder's
// own cluster_destroy checks only num_hosts. Exit 3, counted, nothing changed; --force removes
// it. A sweep leaves such a cluster in place when its last service goes.
both_backends!(
    a_cluster_live_rows_name_is_not_removed,
    Schema::Cinder,
    |db| {
        clusters(&db);
        db.volume("v1", "x@nfs#p");
        db.exec("UPDATE volumes SET cluster_name = 'c2@nfs#p' WHERE id = 'v1'");
        let before = db.fingerprint();
        let remove = |extra: &[&'static str]| {
            let mut a = vec![
                "cluster",
                "remove",
                "c2@nfs",
                "--binary",
                "cinder-volume",
                "--yes",
            ];
            a.extend_from_slice(extra);
            a
        };
        let run = db.audited().run(&remove(&[])).code(3);
        assert!(
            run.error_line().contains(
                "live rows name it: 1 volume (their cluster_name is c2@nfs or c2@nfs#POOL)"
            ),
            "{}",
            run.stderr
        );
        assert_eq!(db.fingerprint(), before);
        assert!(db.audit_lines().is_empty());
        db.audited().run(&remove(&["--recursive"])).code(3);
        assert_eq!(db.fingerprint(), before);
        db.audited().run(&remove(&["--force"])).code(0);
        assert_eq!(db.cluster_row(2).deleted.as_deref(), Some("1"));

        // c1@lvm: v2 names it, on a host a live service serves; its members all go.
        db.service(20, "x@lvm", "cinder-volume", 5);
        db.volume("v2", "x@lvm#p");
        db.exec("UPDATE volumes SET cluster_name = 'c1@lvm#p' WHERE id = 'v2'");
        db.exec(&format!(
            "UPDATE services SET updated_at = '{}' WHERE id = 11",
            db.ago(600)
        ));
        let v = db
            .audited()
            .run(&[
                "service",
                "delete",
                "--host",
                "?@lvm",
                "--exclude",
                "x@lvm",
                "--yes",
                "-f",
                "json",
            ])
            .code(0)
            .json();
        assert_eq!(ids(&v, "deleted"), [11, 12]);
        assert_eq!(v["deleted_clusters"], serde_json::json!([]));
        assert_eq!(
            db.cluster_row(1).deleted.as_deref(),
            Some("0"),
            "v2 names it: it stays"
        );
    }
);

// A volume comes to name the empty cluster between the plan and the write: the removal's WHERE
// clause sees it, exit 3, nothing changed.
both_backends!(
    cluster_remove_write_rechecks_rows_naming_it,
    Schema::Cinder,
    |db| {
        clusters(&db);
        let child = db.audited().paused(
            "SVCCTL_TEST_PAUSE_FILE",
            &db.dir.path().join("pause"),
            &[
                "cluster",
                "remove",
                "c2@nfs",
                "--binary",
                "cinder-volume",
                "--yes",
            ],
        );
        db.volume("v1", "x@nfs#p");
        db.exec("UPDATE volumes SET cluster_name = 'c2@nfs#p' WHERE id = 'v1'");
        let before = db.fingerprint();
        child.resume().code(3);
        assert_eq!(db.fingerprint(), before);
        assert_eq!(db.cluster_row(2).deleted.as_deref(), Some("0"));
        assert!(db.audit_lines().is_empty());
    }
);
