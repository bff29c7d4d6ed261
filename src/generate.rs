//! `svcctl --generate KIND`: the man pages and shell completions, made from the clap definitions
//! so they cannot drift from `--help`. Hidden from `--help`: it is for packagers (scripts/dist.sh)
//! and for whoever installs with `cargo install`. It needs no cinder.conf.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use clap::{ArgMatches, Command, ValueEnum};
use clap_complete::{Generator as _, Shell};
use clap_mangen::Man;
use clap_mangen::roff::{Roff, bold, roman};

use crate::{audit, config};

/// What `--generate` makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// svcctl(8) and one page per subcommand
    Man,
    CompleteBash,
    CompleteZsh,
    CompleteFish,
}

/// The hidden flags, flattened into the top-level command line.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print man page svcctl(8) or a shell completion script, made from these definitions; exit
    #[arg(long, value_enum, value_name = "KIND", hide = true)]
    pub generate: Option<Kind>,
    /// With --generate, write into DIR instead: every man page, or the completion script under
    /// its shell's file name (svcctl.bash, _svcctl, svcctl.fish)
    #[arg(long, value_name = "DIR", hide = true, requires = "generate")]
    pub out_dir: Option<PathBuf>,
}

/// Man pages go in section 8, beside cinder-manage(8): svcctl administers a cloud as root.
pub const SECTION: &str = "8";

/// `--generate` stands alone, as `--version` does. Only when it is on the command line is the
/// subcommand made optional, so every other command line parses, and fails, exactly as before.
pub fn allow_alone(cmd: Command, args: &[OsString]) -> Command {
    let asked = args.iter().skip(1).any(|a| {
        a.to_str()
            .is_some_and(|a| a == "--generate" || a.starts_with("--generate="))
    });
    if asked {
        cmd.subcommand_required(false)
    } else {
        cmd
    }
}

/// With `--generate`: what to make, and the directory to write it into (None: stdout).
pub fn asked(matches: &ArgMatches) -> Option<(Kind, Option<PathBuf>)> {
    let kind = *matches.get_one::<Kind>("generate")?;
    Some((kind, matches.get_one::<PathBuf>("out_dir").cloned()))
}

/// Writes what `--generate` asked for: the first file (svcctl(8), or the only script) to
/// stdout, or every file into `out_dir`.
pub fn write(kind: Kind, cmd: Command, out_dir: Option<&Path>) -> Result<()> {
    let files = generate(kind, cmd)?;
    match out_dir {
        None => {
            let mut out = crate::term::stdout();
            out.write_all(&files[0].1)?;
            out.flush()?;
        }
        Some(dir) => {
            for (name, text) in files {
                let path = dir.join(name);
                std::fs::write(&path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
        }
    }
    Ok(())
}

/// The files `kind` makes, each as (file name, contents), svcctl(8) first.
pub fn generate(kind: Kind, cmd: Command) -> Result<Vec<(String, Vec<u8>)>> {
    // `svcctl help` is clap's own; it gets no page and needs no completion.
    let mut cmd = cmd.disable_help_subcommand(true);
    cmd.build();
    let shell = match kind {
        Kind::Man => return man_pages(&cmd),
        Kind::CompleteBash => Shell::Bash,
        Kind::CompleteZsh => Shell::Zsh,
        Kind::CompleteFish => Shell::Fish,
    };
    let name = cmd.get_name().to_owned();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, &name, &mut script);
    Ok(vec![(shell.file_name(&name), script)])
}

/// Files svcctl reads or writes by default, for every page's FILES section.
fn files() -> [(&'static str, &'static str); 2] {
    [
        (
            config::files::DEFAULT_CONFIG_FILE,
            "The Cinder configuration read when neither --config-file nor --config-dir is given.",
        ),
        (
            audit::DEFAULT_AUDIT_LOG,
            "The audit log every writing command appends to when neither --audit-log nor \
             --no-audit is given: service delete, backend cleanup, service restore, service \
             purge, service disable, service enable, volume move-host, backup move-host and \
             cluster remove. One JSON line per changed row, written before its transaction \
             commits, then one line that ends the transaction: committed, rolled_back or \
             outcome_unknown; a command that cannot append to it changes nothing (exit 1). The \
             packages create its directory, owned by root, mode 0750; svcctl refuses (exit 2) a \
             log or directory that is a link, a log that is not a regular file, and either when \
             others can write it. Not signed: a replay holds each record to the database first.",
        ),
    ]
}

/// The command as its page shows it: NAME is one line (the `about` up to its first `: `, as
/// `svcctl: Clean up stale ... safely`), DESCRIPTION the whole text.
fn one_line_name(cmd: &Command) -> Command {
    let about = cmd.get_about().map(ToString::to_string).unwrap_or_default();
    let Some((name, _)) = about.split_once(": ") else {
        return cmd.clone();
    };
    let long = cmd
        .get_long_about()
        .map_or(about.clone(), ToString::to_string);
    cmd.clone().about(name.to_string()).long_about(long)
}

/// One page per command, the top one first: `svcctl.8`, `svcctl-service.8`,
/// `svcctl-service-list.8`, ... Each ends with EXIT STATUS (the `Exit codes` list of its
/// after-help as `--help` prints it: the top command's, or a command's own, as `service
/// check`'s), FILES and SEE ALSO.
fn man_pages(root: &Command) -> Result<Vec<(String, Vec<u8>)>> {
    let mut commands = Vec::new();
    collect(root, &mut commands);
    let names: Vec<&str> = commands.iter().map(|c| page_name(c)).collect();
    let after_help = root
        .get_after_help()
        .map(|h| h.to_string())
        .unwrap_or_default();
    let (exit_codes, other) = split_after_help(&after_help);
    if exit_codes.is_empty() {
        bail!("the top command's after-help has no `Exit codes:` list to make EXIT STATUS from");
    }
    commands
        .iter()
        .map(|cmd| {
            let name = page_name(cmd);
            let mut page = Vec::new();
            let man = Man::new(one_line_name(cmd))
                .title(name.to_uppercase())
                .section(SECTION)
                // No build date (pages stay reproducible), but never an empty field: roff
                // would shift source and manual into its place.
                .date(concat!("version ", env!("CARGO_PKG_VERSION")))
                .source("svcctl")
                .manual("svcctl manual");
            man.render_title(&mut page)?;
            man.render_name_section(&mut page)?;
            man.render_synopsis_section(&mut page)?;
            man.render_description_section(&mut page)?;
            if cmd.get_arguments().any(|a| !a.is_hide_set()) {
                man.render_options_section(&mut page)?;
            }
            if cmd.has_subcommands() {
                man.render_subcommands_section(&mut page)?;
            }
            let mut roff = Roff::default();
            if std::ptr::eq(*cmd, root) && !other.is_empty() {
                roff.control("SH", ["CONFIGURATION"]);
                for paragraph in &other {
                    roff.control("PP", []).text([roman(paragraph.as_str())]);
                }
            }
            roff.control("SH", ["EXIT STATUS"]);
            let own = cmd
                .get_after_help()
                .map(|h| split_after_help(&h.to_string()).0)
                .filter(|codes| !codes.is_empty());
            for (code, meaning) in own.as_ref().unwrap_or(&exit_codes) {
                roff.control("TP", [])
                    .text([bold(code.as_str())])
                    .text([roman(meaning.as_str())]);
            }
            roff.control("SH", ["FILES"]);
            for (path, what) in files() {
                roff.control("TP", [])
                    .text([bold(path)])
                    .text([roman(what)]);
            }
            roff.control("SH", ["SEE ALSO"]);
            let others: Vec<String> = names
                .iter()
                .filter(|n| **n != name)
                .map(|n| format!("{n}({SECTION})"))
                .chain(["cinder-manage(8)".to_owned()])
                .collect();
            roff.text([roman(others.join(", "))]);
            roff.to_writer(&mut page)?;
            // Only the top command has a version (`svcctl -V`).
            if cmd.get_version().is_some() {
                man.render_version_section(&mut page)?;
            }
            Ok((format!("{name}.{SECTION}"), page))
        })
        .collect()
}

fn collect<'a>(cmd: &'a Command, out: &mut Vec<&'a Command>) {
    out.push(cmd);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        collect(sub, out);
    }
}

/// `svcctl-service-list` for `svcctl service list` (clap names built subcommands so).
fn page_name(cmd: &Command) -> &str {
    cmd.get_display_name().unwrap_or(cmd.get_name())
}

/// Splits the after-help into the `Exit codes:` list, as (code, meaning), and its other
/// paragraphs, each joined into one line. A list line is `  CODE  meaning`; a line that does
/// not start with a number continues the meaning above it.
fn split_after_help(text: &str) -> (Vec<(String, String)>, Vec<String>) {
    let mut codes: Vec<(String, String)> = Vec::new();
    let mut other = Vec::new();
    for paragraph in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        let mut lines = paragraph.lines();
        // `Exit codes:`, or `Exit codes (...):` for a command with codes of its own.
        if !lines
            .next()
            .map(str::trim)
            .is_some_and(|l| l.starts_with("Exit codes") && l.ends_with(':'))
        {
            let joined: Vec<&str> = paragraph.lines().map(str::trim).collect();
            other.push(joined.join(" "));
            continue;
        }
        for line in lines.map(str::trim) {
            match line.split_once(char::is_whitespace) {
                Some((code, meaning)) if code.parse::<u8>().is_ok() => {
                    codes.push((code.to_owned(), meaning.trim().to_owned()));
                }
                _ => {
                    if let Some((_, meaning)) = codes.last_mut() {
                        meaning.push(' ');
                        meaning.push_str(line);
                    }
                }
            }
        }
    }
    (codes, other)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;
    use crate::cli::Cli;
    use crate::error;

    fn pages() -> Vec<(String, String)> {
        generate(Kind::Man, crate::cli::command())
            .unwrap()
            .into_iter()
            .map(|(name, text)| (name, String::from_utf8(text).unwrap()))
            .collect()
    }

    #[test]
    fn one_man_page_per_command_with_exit_status_and_files() {
        let pages = pages();
        let names: Vec<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
        // One page for svcctl and for every command under it, in the tree's order.
        fn walk(cmd: &Command, prefix: &str, out: &mut Vec<String>) {
            let name = format!("{prefix}{}", cmd.get_name());
            out.push(format!("{name}.8"));
            for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
                walk(sub, &format!("{name}-"), out);
            }
        }
        let mut expected = Vec::new();
        walk(&crate::cli::command(), "", &mut expected);
        assert!(expected.len() >= 7, "{expected:?}");
        assert!(expected.contains(&"svcctl-service-delete.8".to_string()));
        assert_eq!(names, expected);
        for (name, page) in &pages {
            assert!(page.contains(".SH \"EXIT STATUS\""), "{name}:\n{page}");
            assert!(page.contains(".SH FILES"), "{name}:\n{page}");
            if name == "svcctl-service-check.8" {
                // A monitoring plugin's codes, not svcctl's.
                for (code, state) in [(0, "OK"), (1, "WARNING"), (2, "CRITICAL"), (3, "UNKNOWN")] {
                    assert!(
                        page.contains(&format!(".TP\n\\fB{code}\\fR\n{state}")),
                        "{name} lacks exit code {code}:\n{page}"
                    );
                }
                assert!(!page.contains(".TP\n\\fB130\\fR"), "{name}:\n{page}");
            } else {
                for code in [
                    error::code::OK,
                    error::code::RUNTIME,
                    error::code::USAGE,
                    error::code::REFUSED,
                    error::code::NOTHING_MATCHED,
                    error::code::OUTCOME_UNKNOWN,
                    error::code::STOPPED_AFTER_COMMIT,
                    error::code::INTERRUPTED,
                    error::code::TERMINATED,
                ] {
                    assert!(
                        page.contains(&format!(".TP\n\\fB{code}\\fR\n")),
                        "{name} lacks exit code {code}:\n{page}"
                    );
                }
            }
            assert!(page.contains(audit::DEFAULT_AUDIT_LOG), "{name}:\n{page}");
            assert!(!page.contains("--generate"), "{name}:\n{page}");
        }
    }

    /// FILES names every command that writes the audit log: each one with `--audit-log`.
    #[test]
    fn files_names_every_command_that_writes_the_audit_log() {
        fn walk(cmd: &Command, prefix: &str, out: &mut Vec<String>) {
            for sub in cmd.get_subcommands() {
                let name = format!("{prefix}{}", sub.get_name()).trim().to_string();
                if sub
                    .get_arguments()
                    .any(|a| a.get_long() == Some("audit-log"))
                {
                    out.push(name.clone());
                }
                walk(sub, &format!("{name} "), out);
            }
        }
        let mut writers = Vec::new();
        walk(&crate::cli::command(), "", &mut writers);
        assert!(writers.len() >= 9, "{writers:?}");
        let (_, audit) = files()[1];
        for writer in &writers {
            assert!(
                audit.contains(writer.as_str()),
                "FILES omits {writer}: {audit}"
            );
        }
    }

    #[test]
    fn subcommand_pages_document_their_own_flags() {
        let pages = pages();
        let delete = &pages
            .iter()
            .find(|(n, _)| n == "svcctl-service-delete.8")
            .unwrap()
            .1;
        // roff escapes '-' as '\-'.
        for flag in ["\\-\\-dry\\-run", "\\-\\-audit\\-log", "\\-\\-timeout"] {
            assert!(delete.contains(flag), "no {flag}:\n{delete}");
        }
    }

    #[test]
    fn after_help_splits_into_exit_codes_and_the_rest() {
        let (codes, other) = split_after_help(
            "Exit codes:\n  0    ok\n  3    refused,\n       nothing changed\n\nRead as\nCinder does.",
        );
        assert_eq!(
            codes,
            [
                ("0".to_owned(), "ok".to_owned()),
                ("3".to_owned(), "refused, nothing changed".to_owned())
            ]
        );
        assert_eq!(other, ["Read as Cinder does."]);
    }

    #[test]
    fn completions_name_every_subcommand() {
        for (kind, file) in [
            (Kind::CompleteBash, "svcctl.bash"),
            (Kind::CompleteZsh, "_svcctl"),
            (Kind::CompleteFish, "svcctl.fish"),
        ] {
            let files = generate(kind, Cli::command()).unwrap();
            assert_eq!(files.len(), 1);
            assert_eq!(files[0].0, file);
            let script = String::from_utf8(files[0].1.clone()).unwrap();
            for word in ["service", "backend", "cleanup", "delete", "dry-run"] {
                assert!(script.contains(word), "{file} lacks {word}:\n{script}");
            }
        }
    }
}
