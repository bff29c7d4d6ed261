//! The option table: every option svcctl reads from cinder.conf, with oslo's (or Cinder's)
//! default, its type and range (`OPTIONS`), and `Typed`, which reads a substituted value
//! through the table and checks it against its type, naming the option and line when it is bad.

use anyhow::Result;

use super::oslo::{DEFAULT_GROUP, Resolver, option_name, origin_suffix};
use crate::error::Failure;
use crate::limits::{MAX_RETRIES, TEN_YEARS_SECS, YEAR_SECS};
use crate::text;

/// Cinder's own default for `[database] connection` (cinder/db/api.py sets it this way).
const DEFAULT_CONNECTION: &str = "sqlite:///$state_path/cinder.sqlite";

/// What an option holds, and so how its text is checked.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// Text on one line. A `secret` one is never quoted in a message.
    Text { secret: bool },
    /// oslo's boolean spellings.
    Bool,
    /// A whole number from `min` to `max`; `unit` finishes the sentence naming the range.
    Int {
        min: i64,
        max: i64,
        unit: &'static str,
    },
}

/// One option svcctl reads: its group, name, oslo's default (None: unset unless given) and type.
#[derive(Debug)]
pub(super) struct Opt {
    pub group: &'static str,
    pub name: &'static str,
    pub default: Option<&'static str>,
    kind: Kind,
}

const SECONDS_UP_TO_A_YEAR: Kind = Kind::Int {
    min: 0,
    max: YEAR_SECS as i64,
    unit: "seconds (a year)",
};
const RETRIES: Kind = Kind::Int {
    min: -1,
    max: MAX_RETRIES,
    unit: "(-1 = forever)",
};

/// Every option svcctl reads, with oslo's (or Cinder's) default. The README's option list
/// says the same. `state_path` is read only for `$state_path` in `connection`'s default.
#[rustfmt::skip]
pub(super) const OPTIONS: &[Opt] = &[
    Opt { group: "database", name: "connection", default: Some(DEFAULT_CONNECTION), kind: Kind::Text { secret: true } },
    Opt { group: "database", name: "max_retries", default: Some("10"), kind: RETRIES },
    Opt { group: "database", name: "retry_interval", default: Some("10"), kind: SECONDS_UP_TO_A_YEAR },
    Opt { group: "database", name: "use_db_reconnect", default: Some("false"), kind: Kind::Bool },
    Opt { group: "database", name: "db_retry_interval", default: Some("1"), kind: SECONDS_UP_TO_A_YEAR },
    Opt { group: "database", name: "db_inc_retry_interval", default: Some("true"), kind: Kind::Bool },
    Opt { group: "database", name: "db_max_retry_interval", default: Some("10"), kind: SECONDS_UP_TO_A_YEAR },
    Opt { group: "database", name: "db_max_retries", default: Some("20"), kind: RETRIES },
    Opt { group: "database", name: "mysql_sql_mode", default: Some("TRADITIONAL"), kind: Kind::Text { secret: false } },
    Opt { group: "database", name: "mysql_wsrep_sync_wait", default: None, kind: Kind::Int { min: 0, max: 15, unit: "(Galera's causality check bits)" } },
    Opt { group: DEFAULT_GROUP, name: "service_down_time", default: Some("60"), kind: Kind::Int { min: 1, max: TEN_YEARS_SECS, unit: "seconds (10 years)" } },
    Opt { group: DEFAULT_GROUP, name: "host", default: None, kind: Kind::Text { secret: false } },
    Opt { group: DEFAULT_GROUP, name: "enabled_backends", default: None, kind: Kind::Text { secret: false } },
    Opt { group: DEFAULT_GROUP, name: "state_path", default: Some("/var/lib/cinder"), kind: Kind::Text { secret: false } },
];

/// oslo.config's boolean spellings.
fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_lowercase().as_str() {
        "true" | "1" | "on" | "yes" => Some(true),
        "false" | "0" | "off" | "no" => Some(false),
        _ => None,
    }
}

/// Options read through the table: each value substituted, then checked against its kind.
pub(super) struct Typed<'a> {
    pub r: &'a Resolver<'a>,
}

impl Typed<'_> {
    fn spec(group: &str, name: &str) -> &'static Opt {
        OPTIONS
            .iter()
            .find(|o| o.group == group && o.name == name)
            .unwrap_or_else(|| unreachable!("{group}.{name} is not in OPTIONS"))
    }

    /// The error for a bad value. It quotes the value as written, before substitution: a
    /// `$connection` inside another option must not bring the password into the message.
    fn bad(&self, group: &str, name: &str, why: &str) -> anyhow::Error {
        let raw = self.r.raw(group, name);
        let shown = match (Self::spec(group, name).kind, raw) {
            (Kind::Text { secret: true }, _) | (_, None) => String::new(),
            (_, Some(raw)) => format!(" = {}", text::quote(&raw.value)),
        };
        Failure::Config(format!(
            "{}{shown}{} {why}",
            option_name(group, name),
            origin_suffix(&raw.and_then(|r| r.origin.clone()))
        ))
        .into()
    }

    /// The substituted text of an option (None when unset and without default), on one line.
    pub fn text(&self, group: &str, name: &str) -> Result<Option<(String, Option<String>)>> {
        let Some((value, origin)) = self.r.get(group, name)? else {
            return Ok(None);
        };
        if value.contains(char::is_control) {
            return Err(self.bad(
                group,
                name,
                "holds a line break or control character: an indented line after it continues \
                 the value (oslo); unindent that line or put a blank line before it",
            ));
        }
        Ok(Some((value, origin)))
    }

    pub fn int(&self, group: &str, name: &str) -> Result<Option<i64>> {
        let Kind::Int { min, max, unit } = Self::spec(group, name).kind else {
            unreachable!("{group}.{name} is not a number in OPTIONS")
        };
        let Some((text, _)) = self.r.get(group, name)? else {
            return Ok(None);
        };
        match text.trim().parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(self.bad(
                group,
                name,
                &format!("is not a whole number from {min} to {max} {unit}; fix the value"),
            )),
        }
    }

    /// A number the table gives a default, so always there.
    pub fn required(&self, group: &str, name: &str) -> Result<i64> {
        self.int(group, name)?.ok_or_else(|| {
            Failure::Config(format!("{} is not set", option_name(group, name))).into()
        })
    }

    /// A count of seconds; the table's range starts at 0, so it is never negative.
    pub fn seconds(&self, group: &str, name: &str) -> Result<u64> {
        Ok(u64::try_from(self.required(group, name)?).unwrap_or(0))
    }

    pub fn boolean(&self, group: &str, name: &str) -> Result<bool> {
        let (text, _) = self.r.get(group, name)?.unwrap_or_default();
        parse_bool(&text)
            .ok_or_else(|| self.bad(group, name, "is not a boolean; use true or false"))
    }
}
