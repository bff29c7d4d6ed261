//! `svcctl backend cleanup` where one cinder-volume serves every backend, as upstream Cinder runs
//! it: a parent and one forked child per `enabled_backends` entry, all with the same command line
//! naming no backend. They are never signalled; this node's service of the backend is judged by
//! its heartbeat; and a backend still in `enabled_backends` is refused. Process discovery sees
//! the whole machine and tests run in parallel, so every test uses backend keys of its own.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde_json::Value;

use crate::harness::fleet::{cleanup_seeing_go_down, deleted_hosts};
use crate::harness::{Backend, Schema, Svcctl, TestDb};

/// Upstream's command line: no backend in it.
const SHARED: &str =
    "/usr/bin/python3 /usr/bin/cinder-volume --config-file /etc/cinder/cinder.conf";

/// A process tree like upstream's cinder-volume: a parent that forks `children` children, all
/// showing `title` as their command line (perl's `$0` rewrites it in place; a fork keeps it, as
/// oslo.service's eventlet ProcessLauncher children keep Cinder's). One process group, killed
/// whole when dropped.
struct Tree {
    parent: Child,
    children: usize,
}

impl Tree {
    fn start(title: &str, children: usize) -> Tree {
        let script = format!(
            "$0 = $ENV{{TITLE}}; for (1..{children}) {{ if (!fork) {{ sleep 600; exit }} }} sleep 600"
        );
        let parent = Command::new("perl")
            .arg("-e")
            .arg(script)
            .env("TITLE", title)
            .stdin(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap();
        let tree = Tree { parent, children };
        let deadline = Instant::now() + Duration::from_secs(5);
        while tree.pids().len() != children + 1 || !tree.pids().iter().all(|p| cmdline(*p) == title)
        {
            assert!(Instant::now() < deadline, "the tree never showed {title:?}");
            std::thread::sleep(Duration::from_millis(10));
        }
        tree
    }

    /// The parent, then its live children.
    fn pids(&self) -> Vec<i64> {
        let parent = self.parent.id() as i64;
        let mut pids = vec![parent];
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<i64>() else {
                continue;
            };
            if stat(pid).is_some_and(|(state, ppid)| ppid == parent && state != "Z") {
                pids.push(pid);
            }
        }
        pids
    }

    /// The parent and every child still running.
    fn all_running(&mut self) -> bool {
        self.parent.try_wait().unwrap().is_none() && self.pids().len() == self.children + 1
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = killpg(Pid::from_raw(self.parent.id() as i32), Signal::SIGKILL);
        let _ = self.parent.wait();
    }
}

/// A process's state and parent pid, from /proc/PID/stat.
fn stat(pid: i64) -> Option<(String, i64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces: the fields after it follow the last ')'.
    let rest = &text[text.rfind(')')? + 2..];
    let mut fields = rest.split(' ');
    let state = fields.next()?.to_string();
    let ppid = fields.next()?.parse().ok()?;
    Some((state, ppid))
}

fn cmdline(pid: i64) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| {
            String::from_utf8_lossy(&b)
                .split('\0')
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

/// The seed distribution's process for one backend: its key in the command line. A one-process
/// tree, so it is stopped by svcctl or killed with its group.
fn per_backend(key: &str) -> Tree {
    Tree::start(
        &format!("/usr/bin/python2 /usr/bin/cinder-volume --config-file /etc/cinder/{key}.conf"),
        0,
    )
}

fn pids_of(v: &Value, list: &str) -> Vec<i64> {
    v[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list} in {v}"))
        .iter()
        .map(|p| p["pid"].as_i64().unwrap())
        .collect()
}

/// svcctl as node01, with `extra` in cinder.conf's [DEFAULT].
fn svcctl_with(db: &TestDb, extra: &str) -> Svcctl {
    Svcctl::new()
        .config(&db.conf("node01", extra))
        .audit_log(&db.audit_path())
}

/// The shared tree survives a cleanup that stops the seed-style process of the backend, and the
/// plan says what it found.
#[test]
fn shared_cinder_volume_survives_a_per_backend_cleanup() {
    for backend in [Backend::Sqlite, Backend::MySql] {
        let Some(db) = TestDb::new(backend, Schema::Cinder) else {
            continue;
        };
        let key = "backend-1a1a1a1a-0101";
        db.service(1, &format!("node01@{key}"), "cinder-volume", 3);
        db.service(2, &format!("node02@{key}"), "cinder-volume", 600);
        db.service(3, "node01@lvm", "cinder-volume", 3);
        let mut tree = Tree::start(SHARED, 2);
        // The same service under oslo.service's threading backend, as cotyledon titles it.
        let mut master = Tree::start(
            "cinder-volume: master process [/usr/bin/cinder-volume --config-file \
             /etc/cinder/cinder.conf]",
            0,
        );
        let mut worker = Tree::start("cinder-volume: ServiceWrapper worker(0)", 0);
        let mut mine = per_backend(key);
        let run = db
            .audited()
            .run(&[
                "backend",
                "cleanup",
                "1a1a1a1a-0101",
                "--yes",
                "--kill-timeout",
                "5",
                "-f",
                "json",
            ])
            .code(0);
        let v = run.json();
        assert_eq!(
            deleted_hosts(&v),
            [format!("node01@{key}"), format!("node02@{key}")]
        );
        assert_eq!(pids_of(&v, "processes"), [mine.pids()[0]], "{v}");
        assert!(!mine.all_running(), "the backend's own process is stopped");
        assert!(tree.all_running(), "the shared cinder-volume survives");
        assert!(master.all_running() && worker.all_running());
        // What the plan found: at least these (other tests' trees may run beside them).
        let shared = pids_of(&v, "shared_processes");
        let ours = [tree.pids(), master.pids(), worker.pids()].concat();
        assert!(ours.iter().all(|p| shared.contains(p)), "{v}");
        assert!(
            run.stderr.contains(&format!(
                "{} cinder-volume processes here name no backend (one service for all \
                 enabled_backends); none is stopped",
                shared.len()
            )),
            "{}",
            run.stderr
        );
        assert_eq!(db.int("SELECT deleted FROM services WHERE id = 3"), 0);
    }
}

/// With no process here naming the backend, this node's service of it goes only once its
/// heartbeat stops: refused while up, deleted after `--wait` sees it go down. Never a signal.
#[test]
fn shared_cinder_volume_service_goes_when_its_heartbeat_stops() {
    for backend in [Backend::Sqlite, Backend::MySql] {
        let Some(db) = TestDb::new(backend, Schema::Cinder) else {
            continue;
        };
        let key = "lvm-h5-shared";
        db.service(1, &format!("node01@{key}"), "cinder-volume", 3);
        db.service(2, "node01@lvm-h5-other", "cinder-volume", 3);
        let mut tree = Tree::start(SHARED, 2);
        // The only cinder-volume processes here that could be its are the shared ones.
        let before = db.fingerprint();
        let run = db
            .audited()
            .run(&["backend", "cleanup", key, "--yes", "--kill-timeout", "5"])
            .code(3);
        assert!(
            run.stderr.contains(&format!(
                "s ago) and no process here names backend {key}: the cinder-volume serving \
                 every enabled backend still runs it"
            )) && run
                .stderr
                .contains("remove it from [DEFAULT] enabled_backends"),
            "{}",
            run.stderr
        );
        assert!(
            !run.stdout.contains("SIGTERM"),
            "no process is to be signalled: {}",
            run.stdout
        );
        assert!(tree.all_running());
        assert_eq!(db.fingerprint(), before);
        // The operator removed it from enabled_backends and restarted cinder-volume: its last
        // heartbeat is 56 s old, and it goes down within --wait.
        let v = cleanup_seeing_go_down(&db, key, 1, "node01");
        assert_eq!(deleted_hosts(&v), [format!("node01@{key}")]);
        assert_eq!(v["processes"], serde_json::json!([]));
        assert!(tree.all_running(), "the shared cinder-volume survives");
        assert_eq!(db.int("SELECT deleted FROM services WHERE id = 2"), 0);
    }
}

/// A backend still in `[DEFAULT] enabled_backends`, by name or by its 13-character key, is
/// refused with the hint, and nothing is stopped or changed; `--force` overrides.
#[test]
fn backend_still_in_enabled_backends_is_refused() {
    for backend in [Backend::Sqlite, Backend::MySql] {
        let Some(db) = TestDb::new(backend, Schema::Cinder) else {
            continue;
        };
        let key = "backend-1b1b1b1b-0202";
        db.service(1, &format!("node01@{key}"), "cinder-volume", 3);
        db.service(2, &format!("node02@{key}"), "cinder-volume", 600);
        db.service(3, "node02@lvm-h5-named", "cinder-volume", 600);
        let mut mine = per_backend(key);
        let before = db.fingerprint();
        for (entries, arg) in [
            ("lvm, 1b1b1b1b-0202", "1b1b1b1b-0202-4ff9-988a-2b475e0bd5a5"),
            ("lvm,backend-1b1b1b1b-0202", "1b1b1b1b-0202"),
            ("lvm,lvm-h5-named", "lvm-h5-named"),
        ] {
            let run = svcctl_with(&db, &format!("enabled_backends = {entries}"))
                .run(&["backend", "cleanup", arg, "--yes", "-f", "json"])
                .code(3);
            let v = run.json();
            let reasons = v["refused"].to_string();
            assert!(
                reasons.contains("is still in [DEFAULT] enabled_backends")
                    && reasons.contains(
                        "remove it from enabled_backends, restart cinder-volume, then run the \
                         cleanup"
                    ),
                "{v}"
            );
            assert!(
                run.error_line().contains("nothing was changed"),
                "{}",
                run.stderr
            );
            assert!(mine.all_running(), "a refused cleanup stops nothing");
            assert_eq!(db.fingerprint(), before);
        }
        // Other backends listed there are no reason to refuse this one.
        svcctl_with(&db, "enabled_backends = lvm,backend-1b1b1b1b-0202")
            .run(&["backend", "cleanup", "lvm-h5-named", "--yes"])
            .code(0);
        // --force overrides.
        let forced = svcctl_with(&db, "enabled_backends = lvm,backend-1b1b1b1b-0202")
            .run(&[
                "backend",
                "cleanup",
                "1b1b1b1b-0202",
                "--yes",
                "--force",
                "--kill-timeout",
                "5",
            ])
            .code(0);
        assert!(
            forced.stderr.contains("WARNING: --force"),
            "{}",
            forced.stderr
        );
        assert!(!mine.all_running());
        assert_eq!(db.int("SELECT COUNT(*) FROM services WHERE deleted = 1"), 3);
    }
}
