//! Deciding `cluster remove NAME --binary B`: the live cluster, whether live services still
//! carry its name (refused unless `--recursive`, which goes through the delete's plan), and
//! whether live volumes, groups or cache entries name it through their `cluster_name`
//! (refused unless `--force`, as `service delete` refuses a host they name).

use anyhow::Result;

use super::Decision;
use crate::db::Db;
use crate::db::clusters::{self, ClusterRow, Member};
use crate::db::references::{self, RefCounts};

/// The removal of one cluster.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub name: String,
    pub binary: String,
    /// None when no live cluster has that name and binary.
    pub cluster: Option<ClusterRow>,
    /// The live services that name it.
    pub members: Vec<Member>,
    /// The live rows that name it through their `cluster_name` (`c1@lvm`, `c1@lvm#pool`).
    pub named_by: RefCounts,
}

impl Plan {
    /// Members of another binary than the cluster's: `--recursive` leaves them, so refuses.
    pub fn other_members(&self) -> impl Iterator<Item = &Member> {
        self.members
            .iter()
            .filter(|m| m.binary.as_deref() != Some(self.binary.as_str()))
    }

    /// An empty cluster is removed; one with members is refused (this plan never deletes
    /// services: `--recursive` plans their deletion with the delete's plan), and one that live
    /// rows name unless `force`.
    pub fn decide(&self, force: bool) -> Decision {
        let matched = usize::from(self.cluster.is_some());
        let named = self.named_by.total() > 0 && !force;
        let refused = usize::from(!self.members.is_empty() || named);
        Decision {
            matched,
            refused,
            to_change: matched - refused.min(matched),
        }
    }
}

/// The live cluster `name` of `binary`, and its members.
pub(crate) async fn build(db: &mut Db, name: &str, binary: &str) -> Result<Plan> {
    let cluster = clusters::find_live(db, name, binary).await?;
    let (members, named_by) = match &cluster {
        Some(c) => (
            clusters::members(db, Some(&c.name)).await?,
            references::count_cluster_named(db, c.id).await?,
        ),
        None => (Vec::new(), RefCounts::default()),
    };
    Ok(Plan {
        name: name.to_string(),
        binary: binary.to_string(),
        cluster,
        members,
        named_by,
    })
}
