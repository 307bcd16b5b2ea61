//! The `motcua` command: parses arguments, runs the library, maps errors to exit codes (0 ok, 1 a check breached, 2 bad input or runtime error).

mod cli;

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    match cli::run() {
        Ok(cli::Outcome::Ok) => ExitCode::SUCCESS,
        Ok(cli::Outcome::Breached) => ExitCode::from(1),
        Err(e) => {
            // A reader that closed the pipe wants no more output, not an error.
            let closed = e
                .downcast_ref::<cli::StdoutError>()
                .is_some_and(|s| s.0.kind() == std::io::ErrorKind::BrokenPipe);
            if !closed {
                let _ = writeln!(std::io::stderr(), "error: {e:#}");
            }
            ExitCode::from(2)
        }
    }
}
