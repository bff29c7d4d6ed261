//! The columns of the services listing: each one's table header, JSON key and value.

use chrono::NaiveDateTime;
use serde::{Serialize, Serializer};

use crate::error::Failure;
use crate::model::Service;
use crate::timefmt::TimeText;

/// Declares `Column` (a column of `service list`, and of every service object in a JSON
/// result), `Column::ALL` in table order, and each column's header and JSON key, from one table
/// so that they can never disagree.
macro_rules! columns {
    ($($name:ident => $header:literal, $key:literal;)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum Column {
            $($name,)*
        }

        impl Column {
            /// Every column, in JSON key order. The keys are a stable interface: scripts
            /// depend on them.
            pub const ALL: &[Column] = &[$(Column::$name,)*];

            /// The table header, as cinderclient prints it.
            pub fn header(self) -> &'static str {
                match self {
                    $(Column::$name => $header,)*
                }
            }

            /// The JSON key.
            pub fn key(self) -> &'static str {
                match self {
                    $(Column::$name => $key,)*
                }
            }
        }
    };
}

columns! {
    Id => "ID", "id";
    Uuid => "UUID", "uuid";
    Binary => "Binary", "binary";
    Host => "Host", "host";
    Zone => "Zone", "zone";
    Status => "Status", "status";
    State => "State", "state";
    UpdatedAt => "Updated_at", "updated_at";
    ModifiedAt => "Modified_at", "modified_at";
    CreatedAt => "Created_at", "created_at";
    DisabledReason => "Disabled Reason", "disabled_reason";
    Cluster => "Cluster", "cluster_name";
    ReplicationStatus => "Replication Status", "replication_status";
    ActiveBackendId => "Active Backend ID", "active_backend_id";
    Frozen => "Frozen", "frozen";
    Deleted => "Deleted", "deleted";
    DeletedAt => "Deleted_at", "deleted_at";
}

use Column::*;

impl Column {
    /// This column's value for a service.
    pub fn value(self, s: &Service) -> Cell<'_> {
        fn text(v: &Option<String>) -> Cell<'_> {
            v.as_deref().map_or(Cell::Null, Cell::Text)
        }
        let r = &s.row;
        let time = |v: Option<NaiveDateTime>| v.map_or(Cell::Null, Cell::Time);
        // A value the database holds that is not of the column's type: shown as stored
        // (`invalid: 2026-00-15`), never the end of the listing.
        if let Some(bad) = r.invalid.iter().find(|i| key_of(i.column) == self.key()) {
            return Cell::Invalid(&bad.value);
        }
        match self {
            Id => Cell::Int(r.id),
            Uuid => text(&r.uuid),
            Binary => text(&r.binary),
            Host => text(&r.host),
            Zone => text(&r.availability_zone),
            Status => Cell::Text(s.status()),
            State => Cell::Text(s.state()),
            // As `cinder service-list` and Cinder's API show it: see `model::shown_updated_at`.
            UpdatedAt => time(s.updated_at),
            ModifiedAt => time(r.modified_at),
            CreatedAt => time(r.created_at),
            DisabledReason => text(&r.disabled_reason),
            Cluster => text(&r.cluster_name),
            ReplicationStatus => text(&r.replication_status),
            ActiveBackendId => text(&r.active_backend_id),
            Frozen => r.frozen.map_or(Cell::Null, Cell::Bool),
            Deleted => Cell::Bool(r.deleted.unwrap_or(false)),
            DeletedAt => time(r.deleted_at),
        }
    }
}

/// The columns `cinder service-list` shows, in its order.
pub(crate) fn cinder_columns(with_replication: bool, include_deleted: bool) -> Vec<Column> {
    let mut cols = vec![Binary, Host, Zone, Status, State, UpdatedAt];
    if with_replication {
        cols.extend([ReplicationStatus, ActiveBackendId, Frozen]);
    }
    cols.push(DisabledReason);
    if include_deleted {
        cols.push(DeletedAt);
    }
    cols
}

/// CSV's columns by default: the table's, with `Modified_at` (as stored) after `Updated_at`
/// (as Cinder shows it), so scripts see both.
pub(crate) fn csv_columns(with_replication: bool, include_deleted: bool) -> Vec<Column> {
    let mut cols = cinder_columns(with_replication, include_deleted);
    cols.insert(6, ModifiedAt);
    cols
}

/// The JSON keys shown by default: every column but `deleted` and `deleted_at` (the last two)
/// unless `include_deleted`.
pub(crate) fn json_columns(include_deleted: bool) -> &'static [Column] {
    let all = Column::ALL;
    if include_deleted {
        all
    } else {
        &all[..all.len() - 2]
    }
}

/// The column a `-c` or `--sort-column` name means: a header (`Updated_at`, `disabled
/// reason`) or a JSON key (`updated_at`), case, spaces and dashes aside (cliff's normalising).
pub(crate) fn find_column(name: &str) -> Option<Column> {
    let norm = |s: &str| s.trim().to_lowercase().replace([' ', '-'], "_");
    Column::ALL
        .iter()
        .find(|c| norm(c.header()) == norm(name) || c.key() == norm(name))
        .copied()
}

/// Resolves `-c` names; an unknown one is a usage error listing the valid names.
pub(crate) fn select_columns(names: &[String]) -> Result<Vec<Column>, Failure> {
    resolve_columns(names, Column::ALL, Column::header, Column::key)
}

/// Resolves `-c` names among `all`, by header or key; an unknown one is a usage error listing
/// the keys. Every list command's `-c` goes through here.
pub(crate) fn resolve_columns<C: Copy>(
    names: &[String],
    all: &[C],
    header: fn(C) -> &'static str,
    key: fn(C) -> &'static str,
) -> Result<Vec<C>, Failure> {
    let norm = |s: &str| s.to_lowercase().replace([' ', '-'], "_");
    names
        .iter()
        .map(|n| {
            all.iter()
                .find(|c| norm(header(**c)) == norm(n) || key(**c) == norm(n))
                .copied()
                .ok_or_else(|| {
                    Failure::Usage(format!(
                        "unknown column {} for -c; choose from {}",
                        crate::text::quote(n),
                        all.iter().map(|c| key(*c)).collect::<Vec<_>>().join(", ")
                    ))
                })
        })
        .collect()
}

/// cliff's sort (`--sort-column`): stable, by each column in turn, the first given first; NULL
/// after every value ascending (before, descending), numbers as numbers.
pub(crate) fn sort_services(services: &mut [Service], by: &[Column], descending: bool) {
    use std::cmp::Ordering;
    let cmp = |a: &Cell, b: &Cell| -> Ordering {
        match (a, b) {
            (Cell::Null, Cell::Null) => Ordering::Equal,
            (Cell::Null, _) => Ordering::Greater,
            (_, Cell::Null) => Ordering::Less,
            (Cell::Int(x), Cell::Int(y)) => x.cmp(y),
            (Cell::Bool(x), Cell::Bool(y)) => x.cmp(y),
            (Cell::Time(x), Cell::Time(y)) => x.cmp(y),
            (x, y) => x.with_csv_text(|x| y.with_csv_text(|y| x.cmp(y))),
        }
    };
    sort_rows(services, |a, b| {
        by.iter()
            .map(|c| cmp(&c.value(a), &c.value(b)))
            .find(|o| o.is_ne())
            .map_or(
                Ordering::Equal,
                |o| if descending { o.reverse() } else { o },
            )
    });
}

/// Times in svcctl's own tables and notes (plans, results, refusals): UTC to the second,
/// `2026-12-02 04:16:27`, as MySQL stores them and narrow enough for an 80-column plan.
/// Listings (`service list`, `cluster list`) and every JSON/YAML document keep Cinder's form,
/// `timefmt::text`.
pub(crate) fn plan_time(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// How long before `now` `t` was, for a plan table's Heartbeat column: `10d 3h ago`,
/// `2h 5m ago`, `7m ago`, `45s ago` (`in 5s` ahead of `now`): the two largest units, seconds
/// only under a minute, rounded to the smallest unit shown (a heartbeat ten days and a
/// fraction of a second before a plan's whole-second `now` is `10d ago`, not `9d 23h ago`). A tenth of a timestamp's width, which is what lets a plan of the
/// seed's 28-character hosts stay within 80 columns; JSON keeps the time itself.
pub(crate) fn age(t: NaiveDateTime, now: NaiveDateTime) -> String {
    let secs = (now - t).num_seconds();
    let n = secs.unsigned_abs();
    let two = |big: u64, a: &str, small: u64, b: &str| {
        if small > 0 {
            format!("{big}{a} {small}{b}")
        } else {
            format!("{big}{a}")
        }
    };
    let span = if n >= 86_400 {
        let hours = (n + 1_800) / 3_600;
        two(hours / 24, "d", hours % 24, "h")
    } else if n >= 3_600 {
        let minutes = (n + 30) / 60;
        two(minutes / 60, "h", minutes % 60, "m")
    } else if n >= 60 {
        format!("{}m", (n + 30) / 60)
    } else {
        format!("{n}s")
    };
    if secs < 0 {
        format!("in {span}")
    } else {
        format!("{span} ago")
    }
}

/// Sorts `rows` stably by `cmp`, moving each row once: the sort itself moves positions, not
/// the rows (a service is 300 bytes; a stable sort of them set half of them aside, and an
/// unstable one swapped them at every step), then the rows follow the order in one pass.
pub(crate) fn sort_rows<T>(rows: &mut [T], cmp: impl Fn(&T, &T) -> std::cmp::Ordering) {
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&a, &b| cmp(&rows[a], &rows[b]));
    // Position j takes the row at order[j]: follow each cycle, swapping along it.
    for i in 0..rows.len() {
        let mut j = i;
        loop {
            let k = order[j];
            order[j] = j;
            if k == i {
                break;
            }
            rows.swap(j, k);
            j = k;
        }
    }
}

/// One value of a column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Cell<'a> {
    Null,
    Int(i64),
    Text(&'a str),
    Time(NaiveDateTime),
    Bool(bool),
    /// A value the database holds that is not of the column's type, as stored (a zero date).
    Invalid(&'a str),
}

impl Cell<'_> {
    /// In a table: NULL as `-` and Python's booleans (cinderclient's way). Text from the
    /// database is shown through `text::human`: a control character in a value never reaches
    /// the terminal, and a newline in it never makes a new row.
    pub fn table_text(&self) -> String {
        self.with_table_text(str::to_string)
    }

    /// In CSV, as cliff's csv formatter (Python's csv module) writes a row: NULL as an empty
    /// field, booleans as Python's `True`/`False`; text escaped as in `table_text` (a script
    /// reading CSV gets no terminal escapes either).
    pub fn csv_text(&self) -> String {
        self.with_csv_text(str::to_string)
    }

    /// `f` of the table text, built on the stack: no allocation per cell.
    pub fn with_table_text<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        match self {
            Cell::Null => f("-"),
            other => other.with_csv_text(f),
        }
    }

    /// `f` of the `-f value` text, as cliff's value formatter writes a cell (Python's `str`):
    /// NULL as `None`, booleans as `True`/`False`, the rest as in the table.
    pub fn with_value_text<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        match self {
            Cell::Null => f("None"),
            other => other.with_csv_text(f),
        }
    }

    /// `f` of the CSV text, built on the stack.
    pub fn with_csv_text<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        match self {
            Cell::Null => f(""),
            Cell::Int(n) => {
                let mut buf = [0u8; 20];
                let mut v = n.unsigned_abs();
                let mut at = buf.len();
                loop {
                    at -= 1;
                    buf[at] = b'0' + (v % 10) as u8;
                    v /= 10;
                    if v == 0 {
                        break;
                    }
                }
                if *n < 0 {
                    at -= 1;
                    buf[at] = b'-';
                }
                f(std::str::from_utf8(&buf[at..]).expect("digits"))
            }
            Cell::Text(s) => f(&crate::text::human(s)),
            Cell::Time(t) => f(TimeText::new(*t).as_str()),
            Cell::Bool(b) => f(if *b { "True" } else { "False" }),
            Cell::Invalid(s) => f(&format!("invalid: {}", crate::text::human(s))),
        }
    }

    /// Appends the table text to `out`.
    pub fn push_table_text(&self, out: &mut String) {
        self.with_table_text(|t| out.push_str(t));
    }
}

/// Orders two cells as their table texts compare, code point by code point (as cinderclient's
/// prettytable sorts), without building either.
pub(crate) fn cmp_table_text(a: &Cell, b: &Cell) -> std::cmp::Ordering {
    match (a, b) {
        (Cell::Text(x), Cell::Text(y)) => x.cmp(y),
        _ => a.with_table_text(|x| b.with_table_text(|y| x.cmp(y))),
    }
}

impl Serialize for Cell<'_> {
    /// Exact: JSON's and YAML's own escaping keeps every value as stored. A value that is not
    /// of its column's type is null (the row's `invalid` says what is stored).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Cell::Null | Cell::Invalid(_) => s.serialize_none(),
            Cell::Int(n) => s.serialize_i64(*n),
            Cell::Text(t) => s.serialize_str(t),
            Cell::Time(t) => s.serialize_str(TimeText::new(*t).as_str()),
            Cell::Bool(b) => s.serialize_bool(*b),
        }
    }
}

/// A service as a JSON object of the given columns, serialized straight to the writer: no
/// map is built per row while streaming.
pub(crate) struct ServiceJson<'a> {
    pub service: &'a Service,
    pub cols: &'a [Column],
}

impl Serialize for ServiceJson<'_> {
    /// The columns' keys, and `invalid` (`{"updated_at": "2026-00-15"}`) only on a row with a
    /// value that is not of its column's type, whose key then holds null.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let invalid = &self.service.row.invalid;
        let mut map = s.serialize_map(Some(self.cols.len() + usize::from(!invalid.is_empty())))?;
        for c in self.cols {
            map.serialize_entry(c.key(), &c.value(self.service))?;
        }
        if !invalid.is_empty() {
            let notes: Vec<(&str, &str)> = invalid
                .iter()
                .map(|i| (key_of(i.column), i.value.as_str()))
                .collect();
            map.serialize_entry("invalid", &InvalidNote(&notes))?;
        }
        map.end()
    }
}

/// A stored column's name as `service list -f json` keys it (`availability_zone` is `zone`).
fn key_of(column: &str) -> &str {
    match column {
        "availability_zone" => "zone",
        "disabled" => "status",
        other => other,
    }
}

/// `{"column": "value as stored", ...}`.
struct InvalidNote<'a>(&'a [(&'a str, &'a str)]);

impl Serialize for InvalidNote<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_in_two_units_rounded() {
        let now =
            NaiveDateTime::parse_from_str("2026-12-07 01:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
        let ago = |s: i64| age(now - chrono::Duration::seconds(s), now);
        assert_eq!(ago(0), "0s ago");
        assert_eq!(ago(45), "45s ago");
        assert_eq!(ago(599), "10m ago");
        assert_eq!(ago(601), "10m ago");
        assert_eq!(ago(7_199), "2h ago");
        assert_eq!(ago(7_500), "2h 5m ago");
        assert_eq!(ago(10 * 86_400 - 1), "10d ago");
        assert_eq!(ago(10 * 86_400 + 3 * 3_600), "10d 3h ago");
        assert_eq!(ago(-5), "in 5s");
    }
    use proptest::prelude::*;

    proptest! {
        /// Comparing cells as they come orders them as their table texts would.
        #[test]
        fn cells_compare_as_their_text(
            a in cell_strategy(), b in cell_strategy(),
        ) {
            let (a, b) = (a.cell(), b.cell());
            prop_assert_eq!(cmp_table_text(&a, &b), a.table_text().cmp(&b.table_text()));
        }
    }

    /// A cell's value, owned, for generating.
    #[derive(Debug, Clone)]
    enum Owned {
        Null,
        Int(i64),
        Text(String),
        Time(NaiveDateTime),
        Bool(bool),
    }

    impl Owned {
        fn cell(&self) -> Cell<'_> {
            match self {
                Owned::Null => Cell::Null,
                Owned::Int(n) => Cell::Int(*n),
                Owned::Text(t) => Cell::Text(t),
                Owned::Time(t) => Cell::Time(*t),
                Owned::Bool(b) => Cell::Bool(*b),
            }
        }
    }

    fn cell_strategy() -> impl Strategy<Value = Owned> {
        prop_oneof![
            Just(Owned::Null),
            any::<i64>().prop_map(Owned::Int),
            "[-0-9A-Za-z@#. Tf]{0,12}".prop_map(Owned::Text),
            (0i64..400_000_000_000).prop_map(|s| Owned::Time(
                chrono::DateTime::from_timestamp(s - 62_000_000_000, 0)
                    .unwrap()
                    .naive_utc()
            )),
            any::<bool>().prop_map(Owned::Bool),
        ]
    }

    proptest! {
        /// `sort_rows` is a stable sort.
        #[test]
        fn rows_sort_stably(v in proptest::collection::vec((0u8..5, any::<u16>()), 0..60)) {
            let mut want = v.clone();
            want.sort_by_key(|p| p.0);
            let mut got = v;
            sort_rows(&mut got, |a, b| a.0.cmp(&b.0));
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn numbers_and_times_as_text() {
        assert_eq!(Cell::Int(i64::MIN).table_text(), i64::MIN.to_string());
        assert_eq!(Cell::Int(0).csv_text(), "0");
        assert_eq!(Cell::Int(-7).csv_text(), "-7");
        assert_eq!(Cell::Null.table_text(), "-");
        assert_eq!(Cell::Null.csv_text(), "");
        assert_eq!(Cell::Bool(true).table_text(), "True");
        assert_eq!(Cell::Bool(false).csv_text(), "False");
        // -f value: Python's str of each value, as cliff writes it.
        assert_eq!(Cell::Null.with_value_text(str::to_string), "None");
        assert_eq!(Cell::Bool(true).with_value_text(str::to_string), "True");
    }

    #[test]
    fn default_json_leaves_out_the_deleted_columns() {
        assert!(!json_columns(false).contains(&Deleted));
        assert!(!json_columns(false).contains(&DeletedAt));
        assert_eq!(json_columns(false).len() + 2, json_columns(true).len());
    }
}
