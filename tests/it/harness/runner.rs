//! Running the svcctl binary: global flags first, a cleared environment, every output scanned
//! for the password; or stopped at a test seam for the test to act there.

use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Output, Stdio};
use std::time::{Duration, Instant};

use super::{PASSWORD, PASSWORD_ENCODED};

/// A svcctl invocation: global flags first (config files must precede the subcommand).
pub struct Svcctl {
    global: Vec<String>,
    audit_log: Option<PathBuf>,
    env: Vec<(String, String)>,
}

impl Svcctl {
    pub fn new() -> Svcctl {
        Svcctl {
            global: vec![],
            audit_log: None,
            env: vec![],
        }
    }

    pub fn config(mut self, path: &Path) -> Svcctl {
        self.global.push("--config-file".into());
        self.global.push(path.display().to_string());
        self
    }

    /// `--audit-log PATH` after every command this runs: for the writing commands (their dry
    /// runs and refusals too), so that a test's writes are recorded in a log of its own and never
    /// in the default /var/log/svcctl/audit.jsonl. A read-only command would refuse the flag.
    pub fn audit_log(mut self, path: &Path) -> Svcctl {
        self.audit_log = Some(path.to_path_buf());
        self
    }

    pub fn env(mut self, k: &str, v: &str) -> Svcctl {
        self.env.push((k.into(), v.into()));
        self
    }

    /// The command, not yet run.
    pub fn command(&self, args: &[&str]) -> StdCommand {
        self.command_under(&[], args)
    }

    /// The command run by `wrapper` (its program and its arguments before svcctl's own, e.g.
    /// strace's), not yet run.
    pub fn command_under(&self, wrapper: &[String], args: &[&str]) -> StdCommand {
        let svcctl = assert_cmd::cargo::cargo_bin!("svcctl");
        let mut cmd = match wrapper.split_first() {
            None => StdCommand::new(svcctl),
            Some((program, rest)) => {
                let mut cmd = StdCommand::new(program);
                cmd.args(rest).arg(svcctl);
                cmd
            }
        };
        cmd.env_clear();
        cmd.env("PATH", std::env::var_os("PATH").unwrap_or_default());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.args(&self.global);
        cmd.args(args);
        if let Some(log) = &self.audit_log {
            cmd.arg("--audit-log").arg(log);
        }
        cmd.stdin(Stdio::null());
        cmd
    }

    /// Runs svcctl to completion and checks its output never shows the password.
    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().unwrap(), args)
    }
}

/// svcctl stopped at one of its test seams (`SVCCTL_TEST_PAUSE_FILE`, between plan and write;
/// `SVCCTL_TEST_PAUSE_IN_TXN_FILE`, inside the transaction), for the test to act there.
pub struct Paused {
    child: std::process::Child,
    pause: PathBuf,
}

impl Svcctl {
    /// Starts svcctl with the seam `var` and returns once it has stopped there.
    pub fn paused(self, var: &str, pause: &Path, args: &[&str]) -> Paused {
        let child = self
            .env(var, pause.to_str().unwrap())
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while !pause.exists() {
            assert!(
                Instant::now() < deadline,
                "svcctl {args:?} never reached {var}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Paused {
            child,
            pause: pause.to_path_buf(),
        }
    }
}

impl Paused {
    pub fn pid(&self) -> nix::unistd::Pid {
        nix::unistd::Pid::from_raw(self.child.id() as i32)
    }

    /// Lets svcctl go on, and waits for it.
    pub fn resume(self) -> Run {
        std::fs::remove_file(&self.pause).unwrap();
        self.finish()
    }

    /// Waits for svcctl without resuming it (it was signalled). The pause file goes only
    /// after svcctl has ended: removed first, it would let svcctl go on (and commit) before it
    /// saw the signal, which made the Ctrl-C test fail now and then under load.
    pub fn finish(self) -> Run {
        let out = self.child.wait_with_output().unwrap();
        let _ = std::fs::remove_file(&self.pause);
        Run::from(out, &["paused"])
    }
}

/// What a run printed and how it exited.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(out: Output, args: &[&str]) -> Run {
        Run::checked(
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
            args,
        )
    }

    /// What `svcctl args` printed, checked never to show the password.
    pub fn checked(code: i32, stdout: String, stderr: String, args: &[&str]) -> Run {
        let run = Run {
            code,
            stdout,
            stderr,
        };
        for secret in [PASSWORD, PASSWORD_ENCODED, "cinder_dbpass"] {
            assert!(
                !run.stdout.contains(secret) && !run.stderr.contains(secret),
                "svcctl {args:?} printed the password:\n{}\n{}",
                run.stdout,
                run.stderr
            );
        }
        run
    }

    /// Asserts the exit code, showing the output when it is wrong.
    pub fn code(self, expected: i32) -> Run {
        assert_eq!(
            self.code, expected,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("not JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr)
        })
    }

    /// The last stderr line: the one-line error.
    pub fn error_line(&self) -> &str {
        self.stderr.lines().last().unwrap_or("")
    }
}
