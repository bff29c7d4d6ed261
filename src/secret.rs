//! Secrets: the password that cannot be printed (`Secret`), the connection string held so that
//! it cannot be printed whole (`SecretUrl`), the one split of a connection string around its
//! credentials (`Split`: what `mask` hides is what `db::url` parses as the password), and the
//! registry `redact` uses as a net under every message line and the panic hook.
//!
//! A leaf: it uses nothing of svcctl's, so that config (which holds the connection string),
//! db (which parses it), term and the panic hook can all use it without knowing each other.

use std::fmt;
use std::ops::Range;
use std::sync::{Mutex, PoisonError};

use percent_encoding::percent_decode_str;

/// A password that cannot be printed by accident: `Debug` and `Display` show `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(secret: String) -> Secret {
        Secret(secret)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A connection string as configured (`[database] connection`), password and all. Its `Debug`
/// shows it masked, so a struct holding it can derive `Debug`; it has no `Display`, so it is
/// never formatted into a message whole: `masked` is for showing, `expose` for parsing.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretUrl(String);

impl SecretUrl {
    pub fn new(url: String) -> SecretUrl {
        SecretUrl(url)
    }

    /// The text as configured, password included: for the parser only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The text with its password replaced by `***` (see `mask`).
    pub fn masked(&self) -> String {
        mask(&self.0)
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SecretUrl").field(&self.masked()).finish()
    }
}

/// How a connection string divides around its credentials. This one split decides what the
/// password is: `db::url` takes the user and password from it, `mask` hides what it calls the
/// userinfo, and every message quotes the masked text. It never fails, so text that is not a
/// URL at all is divided (and masked) the same way.
/// No `Debug`: it holds the password.
#[derive(Clone, Copy)]
pub struct Split<'a> {
    /// `scheme://`, or "" when the text has no `://`.
    pub head: &'a str,
    /// Everything between `head` and the `@` that precedes the host, if there is such an `@`.
    pub userinfo: Option<&'a str>,
    /// The rest: host, port, database and query.
    pub tail: &'a str,
}

impl<'a> Split<'a> {
    pub fn of(url: &'a str) -> Split<'a> {
        let (head, rest) = match url.find("://") {
            Some(i) if is_scheme(&url[..i]) => url.split_at(i + 3),
            _ => ("", url),
        };
        // An SQLite URL's path may hold '@'; it has no credentials unless it (wrongly) names a host.
        if head.to_ascii_lowercase().starts_with("sqlite") && rest.starts_with('/') {
            return Split {
                head,
                userinfo: None,
                tail: rest,
            };
        }
        match host_at(rest) {
            Some(at) => Split {
                head,
                userinfo: Some(&rest[..at]),
                tail: &rest[at + 1..],
            },
            None => Split {
                head,
                userinfo: None,
                tail: rest,
            },
        }
    }

    /// `(user, password)` as written (still percent-encoded) when the userinfo is well formed:
    /// a `scheme://` before it, no `/` in the user, no raw `@`. None otherwise.
    pub fn credentials(&self) -> Option<(&'a str, Option<&'a str>)> {
        let ui = self.userinfo?;
        if self.head.is_empty() || ui.contains('@') {
            return None;
        }
        let (user, password) = match ui.split_once(':') {
            Some((u, p)) => (u, Some(p)),
            None => (ui, None),
        };
        (!user.contains('/')).then_some((user, password))
    }

    /// Where the password may be, as a byte range of the whole text: after the first `:` of the
    /// userinfo (a user name never holds a raw `:`); the whole userinfo when it has no `:` and
    /// is not a plain user name; without userinfo, a non-numeric "port" (the `@HOST` after
    /// `user:password` may be what is missing). None when there is no password to hide.
    fn secret(&self, url: &str) -> Option<Range<usize>> {
        let start = self.head.len();
        match self.userinfo {
            Some(ui) => match ui.find(':') {
                Some(colon) => Some(start + colon + 1..start + ui.len()),
                None if self.credentials().is_some() => None,
                None => Some(start..start + ui.len()),
            },
            None => bogus_port(self.tail).map(|r| {
                let at = url.len() - self.tail.len();
                at + r.start..at + r.end
            }),
        }
    }
}

/// Whether `s` may be what precedes `://`: SQLAlchemy's `[\w+]+`. Anything else is no scheme, so
/// a `://` inside a password of text that has none (`user:pa://ss@host`) is not taken for one.
fn is_scheme(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '+')
}

/// The position of the `@` that ends the userinfo: the last `@` followed by something shaped
/// like `host[:port]` and then `/`, `?` or the end. Taking the last one keeps a raw `@` in a
/// password (malformed, but it happens) on the secret side; an `@` in a query value is not
/// followed by a host shape and does not count.
fn host_at(rest: &str) -> Option<usize> {
    rest.match_indices('@').map(|(i, _)| i).rev().find(|&i| {
        let after = &rest[i + 1..];
        let host_end = after.find(['/', '?']).unwrap_or(after.len());
        let host = &after[..host_end];
        let at_end = host_end == after.len();
        let empty_at_end = host.is_empty() && at_end;
        !(host.contains(['@', '=', '&']) || empty_at_end)
    })
}

/// The byte range (in `tail`) of a non-numeric port in `host:port/...`.
fn bogus_port(tail: &str) -> Option<Range<usize>> {
    let authority = &tail[..tail.find(['/', '?']).unwrap_or(tail.len())];
    let from = authority.rfind(']').map_or(0, |i| i + 1);
    let colon = from + authority[from..].find(':')?;
    let port = &authority[colon + 1..];
    (!port.is_empty() && !port.bytes().all(|b| b.is_ascii_digit()))
        .then_some(colon + 1..authority.len())
}

/// The URL with its password replaced by `***`. Works on text that is not a URL too (see
/// `Split`), so that an error about a malformed URL can still quote it safely.
pub fn mask(url: &str) -> String {
    match Split::of(url).secret(url) {
        Some(r) => format!("{}***{}", &url[..r.start], &url[r.end..]),
        None => url.to_string(),
    }
}

/// Registers the secret part of `url` (as written and percent-decoded), so that `redact` hides
/// it from every later message even if it was quoted by mistake.
pub fn register_url(url: &str) {
    let url = url.trim();
    if let Some(r) = Split::of(url).secret(url) {
        register(&url[r.clone()]);
        register(&percent_decode_str(&url[r]).decode_utf8_lossy());
    }
}

/// The secrets read so far (the database password, raw and percent-decoded): every message
/// line and the panic hook pass through `redact`, as a net under the masking done where the
/// text is built.
static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Remembers a secret so that `redact` hides it. Empty and very short strings are ignored:
/// hiding every `a` would make messages unreadable, and such a password is shown by nothing.
pub fn register(secret: &str) {
    if secret.chars().count() < 3 {
        return;
    }
    let mut secrets = SECRETS.lock().unwrap_or_else(PoisonError::into_inner);
    if !secrets.iter().any(|s| s == secret) {
        secrets.push(secret.to_string());
        // Longest first, so a secret that contains another is hidden whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

/// `s` with every registered secret replaced by `***`.
pub fn redact(s: &str) -> String {
    // A panic while the lock is held must not stop the panic hook from redacting.
    let secrets = SECRETS.lock().unwrap_or_else(PoisonError::into_inner);
    let mut out = s.to_string();
    for secret in secrets.iter() {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), "***");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn redact_hides_registered_secrets() {
        register("text-rs-s3cret");
        register("pw");
        assert_eq!(
            redact("user:text-rs-s3cret@h and text-rs-s3cret"),
            "user:***@h and ***"
        );
        assert_eq!(redact("pw stays"), "pw stays");
    }

    #[test]
    fn a_url_registers_its_password_raw_and_decoded() {
        register_url("  mysql://u:secret-rs%40pw@h/c  ");
        assert_eq!(
            redact("secret-rs%40pw or secret-rs@pw"),
            "*** or ***",
            "both spellings are hidden"
        );
    }

    #[test]
    fn masking_hides_the_password_only() {
        assert_eq!(
            mask("mysql+pymysql://cinder:cinder_dbpass@192.168.41.10/cinder"),
            "mysql+pymysql://cinder:***@192.168.41.10/cinder"
        );
        assert_eq!(mask("mysql://u:p@ss:w@h/c?x=@"), "mysql://u:***@h/c?x=@");
        assert_eq!(mask("mysql://u@h/c"), "mysql://u@h/c");
        assert_eq!(mask("sqlite:////x"), "sqlite:////x");
        // No scheme, and "://" in the password: it is still the password.
        assert_eq!(mask("cinder:PASS://WD1@h/c"), "cinder:***@h/c");
        assert_eq!(
            mask("mysql+pymysql:/cinder:PASS://WD1@h/c"),
            "mysql+pymysql:***@h/c"
        );
    }

    #[test]
    fn secrets_print_as_stars() {
        let s = Secret::new("hunter2".into());
        assert_eq!(format!("{s:?} {s}"), "*** ***");
        assert_eq!(s.expose(), "hunter2");
        let url = SecretUrl::new("mysql://u:hunter2@h/c".into());
        assert_eq!(format!("{url:?}"), r#"SecretUrl("mysql://u:***@h/c")"#);
        assert_eq!(url.expose(), "mysql://u:hunter2@h/c");
    }

    proptest! {
        /// Whatever the text, masking never panics and hides exactly what the split calls the
        /// secret.
        #[test]
        fn any_text_masks_what_the_split_calls_secret(url in "(?s).{0,80}") {
            let masked = mask(&url);
            if let Some(r) = Split::of(&url).secret(&url) {
                prop_assert_eq!(&masked, &format!("{}***{}", &url[..r.start], &url[r.end..]));
            } else {
                prop_assert_eq!(&masked, &url);
            }
        }
    }
}
