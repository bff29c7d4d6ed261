//! How foreign text (a user's value, a server's or driver's error) goes into a message: quoted
//! short and escaped, and flattened to one line. (Hiding secrets is `secret`'s.)
//!
//! Messages are one line on stderr (`svcctl: ...`), read in terminals, tickets and CI logs: a
//! 10 MB config line, a newline from an oslo continuation or a server's multi-line error must
//! not break that.

/// The most characters of a user's value a message quotes; the rest becomes `…`.
pub const QUOTE_MAX: usize = 80;
/// The most characters one whole message line may have; the rest becomes `…`.
pub const LINE_MAX: usize = 1000;

/// `s` when `n` is not one: `format!("{n} service{}", plural(n))`.
pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `es` when `n` is not one: `format!("{n} process{}", plural_es(n))`.
pub fn plural_es(n: usize) -> &'static str {
    if n == 1 { "" } else { "es" }
}

/// `s` as a message quotes it: in double quotes, control characters, quotes and backslashes
/// escaped as Rust does, cut to `QUOTE_MAX` characters with `…`. Always one line.
pub fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for (taken, c) in s.chars().enumerate() {
        if taken == QUOTE_MAX {
            out.push('…');
            break;
        }
        out.extend(c.escape_debug());
    }
    out.push('"');
    out
}

/// A server's, driver's or library's text reduced to one line: line breaks and runs of
/// whitespace become one space, other control characters are escaped, and the whole is cut
/// to `max` characters with `…`.
pub fn one_line(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max + 4));
    let mut count = 0;
    let mut space = false;
    for c in s.trim().chars() {
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space {
            out.push(' ');
            count += 1;
            space = false;
        }
        if count >= max {
            out.push('…');
            return out;
        }
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
        count += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn quote_escapes_and_cuts() {
        assert_eq!(quote("node01"), "\"node01\"");
        assert_eq!(quote("a\nb\t\"c\\"), "\"a\\nb\\t\\\"c\\\\\"");
        let long = "x".repeat(10_000_000);
        let q = quote(&long);
        assert_eq!(q.chars().count(), QUOTE_MAX + 3);
        assert!(q.ends_with("…\""));
    }

    #[test]
    fn one_line_flattens_server_text() {
        assert_eq!(
            one_line("ERROR 1064:\nYou have an error\r\n  near 'x'\u{7}", 100),
            "ERROR 1064: You have an error near 'x'\\u{7}"
        );
        assert_eq!(one_line("abcdef", 3), "abc…");
    }

    proptest! {
        #[test]
        fn quote_is_one_short_line(s in any::<String>()) {
            let q = quote(&s);
            prop_assert!(!q.contains(['\n', '\r']));
            prop_assert!(q.chars().count() <= 2 * 10 * QUOTE_MAX);
        }

        #[test]
        fn one_line_has_no_line_break_and_respects_max(s in any::<String>(), max in 1usize..200) {
            let l = one_line(&s, max);
            prop_assert!(!l.chars().any(|c| c.is_control()));
            // An escaped control character counts once but may be up to 10 characters long.
            prop_assert!(l.chars().count() <= 10 * max + 1);
        }
    }
}
