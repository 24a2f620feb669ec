//! Command-line interface definitions and help text.

use crate::config::OutputFormat;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

const ABOUT: &str = "Vagt sensor: watches a network from a SPAN or tap port and writes \
one record per connection.";

const LONG_ABOUT: &str = "\
Vagt sensor: watches a network from a SPAN or tap port and writes one record
per connection, with the same fields and connection states as Zeek's conn.log.

Records are JSON Lines by default (one event per line, each naming the
municipality, sensor and network segment it belongs to), or Zeek TSV.

Start here:
  vagt-sensor demo                       generate a sample capture and replay it
  vagt-sensor replay capture.pcap -o conn.json
  sudo vagt-sensor run -i eth1 -o conn.json
  vagt-sensor config > vagt.toml         write a configuration to edit

Exit codes:
  0  success
  1  the run failed: the output could not be written (disk full, closed pipe)
  2  bad usage, configuration or input: a flag or setting that is not valid,
     a file that cannot be opened, is not a capture or is truncated (records
     of everything readable are still written), an interface that cannot be
     opened";

#[derive(Parser, Debug)]
#[command(name = "vagt-sensor", version, about = ABOUT, long_about = LONG_ABOUT)]
pub struct Cli {
    /// Configuration file (TOML). Flags given on the command line override it.
    /// `vagt-sensor config` prints every setting with its default.
    #[arg(short, long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Print only warnings and errors on standard error (and the sensor's
    /// notes on its output file at start).
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// How the sensor logs while it runs: `text` lines on standard error,
    /// `json` objects on standard error (time, level, message and fields),
    /// or `journald` (the systemd journal, fields as journal fields). The
    /// level is info (warn with --quiet); VAGT_LOG overrides it, e.g.
    /// VAGT_LOG=debug. The run's summary is plain text either way.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value_t,
        value_name = "FORMAT"
    )]
    pub log_format: crate::log::LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Read capture files (pcap or pcapng) and write connection records.
    ///
    /// Files are read in the order given, as one stream, using packet
    /// timestamps (never the wall clock), so results are the same on every
    /// run and with any number of workers, with one exception: a connection
    /// inside tunnels (GRE, VXLAN, ...) that reaches the sensor through
    /// several tunnels with different outer addresses gives one record per
    /// worker that saw it (workers are chosen by the outer addresses, which
    /// keeps each tunnel whole); its packets are still counted once. Ends
    /// with a summary on standard error.
    Replay(ReplayArgs),

    /// Capture live from a network interface until Ctrl-C or SIGTERM.
    ///
    /// Needs root or the CAP_NET_RAW and CAP_NET_ADMIN capabilities. Open
    /// connections are written out when the sensor stops. Packets that arrive
    /// faster than the workers keep up are dropped and counted, never queued
    /// without bound; so are packets the capture buffer (AF_PACKET ring or
    /// libpcap's) had no room for.
    ///
    /// An existing output file is appended to (an incomplete last line left
    /// by a crash is cut off first); --truncate starts it afresh. Finished
    /// records reach the file within output.flush_interval (1 s), in whole
    /// lines only. SIGHUP reopens the file for log rotation:
    /// `mv conn.json conn.json.1; kill -HUP PID`.
    Run(RunArgs),

    /// Generate a synthetic municipal network capture and replay it.
    ///
    /// The capture (admin, care, school, OT and guest segments; web, DNS,
    /// file shares, building control and a port scan a third of the way
    /// in) is made from a fixed seed, so the output is the same every time.
    /// Without -c, the demo network's segments are used; --write-config
    /// saves them for replaying the capture later. A good first command.
    Demo(DemoArgs),

    /// Print the default configuration, or check a configuration file.
    Config(ConfigArgs),

    /// Show the devices seen on the network: the passive asset inventory.
    ///
    /// One row per device and segment: MAC address and its vendor (IEEE
    /// registry), addresses, host name, the role the sensor guesses
    /// (router, ot_controller, domain_controller, printer, camera,
    /// iot_gateway, phone, engineering_workstation, server, client) and
    /// the services it offers, first and last seen; then the evidence
    /// behind each role. Only local addresses are inventoried (the
    /// configured segments and site.local_networks, else the private
    /// ranges).
    ///
    /// `vagt-sensor assets capture.pcap` replays capture files and prints
    /// what they show. `vagt-sensor assets --state /var/lib/vagt/assets.json`
    /// prints the inventory a running sensor keeps (see [assets] in the
    /// configuration); with files as well, adds what they show to it and
    /// saves it.
    Assets(AssetsArgs),

    /// Check detection rules files before putting them in place.
    ///
    /// `vagt-sensor rules check DIR` reads every `*.toml` and indicator
    /// feed (`*.intel`, `*.dat`) in DIR as the sensor would (`[analysis]
    /// rules`), and prints each error with its file, line and field, or a
    /// count of what it read (allow entries, indicators by type, feed
    /// lines of types it skips). Exit code 0 when
    /// every file is good, 2 otherwise. rules/README.md in the repository
    /// documents the files.
    Rules(RulesArgs),

    /// Show what the analysis stage has learnt.
    ///
    /// `vagt-sensor baseline show` lists the segments in the learned state
    /// (hours learnt, whether each is still learning); `vagt-sensor
    /// baseline show SEGMENT` prints what each hour of the week normally
    /// holds in that segment (bytes out and in, connections, failed
    /// connections, hosts, external peers, new peers, DNS queries,
    /// NXDOMAIN), as mean ± spread with the samples behind it. The state is
    /// read from --state-dir, else `[analysis] state_dir`, else
    /// /var/lib/vagt.
    Baseline(BaselineArgs),

    /// Run the detectors over events recorded before.
    ///
    /// Reads JSON Lines of events as the sensor writes them (or as the
    /// centre receives them from Kafka; "-" is standard input), plain or
    /// gzip-compressed, in the order given, so give files oldest first. Every event goes through the same
    /// analysis stage as in `replay` and `run` (the configuration's segments
    /// and their kinds, `[analysis]` rules and state), and only what the
    /// stage raises is written: alerts, and segment metrics when
    /// `[analysis] segment_metrics` is on. Alerts and statistics already in
    /// the input are skipped, so a file can be analysed again.
    ///
    /// Uses: retro-hunting, i.e. new indicators or rules tried on last
    /// week's records (`--rules DIR`); teaching baselines from recorded
    /// events (`--state-dir DIR` restores the learned state first and saves
    /// it as intervals pass and at the end); replaying the events of
    /// `vagt-bench detect --write-events` through the sensor itself.
    ///
    /// A line that is not an event is reported with its file and line
    /// number, skipped and counted, and the exit code is then 2; everything
    /// else is still analysed.
    Analyze(AnalyzeArgs),

    /// Turn pseudonyms from the centre back into addresses and names.
    ///
    /// What leaves the municipality carries keyed pseudonyms (HMAC-SHA256
    /// under the key in `[privacy] key_file`) instead of internal
    /// addresses, MACs, host and user names. With the key, this command
    /// finds what a pseudonym stands for: an address token by trying the
    /// addresses of the internal networks (`[privacy] internal`, IPv4 up
    /// to a /8), a name or user token from the journal of tokens
    /// (`[privacy] journal`) and the asset inventory. Only the
    /// municipality holds the key, so only it can do this.
    Reveal(RevealArgs),
}

#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    /// Files of events, one JSON object per line, plain or gzip; "-" reads
    /// standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Where to write what the stage raises, as JSON Lines; "-" is
    /// standard output [default: output.path, -].
    #[arg(short, long, value_name = "FILE")]
    pub out: Option<String>,

    /// Folder of rules files instead of `[analysis] rules` (see `rules
    /// check`).
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,

    /// Folder of the learned state: restored first, saved as intervals pass
    /// and at the end. Without it the run starts fresh and saves nothing
    /// [default: analysis.state_dir].
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<String>,
}

#[derive(Args, Debug)]
pub struct RevealArgs {
    /// Pseudonyms as they appear at the centre: `fd..` addresses or
    /// `~h_...`, `~u_...`, `~m_...` tokens.
    #[arg(value_name = "TOKEN", required = true)]
    pub tokens: Vec<String>,
    /// An asset inventory file whose addresses, MACs and names are tried
    /// too (default: the live sensor's, `[assets] state`).
    #[arg(long, value_name = "FILE")]
    pub assets: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct BaselineArgs {
    #[command(subcommand)]
    pub action: BaselineAction,
}

#[derive(Subcommand, Debug)]
pub enum BaselineAction {
    /// Print the learned baselines (all segments, or one in full).
    Show {
        /// The segment to show hour by hour.
        #[arg(value_name = "SEGMENT")]
        segment: Option<String>,
        /// The state folder.
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
    },
}

#[derive(Args, Debug)]
pub struct RulesArgs {
    #[command(subcommand)]
    pub action: RulesAction,
}

#[derive(Subcommand, Debug)]
pub enum RulesAction {
    /// Read every rules file in a folder and report what is wrong.
    Check {
        /// The rules folder.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
}

/// Settings shared by `replay`, `run` and `demo`.
#[derive(Args, Debug, Clone, Default)]
pub struct CommonArgs {
    /// Worker threads; 0 picks them automatically, as pipeline.workers = 0
    /// does: one per CPU core, or one less when libpcap capture needs a
    /// reader thread [default: pipeline.workers, 0]
    #[arg(short, long, value_name = "N")]
    pub workers: Option<usize>,

    /// Where to write records; "-" is standard output (the default).
    #[arg(short, long, value_name = "FILE")]
    pub out: Option<String>,

    /// Record format.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<OutputFormat>,

    /// Do not verify IP, TCP, UDP and ICMP checksums (like zeek -C); the
    /// same as --checksums off.
    #[arg(short = 'C', long, conflicts_with = "checksums")]
    pub ignore_checksums: bool,

    /// Checksums: auto verifies them unless more than one in ten of the
    /// first 1,000 packets fails (checksum offload on the capture host; the
    /// summary then says so), strict always verifies them, as Zeek does,
    /// off never does [default: decode.checksums, auto]
    #[arg(long, value_enum, value_name = "MODE")]
    pub checksums: Option<crate::decode::offload::ChecksumMode>,

    /// Municipality code written into every record.
    #[arg(long, value_name = "CODE")]
    pub municipality: Option<String>,

    /// Sensor id written into every record.
    #[arg(long, value_name = "ID")]
    pub sensor_id: Option<String>,

    /// Folder of the analysis stage's learned state (baselines, what
    /// detectors remember): restored at start, saved as intervals pass and
    /// at the end. A replay without it starts fresh and saves nothing, so
    /// two replays never share learned state by accident; give it to
    /// continue from (and leave) a saved state [default:
    /// analysis.state_dir; /var/lib/vagt for run]
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<String>,
}

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// Capture files to read (pcap or pcapng); "-" reads standard input
    /// (e.g. `tcpdump -w - | vagt-sensor replay -`). A file that cannot be
    /// opened or read is reported and the others are still replayed.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    #[command(flatten)]
    pub common: CommonArgs,

    /// Do not draw a progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Interface to capture from (see `ip link`).
    #[arg(short, long, value_name = "IF")]
    pub interface: Option<String>,

    /// BPF capture filter, e.g. "not port 22".
    #[arg(long, value_name = "EXPR")]
    pub bpf: Option<String>,

    /// Bytes captured per packet [default: capture.snaplen, 65535]
    #[arg(long, value_name = "BYTES")]
    pub snaplen: Option<i32>,

    /// Do not put the interface into promiscuous mode.
    #[arg(long)]
    pub no_promisc: bool,

    /// Kernel capture buffer in MiB (with af-packet: per worker ring)
    /// [default: capture.buffer_mib, 64]
    #[arg(long, value_name = "MIB")]
    pub buffer_mib: Option<i32>,

    /// How to capture: af-packet (Linux rings, one per worker, the fast
    /// path), libpcap (portable), or auto (af-packet where it works)
    /// [default: capture.method, auto]
    #[arg(long, value_name = "HOW")]
    pub method: Option<crate::config::CaptureMethod>,

    /// Start an existing output file afresh instead of appending to it.
    #[arg(long)]
    pub truncate: bool,

    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Keep the generated capture in this file (default: a temporary file
    /// that is removed afterwards).
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<PathBuf>,

    /// About how many packets to generate.
    #[arg(long, default_value_t = 100_000, value_name = "N")]
    pub packets: u64,

    /// Seed of the generator.
    #[arg(long, default_value_t = 2025)]
    pub seed: u64,

    /// Write the configuration the demo ran with (its network's segments
    /// and the settings given) to FILE, so that `vagt-sensor -c FILE
    /// replay` of the demo's capture gives the same records.
    #[arg(long, value_name = "FILE")]
    pub write_config: Option<PathBuf>,

    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Args, Debug)]
pub struct ConfigArgs {
    /// Check this configuration file instead of printing the defaults.
    #[arg(long, value_name = "FILE")]
    pub check: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct AssetsArgs {
    /// Capture files to replay (pcap or pcapng).
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// The inventory's state file: printed as it is without FILEs, else
    /// replayed into and saved [default: assets.state]
    #[arg(long, value_name = "PATH")]
    pub state: Option<PathBuf>,

    /// Worker threads for the replay; 0 picks them automatically.
    #[arg(short, long, value_name = "N")]
    pub workers: Option<usize>,

    /// Do not verify checksums (like zeek -C).
    #[arg(short = 'C', long)]
    pub ignore_checksums: bool,
}
