//! The one write svcctl makes: Cinder's own soft delete of planned services, in one
//! transaction, with the plan's safety conditions repeated inside the UPDATE's WHERE clause so
//! that a service that heartbeats or gains a volume after the plan is not deleted. Both
//! `service delete` and `backend cleanup` come through here.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use anyhow::Result;
use serde_json::Value;
use sqlx::Row;

use crate::audit::{self, Actor, AuditLog};
use crate::db::services::{self, ServiceRow, placeholders};
use crate::db::{Conn, Db, Dialect, references, sql};
use crate::output::ServiceView;
use crate::plan::{Item, Plan, Reason};

/// A cluster soft-deleted because its last live service went.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ClusterGone {
    pub id: i64,
    pub name: String,
    pub binary: String,
}

/// A service the write deleted: as it was just before, and what `--force` overrode.
#[derive(Debug, Clone)]
pub struct Deleted {
    pub view: ServiceView,
    pub overridden: Vec<String>,
}

/// What the write did.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub deleted: Vec<Deleted>,
    /// Planned, but changed since the plan: came up or gained references. Exit 3.
    pub not_deleted: Vec<Item>,
    /// Planned, but deleted (or purged) by someone else meanwhile. Harmless.
    pub already_gone: Vec<i64>,
    pub clusters_deleted: Vec<ClusterGone>,
}

/// What to write, decided from the plan, owned so each retry of the transaction can use it.
#[derive(Clone)]
struct Write {
    dialect: Dialect,
    /// Every id to delete, sorted (rows are locked in id order, so two runs cannot deadlock
    /// each other on them).
    ids: Vec<i64>,
    /// Of those, the ids whose heartbeat must still be old at write time.
    heartbeat_checked: Vec<i64>,
    force: bool,
    select_locked: String,
    update: String,
    now_text: String,
    /// The same instant for the audit log: RFC 3339, UTC.
    now_iso: String,
    cutoff_text: String,
    items: Vec<Item>,
    clusters_table: bool,
    guard_binds: Vec<String>,
}

/// Soft-deletes what the plan allows (everything, with `force`), as Cinder's `service_destroy`
/// does: `deleted = 1, deleted_at = now, updated_at = now`. Retries per the `[database]`
/// policy. The audit lines are appended before COMMIT; a failed audit write rolls back.
pub async fn soft_delete(
    db: &mut Db,
    plan: &Plan,
    force: bool,
    audit: AuditLog,
    actor: &Actor,
) -> Result<(Outcome, AuditLog)> {
    let items: Vec<Item> = plan
        .items
        .iter()
        .filter(|i| force || i.reasons.is_empty())
        .cloned()
        .collect();
    let mut ids: Vec<i64> = items.iter().map(|i| i.row().id).collect();
    ids.sort_unstable();
    let mut heartbeat_checked: Vec<i64> = items
        .iter()
        .filter(|i| !i.heartbeat_exempt)
        .map(|i| i.row().id)
        .collect();
    heartbeat_checked.sort_unstable();
    let d = db.dialect;
    let heartbeat = "COALESCE(updated_at, created_at)";
    let old_heartbeat = match d {
        Dialect::MySql => format!("({heartbeat} IS NULL OR {heartbeat} < ?)"),
        // julianday() compares Cinder's text timestamps as instants, with or without fractions.
        Dialect::Sqlite => {
            format!("({heartbeat} IS NULL OR julianday({heartbeat}) < julianday(?))")
        }
    };
    let exempt: Vec<i64> = ids
        .iter()
        .copied()
        .filter(|id| heartbeat_checked.binary_search(id).is_err())
        .collect();
    let safety = if force {
        format!("id IN ({})", placeholders(ids.len()))
    } else {
        let mut alive = Vec::new();
        if !heartbeat_checked.is_empty() {
            alive.push(format!(
                "(id IN ({}) AND {old_heartbeat})",
                placeholders(heartbeat_checked.len())
            ));
        }
        if !exempt.is_empty() {
            alive.push(format!("id IN ({})", placeholders(exempt.len())));
        }
        let guard = plan
            .guard
            .as_ref()
            .map_or(String::new(), |g| format!(" AND {}", g.sql));
        format!(
            "({}) AND {}{guard}",
            alive.join(" OR "),
            references::unreferenced_condition(&db.schema, d)
        )
    };
    let now = chrono::Utc::now().naive_utc();
    let write = Write {
        dialect: d,
        select_locked: services::select_by_ids(&db.schema, ids.len(), d.for_update()),
        update: format!(
            "UPDATE services SET deleted = 1, deleted_at = ?, updated_at = ? \
             WHERE deleted = 0 AND {safety}"
        ),
        ids,
        heartbeat_checked,
        force,
        now_text: d.timestamp(now),
        now_iso: now
            .and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        cutoff_text: d.timestamp(plan.cutoff),
        items,
        guard_binds: match (&plan.guard, force) {
            (Some(g), false) => g.binds.clone(),
            _ => Vec::new(),
        },
        clusters_table: db.schema.has("clusters", "race_preventer")
            && db.schema.has("services", "cluster_name"),
    };
    if write.ids.is_empty() {
        return Ok((Outcome::default(), audit));
    }
    let audit = Arc::new(Mutex::new(audit));
    let actor = actor.clone();
    let outcome = db
        .retrying("deleting services", |conn| {
            let write = write.clone();
            let audit = audit.clone();
            let actor = actor.clone();
            Box::pin(async move { transaction(conn, &write, &audit, &actor).await })
        })
        .await?;
    let audit = Arc::try_unwrap(audit)
        .ok()
        .expect("no transaction attempt outlives the retry loop")
        .into_inner()
        .unwrap_or_else(|p| p.into_inner());
    Ok((outcome, audit))
}

async fn exec(conn: &mut Conn, statement: &str) -> Result<()> {
    crate::on_conn!(conn, c => {
        sqlx::raw_sql(sql(statement.to_string())).execute(&mut *c).await?;
    });
    Ok(())
}

/// One attempt: BEGIN, lock, UPDATE, see what changed, clusters, audit, COMMIT. Any failure
/// rolls back; if the audit already holds this attempt's lines, a `rolled_back` line follows.
async fn transaction(
    conn: &mut Conn,
    w: &Write,
    audit: &Mutex<AuditLog>,
    actor: &Actor,
) -> Result<Outcome> {
    let txn = format!("{}-{}", std::process::id(), uuid_ish());
    exec(conn, w.dialect.begin()).await?;
    let mut logged = false;
    let result = async {
        let outcome = write_in_transaction(conn, w).await?;
        let lines: Vec<Value> = outcome
            .deleted
            .iter()
            .map(|d| {
                audit::deleted_line(
                    actor,
                    &txn,
                    &w.now_iso,
                    serde_json::to_value(&d.view.row).unwrap_or(Value::Null),
                    &d.overridden,
                )
            })
            .collect();
        audit
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .append(&lines)?;
        logged = !lines.is_empty();
        exec(conn, "COMMIT").await?;
        Ok::<_, anyhow::Error>(outcome)
    }
    .await;
    match result {
        Ok(outcome) => Ok(outcome),
        Err(err) => {
            // Best effort: the server also rolls back when the connection is gone.
            let _ = exec(conn, "ROLLBACK").await;
            if logged {
                let line = audit::rolled_back_line(actor, &txn, &w.now_iso, &format!("{err:#}"));
                let _ = audit
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .append(&[line]);
            }
            Err(err)
        }
    }
}

async fn write_in_transaction(conn: &mut Conn, w: &Write) -> Result<Outcome> {
    // Lock the planned rows and see them as they are now.
    let before = services::read_by_ids(conn, &w.select_locked, &w.ids).await?;
    crate::on_conn!(&mut *conn, c => {
        let mut q = sqlx::query(sql(w.update.clone()))
            .bind(w.now_text.clone())
            .bind(w.now_text.clone());
        if w.force {
            for id in &w.ids {
                q = q.bind(*id);
            }
        } else {
            if !w.heartbeat_checked.is_empty() {
                for id in &w.heartbeat_checked {
                    q = q.bind(*id);
                }
                q = q.bind(w.cutoff_text.clone());
            }
            for id in w.ids.iter().filter(|id| w.heartbeat_checked.binary_search(id).is_err()) {
                q = q.bind(*id);
            }
            for b in &w.guard_binds {
                q = q.bind(b.clone());
            }
        }
        q.execute(&mut *c).await?;
    });
    pause_for_tests("SVCCTL_TEST_PAUSE_IN_TXN_FILE").await;
    let after = services::read_by_ids(conn, &w.select_locked, &w.ids).await?;
    // The rows as they were just before the UPDATE (locked), by id; only the live ones count.
    let was_live: HashMap<i64, &ServiceRow> = before
        .iter()
        .filter(|r| r.deleted == Some(false))
        .map(|r| (r.id, r))
        .collect();
    let now_deleted: BTreeSet<i64> = after
        .iter()
        .filter(|r| r.deleted == Some(true))
        .map(|r| r.id)
        .collect();
    let mut outcome = Outcome::default();
    for item in &w.items {
        let id = item.row().id;
        let Some(&current) = was_live.get(&id) else {
            outcome.already_gone.push(id);
            continue;
        };
        if now_deleted.contains(&id) {
            outcome.deleted.push(Deleted {
                view: ServiceView {
                    row: current.clone(),
                    up: item.view.up,
                },
                overridden: if w.force {
                    item.reason_texts()
                } else {
                    Vec::new()
                },
            });
        } else {
            // Live before the UPDATE and still live: the WHERE clause said no.
            let mut changed = item.clone();
            let came_up = !item.heartbeat_exempt
                && current
                    .heartbeat()
                    .is_some_and(|hb| w.dialect.timestamp(hb) >= w.cutoff_text);
            changed.reasons = vec![if came_up {
                Reason::CameUp
            } else {
                Reason::GainedReferences
            }];
            changed.view.row = current.clone();
            outcome.not_deleted.push(changed);
        }
    }
    if w.clusters_table {
        outcome.clusters_deleted = delete_emptied_clusters(conn, w, &outcome.deleted).await?;
    }
    Ok(outcome)
}

/// Soft-deletes, as Cinder's `cluster_destroy` does (`deleted = 1, deleted_at = now,
/// race_preventer = id`), each cluster whose last live service this transaction deleted.
async fn delete_emptied_clusters(
    conn: &mut Conn,
    w: &Write,
    deleted: &[Deleted],
) -> Result<Vec<ClusterGone>> {
    let pairs: BTreeSet<(String, String)> = deleted
        .iter()
        .filter_map(|d| {
            let r = &d.view.row;
            Some((r.cluster_name.clone()?, r.binary.clone()?))
        })
        .collect();
    if pairs.is_empty() {
        return Ok(Vec::new());
    }
    let d = w.dialect;
    let match_pairs = vec![
        format!(
            "({} AND {})",
            d.eq_exact("name", "?"),
            d.eq_exact("`binary`", "?")
        );
        pairs.len()
    ]
    .join(" OR ");
    let update = format!(
        "UPDATE clusters SET deleted = 1, deleted_at = ?, updated_at = ?, race_preventer = id \
         WHERE deleted = 0 AND ({match_pairs}) AND NOT EXISTS (SELECT 1 FROM services s \
         WHERE s.deleted = 0 AND {} AND {})",
        d.eq_exact("s.cluster_name", "clusters.name"),
        d.eq_exact("s.`binary`", "clusters.`binary`")
    );
    let select = format!(
        "SELECT id, name, `binary` FROM clusters WHERE deleted = 1 AND deleted_at = ? \
         AND race_preventer = id AND ({match_pairs}) ORDER BY id"
    );
    let mut gone = Vec::new();
    crate::on_conn!(conn, c => {
        let mut q = sqlx::query(sql(update)).bind(w.now_text.clone()).bind(w.now_text.clone());
        for (name, binary) in &pairs {
            q = q.bind(name.clone()).bind(binary.clone());
        }
        q.execute(&mut *c).await?;
        let mut q = sqlx::query(sql(select)).bind(w.now_text.clone());
        for (name, binary) in &pairs {
            q = q.bind(name.clone()).bind(binary.clone());
        }
        for r in q.fetch_all(&mut *c).await? {
            gone.push(ClusterGone {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                binary: r.try_get("binary")?,
            });
        }
    });
    Ok(gone)
}

/// A short random id for one transaction attempt in the audit log.
fn uuid_ish() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    format!("{:016x}", h.finish())
}

/// A test seam, not an interface: with the environment variable `var` naming a file, create it
/// and wait (up to a minute) until the test removes it. `SVCCTL_TEST_PAUSE_FILE` pauses between
/// plan and write, so a test can change the database there and prove the WHERE clause catches
/// it; `SVCCTL_TEST_PAUSE_IN_TXN_FILE` pauses inside the transaction, after the UPDATE, so a
/// test can interrupt svcctl there and prove nothing is half-written.
pub async fn pause_for_tests(var: &str) {
    let Some(path) = std::env::var_os(var) else {
        return;
    };
    let path = std::path::PathBuf::from(path);
    if std::fs::write(&path, b"paused").is_err() {
        return;
    }
    for _ in 0..600 {
        if !path.exists() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
