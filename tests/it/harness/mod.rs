//! The test harness, by concern: `server` starts the private MariaDB, `database` gives each
//! test a fresh database (MariaDB or SQLite) and an administrator's view of it, `runner` runs
//! the svcctl binary; `both_backends!` runs one test body on each backend.

mod database;
mod runner;
mod server;

pub use database::{Backend, Schema, TestDb, fixture, load_fixture_rows, text_rows};
pub use runner::{Paused, Run, Svcctl};
pub use server::{free_port, mariadb};

/// The MariaDB user the tests give svcctl, with a password that needs percent-encoding.
pub const USER: &str = "svcctl_test";
pub const PASSWORD: &str = "Sv:c/tl@pw-9%x";
pub const PASSWORD_ENCODED: &str = "Sv%3Ac%2Ftl%40pw-9%25x";

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// Runs a test body once per backend: SQLite always, MySQL where MariaDB is available.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $schema:expr, |$db:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            fn body($db: $crate::harness::TestDb) $body
            #[test]
            fn sqlite() {
                body($crate::harness::TestDb::new($crate::harness::Backend::Sqlite, $schema).unwrap());
            }
            #[test]
            fn mysql() {
                if let Some(db) = $crate::harness::TestDb::new($crate::harness::Backend::MySql, $schema) {
                    body(db);
                }
            }
        }
    };
}
