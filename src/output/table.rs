//! Boxed tables as prettytable draws them, and fitted to a width as cliff fits them: when the
//! table is wider than the terminal (or `--max-width`), cells wrap inside their columns, so
//! the terminal never breaks a row. A table that fits is drawn exactly as before.

use std::io::{self, Write};

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// How cells sit in their column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    /// prettytable's default, and so `cinder service-list`'s.
    Center,
    /// svcctl's own reports (plans, results, processes).
    Left,
}

/// cliff's narrowest column: the table overflows the terminal rather than wrapping a column
/// below this width (or below its header's longest word).
const MIN_WIDTH: usize = 8;

/// prettytable's centring: the odd leftover space goes right for odd-length text and left
/// for even-length text.
fn center(text: &str, width: usize) -> String {
    let len = text.width();
    let excess = width.saturating_sub(len);
    let (left, right) = if excess.is_multiple_of(2) {
        (excess / 2, excess / 2)
    } else if len % 2 == 1 {
        (excess / 2, excess / 2 + 1)
    } else {
        (excess / 2 + 1, excess / 2)
    };
    format!("{}{text}{}", " ".repeat(left), " ".repeat(right))
}

/// A cell's own lines, as cliff prepares them: `\r\n` is a line break, a lone `\r` a space.
fn cell_lines(text: &str) -> Vec<&str> {
    text.split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect()
}

/// Text a table shows must not move the cursor: a lone `\r` (or a tab) becomes a space.
fn clean(line: &str) -> String {
    line.replace(['\r', '\t'], " ")
}

/// The chunks textwrap breaks a line into: runs of spaces, and words split after a hyphen
/// that sits between two letters or digits (`node01@backend-` `2813902f-` `2c94`).
fn chunks(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    for (i, &(pos, c)) in chars.iter().enumerate() {
        let next = chars.get(i + 1).map(|&(_, n)| n);
        let end = pos + c.len_utf8();
        let space_boundary = next.is_some_and(|n| n.is_whitespace() != c.is_whitespace());
        let hyphen = c == '-'
            && i > 0
            && chars[i - 1].1.is_alphanumeric()
            && next.is_some_and(char::is_alphanumeric);
        if space_boundary || hyphen {
            out.push(&line[start..end]);
            start = end;
        }
    }
    if start < line.len() {
        out.push(&line[start..]);
    }
    out
}

/// Splits `text` after at most `width` display columns (at least one character).
fn split_at_width(text: &str, width: usize) -> (&str, &str) {
    let mut used = 0;
    for (pos, c) in text.char_indices() {
        let w = c.width().unwrap_or(0);
        if used + w > width && pos > 0 {
            return text.split_at(pos);
        }
        used += w;
    }
    (text, "")
}

/// Python's `textwrap.wrap(line, width)`, as prettytable calls it for a cell wider than its
/// column: greedy on whitespace and hyphens, a word longer than the column broken inside.
pub(crate) fn wrap(line: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    if line.width() <= width {
        return vec![line.to_string()];
    }
    let mut lines = Vec::new();
    let mut cur = String::new();
    for chunk in chunks(line) {
        let blank = chunk.trim().is_empty();
        if blank && cur.is_empty() {
            continue;
        }
        let left = width - cur.width();
        if chunk.width() <= left {
            cur.push_str(chunk);
            continue;
        }
        let mut rest = chunk;
        if chunk.width() > width && !blank {
            // textwrap fills what is left of the line with the head of a too-long word.
            let (head, tail) = split_at_width(rest, left);
            if cur.width() + head.width() <= width && left > 0 {
                cur.push_str(head);
                rest = tail;
            }
        }
        lines.push(cur.trim_end().to_string());
        cur = String::new();
        if blank {
            continue;
        }
        while rest.width() > width {
            let (head, tail) = split_at_width(rest, width);
            lines.push(head.to_string());
            rest = tail;
        }
        cur.push_str(rest);
    }
    if !cur.trim().is_empty() || lines.is_empty() {
        lines.push(cur.trim_end().to_string());
    }
    lines
}

/// The column widths that fit `usable` (the width less borders and padding): cliff's rule,
/// carried to its end. Columns narrower than the equal share keep their width, the rest share
/// what is left equally, and the last one takes the remainder; no column goes below its floor
/// (8, or the longest word of its header), so an impossible fit overflows rather than
/// wrapping a narrow column into nonsense.
fn fit_widths(natural: &[usize], floor: &[usize], usable: usize) -> Vec<usize> {
    let at = |cap: usize| -> Vec<usize> {
        natural
            .iter()
            .zip(floor)
            .map(|(&n, &f)| n.min(cap).max(f))
            .collect()
    };
    let max = natural.iter().copied().max().unwrap_or(0);
    // The widest share that still fits: water-filling, which cliff's one pass approximates.
    let mut cap = 0;
    while cap < max && at(cap + 1).iter().sum::<usize>() <= usable {
        cap += 1;
    }
    let mut widths = at(cap);
    let mut left = usable.saturating_sub(widths.iter().sum());
    for i in (0..widths.len()).rev() {
        let more = natural[i].saturating_sub(widths[i]).min(left);
        widths[i] += more;
        left -= more;
    }
    widths
}

/// A table's outer width for these column widths.
fn total_width(widths: &[usize]) -> usize {
    1 + widths.iter().map(|w| w + 3).sum::<usize>()
}

/// Draws a boxed table: a rule above and below the header and at the bottom, one space of
/// padding. With `fit_to`, a table wider than that many columns has its cells (headers too)
/// wrapped so that it fits; otherwise every row is one line, as prettytable draws it. An empty table still prints its header box.
pub(crate) fn write_table(
    out: &mut impl Write,
    headers: &[&str],
    rows: &[Vec<String>],
    align: Align,
    fit_to: Option<usize>,
) -> io::Result<()> {
    let line_width = |cell: &str| {
        cell_lines(cell)
            .iter()
            .map(|l| l.width())
            .max()
            .unwrap_or(0)
    };
    let natural: Vec<usize> = (0..headers.len())
        .map(|i| {
            rows.iter()
                .map(|r| line_width(&r[i]))
                .chain([line_width(headers[i])])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let widths = match fit_to {
        Some(target) if total_width(&natural) > target => {
            let usable = target.saturating_sub(1 + 3 * headers.len());
            let floor: Vec<usize> = headers
                .iter()
                .zip(&natural)
                .map(|(h, &n)| {
                    let word = h.split_whitespace().map(str::width).max().unwrap_or(0);
                    n.min(MIN_WIDTH.max(word))
                })
                .collect();
            if floor.iter().sum::<usize>() <= usable {
                fit_widths(&natural, &floor, usable)
            } else {
                // Too many columns for cliff's 8: an equal share each, words broken, rather
                // than a row the terminal breaks.
                let share = (usable / headers.len().max(1)).max(1);
                let floor: Vec<usize> = natural.iter().map(|&n| n.min(share)).collect();
                fit_widths(&natural, &floor, usable)
            }
        }
        _ => natural,
    };
    let rule: String = widths
        .iter()
        .fold(String::from("+"), |acc, w| acc + &"-".repeat(w + 2) + "+");
    let row = |out: &mut dyn Write, cells: &[&str]| -> io::Result<()> {
        let wrapped: Vec<Vec<String>> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, &w)| {
                cell_lines(cell)
                    .into_iter()
                    .flat_map(|l| wrap(&clean(l), w))
                    .collect()
            })
            .collect();
        let height = wrapped.iter().map(Vec::len).max().unwrap_or(1);
        for k in 0..height {
            out.write_all(b"|")?;
            for (lines, &w) in wrapped.iter().zip(&widths) {
                let text = lines.get(k).map_or("", String::as_str);
                let cell = match align {
                    Align::Center => center(text, w),
                    Align::Left => format!("{text}{}", " ".repeat(w.saturating_sub(text.width()))),
                };
                write!(out, " {cell} |")?;
            }
            out.write_all(b"\n")?;
        }
        Ok(())
    };
    writeln!(out, "{rule}")?;
    row(out, headers)?;
    writeln!(out, "{rule}")?;
    for r in rows {
        let cells: Vec<&str> = r.iter().map(String::as_str).collect();
        row(out, &cells)?;
    }
    writeln!(out, "{rule}")
}

/// `write_table` into a string.
pub(crate) fn table(
    headers: &[&str],
    rows: &[Vec<String>],
    align: Align,
    fit_to: Option<usize>,
) -> String {
    let mut out = Vec::new();
    write_table(&mut out, headers, rows, align, fit_to).expect("writing to memory");
    String::from_utf8(out).expect("cells are UTF-8")
}

/// Cuts `text` to `width` display columns, ending in `…` when it was longer.
pub(crate) fn cut(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_string();
    }
    let (head, _) = split_at_width(text, width.saturating_sub(1));
    format!("{head}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centring_follows_prettytable() {
        assert_eq!(format!(" {} ", center("up", 5)), "   up  ");
        assert_eq!(center("Status", 7), " Status");
        assert_eq!(center("cinder-backup", 16), " cinder-backup  ");
        assert_eq!(center("n", 6), "  n   ");
    }

    #[test]
    fn wrap_breaks_at_spaces_then_hyphens_then_anywhere() {
        assert_eq!(wrap("in use: 1 volume", 8), ["in use:", "1 volume"]);
        assert_eq!(
            wrap("node01@backend-2813902f-2c94", 16),
            ["node01@backend-", "2813902f-2c94"]
        );
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("ab abcdefghij", 5), ["ab ab", "cdefg", "hij"]);
        assert_eq!(wrap("", 4), [""]);
        assert_eq!(wrap("short", 10), ["short"]);
        for text in [
            "2021-01-12T09:28:10.000000",
            "a - b -- c",
            "x  y   z",
            "é✓漢字 wide",
        ] {
            for w in 1..12 {
                for l in wrap(text, w) {
                    assert!(l.width() <= w.max(2), "{text:?} at {w}: {l:?}");
                }
            }
        }
    }

    #[test]
    fn a_table_that_fits_is_drawn_as_prettytable_draws_it() {
        let rows = vec![vec!["cinder-volume".to_string(), "node01@lvm".to_string()]];
        let plain = table(&["Binary", "Host"], &rows, Align::Center, None);
        assert_eq!(
            plain,
            "+---------------+------------+\n\
             |     Binary    |    Host    |\n\
             +---------------+------------+\n\
             | cinder-volume | node01@lvm |\n\
             +---------------+------------+\n"
        );
        assert_eq!(
            table(&["Binary", "Host"], &rows, Align::Center, Some(31)),
            plain
        );
        let left = table(&["Binary", "Host"], &rows, Align::Left, None);
        assert!(left.contains("| Binary        | Host       |"), "{left}");
    }

    #[test]
    fn a_wide_table_is_wrapped_to_fit() {
        let rows = vec![vec![
            "7".to_string(),
            "cinder-volume".to_string(),
            "node01@backend-2813902f-2c94".to_string(),
            "refuse: in use: 1 volume, 2 backups".to_string(),
        ]];
        let headers = ["ID", "Binary", "Host", "Last Verdict"];
        for target in [30, 40, 50, 60] {
            let t = table(&headers, &rows, Align::Left, Some(target));
            for l in t.lines() {
                assert!(l.width() <= target.max(42), "{target}:\n{t}");
                assert!(l.starts_with(['+', '|']) && l.ends_with(['+', '|']), "{t}");
            }
            let joined: String = t.split_whitespace().collect();
            assert!(joined.contains("2c94"), "{t}");
        }
        let t = table(&headers, &rows, Align::Left, Some(50));
        assert!(t.lines().all(|l| l.width() <= 50), "{t}");
    }

    #[test]
    fn widths_share_what_is_left() {
        // cliff's example: narrow columns keep their width, wide ones share the rest.
        assert_eq!(fit_widths(&[2, 30, 30], &[2, 8, 8], 40), vec![2, 19, 19]);
        assert_eq!(fit_widths(&[2, 30, 31], &[2, 8, 8], 41), vec![2, 19, 20]);
        // Floors win over fitting: the table overflows instead.
        assert_eq!(fit_widths(&[20, 20], &[8, 8], 10), vec![8, 8]);
    }

    #[test]
    fn cut_ends_in_an_ellipsis() {
        assert_eq!(cut("cinder-volume --config-file x", 10), "cinder-vo…");
        assert_eq!(cut("short", 10), "short");
        assert_eq!(cut("cinder-vol", 10), "cinder-vol");
    }

    #[test]
    fn empty_table_keeps_its_header_box() {
        assert_eq!(
            table(&["Binary", "Host"], &[], Align::Center, None),
            "+--------+------+\n| Binary | Host |\n+--------+------+\n+--------+------+\n"
        );
    }
}
