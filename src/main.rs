//! The `nudge` binary: parses the command line and hands it to the library
//! (`nudge::cli::run`); everything testable lives there.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    nudge::cli::run(nudge::cli::Cli::parse())
}
