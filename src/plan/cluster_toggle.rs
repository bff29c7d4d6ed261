//! Deciding `service disable|enable --cluster NAME --binary B`: the live cluster, and whether
//! it is already as asked.

use anyhow::Result;

use crate::db::Db;
use crate::db::clusters::{self, ClusterRow};

/// Disable (`reason` given, stripped as Cinder strips it) or enable (which clears the reason:
/// cinder/api/v3/clusters.py `_update`) the live cluster `name` of `binary`, if there is one.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub name: String,
    pub binary: String,
    pub reason: Option<String>,
    pub cluster: Option<ClusterRow>,
}

impl Plan {
    /// Already as asked: disabled with this reason, or enabled with none (nothing to change).
    pub fn is_done(&self) -> bool {
        let want = (Some(self.reason.is_some()), self.reason.as_ref());
        let is = |c: &ClusterRow| (c.disabled, c.disabled_reason.as_ref()) == want;
        self.cluster.as_ref().is_some_and(is)
    }
}

pub async fn build(db: &mut Db, name: &str, binary: &str, why: Option<&str>) -> Result<Plan> {
    let cluster = clusters::find_live(db, name, binary).await?;
    let (name, binary, reason) = (name.into(), binary.into(), why.map(|r| r.trim().into()));
    Ok(Plan {
        name,
        binary,
        reason,
        cluster,
    })
}
