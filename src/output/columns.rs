//! The columns of the services listing: each one's table header, JSON key and value.

use chrono::NaiveDateTime;
use serde::{Serialize, Serializer};

use crate::error::Failure;
use crate::model::Service;

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
            (x, y) => x.csv_text().cmp(&y.csv_text()),
        }
    };
    services.sort_by(|a, b| {
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
/// `format_time`.
pub(crate) fn plan_time(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Times as cinderclient shows them: `2021-01-12T09:28:10.000000`.
pub(crate) fn format_time(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
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
    /// In a table or `value` output: NULL as `-` and Python's booleans (cinderclient's way).
    /// Text from the database is shown through `text::human`: a control character in a value
    /// never reaches the terminal, and a newline in it never makes a new row.
    pub fn table_text(&self) -> String {
        match self {
            Cell::Null => "-".into(),
            Cell::Bool(b) => if *b { "True" } else { "False" }.into(),
            other => other.csv_text(),
        }
    }

    /// In CSV: NULL as an empty field, booleans as JSON writes them; text escaped as in
    /// `table_text` (a script reading CSV gets no terminal escapes either).
    pub fn csv_text(&self) -> String {
        match self {
            Cell::Null => String::new(),
            Cell::Int(n) => n.to_string(),
            Cell::Text(s) => crate::text::human(s).into_owned(),
            Cell::Time(t) => format_time(*t),
            Cell::Bool(b) => b.to_string(),
            Cell::Invalid(s) => format!("invalid: {}", crate::text::human(s)),
        }
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
            Cell::Time(t) => s.serialize_str(&format_time(*t)),
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
    fn default_json_leaves_out_the_deleted_columns() {
        assert!(!json_columns(false).contains(&Deleted));
        assert!(!json_columns(false).contains(&DeletedAt));
        assert_eq!(json_columns(false).len() + 2, json_columns(true).len());
    }
}
