//! `brokerdesk`: the command line over the Brokerdesk core. A thin adapter: arguments are
//! parsed by clap ([`args`]), each command is a plain function over the core API
//! ([`commands`]), and results and errors are printed as text or as one JSON document
//! ([`output`]). See `brokerdesk --help` for the exit codes.

mod args;
mod commands;
mod errors;
mod harden;
mod input;
mod output;
mod values;

use brokerdesk_core::Code;
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::Parser;

use crate::args::Cli;
use crate::commands::Failure;
use crate::errors::{error, to_exit, EXIT_USAGE};

fn main() -> ExitCode {
    let hardening = harden::process();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    let as_json = cli.json;
    if let Some(warning) = hardening {
        eprintln!("warning: {warning}");
    }
    // `stream` reads the socket and writes stdout at once: give each a core. Every other
    // command is one request at a time.
    let mut builder = if matches!(cli.command, crate::args::Command::Stream(_)) {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(2);
        b
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            output::error(
                &error(
                    Code::Runtime,
                    format!("cannot start the async runtime: {e}"),
                ),
                as_json,
            );
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Error(e)) => {
            output::error(&e, as_json);
            to_exit(e.code)
        }
        Err(Failure::Reported(e)) => to_exit(e.code),
        Err(Failure::Exit(code)) => ExitCode::from(code),
    }
}

/// Reports a clap error. `--help` and `--version` print as usual; a real usage error under
/// `--json` becomes the JSON error document with code `usage` (exit 2 either way).
fn usage_error(e: &clap::Error) -> ExitCode {
    let wants_json = std::env::args_os()
        .skip(1)
        .take_while(|a| a != "--")
        .any(|a| a == "--json");
    let informational = matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion);
    if !wants_json || informational {
        let _ = e.print();
        return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(EXIT_USAGE));
    }
    let text = e.to_string();
    let first = text.lines().next().unwrap_or("invalid usage");
    let message = first
        .strip_prefix("error: ")
        .unwrap_or(first)
        .trim()
        .to_string();
    output::error(&error(Code::Usage, message), true);
    ExitCode::from(EXIT_USAGE)
}
