//! `--help`: every command's text, snapshot-tested as operators read it (doc comments are the
//! help text, man pages come from the same definitions), with the global options apart and the
//! exit codes at the end.

use crate::harness::Svcctl;
use crate::svcctl_snapshot;

#[test]
fn help_documents_every_flag_and_exit_code() {
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("cinder.conf.example");
    let run = Svcctl::new().config(&example).run(&["--help"]).code(0);
    svcctl_snapshot!("help", run.stdout);
    for sub in [
        &["service", "list", "--help"][..],
        &["service", "delete", "--help"],
        &["backend", "cleanup", "--help"],
    ] {
        let run = Svcctl::new().run(sub).code(0);
        svcctl_snapshot!(sub[..2].join("_"), run.stdout);
    }
    let run = Svcctl::new().run(&["service", "remove"]).code(2);
    assert!(
        run.stderr.contains("unrecognized subcommand"),
        "{}",
        run.stderr
    );
}

#[test]
fn restore_purge_and_cluster_help() {
    for sub in [
        &["service", "restore", "--help"][..],
        &["service", "purge", "--help"],
        &["cluster", "list", "--help"],
        &["cluster", "remove", "--help"],
    ] {
        let run = Svcctl::new().run(sub).code(0);
        svcctl_snapshot!(sub[..2].join("_"), run.stdout);
    }
}

#[test]
fn disable_enable_and_move_host_help() {
    for sub in [
        &["service", "disable", "--help"][..],
        &["service", "enable", "--help"],
        &["volume", "move-host", "--help"],
        &["backup", "move-host", "--help"],
    ] {
        let run = Svcctl::new().run(sub).code(0);
        svcctl_snapshot!(sub[..2].join("_"), run.stdout);
    }
}

#[test]
fn subcommand_help_separates_global_options_and_ends_with_exit_codes() {
    for sub in [
        &["service", "list", "--help"][..],
        &["service", "delete", "--help"],
        &["backend", "cleanup", "--help"],
    ] {
        let out = Svcctl::new().run(sub).code(0).stdout;
        let (own, global) = out
            .split_once("Global options:")
            .unwrap_or_else(|| panic!("{sub:?}: no Global options heading:\n{out}"));
        for flag in [
            "--config-file",
            "--config-dir",
            "--debug",
            "--timeout",
            "--max-retries",
        ] {
            assert!(
                !own.contains(flag),
                "{sub:?}: {flag} among the command's own:\n{out}"
            );
            assert!(global.contains(flag), "{sub:?}: {flag} missing:\n{out}");
        }
        assert!(
            out.trim_end()
                .ends_with("143  terminated by SIGTERM; nothing was changed")
                || out.contains("Exit codes:"),
            "{sub:?}:\n{out}"
        );
        assert!(
            global.contains("Exit codes:"),
            "{sub:?}: exit codes at the end:\n{out}"
        );
    }
}
