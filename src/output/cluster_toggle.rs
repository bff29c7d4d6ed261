//! `service disable|enable --cluster`'s rendering: the plan line, the JSON document, the words.

use serde::Serialize;

use super::document::ClusterRowJson;
use super::report::{Render, Verb};
use super::table::{PIPED_WIDTH, note_line};
use super::toggle::ToggleDoc;
use crate::apply::{End, Flags};
use crate::audit::ClusterRecord;
use crate::db::clusters::ClusterRow;
use crate::plan::cluster_toggle::Plan;
use crate::text::quote;

/// How disabling or enabling a cluster is shown.
pub(crate) struct ClusterToggleReport<'a>(pub &'a Plan);

/// `cluster c1@lvm (cinder-volume)`.
fn name(p: &Plan) -> String {
    format!("cluster {} ({})", p.name, p.binary)
}

impl Render for ClusterToggleReport<'_> {
    type Outcome = Option<ClusterRow>;

    fn verb(&self) -> Verb {
        super::toggle::verb(self.0.reason.is_some())
    }

    fn what(&self, _flags: &Flags) -> String {
        name(self.0)
    }

    /// One line (wrapped at 80 columns, as the plan tables fit them piped): the cluster as it
    /// is, and what is to happen to it.
    fn plan(&self, _flags: &Flags) -> String {
        let Some(c) = self.0.cluster.as_ref().map(ClusterRecord::new) else {
            return String::new();
        };
        let why = c.disabled_reason.as_deref().map_or("-".into(), quote);
        let act = Some("none").filter(|_| self.0.is_done());
        let act = act.unwrap_or(self.verb().base);
        let (what, id, status) = (name(self.0), c.id, c.status.unwrap_or_default());
        let line = format!("{what}, id {id}: {status}, reason {why}; action: {act}");
        note_line(&line, PIPED_WIDTH)
    }

    /// `service disable`/`enable`'s document, the cluster in its `_clusters` lists, as it was.
    fn document<'a>(&'a self, end: &'a End<Self::Outcome>, flags: &Flags) -> impl Serialize + 'a {
        let mut doc = ToggleDoc::empty(flags.dry_run, self.0.reason.is_some());
        let cluster = self.0.cluster.iter().map(ClusterRowJson::row);
        match end {
            End::DryRun => doc.would_clusters = cluster.collect(),
            End::Done(_) => doc.done_clusters = cluster.collect(),
            End::Unchanged => doc.unchanged_clusters = cluster.collect(),
            _ => {}
        }
        doc
    }

    fn nothing(&self) -> String {
        format!("no live {}", name(self.0))
    }

    fn unchanged(&self) -> String {
        let what = name(self.0);
        format!("{what} is already {}; nothing to do", self.verb().past)
    }

    fn rolled_back(&self, _: &Option<ClusterRow>) -> (Vec<String>, String) {
        let what = name(self.0);
        let error = format!("{what} was removed between plan and write; nothing was changed");
        (Vec::new(), error)
    }
}
