//! Hints for a `[database] connection` that is set nowhere: where it was looked for, and the
//! near miss the operator probably meant (`conection`, or `connection` under `[DEFAULT]`).

use std::path::PathBuf;

use super::files::shown;
use super::oslo::{self, DEFAULT_GROUP, Resolver, option_name, origin_suffix};

/// Where an unset `connection` was looked for, and the near miss if any.
pub(super) fn unset_note(files: &[PathBuf], hint: Option<String>) -> String {
    let searched = match files {
        [] => "no config file was read".to_string(),
        [one] => format!("not in {}", shown(one)),
        [first, ..] => format!(
            "not in any of the {} config files read, from {}",
            files.len(),
            shown(first)
        ),
    };
    let hint = hint.map_or(String::new(), |h| format!("; {h}"));
    format!("{searched}, nor OS_DATABASE__CONNECTION{hint}")
}

/// When `connection` is not set: an option set in `[database]` whose name is one or two
/// letters off (`conection`), or a `connection` set in another group, said as a hint.
pub(super) fn connection_hint(r: &Resolver) -> Option<String> {
    let near = r
        .options_in("database")
        .find(|(name, _)| *name != "connection" && edit_distance(name, "connection") <= 2)
        .map(|(name, v)| format!("is {} misspelt?", at(&option_name("database", name), v)));
    near.or_else(|| {
        r.raw(DEFAULT_GROUP, "connection").map(|v| {
            format!(
                "{} belongs under [database]",
                at(&option_name(DEFAULT_GROUP, "connection"), v)
            )
        })
    })
}

fn at(name: &str, v: &oslo::RawValue) -> String {
    format!("{name}{}", origin_suffix(&v.origin))
}

/// Levenshtein distance, for names of a few letters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_letters_added_dropped_or_changed() {
        assert_eq!(edit_distance("connection", "connection"), 0);
        assert_eq!(edit_distance("conection", "connection"), 1);
        assert_eq!(edit_distance("connectoin", "connection"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
        assert!(edit_distance("max_retries", "connection") > 2);
    }
}
