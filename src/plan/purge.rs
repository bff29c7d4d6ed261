//! Deciding a purge (`service purge --older-than DAYS`): the soft-deleted services and clusters
//! old enough to hard-delete, and the services skipped because a foreign key still names them
//! (`volumes.service_uuid`, `workers.service_id`, even from deleted rows).

use anyhow::Result;
use chrono::NaiveDateTime;

use super::Decision;
use crate::db::Db;
use crate::db::clusters::{self, ClusterRow};
use crate::db::foreign_keys::{self, FkCounts};
use crate::db::services;
use crate::model::Service;

/// What a purge hard-deletes, in batches, and what it skips.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// `--older-than` as given, in days.
    pub older_than: i64,
    /// Rows deleted before this go.
    pub cutoff: NaiveDateTime,
    pub service_down_time: i64,
    pub services: Vec<Service>,
    /// Services a foreign key still names: skipped, never a failed batch.
    pub skipped: Vec<(Service, FkCounts)>,
    pub clusters: Vec<ClusterRow>,
    /// Rows per transaction.
    pub batch: usize,
}

impl Plan {
    pub fn decide(&self) -> Decision {
        let matched = self.services.len() + self.clusters.len();
        Decision::unrefused(matched, matched)
    }
}

/// The purge of rows soft-deleted more than `older_than` days before `now`.
pub(crate) async fn build(
    db: &mut Db,
    older_than: i64,
    batch: usize,
    now: NaiveDateTime,
    service_down_time: i64,
) -> Result<Plan> {
    let cutoff = now - chrono::Duration::days(older_than);
    let rows = services::deleted_before(db, cutoff).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let named = foreign_keys::count(db, &ids).await?;
    let (mut purgeable, mut skipped) = (Vec::new(), Vec::new());
    for row in rows {
        let s = Service::judge(row, now, service_down_time);
        match named.get(&s.row.id).filter(|c| c.volumes + c.workers > 0) {
            Some(c) => skipped.push((s, *c)),
            None => purgeable.push(s),
        }
    }
    let clusters = if clusters::supported(&db.schema) {
        clusters::deleted_before(db, cutoff).await?
    } else {
        Vec::new()
    };
    Ok(Plan {
        older_than,
        cutoff,
        service_down_time,
        services: purgeable,
        skipped,
        clusters,
        batch,
    })
}
