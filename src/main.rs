#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    nudge::cli::run(nudge::cli::Cli::parse())
}
