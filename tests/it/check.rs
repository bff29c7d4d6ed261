//! `svcctl service check`, the monitoring plugin, and the Prometheus metrics (`service list -f
//! prometheus`, `service check --textfile`): the issue's cases on the seed's cluster, the sweep
//! command run to prove it removes exactly the stale services, every failure as one UNKNOWN
//! line (exit 3), the exposition checked by promtool, and the textfile replaced atomically.

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use proptest::prelude::*;
use serde_json::Value;

use crate::both_backends;
use crate::harness::fleet::live_ids;
use crate::harness::{Backend, Run, Schema, Svcctl, TestDb, free_port, load_fixture_rows};

const DAY: i64 = 86400;

/// The seed's cluster from Cinder's own rows: node01 heartbeating, node02's four live services
/// (backup, scheduler, two backends) silent for `node02_secs`.
fn seed(db: &TestDb, node02_secs: i64) {
    load_fixture_rows(db);
    db.exec(&format!(
        "UPDATE services SET updated_at = '{}' WHERE host LIKE 'node01%'",
        db.ago(3)
    ));
    db.exec(&format!(
        "UPDATE services SET updated_at = '{}' WHERE host LIKE 'node02%' AND deleted = 0",
        db.ago(node02_secs)
    ));
}

fn check(db: &TestDb, args: &[&str]) -> Run {
    let mut all = vec!["service", "check"];
    all.extend_from_slice(args);
    db.svcctl().run(&all)
}

/// The plugin's contract for every run: exit 0 to 3, a first line `CINDER SERVICES <STATE> -`
/// that says the state the exit code means, nothing on stderr that looks like svcctl's error.
fn plugin_output(run: &Run) -> &str {
    let states = ["OK", "WARNING", "CRITICAL", "UNKNOWN"];
    let all = format!("exit {}\n{}\n{}", run.code, run.stdout, run.stderr);
    let state = states
        .get(run.code as usize)
        .unwrap_or_else(|| panic!("{all}"));
    let first = run.stdout.lines().next().unwrap_or("");
    assert!(
        first.starts_with(&format!("CINDER SERVICES {state} - ")),
        "{all}"
    );
    assert!(!run.stderr.contains("svcctl: "), "{all}");
    first
}

/// The status line alone, checked: one line, the state of `code`, performance data after `|`.
fn status(run: &Run, code: i32) -> String {
    assert_eq!(run.code, code, "{}\n{}", run.stdout, run.stderr);
    let first = plugin_output(run).to_string();
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
    if code != 3 {
        assert!(first.contains(" | up="), "{first}");
    }
    first
}

/// Splits a command line as a POSIX shell would (bare words and single quotes: what
/// `Sweep::command` writes).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut started = false;
    for c in line.chars() {
        match (quoted, c) {
            (false, '\'') | (true, '\'') => {
                quoted = !quoted;
                started = true;
            }
            (false, ' ') => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            (_, c) => {
                word.push(c);
                started = true;
            }
        }
    }
    if started {
        words.push(word);
    }
    words
}

/// The sweep command the status line gives, as arguments for svcctl.
fn sweep_args(line: &str) -> Vec<String> {
    let cmd = line
        .split("remove them: ")
        .nth(1)
        .and_then(|rest| rest.split(" | ").next())
        .unwrap_or_else(|| panic!("no sweep command in {line}"));
    let words = shell_words(cmd);
    assert_eq!(words[0], "svcctl", "{cmd}");
    words[1..].to_vec()
}

fn run_args(db: &TestDb, args: &[String], more: &[&str]) -> Run {
    let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
    all.extend_from_slice(more);
    // The command names its own --config-file: no other configuration.
    Svcctl::new().audit_log(&db.audit_path()).run(&all)
}

fn ids_of(v: &Value, key: &str) -> BTreeSet<i64> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} in {v}"))
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect()
}

/// The ids of the services the check's JSON calls `condition`.
fn with_condition(v: &Value, condition: &str) -> BTreeSet<i64> {
    v["services"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["condition"] == condition)
        .map(|s| s["id"].as_i64().unwrap())
        .collect()
}

// The issue's first cases: node02 down 30 minutes is half of each binary's hosts: CRITICAL,
// naming node02; a third node up beside them makes it one of three: WARNING.
both_backends!(
    seed_cluster_is_critical_then_a_warning,
    Schema::Cinder,
    |db| {
        seed(&db, 1800);
        let line = status(&check(&db, &[]), 2);
        assert!(
            line.starts_with(
                "CINDER SERVICES CRITICAL - outage of cinder-backup in zone zettakit: 1 of 2 \
             enabled hosts down (node02); outage of cinder-scheduler in zone zettakit"
            ),
            "{line}"
        );
        assert!(
            line.contains("outage of cinder-volume@backend-deffaf27-95b1 in zone zettakit: 1 of 2"),
            "{line}"
        );
        assert!(
            line.ends_with(
                " | up=6;;;0;10 down=4;;;0;10 disabled=0;;;0;10 stale=0;;;0;10 zones=1;;;0"
            ),
            "{line}"
        );
        // The same verdict as a document.
        let v = check(&db, &["-f", "json"]).code(2).json();
        assert_eq!(v["status"], "CRITICAL");
        assert_eq!(v["exit_code"], 2);
        assert_eq!(
            format!(
                "CINDER SERVICES CRITICAL - {} | {}",
                v["summary"].as_str().unwrap(),
                v["perfdata"].as_str().unwrap()
            ),
            line
        );
        let outages: Vec<&Value> = v["problems"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["kind"] == "outage")
            .collect();
        assert_eq!(outages.len(), 4, "{v}");
        assert!(
            outages
                .iter()
                .all(|p| p["hosts"].to_string().contains("node02"))
        );
        assert_eq!(with_condition(&v, "down"), BTreeSet::from([19, 20, 22, 23]));
        assert_eq!(v["counts"]["services"], 10);
        assert_eq!(v["sweep"], Value::Null);
        // -v: the status line, then one line per group and per service.
        let run = check(&db, &["-v"]).code(2);
        let lines: Vec<&str> = run.stdout.lines().collect();
        assert_eq!(lines[0], line);
        assert_eq!(lines.len(), 1 + 6 + 10, "{}", run.stdout);
        // 30 minutes, or a second short of it: "now" is taken in whole seconds.
        assert!(
            lines.iter().any(|l| l.starts_with(
                "cinder-backup node02 (id 19, zone zettakit, enabled): down, last heartbeat "
            ) && (l.ends_with(" 30m ago") || l.ends_with(" 29m ago"))),
            "{}",
            run.stdout
        );
        // A third node, up: one host of three down is no outage, but node02 is still down.
        for (id, host, binary) in [
            (40, "node03", "cinder-backup"),
            (41, "node03", "cinder-scheduler"),
            (42, "node03@backend-deffaf27-95b1", "cinder-volume"),
            (43, "node03@backend-ffdc2630-def2", "cinder-volume"),
        ] {
            db.service(id, host, binary, 2);
            db.exec(&format!(
                "UPDATE services SET availability_zone = 'zettakit' WHERE id = {id}"
            ));
        }
        let line = status(&check(&db, &[]), 1);
        assert!(
            line.starts_with(
                "CINDER SERVICES WARNING - 4 enabled services down: cinder-backup on node02, \
             cinder-scheduler on node02, cinder-volume on node02@backend-deffaf27-95b1 and 1 more"
            ),
            "{line}"
        );
        // --warning-down: at least COUNT; 0 never warns.
        status(&check(&db, &["--warning-down", "5"]), 0);
        status(&check(&db, &["--warning-down", "0"]), 0);
        status(&check(&db, &["--warning-down", "4"]), 1);
        // --critical-outage 33 makes one of three an outage; filters narrow the scope.
        status(&check(&db, &["--critical-outage", "33%"]), 2);
        status(&check(&db, &["--host", "node01*", "--host", "node03*"]), 0);
        status(
            &check(
                &db,
                &["--binary", "cinder-backup", "--critical-outage", "34"],
            ),
            1,
        );
        status(
            &check(&db, &["--exclude", "node02*", "--zone", "zettakit"]),
            0,
        );
    }
);

// node02 down for 8 days with nothing on it: its services are stale, not an outage: WARNING
// with the sweep command in the status line, OK with --stale-is ok. The command, run, deletes
// exactly them; then the check is OK.
both_backends!(
    stale_node02_is_no_outage_and_its_sweep_removes_exactly_it,
    Schema::Cinder,
    |db| {
        seed(&db, 8 * DAY);
        let conf = db.conf("node01", "");
        let line = status(&check(&db, &[]), 1);
        assert!(
            line.starts_with(
                "CINDER SERVICES WARNING - 4 stale services (down over 7d, nothing uses them) on \
             node02, node02@backend-deffaf27-95b1, node02@backend-ffdc2630-def2; remove them: "
            ),
            "{line}"
        );
        let sweep = sweep_args(&line);
        assert_eq!(
            sweep,
            [
                "--config-file",
                conf.to_str().unwrap(),
                "service",
                "delete",
                "--down-for",
                "7d"
            ]
        );
        assert!(line.contains(" stale=4;;;0;10 "), "{line}");
        let ok = status(&check(&db, &["--stale-is", "ok"]), 0);
        assert!(
            ok.starts_with("CINDER SERVICES OK - 10 services: 6 up, 4 stale; 4 stale services"),
            "{ok}"
        );
        let v = check(&db, &["-f", "json"]).code(1).json();
        let stale = with_condition(&v, "stale");
        assert_eq!(stale, BTreeSet::from([19, 20, 22, 23]));
        assert_eq!(v["sweep"]["skip_refused"], false);
        assert_eq!(v["counts"]["down"], 0);
        // A stale service's references were counted, and are none.
        let node02 = &v["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == 22)
            .unwrap()["references"];
        assert_eq!(node02["volumes"], 0, "{v}");
        // The command selects exactly them (its dry run refuses nothing) and deletes exactly them.
        let plan = run_args(&db, &sweep, &["--dry-run", "-f", "json"])
            .code(0)
            .json();
        assert_eq!(ids_of(&plan, "would_delete"), stale);
        assert!(plan["refused"].as_array().unwrap().is_empty(), "{plan}");
        let done = run_args(&db, &sweep, &["--yes", "-f", "json"])
            .code(0)
            .json();
        assert_eq!(ids_of(&done, "deleted"), stale);
        assert_eq!(live_ids(&db), [13, 14, 15, 16, 17, 18]);
        status(&check(&db, &[]), 0);
    }
);

// Down longer than --stale-after but in use (a volume; a volume that reaches it only through
// its cluster): the delete refuses it, so the check keeps it as an ordinary down service, and
// the sweep adds --skip-refused so that it still deletes exactly the stale ones.
both_backends!(
    services_the_delete_refuses_are_never_stale,
    Schema::Cinder,
    |db| {
        db.service(1, "node01", "cinder-scheduler", 5);
        db.service(2, "node02", "cinder-scheduler", 9 * DAY);
        db.service(3, "node01@lvm", "cinder-volume", 5);
        db.service(4, "node02@lvm", "cinder-volume", 9 * DAY);
        db.volume("v1", "node02@lvm#pool");
        db.service(5, "node05@nfs", "cinder-volume", 9 * DAY);
        db.exec("UPDATE services SET cluster_name = 'c1@nfs' WHERE id = 5");
        db.exec(&format!(
            "INSERT INTO volumes (created_at, deleted, id, host, cluster_name, status, \
         volume_type_id, use_quota) VALUES ('{}', 0, 'v2', 'gone@nfs#p', 'c1@nfs#p', \
         'available', 'vt', 1)",
            db.ago(100)
        ));
        // Down 3 days: down, not a candidate.
        db.service(6, "node06", "cinder-backup", 3 * DAY);
        db.service(7, "node07", "cinder-backup", 5);
        db.service(8, "node08", "cinder-backup", 5);
        let v = check(&db, &["-f", "json"]).code(2).json();
        assert_eq!(with_condition(&v, "stale"), BTreeSet::from([2]));
        assert_eq!(with_condition(&v, "in_use"), BTreeSet::from([4, 5]));
        assert_eq!(with_condition(&v, "down"), BTreeSet::from([6]));
        let by_id = |id: i64| {
            v["services"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["id"] == id)
                .unwrap()
                .clone()
        };
        assert!(
            by_id(4)["refused"][0]
                .as_str()
                .unwrap()
                .contains("in use: 1 volume"),
            "{v}"
        );
        assert!(
            by_id(5)["refused"][0]
                .as_str()
                .unwrap()
                .contains("only through its cluster c1@nfs"),
            "{v}"
        );
        assert_eq!(
            by_id(6)["references"],
            Value::Null,
            "only candidates are counted"
        );
        // node02@lvm down: half of lvm's hosts; node05@nfs the only nfs host: outages; node06 is
        // one backup host of three.
        let kinds: Vec<&str> = v["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["outage", "outage", "down", "stale"], "{v}");
        assert_eq!(v["sweep"]["skip_refused"], true);
        let line = status(&check(&db, &[]), 2);
        let sweep = sweep_args(&line);
        assert_eq!(sweep.last().unwrap(), "--skip-refused");
        let done = run_args(&db, &sweep, &["--yes", "-f", "json"])
            .code(0)
            .json();
        assert_eq!(ids_of(&done, "deleted"), BTreeSet::from([2]));
        assert_eq!(ids_of(&done, "refused"), BTreeSet::from([4, 5]));
    }
);

// --zone: service delete has no --zone, so the sweep names the zone's hosts; a host whose
// long-down services lie in two zones is left out (its services are not stale), so the command
// still deletes exactly what the check calls stale.
both_backends!(a_zone_sweep_names_its_hosts, Schema::Cinder, |db| {
    db.service(1, "a1", "cinder-scheduler", 5);
    db.service(2, "a2", "cinder-scheduler", 9 * DAY);
    db.service(3, "a2@lvm", "cinder-volume", 9 * DAY);
    db.service(4, "b1", "cinder-scheduler", 9 * DAY);
    db.service(5, "mixed", "cinder-scheduler", 9 * DAY);
    db.service(6, "mixed", "cinder-backup", 9 * DAY);
    db.service(7, "a1@lvm", "cinder-volume", 5);
    db.exec("UPDATE services SET availability_zone = 'az2' WHERE id IN (4, 6)");
    let v = check(&db, &["--zone", "nova", "-f", "json"]).code(2).json();
    assert_eq!(with_condition(&v, "stale"), BTreeSet::from([2, 3]));
    assert_eq!(with_condition(&v, "down"), BTreeSet::from([5]));
    let line = status(&check(&db, &["--zone", "nova"]), 2);
    let sweep = sweep_args(&line);
    assert_eq!(
        sweep[2..],
        [
            "service",
            "delete",
            "--down-for",
            "7d",
            "--host",
            "a2",
            "--host",
            "a2@lvm"
        ]
    );
    let done = run_args(&db, &sweep, &["--yes", "-f", "json"])
        .code(0)
        .json();
    assert_eq!(ids_of(&done, "deleted"), BTreeSet::from([2, 3]));
    assert_eq!(live_ids(&db), [1, 4, 5, 6, 7]);
});

/// A cinder.conf whose connection names a loopback port nothing listens on, with a password.
fn unreachable(db: &TestDb) -> std::path::PathBuf {
    db.conf(
        "node01",
        &format!(
            "[database]\nconnection = mysql+pymysql://cinder:Check-Secret-5z@127.0.0.1:{}/cinder\nmax_retries = 0",
            free_port()
        ),
    )
}

// The database unreachable: UNKNOWN, exit 3, one line on stdout, no password; a --textfile
// says so too (success 0, status 3) instead of keeping old numbers.
#[test]
fn an_unreachable_database_is_unknown_in_one_line() {
    let db = TestDb::new(Backend::Sqlite, Schema::Cinder).unwrap();
    let conf = unreachable(&db);
    let prom = db.dir.path().join("cinder.prom");
    let run = Svcctl::new().config(&conf).run(&[
        "service",
        "check",
        "--textfile",
        prom.to_str().unwrap(),
    ]);
    let line = status(&run, 3);
    assert!(
        line.starts_with("CINDER SERVICES UNKNOWN - ") && line.contains("127.0.0.1"),
        "{line}"
    );
    assert!(!run.stdout.contains("Check-Secret-5z") && !run.stderr.contains("Check-Secret-5z"));
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    let text = std::fs::read_to_string(&prom).unwrap();
    assert!(
        text.contains("\nsvcctl_cinder_scrape_success 0\n"),
        "{text}"
    );
    assert!(text.contains("\nsvcctl_cinder_check_status 3\n"), "{text}");
    promtool_passes(&text);
    // -f json changes nothing: a failure is the one line.
    status(
        &Svcctl::new()
            .config(&conf)
            .run(&["service", "check", "-f", "json"]),
        3,
    );
}

// Every other failure is UNKNOWN too: a database without Cinder's tables, bad configuration,
// bad flags of service check itself (clap's usage exit 2 would be CRITICAL), a panic.
#[test]
fn every_failure_is_unknown() {
    let db = TestDb::new(Backend::Sqlite, Schema::Cinder).unwrap();
    seed(&db, 1800);
    let empty = TestDb::new(Backend::Sqlite, Schema::Empty).unwrap();
    let line = status(&check(&empty, &[]), 3);
    assert!(line.contains("has no services table"), "{line}");
    let bad_conf = db.dir.path().join("bad.conf");
    std::fs::write(
        &bad_conf,
        "[database]\nconnection = postgresql://u:Check-Secret-5z@h/c\n",
    )
    .unwrap();
    let line = status(
        &Svcctl::new().config(&bad_conf).run(&["service", "check"]),
        3,
    );
    assert!(
        line.contains("postgresql") && !line.contains("Check-Secret-5z"),
        "{line}"
    );
    let missing = db.dir.path().join("missing.conf");
    status(
        &Svcctl::new().config(&missing).run(&["service", "check"]),
        3,
    );
    for (args, says) in [
        (&["--bogus"][..], "unexpected argument '--bogus'"),
        (
            &["--critical-outage", "0"],
            "not a whole percentage from 1 to 100",
        ),
        (&["--critical-outage", "101%"], "not a whole percentage"),
        (
            &["--stale-after", "30s"],
            "is shorter than [DEFAULT] service_down_time",
        ),
        (&["--stale-after", "7x"], "invalid --stale-after"),
        (&["--stale-is", "critical"], "critical"),
        (&["--warning-down", "-1"], "-1"),
        (&["--host", "a b"], "invalid --host"),
        (&["--zone", ""], "empty"),
        (&["--textfile", "/tmp/cinder.txt"], "does not end in .prom"),
        (
            &["--textfile", "/nonexistent-dir/cinder.prom"],
            "does not exist",
        ),
        (&["--audit-log", "x.jsonl"], "--audit-log"),
        (&["-f", "table"], "table"),
    ] {
        let line = status(&check(&db, args), 3);
        assert!(line.contains(says), "{args:?}: {line}");
    }
    // Global flags too.
    status(
        &db.svcctl().run(&["--timeout", "zero", "service", "check"]),
        3,
    );
    // A bug: one UNKNOWN line, no password.
    let conf = db.conf(
        "node01",
        "[database]\nconnection = mysql+pymysql://u:Check-Secret-5z@127.0.0.1:1/c",
    );
    let run = Svcctl::new()
        .config(&conf)
        .env("SVCCTL_TEST_PANIC", "1")
        .run(&["service", "check"]);
    let line = status(&run, 3);
    assert!(
        line.starts_with("CINDER SERVICES UNKNOWN - internal error: forced by SVCCTL_TEST_PANIC"),
        "{line}"
    );
    assert!(!line.contains("Check-Secret-5z"), "{line}");
    // Nothing in scope is no success either.
    let line = status(&check(&db, &["--host", "nosuchhost"]), 3);
    assert!(line.contains("no live Cinder service matches"), "{line}");
    // --help is help: exit 0, the plugin's exit codes.
    let run = check(&db, &["--help"]).code(0);
    assert!(run.stdout.contains("  3    UNKNOWN"), "{}", run.stdout);
    assert!(!run.stdout.contains("130"), "{}", run.stdout);
    insta::assert_snapshot!("service_check_help", run.stdout);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Any value for any of the rule flags: the plugin's contract holds (exit 0-3, a status
    /// line of that state first, no svcctl error line, no password): a value it cannot take is
    /// UNKNOWN, never svcctl's usage exit 2.
    #[test]
    fn any_rule_value_keeps_the_plugin_contract(
        // Not --textfile: a valid relative path would be written into the working directory.
        flag in prop::sample::select(vec!["--critical-outage", "--warning-down", "--stale-after", "--stale-is", "--zone", "--host", "--exclude", "--binary", "-f"]),
        value in "(?s)[-0-9a-z%.@*/ \n\"]{0,12}",
    ) {
        prop_assume!(!(flag == "-f" && value == "json"));
        let db = TestDb::new(Backend::Sqlite, Schema::Cinder).unwrap();
        seed(&db, 1800);
        let run = check(&db, &[flag, &value]);
        prop_assert!((0..=3).contains(&run.code), "{} {:?}: {}", flag, value, run.stdout);
        plugin_output(&run);
        if run.code == 3 {
            prop_assert_eq!(run.stdout.lines().count(), 1);
        }
    }
}

/// `promtool check metrics` on `text`, or None (announced) where promtool is missing, unless
/// SVCCTL_REQUIRE_PROMTOOL=1 makes that a failure. Debian's `prometheus` package ships it.
fn promtool(text: &str) -> Option<(i32, String)> {
    promtool_with(&["check", "metrics"], text)
}

fn promtool_with(args: &[&str], text: &str) -> Option<(i32, String)> {
    use std::io::Write;
    let child = Command::new("promtool")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            assert!(
                std::env::var_os("SVCCTL_REQUIRE_PROMTOOL").is_none(),
                "promtool: {e} (apt-get install prometheus)"
            );
            eprintln!("*** SKIPPED: promtool not found ({e}); apt-get install prometheus");
            return None;
        }
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some((out.status.code().unwrap_or(-1), said))
}

/// promtool parses `text` and finds nothing to lint but openstack-exporter's camelCase label
/// names (`adminState`, `disabledReason`), which existing alert rules match on; without that
/// family it finds nothing at all.
fn promtool_passes(text: &str) {
    let Some((code, said)) = promtool(text) else {
        return;
    };
    let camel = "openstack_cinder_agent_state label names should be written in 'snake_case' not 'camelCase'";
    assert!(
        code == 0 || (code == 3 && said.lines().all(|l| l == camel)),
        "promtool exit {code}:\n{said}\n{text}"
    );
    let ours: String = text
        .lines()
        .filter(|l| !l.contains("openstack_cinder_agent_state"))
        .map(|l| format!("{l}\n"))
        .collect();
    let (code, said) = promtool(&ours).unwrap();
    assert_eq!(code, 0, "promtool:\n{said}\n{ours}");
}

/// The samples of `family`: (labels, value).
fn samples<'a>(text: &'a str, family: &str) -> Vec<(&'a str, &'a str)> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{family}{{")) || l.starts_with(&format!("{family} ")))
        .map(|l| {
            let (labels, value) = l.rsplit_once(' ').unwrap();
            (labels, value)
        })
        .collect()
}

// `service list -f prometheus` passes promtool and carries openstack_cinder_agent_state with
// openstack-exporter's labels and each service's real uuid, 1 up and 0 down.
both_backends!(
    prometheus_metrics_pass_promtool_with_the_real_uuids,
    Schema::Cinder,
    |db| {
        seed(&db, 1800);
        let text = db
            .svcctl()
            .run(&["service", "list", "-f", "prometheus"])
            .code(0)
            .stdout;
        promtool_passes(&text);
        let uuids = db.rows(&format!(
            "SELECT {}, {} FROM services WHERE deleted = 0 ORDER BY id",
            db.text("uuid"),
            db.text("host")
        ));
        let agent = samples(&text, "openstack_cinder_agent_state");
        assert_eq!(agent.len(), 10);
        for row in &uuids {
            let (uuid, host) = (row[0].as_deref().unwrap(), row[1].as_deref().unwrap());
            let (labels, value) = agent
                .iter()
                .find(|(l, _)| l.contains(&format!("uuid=\"{uuid}\"")))
                .unwrap_or_else(|| panic!("no sample with uuid {uuid}:\n{text}"));
            assert!(labels.contains(&format!("hostname=\"{host}\"")), "{labels}");
            assert!(
                labels.contains("adminState=\"enabled\",disabledReason=\"\""),
                "{labels}"
            );
            assert!(labels.contains("zone=\"zettakit\""), "{labels}");
            assert_eq!(*value, if host.starts_with("node01") { "1" } else { "0" });
        }
        // The same uuids in the next scrape: nothing per-scrape in a label.
        let again = db
            .svcctl()
            .run(&["service", "list", "-f", "prometheus"])
            .code(0)
            .stdout;
        assert_eq!(samples(&again, "openstack_cinder_agent_state"), agent);
        assert_eq!(
            samples(&text, "svcctl_cinder_services")
                .iter()
                .filter(|(l, _)| l.contains("service=\"cinder-volume\""))
                .map(|(l, v)| format!("{l} {v}"))
                .collect::<Vec<_>>(),
            [
                "svcctl_cinder_services{service=\"cinder-volume\",state=\"up\",zone=\"zettakit\"} 4",
                "svcctl_cinder_services{service=\"cinder-volume\",state=\"down\",zone=\"zettakit\"} 2",
                "svcctl_cinder_services{service=\"cinder-volume\",state=\"stale\",zone=\"zettakit\"} 0",
            ]
        );
        assert!(
            samples(&text, "svcctl_cinder_check_status").is_empty(),
            "no status from a list"
        );
        // Filters select the services; the families stay whole.
        let text = db
            .svcctl()
            .run(&[
                "service",
                "list",
                "-f",
                "prometheus",
                "--state",
                "down",
                "--binary",
                "cinder-volume",
            ])
            .code(0)
            .stdout;
        assert_eq!(samples(&text, "openstack_cinder_agent_state").len(), 2);
        promtool_passes(&text);
        // What -f prometheus cannot take is a usage error; cluster list has no such format.
        db.svcctl()
            .run(&["service", "list", "-f", "prometheus", "-c", "host"])
            .code(2);
        db.svcctl()
            .run(&["service", "list", "-f", "prometheus", "--include-deleted"])
            .code(2);
        db.svcctl()
            .run(&["cluster", "list", "-f", "prometheus"])
            .code(2);
    }
);

// Label values from the database are escaped: quotes, backslashes, line breaks and non-ASCII
// in hosts, zones and reasons still make an exposition promtool reads, label for label.
both_backends!(hostile_label_values_are_escaped, Schema::Cinder, |db| {
    db.service(1, "ok", "cinder-volume", 5);
    db.exec(
        "UPDATE services SET host = 'we\"ird\\\\host\nx@b\u{e9}', availability_zone = 'z \"1\"', \
         disabled = 1, disabled_reason = 'RMA \"4711\"\nsee ticket' WHERE id = 1",
    );
    let host: String = db.rows(&format!("SELECT {} FROM services", db.text("host")))[0][0]
        .clone()
        .unwrap();
    assert!(host.contains('"') && host.contains('\n'), "{host:?}");
    let text = db
        .svcctl()
        .run(&["service", "list", "-f", "prometheus"])
        .code(0)
        .stdout;
    promtool_passes(&text);
    let agent = samples(&text, "openstack_cinder_agent_state");
    assert_eq!(agent.len(), 1, "{text}");
    let escaped = host
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n");
    assert!(
        agent[0].0.contains(&format!("hostname=\"{escaped}\"")),
        "{}",
        agent[0].0
    );
    assert!(
        agent[0]
            .0
            .contains("disabledReason=\"RMA \\\"4711\\\"\\nsee ticket\""),
        "{}",
        agent[0].0
    );
    // And the status line stays one line.
    let run = check(&db, &["-v"]);
    plugin_output(&run);
    assert_eq!(run.stdout.lines().count(), 3, "{}", run.stdout);
});

// --textfile: the check's metrics (with its status) for node_exporter, mode 0644 whatever the
// umask, replaced atomically: a reader polling the file while the check rewrites it, over and
// over, never sees a part of one; no temporary file is left behind.
#[test]
fn the_textfile_is_replaced_atomically() {
    use std::os::unix::fs::PermissionsExt;
    let db = TestDb::new(Backend::Sqlite, Schema::Cinder).unwrap();
    const N: usize = 3000;
    let values: Vec<String> = (0..N)
        .map(|i| {
            format!(
                "('{}', '{}', 0, {i}, 'node{i:05}@backend-with-a-longer-name', 'cinder-volume', \
                 'cinder-volume', 1, 0, 'nova', 'uuid-{i:08}')",
                db.ago(5),
                db.ago(if i % 3 == 0 { 600 } else { 5 })
            )
        })
        .collect();
    db.exec(&format!(
        "INSERT INTO services (created_at, updated_at, deleted, id, host, `binary`, topic, \
         report_count, disabled, availability_zone, uuid) VALUES {}",
        values.join(", ")
    ));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cinder.prom");
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (path, stop) = (path.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut reads = 0;
            while !stop.load(Ordering::Relaxed) {
                let text = match std::fs::read_to_string(&path) {
                    Ok(t) => t,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => panic!("{e}"),
                };
                reads += 1;
                let agents = text
                    .lines()
                    .filter(|l| l.starts_with("openstack_cinder_agent_state{"))
                    .count();
                assert!(
                    agents == N
                        && text.ends_with('\n')
                        && text.contains("\nsvcctl_cinder_scrape_duration_seconds "),
                    "a reader saw part of a textfile: {} bytes, {agents} services",
                    text.len()
                );
            }
            reads
        })
    };
    let args = ["service", "check", "--textfile", path.to_str().unwrap()];
    for _ in 0..4 {
        // Under a umask that would make the file unreadable to node_exporter.
        let cmd = db.svcctl().command(&args);
        let out = Command::new("sh")
            .arg("-c")
            .arg("umask 077 && exec \"$@\"")
            .arg("sh")
            .arg(cmd.get_program())
            .args(cmd.get_args())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .output()
            .unwrap();
        let run = Run::from(out, &args);
        assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    }
    stop.store(true, Ordering::Relaxed);
    let reads = reader.join().unwrap();
    assert!(reads > 0);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644);
    let files: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(files, ["cinder.prom"]);
    let text = std::fs::read_to_string(&path).unwrap();
    // 1,000 of 3,000 down: no outage, a warning.
    assert!(text.contains("\nsvcctl_cinder_check_status 1\n"));
    assert!(text.contains("\nsvcctl_cinder_scrape_success 1\n"));
    promtool_passes(&text);
}

// Reads only: a check runs to the end while a delete holds its transaction open (rows locked
// FOR UPDATE on MySQL, the write lock on SQLite), and sees the rows as they were.
both_backends!(a_check_takes_no_lock, Schema::Cinder, |db| {
    crate::harness::fleet::node01_up_node02_down(&db);
    let pause = db.dir.path().join("pause-in-txn");
    let delete = db.audited().paused(
        "SVCCTL_TEST_PAUSE_IN_TXN_FILE",
        &pause,
        &["service", "delete", "--host", "node02", "--yes"],
    );
    let run = db
        .svcctl()
        .run(&["--timeout", "30", "service", "check", "-f", "json"]);
    assert!(
        run.code == 1 || run.code == 2,
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    let v = run.json();
    assert_eq!(
        v["counts"]["services"], 6,
        "the uncommitted delete is not seen"
    );
    delete.resume().code(0);
    assert_eq!(live_ids(&db), [1, 2, 5, 6]);
});

// The README's alert rules are valid rules (`promtool check rules`), and they name only
// families svcctl writes.
#[test]
fn the_readme_alert_rules_pass_promtool() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let fence = "```yaml\ngroups:\n  - name: cinder-services";
    let start = readme.find(fence).expect("the rules in README.md") + "```yaml\n".len();
    let rules = &readme[start..start + readme[start..].find("```").unwrap()];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cinder.rules.yml");
    std::fs::write(&path, rules).unwrap();
    if let Some((code, said)) = promtool_with(&["check", "rules", path.to_str().unwrap()], "") {
        assert_eq!(code, 0, "promtool:\n{said}\n{rules}");
    }
    let db = TestDb::new(Backend::Sqlite, Schema::Cinder).unwrap();
    seed(&db, 8 * DAY);
    let prom = db.dir.path().join("cinder.prom");
    check(&db, &["--textfile", prom.to_str().unwrap()]).code(1);
    let text = std::fs::read_to_string(&prom).unwrap();
    for word in rules.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        if word.starts_with("svcctl_") || word.starts_with("openstack_") {
            assert!(
                text.contains(&format!("\n{word}")),
                "{word} is not in the textfile"
            );
        }
    }
}

// A SELECT-only account is all the check needs (a config file of its own for monitoring).
#[test]
fn a_select_only_account_is_enough() {
    let Some(db) = TestDb::new(Backend::MySql, Schema::Cinder) else {
        return;
    };
    seed(&db, 8 * DAY);
    db.service(30, "node09@lvm", "cinder-volume", 8 * DAY);
    db.volume("v9", "node09@lvm#p");
    let user = format!("ro_{}", db.name);
    db.exec(&format!(
        "CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY 'Ro-pw-3k'; \
         GRANT SELECT ON {}.* TO '{user}'@'127.0.0.1'",
        db.name
    ));
    let conf = db.conf(
        "node01",
        &format!(
            "[database]\nconnection = mysql+pymysql://{user}:Ro-pw-3k@127.0.0.1:{}/{}",
            db.port, db.name
        ),
    );
    let prom = db.dir.path().join("cinder.prom");
    let run = Svcctl::new().config(&conf).run(&[
        "service",
        "check",
        "--textfile",
        prom.to_str().unwrap(),
        "-f",
        "json",
    ]);
    let v = run.code(2).json();
    assert_eq!(
        with_condition(&v, "stale"),
        BTreeSet::from([19, 20, 22, 23])
    );
    assert_eq!(with_condition(&v, "in_use"), BTreeSet::from([30]));
    let text = std::fs::read_to_string(&prom).unwrap();
    assert!(
        text.contains("\nsvcctl_cinder_scrape_success 1\n"),
        "{text}"
    );
    Svcctl::new()
        .config(&conf)
        .run(&["service", "list", "-f", "prometheus"])
        .code(0);
    db.exec(&format!("DROP USER '{user}'@'127.0.0.1'"));
}
