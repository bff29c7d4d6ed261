//! The svcctl binary: parse the command line, run it, print any error once, exit with its code.

use std::process::ExitCode;

fn main() -> ExitCode {
    match svcctl::cli::parse().and_then(svcctl::run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if svcctl::error::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("svcctl: {err:#}");
            ExitCode::from(svcctl::error::exit_code(&err) as u8)
        }
    }
}
