//! Facts about this machine that several layers record.

/// This machine's hostname (`socket.gethostname()` in Cinder), if it can be read.
pub(crate) fn hostname() -> Option<String> {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
}
