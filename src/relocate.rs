//! Deciding a host move (`volume move-host`, `backup move-host`) before anything is written:
//! the target service, what moves where (the pool kept, the target's uuid and cluster), and
//! what must be refused and why. The write repeats every condition in its WHERE clause.

use chrono::NaiveDateTime;

use crate::audit::Placement;
use crate::db::hosted::HostedRow;
use crate::model::Service;

/// What moves: volumes (with their groups and consistency groups), or backups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Volume,
    Backup,
}

impl Kind {
    /// The binary of a service that may own the rows.
    pub fn binary(self) -> &'static str {
        match self {
            Kind::Volume => "cinder-volume",
            Kind::Backup => "cinder-backup",
        }
    }

    /// The tables whose rows move, the main one first.
    pub fn tables(self) -> &'static [&'static str] {
        match self {
            Kind::Volume => &["volumes", "groups", "consistencygroups"],
            Kind::Backup => &["backups"],
        }
    }

    /// Whether hosts carry a `#pool` (volume hosts do; a backup's host is the backup node).
    pub fn pools(self) -> bool {
        self == Kind::Volume
    }

    pub fn noun(self) -> &'static str {
        match self {
            Kind::Volume => "volume",
            Kind::Backup => "backup",
        }
    }
}

/// Statuses of rows being worked on (or held for someone): a move under them would strand
/// the work, so they are refused. From cinder/objects/fields.py and CINDER-NOTES.
pub(crate) fn busy_statuses(table: &str) -> &'static [&'static str] {
    match table {
        "volumes" => &[
            "creating",
            "deleting",
            "attaching",
            "detaching",
            "migrating",
            "extending",
            "retyping",
            "backing-up",
            "restoring-backup",
            "uploading",
            "downloading",
            "managing",
            "maintenance",
            "reserved",
            "awaiting-transfer",
        ],
        "backups" => &["creating", "deleting", "restoring"],
        _ => &["creating", "deleting", "updating"],
    }
}

/// `migration_status` values of a finished (or never started) migration; any other value is
/// a migration in progress.
pub(crate) const SETTLED_MIGRATION: &[&str] = &["success", "error", "none"];

/// Why a row must not move now, if it must not.
pub(crate) fn busy(table: &str, row: &HostedRow) -> Option<String> {
    if let Some(s) = row
        .status
        .as_deref()
        .filter(|s| busy_statuses(table).contains(s))
    {
        return Some(format!("status {s}"));
    }
    row.migration_status
        .as_deref()
        .filter(|m| !SETTLED_MIGRATION.contains(m))
        .map(|m| format!("migration_status {m}"))
}

/// The service the rows move to, and the host (with the pool `--to` may name) they get.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub service: Service,
    /// `--to` as given: `host@backend`, or `host@backend#pool` to force a pool.
    pub to: String,
}

impl Target {
    /// Where `row` goes: host `TO#pool` keeping its pool unless `--to` names one, the target's
    /// uuid, and its cluster (with the pool, as Cinder writes a volume's cluster_name).
    /// Only volumes carry a `service_uuid`; backups carry no `cluster_name`.
    pub fn placement(&self, table: &str, row: &HostedRow, pools: bool) -> Placement {
        let (base, named) = match self.to.split_once('#') {
            Some((b, p)) => (b, Some(p)),
            None => (self.to.as_str(), None),
        };
        let pool = named.or(if pools { row.pool() } else { None });
        let with_pool = |base: &str| match pool {
            Some(p) => format!("{base}#{p}"),
            None => base.to_string(),
        };
        Placement {
            host: Some(with_pool(base)),
            service_uuid: self.service.row.uuid.clone().filter(|_| table == "volumes"),
            cluster_name: (table != "backups")
                .then(|| self.service.row.cluster_name.as_deref().map(with_pool))
                .flatten(),
        }
    }
}

/// One row the plan moves.
#[derive(Debug, Clone)]
pub(crate) struct Move {
    pub table: &'static str,
    pub id: String,
    pub status: Option<String>,
    pub old: Placement,
    pub new: Placement,
}

/// One row the plan refuses to move.
#[derive(Debug, Clone)]
pub(crate) struct Blocked {
    pub table: &'static str,
    pub row: HostedRow,
    pub why: String,
}

/// The whole plan of one host move (or of one `--undo`).
#[derive(Debug, Clone)]
pub(crate) struct MovePlan {
    pub kind: Kind,
    pub from: String,
    pub to: String,
    /// None for an undo: the rows go back where they were.
    pub target: Option<Target>,
    pub moves: Vec<Move>,
    pub blocked: Vec<Blocked>,
    /// Heartbeats before this are down: the write requires the target's to be at or after it
    /// (None with `--force`, or for an undo).
    pub target_alive_since: Option<NaiveDateTime>,
    /// The transaction an undo reverses.
    pub undo_of: Option<String>,
}

impl MovePlan {
    /// Splits the rows on FROM into moves and refusals.
    pub fn build(
        kind: Kind,
        from: &str,
        target: Target,
        rows: Vec<(&'static str, HostedRow)>,
        target_alive_since: Option<NaiveDateTime>,
    ) -> MovePlan {
        let mut moves = Vec::new();
        let mut blocked = Vec::new();
        for (table, row) in rows {
            if let Some(why) = busy(table, &row) {
                blocked.push(Blocked { table, row, why });
                continue;
            }
            moves.push(Move {
                table,
                id: row.id.clone(),
                status: row.status.clone(),
                new: target.placement(table, &row, kind.pools()),
                old: placement_of(&row),
            });
        }
        MovePlan {
            kind,
            from: from.to_string(),
            to: target.to.clone(),
            target: Some(target),
            moves,
            blocked,
            target_alive_since,
            undo_of: None,
        }
    }
}

pub(crate) fn placement_of(row: &HostedRow) -> Placement {
    Placement {
        host: row.host.clone(),
        service_uuid: row.service_uuid.clone(),
        cluster_name: row.cluster_name.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ServiceRow;

    fn row(host: &str) -> HostedRow {
        HostedRow {
            id: "v".into(),
            host: Some(host.into()),
            status: Some("available".into()),
            migration_status: None,
            service_uuid: Some("old".into()),
            cluster_name: None,
        }
    }

    fn target(to: &str, cluster: Option<&str>) -> Target {
        let mut r = ServiceRow::example(1, to.split('#').next().unwrap(), "cinder-volume", None);
        r.uuid = Some("new".into());
        r.cluster_name = cluster.map(String::from);
        Target {
            service: Service {
                row: r,
                up: true,
                updated_at: None,
            },
            to: to.into(),
        }
    }

    #[test]
    fn the_pool_is_kept_unless_the_target_names_one() {
        let p = target("n1@b", Some("c@b")).placement("volumes", &row("n2@b#nvme"), true);
        assert_eq!(p.host.as_deref(), Some("n1@b#nvme"));
        assert_eq!(p.cluster_name.as_deref(), Some("c@b#nvme"));
        assert_eq!(p.service_uuid.as_deref(), Some("new"));
        let p = target("n1@b#ssd", None).placement("volumes", &row("n2@b#nvme"), true);
        assert_eq!(p.host.as_deref(), Some("n1@b#ssd"));
        assert_eq!(p.cluster_name, None);
        let p = target("n1@b#ssd", Some("c@b")).placement("volumes", &row("n2@b#nvme"), true);
        assert_eq!(p.cluster_name.as_deref(), Some("c@b#ssd"));
        let p = target("n1@b", None).placement("volumes", &row("n2@b"), true);
        assert_eq!(p.host.as_deref(), Some("n1@b"));
    }

    #[test]
    fn work_in_progress_is_busy() {
        let mut r = row("n2@b");
        assert_eq!(busy("volumes", &r), None);
        r.status = Some("attaching".into());
        assert_eq!(busy("volumes", &r).as_deref(), Some("status attaching"));
        r.status = Some("in-use".into());
        r.migration_status = Some("migrating".into());
        assert!(busy("volumes", &r).is_some());
        r.migration_status = Some("success".into());
        assert_eq!(busy("volumes", &r), None);
    }
}
