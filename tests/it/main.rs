//! Black-box tests: the real svcctl binary against real SQLite files and a private MariaDB.
//! One test binary, so one MariaDB server serves the whole run.

mod harness;

mod cleanup;
mod config;
mod connect;
mod corpus;
mod decommission;
mod delete;
mod list;
mod move_host;
mod parity;
mod schema;
mod shared;
mod streams;
