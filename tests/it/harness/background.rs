//! svcctl running in the background, its stderr read line by line as it comes, so a test can
//! wait for a point in its run (a lock wait, a retry) and act there.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use nix::unistd::Pid;

use super::runner::{Run, Svcctl};
use super::session::Session;

pub struct Background {
    child: Child,
    /// svcctl's own process: the child, or the process the child (strace) runs.
    pid: Pid,
    stderr: Arc<Mutex<Vec<String>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Background {
    pub fn start(svcctl: &Svcctl, args: &[&str]) -> Background {
        Background::spawn(svcctl.command(args), false)
    }

    /// svcctl run by strace, every sync of its audit log held back for `delay`
    /// (`strace::wrapper`).
    pub fn start_traced(svcctl: &Svcctl, delay: Duration, args: &[&str]) -> Background {
        Background::spawn(
            svcctl.command_under(&super::strace::wrapper(delay), args),
            true,
        )
    }

    fn spawn(mut command: std::process::Command, traced: bool) -> Background {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let pipe = child.stderr.take().unwrap();
        let lines = stderr.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                lines.lock().unwrap().push(line);
            }
        });
        let pid = if traced {
            super::strace::tracee(child.id())
        } else {
            Pid::from_raw(child.id() as i32)
        };
        Background {
            child,
            pid,
            stderr,
            reader: Some(reader),
        }
    }

    /// Sends `signal` to svcctl.
    pub fn signal(&self, signal: Signal) {
        nix::sys::signal::kill(self.pid, signal).unwrap();
    }

    /// Whether svcctl has ended.
    pub fn ended(&mut self) -> bool {
        self.child.try_wait().unwrap().is_some()
    }

    /// Waits (polling) until svcctl's transaction on `database` waits for a lock `s` holds.
    pub fn wait_for_lock(&mut self, s: &Session, database: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while s.lock_waits(database) == 0 {
            assert!(
                self.child.try_wait().unwrap().is_none() && Instant::now() < deadline,
                "svcctl never waited for the lock:\n{}",
                self.lines().join("\n")
            );
            // InnoDB refreshes INNODB_TRX only when it was not read for 0.1 s.
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    pub fn lines(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until `enough` holds for the stderr lines so far, or svcctl has ended.
    pub fn wait_until(&mut self, what: &str, enough: impl Fn(&[String]) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while !enough(&self.lines()) {
            if self.child.try_wait().unwrap().is_some() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "svcctl never got to {what}:\n{}",
                self.lines().join("\n")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for svcctl to end on its own, while whatever holds it (a relay keeping its COMMIT)
    /// still does: past a minute it is killed and the test fails.
    pub fn finish_on_its_own(mut self) -> Run {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.ended() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "svcctl did not end on its own:\n{}",
                    self.lines().join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.finish()
    }

    /// Waits for svcctl to end; its output is checked for the password as every run's is.
    pub fn finish(mut self) -> Run {
        let mut stdout = String::new();
        self.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut stdout)
            .unwrap();
        let status = self.child.wait().unwrap();
        self.reader.take().unwrap().join().unwrap();
        let stderr = self.lines().join("\n");
        Run::checked(
            status.code().unwrap_or(-1),
            stdout,
            stderr,
            &["in the background"],
        )
    }
}
