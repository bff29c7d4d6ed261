//! Durations as cron sweeps give them (`--down-for 7d`, `12h`, `90m`, `600s`): a whole number
//! and one unit, checked against Cinder's own idea of "down" (`service_down_time`).

use chrono::Duration;

use crate::error::Failure;

/// The longest duration accepted: a century, far past any service's life, short of chrono's
/// limits.
const MAX_SECONDS: i64 = 100 * 365 * 86400;

/// Parses `--down-for`; `service_down_time` is the shortest duration that means "down" at all.
pub(crate) fn parse_down_for(s: &str, service_down_time: i64) -> Result<Duration, Failure> {
    parse_for("--down-for", s, service_down_time)
}

/// Parses a duration given with `flag` (`--down-for`, `service check --stale-after`), in the
/// same syntax and with the same floor, and names that flag in the error.
pub(crate) fn parse_for(flag: &str, s: &str, service_down_time: i64) -> Result<Duration, Failure> {
    let secs = seconds(s).map_err(|why| {
        Failure::Usage(format!("invalid {flag} {}: {why}", crate::text::quote(s)))
    })?;
    if secs < service_down_time {
        return Err(Failure::Usage(format!(
            "{flag} {s} is shorter than [DEFAULT] service_down_time ({service_down_time}s), \
             below which Cinder counts a service as up; give at least {service_down_time}s, \
             e.g. 7d"
        )));
    }
    Ok(Duration::seconds(secs))
}

/// `7d` → 604800: digits, then one of `s`, `m`, `h`, `d`, `w`.
fn seconds(s: &str) -> Result<i64, String> {
    let unit_at = s
        .find(|c: char| !c.is_ascii_digit())
        .ok_or("it needs a unit: s, m, h, d or w (e.g. 7d, 12h, 90m)")?;
    let (num, unit) = s.split_at(unit_at);
    if num.is_empty() {
        return Err("it must start with a whole number of units, e.g. 7d".into());
    }
    let per = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        "w" => 7 * 86400,
        _ => {
            return Err(format!(
                "unknown unit {unit:?}; use s, m, h, d or w (e.g. 7d)"
            ));
        }
    };
    num.parse::<i64>()
        .ok()
        .and_then(|n| n.checked_mul(per))
        .filter(|&secs| secs <= MAX_SECONDS)
        .ok_or_else(|| "longer than a century; give a duration such as 7d".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_limits() {
        assert_eq!(seconds("7d"), Ok(7 * 86400));
        assert_eq!(seconds("12h"), Ok(12 * 3600));
        assert_eq!(seconds("90m"), Ok(5400));
        assert_eq!(seconds("600s"), Ok(600));
        assert_eq!(seconds("2w"), Ok(14 * 86400));
        for bad in ["", "7", "d", "-7d", "7x", "7 d", "1.5d", "99999999d", "7dd"] {
            assert!(seconds(bad).is_err(), "{bad:?}");
        }
        assert!(parse_down_for("59s", 60).is_err());
        assert!(parse_down_for("0d", 60).is_err());
        assert_eq!(parse_down_for("60s", 60).unwrap(), Duration::seconds(60));
    }
}
