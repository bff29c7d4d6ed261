//! The svcctl binary: parse the command line, run it, print any error once, exit with its code.

use std::process::ExitCode;

fn main() -> ExitCode {
    svcctl::term::install_panic_hook();
    let cli = svcctl::cli::parse();
    match svcctl::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            svcctl::term::print_error(&err);
            let code = svcctl::error::exit_code(&err);
            ExitCode::from(u8::try_from(code).unwrap_or(1))
        }
    }
}
