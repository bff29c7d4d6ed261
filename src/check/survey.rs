//! What `service check` and `service list -f prometheus` judge, read in a constant number of
//! statements: the live services in scope, and for the candidates (down longer than
//! `--stale-after`) the delete's own refusals, built exactly as `service delete --down-for`
//! builds them (`references::count`, `references::count_cluster_only`, `plan::Plan`), so a
//! service is stale exactly when the sweep command would delete it. Reads only: no lock, no
//! transaction, no audit log.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use anyhow::Result;
use chrono::NaiveDateTime;

use super::{Checked, Condition, Rules, Sweep};
use crate::db::Db;
use crate::db::references;
use crate::db::services::{self, ServiceFilter};
use crate::hosts::HostPattern;
use crate::model::{Service, ServiceRow};
use crate::plan::delete::{Locality, Plan, Reason};

/// Which services a check looks at, and how its sweep command names them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scope {
    /// The rows read: `--host`, `--exclude`, `--binary` (and `service list`'s other filters).
    pub filter: ServiceFilter,
    /// `--zone`, applied here rather than in SQL: `service delete` has no `--zone`, so the
    /// sweep names the zone's hosts, and each must be checked against every zone.
    pub zone: Option<String>,
    /// `--host` and `--exclude` as given, for the sweep command.
    pub host_args: Vec<String>,
    pub exclude_args: Vec<String>,
    /// The config files the sweep command names (see `Sweep::config_files`).
    pub config_files: Vec<PathBuf>,
}

/// The services judged, and the command that removes the stale ones.
pub(crate) struct Survey {
    pub services: Vec<Checked>,
    pub sweep: Option<Sweep>,
}

/// Reads and judges the services of `scope` at `now` (whole seconds, as the delete's plan).
/// `keep` drops services after they are judged (`service list --state`). References are counted
/// for the candidates, and with `count_down` for every down service too (the metrics show
/// them): one statement, plus one for the volumes' hosts when there are volumes, plus one for
/// the references that reach the candidates through their clusters.
pub(crate) async fn survey(
    db: &mut Db,
    scope: &Scope,
    rules: &Rules,
    service_down_time: i64,
    now: NaiveDateTime,
    keep: impl Fn(&Service) -> bool,
    count_down: bool,
) -> Result<Survey> {
    let mut rows: Vec<ServiceRow> = Vec::new();
    services::for_each(db, &scope.filter, |row| {
        rows.push(row);
        Ok(())
    })
    .await?;
    let cutoff = now
        .checked_sub_signed(rules.stale_after)
        .unwrap_or(NaiveDateTime::MIN);
    // The sweep's own line (`ServiceFilter::heartbeat_before`): never heartbeated, or before it.
    let long_down = |r: &ServiceRow| r.heartbeat().is_none_or(|hb| hb < cutoff);
    let in_zone = |r: &ServiceRow| {
        scope
            .zone
            .as_deref()
            .is_none_or(|z| r.availability_zone.as_deref() == Some(z))
    };
    let judged: Vec<Service> = rows
        .into_iter()
        .map(|r| Service::judge(r, now, service_down_time))
        .filter(&keep)
        .collect();
    // With --zone the sweep names hosts: a host qualifies when --host can name it exactly and
    // none of its long-down services lies in another zone, so the delete selects exactly the
    // zone's candidates on it.
    let mixed: HashSet<&str> = judged
        .iter()
        .filter(|s| long_down(&s.row) && !in_zone(&s.row))
        .map(|s| s.row.host())
        .collect();
    let nameable = |host: &str| {
        scope.zone.is_none()
            || (!mixed.contains(host)
                && matches!(HostPattern::parse(host), Ok(HostPattern::Exact(_))))
    };
    let candidates: Vec<ServiceRow> = judged
        .iter()
        .filter(|s| in_zone(&s.row) && long_down(&s.row) && nameable(s.row.host()))
        .map(|s| s.row.clone())
        .collect();
    let candidate_ids: HashSet<i64> = candidates.iter().map(|r| r.id).collect();
    // The candidates, and with `count_down` every other down service of the zone.
    let counted_rows: Vec<&ServiceRow> = judged
        .iter()
        .filter(|s| candidate_ids.contains(&s.row.id) || (count_down && in_zone(&s.row) && !s.up))
        .map(|s| &s.row)
        .collect();
    let refs = references::count(db, &counted_rows).await?;
    let mut counted: Vec<i64> = counted_rows.iter().map(|r| r.id).collect();
    counted.sort_unstable();
    let cluster_refs = if candidates.is_empty() {
        HashMap::new()
    } else {
        references::count_cluster_only(db, &candidates).await?
    };
    // The delete's plan of the sweep's selection: its refusals are what keeps a service from
    // being stale.
    let mut hosts: Vec<String> = candidates.iter().map(|r| r.host().to_string()).collect();
    hosts.sort();
    hosts.dedup();
    let mut plan = Plan::judge(candidates, &refs, now, service_down_time, |_| {
        Locality::Remote
    });
    plan.refuse_cluster_only(&cluster_refs);
    let refused: HashMap<i64, Vec<Reason>> = plan
        .items
        .iter()
        .map(|i| (i.row().id, i.reasons.clone()))
        .collect();
    let services: Vec<Checked> = judged
        .into_iter()
        .filter(|s| in_zone(&s.row))
        .map(|service| {
            let id = service.row.id;
            let condition = match (service.up, refused.get(&id)) {
                (true, _) => Condition::Up,
                (false, Some(reasons)) if reasons.is_empty() => Condition::Stale,
                (false, Some(reasons)) => Condition::Kept(reasons.clone()),
                (false, None) => Condition::Down,
            };
            Checked {
                heartbeat_age: service.row.heartbeat().map(|hb| (now - hb).num_seconds()),
                // Counted and absent from the counts: nothing uses it (the count leaves out
                // the services nothing may be on).
                refs: counted
                    .binary_search(&id)
                    .is_ok()
                    .then(|| refs.get(&id).cloned().unwrap_or_default()),
                condition,
                service,
            }
        })
        .collect();
    let stale = services.iter().filter(|s| s.stale()).count();
    let sweep = (stale > 0).then(|| Sweep {
        config_files: scope.config_files.clone(),
        hosts: if scope.zone.is_some() {
            hosts
        } else {
            scope.host_args.clone()
        },
        exclude: scope.exclude_args.clone(),
        binary: scope.filter.binary.clone(),
        down_for: rules.stale_after_text.clone(),
        skip_refused: stale < candidate_ids.len(),
    });
    Ok(Survey { services, sweep })
}
