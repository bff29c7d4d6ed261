//! The JSON contract every writing command keeps (the README's "JSON contract"), walked
//! through every writing command in a dry run and a real run, on SQLite and MariaDB: both keys
//! of each pair always present, a dry run's rows in `would_<verb>` and `[]` in `<verb>ed`, a
//! real run the reverse; the same keys in both runs; every service row with exactly the keys of
//! a `service list -f json --include-deleted` row plus its list's documented extras; one
//! cluster row shape. Parsed, never compared as text.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::both_backends;
use crate::harness::fleet::node01_up_node02_down;
use crate::harness::{Schema, TestDb};

/// The lists that hold service rows, and the extra keys their rows add (documented once, in
/// the README's "JSON contract"). `refused` of a host move holds volumes and backups, not
/// services: not checked here.
const SERVICE_LISTS: &[(&str, &[&str])] = &[
    ("would_delete", &["overridden"]),
    ("deleted", &["overridden"]),
    ("refused", &["reasons"]),
    ("skipped", &["reasons"]),
    ("would_restore", &[]),
    ("restored", &[]),
    ("would_purge", &[]),
    ("purged", &[]),
    ("would_disable", &[]),
    ("disabled", &[]),
    ("would_enable", &[]),
    ("enabled", &[]),
    ("unchanged", &[]),
];

/// The lists that hold cluster rows.
const CLUSTER_LISTS: &[&str] = &[
    "would_delete_clusters",
    "deleted_clusters",
    "would_restore_clusters",
    "restored_clusters",
    "refused_clusters",
    "would_purge_clusters",
    "purged_clusters",
    "would_disable_clusters",
    "disabled_clusters",
    "would_enable_clusters",
    "enabled_clusters",
    "unchanged_clusters",
];

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

fn rows<'a>(doc: &'a Value, key: &str) -> &'a [Value] {
    doc[key]
        .as_array()
        .unwrap_or_else(|| panic!("no array {key:?} in {doc}"))
}

/// What the contract checks across documents: the service row's keys (from `service list`),
/// and the one cluster row shape (from the first cluster seen).
struct Contract {
    row: BTreeSet<String>,
    cluster: Option<BTreeSet<String>>,
}

impl Contract {
    /// Every service row and cluster row of `doc` has the one shape.
    fn rows(&mut self, doc: &Value, what: &str) {
        let is_move = doc.get("would_move").is_some();
        for (list, extras) in SERVICE_LISTS {
            let Some(items) = doc.get(*list).and_then(Value::as_array) else {
                continue;
            };
            if is_move && *list == "refused" {
                continue;
            }
            let want: BTreeSet<String> = self
                .row
                .iter()
                .cloned()
                .chain(extras.iter().map(|e| e.to_string()))
                .collect();
            for row in items {
                assert_eq!(keys(row), want, "{what}: a row of {list}: {row}");
                if let Some(reasons) = row.get("reasons") {
                    for r in reasons.as_array().unwrap() {
                        assert!(
                            r["kind"].is_string() && r["text"].is_string(),
                            "{what}: {r}"
                        );
                    }
                }
            }
        }
        if let Some(target) = doc.get("target").filter(|t| !t.is_null()) {
            assert_eq!(keys(target), self.row, "{what}: the target: {target}");
        }
        for list in CLUSTER_LISTS {
            for c in doc
                .get(*list)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let shape = self.cluster.get_or_insert_with(|| keys(c));
                assert_eq!(&keys(c), shape, "{what}: a row of {list}: {c}");
            }
        }
    }
}

/// One writing command: its arguments (without `--dry-run`, `--yes`, `-f json`), and for each
/// pair of its document (`would_<verb>`, `<verb>ed`) how many rows it changes.
struct Step<'a> {
    args: Vec<&'a str>,
    pairs: &'a [(&'a str, &'a str, usize)],
}

/// Everything the commands here write, as text: `fingerprint`, and the flags and hosts it
/// leaves out.
fn state(db: &TestDb) -> Vec<Vec<Option<String>>> {
    let mut all = db.fingerprint();
    for (table, cols) in [
        ("services", "id, disabled, disabled_reason"),
        ("clusters", "id, disabled, disabled_reason"),
        ("backups", "id, host"),
    ] {
        let cast: Vec<String> = cols.split(", ").map(|c| db.text(c)).collect();
        all.extend(db.rows(&format!(
            "SELECT {} FROM {table} ORDER BY id",
            cast.join(", ")
        )));
    }
    all
}

/// Runs `step` as a dry run, then for real, and holds both documents to the contract; returns
/// the real run's document.
fn walk(db: &TestDb, contract: &mut Contract, step: &Step) -> Value {
    let what = step.args.join(" ");
    let run = |extra: &[&str]| -> Value {
        db.audited()
            .run(&[&step.args[..], extra, &["-f", "json"]].concat())
            .code(0)
            .json()
    };
    let (before, lines) = (state(db), db.audit_lines().len());
    let dry = run(&["--dry-run"]);
    assert_eq!(state(db), before, "{what}: a dry run changed the database");
    assert_eq!(
        db.audit_lines().len(),
        lines,
        "{what}: a dry run wrote the log"
    );
    let done = run(&["--yes"]);
    assert_ne!(state(db), before, "{what}: the real run changed nothing");
    assert_eq!(dry["dry_run"], true, "{what}: {dry}");
    assert_eq!(done["dry_run"], false, "{what}: {done}");
    assert_eq!(
        keys(&dry),
        keys(&done),
        "{what}: the same keys on every path"
    );
    for (would, did, n) in step.pairs {
        assert_eq!(
            rows(&dry, would).len(),
            *n,
            "{what}: dry run's {would}: {dry}"
        );
        assert!(rows(&dry, did).is_empty(), "{what}: dry run's {did}: {dry}");
        assert!(
            rows(&done, would).is_empty(),
            "{what}: real run's {would}: {done}"
        );
        assert_eq!(
            rows(&done, did).len(),
            *n,
            "{what}: real run's {did}: {done}"
        );
    }
    contract.rows(&dry, &what);
    contract.rows(&done, &what);
    done
}

/// `node01_up_node02_down`, and what every writing command needs to act on: node01's backup
/// up (7); node02's backend 0c0c0c0c-0003 (8, down); cluster c1@lvm (node01@lvm), c2@ceph
/// (node02@ceph alone) and the empty c3@nfs; volume v1 on node02@lvm, backup b1 on node02.
fn cloud(db: &TestDb) {
    node01_up_node02_down(db);
    db.service(7, "node01", "cinder-backup", 5);
    db.service(8, "node02@backend-0c0c0c0c-0003", "cinder-volume", 600);
    for (id, name) in [(1, "c1@lvm"), (2, "c2@ceph"), (3, "c3@nfs")] {
        db.exec(&format!(
            "INSERT INTO clusters (created_at, updated_at, deleted, id, name, `binary`, disabled, \
             race_preventer, frozen) VALUES ('2026-01-01 00:00:00', '2026-01-02 00:00:00', 0, \
             {id}, '{name}', 'cinder-volume', 0, 0, 0)"
        ));
    }
    db.exec("UPDATE services SET cluster_name = 'c1@lvm' WHERE id = 2");
    db.exec("UPDATE services SET cluster_name = 'c2@ceph' WHERE id = 6");
    db.volume("v1", "node02@lvm#p");
    db.exec(
        "INSERT INTO backups (deleted, id, volume_id, host, status) VALUES (0, 'b1', 'v1', \
         'node02', 'available')",
    );
}

// Every writing command, in a dry run and for real: the one rule for its document's lists, and
// the one row shape, on both backends.
both_backends!(
    every_writing_command_keeps_the_contract,
    Schema::Cinder,
    |db| {
        cloud(&db);
        let listed = db
            .svcctl()
            .run(&["service", "list", "-f", "json", "--include-deleted"])
            .code(0)
            .json();
        let mut contract = Contract {
            row: keys(&listed[0]),
            cluster: None,
        };
        assert!(contract.row.contains("modified_at") && contract.row.contains("deleted_at"));
        let c = &mut contract;
        let delete = [
            ("would_delete", "deleted", 1),
            ("would_delete_clusters", "deleted_clusters", 0),
        ];
        let toggle = |verb: &'static str, services: usize, clusters: usize| {
            let (would, did, would_c, did_c) = match verb {
                "disable" => (
                    "would_disable",
                    "disabled",
                    "would_disable_clusters",
                    "disabled_clusters",
                ),
                _ => (
                    "would_enable",
                    "enabled",
                    "would_enable_clusters",
                    "enabled_clusters",
                ),
            };
            [(would, did, services), (would_c, did_c, clusters)]
        };
        let reason = ["--reason", "contract"];

        // service disable / enable, of services and of a cluster.
        let pairs = toggle("disable", 2, 0);
        let args = [&["service", "disable", "--host", "node02"][..], &reason].concat();
        walk(
            &db,
            c,
            &Step {
                args,
                pairs: &pairs,
            },
        );
        let pairs = toggle("enable", 2, 0);
        let args = vec!["service", "enable", "--host", "node02"];
        walk(
            &db,
            c,
            &Step {
                args,
                pairs: &pairs,
            },
        );
        let cluster = ["--cluster", "c1@lvm", "--binary", "cinder-volume"];
        let pairs = toggle("disable", 0, 1);
        let args = [&["service", "disable"][..], &cluster, &reason].concat();
        walk(
            &db,
            c,
            &Step {
                args,
                pairs: &pairs,
            },
        );
        let pairs = toggle("enable", 0, 1);
        let args = [&["service", "enable"][..], &cluster].concat();
        walk(
            &db,
            c,
            &Step {
                args,
                pairs: &pairs,
            },
        );

        // volume and backup move-host, and their undos.
        let moved = [("would_move", "moved", 1)];
        for (kind, from, to) in [
            ("volume", "node02@lvm", "node01@lvm"),
            ("backup", "node02", "node01"),
        ] {
            let args = vec![kind, "move-host", "--from", from, "--to", to];
            let v = walk(
                &db,
                c,
                &Step {
                    args,
                    pairs: &moved,
                },
            );
            let txn = v["txn"].as_str().unwrap().to_string();
            let args = vec![kind, "move-host", "--undo", txn.as_str()];
            walk(
                &db,
                c,
                &Step {
                    args,
                    pairs: &moved,
                },
            );
        }

        // A refusal: the refused rows have the row's keys and reasons.
        let refused = db
            .audited()
            .run(&["service", "delete", "--host", "node01", "-f", "json"])
            .code(3)
            .json();
        assert_eq!(rows(&refused, "refused").len(), 2, "{refused}");
        c.rows(&refused, "a refused delete");

        // service delete emptying a cluster, and its restore.
        let pairs = [
            ("would_delete", "deleted", 1),
            ("would_delete_clusters", "deleted_clusters", 1),
        ];
        let args = vec!["service", "delete", "--host", "node02@ceph"];
        walk(
            &db,
            c,
            &Step {
                args,
                pairs: &pairs,
            },
        );
        let pairs = [
            ("would_restore", "restored", 1),
            ("would_restore_clusters", "restored_clusters", 1),
        ];
        let args = vec!["service", "restore", "--host", "node02@ceph"];
        walk(
            &db,
            c,
            &Step {
                args,
                pairs: &pairs,
            },
        );

        // A sweep-less delete of one service, backend cleanup, cluster remove (empty, and with its
        // services).
        let args = vec![
            "service",
            "delete",
            "--host",
            "node02",
            "--binary",
            "cinder-scheduler",
        ];
        walk(
            &db,
            c,
            &Step {
                args,
                pairs: &delete,
            },
        );
        let args = vec!["backend", "cleanup", "0c0c0c0c-0003", "--no-kill"];
        let v = walk(
            &db,
            c,
            &Step {
                args,
                pairs: &delete,
            },
        );
        assert!(
            v["processes"].is_array() && v["shared_processes"].is_array(),
            "{v}"
        );
        let pairs = [
            ("would_delete", "deleted", 0),
            ("would_delete_clusters", "deleted_clusters", 1),
        ];
        let args = vec!["cluster", "remove", "c3@nfs", "--binary", "cinder-volume"];
        walk(
            &db,
            c,
            &Step {
                args,
                pairs: &pairs,
            },
        );
        let pairs = [
            ("would_delete", "deleted", 1),
            ("would_delete_clusters", "deleted_clusters", 1),
        ];
        let args = vec![
            "cluster",
            "remove",
            "c2@ceph",
            "--binary",
            "cinder-volume",
            "--recursive",
        ];
        walk(
            &db,
            c,
            &Step {
                args,
                pairs: &pairs,
            },
        );

        // service purge of what the deletes left: services 3, 6 and 8, clusters c2@ceph and c3@nfs
        // (deleted a minute ago: MySQL stores deleted_at to the second, and a purge takes only rows
        // deleted before its own second).
        for table in ["services", "clusters"] {
            db.exec(&format!(
                "UPDATE {table} SET deleted_at = '{}' WHERE deleted = 1",
                db.ago(60)
            ));
        }
        let pairs = [
            ("would_purge", "purged", 3),
            ("would_purge_clusters", "purged_clusters", 2),
        ];
        let args = vec!["service", "purge", "--older-than", "0"];
        walk(
            &db,
            c,
            &Step {
                args,
                pairs: &pairs,
            },
        );
        assert!(contract.cluster.is_some(), "no cluster row was seen");
    }
);
