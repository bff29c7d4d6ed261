//! `svcctl --generate`: man pages and completions from the clap definitions, with no cinder.conf.

use crate::harness::Svcctl;

#[test]
fn generate_needs_no_config_and_prints_to_stdout() {
    // No --config-file, a cleared environment, no /etc/cinder/cinder.conf: nothing is read.
    let run = Svcctl::new().run(&["--generate", "man"]).code(0);
    let title = format!(
        "\n.TH SVCCTL 8 \"version {}\" svcctl \"svcctl manual\"\n",
        env!("CARGO_PKG_VERSION")
    );
    assert!(run.stdout.contains(&title), "{}", run.stdout);
    assert!(run.stdout.contains(".SH \"EXIT STATUS\""), "{}", run.stdout);
    let run = Svcctl::new().run(&["--generate", "complete-bash"]).code(0);
    assert!(run.stdout.contains("complete -F _svcctl"), "{}", run.stdout);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
}

#[test]
fn generate_man_out_dir_writes_one_page_per_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    Svcctl::new()
        .run(&["--generate", "man", "--out-dir", out])
        .code(0);
    let mut pages: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    pages.sort();
    // One page per command: svcctl, each group and each subcommand (the tree grows; these
    // must always be there, and nothing else may be).
    for page in [
        "svcctl-backend-cleanup.8",
        "svcctl-backend.8",
        "svcctl-cluster-list.8",
        "svcctl-cluster-remove.8",
        "svcctl-cluster.8",
        "svcctl-demo.8",
        "svcctl-service-check.8",
        "svcctl-service-delete.8",
        "svcctl-service-list.8",
        "svcctl-service-purge.8",
        "svcctl-service-restore.8",
        "svcctl-service.8",
        "svcctl.8",
    ] {
        assert!(
            pages.contains(&page.to_string()),
            "{page} missing: {pages:?}"
        );
    }
    assert!(
        pages
            .iter()
            .all(|p| p.starts_with("svcctl") && p.ends_with(".8")),
        "{pages:?}"
    );
    // NAME is one short line (what apropos and whatis show), not the description.
    for page in &pages {
        let text = std::fs::read_to_string(dir.path().join(page)).unwrap();
        let name = text
            .split(".SH NAME\n")
            .nth(1)
            .and_then(|rest| rest.lines().next())
            .unwrap_or_else(|| panic!("{page} has no NAME"));
        let plain = name.replace("\\-", "-").replace("\\*(Aq", "'");
        assert!(
            plain.len() < 130 && !plain.contains(": "),
            "{page}: NAME is {plain:?}"
        );
    }
}

#[test]
fn generate_errors_are_one_line_and_leave_other_command_lines_alone() {
    let run = Svcctl::new()
        .run(&["--generate", "man", "--out-dir", "/nonexistent/svcctl-man"])
        .code(1);
    assert!(
        run.error_line()
            .starts_with("svcctl: cannot write /nonexistent/svcctl-man/svcctl.8: "),
        "{}",
        run.stderr
    );
    let run = Svcctl::new().run(&["--generate", "complete-tcsh"]).code(2);
    assert!(run.stderr.contains("complete-bash"), "{}", run.stderr);
    // Without --generate the subcommand is still required, with clap's own message.
    let run = Svcctl::new().run(&["--debug"]).code(2);
    assert!(
        run.stderr.contains("requires a subcommand"),
        "{}",
        run.stderr
    );
    let run = Svcctl::new()
        .run(&["--out-dir", "/tmp", "service", "list"])
        .code(2);
    assert!(run.stderr.contains("--generate"), "{}", run.stderr);
}
