//! The peer tools `compare` runs: how each is found, how it is told to read
//! a capture and discard its results, how its version is read, and how one
//! run of it is timed as a whole process.

use crate::rusage;
use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Names accepted by `--tools`.
pub const NAMES: &[&str] = &["tcpdump", "argus", "softflowd", "ndpi", "suricata", "vagt"];

/// A tool run, ready to time.
#[derive(Clone, Debug)]
pub struct Tool {
    /// Short name (as in `--tools`).
    pub name: &'static str,
    /// The program's product name, for the report.
    pub product: &'static str,
    /// What this run stands for, if anything ("libpcap floor", "1 worker").
    pub role: String,
    pub program: PathBuf,
    pub args: Vec<OsString>,
    /// Arguments that print the version, and a word on the line that has it.
    pub version_args: &'static [&'static str],
    pub version_marker: &'static str,
    /// The libpcap floor that the others are compared with.
    pub floor: bool,
}

impl Tool {
    /// The name of the report's row: product, version and role.
    pub fn title(&self, version: Option<&str>) -> String {
        let mut t = self.product.to_string();
        if let Some(v) = version {
            t.push(' ');
            t.push_str(v);
        }
        if !self.role.is_empty() {
            t.push_str(", ");
            t.push_str(&self.role);
        }
        t
    }

    /// The command line, for the report.
    pub fn command_line(&self) -> String {
        let prog = self
            .program
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.program.display().to_string());
        let mut parts = vec![prog];
        for a in &self.args {
            let a = a.to_string_lossy();
            if a.contains(' ') || a.is_empty() {
                parts.push(format!("'{a}'"));
            } else {
                parts.push(a.into_owned());
            }
        }
        parts.join(" ")
    }
}

/// A tool that could not be set up.
#[derive(Clone, Debug)]
pub struct Skipped {
    pub name: &'static str,
    pub reason: String,
}

/// Finds `program` in PATH (an executable file).
pub fn find_in_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The vagt-sensor binary: `--sensor`, else next to this executable (as
/// cargo builds both into target/release), else PATH.
pub fn find_sensor(given: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(p) = given {
        return if is_executable(p) {
            Ok(p.to_path_buf())
        } else {
            Err(format!(
                "--sensor {}: not an executable file; build it with \
                 `cargo build --release -p vagt-sensor`",
                p.display()
            ))
        };
    }
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("vagt-sensor")))
        .filter(|p| is_executable(p));
    beside
        .or_else(|| find_in_path("vagt-sensor"))
        .ok_or_else(|| {
            "vagt-sensor not found next to vagt-bench or in PATH; build it with \
         `cargo build --release -p vagt-sensor` or give --sensor PATH"
                .into()
        })
}

/// Everything a tool definition needs to know about the run.
pub struct Context<'a> {
    pub file: &'a Path,
    /// The capture's frames are Ethernet (tcpdump's `ether[]` filter).
    pub ethernet: bool,
    pub sensor: Result<PathBuf, String>,
    pub sensor_workers: &'a [usize],
    /// vagt-sensor runs with -C.
    pub ignore_checksums: bool,
    /// A loopback UDP port held open by vagt-bench, for softflowd's export.
    pub export_port: u16,
    /// A folder for logs (suricata).
    pub scratch: &'a Path,
}

/// The tools to run, in report order, and those that are not available.
pub fn tools(ctx: &Context, wanted: &[String]) -> (Vec<Tool>, Vec<Skipped>) {
    let want = |n: &str| wanted.is_empty() || wanted.iter().any(|w| w == n);
    let file = ctx.file.as_os_str().to_os_string();
    let os = |v: &[&str]| -> Vec<OsString> { v.iter().map(OsString::from).collect() };
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    let mut add = |name: &'static str, program: &str, tool: &dyn Fn(PathBuf) -> Tool| {
        if !want(name) {
            return;
        }
        match find_in_path(program) {
            Some(p) => out.push(tool(p)),
            None => skipped.push(Skipped {
                name,
                reason: format!("not installed (no `{program}` in PATH)"),
            }),
        }
    };

    add("tcpdump", "tcpdump", &|program| {
        // -O: without it tcpdump proves that the filter never matches and
        // reads nothing. Non-Ethernet captures get a filter on the length.
        let filter = if ctx.ethernet {
            "ether[0] = 1 and ether[0] = 2"
        } else {
            "len = 1 and len = 2"
        };
        let mut args = os(&["-O", "-n", "-r"]);
        args.push(file.clone());
        args.push(filter.into());
        Tool {
            name: "tcpdump",
            product: "tcpdump",
            role: "libpcap floor".into(),
            program,
            args,
            version_args: &["--version"],
            version_marker: "tcpdump version",
            floor: true,
        }
    });
    add("argus", "argus", &|program| {
        // -X: ignore /etc/argus.conf, which may name an output file of its
        // own; -w /dev/null: build every flow record, then discard it.
        let mut args = os(&["-X", "-r"]);
        args.push(file.clone());
        args.extend(os(&["-w", "/dev/null"]));
        Tool {
            name: "argus",
            product: "argus",
            role: String::new(),
            program,
            args,
            version_args: &["-h"],
            version_marker: "Argus Version",
            floor: false,
        }
    });
    add("softflowd", "softflowd", &|program| {
        // -d: stay in the foreground; -m: as many flows as vagt-sensor's
        // default connection budget (softflowd's own default is 8192);
        // -n: NetFlow export to a loopback port vagt-bench holds open.
        let mut args = os(&["-d", "-r"]);
        args.push(file.clone());
        args.extend(os(&["-m", "1000000", "-n"]));
        args.push(format!("127.0.0.1:{}", ctx.export_port).into());
        Tool {
            name: "softflowd",
            product: "softflowd",
            role: String::new(),
            program,
            args,
            version_args: &["-h"],
            version_marker: "softflowd version",
            floor: false,
        }
    });
    add("ndpi", "ndpiReader", &|program| {
        let mut args = os(&["-q", "-i"]);
        args.push(file.clone());
        Tool {
            name: "ndpi",
            product: "nDPI",
            role: "ndpiReader".into(),
            program,
            args,
            version_args: &["-h"],
            version_marker: "nDPI",
            floor: false,
        }
    });
    add("suricata", "suricata", &|program| {
        let mut args = os(&["-r"]);
        args.push(file.clone());
        args.push("-l".into());
        args.push(ctx.scratch.as_os_str().to_os_string());
        args.extend(os(&["-k", "none"]));
        Tool {
            name: "suricata",
            product: "Suricata",
            role: String::new(),
            program,
            args,
            version_args: &["-V"],
            version_marker: "version",
            floor: false,
        }
    });
    if want("vagt") {
        match &ctx.sensor {
            Ok(sensor) => {
                for &w in ctx.sensor_workers {
                    let mut args = os(&["replay"]);
                    args.push(file.clone());
                    args.extend(os(&["-q", "--no-progress", "-o", "/dev/null", "-w"]));
                    args.push(w.to_string().into());
                    if ctx.ignore_checksums {
                        args.push("-C".into());
                    }
                    out.push(Tool {
                        name: "vagt",
                        product: "vagt-sensor",
                        role: format!("{w} worker{}", if w == 1 { "" } else { "s" }),
                        program: sensor.clone(),
                        args,
                        version_args: &["--version"],
                        version_marker: "vagt-sensor",
                        floor: false,
                    });
                }
            }
            Err(e) => skipped.push(Skipped {
                name: "vagt",
                reason: e.clone(),
            }),
        }
    }
    (out, skipped)
}

/// The tool's version (as "4.99.3"), if it prints one.
pub fn version(tool: &Tool) -> Option<String> {
    let out = Command::new(&tool.program)
        .args(tool.version_args)
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    version_in(&text, tool.version_marker)
}

/// The first version-like word (starting with a digit) on the first line
/// of `text` that contains `marker`.
pub fn version_in(text: &str, marker: &str) -> Option<String> {
    let line = text.lines().find(|l| l.contains(marker))?;
    let after = &line[line.find(marker)? + marker.len()..];
    after
        .split_whitespace()
        .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))
        .map(|w| {
            w.trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
                .to_string()
        })
}

/// One timed run of a tool.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timed {
    pub wall: Duration,
    pub cpu: Duration,
}

/// Runs the tool once as a whole process: wall time from spawning it to
/// its exit, CPU time of the finished child from `getrusage`. Fails if it
/// exits with an error or runs longer than `timeout`.
pub fn time_run(tool: &Tool, timeout: Duration, scratch: &Path) -> Result<Timed, String> {
    let err_path = scratch.join(format!("{}.stderr", tool.name));
    let err_file = File::create(&err_path)
        .map_err(|e| format!("cannot create {}: {e}", err_path.display()))?;
    let before = rusage::children();
    let started = Instant::now();
    let mut child = Command::new(&tool.program)
        .args(&tool.args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err_file)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", tool.program.display()))?;
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let status = child.wait();
        let _ = tx.send((status, Instant::now()));
    });
    let (status, ended) = match rx.recv_timeout(timeout) {
        Ok(r) => r,
        Err(_) => {
            // Still running (not yet reaped, so the pid is still its own).
            // SAFETY: kill only sends a signal.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            let _ = rx.recv();
            return Err(format!(
                "still running after {} s, stopped; raise --timeout or use a smaller capture",
                timeout.as_secs()
            ));
        }
    };
    let after = rusage::children();
    let status = status.map_err(|e| format!("cannot wait for {}: {e}", tool.name))?;
    if !status.success() {
        let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
        let tail: Vec<&str> = stderr.lines().rev().take(3).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!(
            "exited with {status}: {}",
            if tail.is_empty() {
                "no error message".to_string()
            } else {
                tail.join(" / ")
            }
        ));
    }
    Ok(Timed {
        wall: ended.duration_since(started),
        cpu: after.cpu_since(&before),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell_tool(script: &str) -> Tool {
        Tool {
            name: "sh",
            product: "sh",
            role: String::new(),
            program: PathBuf::from("/bin/sh"),
            args: vec!["-c".into(), script.into()],
            version_args: &[],
            version_marker: "",
            floor: false,
        }
    }

    #[test]
    fn timing_a_process_and_its_failures() {
        let scratch = std::env::temp_dir();
        let t = time_run(&shell_tool("sleep 0.05"), Duration::from_secs(5), &scratch).unwrap();
        assert!(t.wall >= Duration::from_millis(50), "{t:?}");
        assert!(t.wall < Duration::from_secs(3), "{t:?}");

        let e = time_run(
            &shell_tool("echo broken input >&2; exit 3"),
            Duration::from_secs(5),
            &scratch,
        )
        .unwrap_err();
        assert!(e.contains("broken input") && e.contains('3'), "{e}");

        let e = time_run(
            &shell_tool("exec sleep 5"),
            Duration::from_millis(100),
            &scratch,
        )
        .unwrap_err();
        assert!(e.contains("still running"), "{e}");
    }

    #[test]
    fn versions_from_help_texts() {
        let v = |t: &str, m: &str| version_in(t, m);
        assert_eq!(
            v(
                "tcpdump version 4.99.3\nlibpcap version 1.10.3",
                "tcpdump version"
            )
            .as_deref(),
            Some("4.99.3")
        );
        assert_eq!(
            v(
                "usage\nThis is softflowd version 1.1.0. Valid options:",
                "softflowd version"
            )
            .as_deref(),
            Some("1.1.0")
        );
        assert_eq!(
            v("Welcome to nDPI 4.2.0\n", "nDPI").as_deref(),
            Some("4.2.0")
        );
        assert_eq!(
            v("Argus Version 3.0.8.2\nusage:", "Argus Version").as_deref(),
            Some("3.0.8.2")
        );
        assert_eq!(v("no version here", "tcpdump version"), None);
    }

    #[test]
    fn command_lines_quote_the_filter() {
        let ctx = Context {
            file: Path::new("/tmp/x.pcap"),
            ethernet: true,
            sensor: Ok(PathBuf::from("/opt/vagt-sensor")),
            sensor_workers: &[1, 2],
            ignore_checksums: false,
            export_port: 5555,
            scratch: Path::new("/tmp"),
        };
        let (tools, skipped) = tools(&ctx, &["tcpdump".into(), "vagt".into()]);
        let lines: Vec<String> = tools.iter().map(Tool::command_line).collect();
        if find_in_path("tcpdump").is_some() {
            assert_eq!(
                lines[0],
                "tcpdump -O -n -r /tmp/x.pcap 'ether[0] = 1 and ether[0] = 2'"
            );
            assert!(tools[0].floor);
        } else {
            assert_eq!(skipped[0].name, "tcpdump");
        }
        let vagt: Vec<&String> = lines
            .iter()
            .filter(|l| l.starts_with("vagt-sensor"))
            .collect();
        assert_eq!(
            vagt,
            [
                "vagt-sensor replay /tmp/x.pcap -q --no-progress -o /dev/null -w 1",
                "vagt-sensor replay /tmp/x.pcap -q --no-progress -o /dev/null -w 2"
            ]
        );
        assert!(tools
            .iter()
            .all(|t| t.name == "tcpdump" || t.name == "vagt"));
    }
}
