//! Live-capture test rigs: whether live tests may run here, a network
//! namespace with a veth pair for traffic no one else sees, the sensor as
//! a child process (stderr collected as it comes, signals, a bounded wait
//! for its exit), and bounded polling of what it writes.
//!
//! A live test that cannot run (not root, no namespaces) fails with the
//! reason: a check that did not run must not look like a pass. Setting
//! `VAGT_SKIP_LIVE=1` opts out explicitly; the test then says it skipped.

use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use vagt_schema::{Event, EventBody, SensorStats};

/// Whether this process runs as root.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Whether the live test `name` may run: true if it can; if it cannot,
/// panics with the reason, unless `VAGT_SKIP_LIVE=1` asks to skip, in
/// which case it says so and returns false. `netns`: the test needs a
/// network namespace.
pub fn live_allowed(name: &str, netns: bool) -> bool {
    let why = if !is_root() {
        Some("live capture needs root (raw sockets, namespaces)".to_string())
    } else if netns {
        namespaces_allowed()
            .err()
            .map(|e| format!("this machine does not allow network namespaces ({e})"))
    } else {
        None
    };
    let Some(why) = why else { return true };
    if std::env::var("VAGT_SKIP_LIVE").is_ok_and(|v| v == "1") {
        eprintln!("SKIPPED {name} (VAGT_SKIP_LIVE=1): {why}");
        return false;
    }
    panic!(
        "{name} cannot run: {why}. Run the tests as root (.ci/run does), or set \
         VAGT_SKIP_LIVE=1 to skip the live-capture tests on purpose"
    );
}

/// Runs `cmd`, which must succeed; its stdout and stderr.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e} (is it installed? see .ci/run)"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// Whether a network namespace can be made here (some containers forbid
/// it even to root); the reason when not.
fn namespaces_allowed() -> Result<(), String> {
    let name = format!("vagt-probe-{}", std::process::id());
    let out = Command::new("ip")
        .args(["netns", "add", &name])
        .output()
        .map_err(|e| format!("cannot run ip: {e}; install iproute2"))?;
    let _ = Command::new("ip").args(["netns", "del", &name]).output();
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// A network namespace with a veth pair `vtx` -> `vrx`, removed on drop.
pub struct Netns {
    pub name: String,
}

impl Netns {
    /// `tag` keeps the namespaces of tests running at once apart.
    pub fn new(tag: &str) -> Netns {
        let name = format!("vagt-{tag}-{}", std::process::id());
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        run(Command::new("ip").args(["netns", "add", &name]));
        let ns = Netns { name };
        // No IPv6 autoconfiguration chatter on the wire under test.
        ns.exec(&["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"]);
        ns.exec(&["sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"]);
        ns.exec(&[
            "ip", "link", "add", "name", "vtx", "type", "veth", "peer", "name", "vrx",
        ]);
        ns.exec(&["ip", "link", "set", "vtx", "up"]);
        ns.exec(&["ip", "link", "set", "vrx", "up"]);
        ns
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name]).args(args);
        c
    }

    pub fn exec(&self, args: &[&str]) -> String {
        run(&mut self.cmd(args))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

/// What tcpreplay reports it sent.
pub fn tcpreplay_sent(report: &str) -> u64 {
    report
        .lines()
        .find_map(|l| l.trim().strip_prefix("Successful packets:"))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no packet count in tcpreplay's report:\n{report}"))
}

/// The sensor as a child process; killed if the test fails first.
pub struct Sensor {
    child: Child,
    stderr: Arc<Mutex<String>>,
}

impl Sensor {
    /// Starts `cmd` (the sensor's `run`) and waits until it says it is
    /// capturing.
    pub fn start(mut cmd: Command) -> Sensor {
        cmd.stdout(Stdio::null()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start the sensor");
        let mut pipe = child.stderr.take().expect("stderr");
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        // Read as it comes, so that the pipe never fills and the test can
        // look at what the sensor said while it runs.
        std::thread::spawn(move || {
            use std::io::Read;
            let mut buf = [0u8; 1024];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                if let Ok(mut s) = sink.lock() {
                    s.push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            }
        });
        let s = Sensor { child, stderr };
        s.wait_said("capturing on", Duration::from_secs(20));
        s
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// What the sensor said on standard error so far.
    pub fn said(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Waits (bounded) until the sensor has said `needle`.
    pub fn wait_said(&self, needle: &str, within: Duration) {
        poll(within, &format!("the sensor to say '{needle}'"), || {
            self.said().contains(needle).then_some(())
        });
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: signalling our own child process.
        unsafe { libc::kill(self.pid(), sig) };
    }

    /// Waits (bounded) for the sensor to exit.
    pub fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                // Let the reader thread take the last words.
                std::thread::sleep(Duration::from_millis(50));
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "the sensor did not exit within {within:?}: {}",
                self.said()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, as an operator stops it; must exit 0 within 30 s.
    pub fn stop(&mut self) {
        self.signal(libc::SIGTERM);
        let status = self.wait_exit(Duration::from_secs(30));
        assert!(
            status.success(),
            "sensor failed ({status}): {}",
            self.said()
        );
    }
}

impl Drop for Sensor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Calls `check` every 20 ms until it gives a value; panics naming `what`
/// after `within`.
pub fn poll<T>(within: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "gave up waiting for {what} after {within:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The events in a JSON Lines file written so far; the complete lines
/// only (a line still being written is not an event yet).
pub fn events(path: &Path) -> Vec<Event> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let complete = text.rfind('\n').map_or("", |end| &text[..end]);
    complete
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}")))
        .collect()
}

/// The last statistics event in `path`, if any.
pub fn last_stats(path: &Path) -> Option<SensorStats> {
    events(path).into_iter().rev().find_map(|e| match e.body {
        EventBody::Stats(s) => Some(s),
        _ => None,
    })
}

/// Packets the sensor accounted for in a stats event: counted, or
/// dropped by the capture buffer or the interface.
pub fn accounted(s: &SensorStats) -> u64 {
    s.packets + drop_count(s, "kernel") + drop_count(s, "interface")
}

pub fn drop_count(s: &SensorStats, what: &str) -> u64 {
    s.drops.get(what).copied().unwrap_or(0)
}

/// A configuration that makes the sensor report and write promptly: a
/// stats event every second, records on the file within `flush` seconds.
pub fn prompt_config(dir: &Path, flush: f64, extra: &str) -> std::path::PathBuf {
    let path = dir.join("prompt.toml");
    std::fs::write(
        &path,
        format!("[output]\nstats_interval = 1.0\nflush_interval = {flush}\n{extra}"),
    )
    .expect("write config");
    path
}
