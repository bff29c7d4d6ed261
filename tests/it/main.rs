//! Black-box tests: the real svcctl binary against real SQLite files and a private MariaDB.
//! One test binary, so one MariaDB server serves the whole run.

// clippy.toml forbids std's print macros in svcctl, whose streams must survive a closed pipe
// and never show a secret; a test's own notes go to libtest, which captures them.
#![allow(clippy::disallowed_macros)]

mod harness;

mod audit;
mod cleanup;
mod cluster;
mod config;
mod connect;
mod corpus;
mod decommission;
mod delete;
mod faults;
mod generate;
mod list;
mod move_host;
mod output_cli;
mod parity;
mod purge;
mod restore;
mod schema;
mod shared;
mod streams;
mod sweep;
