//! The benchmark's timer: runs several commands interleaved, RUNS times each, and prints each
//! one's median wall time and peak memory. Built by bench.sh with plain `rustc` (std only).
//!
//! Why not GNU time or a Python loop: `time -f %e` has 10 ms resolution, and a child's peak
//! RSS as the kernel reports it includes its parent's at the moment of exec, so the parent
//! must be small; this one is about 2 MiB, below anything measured.
//!
//!   paired RUNS ::: LABEL SETUP PROGRAM ARGS... ::: LABEL SETUP PROGRAM ARGS... ...
//!
//! SETUP is a shell command run, untimed, before every run of its case ("" for none). Each run
//! starts the cases in a rotated order, after one untimed warm-up pass. stdout goes to
//! /dev/null. Output, one line per case: LABEL, median ns, min ns, max ns, peak RSS KiB (the
//! largest of all runs), tab-separated.

use std::fs::File;
use std::process::{Command, Stdio, exit};
use std::time::Instant;

/// `struct rusage` on 64-bit Linux: two timevals, then 14 longs; ru_maxrss (KiB) first.
#[repr(C)]
struct Rusage {
    utime: [i64; 2],
    stime: [i64; 2],
    maxrss: i64,
    rest: [i64; 13],
}

unsafe extern "C" {
    fn wait4(pid: i32, status: *mut i32, options: i32, rusage: *mut Rusage) -> i32;
}

struct Case {
    label: String,
    setup: String,
    argv: Vec<String>,
    times: Vec<u128>,
    peak_kib: i64,
}

fn parse(args: &[String]) -> Vec<Case> {
    args.split(|a| a == ":::")
        .filter(|g| !g.is_empty())
        .map(|g| {
            if g.len() < 3 {
                eprintln!("paired: a case needs LABEL SETUP PROGRAM: {g:?}");
                exit(2);
            }
            Case {
                label: g[0].clone(),
                setup: g[1].clone(),
                argv: g[2..].to_vec(),
                times: Vec::new(),
                peak_kib: 0,
            }
        })
        .collect()
}

/// Runs `setup` (untimed), then the case; returns wall ns and peak RSS KiB.
fn run(case: &Case, err_path: &str) -> (u128, i64) {
    if !case.setup.is_empty() {
        let ok = Command::new("sh")
            .args(["-c", &case.setup])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("paired: setup of {:?} failed", case.label);
            exit(1);
        }
    }
    let err = File::create(err_path).expect("stderr file");
    let start = Instant::now();
    let child = Command::new(&case.argv[0])
        .args(&case.argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| {
            eprintln!("paired: cannot start {:?}: {e}", case.argv[0]);
            exit(1)
        });
    let mut status = 0;
    let mut ru: Rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { wait4(child.id() as i32, &mut status, 0, &mut ru) };
    let wall = start.elapsed().as_nanos();
    // Exited normally with 0: WIFEXITED && WEXITSTATUS == 0.
    if pid < 0 || status != 0 {
        eprintln!("paired: {:?} failed (wait status {status}); its stderr:", case.label);
        eprint!("{}", std::fs::read_to_string(err_path).unwrap_or_default());
        exit(1);
    }
    (wall, ru.maxrss)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runs: usize = match args.first().and_then(|r| r.parse().ok()) {
        Some(n) if n > 0 => n,
        _ => {
            eprintln!("usage: paired RUNS ::: LABEL SETUP PROGRAM ARGS... [::: ...]");
            exit(2);
        }
    };
    let mut cases = parse(&args[1..]);
    let err_path = std::env::temp_dir().join(format!("paired-{}.err", std::process::id()));
    let err_path = err_path.to_str().expect("UTF-8 temp dir").to_string();
    for case in &cases {
        run(case, &err_path);
    }
    let n = cases.len();
    for rep in 0..runs {
        for i in 0..n {
            let case = &mut cases[(i + rep) % n];
            let (ns, kib) = run(case, &err_path);
            case.times.push(ns);
            case.peak_kib = case.peak_kib.max(kib);
        }
    }
    let _ = std::fs::remove_file(&err_path);
    for c in &mut cases {
        c.times.sort_unstable();
        let median = if runs % 2 == 1 {
            c.times[runs / 2]
        } else {
            (c.times[runs / 2 - 1] + c.times[runs / 2]) / 2
        };
        println!(
            "{}\t{median}\t{}\t{}\t{}",
            c.label,
            c.times[0],
            c.times[runs - 1],
            c.peak_kib
        );
    }
}
