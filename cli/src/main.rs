//! `fieldsync`: the command-line front end of the fieldsync core.
//!
//! Every read command takes `--json` (snake_case keys) for scripts; without it, output is tables for people.
//! Errors go to stderr with a non-zero exit code.

mod args;
mod commands;
mod demo;
mod output;
mod track;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    init_logging(cli.verbose);
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // Errors carry text from outside (the provider's words, arguments): escaped like the rest.
            eprintln!("error: {}", output::terminal_safe(&format!("{err:#}")));
            ExitCode::FAILURE
        }
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    // c2pa warns on every use that its thumbnail feature is off (its default settings ask for thumbnails,
    // fieldsync's turn them off afterwards): only its errors are shown unless FIELDSYNC_LOG asks.
    let filter = tracing_subscriber::EnvFilter::try_from_env("FIELDSYNC_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("{default},c2pa=error")));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
