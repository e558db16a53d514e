//! `fieldsync`: the command-line front end of the fieldsync core.
//!
//! Every read command takes `--json` (snake_case keys) for scripts; without it, output is tables for people.
//! Errors go to stderr (one JSON object with `--json`) with an exit code that says what kind of failure it
//! was (see [`exit`] and `docs/CLI.md`).

mod args;
mod commands;
mod demo;
mod exit;
mod output;
mod paths;
mod track;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return exit::clap_error(&err, exit::json_requested(std::env::args_os())),
    };
    init_logging(cli.verbose);
    let json = cli.json;
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => exit::Report::of(&err).exit(json),
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
