//! Black-box tests: the real svcctl binary against real SQLite files and a private MariaDB.
//! One test binary, so one MariaDB server serves the whole run.

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
mod references;
mod restore;
mod schema;
mod shared;
mod streams;
mod sweep;
