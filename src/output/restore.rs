//! `service restore`'s rendering: the words for each refusal and for "nothing to restore", the
//! plan and result tables, and its JSON document (the same keys on every path).

use std::path::Path;

use serde::Serialize;

use super::columns::plan_time;
use super::delete::{RESULT_HEADERS, report_table};
use super::document::{ClusterRowJson, Reason, Reasons, RecordJson, With};
use super::formatter::ReportArgs;
use super::report::{Render, Verb, audit_note, counts, plural};
use super::table::Give;
use crate::apply::{End, Flags};
use crate::audit::{ClusterRecord, ServiceRecord};
use crate::plan::restore::{Nothing, Plan, Refusal, Restorable};
use crate::write::restore::{Changed, Restored};

/// Why a row cannot be restored, in a sentence.
fn describe(refusal: &Refusal) -> String {
    match refusal {
        Refusal::Purged => {
            "purged: the row no longer exists; it cannot be restored from the log".into()
        }
        Refusal::Changed { deleted: false, .. } => {
            "changed since svcctl deleted it: the row is live again".into()
        }
        Refusal::Changed {
            deleted_at, wrote, ..
        } => format!(
            "changed since svcctl deleted it: deleted_at is {}, svcctl wrote {wrote}",
            deleted_at.as_deref().unwrap_or("NULL")
        ),
        Refusal::Recreated { id } => format!(
            "a live row (id {id}) exists for it again: the service came back on its own; \
             restoring would make two"
        ),
        Refusal::StateChanged { columns } => format!(
            "changed since svcctl deleted it: its {} differ{} from the record, so it would not \
             come back as it was; restore it by hand from the record",
            columns.join(", "),
            if columns.len() == 1 { "s" } else { "" }
        ),
        Refusal::Mismatch {
            column,
            recorded,
            actual,
        } => format!(
            "the record does not name this row: its {column} is {}, the record says {}; a \
             record that is not the row's own (edited or forged) restores nothing",
            actual.as_deref().unwrap_or("NULL"),
            recorded.as_deref().unwrap_or("NULL")
        ),
        Refusal::Implausible {
            column,
            value,
            deleted_at,
        } => format!(
            "the record would put back {column} {value}, after the deletion at {deleted_at}: \
             no deletion records that (the service would look up); restore it by hand if it is \
             right"
        ),
    }
}

/// A cluster in the restore's tables, in the service columns: ID, Binary, Host.
fn cluster_cells(c: &ClusterRecord) -> [String; 3] {
    [
        c.id.to_string(),
        format!("cluster of {}", c.binary),
        c.name.clone(),
    ]
}

fn service_cells(r: &ServiceRecord) -> [String; 3] {
    [
        r.id.to_string(),
        r.binary.clone().unwrap_or_default(),
        r.host.clone().unwrap_or_default(),
    ]
}

/// The restore plan: each row on record and what will happen to it.
fn plan_table(plan: &Plan, fit_to: Option<usize>) -> String {
    let verdict = |refusal: &Option<Refusal>| match refusal {
        None => "restore".to_string(),
        Some(r) => format!("refuse: {}", describe(r)),
    };
    let mut rows: Vec<Vec<String>> = plan
        .services
        .iter()
        .map(|i| {
            let [id, binary, host] = service_cells(&i.deleted.record);
            vec![
                id,
                binary,
                host,
                plan_time(i.deleted.deleted_at),
                verdict(&i.refusal),
            ]
        })
        .collect();
    rows.extend(plan.clusters.iter().map(|i| {
        let [id, binary, name] = cluster_cells(&i.deleted.record);
        vec![
            id,
            binary,
            name,
            plan_time(i.deleted.deleted_at),
            verdict(&i.refusal),
        ]
    }));
    report_table(
        &[
            ("ID", Give::Keep),
            ("Binary", Give::Keep),
            ("Host", Give::Cut),
            ("Deleted At", Give::Keep),
            ("Verdict", Give::Wrap),
        ],
        &rows,
        fit_to,
    )
}

/// What the restore did.
fn result_table(plan: &Plan, fit_to: Option<usize>) -> String {
    let mut rows: Vec<Vec<String>> = plan
        .services
        .iter()
        .map(|i| {
            let [id, binary, host] = service_cells(&i.deleted.record);
            vec![id, binary, host, "restored".into()]
        })
        .collect();
    rows.extend(plan.clusters.iter().map(|i| {
        let [id, binary, name] = cluster_cells(&i.deleted.record);
        vec![id, binary, name, "restored".into()]
    }));
    report_table(&RESULT_HEADERS, &rows, fit_to)
}

/// A row on record, refused, with why.
type Refused<R> = With<R, Reasons<Reason>>;

/// `service restore -f json`: the same keys on every path, by the one rule
/// (`output::document`): `would_restore` in a dry run, `restored` after the write (the other
/// `[]`), the same for clusters; refusals with their reasons. Service rows have the keys of
/// `service list -f json --include-deleted`, with the values the deletion recorded.
#[derive(Serialize, Default)]
struct RestoreDoc<'a> {
    dry_run: bool,
    txn: Option<&'a str>,
    would_restore: Vec<RecordJson<'a>>,
    restored: Vec<RecordJson<'a>>,
    refused: Vec<Refused<RecordJson<'a>>>,
    would_restore_clusters: Vec<ClusterRowJson>,
    restored_clusters: Vec<ClusterRowJson>,
    refused_clusters: Vec<Refused<ClusterRowJson>>,
}

impl<'a> RestoreDoc<'a> {
    /// Refused: nothing restored; every refusal with its reason.
    fn refused(plan: &'a Plan, dry_run: bool) -> RestoreDoc<'a> {
        RestoreDoc {
            dry_run,
            txn: Some(&plan.txn),
            refused: refusals(&plan.services, |d| RecordJson(&d.record)),
            refused_clusters: refusals(&plan.clusters, |d| ClusterRowJson::record(&d.record)),
            ..RestoreDoc::default()
        }
    }

    /// To be restored (`dry_run`) or restored: every row of the plan.
    fn planned(plan: &'a Plan, dry_run: bool) -> RestoreDoc<'a> {
        let services = || {
            plan.services
                .iter()
                .map(|i| RecordJson(&i.deleted.record))
                .collect()
        };
        let clusters = || {
            plan.clusters
                .iter()
                .map(|i| ClusterRowJson::record(&i.deleted.record))
                .collect()
        };
        let mut doc = RestoreDoc {
            dry_run,
            txn: Some(&plan.txn),
            ..RestoreDoc::default()
        };
        if dry_run {
            doc.would_restore = services();
            doc.would_restore_clusters = clusters();
        } else {
            doc.restored = services();
            doc.restored_clusters = clusters();
        }
        doc
    }
}

/// The refused items of a restore plan, each with its reason.
fn refusals<'a, T, R: Serialize>(
    items: &'a [Restorable<T>],
    row: impl Fn(&'a T) -> R,
) -> Vec<Refused<R>> {
    items
        .iter()
        .filter_map(|i| {
            i.refusal.as_ref().map(|r| With {
                row: row(&i.deleted),
                extra: Reasons {
                    reasons: vec![Reason {
                        kind: kind(r),
                        text: describe(r),
                    }],
                },
            })
        })
        .collect()
}

/// A refusal's `kind` in the document.
fn kind(refusal: &Refusal) -> &'static str {
    match refusal {
        Refusal::Purged => "purged",
        Refusal::Changed { .. } => "changed",
        Refusal::Recreated { .. } => "recreated",
        Refusal::StateChanged { .. } => "state_changed",
        Refusal::Mismatch { .. } => "not_the_row",
        Refusal::Implausible { .. } => "implausible",
    }
}

/// How a restore is shown.
pub(crate) struct RestoreReport<'a> {
    pub plan: &'a Plan,
    pub style: &'a ReportArgs,
}

impl Render for RestoreReport<'_> {
    type Outcome = Restored;

    fn verb(&self) -> Verb {
        Verb {
            base: "restore",
            past: "restored",
        }
    }

    fn what(&self, _flags: &Flags) -> String {
        counts(self.plan.services.len(), self.plan.clusters.len())
    }

    fn plan(&self, _flags: &Flags) -> String {
        plan_table(self.plan, self.style.table.fit_to())
    }

    fn notes(&self, _flags: &Flags) -> Vec<String> {
        super::messages::skipped_lines(&self.plan.skipped)
    }

    fn document<'a>(&'a self, end: &'a End<Restored>, flags: &Flags) -> impl Serialize + 'a {
        match end {
            End::Refused => RestoreDoc::refused(self.plan, flags.dry_run),
            End::DryRun => RestoreDoc::planned(self.plan, true),
            End::Done(_) => RestoreDoc::planned(self.plan, false),
            _ => RestoreDoc {
                dry_run: flags.dry_run,
                txn: (!self.plan.txn.is_empty()).then_some(self.plan.txn.as_str()),
                ..RestoreDoc::default()
            },
        }
    }

    fn result(&self, done: &[Restored]) -> Option<String> {
        // Rolled back: the error names what changed; there is no result to show.
        done.iter()
            .all(|d| d.changed.is_empty())
            .then(|| result_table(self.plan, self.style.table.fit_to()))
    }

    fn typed_a_name(&self) -> bool {
        matches!(
            self.plan.nothing,
            Some(Nothing::NoSuchTxn { .. } | Nothing::NoDeletionOf { .. })
        )
    }

    fn nothing(&self) -> String {
        match &self.plan.nothing {
            Some(Nothing::RolledBack { txn }) => format!(
                "transaction {txn} did not commit (rolled back, or never confirmed and not in the \
                 database): it deleted nothing, so there is nothing to restore"
            ),
            Some(Nothing::NoSuchTxn { txn, log, database }) => format!(
                "no deletion with txn {txn} in the audit log {} for {database}",
                log.display()
            ),
            Some(Nothing::NoDeletionOf {
                host,
                binary,
                log,
                database,
            }) => format!(
                "no deletion of{} host {host} in the audit log {} for {database}",
                binary
                    .as_deref()
                    .map_or(String::new(), |b| format!(" {b} on")),
                log.display()
            ),
            Some(Nothing::NoLog { log }) => format!(
                "the audit log {} does not exist (nothing was created); pass --audit-log PATH \
                 naming the log the deletion was recorded in",
                log.display()
            ),
            Some(Nothing::AlreadyRestored { txn, time, by }) => format!(
                "deletion {txn} ({time}) was already restored (by {}); nothing left to restore",
                by.join(", ")
            ),
            None => format!("deletion {} has nothing left to restore", self.plan.txn),
        }
    }

    fn refused(&self, flags: &Flags) -> (Vec<String>, String) {
        let mut lines = Vec::new();
        for i in &self.plan.services {
            if let Some(r) = &i.refusal {
                let s = &i.deleted.record;
                lines.push(format!(
                    "refusing {} {} (id {}): {}",
                    s.binary.as_deref().unwrap_or(""),
                    s.host.as_deref().unwrap_or(""),
                    s.id,
                    describe(r)
                ));
            }
        }
        for i in &self.plan.clusters {
            if let Some(r) = &i.refusal {
                let c = &i.deleted.record;
                lines.push(format!(
                    "refusing cluster {} (id {}): {}",
                    c.name,
                    c.id,
                    describe(r)
                ));
            }
        }
        let n = self.plan.refused();
        (
            lines,
            format!(
                "refused {n} row{}; nothing was changed{}",
                plural(n),
                if flags.dry_run { " (dry run)" } else { "" }
            ),
        )
    }

    fn done(&self, _done: &[Restored], audit: Option<&Path>, flags: &Flags) -> Vec<String> {
        vec![format!(
            "restored {} of deletion {}{}",
            self.what(flags),
            self.plan.txn,
            audit_note(audit)
        )]
    }

    fn rolled_back(&self, outcome: &Restored) -> (Vec<String>, String) {
        let what = match outcome.changed.first() {
            Some(Changed::Service { id, binary, host }) => format!("{binary} {host} (id {id})"),
            Some(Changed::Cluster { id, name }) => format!("cluster {name} (id {id})"),
            None => "a row".into(),
        };
        (
            Vec::new(),
            format!(
                "{what} changed between plan and write; nothing was changed; run svcctl service \
                 restore again for a new plan"
            ),
        )
    }
}
