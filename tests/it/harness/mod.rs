//! The test harness, by concern: `server` starts the private MariaDB, `database` gives each
//! test a fresh database (MariaDB or SQLite) and an administrator's view of it, `runner` runs
//! the svcctl binary, `rows` names the columns of one row; `both_backends!` runs one test body on each backend; `fleet` holds the seeds and helpers
//! several test files share; `svcctl_snapshot!` (in `snapshot`) is every snapshot test's macro. For the fault
//! tests: `session` holds a root MySQL session open (and its locks), `background` runs svcctl
//! and reads its stderr as it comes, `relay` loses or holds a COMMIT or its answer, `strace`
//! holds back svcctl's syncs, and `own_server` is a MariaDB a test may stop and start.

mod background;
mod database;
pub mod fleet;
mod own_server;
mod relay;
mod rows;
mod runner;
mod server;
mod session;
pub mod snapshot;
pub mod strace;

pub use background::Background;
pub use database::{Backend, Schema, TestDb, fixture, load_fixture_rows};
pub use own_server::OwnServer;
pub use relay::{Hold, Relay};
pub use rows::Placement;
pub use runner::{Paused, Run, Svcctl};
pub use server::{free_port, mariadb};
pub use session::{Rows, Session};

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
