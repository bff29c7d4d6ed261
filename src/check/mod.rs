//! `service check`'s verdict: what each service is (up, down, stale, or down long but still
//! refused by the delete), the outage of each (binary, zone, backend) group, and the status all
//! that makes, as pure functions of the services read and the delete's own refusals (`survey`
//! reads them). The status line, the JSON document and the Prometheus families all render this
//! one verdict, so they cannot disagree.

pub(crate) mod survey;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use chrono::Duration;
use serde::Serialize;

use crate::db::references::RefCounts;
use crate::model::Service;
use crate::plan::delete::Reason;

/// `--stale-after`'s default, in `--down-for`'s syntax.
pub(crate) const DEFAULT_STALE_AFTER: &str = "7d";

/// What stale services make the status (`--stale-is`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum StaleIs {
    /// Listed in the status line, and the status stays OK
    Ok,
    /// WARNING, with the command that removes them
    Warning,
}

/// The rules, each a flag of `service check`.
#[derive(Debug, Clone)]
pub(crate) struct Rules {
    /// WARNING when at least this many enabled services are down (stale ones aside); 0: never.
    pub warning_down: u64,
    /// CRITICAL when at least this percentage of a group's enabled hosts are down.
    pub critical_outage: u8,
    /// Down longer than this, and nothing the delete checks uses it: stale.
    pub stale_after: Duration,
    /// `stale_after` as given (`7d`), for the sweep command and messages.
    pub stale_after_text: String,
    pub stale_is: StaleIs,
}

impl Default for Rules {
    fn default() -> Rules {
        Rules {
            warning_down: 1,
            critical_outage: 50,
            stale_after: Duration::days(7),
            stale_after_text: DEFAULT_STALE_AFTER.into(),
            stale_is: StaleIs::Warning,
        }
    }
}

/// The monitoring plugin's states; the discriminant is the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub(crate) enum Status {
    Ok = 0,
    Warning = 1,
    Critical = 2,
    Unknown = 3,
}

impl Status {
    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn word(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Warning => "WARNING",
            Status::Critical => "CRITICAL",
            Status::Unknown => "UNKNOWN",
        }
    }
}

/// What the check makes of one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Condition {
    Up,
    /// Down, not stale.
    Down,
    /// Down longer than `--stale-after`, and the delete would remove it: no outage.
    Stale,
    /// Down longer than `--stale-after`, but the delete refuses it (for these reasons): still
    /// an ordinary down service.
    Kept(Vec<Reason>),
}

impl Condition {
    pub fn word(&self) -> &'static str {
        match self {
            Condition::Up => "up",
            Condition::Down => "down",
            Condition::Stale => "stale",
            Condition::Kept(_) => "in_use",
        }
    }
}

/// One service as the check sees it.
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    pub service: Service,
    /// Seconds since its last heartbeat (negative: one from the future); None: it never had one.
    pub heartbeat_age: Option<i64>,
    pub condition: Condition,
    /// What still points at it, where it was counted (down services).
    pub refs: Option<RefCounts>,
}

impl Checked {
    pub fn stale(&self) -> bool {
        self.condition == Condition::Stale
    }

    pub fn enabled(&self) -> bool {
        !self.service.row.disabled.unwrap_or(false)
    }

    /// Down and not stale: what an outage is made of.
    pub fn down(&self) -> bool {
        matches!(self.condition, Condition::Down | Condition::Kept(_))
    }

    /// The key of its outage group: binary, zone, and for cinder-volume the backend (the
    /// `@backend` part of its host).
    fn group_key(&self) -> GroupKey {
        let row = &self.service.row;
        let backend = (row.binary() == VOLUME)
            .then(|| crate::hosts::split(row.host()).backend.map(str::to_string))
            .flatten();
        (
            row.binary().to_string(),
            row.availability_zone.clone(),
            backend,
        )
    }
}

const VOLUME: &str = "cinder-volume";

type GroupKey = (String, Option<String>, Option<String>);

/// A zone's enabled hosts of one binary (of one backend, for cinder-volume), stale services
/// aside: StackLight's CinderServiceOutage counts these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Group {
    pub binary: String,
    pub zone: Option<String>,
    pub backend: Option<String>,
    /// Distinct hosts with an enabled service in the group.
    pub enabled_hosts: usize,
    /// Those of them on which no enabled service of the group is up, sorted.
    pub down_hosts: Vec<String>,
    /// At least `--critical-outage` percent of `enabled_hosts` are down.
    pub outage: bool,
}

impl Group {
    /// The share of its enabled hosts that are down, when it has any.
    pub fn down_ratio(&self) -> Option<f64> {
        (self.enabled_hosts > 0).then(|| self.down_hosts.len() as f64 / self.enabled_hosts as f64)
    }

    /// `cinder-volume@lvm`, or the binary alone.
    pub fn name(&self) -> String {
        match &self.backend {
            Some(b) => format!("{}@{b}", self.binary),
            None => self.binary.clone(),
        }
    }
}

/// A finding behind the status. Services are named by their index in `Verdict::services`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Problem {
    /// Every enabled service of a binary is down: CRITICAL.
    AllDown {
        binary: String,
        services: Vec<usize>,
    },
    /// A group at or over `--critical-outage` (and its binary not all down): CRITICAL.
    Outage { group: usize },
    /// Every service of a binary is disabled: nothing can be scheduled: CRITICAL.
    AllDisabled {
        binary: String,
        services: Vec<usize>,
    },
    /// Enabled services down: WARNING at `--warning-down` or more, else a note.
    Down { services: Vec<usize> },
    /// Stale services and the command that removes them: WARNING or a note (`--stale-is`).
    Stale { services: Vec<usize>, sweep: Sweep },
}

impl Problem {
    pub fn kind(&self) -> &'static str {
        match self {
            Problem::AllDown { .. } => "all_down",
            Problem::Outage { .. } => "outage",
            Problem::AllDisabled { .. } => "all_disabled",
            Problem::Down { .. } => "down",
            Problem::Stale { .. } => "stale",
        }
    }
}

/// The live services in scope, by what they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Counts {
    pub services: usize,
    pub up: usize,
    /// Down and not stale, enabled or disabled.
    pub down: usize,
    /// Disabled, up or down or stale.
    pub disabled: usize,
    pub stale: usize,
    /// Distinct availability zones (NULL counts as one).
    pub zones: usize,
}

/// The `svcctl service delete --down-for ...` that removes exactly the stale services: the
/// check's scope and the same duration, so the delete selects what the check judged and
/// refuses what it kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sweep {
    /// `--config-file` for each file the check read; empty when that was only the default.
    pub config_files: Vec<PathBuf>,
    pub hosts: Vec<String>,
    pub exclude: Vec<String>,
    pub binary: Option<String>,
    pub down_for: String,
    /// Some of the services it selects are refused (in use): `--skip-refused` deletes the others.
    pub skip_refused: bool,
}

impl Sweep {
    /// The command, quoted for a POSIX shell.
    pub fn command(&self) -> String {
        let mut words: Vec<String> = vec!["svcctl".into()];
        for f in &self.config_files {
            words.push("--config-file".into());
            words.push(f.display().to_string());
        }
        words.extend(
            ["service", "delete", "--down-for", &self.down_for]
                .iter()
                .map(|w| w.to_string()),
        );
        for (flag, values) in [("--host", &self.hosts), ("--exclude", &self.exclude)] {
            for v in values {
                words.push(flag.into());
                words.push(v.clone());
            }
        }
        if let Some(b) = &self.binary {
            words.push("--binary".into());
            words.push(b.clone());
        }
        if self.skip_refused {
            words.push("--skip-refused".into());
        }
        words
            .iter()
            .map(|w| shell_quote(w))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// `word` as a POSIX shell reads it back: bare when it holds only characters no shell treats
/// specially, else in single quotes (a `'` inside as `'\''`).
pub(crate) fn shell_quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The check's whole finding.
#[derive(Debug, Clone)]
pub(crate) struct Verdict {
    pub status: Status,
    /// Each with the status it makes, the worst first.
    pub problems: Vec<(Status, Problem)>,
    pub counts: Counts,
    pub groups: Vec<Group>,
    /// Sorted by binary, host, id.
    pub services: Vec<Checked>,
    pub rules: Rules,
}

/// Judges the services of the scope by `rules`. `sweep` is the command that removes the stale
/// ones (`survey` builds it; None when there are none). No service at all is UNKNOWN: a check
/// that matches nothing (a misspelt `--host`) must not pass for healthy.
pub(crate) fn judge(mut services: Vec<Checked>, sweep: Option<Sweep>, rules: &Rules) -> Verdict {
    services.sort_by(|a, b| {
        let (a, b) = (&a.service.row, &b.service.row);
        (a.binary(), a.host(), a.id).cmp(&(b.binary(), b.host(), b.id))
    });
    let counts = Counts {
        services: services.len(),
        up: services
            .iter()
            .filter(|s| s.condition == Condition::Up)
            .count(),
        down: services.iter().filter(|s| s.down()).count(),
        disabled: services.iter().filter(|s| !s.enabled()).count(),
        stale: services.iter().filter(|s| s.stale()).count(),
        zones: services
            .iter()
            .map(|s| &s.service.row.availability_zone)
            .collect::<BTreeSet<_>>()
            .len(),
    };
    let groups = groups(&services, rules.critical_outage);
    let mut problems: Vec<(Status, Problem)> = Vec::new();
    if services.is_empty() {
        return Verdict {
            status: Status::Unknown,
            problems,
            counts,
            groups,
            services,
            rules: rules.clone(),
        };
    }
    // By binary, stale services aside: (enabled, enabled and up, all, disabled).
    let mut binaries: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, s) in services.iter().enumerate().filter(|(_, s)| !s.stale()) {
        binaries.entry(s.service.row.binary()).or_default().push(i);
    }
    let mut all_down: BTreeSet<&str> = BTreeSet::new();
    for (binary, members) in &binaries {
        let enabled: Vec<usize> = members
            .iter()
            .copied()
            .filter(|&i| services[i].enabled())
            .collect();
        if !enabled.is_empty() && enabled.iter().all(|&i| services[i].down()) {
            all_down.insert(binary);
            problems.push((
                Status::Critical,
                Problem::AllDown {
                    binary: binary.to_string(),
                    services: enabled,
                },
            ));
        }
    }
    for (i, g) in groups.iter().enumerate() {
        if g.outage && !all_down.contains(g.binary.as_str()) {
            problems.push((Status::Critical, Problem::Outage { group: i }));
        }
    }
    for (binary, members) in &binaries {
        if members.iter().all(|&i| !services[i].enabled()) {
            problems.push((
                Status::Critical,
                Problem::AllDisabled {
                    binary: binary.to_string(),
                    services: members.clone(),
                },
            ));
        }
    }
    let down: Vec<usize> = (0..services.len())
        .filter(|&i| services[i].enabled() && services[i].down())
        .collect();
    if !down.is_empty() {
        let warn = rules.warning_down > 0 && down.len() as u64 >= rules.warning_down;
        problems.push((
            if warn { Status::Warning } else { Status::Ok },
            Problem::Down { services: down },
        ));
    }
    let stale: Vec<usize> = (0..services.len())
        .filter(|&i| services[i].stale())
        .collect();
    if let (false, Some(sweep)) = (stale.is_empty(), sweep) {
        let status = match rules.stale_is {
            StaleIs::Warning => Status::Warning,
            StaleIs::Ok => Status::Ok,
        };
        problems.push((
            status,
            Problem::Stale {
                services: stale,
                sweep,
            },
        ));
    }
    // Stable: within a status, the order above (all down, outages, disabled, down, stale).
    problems.sort_by_key(|(s, _)| std::cmp::Reverse(*s));
    let status = problems.first().map_or(Status::Ok, |(s, _)| *s);
    Verdict {
        status,
        problems,
        counts,
        groups,
        services,
        rules: rules.clone(),
    }
}

/// The outage groups, in key order. A host counts once per group however many rows it has
/// there (nothing stops two live rows with the same host and binary): it is down when none of
/// its enabled rows is up.
fn groups(services: &[Checked], critical_outage: u8) -> Vec<Group> {
    // host -> any enabled row up
    let mut by_key: BTreeMap<GroupKey, BTreeMap<&str, bool>> = BTreeMap::new();
    for s in services.iter().filter(|s| !s.stale()) {
        let hosts = by_key.entry(s.group_key()).or_default();
        if s.enabled() {
            let up = hosts.entry(s.service.row.host()).or_insert(false);
            *up |= s.condition == Condition::Up;
        }
    }
    by_key
        .into_iter()
        .map(|((binary, zone, backend), hosts)| {
            let down_hosts: Vec<String> = hosts
                .iter()
                .filter(|(_, up)| !**up)
                .map(|(h, _)| h.to_string())
                .collect();
            let enabled_hosts = hosts.len();
            Group {
                binary,
                zone,
                backend,
                outage: enabled_hosts > 0
                    && down_hosts.len() * 100 >= usize::from(critical_outage) * enabled_hosts,
                enabled_hosts,
                down_hosts,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ServiceRow;

    /// A service: `up`, or down and `condition`; enabled unless `disabled`.
    fn svc(id: i64, binary: &str, host: &str, condition: Condition, disabled: bool) -> Checked {
        let row = ServiceRow {
            availability_zone: Some("nova".into()),
            disabled: Some(disabled),
            ..ServiceRow::example(id, host, binary, None)
        };
        Checked {
            service: Service {
                up: condition == Condition::Up,
                updated_at: None,
                row,
            },
            heartbeat_age: None,
            condition,
            refs: None,
        }
    }

    fn up(id: i64, binary: &str, host: &str) -> Checked {
        svc(id, binary, host, Condition::Up, false)
    }

    fn down(id: i64, binary: &str, host: &str) -> Checked {
        svc(id, binary, host, Condition::Down, false)
    }

    fn sweep() -> Sweep {
        Sweep {
            config_files: vec![],
            hosts: vec![],
            exclude: vec![],
            binary: None,
            down_for: "7d".into(),
            skip_refused: false,
        }
    }

    fn kinds(v: &Verdict) -> Vec<(Status, &'static str)> {
        v.problems.iter().map(|(s, p)| (*s, p.kind())).collect()
    }

    /// The seed's cluster: node01 up, node02 down: half of each binary's hosts.
    fn seed(node02: Condition) -> Vec<Checked> {
        let mut all = Vec::new();
        for (n, (binary, suffix)) in [
            ("cinder-backup", ""),
            ("cinder-scheduler", ""),
            ("cinder-volume", "@backend-deffaf27-95b1"),
            ("cinder-volume", "@backend-ffdc2630-def2"),
        ]
        .iter()
        .enumerate()
        {
            let n = n as i64;
            all.push(up(10 + n, binary, &format!("node01{suffix}")));
            all.push(svc(
                20 + n,
                binary,
                &format!("node02{suffix}"),
                node02.clone(),
                false,
            ));
        }
        all.push(up(30, "cinder-volume", "node01@normal"));
        all
    }

    #[test]
    fn half_of_each_binary_down_is_critical() {
        let v = judge(seed(Condition::Down), None, &Rules::default());
        assert_eq!(v.status, Status::Critical);
        assert_eq!(
            kinds(&v),
            [
                (Status::Critical, "outage"),
                (Status::Critical, "outage"),
                (Status::Critical, "outage"),
                (Status::Critical, "outage"),
                (Status::Warning, "down"),
            ]
        );
        let names: Vec<String> = v
            .groups
            .iter()
            .filter(|g| g.outage)
            .map(|g| g.name())
            .collect();
        assert_eq!(
            names,
            [
                "cinder-backup",
                "cinder-scheduler",
                "cinder-volume@backend-deffaf27-95b1",
                "cinder-volume@backend-ffdc2630-def2"
            ]
        );
        assert_eq!((v.counts.services, v.counts.up, v.counts.down), (9, 5, 4));
        // Just under the line: 49% is not an outage, 50% is.
        let mut rules = Rules {
            critical_outage: 51,
            ..Rules::default()
        };
        assert_eq!(
            judge(seed(Condition::Down), None, &rules).status,
            Status::Warning
        );
        rules.critical_outage = 50;
        assert_eq!(
            judge(seed(Condition::Down), None, &rules).status,
            Status::Critical
        );
    }

    #[test]
    fn one_host_of_three_down_is_a_warning() {
        let mut all = seed(Condition::Down);
        all.push(up(40, "cinder-backup", "node03"));
        all.push(up(41, "cinder-scheduler", "node03"));
        all.push(up(42, "cinder-volume", "node03@backend-deffaf27-95b1"));
        all.push(up(43, "cinder-volume", "node03@backend-ffdc2630-def2"));
        let v = judge(all.clone(), None, &Rules::default());
        assert_eq!(v.status, Status::Warning);
        assert_eq!(kinds(&v), [(Status::Warning, "down")]);
        // --warning-down: at least that many; 0 never warns.
        for (n, want) in [(4, Status::Warning), (5, Status::Ok), (0, Status::Ok)] {
            let rules = Rules {
                warning_down: n,
                ..Rules::default()
            };
            assert_eq!(judge(all.clone(), None, &rules).status, want, "{n}");
        }
    }

    #[test]
    fn stale_services_are_no_outage() {
        let v = judge(seed(Condition::Stale), Some(sweep()), &Rules::default());
        assert_eq!(v.status, Status::Warning);
        assert_eq!(kinds(&v), [(Status::Warning, "stale")]);
        assert_eq!((v.counts.stale, v.counts.down), (4, 0));
        assert!(
            v.groups
                .iter()
                .all(|g| !g.outage && g.down_hosts.is_empty())
        );
        let ok = Rules {
            stale_is: StaleIs::Ok,
            ..Rules::default()
        };
        let v = judge(seed(Condition::Stale), Some(sweep()), &ok);
        assert_eq!(v.status, Status::Ok);
        assert_eq!(kinds(&v), [(Status::Ok, "stale")]);
        // Down long but in use: still an outage.
        let kept = Condition::Kept(vec![Reason::InUse(RefCounts {
            volumes: 1,
            ..RefCounts::default()
        })]);
        assert_eq!(judge(seed(kept), None, &ok).status, Status::Critical);
    }

    #[test]
    fn every_enabled_service_of_a_binary_down_is_critical() {
        let all = vec![
            down(1, "cinder-scheduler", "a"),
            svc(2, "cinder-scheduler", "b", Condition::Up, true),
            up(3, "cinder-volume", "a@lvm"),
        ];
        // Even at 100%: the rule does not depend on --critical-outage.
        let rules = Rules {
            critical_outage: 100,
            ..Rules::default()
        };
        let v = judge(all, None, &rules);
        assert_eq!(
            kinds(&v),
            [(Status::Critical, "all_down"), (Status::Warning, "down")]
        );
        assert!(
            matches!(&v.problems[0].1, Problem::AllDown { binary, services } if binary == "cinder-scheduler" && services.len() == 1)
        );
    }

    #[test]
    fn every_service_of_a_binary_disabled_is_critical() {
        let all = vec![
            svc(1, "cinder-backup", "a", Condition::Up, true),
            svc(2, "cinder-backup", "b", Condition::Down, true),
            up(3, "cinder-volume", "a@lvm"),
            svc(4, "cinder-volume", "b@lvm", Condition::Up, true),
        ];
        let v = judge(all, None, &Rules::default());
        assert_eq!(kinds(&v), [(Status::Critical, "all_disabled")]);
        // A disabled down service warns of nothing by itself.
        assert_eq!(v.counts.disabled, 3);
        assert_eq!(v.counts.down, 1);
    }

    #[test]
    fn hosts_count_once_per_group_and_backends_apart() {
        let all = vec![
            up(1, "cinder-volume", "a@lvm"),
            // a duplicate row of a host that is up: the host is not down
            down(2, "cinder-volume", "a@lvm"),
            down(3, "cinder-volume", "b@lvm"),
            up(4, "cinder-volume", "c@lvm"),
            up(5, "cinder-volume", "a@ceph"),
            up(6, "cinder-volume", "legacy"),
        ];
        let v = judge(all, None, &Rules::default());
        let lvm = v
            .groups
            .iter()
            .find(|g| g.backend.as_deref() == Some("lvm"))
            .unwrap();
        assert_eq!(
            (lvm.enabled_hosts, lvm.down_hosts.clone()),
            (3, vec!["b@lvm".to_string()])
        );
        assert!(!lvm.outage);
        assert_eq!(v.groups.len(), 3, "{:?}", v.groups);
        assert_eq!(v.status, Status::Warning);
    }

    #[test]
    fn nothing_in_scope_is_unknown() {
        let v = judge(Vec::new(), None, &Rules::default());
        assert_eq!(v.status, Status::Unknown);
        assert!(v.problems.is_empty());
    }

    #[test]
    fn sweep_command_is_quoted_for_a_shell() {
        let s = Sweep {
            config_files: vec!["/etc/cinder/my conf.conf".into()],
            hosts: vec!["node02".into(), "node0*@lvm".into()],
            exclude: vec!["it's".into()],
            binary: Some("cinder-volume".into()),
            down_for: "7d".into(),
            skip_refused: true,
        };
        assert_eq!(
            s.command(),
            "svcctl --config-file '/etc/cinder/my conf.conf' service delete --down-for 7d \
             --host node02 --host 'node0*@lvm' --exclude 'it'\\''s' --binary cinder-volume \
             --skip-refused"
        );
        assert_eq!(sweep().command(), "svcctl service delete --down-for 7d");
        assert_eq!(shell_quote(""), "''");
    }
}
