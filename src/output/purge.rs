//! `service purge`'s rendering: why a service is skipped, the plan and result tables, and its
//! JSON document (the same keys on every path).

use std::path::Path;

use chrono::NaiveDateTime;
use serde::Serialize;

use super::columns::{ServiceJson, plan_time};
use super::delete::report_table;
use super::document::{self, ClusterRowJson, Reason, Reasons, With};
use super::formatter::ReportArgs;
use super::report::{Render, Verb, audit_note, counts, plural};
use super::table::Give;
use crate::apply::{End, Flags};
use crate::db::clusters::ClusterRow;
use crate::db::foreign_keys::FkCounts;
use crate::model::Service;
use crate::plan::purge::Plan;
use crate::write::purge::Purged;

fn time(t: Option<NaiveDateTime>) -> String {
    t.map_or("-".into(), plan_time)
}

/// Why a purge skips a service: the foreign keys naming it, and what to do, which differs for
/// live rows (re-point them) and deleted ones (only a purge of those rows removes them): kind
/// `named_by_live` or `named_by_deleted`.
fn fk_reasons(c: &FkCounts) -> Vec<Reason> {
    let mut out = Vec::new();
    for (all, live, what, repoint) in [
        (
            c.volumes,
            c.live_volumes,
            "volumes.service_uuid",
            "move them to a live service: svcctl volume move-host --from HOST --to NEWHOST, or \
             cinder-manage volume update_service for volumes whose host a live service serves",
        ),
        (
            c.workers,
            c.live_workers,
            "workers.service_id",
            "Cinder removes a worker when its cleanup is done",
        ),
    ] {
        let deleted = all - live;
        if live > 0 {
            out.push(reason(
                "named_by_live",
                format!(
                    "named by {live} live row{} of {what} (a foreign key); {repoint}",
                    plural(live as usize)
                ),
            ));
        } else if deleted > 0 {
            out.push(reason(
                "named_by_deleted",
                format!(
                    "named only by {deleted} soft-deleted row{} of {what} (a foreign key: deleted \
                 rows count too), which only a purge of those rows removes: `cinder-manage db \
                 purge DAYS` removes them, and this service with them, once both were deleted \
                 more than DAYS days ago",
                    plural(deleted as usize)
                ),
            ));
        }
    }
    out
}

fn reason(kind: &'static str, text: String) -> Reason {
    Reason { kind, text }
}

fn cluster_cells(c: &ClusterRow) -> Vec<String> {
    vec![
        c.id.to_string(),
        format!("cluster of {}", c.binary),
        c.name.clone(),
        time(c.deleted_at),
    ]
}

/// The purge plan: what goes and what is skipped, and why.
fn plan_table(
    purgeable: &[Service],
    skipped: &[(Service, FkCounts)],
    clusters: &[ClusterRow],
    fit_to: Option<usize>,
) -> String {
    let row = |s: &Service, verdict: String| {
        vec![
            s.row.id.to_string(),
            s.row.binary().to_string(),
            s.row.host().to_string(),
            time(s.row.deleted_at),
            verdict,
        ]
    };
    let mut rows: Vec<Vec<String>> = purgeable.iter().map(|s| row(s, "purge".into())).collect();
    rows.extend(skipped.iter().map(|(s, c)| {
        let named: Vec<&str> = [(c.volumes, "volumes"), (c.workers, "workers")]
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(_, t)| *t)
            .collect();
        row(s, format!("skip: named by {}", named.join(", ")))
    }));
    rows.extend(clusters.iter().map(|c| {
        let mut r = cluster_cells(c);
        r.push("purge".into());
        r
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

/// What the purge did.
fn result_table(purged: &[Service], clusters: &[ClusterRow], fit_to: Option<usize>) -> String {
    let mut rows: Vec<Vec<String>> = purged
        .iter()
        .map(|s| {
            vec![
                s.row.id.to_string(),
                s.row.binary().to_string(),
                s.row.host().to_string(),
                time(s.row.deleted_at),
                "purged".into(),
            ]
        })
        .collect();
    rows.extend(clusters.iter().map(|c| {
        let mut r = cluster_cells(c);
        r.push("purged".into());
        r
    }));
    report_table(
        &[
            ("ID", Give::Keep),
            ("Binary", Give::Keep),
            ("Host", Give::Cut),
            ("Deleted At", Give::Keep),
            ("Result", Give::Wrap),
        ],
        &rows,
        fit_to,
    )
}

/// `service purge -f json`: the same keys on every path, by the one rule
/// (`output::document`): what a dry run would purge in `would_purge` (`purged` empty), what
/// was purged in `purged` (`would_purge` empty); the same for clusters; `skipped` with why.
#[derive(Serialize)]
struct PurgeDoc<'a> {
    dry_run: bool,
    would_purge: Vec<ServiceJson<'a>>,
    purged: Vec<ServiceJson<'a>>,
    skipped: Vec<With<ServiceJson<'a>, Reasons<Reason>>>,
    would_purge_clusters: Vec<ClusterRowJson>,
    purged_clusters: Vec<ClusterRowJson>,
    batches: usize,
}

/// How a purge is shown.
pub(crate) struct PurgeReport<'a> {
    pub plan: &'a Plan,
    pub style: &'a ReportArgs,
}

impl Render for PurgeReport<'_> {
    type Outcome = Purged;

    fn verb(&self) -> Verb {
        Verb {
            base: "purge",
            past: "purged",
        }
    }

    fn what(&self, _flags: &Flags) -> String {
        counts(self.plan.services.len(), self.plan.clusters.len())
    }

    fn plan(&self, _flags: &Flags) -> String {
        plan_table(
            &self.plan.services,
            &self.plan.skipped,
            &self.plan.clusters,
            self.style.table.fit_to(),
        )
    }

    fn notes(&self, _flags: &Flags) -> Vec<String> {
        self.plan
            .skipped
            .iter()
            .map(|(s, c)| {
                format!(
                    "skipped {} {} (id {}): {}",
                    s.row.binary(),
                    s.row.host(),
                    s.row.id,
                    fk_reasons(c)
                        .into_iter()
                        .map(|r| r.text)
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            })
            .collect()
    }

    fn document<'a>(&'a self, end: &'a End<Purged>, flags: &Flags) -> impl Serialize + 'a {
        let mut doc = PurgeDoc {
            dry_run: flags.dry_run,
            would_purge: Vec::new(),
            purged: Vec::new(),
            skipped: self
                .plan
                .skipped
                .iter()
                .map(|(s, c)| With {
                    row: document::service(s),
                    extra: Reasons {
                        reasons: fk_reasons(c),
                    },
                })
                .collect(),
            would_purge_clusters: Vec::new(),
            purged_clusters: Vec::new(),
            batches: 0,
        };
        match end {
            End::DryRun => {
                doc.would_purge = self.plan.services.iter().map(document::service).collect();
                doc.would_purge_clusters =
                    self.plan.clusters.iter().map(ClusterRowJson::row).collect();
            }
            End::Done(done) => {
                doc.purged = done
                    .iter()
                    .flat_map(|b| &b.services)
                    .map(document::service)
                    .collect();
                doc.purged_clusters = done
                    .iter()
                    .flat_map(|b| &b.clusters)
                    .map(ClusterRowJson::row)
                    .collect();
                doc.batches = done.len();
            }
            _ => {}
        }
        doc
    }

    fn result(&self, done: &[Purged]) -> Option<String> {
        let services: Vec<Service> = done.iter().flat_map(|b| b.services.clone()).collect();
        let clusters: Vec<ClusterRow> = done.iter().flat_map(|b| b.clusters.clone()).collect();
        Some(result_table(
            &services,
            &clusters,
            self.style.table.fit_to(),
        ))
    }

    fn typed_a_name(&self) -> bool {
        false
    }

    fn nothing(&self) -> String {
        let days = self.plan.older_than;
        format!(
            "no soft-deleted service or cluster older than {days} day{} that nothing names",
            plural(usize::try_from(days).unwrap_or(0))
        )
    }

    fn done(&self, done: &[Purged], audit: Option<&Path>, _flags: &Flags) -> Vec<String> {
        let services: usize = done.iter().map(|b| b.services.len()).sum();
        let clusters: usize = done.iter().map(|b| b.clusters.len()).sum();
        let kept: Vec<i64> = done
            .iter()
            .flat_map(|b| b.kept_services.iter().chain(&b.kept_clusters).copied())
            .collect();
        let batches = done.len();
        vec![format!(
            "purged {} in {batches} transaction{}{}{}",
            counts(services, clusters),
            plural(batches),
            if kept.is_empty() {
                String::new()
            } else {
                format!("; kept ids {kept:?}, which changed or gained a reference since the plan")
            },
            audit_note(audit)
        )]
    }

    fn rolled_back(&self, _outcome: &Purged) -> (Vec<String>, String) {
        // A batch never rolls back: rows that changed are kept and reported.
        (Vec::new(), String::new())
    }
}
