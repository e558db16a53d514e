//! `fieldsync-provider`: runs the provider emulator in the foreground until Ctrl-C.
//!
//! ```text
//! fieldsync-provider [--addr 127.0.0.1:8787] [--db provider.db] [--files DIR] [--seed]
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use fieldsync_provider::{ProviderConfig, serve_blocking};

const USAGE: &str = "\
usage: fieldsync-provider [OPTIONS]

Runs a local emulator of a Pruvan Share provider account (Pruvan v2 wire protocol) until Ctrl-C.

options:
  --addr ADDR             listen address (default 127.0.0.1:8787; port 0 picks a free port)
  --db PATH               SQLite database (default: a temporary one, deleted on exit)
  --files DIR             folder for uploaded files (default: <db>-files)
  --seed                  seed the demo data (vendor1 / secret1 / tok-1, eight work orders)
  --body-limit-mb N       maximum request body in MiB (default 128)
  --allow-non-loopback    allow a non-loopback --addr (plain HTTP with credentials: trusted networks only)
  -h, --help              show this help

environment: RUST_LOG (default info) sets the log filter.";

fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<ProviderConfig>, String> {
    let mut config = ProviderConfig {
        addr: SocketAddr::from(([127, 0, 0, 1], 8787)),
        ..ProviderConfig::default()
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag.to_owned(), Some(value.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or(format!("{name} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--addr" => {
                let v = value("--addr")?;
                config.addr = v
                    .parse()
                    .map_err(|_| format!("invalid --addr {v} (expected IP:PORT)"))?;
            }
            "--db" => config.db_path = Some(PathBuf::from(value("--db")?)),
            "--files" => config.files_dir = Some(PathBuf::from(value("--files")?)),
            "--seed" => config.seed_demo = true,
            "--body-limit-mb" => {
                let v = value("--body-limit-mb")?;
                let mb: usize = v.parse().map_err(|_| format!("invalid --body-limit-mb {v}"))?;
                config.body_limit = mb.saturating_mul(1024 * 1024);
            }
            "--allow-non-loopback" => config.allow_non_loopback = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(Some(config))
}

fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let config = match parse(std::env::args().skip(1)) {
        Ok(Some(config)) => config,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("fieldsync-provider: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match serve_blocking(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("fieldsync-provider: {err}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn parses_flags_in_both_forms() {
        let config = parse(args(&["--addr", "127.0.0.1:0", "--db=/tmp/x.db", "--seed"]))
            .unwrap()
            .unwrap();
        assert_eq!(config.addr.port(), 0);
        assert_eq!(config.db_path, Some(PathBuf::from("/tmp/x.db")));
        assert!(config.seed_demo);
        assert!(parse(args(&["--help"])).unwrap().is_none());
        assert!(parse(args(&["--addr"])).is_err());
        assert!(parse(args(&["--bogus"])).is_err());
    }
}
