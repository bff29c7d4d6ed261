//! Durations: the one syntax every flag that takes a time span reads (`--down-for`, `--timeout`,
//! `--wait`, `--kill-timeout`), each with its own range: a number of seconds (`90`), or a number
//! and one unit `s`, `m`, `h`, `d` or `w` (`90s`, `15m`, `12h`, `7d`, `2w`); a decimal
//! fraction (`1.5h`, `0.5`) is exact to the nanosecond. The one-line errors state the range.

use std::time::Duration;

use crate::error::Failure;
use crate::limits::YEAR_SECS;
use crate::text;

/// The longest `--down-for`: a century, far past any service's life, short of chrono's limits.
const CENTURY_SECS: u64 = 100 * 365 * 86400;

/// The units and their seconds, as written after the number.
const UNITS: [(&str, u64); 5] = [
    ("s", 1),
    ("m", 60),
    ("h", 3600),
    ("d", 86400),
    ("w", 7 * 86400),
];

/// What one flag accepts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Range {
    /// Whether 0 is allowed (`--wait 0`: do not wait); else the span must be more than 0.
    pub zero: bool,
    /// The longest, in seconds.
    pub max_secs: u64,
    /// Whether the span must be whole seconds (`1.5m` is, `1.5s` is not).
    pub whole: bool,
    /// The range in words, for `--help` and every error: `0 to 31536000 seconds (a year)`.
    pub text: &'static str,
}

/// `--timeout`: more than 0, at most a year; fractions of a second are fine.
pub(crate) const TIMEOUT: Range = Range {
    zero: false,
    max_secs: YEAR_SECS,
    whole: false,
    text: "more than 0 up to 31536000 seconds (a year)",
};

/// `--wait` and `--kill-timeout`: whole seconds, 0 to a year.
pub(crate) const WAIT: Range = Range {
    zero: true,
    max_secs: YEAR_SECS,
    whole: true,
    text: "0 to 31536000 seconds (a year)",
};

/// `--down-for`: whole seconds up to a century; `parse_down_for` adds `service_down_time` as
/// the lower bound.
const DOWN_FOR: Range = Range {
    zero: false,
    max_secs: CENTURY_SECS,
    whole: true,
    text: "at least [DEFAULT] service_down_time, at most 3153600000 seconds (a century)",
};

/// How to write one, said in every error.
const SYNTAX: &str =
    "as a number of seconds or with a unit s, m, h, d or w (e.g. 90, 15m, 12h, 7d)";

/// Parses `s` as a duration within `range`.
pub(crate) fn parse(s: &str, range: &Range) -> Result<Duration, String> {
    let d = syntax(s).map_err(|why| format!("{why}; give {}, {SYNTAX}", range.text))?;
    let wrong = |why: &str| {
        Err(format!(
            "{} {why}; give {}, {SYNTAX}",
            text::quote(s),
            range.text
        ))
    };
    if range.whole && d.subsec_nanos() != 0 {
        return wrong("is not a whole number of seconds");
    }
    if d.is_zero() && !range.zero {
        return wrong("is no time at all");
    }
    if d > Duration::from_secs(range.max_secs) {
        return wrong("is too long");
    }
    Ok(d)
}

/// The number and unit of `s`, exactly; the error says what is wrong, with `s` quoted.
fn syntax(s: &str) -> Result<Duration, String> {
    let q = text::quote(s);
    if s.is_empty() {
        return Err("the duration is empty".into());
    }
    let unit_at = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(unit_at);
    if s.starts_with('-') {
        return Err(format!("{q} is negative"));
    }
    if number.is_empty() {
        return Err(format!("{q} does not start with a number"));
    }
    let Some(&(_, per)) = UNITS
        .iter()
        .find(|(u, _)| *u == unit)
        .or(unit.is_empty().then_some(&UNITS[0]))
    else {
        return Err(format!("{q} has the unknown unit {}", text::quote(unit)));
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() || (number.contains('.') && fraction.is_empty()) || fraction.contains('.') {
        return Err(format!("{q} is not a number like 90 or 1.5"));
    }
    if fraction.len() > 9 {
        return Err(format!("{q} is finer than a nanosecond"));
    }
    let too_long = || format!("{q} is too long");
    let secs = whole
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(per))
        .ok_or_else(too_long)?;
    // The fraction as nanoseconds of one unit: at most 9 digits, so exact.
    let frac_nanos: u64 = format!("{fraction:0<9}").parse().unwrap_or(0);
    let nanos = frac_nanos * per;
    Duration::from_secs(secs)
        .checked_add(Duration::from_nanos(nanos))
        .ok_or_else(too_long)
}

/// A duration as this syntax writes it, shortest first: `7d`, `90m`, `1.5s`, `0s`. Parsing the
/// text gives the same duration back.
pub(crate) fn format(d: Duration) -> String {
    let secs = d.as_secs();
    let nanos = d.subsec_nanos();
    if nanos != 0 {
        let fraction = format!("{nanos:09}");
        return format!("{secs}.{}s", fraction.trim_end_matches('0'));
    }
    // Days at most: `7d` reads better in a message than `1w`.
    UNITS[..4]
        .iter()
        .rev()
        .find(|&&(_, per)| secs != 0 && secs.is_multiple_of(per))
        .map_or(format!("{secs}s"), |&(unit, per)| {
            format!("{}{unit}", secs / per)
        })
}

/// `--timeout`.
pub(crate) fn timeout(s: &str) -> Result<Duration, String> {
    parse(s, &TIMEOUT)
}

/// `--wait`, `--kill-timeout`: whole seconds.
pub(crate) fn wait_secs(s: &str) -> Result<u64, String> {
    parse(s, &WAIT).map(|d| d.as_secs())
}

/// Parses `--down-for`; `service_down_time` is the shortest duration that means "down" at all.
pub(crate) fn parse_down_for(s: &str, service_down_time: i64) -> Result<chrono::Duration, Failure> {
    parse_for("--down-for", s, service_down_time)
}

/// Parses a duration given with `flag` (`--down-for`, `service check --stale-after`): the
/// same syntax and range as `--down-for`, never shorter than `service_down_time`, the error
/// naming `flag`.
pub(crate) fn parse_for(
    flag: &str,
    s: &str,
    service_down_time: i64,
) -> Result<chrono::Duration, Failure> {
    let bad = |why: String| Failure::Usage(format!("invalid {flag}: {why}"));
    let d = parse(s, &DOWN_FOR).map_err(bad)?;
    let secs = d.as_secs();
    let least = u64::try_from(service_down_time).unwrap_or(0);
    if secs < least {
        let least = format(Duration::from_secs(least));
        return Err(Failure::Usage(format!(
            "{flag} {} ({}) is shorter than [DEFAULT] service_down_time ({least}), below \
             which Cinder counts a service as up; give at least {least}, e.g. 7d",
            text::quote(s),
            format(d)
        )));
    }
    // At most a century: within chrono's range.
    chrono::Duration::try_seconds(secs as i64).ok_or_else(|| bad("is too long".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn secs(s: &str) -> Result<u64, String> {
        parse(s, &DOWN_FOR).map(|d| d.as_secs())
    }

    #[test]
    fn units_and_bare_seconds() {
        assert_eq!(secs("7d"), Ok(7 * 86400));
        assert_eq!(secs("12h"), Ok(12 * 3600));
        assert_eq!(secs("90m"), Ok(5400));
        assert_eq!(secs("600s"), Ok(600));
        assert_eq!(secs("600"), Ok(600));
        assert_eq!(secs("2w"), Ok(14 * 86400));
        assert_eq!(secs("1.5d"), Ok(129_600));
        assert_eq!(secs("0.5m"), Ok(30));
        for bad in [
            "",
            "d",
            "-7d",
            "7x",
            "7 d",
            " 7",
            "7d ",
            "1.5s",
            "99999999d",
            "7dd",
            ".5",
            "5.",
            "1.2.3",
            "0d",
            "1e3",
            "+7",
            "7D",
        ] {
            assert!(secs(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn each_flag_its_range() {
        assert_eq!(timeout("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(timeout("5"), Ok(Duration::from_secs(5)));
        assert_eq!(timeout("0.25"), Ok(Duration::from_millis(250)));
        assert_eq!(timeout("1.000000001"), Ok(Duration::new(1, 1)));
        assert_eq!(timeout("365d"), Ok(Duration::from_secs(YEAR_SECS)));
        assert_eq!(timeout("31536000"), Ok(Duration::from_secs(YEAR_SECS)));
        for bad in [
            "0",
            "0s",
            "0.0",
            "366d",
            "31536000.5",
            "1e300",
            "inf",
            "NaN",
            "-1",
        ] {
            let e = timeout(bad).unwrap_err();
            assert!(
                e.contains("more than 0 up to 31536000 seconds"),
                "{bad}: {e}"
            );
        }
        assert_eq!(wait_secs("0"), Ok(0));
        assert_eq!(wait_secs("5m"), Ok(300));
        assert_eq!(
            wait_secs("1y").unwrap_err().split(';').next(),
            Some("\"1y\" has the unknown unit \"y\"")
        );
        assert!(
            wait_secs("1.5")
                .unwrap_err()
                .contains("not a whole number of seconds")
        );
        assert!(
            wait_secs("31536001")
                .unwrap_err()
                .contains("0 to 31536000 seconds")
        );
        assert!(
            wait_secs("18446744073709551615")
                .unwrap_err()
                .contains("too long")
        );
    }

    #[test]
    fn down_for_is_at_least_service_down_time() {
        assert!(parse_down_for("59s", 60).is_err());
        assert!(parse_down_for("0d", 60).is_err());
        assert_eq!(
            parse_down_for("60", 60).unwrap(),
            chrono::Duration::seconds(60)
        );
        let e = parse_down_for("7", 3600).unwrap_err().to_string();
        assert!(
            e.contains("(7s) is shorter than") && e.contains("give at least 1h"),
            "{e}"
        );
    }

    #[test]
    fn formats_shortest() {
        for (d, want) in [
            (Duration::ZERO, "0s"),
            (Duration::from_secs(59), "59s"),
            (Duration::from_secs(90), "90s"),
            (Duration::from_secs(3600), "1h"),
            (Duration::from_secs(7 * 86400), "7d"),
            (Duration::from_millis(1500), "1.5s"),
            (Duration::new(0, 1), "0.000000001s"),
        ] {
            assert_eq!(format(d), want);
        }
    }

    /// What the syntax allows, and near misses: digits, an optional fraction, an optional unit.
    fn near_duration() -> impl Strategy<Value = String> {
        "[0-9]{0,21}(\\.[0-9]{0,11})?[smhdwx ]?[smhd]?"
    }

    proptest! {
        #[test]
        fn never_panics_and_errors_are_one_line(s in "(?s).{0,40}") {
            for range in [&TIMEOUT, &WAIT, &DOWN_FOR] {
                if let Err(e) = parse(&s, range) {
                    prop_assert!(!e.contains(['\n', '\r']), "{}", e);
                    prop_assert!(e.contains(range.text), "{}", e);
                }
            }
            if let Err(e) = parse_down_for(&s, 60) {
                prop_assert!(!e.to_string().contains(['\n', '\r']));
            }
        }

        #[test]
        fn what_it_accepts_round_trips(s in near_duration()) {
            for range in [&TIMEOUT, &WAIT, &DOWN_FOR] {
                match parse(&s, range) {
                    Ok(d) => {
                        prop_assert_eq!(parse(&format(d), range), Ok(d));
                        // The value is the number times the unit, whatever the spelling.
                        let unit = s.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.');
                        let per = UNITS.iter().find(|(u, _)| *u == unit).map_or(1, |u| u.1);
                        let number: f64 = s[..s.len() - unit.len()].parse().unwrap();
                        let want = number * per as f64;
                        prop_assert!((d.as_secs_f64() - want).abs() <= want * 1e-9 + 1e-9);
                    }
                    Err(e) => prop_assert!(!e.contains('\n'), "{}", e),
                }
            }
        }

        #[test]
        fn every_duration_in_range_round_trips(secs in 0..=YEAR_SECS, nanos in 0..1_000_000_000u32) {
            let d = Duration::new(secs, nanos);
            let back = parse(&format(d), &TIMEOUT);
            if d.is_zero() || d > Duration::from_secs(YEAR_SECS) {
                prop_assert!(back.is_err());
            } else {
                prop_assert_eq!(back, Ok(d));
            }
            let whole = Duration::from_secs(secs);
            prop_assert_eq!(parse(&format(whole), &WAIT), Ok(whole));
        }
    }
}
