//! The audit log's transactions, as the write runner and every reader must take them.
//!
//! A transaction is its intent lines (one per changed row, appended and synced before COMMIT)
//! and at most one end: `committed` (the COMMIT was acknowledged, or found to have landed),
//! `rolled_back` or `outcome_unknown`. Only `committed` confirms it. A transaction left
//! unconfirmed (svcctl was killed, or interrupted twice, while its COMMIT was in flight; an
//! older svcctl that wrote no confirmations; `outcome_unknown`) may or may not be in the
//! database. [`Landed`] is the read-back that tells, built from the intent lines alone: the
//! runner runs it when a COMMIT's answer is lost, and readers (`service restore`,
//! `move-host --undo`, through [`Outcomes`]) run it on every unconfirmed transaction they would
//! act on, before acting on it.

use std::collections::{BTreeSet, HashMap};

use anyhow::Result;
use chrono::NaiveDateTime;

use super::record::{Event, Line};
use crate::db::{Conn, Db, Dialect, Schema, Stmt};

/// A read that finds one transaction's write by the mark it left on the rows it changed.
pub(crate) struct Landed {
    /// `SELECT COUNT(*) ...` of those rows that carry the mark, locking them (so it waits for a
    /// transaction the server still holds open).
    pub count: Stmt,
    /// The count when the transaction committed (0 when it did not).
    pub expect: i64,
    /// What an operator should look at to tell, in a phrase.
    pub check: String,
    /// The mark is the transaction's own (its instant, on the rows it changed): one row that
    /// still carries it proves the transaction committed, whatever changed the others since.
    own: bool,
}

/// What a read-back found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Landed,
    NotLanded,
    /// Some of the rows carry a mark that is not the transaction's own: svcctl cannot tell.
    Partly(i64),
}

/// Whether a line is an intent (a changed row) rather than an end, or a kind svcctl does not
/// know.
fn is_intent(l: &Line) -> bool {
    !matches!(
        l.event,
        Event::Committed | Event::RolledBack | Event::OutcomeUnknown | Event::Other
    )
}

/// The tables a host move changes, as svcctl names them in SQL; never a name read from a line.
const MOVED_TABLES: [&str; 4] = ["volumes", "groups", "consistencygroups", "backups"];

impl Landed {
    pub fn judge(&self, n: i64) -> Verdict {
        if n == self.expect || (self.own && n > 0) {
            Verdict::Landed
        } else if n == 0 {
            Verdict::NotLanded
        } else {
            Verdict::Partly(n)
        }
    }

    /// The read-back of the transaction whose intent lines are `lines` (its own, all or some of
    /// them), on a database of `schema`. None when they change nothing, or do not say what
    /// they changed (a line svcctl did not write as it stands).
    pub fn of(lines: &[&Line], schema: &Schema, d: Dialect) -> Option<Landed> {
        let intents: Vec<&Line> = lines.iter().copied().filter(|l| is_intent(l)).collect();
        let first = intents.first()?;
        let now = chrono::DateTime::parse_from_rfc3339(&first.time)
            .ok()?
            .naive_utc();
        let ids = |event: Event| -> Option<Vec<i64>> {
            let mut ids: Vec<i64> = intents
                .iter()
                .filter(|l| l.event == event)
                .map(|l| {
                    let d = &l.detail;
                    d.service
                        .as_ref()
                        .map(|s| s.id)
                        .or(d.cluster.as_ref().map(|c| c.id))
                })
                .collect::<Option<_>>()?;
            ids.sort_unstable();
            ids.dedup();
            Some(ids)
        };
        let has = |event: Event| intents.iter().any(|l| l.event == event);
        let at = d.timestamp(now);
        if has(Event::ServiceSoftDeleted) {
            let ids = ids(Event::ServiceSoftDeleted)?;
            let mut mark = Stmt::new("deleted = 1 AND deleted_at = ");
            mark.push_bind(now)
                .push(" AND updated_at = ")
                .push_bind(now);
            let check = format!(
                "services {}: deleted = 1 with deleted_at = '{at}' means the deletion committed",
                id_list(&ids)
            );
            return marked("services", &ids, &mark, d, check, true);
        }
        if has(Event::ClusterSoftDeleted) {
            let ids = ids(Event::ClusterSoftDeleted)?;
            let mut mark = Stmt::new("deleted = 1 AND deleted_at = ");
            mark.push_bind(now);
            let check = format!(
                "clusters {}: deleted = 1 with deleted_at = '{at}' means the removal committed",
                id_list(&ids)
            );
            return marked("clusters", &ids, &mark, d, check, true);
        }
        for (event, table) in [
            (Event::ServiceRestored, "services"),
            (Event::ClusterRestored, "clusters"),
        ] {
            if has(event) {
                let ids = ids(event)?;
                let check = format!(
                    "{table} {}: deleted = 0 means the restore committed",
                    id_list(&ids)
                );
                return marked(table, &ids, &Stmt::new("deleted = 0"), d, check, false);
            }
        }
        for (event, table) in [
            (Event::ServicePurged, "services"),
            (Event::ClusterPurged, "clusters"),
        ] {
            if has(event) {
                return gone(table, &ids(event)?, d);
            }
        }
        for (event, disabled) in [(Event::ServiceDisabled, 1), (Event::ServiceEnabled, 0)] {
            if has(event) {
                let ids = ids(event)?;
                let mut mark = Stmt::new(format!("disabled = {disabled}"));
                // modified_at = this transaction's instant tells it apart from anyone else's.
                let own = schema.has("services", "modified_at");
                if own {
                    mark.push(" AND modified_at = ").push_bind(now);
                }
                let check = format!(
                    "services {}: disabled = {disabled}{} means the change committed",
                    id_list(&ids),
                    if own {
                        format!(" with modified_at = '{at}'")
                    } else {
                        String::new()
                    }
                );
                return marked("services", &ids, &mark, d, check, own);
            }
        }
        if has(Event::ClusterDisabled) || has(Event::ClusterEnabled) {
            let event = if has(Event::ClusterDisabled) {
                Event::ClusterDisabled
            } else {
                Event::ClusterEnabled
            };
            let ids = ids(event)?;
            // updated_at = this transaction's instant tells it apart from anyone else's.
            let mut mark = Stmt::new("updated_at = ");
            mark.push_bind(now);
            let check = format!(
                "clusters {}: updated_at = '{at}' means the change committed",
                id_list(&ids)
            );
            return marked("clusters", &ids, &mark, d, check, true);
        }
        moved(&intents, now, schema, d)
    }
}

/// Counts the rows of `table` among `ids` whose columns match `mark`, locking them: the
/// transaction committed when all of them match (`own`: when any does).
fn marked(
    table: &str,
    ids: &[i64],
    mark: &Stmt,
    d: Dialect,
    check: String,
    own: bool,
) -> Option<Landed> {
    if ids.is_empty() {
        return None;
    }
    let mut count = Stmt::new(format!("SELECT COUNT(*) FROM {table} WHERE id IN ("));
    count
        .push_ids(ids.iter().copied())
        .push(") AND ")
        .push_stmt(mark)
        .push(d.for_update());
    Some(Landed {
        count,
        expect: i64::try_from(ids.len()).unwrap_or(i64::MAX),
        check,
        own,
    })
}

/// A purge: its rows are gone; after a rollback every one of them would still be there.
fn gone(table: &str, ids: &[i64], d: Dialect) -> Option<Landed> {
    if ids.is_empty() {
        return None;
    }
    let n = i64::try_from(ids.len()).unwrap_or(i64::MAX);
    // The rows still there, counted down from all of them: `n` when the purge committed.
    let mut count = Stmt::new(format!("SELECT {n} - COUNT(*) FROM {table} WHERE id IN ("));
    count
        .push_ids(ids.iter().copied())
        .push(")")
        .push(d.for_update());
    Some(Landed {
        count,
        expect: n,
        check: format!(
            "{table} {}: no such rows means the purge committed",
            id_list(ids)
        ),
        own: false,
    })
}

/// A host move: one transaction moved every row, so the first table with moved rows tells:
/// each of its rows on its new host, with this transaction's `updated_at` where the table has
/// one (the mark is then the transaction's own).
fn moved(intents: &[&Line], now: NaiveDateTime, schema: &Schema, d: Dialect) -> Option<Landed> {
    let on = |table: &str| -> Vec<&Line> {
        intents
            .iter()
            .copied()
            .filter(|l| l.event.action() == super::Action::Move)
            .filter(|l| l.detail.table.as_deref() == Some(table))
            .collect()
    };
    let (table, rows) = MOVED_TABLES
        .iter()
        .map(|t| (*t, on(t)))
        .find(|(_, rows)| !rows.is_empty())?;
    let mut each = Vec::new();
    let mut ids = Vec::new();
    for l in &rows {
        let id = l.detail.id.as_deref()?;
        let host = l.detail.new.as_ref()?.host.as_deref()?;
        let mut s = Stmt::new("(id = ");
        s.push_bind(id)
            .push(" AND ")
            .push_stmt(&d.eq_exact_value("host", host))
            .push(")");
        each.push(s);
        ids.push(id);
    }
    let mut count = Stmt::new(format!("SELECT COUNT(*) FROM `{table}` WHERE ("));
    count.push_stmt(&Stmt::join(&each, " OR ")).push(")");
    let own = schema.has(table, "updated_at");
    if own {
        count.push(" AND updated_at = ").push_bind(now);
    }
    count.push(d.for_update());
    Some(Landed {
        count,
        expect: i64::try_from(rows.len()).unwrap_or(i64::MAX),
        check: format!(
            "{table} {}: the new host{} means the move committed",
            ids.join(", "),
            if own {
                format!(" with updated_at = '{}'", d.timestamp(now))
            } else {
                String::new()
            }
        ),
        own,
    })
}

/// The ids as a message lists them: `3, 4, 9`.
fn id_list(ids: &[i64]) -> String {
    ids.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The locking count that finds a transaction's write (`Landed::count`), in a transaction of
/// its own that changes nothing. On Galera it first waits until this node has applied
/// everything committed in the cluster (`wsrep_sync_wait`), so a COMMIT made through another
/// node is seen.
pub(crate) async fn count_locked(conn: &mut Conn, count: &Stmt) -> Result<i64> {
    if conn.dialect() == Dialect::MySql
        && let Err(e) = conn
            .control("SET SESSION wsrep_sync_wait = @@wsrep_sync_wait | 1")
            .await
        && !matches!(e, sqlx::Error::Database(_))
    {
        // A server without Galera has no such variable (an error, harmless); a lost
        // connection is not harmless.
        return Err(e.into());
    }
    conn.control(conn.dialect().begin()).await?;
    let (n,): (i64,) = conn.fetch_one(count).await?;
    let _ = conn.control("ROLLBACK").await;
    Ok(n)
}

/// How to find out whether transaction `txn` (its intent lines `lines`, in the audit log `log`)
/// committed, in a phrase for an operator: the reader that checks it for them, or what to look
/// at (always, when there is no log to read it from).
pub(crate) fn how_to_check(
    lines: &[&Line],
    txn: &str,
    log: Option<&std::path::Path>,
    landed: &Landed,
) -> String {
    let Some(log) = log else {
        return format!("check {}", landed.check);
    };
    let log = format!(" --audit-log {}", log.display());
    let reader = lines.iter().find_map(|l| match l.event {
        Event::ServiceSoftDeleted => {
            Some(format!("svcctl service restore --txn {txn} --dry-run{log}"))
        }
        Event::VolumeHostMoved | Event::GroupHostMoved | Event::ConsistencygroupHostMoved => Some(
            format!("svcctl volume move-host --undo {txn} --dry-run{log}"),
        ),
        Event::BackupHostMoved => Some(format!(
            "svcctl backup move-host --undo {txn} --dry-run{log}"
        )),
        _ => None,
    });
    match reader {
        Some(r) => format!("`{r}` checks it in the database ({})", landed.check),
        None => format!("check {}", landed.check),
    }
}

/// How a transaction ended, for a reader.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// `committed` is on record.
    Committed,
    /// `rolled_back` is on record.
    RolledBack,
    /// No end, or `outcome_unknown`, and not checked yet.
    Open,
    /// Checked: the database shows it committed.
    Landed,
    /// Checked: the database shows none of it (it did not commit, or every row it changed
    /// was changed again since).
    NotLanded,
    /// Checked, and svcctl cannot tell (`why`).
    Unknown(String),
}

/// Each transaction of an audit log, as far as the log says and, for those it leaves open, as
/// far as the database says once checked (`resolve`).
pub(crate) struct Outcomes {
    by_txn: HashMap<String, Outcome>,
}

impl Outcomes {
    /// What the log itself says: `committed`, `rolled_back`, or open (no end, or
    /// `outcome_unknown`; both `committed` and `rolled_back`, which svcctl never writes).
    pub fn of_log(lines: &[Line]) -> Outcomes {
        // Per transaction: whether a `committed` line, and a `rolled_back` line, are on record.
        // A `rolled_back` line counts only where `replay::rolled_back` says it may (after its
        // own transaction's record, by the same writer): a stray one hides no deletion.
        let rolled_back = super::replay::rolled_back(lines);
        let mut ends: HashMap<&str, (bool, bool)> = HashMap::new();
        for l in lines {
            let seen = ends.entry(l.txn.as_str()).or_default();
            match l.event {
                Event::Committed => seen.0 = true,
                Event::RolledBack => seen.1 |= rolled_back.contains(l.txn.as_str()),
                _ => {}
            }
        }
        let by_txn = ends
            .into_iter()
            .map(|(txn, ends)| {
                let outcome = match ends {
                    (true, false) => Outcome::Committed,
                    (false, true) => Outcome::RolledBack,
                    _ => Outcome::Open,
                };
                (txn.to_string(), outcome)
            })
            .collect();
        Outcomes { by_txn }
    }

    /// Whether `txn` committed: Some(true) on record or found; Some(false) rolled back or found
    /// not there; None while open or unknown.
    pub fn landed(&self, txn: &str) -> Option<bool> {
        match self.by_txn.get(txn)? {
            Outcome::Committed | Outcome::Landed => Some(true),
            Outcome::RolledBack | Outcome::NotLanded => Some(false),
            Outcome::Open | Outcome::Unknown(_) => None,
        }
    }

    /// The transactions that did not commit (rolled back, or found not there).
    pub fn not_landed(&self) -> BTreeSet<&str> {
        self.by_txn
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::RolledBack | Outcome::NotLanded))
            .map(|(t, _)| t.as_str())
            .collect()
    }

    /// Whether `txn` is unconfirmed and not checked yet.
    pub fn is_open(&self, txn: &str) -> bool {
        self.by_txn.get(txn) == Some(&Outcome::Open)
    }

    /// Why svcctl cannot tell whether `txn` committed, once checked.
    pub fn unknown(&self, txn: &str) -> Option<&str> {
        match self.by_txn.get(txn)? {
            Outcome::Unknown(why) => Some(why),
            _ => None,
        }
    }

    /// Takes an unconfirmed transaction that cannot be told as not committed: for one a
    /// reader only narrows by (the rows it would have restored are judged in the database).
    pub fn unknown_as_not_landed(&mut self, txn: &str) {
        if let Some(o) = self.by_txn.get_mut(txn)
            && matches!(o, Outcome::Unknown(_))
        {
            *o = Outcome::NotLanded;
        }
    }

    /// Checks open transaction `txn` against the database: the read-back of its intent lines
    /// `lines` (all of them, or the rows a reader relies on); unknown when they do not say
    /// what they changed. Nothing to do when its end is on record.
    pub async fn resolve(&mut self, db: &mut Db, txn: &str, lines: &[&Line]) -> Result<()> {
        if !self.is_open(txn) {
            return Ok(());
        }
        let outcome = match Landed::of(lines, &db.schema, db.dialect) {
            None => Outcome::Unknown("its lines do not say which rows it changed, or when".into()),
            Some(landed) => {
                let what = format!("checking whether transaction {txn} committed");
                let n = db
                    .retrying(&what, async |conn| count_locked(conn, &landed.count).await)
                    .await?;
                match landed.judge(n) {
                    Verdict::Landed => Outcome::Landed,
                    Verdict::NotLanded => Outcome::NotLanded,
                    Verdict::Partly(n) => Outcome::Unknown(format!(
                        "{n} of the {} rows it changed carry its mark; check {}",
                        landed.expect, landed.check
                    )),
                }
            }
        };
        self.by_txn.insert(txn.to_string(), outcome);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::audit::{Detail, Placement};
    use crate::db::Bind;

    fn line(txn: &str, event: Event, detail: Detail) -> Line {
        Line {
            action: event.action(),
            event,
            time: "2026-03-04T05:06:07.123456Z".into(),
            txn: txn.into(),
            user: "u".into(),
            hostname: "h".into(),
            detail,
            at: 0,
        }
    }

    fn service(id: i64) -> Detail {
        let json = format!(r#"{{"service": {{"id": {id}}}}}"#);
        serde_json::from_str(&json).unwrap()
    }

    fn moved(table: &str, id: &str, host: &str) -> Detail {
        Detail {
            table: Some(table.into()),
            id: Some(id.into()),
            new: Some(Placement {
                host: Some(host.into()),
                service_uuid: None,
                cluster_name: None,
                availability_zone: None,
            }),
            ..Detail::default()
        }
    }

    fn schema() -> Schema {
        Schema::of(&[
            ("services", &["id", "modified_at"]),
            ("volumes", &["id", "host", "updated_at"]),
            ("backups", &["id", "host"]),
        ])
    }

    #[test]
    fn a_deletion_is_found_by_its_own_instant_on_its_rows() {
        let lines = [
            line("t", Event::ServiceSoftDeleted, service(4)),
            line("t", Event::ServiceSoftDeleted, service(3)),
            line("t", Event::Committed, Detail::default()),
        ];
        let refs: Vec<&Line> = lines.iter().collect();
        let l = Landed::of(&refs, &schema(), Dialect::MySql).unwrap();
        assert_eq!(
            l.count.sql(),
            "SELECT COUNT(*) FROM services WHERE id IN (3, 4) AND deleted = 1 AND deleted_at = ? \
             AND updated_at = ? FOR UPDATE"
        );
        let at = chrono::NaiveDate::from_ymd_opt(2026, 3, 4)
            .unwrap()
            .and_hms_micro_opt(5, 6, 7, 123456)
            .unwrap();
        assert_eq!(l.count.binds(), &[Bind::Time(at), Bind::Time(at)]);
        assert_eq!(l.expect, 2);
        assert!(l.check.contains("'2026-03-04 05:06:07'"), "{}", l.check);
        // Its own mark: one row that still carries it proves the deletion committed.
        assert_eq!(l.judge(2), Verdict::Landed);
        assert_eq!(l.judge(1), Verdict::Landed);
        assert_eq!(l.judge(0), Verdict::NotLanded);
    }

    #[test]
    fn a_mark_that_is_not_its_own_proves_only_whole() {
        let lines = [
            line("t", Event::ServiceRestored, service(3)),
            line("t", Event::ServiceRestored, service(4)),
        ];
        let refs: Vec<&Line> = lines.iter().collect();
        let l = Landed::of(&refs, &schema(), Dialect::Sqlite).unwrap();
        assert!(
            l.count.sql().ends_with("AND deleted = 0"),
            "{}",
            l.count.sql()
        );
        assert_eq!(l.judge(2), Verdict::Landed);
        assert_eq!(l.judge(1), Verdict::Partly(1));
        assert_eq!(l.judge(0), Verdict::NotLanded);
        // A disable is its own only where the table has modified_at.
        let lines = [line("t", Event::ServiceDisabled, service(3))];
        let refs: Vec<&Line> = lines.iter().collect();
        let own = Landed::of(&refs, &schema(), Dialect::MySql).unwrap();
        assert!(
            own.count.sql().contains("modified_at = ?"),
            "{}",
            own.count.sql()
        );
        let old = Schema::of(&[("services", &["id"])]);
        let not_own = Landed::of(&refs, &old, Dialect::MySql).unwrap();
        assert!(!not_own.count.sql().contains("modified_at"));
        assert_eq!(not_own.judge(0), Verdict::NotLanded);
    }

    #[test]
    fn a_move_is_found_by_each_row_on_its_new_host() {
        let lines = [
            line(
                "t",
                Event::VolumeHostMoved,
                moved("volumes", "v1", "n1@b#p"),
            ),
            line("t", Event::VolumeHostMoved, moved("volumes", "v2", "n1@b")),
        ];
        let refs: Vec<&Line> = lines.iter().collect();
        let l = Landed::of(&refs, &schema(), Dialect::MySql).unwrap();
        assert_eq!(
            l.count.sql(),
            "SELECT COUNT(*) FROM `volumes` WHERE ((id = ? AND BINARY host = ?) OR (id = ? AND \
             BINARY host = ?)) AND updated_at = ? FOR UPDATE"
        );
        assert_eq!(l.expect, 2);
        let lines = [line(
            "t",
            Event::BackupHostMoved,
            moved("backups", "b1", "n1"),
        )];
        let refs: Vec<&Line> = lines.iter().collect();
        let l = Landed::of(&refs, &schema(), Dialect::MySql).unwrap();
        assert!(!l.count.sql().contains("updated_at"), "{}", l.count.sql());
        assert_eq!(l.judge(0), Verdict::NotLanded);
    }

    #[test]
    fn lines_that_do_not_say_what_they_changed_give_no_read_back() {
        let mut bad_time = line("t", Event::ServiceSoftDeleted, service(3));
        bad_time.time = "yesterday".into();
        let no_id = line("t", Event::ServiceSoftDeleted, Detail::default());
        let only_an_end = line("t", Event::Committed, Detail::default());
        for l in [bad_time, no_id, only_an_end] {
            assert!(
                Landed::of(&[&l], &schema(), Dialect::MySql).is_none(),
                "{l:?}"
            );
        }
    }

    #[test]
    fn the_log_says_committed_rolled_back_or_nothing() {
        let lines = [
            line("a", Event::ServiceSoftDeleted, service(3)),
            line("a", Event::Committed, Detail::default()),
            line("b", Event::ServiceSoftDeleted, service(4)),
            line("b", Event::RolledBack, Detail::default()),
            line("c", Event::ServiceSoftDeleted, service(5)),
            line("d", Event::ServiceSoftDeleted, service(6)),
            line("d", Event::OutcomeUnknown, Detail::default()),
        ];
        let o = Outcomes::of_log(&lines);
        assert_eq!(o.landed("a"), Some(true));
        assert_eq!(o.landed("b"), Some(false));
        assert_eq!((o.landed("c"), o.is_open("c")), (None, true));
        assert_eq!((o.landed("d"), o.is_open("d")), (None, true));
        assert_eq!(o.not_landed(), BTreeSet::from(["b"]));
    }

    /// The ends a transaction's lines may carry, in any order and number.
    fn ends() -> impl Strategy<Value = Vec<Event>> {
        proptest::collection::vec(
            prop_oneof![
                Just(Event::Committed),
                Just(Event::RolledBack),
                Just(Event::OutcomeUnknown),
                Just(Event::ServiceSoftDeleted),
                Just(Event::Other),
            ],
            0..6,
        )
    }

    proptest! {
        // Committed only with `committed` and no `rolled_back`; not committed only with
        // `rolled_back` after an intent line and no `committed` (a `rolled_back` before the
        // record says nothing of it); anything else is for the database to tell.
        #[test]
        fn a_transaction_is_confirmed_only_by_committed_alone(events in ends()) {
            let lines: Vec<Line> = events
                .iter()
                .map(|e| line("t", *e, service(3)))
                .collect();
            let o = Outcomes::of_log(&lines);
            let has = |e: Event| events.contains(&e);
            let rolled_back = events
                .iter()
                .skip_while(|e| **e != Event::ServiceSoftDeleted)
                .any(|e| *e == Event::RolledBack);
            let expected = match (has(Event::Committed), rolled_back) {
                (true, false) => Some(true),
                (false, true) => Some(false),
                _ => None,
            };
            prop_assert_eq!(o.landed("t"), expected);
        }

        // A table named in a line never reaches the SQL: only svcctl's own names do.
        #[test]
        fn a_moved_rows_table_never_reaches_the_sql(table in ".{0,20}", id in ".{0,10}") {
            let l = line("t", Event::VolumeHostMoved, moved(&table, &id, "h"));
            if let Some(landed) = Landed::of(&[&l], &schema(), Dialect::MySql) {
                let quoted = format!("`{table}`");
                prop_assert!(MOVED_TABLES.contains(&table.as_str()));
                prop_assert!(landed.count.sql().contains(&quoted));
                // The row's id goes as a bound value.
                prop_assert!(landed.count.binds().contains(&Bind::Text(id.clone())));
            }
        }
    }
}
