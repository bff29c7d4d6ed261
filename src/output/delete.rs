//! The delete's rendering (`service delete` and its sweeps, `cluster remove --recursive`,
//! `backend cleanup`): the words for each refusal `Reason`, the plan and result tables, the
//! process tables of `backend cleanup`, and the one JSON result document every path prints.

use std::cell::OnceCell;
use std::path::Path;

use serde::Serialize;

use super::columns::{ServiceJson, age};
use super::document::{self, ClusterRowJson, Overridden, Reasons, With};
use super::formatter::ReportArgs;
use super::report::{Render, Verb, audit_note, plural};
use super::table::{Give, PIPED_WIDTH, report};
use crate::apply::{End, Flags};
use crate::db::references::RefCounts;
use crate::model::{Service, ServiceRow};
use crate::plan::delete::{Candidate, Plan, Reason};
use crate::processes::{Proc, ProcessReport, Stopped};
use crate::write::delete::Deletion;

/// Why an emptied cluster goes: svcctl's choice, not Cinder's.
const EMPTIED_CLUSTERS: &str =
    "svcctl's choice: Cinder deletes a cluster only in cinder-manage cluster remove";

/// How many volume hosts a refusal names; the rest are counted ("and 6 more").
const HOSTS_SHOWN: usize = 3;

/// The volume hosts a refusal names: the first `HOSTS_SHOWN`.
fn shown_hosts(hosts: &[String]) -> &[String] {
    &hosts[..hosts.len().min(HOSTS_SHOWN)]
}

/// ` on node01@lvm#a, node02@lvm#a, node03@lvm#a and 6 more`, or nothing when no volume host
/// is known.
fn on_hosts(c: &RefCounts) -> String {
    let shown = shown_hosts(&c.volume_hosts);
    if shown.is_empty() {
        return String::new();
    }
    let more = c.volume_hosts.len() - shown.len();
    format!(
        " on {}{}",
        shown.join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    )
}

/// `3 volumes, 1 backup`: the non-zero counts.
pub(crate) fn describe_counts(c: &RefCounts) -> String {
    let parts: Vec<String> = [
        (c.volumes, "volume", "volumes"),
        (c.backups, "backup", "backups"),
        (c.groups, "group", "groups"),
        (
            c.consistencygroups,
            "consistency group",
            "consistency groups",
        ),
        (c.workers, "worker", "workers"),
        (
            c.image_volume_cache_entries,
            "image cache entry",
            "image cache entries",
        ),
    ]
    .iter()
    .filter(|(n, _, _)| *n > 0)
    .map(|(n, one, many)| format!("{n} {}", if *n == 1 { one } else { many }))
    .collect();
    parts.join(", ")
}

/// Why `row` must not be deleted, in a sentence with what to do about it. Also what the audit
/// record says `--force` overrode (`write::delete::Describe`).
pub(crate) fn describe(reason: &Reason, row: &ServiceRow) -> String {
    describe_for_host(reason, row.host())
}

/// The description, for a service on `host`: what stands in the way, then what to do.
pub(crate) fn describe_for_host(reason: &Reason, host: &str) -> String {
    let (what, hint) = parts(reason, host);
    match hint {
        Some((sep, hint)) => format!("{what}{sep}{hint}"),
        None => what,
    }
}

/// A reason in two parts: what stands in the way, and (after its separator) what to do about
/// it, so that a line naming several reasons gives each hint once.
fn parts(reason: &Reason, host: &str) -> (String, Option<(&'static str, String)>) {
    let hint = |sep, text: String| Some((sep, text));
    match reason {
        Reason::Up { seconds_ago } => (
            format!("up (heartbeat {seconds_ago}s ago)"),
            hint(
                ": ",
                "stop its cinder process first, or it recreates its row".into(),
            ),
        ),
        Reason::UpElsewhere {
            node,
            here,
            seconds_ago,
            waited,
        } => (
            format!("up on {node} (heartbeat {seconds_ago}s ago)"),
            hint(
                ": ",
                format!(
                    "run svcctl backend cleanup on {node}{} (this node is {here}, from [DEFAULT] \
                     host)",
                    or_wait(*waited)
                ),
            ),
        ),
        Reason::FutureHeartbeat { seconds } => (
            format!("heartbeat {seconds} s in the future"),
            hint(": ", "check this node's clock".into()),
        ),
        Reason::UpHereUnnamed {
            key,
            seconds_ago,
            shared: 0,
            waited,
        } => (
            format!("up (heartbeat {seconds_ago}s ago), yet no cinder-volume process runs here"),
            hint(
                ": ",
                format!(
                    "whatever heartbeats for backend {key} under this node's name (a container, \
                     another machine with the same [DEFAULT] host?) must stop first{}",
                    or_wait(*waited)
                ),
            ),
        ),
        Reason::UpHereUnnamed {
            key,
            seconds_ago,
            waited,
            ..
        } => (
            format!("up (heartbeat {seconds_ago}s ago) and no process here names backend {key}"),
            hint(
                ": ",
                format!(
                    "the cinder-volume serving every enabled backend still runs it; remove it \
                     from [DEFAULT] enabled_backends and restart cinder-volume{}",
                    or_wait(*waited)
                ),
            ),
        ),
        Reason::StillEnabled { key, entry, files } => (
            format!(
                "backend {key} is still in [DEFAULT] enabled_backends (as {entry:?}) of {files}"
            ),
            hint(
                ": ",
                "the next restart of cinder-volume would bring its service back; remove it from \
                 enabled_backends, restart cinder-volume, then run the cleanup"
                    .into(),
            ),
        ),
        Reason::InUse(c) => {
            let what = format!("in use: {}{}", describe_counts(c), on_hosts(c));
            // A host move takes the image cache entries along with the volumes.
            let kind = if c.volumes > 0
                || c.groups > 0
                || c.consistencygroups > 0
                || c.image_volume_cache_entries > 0
            {
                "volume"
            } else if c.backups > 0 {
                "backup"
            } else {
                return (what, None);
            };
            (
                what,
                hint(
                    "; ",
                    format!("move them first: svcctl {kind} move-host --from {host} --to NEWHOST"),
                ),
            )
        }
        Reason::BackendInUse { key, counts } => (
            format!(
                "the backend still owns {}{}",
                describe_counts(counts),
                match on_hosts(counts) {
                    none if none.is_empty() => format!(" on some node (hosts *@{key}#*)"),
                    named => named,
                }
            ),
            hint(
                "; ",
                format!(
                    "move them first: svcctl volume move-host --from {} --to NEWHOST",
                    match counts.volume_hosts.as_slice() {
                        [one] => one.split('#').next().unwrap_or(one).to_string(),
                        _ => format!("NODE@{key}"),
                    }
                ),
            ),
        ),
        Reason::ClusterOnly { cluster, counts } => (
            format!(
                "{} reach it only through its cluster {cluster}, whose last live service it is \
                 (their hosts name no other live service)",
                describe_counts(counts)
            ),
            hint(
                "; ",
                "move them to a live service first (svcctl volume move-host), or keep another \
                 service in the cluster"
                    .into(),
            ),
        ),
        Reason::Unreadable { column, value } => (
            format!(
                "its {column} holds {}, which is not a valid value of that column: svcctl cannot \
                 judge or record the row faithfully (the record would keep NULL)",
                crate::text::quote(value)
            ),
            hint(
                "; ",
                "correct it in the database, or --force deletes it anyway".into(),
            ),
        ),
        Reason::CameUp => ("came up between plan and write: not deleted".into(), None),
        Reason::GainedReferences => (
            "gained volumes or other references between plan and write: not deleted".into(),
            None,
        ),
    }
}

/// `, or pass --wait DURATION`; after a `--wait` that ran out, what it showed instead.
fn or_wait(waited: Option<u64>) -> String {
    match waited {
        None => ", or pass --wait DURATION (e.g. 5m)".into(),
        Some(secs) => format!(" (it stayed up through --wait {secs})"),
    }
}

/// A service's reasons in one line: each reason, then each different hint once.
fn one_line(item: &Candidate) -> String {
    if let [one] = item.reasons.as_slice() {
        return describe(one, item.row());
    }
    let mut whats = Vec::new();
    let mut hints: Vec<String> = Vec::new();
    for r in &item.reasons {
        let (what, hint) = parts(r, item.row().host());
        whats.push(what);
        if let Some((_, h)) = hint.filter(|(_, h)| !hints.contains(h)) {
            hints.push(h);
        }
    }
    whats.extend(hints);
    whats.join("; ")
}

fn reason_texts(item: &Candidate) -> Vec<String> {
    item.reasons
        .iter()
        .map(|r| describe(r, item.row()))
        .collect()
}

/// A reason in a table cell: the short form. The plan's Heartbeat column gives the
/// heartbeat's age, so the reasons do not repeat it (the refusal lines on stderr give it to
/// the second).
fn short(reason: &Reason) -> String {
    match reason {
        Reason::Up { .. } => "up".into(),
        Reason::UpElsewhere { node, .. } => format!("up on {node}"),
        Reason::FutureHeartbeat { .. } => "heartbeat in the future".into(),
        Reason::UpHereUnnamed { .. } => "up, and no process here names it".into(),
        Reason::StillEnabled { .. } => "still in enabled_backends".into(),
        Reason::InUse(c) => format!("in use: {}", describe_counts(c)),
        Reason::BackendInUse { counts, .. } => {
            format!("backend in use: {}", describe_counts(counts))
        }
        Reason::ClusterOnly { cluster, counts } => {
            format!("cluster {cluster}: {}", describe_counts(counts))
        }
        Reason::Unreadable { column, value } => format!("invalid {column}: {value}"),
        Reason::CameUp => "came up".into(),
        Reason::GainedReferences => "gained references".into(),
    }
}

fn shorts(reasons: &[Reason]) -> String {
    reasons.iter().map(short).collect::<Vec<_>>().join("; ")
}

/// `<what> <binary> <host> (id N): <reasons>` for each item.
fn item_lines<'a>(what: &str, items: impl Iterator<Item = &'a Candidate>) -> Vec<String> {
    items
        .map(|item| {
            format!(
                "{what} {} {} (id {}): {}",
                item.row().binary(),
                item.row().host(),
                item.row().id,
                one_line(item)
            )
        })
        .collect()
}

/// A plain boxed table for svcctl's own reports (plans, results, processes): left-aligned
/// cells within `fit_to` columns, or `PIPED_WIDTH` when no terminal or flag gives a width
/// (see `table::report`: each header says what its column gives up). Every plan and result
/// table comes through here, so every cell is shown through `text::human`: hosts, reasons and
/// command lines other people wrote never reach the terminal raw, and a newline in one never
/// makes a new row.
pub(crate) fn report_table(
    headers: &[(&str, Give)],
    rows: &[Vec<String>],
    fit_to: Option<usize>,
) -> String {
    let width = fit_to.unwrap_or(PIPED_WIDTH);
    let hostile = |c: &String| c.chars().any(crate::text::hostile);
    if !rows.iter().flatten().any(hostile) {
        return report(headers, rows, width);
    }
    let shown: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|c| crate::text::human(c).into_owned())
                .collect()
        })
        .collect();
    report(headers, &shown, width)
}

/// The plan as a table: what will happen to each service.
fn plan_table(plan: &Plan, force: bool, fit_to: Option<usize>) -> String {
    let rows: Vec<Vec<String>> = plan
        .items
        .iter()
        .map(|i| {
            let r = i.row();
            let verdict = match (i.reasons.is_empty(), force) {
                (true, _) if i.heartbeat_exempt => format!(
                    "delete (on {}; after its processes here are stopped)",
                    plan.exempt_on.as_deref().unwrap_or("this node")
                ),
                (true, _) => "delete".to_string(),
                (false, true) => format!("delete (--force over: {})", shorts(&i.reasons)),
                (false, false) => format!("refuse: {}", shorts(&i.reasons)),
            };
            // No State column: a verdict says `up` wherever it matters, and the heartbeat's
            // age says how long a service has been silent in a tenth of a timestamp's width.
            vec![
                r.id.to_string(),
                r.binary().to_string(),
                r.host().to_string(),
                r.heartbeat().map_or("never".into(), |t| age(t, plan.now)),
                verdict,
            ]
        })
        .collect();
    report_table(
        &[
            ("ID", Give::Keep),
            ("Binary", Give::Keep),
            ("Host", Give::Cut),
            ("Heartbeat", Give::Keep),
            ("Verdict", Give::Wrap),
        ],
        &rows,
        fit_to,
    )
}

/// What the write did, as a table: each deleted service, and each one kept after all (when the
/// write rolled back, only those).
fn result_table(outcome: &Deletion, fit_to: Option<usize>) -> String {
    let row = |s: &Service, result: String| {
        vec![
            s.row.id.to_string(),
            s.row.binary().to_string(),
            s.row.host().to_string(),
            result,
        ]
    };
    let rolled_back = !outcome.not_deleted.is_empty();
    let mut rows: Vec<Vec<String>> = outcome
        .deleted
        .iter()
        .filter(|_| !rolled_back)
        .map(|d| {
            let result = if d.overridden.is_empty() {
                "deleted"
            } else {
                "deleted (forced)"
            };
            row(&d.service, result.into())
        })
        .collect();
    rows.extend(
        outcome
            .not_deleted
            .iter()
            .map(|i| row(&i.service, format!("not deleted: {}", shorts(&i.reasons)))),
    );
    report_table(&RESULT_HEADERS, &rows, fit_to)
}

/// The headers of every result table of services: the service, and what became of it.
pub(crate) const RESULT_HEADERS: [(&str, Give); 4] = [
    ("ID", Give::Keep),
    ("Binary", Give::Keep),
    ("Host", Give::Cut),
    ("Result", Give::Wrap),
];

/// The processes `backend cleanup` is about to stop.
fn planned_processes_table(procs: &[Stopped], kill_timeout: u64, fit_to: Option<usize>) -> String {
    report_table(
        &[
            ("PID", Give::Keep),
            ("Command Line", Give::Cut),
            ("Action", Give::Wrap),
        ],
        &procs
            .iter()
            .map(|p| {
                vec![
                    p.pid.to_string(),
                    p.cmdline.clone(),
                    format!("SIGTERM, SIGKILL after {kill_timeout}s"),
                ]
            })
            .collect::<Vec<_>>(),
        fit_to,
    )
}

/// The processes `backend cleanup` stopped.
fn stopped_processes_table(stopped: &[Stopped], fit_to: Option<usize>) -> String {
    report_table(
        &[
            ("PID", Give::Keep),
            ("Command Line", Give::Cut),
            ("Signal", Give::Keep),
            ("Stopped", Give::Keep),
        ],
        &stopped
            .iter()
            .map(|s| {
                vec![
                    s.pid.to_string(),
                    s.cmdline.clone(),
                    s.signal.clone().unwrap_or_else(|| "-".into()),
                    if s.stopped { "yes" } else { "NO" }.into(),
                ]
            })
            .collect::<Vec<_>>(),
        fit_to,
    )
}

/// A deleted (or, in a dry run, to-be-deleted) service: the row, and what `--force` overrode.
type DeletedEntry<'a> = With<ServiceJson<'a>, Overridden>;

/// A refused (or kept) service: the row, and why.
type RefusedEntry<'a> = With<ServiceJson<'a>, Reasons<ReasonJson<'a>>>;

/// Why, for a script to branch on: `kind` names the rule, the other keys are its evidence
/// (null where the rule has none), `text` says it for a person.
#[derive(Serialize)]
pub(crate) struct ReasonJson<'a> {
    kind: &'static str,
    seconds_ago: Option<i64>,
    counts: Option<&'a RefCounts>,
    /// The first few hosts of the volumes in `counts`; `text` says how many more.
    hosts: Option<&'a [String]>,
    text: String,
}

fn reason_json<'a>(reason: &'a Reason, row: &ServiceRow) -> ReasonJson<'a> {
    let (kind, seconds_ago, counts) = match reason {
        Reason::Up { seconds_ago } => ("up", Some(*seconds_ago), None),
        Reason::UpElsewhere { seconds_ago, .. } => ("up_elsewhere", Some(*seconds_ago), None),
        Reason::UpHereUnnamed { seconds_ago, .. } => ("up_here_unnamed", Some(*seconds_ago), None),
        Reason::FutureHeartbeat { seconds } => ("future_heartbeat", Some(-*seconds), None),
        Reason::StillEnabled { .. } => ("still_enabled", None, None),
        Reason::ClusterOnly { counts, .. } => ("cluster_in_use", None, Some(counts)),
        Reason::InUse(c) => ("in_use", None, Some(c)),
        Reason::BackendInUse { counts, .. } => ("backend_in_use", None, Some(counts)),
        Reason::Unreadable { .. } => ("invalid_value", None, None),
        Reason::CameUp => ("came_up", None, None),
        Reason::GainedReferences => ("gained_references", None, None),
    };
    ReasonJson {
        kind,
        seconds_ago,
        counts,
        hosts: counts.map(|c| shown_hosts(&c.volume_hosts)),
        text: describe(reason, row),
    }
}

/// The JSON result document of every deleting command, with the same keys on every path
/// (nothing matched, refused, dry run, done), by the one rule (`output::document`); the
/// processes only from `backend cleanup`. `cluster remove` of an empty cluster prints it too.
#[derive(Serialize)]
pub(crate) struct ResultDoc<'a> {
    pub dry_run: bool,
    /// A dry run's services that the real run would delete; empty otherwise.
    pub would_delete: Vec<DeletedEntry<'a>>,
    /// What was deleted; always empty in a dry run.
    pub deleted: Vec<DeletedEntry<'a>>,
    pub refused: Vec<RefusedEntry<'a>>,
    /// A dry run's clusters that the real run would soft-delete; empty otherwise.
    pub would_delete_clusters: Vec<ClusterRowJson>,
    /// The clusters deleted; always empty in a dry run.
    pub deleted_clusters: Vec<ClusterRowJson>,
    pub already_deleted: &'a [i64],
    /// `processes` and `shared_processes`, from `backend cleanup` only.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub processes: Option<ProcessReport<'a>>,
}

impl ResultDoc<'_> {
    /// Every list empty.
    pub fn empty(dry_run: bool) -> Self {
        ResultDoc {
            dry_run,
            would_delete: Vec::new(),
            deleted: Vec::new(),
            refused: Vec::new(),
            would_delete_clusters: Vec::new(),
            deleted_clusters: Vec::new(),
            already_deleted: &[],
            processes: None,
        }
    }
}

fn refused_entry(item: &Candidate) -> RefusedEntry<'_> {
    With {
        row: document::service(&item.service),
        extra: Reasons {
            reasons: item
                .reasons
                .iter()
                .map(|r| reason_json(r, item.row()))
                .collect(),
        },
    }
}

/// What the delete selected, for its question and for "nothing matched".
#[derive(Debug, Clone)]
pub(crate) enum Scope {
    /// `service delete --host ...` (or a sweep without hosts).
    Hosts {
        hosts: Vec<String>,
        binary: Option<String>,
        down_for: Option<String>,
    },
    /// `cluster remove --recursive`: the cluster's services.
    Cluster { name: String },
    /// `backend cleanup`: a backend's services on every node, and its processes here.
    Backend {
        key: String,
        node: String,
        no_kill: bool,
    },
}

/// `backend cleanup`'s processes on this node.
#[derive(Debug, Clone)]
pub(crate) struct Processes<'a> {
    /// The processes naming the backend, as planned (not yet signalled).
    pub planned: Vec<Stopped>,
    /// The same, as stopped, once they were (set by the cleanup before its write).
    pub stopped: &'a OnceCell<Vec<Stopped>>,
    /// The cinder-volume processes naming no backend, left alone.
    pub shared: Vec<Proc>,
    pub kill_timeout: u64,
    /// The backend is still in enabled_backends (refused unless `--force`).
    pub still_enabled: Option<Reason>,
}

impl Processes<'_> {
    fn report(&self) -> ProcessReport<'_> {
        ProcessReport {
            processes: self.stopped.get().unwrap_or(&self.planned),
            shared_processes: &self.shared,
        }
    }
}

/// How a delete is shown.
pub(crate) struct DeleteReport<'a> {
    pub plan: &'a Plan,
    pub scope: Scope,
    pub style: &'a ReportArgs,
    pub processes: Option<Processes<'a>>,
}

impl DeleteReport<'_> {
    fn fit_to(&self) -> Option<usize> {
        self.style.table.fit_to()
    }

    /// The processes `backend cleanup` stopped, if it stopped any.
    fn stopped(&self) -> Option<&[Stopped]> {
        let p = self.processes.as_ref()?;
        p.stopped.get().map(Vec::as_slice).filter(|s| !s.is_empty())
    }

    /// The stopped processes' table, when a cleanup fails after stopping them (tables only).
    pub fn stopped_table(&self) -> Option<String> {
        if self.style.document() {
            return None;
        }
        self.stopped()
            .map(|s| stopped_processes_table(s, self.fit_to()))
    }

    fn process_report(&self) -> Option<ProcessReport<'_>> {
        self.processes.as_ref().map(Processes::report)
    }

    /// Backend cleanup with only processes to stop, refused for a reason of its own.
    fn processes_only_refusal(&self, force: bool) -> Option<&Reason> {
        let p = self.processes.as_ref()?;
        (self.plan.items.is_empty() && !force)
            .then_some(p.still_enabled.as_ref())
            .flatten()
    }
}

impl Render for DeleteReport<'_> {
    type Outcome = Deletion;

    fn verb(&self) -> Verb {
        Verb {
            base: "delete",
            past: "soft-deleted",
        }
    }

    fn what(&self, flags: &Flags) -> String {
        let n = self.plan.to_write(flags.force).count();
        format!("{n} service{}", plural(n))
    }

    fn plan(&self, flags: &Flags) -> String {
        let mut out = String::new();
        if let Some(p) = self.processes.as_ref().filter(|p| !p.planned.is_empty()) {
            out.push_str(&planned_processes_table(
                &p.planned,
                p.kill_timeout,
                self.fit_to(),
            ));
        }
        out.push_str(&plan_table(self.plan, flags.force, self.fit_to()));
        out
    }

    fn notes(&self, flags: &Flags) -> Vec<String> {
        let mut lines = if flags.skip_refused {
            item_lines("refused", self.plan.refused())
        } else if flags.force {
            item_lines("WARNING: --force: deleting", self.plan.refused())
        } else {
            Vec::new()
        };
        let touched = self.plan.clusters_touched(flags.force);
        if matches!(self.scope, Scope::Hosts { .. })
            && !self.plan.keep_clusters
            && !touched.is_empty()
        {
            lines.push(format!(
                "cluster{} {}: soft-deleted too if this leaves {} with no live service and no \
                 live row names {} ({EMPTIED_CLUSTERS}; --keep-clusters keeps them)",
                plural(touched.len()),
                touched
                    .iter()
                    .map(|(name, _)| name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                if touched.len() == 1 { "it" } else { "them" },
                if touched.len() == 1 { "it" } else { "them" },
            ));
        }
        lines
    }

    fn question(&self, flags: &Flags) -> String {
        // A cluster's or a backend's services go as a whole (any refusal stops them all).
        let n = self.plan.items.len();
        let all = format!("{n} service{}", plural(n));
        match &self.scope {
            Scope::Hosts { .. } => format!("Delete {}?", self.what(flags)),
            Scope::Cluster { name } => format!("Delete {all} of cluster {name} and the cluster?"),
            Scope::Backend { node, key, .. } => match self.processes.as_ref() {
                Some(p) if !p.planned.is_empty() => format!(
                    "Stop {} process{} on {node} and delete {all}?",
                    p.planned.len(),
                    crate::text::plural_es(p.planned.len())
                ),
                _ => format!("Delete {all} of backend {key}?"),
            },
        }
    }

    fn document<'a>(&'a self, end: &'a End<Deletion>, flags: &Flags) -> impl Serialize + 'a {
        let entry = |service: &'a Service, overridden: Vec<String>| With {
            row: document::service(service),
            extra: Overridden { overridden },
        };
        let mut doc = ResultDoc::empty(flags.dry_run);
        doc.processes = self.process_report();
        match end {
            End::Refused | End::AllRefused => {
                doc.refused = self.plan.refused().map(refused_entry).collect();
            }
            End::DryRun => {
                doc.would_delete = self
                    .plan
                    .to_write(flags.force)
                    .map(|i| entry(&i.service, reason_texts(i)))
                    .collect();
                doc.would_delete_clusters = self
                    .plan
                    .would_empty
                    .iter()
                    .map(ClusterRowJson::row)
                    .collect();
            }
            End::Done(done) => {
                for outcome in done {
                    doc.deleted.extend(outcome.deleted.iter().map(|d| {
                        let texts = d
                            .overridden
                            .iter()
                            .map(|r| describe(r, &d.service.row))
                            .collect();
                        entry(&d.service, texts)
                    }));
                    doc.deleted_clusters
                        .extend(outcome.clusters_before.iter().map(ClusterRowJson::row));
                    doc.already_deleted = &outcome.already_gone;
                }
                // With --skip-refused the plan's refusals are part of the result.
                if flags.skip_refused {
                    doc.refused = self.plan.refused().map(refused_entry).collect();
                }
            }
            End::RolledBack(outcome) => {
                doc.refused = outcome.not_deleted.iter().map(refused_entry).collect();
                doc.already_deleted = &outcome.already_gone;
            }
            End::NothingMatched | End::Unchanged | End::Declined => {}
        }
        doc
    }

    fn result(&self, done: &[Deletion]) -> Option<String> {
        let mut out = String::new();
        if let Some(stopped) = self.stopped() {
            out.push_str(&stopped_processes_table(stopped, self.fit_to()));
        }
        let empty = Deletion::default();
        out.push_str(&result_table(done.first().unwrap_or(&empty), self.fit_to()));
        Some(out)
    }

    fn typed_a_name(&self) -> bool {
        !matches!(&self.scope, Scope::Hosts { hosts, .. } if hosts.is_empty())
    }

    fn nothing(&self) -> String {
        match &self.scope {
            Scope::Hosts {
                hosts,
                binary,
                down_for,
            } => format!(
                "no live service{} {}{}",
                binary.as_deref().map_or(String::new(), |b| format!(" {b}")),
                if hosts.is_empty() {
                    "on any host".to_string()
                } else {
                    format!("on host {}", hosts.join(", "))
                },
                down_for
                    .as_ref()
                    .map_or(String::new(), |d| format!(" down for {d} or more"))
            ),
            Scope::Cluster { name } => format!("no live service in cluster {name}"),
            Scope::Backend { key, no_kill, .. } => format!(
                "no live cinder-volume service of backend {key} on any node{}",
                if *no_kill {
                    ""
                } else {
                    ", and no leftover process of it here"
                }
            ),
        }
    }

    fn refused(&self, flags: &Flags) -> (Vec<String>, String) {
        if let Some(reason) = self.processes_only_refusal(flags.force) {
            // No service to refuse, only processes: refuse them, for the same reason.
            return (
                Vec::new(),
                format!(
                    "{}; nothing was changed (--force stops its processes anyway)",
                    describe_for_host(reason, "")
                ),
            );
        }
        let n = self.plan.refused().count();
        (
            item_lines("refusing", self.plan.refused()),
            format!(
                "refused {n} service{}; nothing was changed{} (--force deletes anyway; \
                 --skip-refused deletes the others)",
                plural(n),
                if flags.dry_run { " (dry run)" } else { "" }
            ),
        )
    }

    fn all_refused(&self) -> String {
        let n = self.plan.refused().count();
        format!(
            "all {n} service{} refused (listed above); nothing was changed",
            plural(n)
        )
    }

    fn done(&self, done: &[Deletion], audit: Option<&Path>, flags: &Flags) -> Vec<String> {
        let empty = Deletion::default();
        let outcome = done.first().unwrap_or(&empty);
        let n = outcome.deleted.len();
        let mut lines = vec![format!(
            "soft-deleted {n} service{}{}{}",
            plural(n),
            match outcome.clusters_deleted.len() {
                0 => String::new(),
                c => format!(
                    " and {c} emptied cluster{} ({}{})",
                    plural(c),
                    outcome
                        .clusters_deleted
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    match self.scope {
                        // Removing the cluster is what `cluster remove --recursive` is for.
                        Scope::Cluster { .. } => String::new(),
                        Scope::Hosts { .. } => {
                            format!("; {EMPTIED_CLUSTERS}; --keep-clusters keeps them")
                        }
                        Scope::Backend { .. } => format!("; {EMPTIED_CLUSTERS}"),
                    }
                ),
            },
            audit_note(audit)
        )];
        let gone = &outcome.already_gone;
        if !gone.is_empty() {
            lines.push(format!(
                "{} service{} had already been deleted by someone else: ids {gone:?}",
                gone.len(),
                plural(gone.len()),
            ));
        }
        if flags.skip_refused || self.plan.sweep.is_some() {
            let refused = if flags.skip_refused {
                self.plan.refused().count()
            } else {
                0
            };
            let scope = match &self.plan.sweep {
                Some(s) => format!(
                    "sweep of services down for {} or more{}",
                    s.down_for,
                    if s.every_host { " on every host" } else { "" }
                ),
                None => "skip-refused".into(),
            };
            lines.push(format!(
                "{scope}: deleted {n} service{}, refused {refused}{}",
                plural(n),
                if refused > 0 { " (listed above)" } else { "" }
            ));
        }
        lines
    }

    fn rolled_back(&self, outcome: &Deletion) -> (Vec<String>, String) {
        let n = outcome.not_deleted.len();
        let ids: Vec<String> = outcome
            .not_deleted
            .iter()
            .map(|i| i.row().id.to_string())
            .collect();
        (
            item_lines("not deleted", outcome.not_deleted.iter()),
            format!(
                "{n} planned service{} changed between plan and write (id {}); nothing was \
                 changed: the whole write was rolled back; run the command again for a new plan",
                plural(n),
                ids.join(", ")
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ServiceRow;

    /// A service refused for its own volume and for its backend's says "move them first"
    /// once: one reason, one hint.
    #[test]
    fn a_line_of_several_reasons_gives_each_hint_once() {
        let host = "node02@backend-2813902f-2c94";
        let counts = RefCounts {
            volumes: 1,
            volume_hosts: vec![format!("{host}#nvme")],
            ..RefCounts::default()
        };
        let row = ServiceRow::example(21, host, "cinder-volume", None);
        let item = Candidate {
            service: Service::judge(row, crate::plan::plan_now(), 60),
            reasons: vec![
                Reason::InUse(counts.clone()),
                Reason::BackendInUse {
                    key: "backend-2813902f-2c94".into(),
                    counts,
                },
            ],
            heartbeat_exempt: false,
        };
        let line = one_line(&item);
        assert_eq!(line.matches("move them first").count(), 1, "{line}");
        assert!(line.starts_with("in use: 1 volume on "), "{line}");
        assert!(line.contains("the backend still owns 1 volume"), "{line}");
        // One reason alone reads as before: the reason, then its hint.
        item_lines(
            "refusing",
            std::iter::once(&Candidate {
                reasons: item.reasons[..1].to_vec(),
                ..item.clone()
            }),
        )
        .iter()
        .for_each(|l| assert!(l.ends_with("--to NEWHOST"), "{l}"));
    }
}
