//! Deciding `service disable` / `service enable`: the matching live services, and which of
//! them are already as asked (reported, left alone). A disabled service given a new reason is
//! not: Cinder's `disable-log-reason` overwrites the reason and restamps `modified_at`.

use anyhow::Result;
use chrono::NaiveDateTime;

use super::{Decision, plan_now};
use crate::db::Db;
use crate::db::services::{self, ServiceFilter};
use crate::hosts::HostPattern;
use crate::model::Service;

/// Disable (with a reason) or enable the matching services.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub services: Vec<Service>,
    /// Some(reason) to disable, None to enable.
    pub reason: Option<String>,
    /// The instant the services were judged at, and `[DEFAULT] service_down_time`.
    pub now: NaiveDateTime,
    pub service_down_time: i64,
    /// The services table has `disabled_reason` (an old one may not).
    pub has_reason: bool,
}

impl Plan {
    pub fn disable(&self) -> bool {
        self.reason.is_some()
    }

    /// Already as asked: left alone. Disabled with the same reason, or enabled; a disabled
    /// service with another reason gets the new one.
    pub fn is_done(&self, s: &Service) -> bool {
        let disabled = s.row.disabled.unwrap_or(false);
        match &self.reason {
            Some(r) => disabled && (!self.has_reason || s.row.disabled_reason.as_ref() == Some(r)),
            None => !disabled,
        }
    }

    /// Disabled already, and to get the new reason.
    pub fn is_new_reason(&self, s: &Service) -> bool {
        self.disable() && s.row.disabled.unwrap_or(false) && !self.is_done(s)
    }

    /// The clusters (name, binary) of the matched services that belong to one: for them the
    /// scheduler reads only the cluster's `disabled` (Cinder's `_clustered_bool_field_filter`).
    pub fn clusters(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .services
            .iter()
            .filter_map(|s| Some((s.row.cluster_name.clone()?, s.row.binary().to_string())))
            .collect();
        out.sort();
        out.dedup();
        out
    }

    pub fn to_change(&self) -> impl Iterator<Item = &Service> {
        self.services.iter().filter(|s| !self.is_done(s))
    }

    pub fn decide(&self) -> Decision {
        Decision::unrefused(self.services.len(), self.to_change().count())
    }
}

/// Disable (`reason` given) or enable the live services on `hosts` (of `binary`), judged now.
pub(crate) async fn build(
    db: &mut Db,
    hosts: Vec<HostPattern>,
    binary: Option<String>,
    reason: Option<String>,
    service_down_time: i64,
) -> Result<Plan> {
    let filter = ServiceFilter {
        hosts,
        binary,
        ..ServiceFilter::default()
    };
    let now = plan_now();
    let services = services::fetch_all(db, &filter)
        .await?
        .into_iter()
        .map(|r| Service::judge(r, now, service_down_time))
        .collect();
    Ok(Plan {
        services,
        reason,
        now,
        service_down_time,
        has_reason: db.schema.has("services", "disabled_reason"),
    })
}
