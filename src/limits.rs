//! The documented range of every number svcctl reads (cinder.conf options, URL parameters,
//! flags) and the parsers that hold flags to them. The README and `--help` state the same
//! numbers; a unit test holds `--help` to them.

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

/// `--timeout`: seconds, a finite number more than 0 and at most a year.
pub fn timeout(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v > 0.0 && v <= YEAR_SECS as f64 => Ok(v),
        _ => Err(format!(
            "{} is not a positive number of seconds up to {YEAR_SECS} (a year)",
            text::quote(s)
        )),
    }
}

/// `--wait`, `--kill-timeout`: whole seconds from 0 to a year.
pub fn seconds(s: &str) -> Result<u64, String> {
    match s.trim().parse::<u64>() {
        Ok(v) if v <= YEAR_SECS => Ok(v),
        _ => Err(format!(
            "{} is not a whole number of seconds from 0 to {YEAR_SECS} (a year)",
            text::quote(s)
        )),
    }
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

/// `--audit-log`: a file whose directory exists, or is one missing level below a directory that
/// exists (`/var/log/svcctl/audit.jsonl` on a fresh node: svcctl creates `svcctl`, mode 0750).
/// Deeper than that it is a usage error: a typo would otherwise put the only record of a
/// deletion where nobody looks.
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
    let creatable = dir
        .parent()
        .is_some_and(|p| p.as_os_str().is_empty() || p.is_dir());
    // The directory itself, or one missing level under a directory that exists.
    let usable = dir.is_dir() || (creatable && !dir.exists());
    if !usable {
        return Err(format!(
            "directory {} does not exist; create it first or choose another path",
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
        assert!(timeout("1e300").is_err());
        assert!(timeout("inf").is_err());
        assert!(timeout("NaN").is_err());
        assert!(timeout("-1").is_err());
        assert!(timeout("0").unwrap_err().contains("not a positive number"));
        assert_eq!(timeout("31536000"), Ok(31_536_000.0));
        assert!(seconds("18446744073709551615").is_err());
        assert!(seconds("31536001").is_err());
        assert_eq!(seconds("0"), Ok(0));
        assert!(name("").is_err());
        assert!(name("a\nb").is_err());
        assert!(audit_log("/nonexistent-dir/deeper/x.jsonl").is_err());
        // One missing level is created (as /var/log/svcctl under /var/log).
        assert!(audit_log("/nonexistent-dir/x.jsonl").is_ok());
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

    proptest! {
        #[test]
        fn parsers_never_panic_and_errors_are_one_line(s in "(?s).{0,40}") {
            for e in [timeout(&s).err(), seconds(&s).err(), name(&s).err(), audit_log(&s).err(),
                stored_text(&s, 10).err()]
                .into_iter()
                .flatten()
            {
                prop_assert!(!e.contains(['\n', '\r']), "{}", e);
            }
            if let Ok(v) = stored_text(&s, NAME_MAX) {
                prop_assert!(!v.chars().any(text::hostile) && !v.trim().is_empty());
            }
            if let Ok(t) = timeout(&s) {
                prop_assert!(std::time::Duration::try_from_secs_f64(t).is_ok());
            }
        }
    }
}
