//! Boxed tables, drawn by tabled: prettytable's frame (the `cinder service-list` table, byte for
//! byte) and svcctl's own left-aligned reports, fitted to a width as cliff fits them. What is
//! svcctl's own here is what tabled has no word for: prettytable's centring quirk, the wrap
//! points a host name and a timestamp break at, and which column gives up width first.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;
use std::io::{self, Write};

use tabled::grid::colors::NoColors;
use tabled::grid::config::{
    AlignmentHorizontal, Borders, CompactConfig, Entity, HorizontalLine, Indent, Sides,
    SpannedConfig,
};
use tabled::grid::dimension::Dimension;
use tabled::grid::records::IterRecords;
use tabled::grid::util::string::get_line_width;
use tabled::grid::{CompactGrid, IterGrid};
use tabled::settings::Style;

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

/// A cell that is one line of printable ASCII: its width is its length in bytes, and it goes
/// to tabled as it is. Anything else (a line break, a tab, a carriage return, other control
/// bytes, non-ASCII) takes the slow path: cleaned, and measured the way tabled measures.
fn is_plain(text: &str) -> bool {
    text.bytes().all(|b| (0x20..0x7f).contains(&b))
}

/// A cell's lines as cliff prepares them (`\r\n` is a line break), with what would move the
/// cursor made harmless: a lone `\r`, and a tab, become a space.
fn clean_lines(text: &str) -> impl Iterator<Item = Cow<'_, str>> {
    text.split('\n').map(|l| {
        let l = l.strip_suffix('\r').unwrap_or(l);
        if l.contains(['\r', '\t']) {
            Cow::Owned(l.replace(['\r', '\t'], " "))
        } else {
            Cow::Borrowed(l)
        }
    })
}

/// The display width of one line: bytes for printable ASCII, else as tabled counts it (so the
/// two never disagree about where a border goes).
fn line_width(line: &str) -> usize {
    if is_plain(line) {
        line.len()
    } else {
        get_line_width(line)
    }
}

/// The widest line of a cell.
fn block_width(text: &str) -> usize {
    if is_plain(text) {
        return text.len();
    }
    clean_lines(text).map(|l| line_width(&l)).max().unwrap_or(0)
}

/// The pieces a line wraps between: runs of spaces, and words split after a wrap point, a
/// place a reader expects a break. `@` and `#` (between a node, its backend and its pool), a
/// hyphen between two letters or digits (as textwrap breaks words), and a `T` between two
/// digits (an ISO timestamp's date and time): `node01@` `backend-` `2813902f-` `2c94`.
fn chunks(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    for (i, &(pos, c)) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| chars[p].1);
        let next = chars.get(i + 1).map(|&(_, n)| n);
        let end = pos + c.len_utf8();
        let space_boundary = next.is_some_and(|n| n.is_whitespace() != c.is_whitespace());
        let between =
            |ok: fn(&char) -> bool| prev.as_ref().is_some_and(ok) && next.as_ref().is_some_and(ok);
        let wrap_point = match c {
            '@' | '#' => between(|c| !c.is_whitespace()),
            '-' => between(|c| c.is_alphanumeric()),
            'T' => between(char::is_ascii_digit),
            _ => false,
        };
        if space_boundary || wrap_point {
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
        let w = line_width(c.encode_utf8(&mut [0; 4]));
        if used + w > width && pos > 0 {
            return text.split_at(pos);
        }
        used += w;
    }
    (text, "")
}

/// Wraps one line to `width` columns, greedily: at spaces and wrap points first (see
/// `chunks`); a piece longer than the column starts a line of its own and is broken inside,
/// the only mid-word break. Spaces at the end of a line are dropped.
fn wrap(line: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    if line_width(line) <= width {
        return vec![line.to_string()];
    }
    let mut lines = Vec::new();
    let mut cur = String::new();
    let mut cur_width = 0;
    for chunk in chunks(line) {
        let blank = chunk.trim().is_empty();
        if blank && cur.is_empty() {
            continue;
        }
        let w = line_width(chunk);
        if cur_width + w <= width {
            cur.push_str(chunk);
            cur_width += w;
            continue;
        }
        if !cur.is_empty() {
            lines.push(cur.trim_end().to_string());
            cur.clear();
            cur_width = 0;
        }
        if blank {
            continue;
        }
        let mut rest = chunk;
        while line_width(rest) > width {
            let (head, tail) = split_at_width(rest, width);
            lines.push(head.to_string());
            rest = tail;
        }
        cur.push_str(rest);
        cur_width = line_width(rest);
    }
    if !cur.trim().is_empty() || lines.is_empty() {
        lines.push(cur.trim_end().to_string());
    }
    lines
}

/// What fitting needs to know of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fit {
    /// The widest line of its data cells.
    data: usize,
    /// The widest line of its header.
    header: usize,
    /// Its header's longest word: the column never goes below it.
    word: usize,
    /// Its longest piece between wrap points: narrower than this breaks a word.
    piece: usize,
}

/// The largest `level` at which `min(top, max(level, floor))` summed over the columns fits
/// `usable`, and those widths: the widest columns give up width first and all of them stop at
/// their floors (water-filling). What is left over goes back, one column at a time from the
/// last, to columns still short of their `top`.
fn fill(top: &[usize], floor: &[usize], usable: usize) -> Vec<usize> {
    let at = |level: usize| -> Vec<usize> {
        top.iter()
            .zip(floor)
            .map(|(&t, &f)| t.min(level.max(f)))
            .collect()
    };
    let max = top.iter().copied().max().unwrap_or(0);
    let (mut lo, mut hi) = (0, max);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if at(mid).iter().sum::<usize>() <= usable {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    let mut widths = at(lo);
    let mut left = usable.saturating_sub(widths.iter().sum());
    for i in (0..widths.len()).rev() {
        let more = top[i].saturating_sub(widths[i]).min(left);
        widths[i] += more;
        left -= more;
    }
    widths
}

/// The column widths (content, without borders and padding) that fit `usable` columns, by
/// the fitting rule; each column is first taken down to what it needs:
/// 1. slack first: a column whose header is wider than its data gives that width up (its
///    header wraps at spaces, never below its longest word); what is left over goes back;
/// 2. then the widest columns shrink, none below its longest piece between wrap points, so no
///    word breaks;
/// 3. then below that, none below its floor: its header's longest word, and cliff's 8
///    (or what the column needs, if less);
/// 4. when even the floors do not fit, an equal share each, words broken; and a table that
///    cannot fit at all (fewer columns than it has columns) overflows.
fn fit_widths(cols: &[Fit], usable: usize) -> Vec<usize> {
    let natural: Vec<usize> = cols.iter().map(|c| c.data.max(c.header)).collect();
    let need: Vec<usize> = cols.iter().map(|c| c.data.max(c.word)).collect();
    let hard: Vec<usize> = cols
        .iter()
        .zip(&need)
        .map(|(c, &n)| n.min(MIN_WIDTH.max(c.word)))
        .collect();
    let soft: Vec<usize> = cols
        .iter()
        .zip(&need)
        .zip(&hard)
        .map(|((c, &n), &h)| n.min(c.piece.max(h)))
        .collect();
    let sum = |v: &[usize]| v.iter().sum::<usize>();
    if sum(&need) <= usable {
        fill(&natural, &need, usable)
    } else if sum(&soft) <= usable {
        fill(&need, &soft, usable)
    } else if sum(&hard) <= usable {
        fill(&soft, &hard, usable)
    } else {
        let share = (usable / cols.len().max(1)).max(1);
        let floor: Vec<usize> = need.iter().map(|&n| n.min(share)).collect();
        fill(&need, &floor, usable)
    }
}

/// A table's outer width for these content widths.
fn total_width(widths: &[usize]) -> usize {
    1 + widths.iter().map(|w| w + 3).sum::<usize>()
}

/// A table's cells, held for sorting and for the widths before anything is drawn: every
/// cell's text in one string, each after a space of its own (so that a centred cell needing
/// prettytable's extra space on the left goes to tabled as a slice, not a copy), and where
/// each ends. A few bytes per cell beyond its text, and no allocation per cell.
pub(crate) struct Cells {
    columns: usize,
    text: String,
    ends: Vec<usize>,
    /// The widest line of each column's cells.
    widths: Vec<usize>,
    /// Every cell is plain (`is_plain`).
    plain: bool,
}

impl Cells {
    pub fn new(columns: usize) -> Cells {
        Cells {
            columns,
            text: String::new(),
            ends: Vec::new(),
            widths: vec![0; columns],
            plain: true,
        }
    }

    /// Adds the next cell (rows fill left to right), written in place by `write`.
    pub fn push_with(&mut self, write: impl FnOnce(&mut String)) {
        self.text.push(' ');
        let start = self.text.len();
        write(&mut self.text);
        let cell = &self.text[start..];
        let width = if is_plain(cell) {
            cell.len()
        } else {
            self.plain = false;
            block_width(cell)
        };
        let col = self.ends.len() % self.columns;
        self.widths[col] = self.widths[col].max(width);
        self.ends.push(self.text.len());
    }

    pub fn push(&mut self, cell: &str) {
        self.push_with(|s| s.push_str(cell));
    }

    pub fn rows(&self) -> usize {
        self.ends.len() / self.columns.max(1)
    }

    /// Where a cell's text starts and ends in `text` (its own space is just before).
    fn span(&self, row: usize, col: usize) -> (usize, usize) {
        let k = row * self.columns + col;
        let start = if k == 0 { 1 } else { self.ends[k - 1] + 1 };
        (start, self.ends[k])
    }

    /// A cell's text.
    fn cell(&self, row: usize, col: usize) -> &str {
        let (start, end) = self.span(row, col);
        &self.text[start..end]
    }

    /// The rows in cinderclient's order: by their cells as strings (code point by code point),
    /// first column first.
    pub fn sorted(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.rows()).collect();
        order.sort_unstable_by(|&a, &b| {
            (0..self.columns)
                .map(|c| self.cell(a, c).cmp(self.cell(b, c)))
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
        });
        order
    }

    /// Draws the table (see `write_table`), its rows in `order` (all of them, as pushed, when
    /// None).
    pub fn write(
        &self,
        out: &mut impl Write,
        headers: &[&str],
        order: Option<&[usize]>,
        align: Align,
        fit_to: Option<usize>,
    ) -> io::Result<()> {
        self.draw(out, headers, order, align, fit_to, true)
    }

    /// `write`; `compact` allows tabled's compact grid for a table of one-line cells (the
    /// tests draw such tables both ways and compare).
    fn draw(
        &self,
        out: &mut impl Write,
        headers: &[&str],
        order: Option<&[usize]>,
        align: Align,
        fit_to: Option<usize>,
        compact: bool,
    ) -> io::Result<()> {
        let rows = self.rows();
        let row = |i: usize| order.map_or(i, |o| o[i]);
        let header_widths: Vec<usize> = headers.iter().map(|h| block_width(h)).collect();
        let natural: Vec<usize> = self
            .widths
            .iter()
            .zip(&header_widths)
            .map(|(&d, &h)| d.max(h))
            .collect();
        let wrap_at = match fit_to {
            Some(target) if total_width(&natural) > target => {
                let usable = target.saturating_sub(1 + 3 * self.columns);
                Some(fit_widths(&self.fit(headers, &header_widths), usable))
            }
            _ => None,
        };
        let mut layout = Layout {
            cells: self,
            headers,
            align,
            wrap_at,
            widths: natural,
        };
        // Heights (and, once wrapped, the widths the lines really take): only when some cell
        // may have more than one line; a plain table is one line per row.
        let mut heights = None;
        if layout.wrap_at.is_some() || !self.plain || headers.iter().any(|h| !is_plain(h)) {
            let mut widths = vec![0; self.columns];
            let mut hs = Vec::with_capacity(rows + 2);
            for r in 0..=rows {
                let mut height = 1;
                for (c, width) in widths.iter_mut().enumerate() {
                    let (h, w) = layout.measure(r.checked_sub(1).map(row), c);
                    height = height.max(h);
                    *width = (*width).max(w);
                }
                hs.push(height);
            }
            layout.widths = widths;
            heights = Some(hs);
        }
        if rows == 0 {
            let mut hs = heights.unwrap_or_else(|| vec![1]);
            hs.push(0);
            heights = Some(hs);
        }
        let one_line = heights.is_none();
        let dims = Dims {
            widths: layout.widths.iter().map(|w| w + 2).collect(),
            heights,
        };
        let layout = &layout;
        let header = || (0..self.columns).map(move |c| layout.text(None, c));
        let body = |r: usize| (0..self.columns).map(move |c| layout.text(Some(row(r)), c));
        let mut w = FmtWriter::new(&mut *out);
        let drawn = if one_line && compact {
            // Every row one line: tabled's compact grid, which takes its settings once per
            // table rather than per cell. The header with its rules above and below, then
            // the rows and the closing rule.
            let grid = |borders: Borders<char>| {
                CompactConfig::new()
                    .set_borders(borders)
                    .set_padding(padding())
                    .set_alignment_horizontal(alignment(align))
            };
            let frame = Style::ascii().remove_horizontal();
            let head = IterRecords::new(std::iter::once(header()), self.columns, Some(1));
            CompactGrid::new(head, grid(frame.clone().into()), &dims, NoColors)
                .build(&mut w)
                .and_then(|()| fmt::Write::write_char(&mut w, '\n'))
                .and_then(|()| {
                    let rows = IterRecords::new((0..rows).map(body), self.columns, Some(rows));
                    CompactGrid::new(rows, grid(frame.remove_top().into()), &dims, NoColors)
                        .build(&mut w)
                })
        } else {
            // An empty table keeps its header box and prettytable's closing rule under it:
            // tabled draws that as a row of no height.
            let count = 1 + rows.max(1);
            let records = (0..count).map(|r| {
                let cells: Box<dyn Iterator<Item = Cow<'_, str>>> = match r {
                    0 => Box::new(header()),
                    _ if rows == 0 => Box::new((0..self.columns).map(|_| Cow::Borrowed(""))),
                    _ => Box::new(body(r - 1)),
                };
                cells
            });
            let records = IterRecords::new(records, self.columns, Some(count));
            IterGrid::new(records, config(align), &dims, NoColors).build(&mut w)
        };
        w.finish(drawn)?;
        out.write_all(b"\n")
    }

    /// Each column's widths, for fitting.
    fn fit(&self, headers: &[&str], header_widths: &[usize]) -> Vec<Fit> {
        let mut piece = vec![0; self.columns];
        for r in 0..self.rows() {
            for (c, p) in piece.iter_mut().enumerate() {
                for line in clean_lines(self.cell(r, c)) {
                    for chunk in chunks(&line) {
                        *p = (*p).max(line_width(chunk.trim()));
                    }
                }
            }
        }
        (0..self.columns)
            .map(|c| Fit {
                data: self.widths[c],
                header: header_widths[c],
                word: headers[c]
                    .split_whitespace()
                    .map(line_width)
                    .max()
                    .unwrap_or(0),
                piece: piece[c],
            })
            .collect()
    }
}

/// How the cells go to tabled.
struct Layout<'a> {
    cells: &'a Cells,
    headers: &'a [&'a str],
    align: Align,
    /// Fitted: each column's width to wrap at.
    wrap_at: Option<Vec<usize>>,
    /// The width of each column's text.
    widths: Vec<usize>,
}

impl Layout<'_> {
    /// A cell's lines, cleaned and, when fitted, wrapped (`row` None: the header).
    fn lines(&self, row: Option<usize>, col: usize) -> Vec<String> {
        let text = match row {
            None => self.headers[col],
            Some(r) => self.cells.cell(r, col),
        };
        clean_lines(text)
            .flat_map(|l| match &self.wrap_at {
                Some(w) => wrap(&l, w[col]),
                None => vec![l.into_owned()],
            })
            .collect()
    }

    /// A cell's height in lines and its widest line, as drawn.
    fn measure(&self, row: Option<usize>, col: usize) -> (usize, usize) {
        if let Some(r) = row
            && self.wrap_at.is_none()
        {
            let text = self.cells.cell(r, col);
            if is_plain(text) {
                return (1, text.len());
            }
        }
        let lines = self.lines(row, col);
        let width = lines.iter().map(|l| line_width(l)).max().unwrap_or(0);
        (lines.len(), width)
    }

    /// A cell's text as tabled gets it. tabled centres with the odd space on the right;
    /// prettytable puts it on the left when the text's length is even (and so the column's
    /// width odd), so such a line gets one space in front: from `Cells`' own space for a plain
    /// cell, no copy.
    fn text(&self, row: Option<usize>, col: usize) -> Cow<'_, str> {
        let width = self.widths[col];
        let quirk =
            |len: usize| self.align == Align::Center && width % 2 == 1 && len.is_multiple_of(2);
        if let Some(r) = row
            && self.wrap_at.is_none()
        {
            let (start, end) = self.cells.span(r, col);
            let text = &self.cells.text[start..end];
            if self.cells.plain || is_plain(text) {
                let from = start - usize::from(quirk(text.len()));
                return Cow::Borrowed(&self.cells.text[from..end]);
            }
        }
        let lines = self.lines(row, col);
        let mut out = String::new();
        for (i, l) in lines.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            if quirk(line_width(l)) {
                out.push(' ');
            }
            out.push_str(l);
        }
        Cow::Owned(out)
    }
}

/// The grid's size: each column's width with its padding, and each row's height (one line
/// each when None).
struct Dims {
    widths: Vec<usize>,
    heights: Option<Vec<usize>>,
}

impl Dimension for Dims {
    fn get_width(&self, column: usize) -> usize {
        self.widths[column]
    }

    fn get_height(&self, row: usize) -> usize {
        self.heights.as_ref().map_or(1, |h| h[row])
    }
}

/// prettytable's frame, as tabled draws it: ASCII borders, a rule under the header only, one
/// space of padding, each line of a cell aligned on its own.
fn config(align: Align) -> SpannedConfig {
    let mut cfg = SpannedConfig::default();
    cfg.set_borders(Borders::from(Style::ascii().remove_horizontal()));
    cfg.insert_horizontal_line(1, HorizontalLine::full('-', '+', '+', '+'));
    cfg.set_padding(Entity::Global, padding());
    cfg.set_alignment_horizontal(Entity::Global, alignment(align));
    cfg.set_line_alignment(Entity::Global, true);
    cfg
}

/// One space either side of a cell's text.
fn padding() -> Sides<Indent> {
    Sides::new(
        Indent::spaced(1),
        Indent::spaced(1),
        Indent::zero(),
        Indent::zero(),
    )
}

fn alignment(align: Align) -> AlignmentHorizontal {
    match align {
        Align::Center => AlignmentHorizontal::Center,
        Align::Left => AlignmentHorizontal::Left,
    }
}

/// tabled writes to a `fmt::Write`, much of it a character at a time (the padding); this one
/// gathers it into a buffer of its own, passed on to the `io::Write` in large pieces, and keeps
/// the real error (a closed pipe is not a formatting error).
struct FmtWriter<'a, W: Write> {
    out: &'a mut W,
    buf: Vec<u8>,
    error: Option<io::Error>,
}

impl<'a, W: Write> FmtWriter<'a, W> {
    const FLUSH_AT: usize = 32 * 1024;

    fn new(out: &'a mut W) -> Self {
        FmtWriter {
            out,
            buf: Vec::with_capacity(Self::FLUSH_AT + 1024),
            error: None,
        }
    }

    fn flush(&mut self) -> fmt::Result {
        let written = self.out.write_all(&self.buf);
        self.buf.clear();
        written.map_err(|e| {
            self.error = Some(e);
            fmt::Error
        })
    }

    /// Passes on what is left, and the first error: the output's own, else tabled's.
    fn finish(mut self, drawn: fmt::Result) -> io::Result<()> {
        let flushed = if self.error.is_none() {
            self.flush()
        } else {
            Ok(())
        };
        match self.error {
            Some(e) => Err(e),
            None => drawn
                .and(flushed)
                .map_err(|_| io::Error::other("drawing a table")),
        }
    }
}

impl<W: Write> fmt::Write for FmtWriter<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.buf.extend_from_slice(s.as_bytes());
        if self.buf.len() >= Self::FLUSH_AT {
            self.flush()?;
        }
        Ok(())
    }

    fn write_char(&mut self, c: char) -> fmt::Result {
        if c.is_ascii() {
            self.buf.push(c as u8);
            if self.buf.len() >= Self::FLUSH_AT {
                self.flush()?;
            }
            Ok(())
        } else {
            self.write_str(c.encode_utf8(&mut [0; 4]))
        }
    }
}

/// Draws a boxed table: a rule above and below the header and at the bottom, one space of
/// padding. With `fit_to`, a table wider than that many columns has its cells (headers too)
/// wrapped so that it fits (see `fit_widths`); otherwise every row is one line, as prettytable
/// draws it. An empty table still prints its header box.
pub(crate) fn write_table(
    out: &mut impl Write,
    headers: &[&str],
    rows: &[Vec<String>],
    align: Align,
    fit_to: Option<usize>,
) -> io::Result<()> {
    let mut cells = Cells::new(headers.len());
    for r in rows {
        // One cell per header, whatever the row holds: a short row never shifts the next.
        for i in 0..headers.len() {
            cells.push(r.get(i).map_or("", String::as_str));
        }
    }
    cells.write(out, headers, None, align, fit_to)
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
    if line_width(text) <= width {
        return text.to_string();
    }
    let (head, _) = split_at_width(text, width.saturating_sub(1));
    format!("{head}…")
}

/// The width svcctl's own reports (plans, results, processes) fit when no terminal or flag
/// gives one: piped, a plan stays within 80 columns.
pub(crate) const PIPED_WIDTH: usize = 80;

/// What a report column gives up when its table is wider than the width it must fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Give {
    /// Nothing: short words and numbers (`ID`, `up`, `delete`, a time), always whole.
    Keep,
    /// Its cells are cut with `…` (a host, a uuid, a command line; whole in JSON). A host's
    /// `#pool` is kept: `node02@backend-28…#nvme`.
    Cut,
    /// Its cells wrap at spaces (a verdict, a reason, a result).
    Wrap,
}

/// A `Cut` column keeps at least this much (or all of it, if shorter): enough of a seed's
/// host to tell its backends apart (`node02@backend-2813902…`).
const CUT_FLOOR: usize = 22;

/// A `Wrap` column keeps at least this much (or all of it, if shorter): a verdict in a few
/// lines rather than a word a line.
const WRAP_FLOOR: usize = 16;

/// Cuts `text` to `width` columns with `…`; a text with a `#pool` suffix (no wider than half
/// the width) keeps it and loses the middle: `node02@backend-28…#nvme`.
pub(crate) fn cut_keeping_pool(text: &str, width: usize) -> String {
    if line_width(text) <= width {
        return text.to_string();
    }
    if let Some(at) = text.rfind('#') {
        let (head, pool) = text.split_at(at);
        let pool_width = line_width(pool);
        if at > 0 && pool_width * 2 <= width {
            let (kept, _) = split_at_width(head, width - pool_width - 1);
            return format!("{kept}…{pool}");
        }
    }
    cut(text, width)
}

/// Shrinks the columns `which` selects (their widths in `widths`, none below `floor`), the
/// widest first, until the table's content is at most `usable` wide or all are at their
/// floors.
fn shrink(widths: &mut [usize], floor: &[usize], which: impl Fn(usize) -> bool, usable: usize) {
    let fixed: usize = (0..widths.len())
        .filter(|&c| !which(c))
        .map(|c| widths[c])
        .sum();
    let top: Vec<usize> = (0..widths.len())
        .map(|c| if which(c) { widths[c] } else { 0 })
        .collect();
    let low: Vec<usize> = (0..widths.len())
        .map(|c| if which(c) { floor[c].min(widths[c]) } else { 0 })
        .collect();
    let room = usable.saturating_sub(fixed);
    if top.iter().sum::<usize>() <= room {
        return;
    }
    let fitted = fill(&top, &low, room);
    for c in (0..widths.len()).filter(|&c| which(c)) {
        widths[c] = fitted[c];
    }
}

/// Draws one of svcctl's own reports (a plan, a result, a process table) within `width`
/// columns: drawn as it is when it fits; otherwise the `Wrap` columns wrap first (the widest
/// first, none below `WRAP_FLOOR`), then the `Cut` columns are cut (none below `CUT_FLOOR`),
/// then both go on down to cliff's 8 (never below a header's longest word); `Keep` columns
/// stay whole. Should even that not fit (a narrow terminal), the listing's fitting rule
/// wraps what is left. Cells must already be escaped.
pub(crate) fn report(headers: &[(&str, Give)], rows: &[Vec<String>], width: usize) -> String {
    let names: Vec<&str> = headers.iter().map(|(h, _)| *h).collect();
    let n = headers.len();
    let data: Vec<usize> = (0..n)
        .map(|c| {
            rows.iter()
                .map(|r| r.get(c).map_or(0, |t| block_width(t)))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let natural: Vec<usize> = (0..n).map(|c| data[c].max(block_width(names[c]))).collect();
    if total_width(&natural) <= width {
        return table(&names, rows, Align::Left, None);
    }
    let usable = width.saturating_sub(total_width(&vec![0; n]));
    let header_word = |c: usize| {
        names[c]
            .split_whitespace()
            .map(line_width)
            .max()
            .unwrap_or(0)
    };
    let floor = |at: usize| -> Vec<usize> {
        (0..n)
            .map(|c| match headers[c].1 {
                Give::Keep => natural[c],
                _ => data[c].min(at).max(header_word(c)).min(natural[c]),
            })
            .collect()
    };
    let gives = |c: usize| headers[c].1 != Give::Keep;
    let mut widths = natural.clone();
    shrink(
        &mut widths,
        &floor(WRAP_FLOOR),
        |c| headers[c].1 == Give::Wrap,
        usable,
    );
    shrink(
        &mut widths,
        &floor(CUT_FLOOR),
        |c| headers[c].1 == Give::Cut,
        usable,
    );
    shrink(&mut widths, &floor(MIN_WIDTH), gives, usable);
    let fitted_headers: Vec<String> = (0..n)
        .map(|c| wrap(names[c], widths[c]).join("\n"))
        .collect();
    let fitted_rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            (0..n)
                .map(|c| {
                    let text = r.get(c).map_or("", String::as_str);
                    match headers[c].1 {
                        Give::Keep => text.to_string(),
                        Give::Cut => cut_keeping_pool(text, widths[c]),
                        Give::Wrap => wrap_clauses(text, widths[c]).join("\n"),
                    }
                })
                .collect()
        })
        .collect();
    let header_refs: Vec<&str> = fitted_headers.iter().map(String::as_str).collect();
    table(&header_refs, &fitted_rows, Align::Left, Some(width))
}

/// Wraps a verdict or a reason: when it does not fit, each of its `; `-separated clauses
/// (outside parentheses) starts a line, so that each reason reads on its own.
fn wrap_clauses(text: &str, width: usize) -> Vec<String> {
    if line_width(text) <= width {
        return vec![text.to_string()];
    }
    let mut lines = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'(' => depth += 1,
            b')' => depth -= 1,
            b';' if depth == 0 && bytes.get(i + 1) == Some(&b' ') => {
                lines.extend(wrap(&text[start..=i], width));
                start = i + 2;
            }
            _ => {}
        }
    }
    lines.extend(wrap(&text[start..], width));
    lines
}

/// A note line (above a plan table) within `width` columns: wrapped at spaces, each further
/// line indented by two spaces (a word wider than a line stays whole). Ends with a newline.
pub(crate) fn note_line(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let room = if out.is_empty() {
            width
        } else {
            width.saturating_sub(2)
        };
        if !line.is_empty() && line_width(&line) + 1 + line_width(word) > room {
            out.push_str(if out.is_empty() { "" } else { "  " });
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(if out.is_empty() { "" } else { "  " });
    out.push_str(&line);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fit(data: usize, header: usize, word: usize, piece: usize) -> Fit {
        Fit {
            data,
            header,
            word,
            piece,
        }
    }

    #[test]
    fn centring_follows_prettytable() {
        // The odd space goes right for odd-length text, left for even-length text.
        let t = table(
            &["Status"],
            &[vec!["up".into()], vec!["n".into()], vec!["enabled".into()]],
            Align::Center,
            None,
        );
        assert_eq!(
            t,
            "+---------+\n\
             |  Status |\n\
             +---------+\n\
             |    up   |\n\
             |    n    |\n\
             | enabled |\n\
             +---------+\n"
        );
        let t = table(
            &["x"],
            &[
                vec!["cinder-backup".into()],
                vec!["cinder-scheduler".into()],
            ],
            Align::Center,
            None,
        );
        assert!(t.contains("|  cinder-backup   |"), "{t}");
    }

    #[test]
    fn wrap_breaks_at_spaces_then_wrap_points_then_anywhere() {
        assert_eq!(wrap("in use: 1 volume", 8), ["in use:", "1 volume"]);
        assert_eq!(
            wrap("node01@backend-2813902f-2c94", 16),
            ["node01@backend-", "2813902f-2c94"]
        );
        assert_eq!(
            wrap("node01@backend-2813902f-2c94", 9),
            ["node01@", "backend-", "2813902f-", "2c94"]
        );
        assert_eq!(wrap("node01@lvm#pool-a", 11), ["node01@lvm#", "pool-a"]);
        assert_eq!(
            wrap("2021-01-12T09:28:10.000000", 16),
            ["2021-01-12T", "09:28:10.000000"]
        );
        // A T that is not between digits is a letter like any other.
        assert_eq!(wrap("Tokyo-Tower", 6), ["Tokyo-", "Tower"]);
        // Only a piece longer than the column is broken inside, on a line of its own.
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("ab abcdefghij", 5), ["ab", "abcde", "fghij"]);
        assert_eq!(
            wrap("2021-01-12T09:28:10.000000", 12),
            ["2021-01-12T", "09:28:10.000", "000"]
        );
        assert_eq!(wrap("", 4), [""]);
        assert_eq!(wrap("short", 10), ["short"]);
        for text in [
            "2021-01-12T09:28:10.000000",
            "a - b -- c @ d#",
            "x  y   z",
            "é✓漢字 wide",
        ] {
            for w in 1..12 {
                for l in wrap(text, w) {
                    assert!(line_width(&l) <= w.max(2), "{text:?} at {w}: {l:?}");
                }
            }
        }
    }

    /// Why the wrapping is svcctl's own: tabled's `Width::wrap` keeps words only at spaces,
    /// so a host name (one word) breaks wherever the column ends.
    #[test]
    fn tableds_own_wrap_would_split_host_names_mid_word() {
        use tabled::settings::Width;
        let host = "node01@backend-2813902f-2c94";
        let mut t = tabled::builder::Builder::from_iter([[host]]).build();
        t.with(Style::ascii())
            .with(Width::wrap(13).keep_words(true));
        let theirs: Vec<String> = t
            .to_string()
            .lines()
            .filter(|l| l.starts_with('|'))
            .map(|l| l.trim_matches(['|', ' ']).to_string())
            .collect();
        assert_eq!(theirs, ["node01@ba", "ckend-281", "3902f-2c9", "4"]);
        assert_eq!(wrap(host, 9), ["node01@", "backend-", "2813902f-", "2c94"]);
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
    fn cells_with_line_breaks_tabs_and_wide_characters() {
        let rows = vec![
            vec!["a\r\nbb".to_string(), "tab\there".to_string()],
            vec!["漢字".to_string(), "x".to_string()],
        ];
        assert_eq!(
            table(&["H", "Reason"], &rows, Align::Center, None),
            "+------+----------+\n\
             |  H   |  Reason  |\n\
             +------+----------+\n\
             |  a   | tab here |\n\
             |  bb  |          |\n\
             | 漢字 |    x     |\n\
             +------+----------+\n"
        );
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
                assert!(line_width(l) <= target.max(42), "{target}:\n{t}");
                assert!(l.starts_with(['+', '|']) && l.ends_with(['+', '|']), "{t}");
            }
            let joined: String = t.split_whitespace().collect();
            assert!(joined.contains("2c94"), "{t}");
        }
        let t = table(&headers, &rows, Align::Left, Some(50));
        assert!(t.lines().all(|l| line_width(l) <= 50), "{t}");
    }

    #[test]
    fn slack_goes_first() {
        // The last column's header is wider than its data: it gives that up first, down to
        // its header's longest word, and the host keeps its width.
        let cols = [fit(28, 4, 4, 9), fit(1, 15, 8, 1)];
        assert_eq!(fit_widths(&cols, 36), vec![28, 8]);
        // What is left over goes back to it.
        assert_eq!(fit_widths(&cols, 39), vec![28, 11]);
        // Then the widest shrink, down to their longest piece: no word breaks.
        let cols = [
            fit(16, 6, 6, 9),
            fit(28, 4, 4, 9),
            fit(26, 10, 10, 15),
            fit(1, 15, 8, 1),
        ];
        assert_eq!(fit_widths(&cols, 58), vec![16, 17, 17, 8]);
        assert_eq!(fit_widths(&cols, 41), vec![9, 9, 15, 8]);
        // Then below the pieces, the widest first, never below the header's word or 8.
        assert_eq!(fit_widths(&cols, 38), vec![9, 9, 12, 8]);
        assert_eq!(fit_widths(&cols, 34), vec![8, 8, 10, 8]);
    }

    #[test]
    fn the_floor_is_the_header_word_or_8() {
        // No column below its header's longest word (or cliff's 8), unless it needs less.
        let cols = [fit(30, 10, 10, 30), fit(30, 4, 4, 30), fit(3, 5, 5, 3)];
        assert_eq!(fit_widths(&cols, 23), vec![10, 8, 5]);
        // When even the floors cannot fit: equal shares, and the table overflows no more.
        assert_eq!(fit_widths(&cols, 15), vec![5, 5, 5]);
        assert_eq!(fit_widths(&[fit(20, 2, 2, 20); 2], 10), vec![5, 5]);
    }

    #[test]
    fn widths_share_what_is_left() {
        // cliff's example: narrow columns keep their width, wide ones share the rest.
        let cols = [fit(2, 2, 2, 2), fit(30, 2, 2, 30), fit(30, 2, 2, 30)];
        assert_eq!(fit_widths(&cols, 40), vec![2, 19, 19]);
        let cols = [fit(2, 2, 2, 2), fit(30, 2, 2, 30), fit(31, 2, 2, 31)];
        assert_eq!(fit_widths(&cols, 41), vec![2, 19, 20]);
    }

    #[test]
    fn a_report_cuts_hosts_keeping_pools_and_wraps_verdicts_to_fit() {
        assert_eq!(
            cut_keeping_pool("node02@backend-2813902f-2c94#nvme", 24),
            "node02@backend-281…#nvme"
        );
        assert_eq!(
            cut_keeping_pool("node02@backend-2813902f-2c94", 20),
            "node02@backend-2813…"
        );
        let rows = vec![
            vec![
                "21".to_string(),
                "cinder-volume".to_string(),
                "node02@backend-2813902f-2c94".to_string(),
                "10d ago".to_string(),
                "refuse: in use: 1 volume; backend in use: 1 volume".to_string(),
            ],
            vec![
                "19".to_string(),
                "cinder-scheduler".to_string(),
                "node02".to_string(),
                "10d ago".to_string(),
                "delete".to_string(),
            ],
        ];
        let headers = [
            ("ID", Give::Keep),
            ("Binary", Give::Keep),
            ("Host", Give::Cut),
            ("Heartbeat", Give::Keep),
            ("Verdict", Give::Wrap),
        ];
        let t = report(&headers, &rows, 80);
        assert!(t.lines().all(|l| line_width(l) <= 80), "{t}");
        // Keep columns whole; each clause of the verdict on a line of its own.
        assert!(
            t.contains("| cinder-scheduler |") && t.contains("| 10d ago "),
            "{t}"
        );
        assert!(
            t.contains("| 1 volume;  ") && t.contains("| backend in use: |"),
            "{t}"
        );
        assert!(t.contains("node02@backend-28"), "{t}");
        assert!(t.contains('…'), "{t}");
        // Room enough: the table as it is.
        let names: Vec<&str> = headers.iter().map(|h| h.0).collect();
        assert_eq!(
            report(&headers, &rows, 200),
            table(&names, &rows, Align::Left, None)
        );
    }

    #[test]
    fn a_note_line_wraps_at_spaces_indented() {
        assert_eq!(note_line("short", 80), "short\n");
        assert_eq!(note_line("aaa bbb ccc ddd", 8), "aaa bbb\n  ccc\n  ddd\n");
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

    /// A table of these cells (rows of `headers.len()`), drawn both ways.
    fn both_ways(headers: &[&str], cells: &[String], align: Align) -> (String, String) {
        let mut t = Cells::new(headers.len());
        for c in cells {
            t.push(c);
        }
        let draw = |compact| {
            let mut out = Vec::new();
            t.draw(&mut out, headers, None, align, None, compact)
                .unwrap();
            String::from_utf8(out).unwrap()
        };
        (draw(true), draw(false))
    }

    /// Headers (1 to 6) and whole rows of cells for them.
    fn tables(cell: &'static str) -> impl Strategy<Value = (Vec<String>, Vec<String>)> {
        (1usize..=6).prop_flat_map(move |n| {
            (
                proptest::collection::vec("[A-Za-z_ ]{1,12}", n),
                proptest::collection::vec(proptest::collection::vec(cell, n), 0..=5)
                    .prop_map(|rows| rows.concat()),
            )
        })
    }

    proptest! {
        /// tabled's compact grid (one-line tables) and its general grid draw the same bytes.
        #[test]
        fn compact_and_general_grids_agree(
            (headers, cells) in tables("[ -~]{0,14}"),
            centre in any::<bool>(),
        ) {
            let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
            let align = if centre { Align::Center } else { Align::Left };
            let (compact, general) = both_ways(&headers, &cells, align);
            prop_assert_eq!(compact, general);
        }

        /// A fitted table is never wider than asked when the floors leave room (each
        /// column's header word or 8, or less if it needs less, and the borders), and it is
        /// always a grid: every line as wide as the first, framed.
        #[test]
        fn a_fitted_table_never_exceeds_the_width_the_floors_allow(
            (headers, cells) in tables("[a-z0-9@#T. -]{0,30}|[a-zé✓漢字 -]{0,12}"),
            target in 10usize..140,
            centre in any::<bool>(),
        ) {
            let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();
            let rows: Vec<Vec<String>> = cells
                .chunks(headers.len())
                .map(<[String]>::to_vec)
                .collect();
            let align = if centre { Align::Center } else { Align::Left };
            let t = table(&header_refs, &rows, align, Some(target));
            let floors: usize = (0..headers.len())
                .map(|c| {
                    let word = headers[c].split_whitespace().map(line_width).max().unwrap_or(0);
                    let data = rows.iter().map(|r| block_width(&r[c])).max().unwrap_or(0);
                    data.max(word).min(MIN_WIDTH.max(word))
                })
                .sum();
            let widths: Vec<usize> = t.lines().map(line_width).collect();
            if total_width(&vec![0; headers.len()]) + floors <= target {
                prop_assert!(widths.iter().all(|&w| w <= target), "{}:\n{}", target, t);
            }
            prop_assert!(widths.iter().all(|&w| w == widths[0]), "{}", t);
            prop_assert!(t.lines().all(|l| l.starts_with(['+', '|']) && l.ends_with(['+', '|'])));
        }
    }

    #[test]
    fn sorted_by_cells_as_strings() {
        let mut cells = Cells::new(2);
        for c in ["b", "1", "a", "2", "a", "10", "B", "0"] {
            cells.push(c);
        }
        // Code point order: "B" < "a" < "b"; "10" < "2".
        assert_eq!(cells.sorted(), vec![3, 2, 1, 0]);
    }
}
