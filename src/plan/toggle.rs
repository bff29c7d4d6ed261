//! Deciding `service disable` / `service enable`: the matching live services, and which of
//! them are already as asked (reported, left alone).

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
}

impl Plan {
    pub fn disable(&self) -> bool {
        self.reason.is_some()
    }

    /// Already as asked: left alone.
    pub fn is_done(&self, s: &Service) -> bool {
        s.row.disabled.unwrap_or(false) == self.disable()
    }

    pub fn to_change(&self) -> impl Iterator<Item = &Service> {
        self.services.iter().filter(|s| !self.is_done(s))
    }

    pub fn decide(&self) -> Decision {
        Decision {
            matched: self.services.len(),
            refused: 0,
            to_change: self.to_change().count(),
        }
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
    })
}
