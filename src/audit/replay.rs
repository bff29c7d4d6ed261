//! What a replay of the audit log (`service restore`, `move-host --undo`) may believe of it.
//! The log is not signed and root can edit it, so a record proves little by itself: it drives
//! a write only on the database it was written on (`db_identity`), a `rolled_back` line counts
//! only where the runner would have written it, and every value a replay would write back is
//! checked against the row as it is now (`plan::restore`, `plan::move_host`).

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use super::record::{Event, Line};
use crate::db::identity::Identity;
use crate::error::Failure;

/// Whether `line` was written on the database svcctl is connected to (`database` by name,
/// `identity` as `db::identity` reads it). A line written before records carried an identity
/// is matched by name, so that it is found and then refused by `check_origin`, never acted on.
pub(crate) fn belongs(line: &Line, database: &str, identity: &Identity) -> bool {
    match &line.detail.db_identity {
        Some(id) => id.same_as(identity),
        None => line.detail.database == database,
    }
}

/// The transactions that rolled back. A `rolled_back` line counts only for its own
/// transaction, only after a line of that transaction's record, and only when the same user on
/// the same host wrote it on the same database (the runner writes it in the process that wrote
/// the record, with the record's own stamp): a stray or misplaced one cannot hide a deletion.
pub(crate) fn rolled_back(lines: &[Line]) -> BTreeSet<&str> {
    let mut first: HashMap<&str, &Line> = HashMap::new();
    let mut out = BTreeSet::new();
    for l in lines {
        match l.event {
            Event::RolledBack => {
                if first.get(l.txn.as_str()).is_some_and(|r| same_writer(r, l)) {
                    out.insert(l.txn.as_str());
                }
            }
            Event::Committed | Event::OutcomeUnknown | Event::Other => {}
            _ => {
                first.entry(l.txn.as_str()).or_insert(l);
            }
        }
    }
    out
}

fn same_writer(a: &Line, b: &Line) -> bool {
    a.user == b.user
        && a.hostname == b.hostname
        && a.detail.database == b.detail.database
        && a.detail.db_identity == b.detail.db_identity
}

/// Refuses (exit 2) to replay transaction `txn` when any of its lines was written on another
/// database than `identity` (another cloud's, a staging copy) or records no database identity
/// (written by an svcctl that did not record one): nothing on record may drive a write where
/// svcctl cannot tell it belongs. Nothing to say when the log has no line of `txn`.
pub(crate) fn check_origin(
    lines: &[Line],
    txn: &str,
    identity: &Identity,
    log: &Path,
) -> Result<(), Failure> {
    // The lines that would drive the write: a `rolled_back` or `outcome_unknown` line never
    // does (and counts only from the record's own writer: `rolled_back`).
    let record = |l: &&Line| {
        l.txn == txn
            && !matches!(
                l.event,
                Event::RolledBack | Event::OutcomeUnknown | Event::Other
            )
    };
    for l in lines.iter().filter(record) {
        let at = format!(
            "transaction {txn} (the audit log {} line {})",
            log.display(),
            l.at
        );
        match &l.detail.db_identity {
            Some(id) if id.same_as(identity) => {}
            Some(id) => {
                return Err(Failure::Usage(format!(
                    "{at} was recorded on {id}, and svcctl is connected to {identity}: it is \
                     another database's record (another cloud's, or a copy); nothing was \
                     changed; point --config-file at that database, or undo it by hand"
                )));
            }
            None => {
                return Err(Failure::Usage(format!(
                    "{at} records no database identity (written by an svcctl that did not \
                     record one), so svcctl cannot tell it was written on this database; \
                     nothing was changed; undo it by hand from the record"
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(event: &str, txn: &str, user: &str) -> Line {
        serde_json::from_str(&format!(
            r#"{{"event":"{event}","time":"t","txn":"{txn}","user":"{user}","hostname":"h"}}"#
        ))
        .unwrap()
    }

    #[test]
    fn a_rolled_back_line_counts_only_after_its_record_and_from_its_writer() {
        let lines = [
            line("rolled_back", "a", "root"),
            line("service_soft_deleted", "a", "root"),
            line("service_soft_deleted", "b", "root"),
            line("rolled_back", "b", "mallory"),
            line("service_soft_deleted", "c", "root"),
            line("rolled_back", "c", "root"),
            line("rolled_back", "d", "root"),
        ];
        assert_eq!(rolled_back(&lines), BTreeSet::from(["c"]));
    }
}
