//! `service disable` / `service enable`'s rendering: the plan and result tables, the JSON
//! document (the same keys on every path), and the notes.

use std::path::Path;

use anyhow::Result;
use serde::Serialize;

use super::cluster_toggle::ClusterToggleReport;
use super::columns::ServiceJson;
use super::delete::{RESULT_HEADERS, report_table};
use super::document::{self, ClusterRowJson};
use super::formatter::ReportArgs;
use super::report::{self, Render, Verb, audit_note, plural};
use super::table::Give;
use crate::apply::{End, Flags};
use crate::db::Db;
use crate::hosts::HostArgs;
use crate::model::{Service, ServiceRow};
use crate::plan::cluster_toggle;
use crate::plan::toggle::{self as plan, Plan};
use crate::write::id_list;
use crate::write::toggle::Toggled;

fn already(disable: bool) -> &'static str {
    if disable {
        "already disabled"
    } else {
        "already enabled"
    }
}

/// The plan of `service disable`/`enable`: each matched service and what will happen to it.
/// Its state, as the operator decides on it; no Status column (the action says it: `disable`
/// or `already disabled`) and no heartbeat (it decides nothing here), so that a plan of the
/// seed's hosts stays within 80 columns.
fn plan_table(plan: &Plan, fit_to: Option<usize>) -> String {
    let disable = plan.disable();
    let rows: Vec<Vec<String>> = plan
        .services
        .iter()
        .map(|s| {
            let r = &s.row;
            vec![
                r.id.to_string(),
                r.binary().to_string(),
                r.host().to_string(),
                s.state().to_string(),
                r.disabled_reason.clone().unwrap_or_else(|| "-".into()),
                if plan.is_done(s) {
                    already(disable).into()
                } else if plan.is_new_reason(s) {
                    "new reason".into()
                } else if disable {
                    "disable".into()
                } else {
                    "enable".into()
                },
            ]
        })
        .collect();
    report_table(
        &[
            ("ID", Give::Keep),
            ("Binary", Give::Keep),
            ("Host", Give::Cut),
            ("State", Give::Keep),
            ("Disabled Reason", Give::Wrap),
            ("Action", Give::Wrap),
        ],
        &rows,
        fit_to,
    )
}

/// What `service disable`/`enable` did.
fn result_table(
    changed: &[Service],
    unchanged: &[Service],
    disable: bool,
    fit_to: Option<usize>,
) -> String {
    let row = |s: &Service, result: &str| {
        vec![
            s.row.id.to_string(),
            s.row.binary().to_string(),
            s.row.host().to_string(),
            result.to_string(),
        ]
    };
    let done = if disable { "disabled" } else { "enabled" };
    let mut rows: Vec<Vec<String>> = changed.iter().map(|s| row(s, done)).collect();
    rows.extend(unchanged.iter().map(|s| row(s, already(disable))));
    report_table(&RESULT_HEADERS, &rows, fit_to)
}

/// The JSON document of `service disable`/`enable` (with `--host` or `--cluster`), the same
/// keys on every path, by the one rule (`output::document`): for disable `would_disable` in a
/// dry run and `disabled` after the write (the other `[]`; enable's `would_enable`,
/// `enabled`), the same for clusters with `_clusters` appended; `unchanged` those already as
/// asked. Rows are as they were before.
pub(crate) struct ToggleDoc {
    pub dry_run: bool,
    pub disable: bool,
    pub would: Vec<Service>,
    pub done: Vec<Service>,
    pub unchanged: Vec<Service>,
    pub would_clusters: Vec<ClusterRowJson>,
    pub done_clusters: Vec<ClusterRowJson>,
    pub unchanged_clusters: Vec<ClusterRowJson>,
    pub already_deleted: Vec<i64>,
    /// What the change does not do: a clustered service's own flag is not what the scheduler
    /// reads.
    pub warnings: Vec<String>,
}

impl ToggleDoc {
    /// Every list empty.
    pub fn empty(dry_run: bool, disable: bool) -> ToggleDoc {
        ToggleDoc {
            dry_run,
            disable,
            would: Vec::new(),
            done: Vec::new(),
            unchanged: Vec::new(),
            would_clusters: Vec::new(),
            done_clusters: Vec::new(),
            unchanged_clusters: Vec::new(),
            already_deleted: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

impl Serialize for ToggleDoc {
    /// A struct whose keys name the verb: `would_disable`, `disabled`, ... or `would_enable`,
    /// `enabled`, ....
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let [would, done, would_clusters, done_clusters] = if self.disable {
            [
                "would_disable",
                "disabled",
                "would_disable_clusters",
                "disabled_clusters",
            ]
        } else {
            [
                "would_enable",
                "enabled",
                "would_enable_clusters",
                "enabled_clusters",
            ]
        };
        fn rows(v: &[Service]) -> Vec<ServiceJson<'_>> {
            v.iter().map(document::service).collect()
        }
        let mut st = s.serialize_struct("ToggleDoc", 10)?;
        st.serialize_field("dry_run", &self.dry_run)?;
        st.serialize_field("action", action(self.disable))?;
        st.serialize_field(would, &rows(&self.would))?;
        st.serialize_field(done, &rows(&self.done))?;
        st.serialize_field("unchanged", &rows(&self.unchanged))?;
        st.serialize_field(would_clusters, &self.would_clusters)?;
        st.serialize_field(done_clusters, &self.done_clusters)?;
        st.serialize_field("unchanged_clusters", &self.unchanged_clusters)?;
        st.serialize_field("already_deleted", &self.already_deleted)?;
        st.serialize_field("warnings", &self.warnings)?;
        st.end()
    }
}

/// Disable or enable, as the messages say it: of services here, of a cluster in
/// `cluster_toggle`.
pub(crate) fn verb(disable: bool) -> Verb {
    match disable {
        true => Verb {
            base: "disable",
            past: "disabled",
        },
        false => Verb {
            base: "enable",
            past: "enabled",
        },
    }
}

fn action(disable: bool) -> &'static str {
    if disable { "disable" } else { "enable" }
}

/// Plans disabling (`reason` given) or enabling the services `target` names, or with
/// `cluster` (and `target`'s binary) that cluster, and runs it through the flow: what `service
/// disable` and `service enable` do.
pub(crate) async fn run(
    db: &mut Db,
    target: &HostArgs,
    cluster: Option<&str>,
    reason: Option<String>,
    flags: &Flags,
    style: &ReportArgs,
    service_down_time: i64,
) -> Result<()> {
    if let (Some(name), Some(binary)) = (cluster, &target.binary) {
        let plan = cluster_toggle::build(db, name, binary, reason.as_deref()).await?;
        return report::run(db, &plan, &ClusterToggleReport(&plan), style, flags).await;
    }
    let hosts = target.patterns()?;
    let binary = target.binary.clone();
    let plan = plan::build(db, hosts, binary, reason, service_down_time).await?;
    let report = ToggleReport {
        plan: &plan,
        style,
        target,
    };
    report::run(db, &plan, &report, style, flags).await
}

/// How a disable or enable is shown.
struct ToggleReport<'a> {
    pub plan: &'a Plan,
    pub style: &'a ReportArgs,
    /// `--host` and `--binary` as given, for "nothing matched".
    pub target: &'a HostArgs,
}

impl ToggleReport<'_> {
    fn disable(&self) -> bool {
        self.plan.disable()
    }

    /// One warning per cluster the matched services are in: for a clustered service Cinder's
    /// scheduler reads only the cluster's `disabled` (cinder/db/api.py
    /// `_clustered_bool_field_filter`), so the service's own flag changes nothing for it.
    fn warnings(&self) -> Vec<String> {
        let (verb, effect) = if self.disable() {
            ("disable", "does not stop scheduling onto it")
        } else {
            (
                "enable",
                "does not make it schedulable while the cluster is disabled",
            )
        };
        self.plan
            .clusters()
            .into_iter()
            .map(|(cluster, binary)| {
                let n = self
                    .plan
                    .services
                    .iter()
                    .filter(|s| s.row.cluster_name.as_deref() == Some(&cluster))
                    .count();
                format!(
                    "warning: {n} service{} in cluster {cluster}: Cinder's scheduler reads only \
                     the cluster's disabled flag for {}, so this {verb} {effect}; {verb} the \
                     cluster: svcctl service {verb} --cluster {cluster} --binary {binary}{}",
                    plural(n),
                    if n == 1 { "it" } else { "them" },
                    if self.disable() { " --reason TEXT" } else { "" }
                )
            })
            .collect()
    }

    /// Rows the write read, judged as the plan judged its own.
    fn judged(&self, rows: &[ServiceRow]) -> Vec<Service> {
        rows.iter()
            .map(|r| Service::judge(r.clone(), self.plan.now, self.plan.service_down_time))
            .collect()
    }
}

impl Render for ToggleReport<'_> {
    type Outcome = Toggled;

    fn verb(&self) -> Verb {
        verb(self.disable())
    }

    fn what(&self, _flags: &Flags) -> String {
        let n = self.plan.to_change().count();
        format!("{n} service{}", plural(n))
    }

    fn plan(&self, _flags: &Flags) -> String {
        plan_table(self.plan, self.style.table.fit_to())
    }

    fn notes(&self, _flags: &Flags) -> Vec<String> {
        self.warnings()
    }

    fn document<'a>(&'a self, end: &'a End<Toggled>, flags: &Flags) -> impl Serialize + 'a {
        let mut doc = ToggleDoc::empty(flags.dry_run, self.disable());
        doc.warnings = self.warnings();
        match end {
            End::Done(done) => {
                for o in done {
                    doc.done.extend(self.judged(&o.changed));
                    doc.unchanged.extend(self.judged(&o.unchanged));
                    doc.already_deleted.extend(&o.already_gone);
                }
            }
            End::RolledBack(o) => doc.already_deleted.clone_from(&o.already_gone),
            End::NothingMatched | End::Declined => {}
            // Before any write: a dry run (what would change), nothing to change, a refusal.
            _ => {
                if flags.dry_run {
                    doc.would = self.plan.to_change().cloned().collect();
                }
                doc.unchanged = self
                    .plan
                    .services
                    .iter()
                    .filter(|s| self.plan.is_done(s))
                    .cloned()
                    .collect();
            }
        }
        doc
    }

    fn result(&self, done: &[Toggled]) -> Option<String> {
        if done.iter().any(|o| !o.already_gone.is_empty()) {
            // Rolled back: the error names what went.
            return None;
        }
        let changed: Vec<Service> = done.iter().flat_map(|o| self.judged(&o.changed)).collect();
        let unchanged: Vec<Service> = done
            .iter()
            .flat_map(|o| self.judged(&o.unchanged))
            .collect();
        Some(result_table(
            &changed,
            &unchanged,
            self.disable(),
            self.style.table.fit_to(),
        ))
    }

    fn nothing(&self) -> String {
        format!(
            "no live service{} on host {}",
            self.target
                .binary
                .as_deref()
                .map_or(String::new(), |b| format!(" {b}")),
            self.target.host.join(", ")
        )
    }

    fn unchanged(&self) -> String {
        let unchanged = self.plan.services.len();
        format!(
            "all {unchanged} matching service{} {} {}; nothing to do",
            plural(unchanged),
            if unchanged == 1 { "is" } else { "are" },
            already(self.disable())
        )
    }

    fn dry_run(&self, flags: &Flags) -> String {
        let unchanged = self.plan.services.len() - self.plan.to_change().count();
        format!(
            "dry run: would {} {} ({unchanged} {}); nothing was changed",
            self.verb().base,
            self.what(flags),
            already(self.disable())
        )
    }

    fn done(&self, done: &[Toggled], audit: Option<&Path>, _flags: &Flags) -> Vec<String> {
        let n: usize = done.iter().map(|o| o.changed.len()).sum();
        let u: usize = done.iter().map(|o| o.unchanged.len()).sum();
        let mut lines = vec![format!(
            "{} {n} service{}{}{}",
            self.verb().past,
            plural(n),
            if u == 0 {
                String::new()
            } else {
                format!(" ({u} {})", already(self.disable()))
            },
            audit_note(audit)
        )];
        lines.extend(self.warnings());
        lines
    }

    fn rolled_back(&self, outcome: &Toggled) -> (Vec<String>, String) {
        let n = outcome.already_gone.len();
        (
            Vec::new(),
            format!(
                "{n} planned service{} deleted between plan and write (id {}); nothing was {}: \
                 the whole write was rolled back; run the command again for a new plan",
                plural(n),
                id_list(&outcome.already_gone),
                if self.disable() {
                    "disabled"
                } else {
                    "enabled"
                }
            ),
        )
    }
}
