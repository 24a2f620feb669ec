//! A real Kafka-protocol broker for the tests: tansu, with its data in
//! SQLite so that it survives a restart, on a loopback port of its own.
//! `tests/run` installs tansu when it is missing and names it in
//! `VAGT_TANSU`; tests start, stop (gracefully or with SIGKILL) and
//! restart it, and read what arrived with a real consumer.
//!
//! A broker can also require SASL (SCRAM users, made before
//! authentication is switched on) and sit behind TLS: tansu 0.6's own TLS
//! cannot be switched on (its `--cert` and `--key` flags refuse each
//! other), so socat terminates TLS in front of it, as stunnel or a load
//! balancer does in front of a production broker, and the broker
//! advertises socat's port.

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::TopicPartitionList;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Broker {
    /// Where clients connect: the broker itself, or the TLS front.
    pub port: u16,
    /// Where tansu listens.
    inner: u16,
    dir: PathBuf,
    security: Security,
    child: Option<Child>,
    front: Option<Child>,
}

/// How the broker is reached.
#[derive(Clone, Default)]
pub struct Security {
    /// SCRAM users: (name, password, tansu's mechanism: scram512 or
    /// scram256).
    pub users: Vec<(String, String, String)>,
    /// Require SASL authentication.
    pub authentication: bool,
    /// TLS in front: (server certificate, key, and for mutual TLS the CA
    /// that must have signed the client's certificate).
    pub tls: Option<(PathBuf, PathBuf, Option<PathBuf>)>,
    /// librdkafka properties of the test's own consumer.
    pub client: Vec<(String, String)>,
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
        Broker::start_secured(dir, topics, Security::default())
    }

    /// As [`Broker::start`], reached as `security` says.
    pub fn start_secured(dir: &Path, topics: &[&str], security: Security) -> Broker {
        std::fs::create_dir_all(dir).expect("broker dir");
        let inner = free_port();
        let port = if security.tls.is_some() {
            free_port()
        } else {
            inner
        };
        let authentication = security.authentication;
        let mut b = Broker {
            port,
            inner,
            dir: dir.to_path_buf(),
            security: Security {
                authentication: false,
                ..security
            },
            child: None,
            front: None,
        };
        b.up();
        for (name, password, mechanism) in &b.security.users {
            b.admin(&["user", "create", name, password, "--mechanism", mechanism]);
        }
        for t in topics {
            b.admin(&["topic", "create", t, "--partitions", "3"]);
        }
        // tansu's own tools cannot log in, so users and topics are made
        // first, and the broker restarted with authentication on.
        if authentication {
            b.down(false);
            b.security.authentication = true;
            b.up();
        }
        if let Some((cert, key, client_ca)) = b.security.tls.clone() {
            b.front = Some(tls_front(
                b.port,
                b.inner,
                &cert,
                &key,
                client_ca.as_deref(),
            ));
        }
        b
    }

    /// Runs one of tansu's own tools against the broker.
    fn admin(&self, args: &[&str]) {
        let out = Command::new(tansu())
            .args(args)
            .arg("--broker")
            .arg(self.url())
            .output()
            .expect("tansu");
        assert!(
            out.status.success(),
            "tansu {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// tansu's own address, for its tools.
    fn url(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.inner)
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
        let mut cmd = Command::new(tansu());
        cmd.arg("broker");
        if self.security.authentication {
            cmd.arg("--authentication");
        }
        let child = cmd
            .current_dir(&self.dir)
            .arg("--listener-url")
            .arg(self.url())
            .arg("--advertised-listener-url")
            .arg(format!("tcp://127.0.0.1:{}", self.port))
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
        while TcpStream::connect(("127.0.0.1", self.inner)).is_err() {
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
        let mut cfg = ClientConfig::new();
        cfg.set("bootstrap.servers", self.bootstrap())
            .set("group.id", format!("test-{}", std::process::id()))
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest");
        for (k, v) in &self.security.client {
            cfg.set(k, v);
        }
        let consumer: BaseConsumer = cfg.create().expect("consumer");
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

/// socat terminating TLS on `port` and passing the bytes to tansu on
/// `inner`; with `client_ca`, a client must show a certificate it signed.
fn tls_front(port: u16, inner: u16, cert: &Path, key: &Path, client_ca: Option<&Path>) -> Child {
    let verify = match client_ca {
        Some(ca) => format!("verify=1,cafile={}", ca.display()),
        None => "verify=0".into(),
    };
    let listen = format!(
        "OPENSSL-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,cert={},key={},{verify}",
        cert.display(),
        key.display()
    );
    let child = Command::new("socat")
        .arg(listen)
        .arg(format!("TCP:127.0.0.1:{inner}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("socat (Debian's socat package; tests/run installs it)");
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "socat did not open its port");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(mut f) = self.front.take() {
            let _ = f.kill();
            let _ = f.wait();
        }
        self.down(true);
        if std::thread::panicking() {
            eprintln!("--- the end of tansu's log ---\n{}", self.log_tail());
        }
    }
}
