//! The svcctl binary: parse the command line, run it (or answer help, version, `--generate`),
//! print any error once, exit with its code.

use std::process::ExitCode;

use svcctl::cli::Parsed;

fn main() -> ExitCode {
    svcctl::term::install_panic_hook();
    // `service check` is a monitoring plugin: exit codes of its own, UNKNOWN for any failure.
    let plugin = svcctl::plugin::detect();
    let result = svcctl::cli::parse().and_then(|parsed| match parsed {
        Parsed::Run(cli) => svcctl::run(*cli),
        Parsed::Special(special) => svcctl::special(special),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if plugin => ExitCode::from(svcctl::plugin::finish(&err)),
        Err(err) => {
            svcctl::term::print_error(&err);
            let code = svcctl::error::exit_code(&err);
            ExitCode::from(u8::try_from(code).unwrap_or(1))
        }
    }
}
