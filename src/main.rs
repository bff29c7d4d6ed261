//! The svcctl binary: parse the command line, run it, print any error once, exit with its code.

use std::process::ExitCode;

fn main() -> ExitCode {
    svcctl::term::install_panic_hook();
    // `service check` is a monitoring plugin: exit codes of its own, UNKNOWN for any failure.
    let plugin = svcctl::plugin::detect();
    match svcctl::cli::parse().and_then(svcctl::run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if plugin => ExitCode::from(svcctl::plugin::finish(&err)),
        Err(err) => {
            svcctl::term::print_error(&err);
            let code = svcctl::error::exit_code(&err);
            ExitCode::from(u8::try_from(code).unwrap_or(1))
        }
    }
}
