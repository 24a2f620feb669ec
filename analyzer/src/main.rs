//! `vagt-analyzer`: the command line of the central analyzer.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use vagt_analyzer::{auth, cli, config::Config, retention, serve, store::Store};

/// Vagt's central analyzer: reads every sensor's events from Kafka into one
/// store, finds campaigns across municipalities, tracks incidents against
/// NIS2 deadlines, and serves analysts (HTTP API, this command line).
///
/// Start it next to a broker:
///   vagt-analyzer token create --name me --role central
///   vagt-analyzer serve --config /etc/vagt/analyzer.toml
///   VAGT_TOKEN=vagt_... vagt-analyzer query campaigns
///
/// With no --config the defaults apply: SQLite store ./vagt-analyzer.db,
/// broker localhost:9092, API on 127.0.0.1:8470 (deploy/vagt-analyzer.toml
/// documents every setting).
#[derive(Parser)]
#[command(name = "vagt-analyzer", version, verbatim_doc_comment)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Args, Clone)]
struct ConfigArg {
    /// The TOML config (see deploy/vagt-analyzer.toml); defaults without.
    #[arg(long, short)]
    config: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the analyzer: ingest, correlation, retention and the API.
    Serve(ConfigArg),
    /// Manage API tokens (run on the analyzer's host: it opens the store).
    Token {
        #[command(subcommand)]
        cmd: TokenCmd,
    },
    /// Query a running analyzer through its API.
    Query(QueryArgs),
    /// Run retention once now and print what it deleted.
    Retention(ConfigArg),
    /// Create or upgrade the store's schema and print its version.
    Migrate(ConfigArg),
}

#[derive(Subcommand)]
enum TokenCmd {
    /// Create a token; its secret is printed once and only its hash kept.
    Create {
        #[command(flatten)]
        config: ConfigArg,
        /// Who or what the token is for.
        #[arg(long)]
        name: String,
        /// central (all municipalities), municipality (its own only) or
        /// readonly (reads only; its municipality if given, else all).
        #[arg(long)]
        role: String,
        /// The municipality code, for municipality and readonly tokens.
        #[arg(long, default_value = "")]
        municipality: String,
    },
    /// List tokens (never their secrets).
    List(ConfigArg),
    /// Revoke a token by id.
    Revoke {
        #[command(flatten)]
        config: ConfigArg,
        id: String,
    },
}

#[derive(Args)]
struct QueryArgs {
    /// The analyzer's API.
    #[arg(
        long,
        env = "VAGT_ANALYZER_URL",
        default_value = "http://127.0.0.1:8470"
    )]
    url: String,
    /// The API token (or VAGT_TOKEN).
    #[arg(long, env = "VAGT_TOKEN", hide_env_values = true)]
    token: String,
    /// For an https URL: the CA certificate (PEM) to check the analyzer's
    /// certificate against, typically the centre's own CA. Without it,
    /// the Mozilla roots are trusted.
    #[arg(long, env = "VAGT_CA_CERT")]
    ca_cert: Option<PathBuf>,
    /// Print the API's JSON instead of a table.
    #[arg(long)]
    json: bool,
    #[command(subcommand)]
    what: What,
}

#[derive(Args, Default)]
struct AlertFilter {
    #[arg(long)]
    municipality: Option<String>,
    #[arg(long)]
    segment: Option<String>,
    #[arg(long)]
    detector: Option<String>,
    /// An external indicator: address, /24, domain, SNI, JA3/JA4, user agent.
    #[arg(long)]
    indicator: Option<String>,
    /// The lowest severity: low, medium, high, critical.
    #[arg(long)]
    severity: Option<String>,
    /// From (seconds since the Unix epoch).
    #[arg(long)]
    from: Option<f64>,
    #[arg(long)]
    to: Option<f64>,
}

#[derive(Subcommand)]
enum What {
    /// Search alerts, newest first.
    Alerts {
        #[command(flatten)]
        f: AlertFilter,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Export alerts as NDJSON.
    Export {
        #[command(flatten)]
        f: AlertFilter,
    },
    /// Campaigns (or --rule wave, kill_chain, sensor_health).
    Campaigns {
        #[arg(long, default_value = "campaign")]
        rule: String,
        #[arg(long)]
        municipality: Option<String>,
    },
    /// Incidents.
    Incidents {
        #[arg(long)]
        state: Option<String>,
        #[arg(long)]
        municipality: Option<String>,
    },
    /// One incident with its timeline and NIS2 deadlines.
    Incident { id: String },
    /// Change an incident: its state, assignee or NIS2 significance, or
    /// add a note. Each change goes on the incident's timeline.
    Update {
        id: String,
        /// new, investigating, resolved or false_positive.
        #[arg(long)]
        state: Option<String>,
        #[arg(long)]
        assignee: Option<String>,
        /// Significant under NIS2: starts the 24 h / 72 h / one month
        /// deadlines from detection.
        #[arg(long)]
        significant: Option<bool>,
        #[arg(long)]
        note: Option<String>,
    },
    /// The allow-list entry a false positive suggests (sensor rules
    /// format, for the municipality's rules/allow.toml).
    Allowlist { id: String },
    /// A NIS2 draft: early_warning, notification or final_report.
    Nis2 {
        id: String,
        stage: String,
        #[arg(long)]
        markdown: bool,
    },
    /// Sensors and their health.
    Sensors,
    /// The inventory.
    Assets {
        #[arg(long)]
        municipality: Option<String>,
        #[arg(long)]
        role: Option<String>,
    },
    /// The analyzer's status and ingest counters.
    Status,
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("VAGT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("vagt-analyzer: {e:#}");
        std::process::exit(1);
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

async fn open(c: &ConfigArg) -> anyhow::Result<Store> {
    let cfg = Config::load(c.config.as_deref())?;
    Store::open(&cfg.store.url, cfg.store.max_connections).await
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.cmd {
        Cmd::Serve(c) => {
            let cfg = Config::load(c.config.as_deref())?;
            runtime()?.block_on(serve::serve(cfg))
        }
        Cmd::Migrate(c) => runtime()?.block_on(async {
            let s = open(&c).await?;
            println!("store schema version {}", s.version().await?);
            Ok(())
        }),
        Cmd::Retention(c) => runtime()?.block_on(async {
            let cfg = Config::load(c.config.as_deref())?;
            let s = Store::open(&cfg.store.url, cfg.store.max_connections).await?;
            for d in retention::run(&s, &cfg.retention, &cfg.instance()).await? {
                println!(
                    "{:<16} {:>10} rows received before {}",
                    d.kind,
                    d.rows,
                    vagt_analyzer::nis2::datetime(d.older_than)
                );
            }
            Ok(())
        }),
        Cmd::Token { cmd } => runtime()?.block_on(async {
            match cmd {
                TokenCmd::Create {
                    config,
                    name,
                    role,
                    municipality,
                } => {
                    let s = open(&config).await?;
                    let (id, secret) = auth::create(&s, &name, &role, &municipality).await?;
                    eprintln!("token {id} ({role}) created; its secret, shown only now:");
                    println!("{secret}");
                }
                TokenCmd::List(c) => {
                    let s = open(&c).await?;
                    let list = serde_json::to_value(auth::list(&s).await?)?;
                    let items = list.as_array().cloned().unwrap_or_default();
                    print!(
                        "{}",
                        cli::table(&items, &["id", "name", "role", "municipality", "revoked"])
                    );
                }
                TokenCmd::Revoke { config, id } => {
                    let s = open(&config).await?;
                    if !auth::revoke(&s, &id).await? {
                        anyhow::bail!("no live token {id} (vagt-analyzer token list)");
                    }
                    println!("revoked {id}");
                }
            }
            Ok(())
        }),
        Cmd::Query(q) => query(q),
    }
}

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

fn filter_pairs(f: &AlertFilter) -> Vec<(&'static str, String)> {
    vec![
        ("municipality", opt(&f.municipality)),
        ("segment", opt(&f.segment)),
        ("detector", opt(&f.detector)),
        ("indicator", opt(&f.indicator)),
        ("severity", opt(&f.severity)),
        ("from", f.from.map(|v| v.to_string()).unwrap_or_default()),
        ("to", f.to.map(|v| v.to_string()).unwrap_or_default()),
    ]
}

fn query(q: QueryArgs) -> anyhow::Result<()> {
    let c = cli::Client::new(&q.url, &q.token, q.ca_cert.as_deref())?;
    let (value, cols): (serde_json::Value, &[&str]) = match &q.what {
        What::Alerts { f, limit } => {
            let mut p = filter_pairs(f);
            p.push(("limit", limit.to_string()));
            (
                c.get("/api/v1/alerts", &p)?,
                &[
                    "ts",
                    "municipality",
                    "segment",
                    "severity",
                    "detector",
                    "src",
                    "dst",
                    "message",
                ],
            )
        }
        What::Export { f } => {
            print!("{}", c.get_text("/api/v1/alerts/export", &filter_pairs(f))?);
            return Ok(());
        }
        What::Campaigns { rule, municipality } => (
            c.get(
                "/api/v1/campaigns",
                &[("rule", rule.clone()), ("municipality", opt(municipality))],
            )?,
            &[
                "id",
                "key_kind",
                "key_value",
                "municipalities",
                "other_municipalities",
                "detectors",
                "first_seen",
                "last_seen",
                "alerts",
            ],
        ),
        What::Incidents {
            state,
            municipality,
        } => (
            c.get(
                "/api/v1/incidents",
                &[("state", opt(state)), ("municipality", opt(municipality))],
            )?,
            &[
                "id",
                "municipality",
                "severity",
                "state",
                "assignee",
                "significant",
                "detected",
                "title",
            ],
        ),
        What::Incident { id } => {
            let v = c.get(&format!("/api/v1/incidents/{}", enc(id)), &[])?;
            println!("{}", serde_json::to_string_pretty(&v)?);
            return Ok(());
        }
        What::Update {
            id,
            state,
            assignee,
            significant,
            note,
        } => {
            let body = serde_json::json!({
                "state": state, "assignee": assignee,
                "significant": significant, "note": note,
            });
            let v = c.patch(&format!("/api/v1/incidents/{}", enc(id)), &body)?;
            println!("{}", serde_json::to_string_pretty(&v)?);
            return Ok(());
        }
        What::Allowlist { id } => {
            let path = format!("/api/v1/incidents/{}/allowlist", enc(id));
            print!("{}", c.get_text(&path, &[])?);
            return Ok(());
        }
        What::Nis2 {
            id,
            stage,
            markdown,
        } => {
            let path = format!("/api/v1/incidents/{}/nis2/{}", enc(id), enc(stage));
            let fmt = if *markdown { "markdown" } else { "json" };
            print!("{}", c.get_text(&path, &[("format", fmt.into())])?);
            return Ok(());
        }
        What::Sensors => (
            c.get("/api/v1/sensors", &[])?,
            &[
                "municipality",
                "sensor",
                "seconds_silent",
                "packets",
                "drops",
                "spool_records",
                "rules_version",
                "problems",
            ],
        ),
        What::Assets { municipality, role } => (
            c.get(
                "/api/v1/assets",
                &[("municipality", opt(municipality)), ("role", opt(role))],
            )?,
            &[
                "municipality",
                "sensor",
                "segment",
                "key",
                "role",
                "last_seen",
            ],
        ),
        What::Status => {
            let v = c.get("/api/v1/status", &[])?;
            println!("{}", serde_json::to_string_pretty(&v)?);
            return Ok(());
        }
    };
    if q.json {
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    let items = match value.get("items") {
        Some(serde_json::Value::Array(a)) => a.clone(),
        _ => value.as_array().cloned().unwrap_or_default(),
    };
    print!("{}", cli::table(&items, cols));
    if value.get("next_cursor").is_some_and(|c| !c.is_null()) {
        eprintln!("(more: use --json and the API's cursor, or narrow the search)");
    }
    Ok(())
}

/// Percent-encodes a path segment.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
