//! Deciding, before anything is written, one module per operation: which rows may change,
//! which must be refused and why (as data; `output` words it). Undo planning (`restore`,
//! `move_host`'s `--undo`) lives here too. Every write repeats its plan's conditions inside
//! its WHERE clause.

pub(crate) mod cluster;
pub(crate) mod cluster_toggle;
pub(crate) mod delete;
pub(crate) mod move_host;
pub(crate) mod purge;
pub(crate) mod restore;
pub(crate) mod toggle;

use chrono::{NaiveDateTime, Timelike};

/// What a plan decided, as far as the flow of a writing command (`apply::run`) is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decision {
    /// What the command's selection found (0: nothing matched, exit 4 unless `--missing-ok`).
    pub matched: usize,
    /// Refusals that stand (those `--force` overrides are not counted when it is given).
    pub refused: usize,
    /// What the write would change: without the refused, or with them where `--force` let
    /// them through; 0 when everything is already as asked.
    pub to_change: usize,
}

impl Decision {
    /// A plan that refuses nothing: `matched` found, `to_change` of them to change.
    pub fn unrefused(matched: usize, to_change: usize) -> Decision {
        Decision {
            matched,
            refused: 0,
            to_change,
        }
    }
}

/// "now" for a plan: whole seconds, because MySQL stores heartbeats to the second and the
/// write must draw the up/down line exactly where the plan drew it.
pub(crate) fn plan_now() -> NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    now.with_nanosecond(0).unwrap_or(now)
}
