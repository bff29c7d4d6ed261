//! How foreign text (a user's value, a server's or driver's error, a value someone else stored
//! in the database) goes before a person: quoted short and escaped, flattened to one line, and
//! every character that would act on a terminal instead of showing escaped (`human`). (Hiding
//! secrets is `secret`'s.)
//!
//! Messages are one line on stderr (`svcctl: ...`), read in terminals, tickets and CI logs: a
//! 10 MB config line, a newline from an oslo continuation or a server's multi-line error must
//! not break that.

/// The most characters of a user's value a message quotes; the rest becomes `…`.
pub const QUOTE_MAX: usize = 80;
/// The most characters one whole message line may have; the rest becomes `…`.
pub const LINE_MAX: usize = 1000;

/// Whether `c` must not reach a terminal as it is: C0 controls (ESC, BEL, BS, newline, ...),
/// DEL and the C1 controls (U+0080 to U+009F: U+009B is CSI), the line and paragraph
/// separators, and the invisible format characters (Unicode's Cf: bidi overrides and isolates
/// such as U+202E, zero-width spaces and joiners, the byte order mark, tag characters).
pub fn hostile(c: char) -> bool {
    c.is_control()
        || matches!(
            u32::from(c),
            0xAD | 0x600..=0x605
                | 0x61C
                | 0x6DD
                | 0x70F
                | 0x890..=0x891
                | 0x8E2
                | 0x180E
                | 0x200B..=0x200F
                | 0x2028..=0x202E
                | 0x2060..=0x2064
                | 0x2066..=0x206F
                | 0xFEFF
                | 0xFFF9..=0xFFFB
                | 0x110BD
                | 0x110CD
                | 0x13430..=0x1343F
                | 0x1BCA0..=0x1BCA3
                | 0x1D173..=0x1D17A
                | 0xE0001
                | 0xE0020..=0xE007F
        )
}

/// Untrusted text as a person sees it, in a table, CSV, `-f value` or a stderr line: every
/// `hostile` character escaped (`\n`, `\r`, `\t`, `\e` for ESC, `\x07` for the other C0
/// controls, DEL and C1, `\u{202e}` for the rest), so nothing stored in the database can move
/// the cursor, clear the screen, set the clipboard (OSC 52), make a link (OSC 8), reorder the
/// text or start a new row. Everything else is kept as it is, backslashes included. Borrowed,
/// with no allocation, when there is nothing to escape (the listing's hot path). JSON and YAML
/// never come here: their own escaping keeps values exact.
pub fn human(s: &str) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    use std::fmt::Write;
    // Printable ASCII, the usual case, is checked a byte at a time.
    let first = s.bytes().position(|b| !(0x20..0x7f).contains(&b));
    let Some(start) = first.and_then(|i| {
        s[i..]
            .char_indices()
            .find(|(_, c)| hostile(*c))
            .map(|(j, _)| i + j)
    }) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len() + 8);
    out.push_str(&s[..start]);
    for c in s[start..].chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{1b}' => out.push_str("\\e"),
            c if hostile(c) && u32::from(c) <= 0xFF => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c if hostile(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

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
pub(crate) mod tests {
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

    #[test]
    fn human_escapes_what_acts_on_a_terminal() {
        assert!(matches!(
            human("node01@lvm#pool"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert!(matches!(
            human("nœud-01 ünïcode"),
            std::borrow::Cow::Borrowed(_)
        ));
        for (raw, shown) in [
            ("a\u{1b}[2Jb", "a\\e[2Jb"),
            ("\u{1b}]52;c;aGk=\u{7}", "\\e]52;c;aGk=\\x07"),
            ("\u{1b}]8;;http://x\u{1b}\\link", "\\e]8;;http://x\\e\\link"),
            ("a\u{8}\u{7f}b", "a\\x08\\x7fb"),
            ("\u{9b}2J", "\\x9b2J"),
            ("evil\u{202e}txt.exe", "evil\\u{202e}txt.exe"),
            ("row\nrow\r\t", "row\\nrow\\r\\t"),
            ("zero\u{200b}width\u{feff}", "zero\\u{200b}width\\u{feff}"),
            ("tag\u{e0041}", "tag\\u{e0041}"),
            ("sep\u{2028}", "sep\\u{2028}"),
        ] {
            assert_eq!(human(raw), shown, "{raw:?}");
        }
    }

    /// Text with every kind of character in it, hostile ones often (`any::<String>()` alone
    /// draws none: its pattern is `\PC*`).
    pub(crate) fn hostile_text() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop_oneof![
                3 => any::<char>(),
                1 => (0u32..0x20).prop_map(|c| char::from_u32(c).unwrap()),
                1 => (0x7fu32..0xa0).prop_map(|c| char::from_u32(c).unwrap()),
                1 => prop::sample::select(vec![
                    '\u{1b}', '\u{202e}', '\u{2066}', '\u{200b}', '\u{feff}', '\u{2028}',
                    '\u{2029}', '\u{85}', '\u{ad}', '\u{e0041}', '\\', '"', '\'', ' ', '#', ':',
                ]),
            ],
            0..16,
        )
        .prop_map(|cs| cs.into_iter().collect())
    }

    proptest! {
        /// Whatever the database holds, what a person sees has no character that acts on a
        /// terminal, and text with none is shown as it is.
        #[test]
        fn human_never_lets_a_hostile_character_through(s in hostile_text()) {
            let shown = human(&s);
            prop_assert!(!shown.chars().any(hostile), "{:?} -> {:?}", s, shown);
            if !s.chars().any(hostile) {
                prop_assert_eq!(shown.as_ref(), s.as_str());
            }
        }

        #[test]
        fn human_escapes_every_control_and_format_character(
            a in "[a-z]{0,5}",
            c in prop_oneof![
                (0u32..0x20),
                (0x7fu32..0xa0),
                Just(0x202e_u32),
                Just(0x2066_u32),
                Just(0x200f_u32),
            ],
            b in "[a-z]{0,5}",
        ) {
            let c = char::from_u32(c).unwrap();
            let s = format!("{a}{c}{b}");
            let shown = human(&s);
            prop_assert!(shown.starts_with(&a) && shown.ends_with(&b));
            prop_assert!(shown.contains('\\'));
            prop_assert!(!shown.chars().any(hostile));
        }

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
