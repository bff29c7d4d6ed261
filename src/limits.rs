//! The documented range of every number svcctl reads (cinder.conf options, URL parameters,
//! flags) and the parsers that hold flags to them (durations: `duration.rs`). The README and
//! `--help` state the same numbers, written `1 to 100000`; a unit test holds `--help` to them.

use std::path::PathBuf;

use crate::text;

/// A year in seconds: the longest timeout, wait or retry interval svcctl accepts.
pub const YEAR_SECS: u64 = 31_536_000;
/// Ten years in seconds: the longest `service_down_time`.
pub const TEN_YEARS_SECS: i64 = 315_360_000;
/// The most retries (`max_retries`, `db_max_retries`, `--max-retries`); -1 means forever.
pub const MAX_RETRIES: i64 = 2_147_483_647;
/// The longest name (`--zone`, `--binary`) a Cinder column holds.
pub const NAME_MAX: usize = 255;

/// The most rows `service purge` deletes in one transaction.
pub const BATCH_MAX: i64 = 100_000;

/// A whole number from `min` to `max`; `range` says so in the error (`1 to 100000`), in
/// svcctl's words rather than clap's `1..=100000`.
fn whole(s: &str, min: i64, max: i64, range: &str) -> Result<i64, String> {
    match s.parse::<i64>() {
        Ok(v) if (min..=max).contains(&v) => Ok(v),
        Ok(_) => Err(format!("{} is outside {range}", text::quote(s))),
        Err(_) => Err(format!(
            "{} is not a whole number; give {range}",
            text::quote(s)
        )),
    }
}

/// `--max-retries`: -1 (forever) to 2147483647.
pub fn max_retries(s: &str) -> Result<i64, String> {
    whole(s, -1, MAX_RETRIES, "-1 (forever) to 2147483647")
}

/// `--batch`: 1 to 100000 rows per transaction.
pub fn batch(s: &str) -> Result<u32, String> {
    whole(s, 1, BATCH_MAX, "1 to 100000").map(|n| n as u32)
}

/// `--max-width`: any whole number; 0 or less turns the limit off, as in cliff.
pub fn max_width(s: &str) -> Result<i64, String> {
    whole(
        s,
        i64::MIN,
        i64::MAX,
        "a number of columns, or 0 to turn it off",
    )
}

/// `--zone`, `--binary`: a name as Cinder stores it; an empty one would match nothing.
pub fn name(s: &str) -> Result<String, String> {
    if s.is_empty() {
        return Err("it is empty; give a name, or leave the flag out".into());
    }
    if s.chars().any(char::is_control) {
        return Err(format!(
            "{} holds a control character; check the quoting",
            text::quote(s)
        ));
    }
    if s.chars().count() > NAME_MAX {
        return Err(format!(
            "{} is longer than the {NAME_MAX} characters Cinder stores",
            text::quote(s)
        ));
    }
    Ok(s.to_string())
}

/// `--critical-outage`: a whole percentage from 1 to 100, with or without `%`.
pub fn percent(s: &str) -> Result<u8, String> {
    match s.trim().trim_end_matches('%').parse::<u8>() {
        Ok(v) if (1..=100).contains(&v) => Ok(v),
        _ => Err(format!(
            "{} is not a whole percentage from 1 to 100",
            text::quote(s)
        )),
    }
}

/// A value svcctl writes into one of Cinder's VARCHAR(255) columns (`service disable
/// --reason`, `volume move-host --to`): refused when it is empty or only blanks, when it holds a
/// control or invisible format character (what `text::human` would have to escape: a newline,
/// ESC, BEL, DEL, C1, a bidi override), or when it is longer than `max` characters. Cinder's
/// API holds `disabled_reason` to 1-255 characters after stripping blanks; svcctl holds every
/// value it stores to the same, and never stores what a terminal would act on.
pub fn stored_text(s: &str, max: usize) -> Result<String, String> {
    if s.trim().is_empty() {
        return Err(format!(
            "{} is {}; give a value",
            text::quote(s),
            if s.is_empty() { "empty" } else { "only blanks" }
        ));
    }
    if let Some((at, c)) = s.chars().enumerate().find(|(_, c)| text::hostile(*c)) {
        return Err(format!(
            "{} holds a control or invisible character ({} at character {}), which svcctl \
             never stores: a terminal showing it would act on it; check the quoting",
            text::quote(s),
            text::human(c.encode_utf8(&mut [0; 4])),
            at + 1
        ));
    }
    let n = s.chars().count();
    if n > max {
        return Err(format!(
            "{} is {n} characters, longer than the {max} Cinder's column holds; shorten it",
            text::quote(s)
        ));
    }
    Ok(s.to_string())
}

/// `service disable --reason`: see `stored_text`; `disabled_reason` is VARCHAR(255).
pub fn reason(s: &str) -> Result<String, String> {
    stored_text(s, NAME_MAX)
}

/// `move-host --to`: a host (with `#pool`) stored in `volumes.host` and `backups.host`,
/// VARCHAR(255); see `stored_text`.
pub fn stored_host(s: &str) -> Result<String, String> {
    stored_text(s, NAME_MAX)
}

/// `--audit-log`: a file in a directory that exists. A missing directory is a usage error, as
/// `tee` refuses one: a typo would otherwise put the only record of a deletion where nobody
/// looks. Only the default log's directory (`/var/log/svcctl` on a fresh node) is made, by the
/// first record, also when that path is given here.
pub fn audit_log(s: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(s);
    if s.is_empty() || s.contains(char::is_control) {
        return Err(format!("{} is not a file path", text::quote(s)));
    }
    if path.is_dir() {
        return Err(format!(
            "{} is a directory; name a file in it, e.g. {}",
            text::quote(s),
            text::quote(&path.join("audit.jsonl").display().to_string())
        ));
    }
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    if !dir.is_dir() && path != crate::audit::default_log() {
        return Err(format!(
            "directory {} does not exist; create it first (mkdir -m 0750) or choose another path",
            text::quote(&dir.display().to_string())
        ));
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use proptest::prelude::*;

    #[test]
    fn edges() {
        assert_eq!(max_retries("-1"), Ok(-1));
        assert_eq!(max_retries("2147483647"), Ok(MAX_RETRIES));
        assert_eq!(
            max_retries("-2"),
            Err("\"-2\" is outside -1 (forever) to 2147483647".into())
        );
        assert!(max_retries("99999999999999999999").is_err());
        assert_eq!(batch("1"), Ok(1));
        assert_eq!(batch("100000"), Ok(100_000));
        assert_eq!(batch("0"), Err("\"0\" is outside 1 to 100000".into()));
        assert_eq!(
            batch("x"),
            Err("\"x\" is not a whole number; give 1 to 100000".into())
        );
        assert!(batch(" 5").is_err());
        assert_eq!(max_width("-3"), Ok(-3));
        assert!(max_width("abc").unwrap_err().contains("0 to turn it off"));
        assert!(name("").is_err());
        assert!(name("a\nb").is_err());
        assert_eq!(percent("50%"), Ok(50));
        assert_eq!(percent("100"), Ok(100));
        assert!(percent("0").is_err() && percent("101").is_err() && percent("-5").is_err());
        assert!(audit_log("/nonexistent-dir/deeper/x.jsonl").is_err());
        // Not even one missing level: only the default's directory is made.
        assert!(audit_log("/nonexistent-dir/x.jsonl").is_err());
        assert!(audit_log(crate::audit::DEFAULT_AUDIT_LOG).is_ok());
        assert!(audit_log("/").is_err());
        assert!(audit_log("x.jsonl").is_ok());
        for bad in [
            "",
            " ",
            " \t ",
            "a\nb",
            "x\u{1b}[2J",
            "\u{1b}]52;c;aGk=\u{7}",
            "a\u{7f}",
            "a\u{9b}b",
            "a\u{202e}b",
            "a\u{8}",
        ] {
            assert!(stored_text(bad, NAME_MAX).is_err(), "{bad:?}");
        }
        assert!(stored_text(&"x".repeat(255), NAME_MAX).is_ok());
        let long = stored_text(&"x".repeat(256), NAME_MAX).unwrap_err();
        assert!(long.contains("256 characters"), "{long}");
        assert_eq!(
            stored_text("RMA 4711: disk \"a\"", NAME_MAX).as_deref(),
            Ok("RMA 4711: disk \"a\"")
        );
        assert_eq!(reason("nœud ünïcode").as_deref(), Ok("nœud ünïcode"));
    }

    /// `--help` states the ranges these parsers enforce.
    #[test]
    fn help_states_the_ranges() {
        let mut cmd = crate::cli::Cli::command();
        let mut help = cmd.render_long_help().to_string();
        for sub in [["service", "list"], ["backend", "cleanup"]] {
            let mut c = crate::cli::Cli::command();
            let s = c
                .find_subcommand_mut(sub[0])
                .unwrap()
                .find_subcommand_mut(sub[1])
                .unwrap();
            help.push_str(&s.render_long_help().to_string());
        }
        for want in [
            "31536000".to_string(),
            MAX_RETRIES.to_string(),
            TEN_YEARS_SECS.to_string(),
        ] {
            assert!(help.contains(&want), "--help lacks {want}:\n{help}");
        }
    }

    #[test]
    fn reasons_at_the_edges() {
        assert!(reason("").unwrap_err().contains("empty"));
        assert!(reason(" \u{3000} ").unwrap_err().contains("blanks"));
        assert!(
            reason("a\nb")
                .unwrap_err()
                .contains("control or invisible character (\\n")
        );
        assert!(
            reason(&"x".repeat(256))
                .unwrap_err()
                .contains("longer than the 255")
        );
        assert_eq!(reason(&"é".repeat(255)).unwrap(), "é".repeat(255));
        assert_eq!(reason(" RMA 4711 ").unwrap(), " RMA 4711 ");
    }

    proptest! {
        /// Any `--reason`: taken as given exactly when Cinder's API would take it and it is one
        /// printable line; otherwise one line that says why.
        #[test]
        fn a_reason_is_taken_as_given_or_refused_in_one_line(s in "\\PC{0,3}[ \t\n\x00-\x1f\u{85}\u{202e}]{0,2}\\PC{0,300}") {
            let fits = !s.chars().any(text::hostile)
                && !s.trim().is_empty()
                && s.chars().count() <= NAME_MAX;
            match reason(&s) {
                Ok(r) => prop_assert!(fits && r == s),
                Err(e) => prop_assert!(!fits && !e.contains('\n') && !e.is_empty()),
            }
        }
    }

    proptest! {
        #[test]
        fn parsers_never_panic_and_errors_are_one_line(s in "(?s).{0,40}") {
            for e in [
                max_retries(&s).err(),
                batch(&s).err(),
                max_width(&s).err(),
                name(&s).err(),
                audit_log(&s).err(),
                percent(&s).err(),
                stored_text(&s, 10).err(),
            ]
            .into_iter()
            .flatten()
            {
                prop_assert!(!e.contains(['\n', '\r']), "{}", e);
            }
            if let Ok(v) = stored_text(&s, NAME_MAX) {
                prop_assert!(!v.chars().any(text::hostile) && !v.trim().is_empty());
            }
        }

        #[test]
        fn whole_numbers_round_trip(n in any::<i64>()) {
            let s = n.to_string();
            prop_assert_eq!(max_width(&s), Ok(n));
            prop_assert_eq!(max_retries(&s).is_ok(), (-1..=MAX_RETRIES).contains(&n));
            prop_assert_eq!(batch(&s).is_ok(), (1..=BATCH_MAX).contains(&n));
        }
    }
}
