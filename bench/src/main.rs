//! `vagt-bench`: measures the sensor's packet path and compares it with
//! peer tools. This file starts the command the user asked for; `cli`
//! defines the command line, `replay`, `generate`, `compare`, `concat`,
//! `cores` and `detect` are the commands (`municipal` is `detect`'s
//! generator of a municipal network's events), `report` presents replay results, `pacing` paces a
//! replay, and `stats` and `rusage` hold shared measurement helpers.

mod analyzer;
mod cli;
mod compare;
mod concat;
mod cores;
mod detect;
mod generate;
mod municipal;
mod pacing;
mod replay;
mod report;
mod rusage;
mod ship;
mod stats;

use clap::Parser;
use mimalloc::MiMalloc;
use std::path::Path;

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

/// Checks before a long run that a report can be written to `path` later:
/// its folder must exist.
pub fn check_output_path(path: &Path, option: &str) -> Result<(), String> {
    if path.as_os_str() == "-" {
        return Ok(());
    }
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && !dir.is_dir() => Err(format!(
            "{option} {}: the folder {} does not exist; create it first",
            path.display(),
            dir.display()
        )),
        _ if path.is_dir() => Err(format!(
            "{option} {}: is a folder; give a file name",
            path.display()
        )),
        _ => Ok(()),
    }
}

/// Writes a report to `path` ("-": standard output).
pub fn write_output(path: &Path, text: &str) -> Result<(), String> {
    if path.as_os_str() == "-" {
        print!("{text}");
        return Ok(());
    }
    std::fs::write(path, text).map_err(|e| {
        format!(
            "cannot write {}: {e}; check that its folder exists and is writable",
            path.display()
        )
    })
}

fn main() {
    // Die quietly when a reader of standard output goes away (`generate
    // -o - | tcpdump -c 5`), as command-line tools do, instead of failing
    // with "broken pipe".
    // SAFETY: restoring a signal's default action, before any thread runs.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let cli = cli::Cli::parse();
    let result = match &cli.command {
        cli::Command::Replay(a) => replay::run(a),
        cli::Command::Generate(a) => generate::run(a),
        cli::Command::Compare(a) => compare::run(a),
        cli::Command::Concat(a) => concat::run(a),
        cli::Command::Cores(a) => cores::run(a),
        cli::Command::Detect(a) => detect::run(a),
        cli::Command::Ship(a) => ship::run(a),
        cli::Command::Analyzer(a) => analyzer::run(a),
    };
    if let Err(e) = result {
        eprintln!("vagt-bench: error: {e}");
        std::process::exit(2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_paths_are_checked_before_a_run() {
        assert!(check_output_path(Path::new("-"), "--json").is_ok());
        assert!(check_output_path(Path::new("out.json"), "--json").is_ok());
        let tmp = std::env::temp_dir();
        assert!(check_output_path(&tmp.join("x.json"), "--json").is_ok());
        let e = check_output_path(Path::new("/nonexistent/dir/x.json"), "--json").unwrap_err();
        assert!(
            e.contains("/nonexistent/dir") && e.contains("--json"),
            "{e}"
        );
        let e = check_output_path(&tmp, "--json").unwrap_err();
        assert!(e.contains("is a folder"), "{e}");
    }
}
