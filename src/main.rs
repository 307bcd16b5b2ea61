//! The `motcua` command: parses arguments, runs the library, maps errors to exit codes.

fn main() {
    std::process::exit(motcua_cli_main());
}

fn motcua_cli_main() -> i32 {
    0
}
