//! The oslo.config INI dialect, as a `config::Format`: how cinder.conf is really parsed.
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

use std::error::Error;
use std::fmt;

use config::{FileStoredFormat, Format, Map, Value, ValueKind};

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
                    format!("section header {line:?} has no closing ']'"),
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
                    format!("{line:?} is not an option assignment; write 'name = value'"),
                )
            })?;
            if key.is_empty() {
                return Err(err(lineno, format!("{line:?} has no option name")));
            }
            if section.is_none() {
                return Err(err(
                    lineno,
                    format!(
                        "option {key:?} comes before any [section]; put it under [DEFAULT] or [database]"
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

/// The oslo dialect as a `config` crate format. It carries the file's path so that every
/// value's origin (and every parse error) names the file and line.
#[derive(Debug, Clone)]
pub struct OsloIni {
    pub path: String,
}

impl Format for OsloIni {
    fn parse(
        &self,
        _uri: Option<&String>,
        text: &str,
    ) -> Result<Map<String, Value>, Box<dyn Error + Send + Sync>> {
        let mut groups: Map<String, Map<String, Value>> = Map::new();
        for a in parse(&self.path, text)? {
            let origin = format!("{}:{}", self.path, a.line);
            groups
                .entry(a.group)
                .or_default()
                .insert(a.key, Value::new(Some(&origin), ValueKind::String(a.value)));
        }
        Ok(groups
            .into_iter()
            .map(|(g, opts)| (g, Value::new(Some(&self.path), ValueKind::Table(opts))))
            .collect())
    }
}

impl FileStoredFormat for OsloIni {
    fn file_extensions(&self) -> &'static [&'static str] {
        &["conf"]
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
}
