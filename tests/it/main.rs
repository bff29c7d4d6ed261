//! Black-box tests: the real svcctl binary against real SQLite files and a private MariaDB.
//! One test binary, so one MariaDB server serves the whole run.

// clippy.toml forbids std's print macros in svcctl, whose streams must survive a closed pipe
// and never show a secret; a test's own notes go to libtest, which captures them.
#![allow(clippy::disallowed_macros)]

mod harness;

mod audit;
mod audit_file;
mod bad_rows;
mod check;
mod cinder_parity;
mod cleanup;
mod cluster;
mod config;
mod connect;
mod contract;
mod decommission;
mod delete;
mod demo;
mod faults;
mod forged_records;
mod generate;
mod help;
mod hostile_values;
mod list;
mod malformed_inputs;
mod migrations;
mod move_host;
mod output_cli;
mod plans;
mod purge;
mod readme;
mod references;
mod restore;
mod shared_process;
mod signals;
mod streams;
mod sweep;
mod toggle;
