//! The oslo.config dialect: how cinder.conf is really parsed (each file once, into a
//! `config::Source`), and oslo's `$opt` substitution over the merged result.
//!
//! The `config` crate's bundled INI parser differs from oslo's in ways that change what an
//! operator's file means (a repeated section replaces the earlier one, no continuation lines,
//! inline `#` comments), so this parser follows `oslo_config.iniparser` instead:
//! - comments are lines whose first character is `#` or `;`; a `#` later on a line is data;
//! - a line starting with a space or tab continues the previous value (joined with `\n`);
//! - a blank line ends a value; `key = value` or `key: value`, whichever separator comes first;
//! - a value wrapped in matching single or double quotes loses them;
//! - section names other than `DEFAULT` are lower-cased, and a repeated section merges;
//! - within the merged result the last value wins.
//!
//! Every value carries its origin as `path:line`, so a bad value can be reported where it is.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::error::Error;
use std::fmt;

use anyhow::Result;
use config::{ConfigError, Map, Source, Value, ValueKind};

use crate::error::Failure;
use crate::text;

/// The key the `[DEFAULT]` section is stored under. The `config` crate folds keys to lower case
/// (and so does the environment source), so `DEFAULT` becomes `default` here.
pub const DEFAULT_GROUP: &str = "default";

/// A parse error with the file and line it happened on.
#[derive(Debug)]
pub struct ParseError {
    pub origin: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.origin, self.line, self.message)
    }
}

impl Error for ParseError {}

/// One parsed assignment: group, option, value and the line it started on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub group: String,
    pub key: String,
    pub value: String,
    pub line: usize,
}

/// Parses oslo INI text into assignments in file order. `origin` names the file in errors.
pub fn parse(origin: &str, text: &str) -> Result<Vec<Assignment>, ParseError> {
    let err = |line: usize, message: String| ParseError {
        origin: origin.to_string(),
        line,
        message,
    };
    let mut out = Vec::new();
    let mut section: Option<String> = None;
    // The assignment being built: key, the lines of its value, the line it started on.
    let mut pending: Option<(String, Vec<String>, usize)> = None;

    let flush = |pending: &mut Option<(String, Vec<String>, usize)>,
                 section: &Option<String>,
                 out: &mut Vec<Assignment>| {
        if let Some((key, lines, line)) = pending.take() {
            out.push(Assignment {
                group: section.clone().unwrap_or_default(),
                key,
                value: lines.join("\n"),
                line,
            });
        }
    };

    // A byte-order mark is an editor's, not part of the first line.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (idx, raw) in text.lines().enumerate() {
        let lineno = idx + 1;
        let line = raw.trim_end();
        if line.is_empty() {
            flush(&mut pending, &section, &mut out);
            continue;
        }
        if line.starts_with([' ', '\t']) {
            match pending.as_mut() {
                Some((_, lines, _)) => lines.push(line.trim_start().to_string()),
                None => {
                    return Err(err(
                        lineno,
                        "indented line continues no option; remove the leading spaces".into(),
                    ));
                }
            }
            continue;
        }
        flush(&mut pending, &section, &mut out);
        if line.starts_with('[') {
            if !line.ends_with(']') {
                return Err(err(
                    lineno,
                    format!("section header {} has no closing ']'", text::quote(line)),
                ));
            }
            let name = &line[1..line.len() - 1];
            if name.is_empty() {
                return Err(err(lineno, "empty section name '[]'".into()));
            }
            section = Some(normalize_group(name));
        } else if line.starts_with(['#', ';']) {
            // A comment: only at column 0, as in oslo.config.
        } else {
            let (key, value) = split_key_value(line).ok_or_else(|| {
                err(
                    lineno,
                    format!(
                        "{} is not an option assignment; write 'name = value'",
                        text::quote(line)
                    ),
                )
            })?;
            if key.is_empty() {
                return Err(err(
                    lineno,
                    format!("{} has no option name", text::quote(line)),
                ));
            }
            if section.is_none() {
                return Err(err(
                    lineno,
                    format!(
                        "option {} comes before any [section]; put it under [DEFAULT] or \
                         [database]",
                        text::quote(&key)
                    ),
                ));
            }
            pending = Some((key, vec![value], lineno));
        }
    }
    flush(&mut pending, &section, &mut out);
    Ok(out)
}

/// `DEFAULT` is the one group name oslo keeps as written; every other is lower-cased.
fn normalize_group(name: &str) -> String {
    if name == "DEFAULT" {
        DEFAULT_GROUP.to_string()
    } else {
        name.to_lowercase()
    }
}

/// Option names may be written with dashes; oslo's destinations use underscores.
fn normalize_key(key: &str) -> String {
    key.trim().replace('-', "_").to_lowercase()
}

fn split_key_value(line: &str) -> Option<(String, String)> {
    let at = match (line.find(':'), line.find('=')) {
        (None, None) => return None,
        (Some(c), None) => c,
        (None, Some(e)) => e,
        (Some(c), Some(e)) => c.min(e),
    };
    let key = normalize_key(&line[..at]);
    let mut value = line[at + 1..].trim();
    let quoted = value.len() >= 2
        && (value.starts_with('"') || value.starts_with('\''))
        && value.ends_with(&value[..1]);
    if quoted {
        value = &value[1..value.len() - 1];
    }
    Some((key, value.to_string()))
}

/// One config file, parsed once, as a `config` crate source: `{group: {option: value}}`,
/// each value's origin `path:line`. Only groups whose names the `config` crate takes as plain
/// keys are handed on (`[lvm-1]`, `[keystone_authtoken]`): it reads a `[x[99999999]]` as an
/// array index, and no group svcctl reads looks like that.
#[derive(Debug, Clone)]
pub struct OsloFile {
    groups: Map<String, Value>,
}

impl OsloFile {
    /// Parses `text`, read from `path`.
    pub fn parse(path: &str, text: &str) -> Result<OsloFile, ParseError> {
        let mut groups: Map<String, Map<String, Value>> = Map::new();
        for a in parse(path, text)? {
            if a.group.is_empty() || !a.group.bytes().all(is_key_byte) {
                continue;
            }
            let origin = format!("{path}:{}", a.line);
            groups
                .entry(a.group)
                .or_default()
                .insert(a.key, Value::new(Some(&origin), ValueKind::String(a.value)));
        }
        let path = path.to_string();
        Ok(OsloFile {
            groups: groups
                .into_iter()
                .map(|(g, opts)| (g, Value::new(Some(&path), ValueKind::Table(opts))))
                .collect(),
        })
    }
}

impl Source for OsloFile {
    fn clone_into_box(&self) -> Box<dyn Source + Send + Sync> {
        Box::new(self.clone())
    }

    fn collect(&self) -> Result<Map<String, Value>, ConfigError> {
        Ok(self.groups.clone())
    }
}

/// The bytes the `config` crate reads as part of one plain key (no `.` or `[`).
pub fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// A raw option value and where it came from (`file:line`, "the environment"), or no origin
/// for a default.
#[derive(Debug, Clone)]
pub struct RawValue {
    pub value: String,
    pub origin: Option<String>,
}

/// Every option of the merged configuration, by `(group, option)`, before substitution.
pub type RawConfig = BTreeMap<(String, String), RawValue>;

/// The merged `config` crate tree flattened to `(group, option) -> value`.
pub fn flatten(groups: Map<String, Value>) -> RawConfig {
    let mut out = RawConfig::new();
    for (group, value) in groups {
        if let ValueKind::Table(opts) = value.kind {
            for (opt, v) in opts {
                let origin = v.origin().map(str::to_string);
                let value = match v.kind {
                    ValueKind::String(s) => s,
                    // A nested table (OS_A__B__C) or array is nothing svcctl reads.
                    ValueKind::Table(_) | ValueKind::Array(_) => continue,
                    other => other.to_string(),
                };
                out.insert((group.clone(), opt), RawValue { value, origin });
            }
        }
    }
    out
}

/// How an option is named in messages: `[database] max_retries`.
pub fn option_name(group: &str, opt: &str) -> String {
    let group = if group == DEFAULT_GROUP {
        "DEFAULT"
    } else {
        group
    };
    format!("[{group}] {opt}")
}

/// ` (from x.conf:3)`, or nothing for a default.
pub fn origin_suffix(origin: &Option<String>) -> String {
    match origin {
        Some(o) => format!(" (from {o})"),
        None => String::new(),
    }
}

/// The longest value `$` substitution may build: past it, references are multiplying
/// (`a = $b$b`, `b = $c$c`, ...), not naming a path or URL.
pub const MAX_SUBSTITUTED: usize = 65_536;

/// How deep `$` references may nest.
pub const MAX_DEPTH: usize = 64;

/// oslo.config's `$` substitution over the merged options. Each option is substituted once
/// (remembered), so a chain of references costs its length, not its fan-out.
pub struct Resolver<'a> {
    raw: &'a RawConfig,
    done: RefCell<BTreeMap<(String, String), String>>,
    busy: RefCell<BTreeSet<(String, String)>>,
}

impl<'a> Resolver<'a> {
    pub fn new(raw: &'a RawConfig) -> Resolver<'a> {
        Resolver {
            raw,
            done: RefCell::default(),
            busy: RefCell::default(),
        }
    }

    /// The raw (unsubstituted) entry of an option.
    pub fn raw(&self, group: &str, opt: &str) -> Option<&'a RawValue> {
        self.raw.get(&(group.to_string(), opt.to_string()))
    }

    /// Every option set in `group`, with its origin: for hints about misspelt names.
    pub fn options_in(&self, group: &str) -> impl Iterator<Item = (&'a str, &'a RawValue)> {
        self.raw
            .iter()
            .filter(move |((g, _), _)| g == group)
            .map(|((_, o), v)| (o.as_str(), v))
    }

    /// The substituted value of an option and its origin, or None when it is not set anywhere.
    pub fn get(&self, group: &str, opt: &str) -> Result<Option<(String, Option<String>)>> {
        let Some(raw) = self.raw(group, opt) else {
            return Ok(None);
        };
        let key = (group.to_string(), opt.to_string());
        if let Some(v) = self.done.borrow().get(&key) {
            return Ok(Some((v.clone(), raw.origin.clone())));
        }
        // A reference chain this deep is a generated file gone wrong, and recursing on would
        // exhaust the stack.
        if self.busy.borrow().len() >= MAX_DEPTH {
            return Err(Failure::Config(format!(
                "{}{} nests $-references more than {MAX_DEPTH} deep; simplify them",
                option_name(group, opt),
                origin_suffix(&raw.origin)
            ))
            .into());
        }
        if !self.busy.borrow_mut().insert(key.clone()) {
            return Err(Failure::Config(format!(
                "{}{} refers to itself through $-substitution; break the loop",
                option_name(group, opt),
                origin_suffix(&raw.origin)
            ))
            .into());
        }
        let value = self.substitute(&raw.value, group, opt, &raw.origin);
        self.busy.borrow_mut().remove(&key);
        let value = value?;
        self.done.borrow_mut().insert(key, value.clone());
        Ok(Some((value, raw.origin.clone())))
    }

    /// oslo.config's template rules: `$$` and `\$` are a literal `$`; `$name` and `${name}`
    /// look the option up in the same group, then in DEFAULT; `${group.name}` names the group.
    /// A `$` not followed by a name is left as it is (oslo uses `safe_substitute`).
    fn substitute(
        &self,
        value: &str,
        group: &str,
        opt: &str,
        origin: &Option<String>,
    ) -> Result<String> {
        let value = value.replace("\\$", "$$");
        let bytes = value.as_bytes();
        let mut out = String::with_capacity(value.len());
        let mut i = 0;
        while i < bytes.len() {
            if out.len() > MAX_SUBSTITUTED {
                return Err(Failure::Config(format!(
                    "{}{} grows past {MAX_SUBSTITUTED} characters through $-substitution; \
                     check its references",
                    option_name(group, opt),
                    origin_suffix(origin)
                ))
                .into());
            }
            if bytes[i] != b'$' {
                let next = value[i..].find('$').map_or(value.len(), |n| i + n);
                out.push_str(&value[i..next]);
                i = next;
                continue;
            }
            let rest = &value[i + 1..];
            if rest.starts_with('$') {
                out.push('$');
                i += 2;
                continue;
            }
            let (name, consumed) = if let Some(braced) = rest.strip_prefix('{') {
                match braced.find('}') {
                    Some(end) if is_identifier(&braced[..end]) => {
                        (braced[..end].to_string(), end + 2)
                    }
                    _ => (String::new(), 0),
                }
            } else {
                let len = rest
                    .char_indices()
                    .take_while(|&(n, c)| {
                        c == '_'
                            || c.is_ascii_alphabetic()
                            || (n > 0 && (c == '.' || c.is_ascii_digit()))
                    })
                    .count();
                (rest[..len].to_string(), len)
            };
            if name.is_empty() {
                out.push('$');
                i += 1;
                continue;
            }
            let (ref_group, ref_opt) = match name.split_once('.') {
                Some((g, o)) => (normalize_ref_group(g), o.to_lowercase()),
                None => (group.to_string(), name.to_lowercase()),
            };
            let found = match self.get(&ref_group, &ref_opt)? {
                Some(v) => Some(v),
                None if !name.contains('.') => self.get(DEFAULT_GROUP, &ref_opt)?,
                None => None,
            };
            let Some((text, _)) = found else {
                return Err(Failure::Config(format!(
                    "{}{} refers to ${}, which is not set; set it or write $$ for a literal '$'",
                    option_name(group, opt),
                    origin_suffix(origin),
                    text::one_line(&name, text::QUOTE_MAX)
                ))
                .into());
            };
            out.push_str(&text);
            i += 1 + consumed;
        }
        Ok(out)
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c == '.' || c.is_ascii_alphanumeric())
}

fn normalize_ref_group(g: &str) -> String {
    if g == "DEFAULT" {
        DEFAULT_GROUP.to_string()
    } else {
        g.to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str) -> Vec<(String, String, String)> {
        parse("t.conf", text)
            .unwrap()
            .into_iter()
            .map(|a| (a.group, a.key, a.value))
            .collect()
    }

    fn one(g: &str, k: &str, v: &str) -> (String, String, String) {
        (g.into(), k.into(), v.into())
    }

    #[test]
    fn inline_hash_is_part_of_the_value() {
        assert_eq!(
            values("[database]\nconnection = sqlite:// # not a comment\n"),
            vec![one("database", "connection", "sqlite:// # not a comment")]
        );
    }

    #[test]
    fn comments_only_at_column_zero() {
        assert_eq!(
            values("# c\n; c\n[DEFAULT]\nhost = a\n#host = b\n"),
            vec![one("default", "host", "a")]
        );
    }

    #[test]
    fn continuation_lines_join_with_newline_and_blank_line_ends_them() {
        assert_eq!(
            values("[d]\nk = one\n  two\n\ttwo-b\n\nj = x\n"),
            vec![one("d", "k", "one\ntwo\ntwo-b"), one("d", "j", "x")]
        );
    }

    #[test]
    fn section_names_lowercased_except_default() {
        assert_eq!(
            values("[DATABASE]\na = 1\n[DEFAULT]\nb = 2\n"),
            vec![one("database", "a", "1"), one("default", "b", "2")]
        );
    }

    #[test]
    fn colon_or_equals_whichever_first_and_quotes_stripped() {
        assert_eq!(
            values("[d]\na: x=y\nb = 'q'\nc = \"unbalanced'\nd-e = 1\n"),
            vec![
                one("d", "a", "x=y"),
                one("d", "b", "q"),
                one("d", "c", "\"unbalanced'"),
                one("d", "d_e", "1")
            ]
        );
    }

    #[test]
    fn malformed_lines_name_file_and_line() {
        let e = parse("x.conf", "[d]\na = 1\njunk\n").unwrap_err();
        assert_eq!((e.origin.as_str(), e.line), ("x.conf", 3));
        assert!(e.to_string().starts_with("x.conf:3: "), "{e}");
        assert_eq!(parse("x.conf", "[d\n").unwrap_err().line, 1);
        assert_eq!(parse("x.conf", "[]\n").unwrap_err().line, 1);
        assert_eq!(parse("x.conf", "a = 1\n").unwrap_err().line, 1);
        assert_eq!(parse("x.conf", " a = 1\n").unwrap_err().line, 1);
        assert_eq!(parse("x.conf", "[d]\n= 1\n").unwrap_err().line, 2);
    }

    #[test]
    fn a_huge_line_is_quoted_short() {
        let line = "x".repeat(10_000_000);
        let e = parse("big.conf", &format!("[d]\n{line}\n")).unwrap_err();
        assert!(
            e.to_string().len() < 200,
            "{} characters",
            e.to_string().len()
        );
    }

    proptest::proptest! {
        /// Any text: no panic; an error names `file:line` on one line; every assignment's value
        /// joins its lines with `\n` only when it had continuation lines.
        #[test]
        fn any_text_parses_or_fails_in_one_line(text in "(?s).{0,300}") {
            match parse("t.conf", &text) {
                Err(e) => {
                    let msg = e.to_string();
                    proptest::prop_assert!(msg.starts_with("t.conf:"), "{}", msg);
                    proptest::prop_assert!(!msg.contains(['\n', '\r']), "{}", msg);
                    proptest::prop_assert!(e.line >= 1 && e.line <= text.lines().count().max(1));
                }
                Ok(assignments) => {
                    for a in assignments {
                        proptest::prop_assert!(!a.key.is_empty());
                    }
                }
            }
        }

        #[test]
        fn ini_shaped_text_parses_or_fails_in_one_line(
            lines in proptest::collection::vec(
                "(\\[[A-Za-z._\\[\\]0-9]{0,8}\\]?|[ \t]{0,2}[a-z_-]{0,8} ?[=:]? ?[ -~]{0,20}|[#;].{0,10}|)",
                0..20,
            )
        ) {
            let text = lines.join("\n");
            if let Ok(file) = OsloFile::parse("t.conf", &text) {
                let map = Source::collect(&file).unwrap();
                let raw = flatten(map);
                let r = Resolver::new(&raw);
                for (group, opt) in raw.keys() {
                    if let Err(e) = r.get(group, opt) {
                        let msg = format!("{e:#}");
                        proptest::prop_assert!(!msg.contains('\n'), "{}", msg);
                    }
                }
            }
        }
    }
}
