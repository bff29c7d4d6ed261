//! `service check`'s output: the monitoring plugin's status line (`CINDER SERVICES WARNING -
//! ... | perfdata`, essentials first), the service lines `-v` adds after it, the UNKNOWN line
//! of a failure, and the same verdict as one JSON document (typed `Serialize` structs). Text
//! from the database is put on one line and never carries a `|`, which would start the
//! performance data.

use std::collections::BTreeSet;
use std::io::Write;

use anyhow::Result;
use serde::Serialize;

use super::columns::{Column, ServiceJson, json_columns};
use super::delete::describe;
use crate::check::{Checked, Condition, Counts, Group, Problem, Status, Verdict};
use crate::db::references::RefCounts;

/// The plugin's name at the start of every status line.
const PREFIX: &str = "CINDER SERVICES";

/// How many services or hosts a status line names; the rest are counted ("and 3 more").
const NAMED: usize = 3;

/// `service check -f`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub(crate) enum CheckFormat {
    /// The status line (then, with -v, one line per group and service)
    #[default]
    Text,
    /// The same verdict as one JSON document
    Json,
}

/// Database or error text as a status line may carry it: one line, secrets redacted, `|`
/// (which starts the performance data) as `¦`.
fn plain(s: &str) -> String {
    crate::text::one_line(&crate::secret::redact(s), crate::text::LINE_MAX).replace('|', "¦")
}

/// The UNKNOWN line for a failure whose one-line message (`svcctl: ...`, as `term::error_line`
/// makes it) is `error`.
pub(crate) fn unknown_line(error: &str) -> String {
    let text = error.strip_prefix("svcctl: ").unwrap_or(error);
    format!("{PREFIX} {} - {}", Status::Unknown.word(), plain(text))
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `a, b, c and 2 more`.
fn named(items: &[String]) -> String {
    let shown = &items[..items.len().min(NAMED)];
    let more = items.len() - shown.len();
    let mut s = shown.join(", ");
    if more > 0 {
        s.push_str(&format!(" and {more} more"));
    }
    s
}

fn zone_text(zone: &Option<String>) -> String {
    zone.as_deref()
        .map_or_else(|| "no zone".to_string(), |z| format!("zone {}", plain(z)))
}

/// A group's down hosts as the line names them: the node alone for a backend's group (the
/// backend is in the group's name).
fn group_hosts(g: &Group) -> Vec<String> {
    g.down_hosts
        .iter()
        .map(|h| match &g.backend {
            Some(_) => plain(crate::hosts::split(h).node),
            None => plain(h),
        })
        .collect()
}

/// The sentence for one problem.
fn problem_text(v: &Verdict, p: &Problem) -> String {
    let host = |i: &usize| plain(v.services[*i].service.row.host());
    let hosts = |ids: &[usize]| -> Vec<String> {
        let set: BTreeSet<String> = ids.iter().map(host).collect();
        set.into_iter().collect()
    };
    match p {
        Problem::AllDown { binary, services } => format!(
            "every enabled {} is down ({})",
            plain(binary),
            named(&hosts(services))
        ),
        Problem::Outage { group } => {
            let g = &v.groups[*group];
            format!(
                "outage of {} in {}: {} of {} down ({})",
                plain(&g.name()),
                zone_text(&g.zone),
                g.down_hosts.len(),
                plural(g.enabled_hosts, "enabled host", "enabled hosts"),
                named(&group_hosts(g))
            )
        }
        Problem::AllDisabled { binary, services } => format!(
            "every {} is disabled ({}): nothing can be scheduled on it",
            plain(binary),
            plural(services.len(), "service", "services")
        ),
        Problem::Down { services } => {
            let names: Vec<String> = services
                .iter()
                .map(|i| {
                    let row = &v.services[*i].service.row;
                    format!("{} on {}", plain(row.binary()), plain(row.host()))
                })
                .collect();
            format!(
                "{} down: {}",
                plural(services.len(), "enabled service", "enabled services"),
                named(&names)
            )
        }
        Problem::Stale { services, sweep } => format!(
            "{} (down over {}, nothing uses them) on {}; remove them: {}",
            plural(services.len(), "stale service", "stale services"),
            plain(&v.rules.stale_after_text),
            named(&hosts(services)),
            plain(&sweep.command())
        ),
    }
}

/// `10 services: 6 up, 4 down, 1 disabled`.
fn counts_text(c: &Counts) -> String {
    let mut s = format!("{}: {} up", plural(c.services, "service", "services"), c.up);
    for (n, what) in [
        (c.down, "down"),
        (c.stale, "stale"),
        (c.disabled, "disabled"),
    ] {
        if n > 0 {
            s.push_str(&format!(", {n} {what}"));
        }
    }
    s
}

/// The status line's text between `STATUS - ` and `|`: the problems that make the status
/// first, then the notes (problems that leave it OK); for OK, the counts first.
pub(crate) fn summary(v: &Verdict) -> String {
    if v.status == Status::Unknown {
        return "no live Cinder service matches --host, --exclude, --binary and --zone; compare \
                them with svcctl service list"
            .into();
    }
    let mut parts: Vec<String> = Vec::new();
    if v.status == Status::Ok {
        parts.push(counts_text(&v.counts));
    }
    parts.extend(v.problems.iter().map(|(_, p)| problem_text(v, p)));
    parts.join("; ")
}

/// The performance data, in the guidelines' `label=value[UOM];[warn];[crit];[min];[max]`
/// form: the counts, from 0 to the number of services. No thresholds: the rules judge groups
/// and binaries, not these totals.
pub(crate) fn perfdata(c: &Counts) -> String {
    let n = c.services;
    format!(
        "up={};;;0;{n} down={};;;0;{n} disabled={};;;0;{n} stale={};;;0;{n} zones={};;;0",
        c.up, c.down, c.disabled, c.stale, c.zones
    )
}

/// `CINDER SERVICES WARNING - ... | up=...`.
pub(crate) fn status_line(v: &Verdict) -> String {
    format!(
        "{PREFIX} {} - {} | {}",
        v.status.word(),
        summary(v),
        perfdata(&v.counts)
    )
}

/// `down, last heartbeat 30m ago` and the like, for `-v`.
fn condition_text(c: &Checked) -> String {
    let age = match c.heartbeat_age {
        None => "never heartbeated".to_string(),
        Some(s) if s < 0 => format!("last heartbeat {} in the future", duration(-s)),
        Some(s) => format!("last heartbeat {} ago", duration(s)),
    };
    match &c.condition {
        Condition::Up => format!("up, {age}"),
        Condition::Down => format!("down, {age}"),
        Condition::Stale => format!("stale, {age}"),
        Condition::Kept(reasons) => format!(
            "down, {age}; not stale: {}",
            reasons
                .iter()
                .map(|r| plain(&describe(r, &c.service.row)))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    }
}

/// `45s`, `30m`, `5h07m`, `8d0h`.
fn duration(secs: i64) -> String {
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 2 * 86400 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        s => format!("{}d{}h", s / 86400, s % 86400 / 3600),
    }
}

/// The lines `-v` adds: one per group, then one per service.
fn details(v: &Verdict) -> Vec<String> {
    let mut lines: Vec<String> = v
        .groups
        .iter()
        .map(|g| {
            format!(
                "group {} in {}: {} of {} down{}",
                plain(&g.name()),
                zone_text(&g.zone),
                g.down_hosts.len(),
                plural(g.enabled_hosts, "enabled host", "enabled hosts"),
                if g.outage { " (outage)" } else { "" }
            )
        })
        .collect();
    lines.extend(v.services.iter().map(|c| {
        let row = &c.service.row;
        let status = match (c.enabled(), row.disabled_reason.as_deref()) {
            (true, _) => "enabled".to_string(),
            (false, None) => "disabled".to_string(),
            (false, Some(r)) => format!("disabled: {}", plain(r)),
        };
        format!(
            "{} {} (id {}, {}, {status}): {}",
            plain(row.binary()),
            plain(row.host()),
            row.id,
            zone_text(&row.availability_zone),
            condition_text(c)
        )
    }));
    lines
}

/// Prints the verdict: the status line (and with `verbose` the details), or the document.
pub(crate) fn print(v: &Verdict, format: CheckFormat, verbose: bool) -> Result<()> {
    match format {
        CheckFormat::Json => super::print_doc(&doc(v), false, false),
        CheckFormat::Text => {
            let mut out = std::io::BufWriter::with_capacity(64 * 1024, crate::term::stdout());
            writeln!(out, "{}", status_line(v))?;
            if verbose {
                for line in details(v) {
                    writeln!(out, "{line}")?;
                }
            }
            out.flush()?;
            Ok(())
        }
    }
}

/// `service check -f json`: every key on every path (null where it does not apply).
#[derive(Serialize)]
struct CheckDoc<'a> {
    status: Status,
    exit_code: u8,
    summary: String,
    perfdata: String,
    rules: RulesDoc<'a>,
    counts: &'a Counts,
    problems: Vec<ProblemDoc>,
    groups: Vec<GroupDoc<'a>>,
    sweep: Option<SweepDoc>,
    services: Vec<ServiceDoc<'a>>,
}

#[derive(Serialize)]
struct RulesDoc<'a> {
    warning_down: u64,
    critical_outage: u8,
    stale_after: &'a str,
    stale_after_seconds: i64,
    stale_is: crate::check::StaleIs,
}

#[derive(Serialize)]
struct ProblemDoc {
    status: Status,
    kind: &'static str,
    binary: Option<String>,
    zone: Option<String>,
    backend: Option<String>,
    hosts: Vec<String>,
    /// Service ids.
    services: Vec<i64>,
    text: String,
}

#[derive(Serialize)]
struct GroupDoc<'a> {
    #[serde(flatten)]
    group: &'a Group,
    down_ratio: Option<f64>,
}

#[derive(Serialize)]
struct SweepDoc {
    command: String,
    services: Vec<i64>,
    skip_refused: bool,
}

#[derive(Serialize)]
struct ServiceDoc<'a> {
    #[serde(flatten)]
    service: ServiceJson<'a>,
    condition: &'static str,
    heartbeat_age_seconds: Option<i64>,
    /// Why the delete refuses it (a service down longer than --stale-after but in use).
    refused: Vec<String>,
    references: Option<&'a RefCounts>,
}

fn doc(v: &Verdict) -> CheckDoc<'_> {
    let ids =
        |is: &[usize]| -> Vec<i64> { is.iter().map(|i| v.services[*i].service.row.id).collect() };
    let hosts = |is: &[usize]| -> Vec<String> {
        let set: BTreeSet<String> = is
            .iter()
            .map(|i| v.services[*i].service.row.host().to_string())
            .collect();
        set.into_iter().collect()
    };
    let cols: &[Column] = json_columns(false);
    let problems = v
        .problems
        .iter()
        .map(|(status, p)| {
            let (binary, zone, backend, hosts, services) = match p {
                Problem::AllDown { binary, services }
                | Problem::AllDisabled { binary, services } => (
                    Some(binary.clone()),
                    None,
                    None,
                    hosts(services),
                    ids(services),
                ),
                Problem::Outage { group } => {
                    let g = &v.groups[*group];
                    let members: Vec<i64> = v
                        .services
                        .iter()
                        .filter(|c| {
                            c.down()
                                && c.enabled()
                                && g.down_hosts.iter().any(|h| h == c.service.row.host())
                                && c.service.row.binary() == g.binary
                                && c.service.row.availability_zone == g.zone
                        })
                        .map(|c| c.service.row.id)
                        .collect();
                    (
                        Some(g.binary.clone()),
                        g.zone.clone(),
                        g.backend.clone(),
                        g.down_hosts.clone(),
                        members,
                    )
                }
                Problem::Down { services } | Problem::Stale { services, .. } => {
                    (None, None, None, hosts(services), ids(services))
                }
            };
            ProblemDoc {
                status: *status,
                kind: p.kind(),
                binary,
                zone,
                backend,
                hosts,
                services,
                text: problem_text(v, p),
            }
        })
        .collect();
    let sweep = v.problems.iter().find_map(|(_, p)| match p {
        Problem::Stale { services, sweep } => Some(SweepDoc {
            command: sweep.command(),
            services: ids(services),
            skip_refused: sweep.skip_refused,
        }),
        _ => None,
    });
    CheckDoc {
        status: v.status,
        exit_code: v.status.code(),
        summary: summary(v),
        perfdata: perfdata(&v.counts),
        rules: RulesDoc {
            warning_down: v.rules.warning_down,
            critical_outage: v.rules.critical_outage,
            stale_after: &v.rules.stale_after_text,
            stale_after_seconds: v.rules.stale_after.num_seconds(),
            stale_is: v.rules.stale_is,
        },
        counts: &v.counts,
        problems,
        groups: v
            .groups
            .iter()
            .map(|g| GroupDoc {
                group: g,
                down_ratio: g.down_ratio(),
            })
            .collect(),
        sweep,
        services: v
            .services
            .iter()
            .map(|c| ServiceDoc {
                service: ServiceJson {
                    service: &c.service,
                    cols,
                },
                condition: c.condition.word(),
                heartbeat_age_seconds: c.heartbeat_age,
                refused: match &c.condition {
                    Condition::Kept(reasons) => reasons
                        .iter()
                        .map(|r| describe(r, &c.service.row))
                        .collect(),
                    _ => Vec::new(),
                },
                references: c.refs.as_ref(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_stay_one_line_without_a_bar() {
        let line = unknown_line("svcctl: cannot connect\nto a|b: refused");
        assert_eq!(
            line,
            "CINDER SERVICES UNKNOWN - cannot connect to a¦b: refused"
        );
    }

    #[test]
    fn durations_read_at_a_glance() {
        assert_eq!(duration(45), "45s");
        assert_eq!(duration(1800), "30m");
        assert_eq!(duration(5 * 3600 + 7 * 60), "5h07m");
        assert_eq!(duration(8 * 86400 + 3600), "8d1h");
    }

    #[test]
    fn perfdata_has_the_guidelines_form() {
        let c = Counts {
            services: 10,
            up: 6,
            down: 4,
            disabled: 0,
            stale: 0,
            zones: 1,
        };
        assert_eq!(
            perfdata(&c),
            "up=6;;;0;10 down=4;;;0;10 disabled=0;;;0;10 stale=0;;;0;10 zones=1;;;0"
        );
    }
}
