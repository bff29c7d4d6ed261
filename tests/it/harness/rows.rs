//! Named views of one row, read as the administrator sees it: a field per column, each as text
//! (NULL as None, `CAST(.. AS CHAR/TEXT)` on either backend), so an assertion names the column
//! it checks instead of an index into a SELECT written somewhere else.

use super::database::TestDb;

/// A row of `services`: the columns the tests check after svcctl's writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRow {
    pub deleted: Option<String>,
    pub deleted_at: Option<String>,
    pub updated_at: Option<String>,
    pub disabled: Option<String>,
    pub disabled_reason: Option<String>,
    pub modified_at: Option<String>,
}

/// A row of `clusters`: how Cinder's `cluster_destroy` leaves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterRow {
    pub deleted: Option<String>,
    pub deleted_at: Option<String>,
    pub race_preventer: Option<String>,
}

/// Where a row of `volumes`, `groups` or `backups` points: its host, and its service_uuid and
/// cluster_name where the table has them (None where it has no such column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub host: Option<String>,
    pub service_uuid: Option<String>,
    pub cluster_name: Option<String>,
}

impl TestDb {
    /// Service `id`'s row; a test that asks for a missing row fails here.
    pub fn service_row(&self, id: i64) -> ServiceRow {
        let [
            deleted,
            deleted_at,
            updated_at,
            disabled,
            disabled_reason,
            modified_at,
        ] = self.one_row(
            "services",
            [
                "deleted",
                "deleted_at",
                "updated_at",
                "disabled",
                "disabled_reason",
                "modified_at",
            ],
            &id.to_string(),
        );
        ServiceRow {
            deleted,
            deleted_at,
            updated_at,
            disabled,
            disabled_reason,
            modified_at,
        }
    }

    /// Cluster `id`'s row.
    pub fn cluster_row(&self, id: i64) -> ClusterRow {
        let [deleted, deleted_at, race_preventer] = self.one_row(
            "clusters",
            ["deleted", "deleted_at", "race_preventer"],
            &id.to_string(),
        );
        ClusterRow {
            deleted,
            deleted_at,
            race_preventer,
        }
    }

    /// Where row `id` of `table` (volumes, groups or backups) points.
    pub fn placement(&self, table: &str, id: &str) -> Placement {
        let uuid = if table == "volumes" {
            "service_uuid"
        } else {
            "NULL"
        };
        let cluster = if table == "backups" {
            "NULL"
        } else {
            "cluster_name"
        };
        let [host, service_uuid, cluster_name] = self
            .rows(&format!(
                "SELECT host, {}, {} FROM `{table}` WHERE id = '{id}'",
                self.text(uuid),
                self.text(cluster)
            ))
            .remove(0)
            .try_into()
            .unwrap();
        Placement {
            host,
            service_uuid,
            cluster_name,
        }
    }

    /// `cols` of the row of `table` whose id is `id` (a number, or quoted text), as text.
    fn one_row<const N: usize>(
        &self,
        table: &str,
        cols: [&str; N],
        id: &str,
    ) -> [Option<String>; N] {
        let cast: Vec<String> = cols.iter().map(|c| self.text(c)).collect();
        let mut rows = self.rows(&format!(
            "SELECT {} FROM {table} WHERE id = {id}",
            cast.join(", ")
        ));
        assert_eq!(rows.len(), 1, "no row {id} in {table}");
        rows.remove(0).try_into().unwrap()
    }
}
