//! Test seams: places where the black-box tests stop svcctl to change the database under it
//! or interrupt it, and one that makes it panic to prove the panic hook. Compiled only with the `test-seams` cargo feature, which the test build
//! turns on (Cargo.toml) and a release build never has: there, `pause` is an empty function
//! and no `SVCCTL_TEST_*` name is in the binary.

/// Where svcctl can be stopped.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Seam {
    /// Between the plan and the write (`SVCCTL_TEST_PAUSE_FILE`), so a test can change the
    /// database there and prove the WHERE clause catches it.
    BeforeWrite,
    /// Inside the transaction, after the UPDATE, before the audit and COMMIT
    /// (`SVCCTL_TEST_PAUSE_IN_TXN_FILE`), so a test can interrupt svcctl there and prove
    /// nothing is half-written.
    InTransaction,
}

/// With the seam's environment variable naming a file, create it and wait (up to a minute)
/// until the test removes it.
#[cfg(feature = "test-seams")]
pub(crate) async fn pause(seam: Seam) {
    let var = match seam {
        Seam::BeforeWrite => "SVCCTL_TEST_PAUSE_FILE",
        Seam::InTransaction => "SVCCTL_TEST_PAUSE_IN_TXN_FILE",
    };
    let Some(path) = std::env::var_os(var) else {
        return;
    };
    let path = std::path::PathBuf::from(path);
    if std::fs::write(&path, b"paused").is_err() {
        return;
    }
    for _ in 0..600 {
        if !path.exists() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[cfg(not(feature = "test-seams"))]
#[inline(always)]
pub(crate) async fn pause(_seam: Seam) {}

/// With `SVCCTL_TEST_PANIC` set, panics right after the connection string was parsed, with the
/// string (password and all) in the message: the panic hook must print one line without the
/// password, and exit 1.
#[cfg(feature = "test-seams")]
pub(crate) fn panic_after_parse(connection: &str) {
    if std::env::var_os("SVCCTL_TEST_PANIC").is_some() {
        panic!("forced by SVCCTL_TEST_PANIC;\nconnection = {connection}");
    }
}

#[cfg(not(feature = "test-seams"))]
#[inline(always)]
pub(crate) fn panic_after_parse(_connection: &str) {}

/// The default audit log's path: with `SVCCTL_TEST_DEFAULT_AUDIT_LOG` set, that path instead of
/// `/var/log/svcctl/audit.jsonl`, so a test can plant links and loose modes in the default log's
/// directories without touching the machine's /var/log.
#[cfg(feature = "test-seams")]
pub(crate) fn default_audit_log(default: &str) -> std::path::PathBuf {
    std::env::var_os("SVCCTL_TEST_DEFAULT_AUDIT_LOG")
        .map_or_else(|| default.into(), std::path::PathBuf::from)
}

#[cfg(not(feature = "test-seams"))]
#[inline(always)]
pub(crate) fn default_audit_log(default: &str) -> std::path::PathBuf {
    default.into()
}
