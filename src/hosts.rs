//! How a host given on the command line matches a service's host: exactly and
//! case-sensitively, or as a glob when it holds `*` or `?`. `_` and `%` are never wildcards.
//! Also the host selection the commands share: `--host`/`--binary` (`HostArgs`), and the
//! `--host`, `--exclude` and `--down-for` of `service list` and `service delete` (`Selection`).
//!
//! Unlike `cinder-manage service remove`, a host never matches by prefix: `node1` matches the
//! service whose host is `node1`, never `node1@lvm`. Use `node1@*` for every backend of node1.
//!
//! The database may pre-filter (a LIKE that may match more, e.g. case-insensitively on MySQL),
//! but the verdict is always `HostPattern::matches`, so both backends agree to the byte.

use std::fmt;

use crate::duration::parse_down_for;
use crate::error::Failure;

/// `--host` (at least one) and `--binary`, as `service delete`, `disable` and `enable` take
/// them. Each command words the help of `--host` for itself (`#[command(mut_arg("host", ...))]`).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct HostArgs {
    /// Host whose services to change; `*` and `?` make a glob; repeatable
    #[arg(long, value_name = "HOST", required = true)]
    pub host: Vec<String>,
    /// Only this binary, e.g. cinder-volume
    #[arg(long, value_name = "BINARY", value_parser = crate::limits::name)]
    pub binary: Option<String>,
}

impl HostArgs {
    /// `--host`, checked.
    pub fn patterns(&self) -> Result<Vec<HostPattern>, Failure> {
        HostPattern::parse_all(&self.host)
    }
}

/// The `--host`, `--exclude` and `--down-for` of `service list` and `service delete`, checked.
#[derive(Debug, Clone)]
pub(crate) struct Selection {
    pub hosts: Vec<HostPattern>,
    pub exclude: Vec<HostPattern>,
    /// `--down-for` as given, and as a duration.
    pub down_for: Option<(String, chrono::Duration)>,
}

impl Selection {
    pub fn parse(
        hosts: &[String],
        exclude: &[String],
        down_for: Option<&str>,
        service_down_time: i64,
    ) -> Result<Selection, Failure> {
        Ok(Selection {
            hosts: HostPattern::parse_all(hosts)?,
            exclude: HostPattern::parse_all(exclude)?,
            down_for: down_for
                .map(|d| parse_down_for(d, service_down_time).map(|dur| (d.to_string(), dur)))
                .transpose()?,
        })
    }
}

/// A host, or a glob over hosts, as given with `--host`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HostPattern {
    Exact(String),
    Glob(String),
}

/// The escape character used in LIKE patterns: not `\`, whose meaning in string literals
/// differs between MySQL and SQLite.
pub(crate) const LIKE_ESCAPE: char = '!';

impl HostPattern {
    /// Validates a `--host` value. A bad one is a usage error (exit 2).
    pub fn parse(s: &str) -> Result<HostPattern, Failure> {
        let bad =
            |why: &str| Failure::Usage(format!("invalid --host {}: {why}", crate::text::quote(s)));
        if s.is_empty() {
            return Err(bad(
                "it is empty; give a host such as node01 or node01@backend",
            ));
        }
        if s.len() > 255 {
            return Err(bad("longer than the 255 characters a Cinder host can have"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad(
                "hosts contain no spaces or control characters; check the quoting",
            ));
        }
        if s.contains('#') {
            return Err(bad(
                "'#pool' names a volume's pool, not a service; drop the '#...' part",
            ));
        }
        if s.matches('@').count() > 1 {
            return Err(bad("a host has at most one '@' (node@backend)"));
        }
        Ok(if s.contains(['*', '?']) {
            HostPattern::Glob(s.to_string())
        } else {
            HostPattern::Exact(s.to_string())
        })
    }

    /// Validates every `--host` value given.
    pub fn parse_all(values: &[String]) -> Result<Vec<HostPattern>, Failure> {
        values.iter().map(|h| HostPattern::parse(h)).collect()
    }

    pub fn matches(&self, host: &str) -> bool {
        match self {
            HostPattern::Exact(h) => h == host,
            HostPattern::Glob(g) => glob_match(g.as_bytes(), host.as_bytes()),
        }
    }

    /// A LIKE pattern (with `ESCAPE LIKE_ESCAPE`) that matches at least every host this pattern matches.
    pub fn like_pattern(&self) -> String {
        let text = match self {
            HostPattern::Exact(h) | HostPattern::Glob(h) => h,
        };
        let mut out = String::with_capacity(text.len() + 4);
        for c in text.chars() {
            match c {
                '*' if matches!(self, HostPattern::Glob(_)) => out.push('%'),
                '?' if matches!(self, HostPattern::Glob(_)) => out.push('_'),
                c => push_like_literal(&mut out, c),
            }
        }
        out
    }
}

/// Appends `c` to a LIKE pattern (`ESCAPE LIKE_ESCAPE`) so that it matches only itself.
fn push_like_literal(out: &mut String, c: char) {
    if matches!(c, LIKE_ESCAPE | '_' | '%') {
        out.push(LIKE_ESCAPE);
    }
    out.push(c);
}

/// `text` as a LIKE pattern (`ESCAPE LIKE_ESCAPE`) matching exactly `text`.
pub(crate) fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        push_like_literal(&mut out, c);
    }
    out
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostPattern::Exact(h) | HostPattern::Glob(h) => f.write_str(h),
        }
    }
}

/// `*` matches any run of characters (including `@`), `?` exactly one; the rest is literal.
/// Works on bytes with `?` consuming one whole UTF-8 character.
fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == b'?' {
            p += 1;
            t += utf8_len(text[t]);
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            // Let the last star swallow one more character and try again.
            let next = st + utf8_len(text[st]);
            star = Some((sp, next));
            p = sp + 1;
            t = next;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&b| b == b'*')
}

fn utf8_len(first: u8) -> usize {
    match first {
        b if b < 0x80 => 1,
        b if b >= 0xF0 => 4,
        b if b >= 0xE0 => 3,
        _ => 2,
    }
}

/// A service host split into its parts: `node@backend`, with any `#pool` on a volume's host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HostParts<'a> {
    pub node: &'a str,
    pub backend: Option<&'a str>,
    pub pool: Option<&'a str>,
}

pub(crate) fn split(host: &str) -> HostParts<'_> {
    let (rest, pool) = match host.split_once('#') {
        Some((r, p)) => (r, Some(p)),
        None => (host, None),
    };
    let (node, backend) = match rest.split_once('@') {
        Some((n, b)) => (n, Some(b)),
        None => (rest, None),
    };
    HostParts {
        node,
        backend,
        pool,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> HostPattern {
        HostPattern::parse(s).unwrap()
    }

    #[test]
    fn exact_is_exact_and_case_sensitive() {
        assert!(p("node1").matches("node1"));
        assert!(!p("node1").matches("node1@lvm"));
        assert!(!p("node1").matches("Node1"));
        assert!(!p("node1").matches("node10"));
    }

    #[test]
    fn underscore_and_percent_are_literal() {
        assert!(p("node_1").matches("node_1"));
        assert!(!p("node_1").matches("nodeX1"));
        assert!(!p("node%").matches("node1"));
        assert_eq!(p("node_1%").like_pattern(), "node!_1!%");
        assert_eq!(p("n!*").like_pattern(), "n!!%");
        assert_eq!(like_literal("a_b%c!d"), "a!_b!%c!!d");
    }

    #[test]
    fn globs() {
        assert!(p("node1@*").matches("node1@lvm"));
        assert!(!p("node1@*").matches("node1"));
        assert!(p("*@backend-2813902f-2c94").matches("node02@backend-2813902f-2c94"));
        assert!(p("node0?").matches("node02"));
        assert!(!p("node0?").matches("node0"));
        assert!(p("n*e*2").matches("node02"));
        assert!(p("?").matches("é"));
        assert!(!p("node_?").matches("nodeX1"));
        assert_eq!(p("node_*").like_pattern(), "node!_%");
    }

    #[test]
    fn bad_hosts_are_usage_errors() {
        for bad in ["", "a b", "node01@b#pool", "a@b@c", "x\ny"] {
            let e = HostPattern::parse(bad).unwrap_err();
            assert!(matches!(e, Failure::Usage(_)), "{bad:?}");
        }
    }

    #[test]
    fn split_parts() {
        let s = split("node01@backend-2813902f-2c94#nvme");
        assert_eq!(
            (s.node, s.backend, s.pool),
            ("node01", Some("backend-2813902f-2c94"), Some("nvme"))
        );
        assert_eq!(split("node01").backend, None);
    }

    proptest::proptest! {
        /// Any `--host`: no panic; an error is one line; a pattern matches itself (exact) and
        /// never panics on any host; its LIKE pattern escapes every `_` and `%`.
        #[test]
        fn any_host_parses_or_fails_in_one_line(s in "(?s).{0,300}", host in ".{0,40}") {
            match HostPattern::parse(&s) {
                Err(e) => proptest::prop_assert!(!e.to_string().contains(['\n', '\r']), "{}", e),
                Ok(pat) => {
                    let _ = pat.matches(&host);
                    if let HostPattern::Exact(h) = &pat {
                        proptest::prop_assert!(pat.matches(h));
                    }
                    let like = pat.like_pattern();
                    let unescaped = like.replace("!!", "").replace("!_", "").replace("!%", "");
                    if matches!(pat, HostPattern::Exact(_)) {
                        proptest::prop_assert!(!unescaped.contains(['_', '%']), "{}", like);
                    }
                }
            }
        }

        #[test]
        fn globs_match_what_they_say(node in "[a-z0-9_%]{1,10}", backend in "[a-z0-9_%-]{0,10}") {
            let host = format!("{node}@{backend}");
            let (every_backend, other_node) = (p(&format!("{node}@*")), p(&format!("{node}x@*")));
            proptest::prop_assert!(every_backend.matches(&host));
            proptest::prop_assert!(p("*").matches(&host));
            proptest::prop_assert!(!other_node.matches(&host));
        }
    }
}
