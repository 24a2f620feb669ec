//! A real Kafka-protocol broker for the tests: tansu, with its data in
//! SQLite so that it survives a restart, on a loopback port of its own.
//! `tests/run` installs tansu when it is missing and names it in
//! `VAGT_TANSU`; tests start, stop (gracefully or with SIGKILL) and
//! restart it, and read what arrived with a real consumer.

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::TopicPartitionList;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Broker {
    pub port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

/// The tansu binary: `$VAGT_TANSU`, else `tansu` on the PATH or in
/// ~/.cargo/bin.
pub fn tansu() -> PathBuf {
    if let Ok(p) = std::env::var("VAGT_TANSU") {
        return PathBuf::from(p);
    }
    let home = std::env::var("HOME").unwrap_or_default();
    let cargo = Path::new(&home).join(".cargo/bin/tansu");
    if cargo.exists() {
        return cargo;
    }
    PathBuf::from("tansu")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl Broker {
    /// Starts a broker with its database in `dir`, and creates the topics
    /// (three partitions each, as a production cluster would have).
    pub fn start(dir: &Path, topics: &[&str]) -> Broker {
        std::fs::create_dir_all(dir).expect("broker dir");
        let mut b = Broker {
            port: free_port(),
            dir: dir.to_path_buf(),
            child: None,
        };
        b.up();
        for t in topics {
            let out = Command::new(tansu())
                .args(["topic", "create", t, "--partitions", "3", "--broker"])
                .arg(b.url())
                .output()
                .expect("tansu topic create");
            assert!(
                out.status.success(),
                "cannot create topic {t}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        b
    }

    fn url(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.port)
    }

    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Starts the broker process (again) and waits for its port.
    pub fn up(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("tansu.log"))
            .expect("broker log");
        let child = Command::new(tansu())
            .current_dir(&self.dir)
            .arg("broker")
            .arg("--listener-url")
            .arg(self.url())
            .arg("--advertised-listener-url")
            .arg(self.url())
            // Relative: tansu joins an absolute sqlite path to its
            // working directory.
            .args(["--storage-engine", "sqlite://tansu.db"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start tansu ({}): {e}; tests/run installs it",
                    tansu().display()
                )
            });
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "tansu did not open its port");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the broker: gracefully (SIGTERM, waiting for it to exit) or
    /// with SIGKILL.
    pub fn down(&mut self, kill: bool) {
        if let Some(mut c) = self.child.take() {
            let sig = if kill { "-KILL" } else { "-TERM" };
            let _ = Command::new("kill")
                .args([sig, &c.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                if let Ok(Some(_)) = c.try_wait() {
                    break;
                }
                if Instant::now() > deadline {
                    let _ = c.kill();
                    let _ = c.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// Every message of `topic` from the beginning: read until nothing
    /// new came for `quiet`, or `timeout` passes.
    pub fn read_all(&self, topic: &str, quiet: Duration, timeout: Duration) -> Vec<Vec<u8>> {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", self.bootstrap())
            .set("group.id", format!("test-{}", std::process::id()))
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            .create()
            .expect("consumer");
        // Assigned partitions, not a group subscription: a first group
        // join on tansu can take over 15 s, and the test reads everything.
        let meta = consumer
            .fetch_metadata(Some(topic), Duration::from_secs(20))
            .expect("metadata");
        let mut tpl = TopicPartitionList::new();
        for t in meta.topics() {
            for p in t.partitions() {
                tpl.add_partition_offset(topic, p.id(), rdkafka::Offset::Beginning)
                    .expect("partition");
            }
        }
        consumer.assign(&tpl).expect("assign");
        let mut out = Vec::new();
        let deadline = Instant::now() + timeout;
        let mut last = Instant::now();
        // The first fetch of a fresh consumer takes longer.
        while Instant::now() < deadline
            && last.elapsed() < if out.is_empty() { quiet * 3 } else { quiet }
        {
            if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
                out.push(m.payload().unwrap_or_default().to_vec());
                last = Instant::now();
            }
        }
        out
    }
}

impl Broker {
    /// The end of the broker's log, for a failing test's message.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("tansu.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.down(true);
        if std::thread::panicking() {
            eprintln!("--- the end of tansu's log ---\n{}", self.log_tail());
        }
    }
}
