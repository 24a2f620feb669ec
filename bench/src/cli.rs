//! The command line: commands, options and their help text.

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

const ABOUT: &str = "Benchmarks of the Vagt sensor: replay, synthetic traffic, peer comparison";

const LONG_ABOUT: &str = "\
Benchmarks of the Vagt sensor.

  generate   write seeded synthetic traffic (IMIX, 64-byte frames, many
             concurrent connections, the municipal mix) as a pcap file
  replay     push captures from memory through the full sensor pipeline and
             report packets/s, Gbit/s, latency percentiles, drops, CPU per
             packet, memory and connections/s for each worker count
  compare    time tcpdump (the libpcap read floor), argus, softflowd,
             nDPI and vagt-sensor on the same capture file
  concat     join real captures into one Ethernet pcap, looped with
             shifted IPv4 addresses, as the common input for compare
  detect     generate two weeks of a municipal network's events with
             labelled attacks, run the detectors on them and report
             precision, recall and false alerts per segment-day

A typical session:
  vagt-bench generate --mix imix --packets 2000000 -o imix.pcap
  vagt-bench replay imix.pcap --workers 1,2 --json imix.json
  vagt-bench replay imix.pcap --speed 1 --live      # at 10 Gbit/s line rate
  vagt-bench compare imix.pcap --runs 5

Run with --release builds only; debug builds are many times slower. The
machine should be otherwise idle; every figure is a median over runs.";

#[derive(Parser, Debug)]
#[command(name = "vagt-bench", version, about = ABOUT, long_about = LONG_ABOUT)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Replay captures from memory through the full pipeline and report
    /// throughput, latency, drops, CPU and memory per worker count.
    ///
    /// The input (capture files, or a synthetic mix generated when no file
    /// is given) is loaded into memory first, so the disk is not measured.
    /// Each run pushes it through the whole pipeline: the reader (flow
    /// hashing, batching), the workers (decoding, IP reassembly, connection
    /// tracking, timers) and the writer, which builds every connection
    /// record and then discards it. Every worker count is run --runs times;
    /// the median of each figure is reported.
    ///
    /// By default packets go in as fast as the pipeline takes them. --pps,
    /// --mbps and --speed pace the input instead, to see latency and (with
    /// --live) drops at a given rate.
    #[command(
        group(ArgGroup::new("pace").args(["pps", "mbps", "speed"])),
        after_help = "\
Figures:
  packets/s, Gbit/s   packets (and their captured bytes) over the run's wall time
  latency             per packet, from being read (paced: from its scheduled
                      arrival) to the end of its processing. Through the
                      reader thread this is mostly time queued behind full
                      batches at top speed, and waiting for a batch (256
                      packets) to fill at low paced rates
  drops               packets dropped at a full worker queue (--live, and only
                      with the reader thread: paced or --dispatch queued)
  CPU/packet          user+system time of the whole process over the run, per
                      packet, less the pacer's spinning
  peak RSS            the process's largest resident size so far, including
                      the input held in memory
  connections/s       connection records written over the run's wall time

Examples:
  vagt-bench replay                                     # municipal mix, 1M packets
  vagt-bench replay --mix min64 --packets 5000000 --workers 1,2,4
  vagt-bench replay day.pcap --runs 7 --json day.json
  vagt-bench replay day.pcap --speed 1 --loops 3        # real time
  vagt-bench replay imix.pcap --mbps 2000 --live        # 2 Gbit/s, count drops"
    )]
    Replay(ReplayArgs),

    /// Write seeded synthetic traffic to a pcap file.
    ///
    /// The same seed always gives the same file. Frames are Ethernet/IPv4
    /// with correct IP, TCP and UDP checksums, written through a buffer so
    /// captures of tens of millions of packets need no more memory than a
    /// small one (the municipal mix keeps its ground truth per connection).
    #[command(after_help = "\
Mixes:
  imix        64, 594 and 1518-byte frames in the classic 7:4:1 ratio (60, 590
              and 1514 bytes as captured, without the 4-byte FCS), TCP and
              UDP, between thousands of hosts; --flows flows (default 4096)
  min64       only minimum-size frames (64 bytes, 60 captured): the worst
              case; TCP data and ACKs and UDP; --flows flows (default 65536)
  concurrent  --flows TCP connections (default 10000) open at once, packets
              interleaved round-robin; each connection has its handshake,
              request/response data and FIN close; the packet count is exact
  municipal   the sensor's municipal network scenario (admin, care, school,
              OT, guest segments; web, DNS, file shares, a port scan) with
              its own timing; about --packets packets
  synflood    one unanswered SYN from each of --flows distinct sources
              (default 2,000,000) to one web server, with ordinary traffic
              (256 flows) as every tenth frame: the table under attack

Timestamps (all but municipal) are those of back-to-back frames on a link of
--link-gbps, counting the FCS, preamble and inter-frame gap, so
`replay --speed 1` replays at that line rate.

Examples:
  vagt-bench generate --mix imix --packets 10000000 -o imix.pcap
  vagt-bench generate --mix min64 --packets 1000000 --seed 7 -o min64.pcap
  vagt-bench generate --mix concurrent --flows 100000 --packets 5000000 -o conc.pcap
  vagt-bench generate --mix municipal --packets 500000 -o - | tcpdump -r - -c 5")]
    Generate(GenerateArgs),

    /// Time peer tools and vagt-sensor on the same capture file.
    ///
    /// Every tool is run as a whole process: one warm-up round, then --runs
    /// timed rounds, each tool running once per round, so that a machine
    /// whose speed drifts moves all tools alike. The median wall time gives
    /// packets/s (packets in the file over the time), shown with the ratio
    /// to the libpcap floor (the median of the rounds' ratios): tcpdump
    /// reading the file with a filter that matches nothing, the least any
    /// libpcap-based tool must spend. CPU seconds are the user
    /// plus system time of the finished child (getrusage). Tools that are
    /// not installed are skipped. Start-up and exit costs are included, so
    /// use a capture that takes each tool at least a second or two.
    #[command(after_help = "\
Tools and how they are run (FILE is the capture):
  tcpdump     tcpdump -O -n -r FILE 'ether[0] = 1 and ether[0] = 2'
  argus       argus -X -r FILE -w /dev/null
  softflowd   softflowd -d -r FILE -m 1000000 -n 127.0.0.1:PORT  (PORT: a UDP socket
              vagt-bench holds open on loopback, so exports go nowhere)
  ndpi        ndpiReader -q -i FILE
  suricata    suricata -r FILE -l TMPDIR -k none  (only when installed)
  vagt        vagt-sensor replay FILE -q --no-progress -o /dev/null -w N

argus waits about a second before it exits, whatever the input; that second
is in its wall time (not in its CPU time).

Examples:
  vagt-bench compare imix.pcap
  vagt-bench compare day.pcap --runs 7 --json compare.json
  vagt-bench compare day.pcap --tools tcpdump,vagt --sensor ./target/release/vagt-sensor")]
    Compare(CompareArgs),

    /// Join real captures into one large Ethernet pcap for the peers.
    ///
    /// Every file is converted to Ethernet (raw IP, BSD null/loopback and
    /// Linux cooked frames get a synthetic Ethernet header; 802.11 and other
    /// link types that do not map are skipped and counted), its times are
    /// rebased to follow the previous file, and the whole set is written
    /// --loops times. Loop k adds k to the second octet of every outer IPv4
    /// address, with the IP, TCP and UDP checksums adjusted, so each loop
    /// brings new connections.
    #[command(after_help = "\
Example: the corpus mix of bench/RESULTS.md (about a million packets)
  vagt-bench concat --loops 10 -o corpus-mix.pcap \\
      $(find ../shared/corpus/zeek ../shared/corpus/attacks ../shared/corpus/ot \\
          -name '*.pcap' -o -name '*.pcapng' | sort)")]
    Concat(ConcatArgs),

    /// Measure how this machine's cores scale, without the sensor.
    ///
    /// Runs a fixed integer loop (several independent chains of adds and
    /// exclusive-ors, no memory traffic) on one thread, then on --threads
    /// threads at once, each doing the same amount, for --rounds rounds
    /// taking turns, and reports each round's throughput ratio. On a
    /// machine of whole cores the ratio is close to the thread count. On a
    /// virtual machine whose cores share physical ones, or are slowed by
    /// neighbours, it is lower and it moves: read a worker scaling figure
    /// from `replay` next to it (and next to `replay --apart`).
    #[command(after_help = "Example:
  vagt-bench cores --threads 2 --rounds 11")]
    Cores(CoresArgs),

    /// Evaluate the detectors on a generated municipal network.
    ///
    /// Generates the events the sensor would write for a seeded municipal
    /// network (event level, not packets: the analysis stage reads events):
    /// 11 segments (admin, care, school, OT, guest, server, DMZ), --hosts
    /// hosts, --days days in Europe/Copenhagen time with office hours,
    /// school days, nights and weekends; noise that resembles attacks
    /// (nightly backups and the offsite copy, patch Tuesday, the IT team's
    /// vulnerability scanner, update beacons, DHCP renewals, mistyped
    /// passwords, antivirus DNS lookups); and labelled attacks after the
    /// --learning-days. Each day is generated into memory, then replayed
    /// through the analysis stage (built-in rules, the generator's segment
    /// kinds); only the replay through the stage is timed.
    ///
    /// Two stages run on the same events: the built-in rules alone, and
    /// with an allow-list for the IT team's scanner and backup server (the
    /// generator's suggestion, which --write-allow saves, or --allow FILE).
    /// An alert is a true positive when its source is a label's source or
    /// target and it was first raised between 60 s before the label's
    /// start and an hour after its end; only an alert of the label's own
    /// detector detects the label (others about it count as "TP other").
    #[command(after_help = "\
Output: per detector, alerts in the evaluation days, true and false
positives, precision, labels, labels detected and recall (detectors not
yet written show their labels with recall 0); alerts during the learning
days (not scored); false alerts per segment and day; the most frequent
false alerts; every label, found or missed; events/s of the analysis
stage (events over the wall time of the observe loop only; finish is
shown apart).

Examples:
  vagt-bench detect                                   # 2,000 hosts, 14 days
  vagt-bench detect --hosts 200 --days 9 --json -
  vagt-bench detect --write-events events.jsonl --write-allow allow.toml
  vagt-bench detect --allow rules/50-local.toml
  vagt-bench detect --no-allow

Through the sensor itself (its `analyze` command reads the events):
  vagt-bench detect --write-events ev.json --write-config gen.toml \\
      --write-allow rules/allow.toml
  vagt-sensor -c gen.toml analyze ev.json -o alerts.json
  vagt-bench detect --score alerts.json     # built-in rules
  vagt-sensor -c gen.toml analyze ev.json --rules rules -o allowed.json
  vagt-bench detect --score allowed.json    # with the allow-list")]
    Detect(DetectArgs),

    /// Measure shipping: events per second from the Kafka sink to a broker,
    /// and what the pseudonymisation and the spool cost per event.
    ///
    /// Events come from the municipal generator (seed 13; conn, DNS, HTTP,
    /// TLS, SMB, ... records of 2,000 hosts). First, without a broker: the
    /// HMAC pseudonymisation per event, and the spool (encoding, append,
    /// commit with fsync per batch) per event. Then end to end: the events
    /// through the sensor's own Kafka route (pseudonymise, spool, zstd,
    /// idempotent producer with acks=all) to --brokers, timed until the
    /// broker acknowledged the last. The topics (PREFIX + alerts, health,
    /// assets, app, conn) must exist.
    #[command(after_help = "Example (a local tansu broker):
  tansu broker --storage-engine sqlite://tansu.db &
  for t in alerts health assets app conn; do tansu topic create bench.$t; done
  vagt-bench ship --brokers localhost:9092 --events 1000000")]
    Ship(ShipArgs),
    /// The central analyzer: ingest rate into its store (SQLite or
    /// PostgreSQL) and alert search latency through its API.
    #[command(after_help = "Examples:
  vagt-bench analyzer --events 10000000
  vagt-bench analyzer --events 10000000 --store postgres://vagt@127.0.0.1:5432/bench")]
    Analyzer(AnalyzerArgs),
}

#[derive(clap::Args, Debug)]
pub struct AnalyzerArgs {
    /// Events to ingest before searching.
    #[arg(long, default_value_t = 1_000_000, value_name = "N")]
    pub events: usize,
    /// The store: sqlite://FILE or postgres://...; default a temporary
    /// SQLite file, removed afterwards.
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    /// Events per store transaction (the analyzer's [kafka] batch).
    #[arg(long, default_value_t = 20_000, value_name = "N")]
    pub batch: usize,
    /// Searches to time.
    #[arg(long, default_value_t = 700, value_name = "N")]
    pub searches: usize,
    #[arg(long, default_value_t = 13, value_name = "S")]
    pub seed: u64,
    /// Every sensor's sequence numbers start after this: ingest more into
    /// a store an earlier run filled (use a new --seed too), to measure
    /// ingest into a big store without filling it again.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub seq_offset: u64,
}

#[derive(clap::Args, Debug)]
pub struct ShipArgs {
    /// Bootstrap brokers; without, only the parts without a broker are
    /// measured.
    #[arg(long, value_name = "HOST:PORT")]
    pub brokers: Option<String>,
    /// Events to send.
    #[arg(long, default_value_t = 1_000_000, value_name = "N")]
    pub events: usize,
    /// Topic prefix.
    #[arg(long, default_value = "bench.", value_name = "PREFIX")]
    pub topic_prefix: String,
    /// The spool folder (emptied first); default: a temporary folder.
    #[arg(long, value_name = "DIR")]
    pub spool_dir: Option<PathBuf>,
    /// fsync policy of the spool: batch, interval or never.
    #[arg(long, default_value = "batch", value_name = "POLICY")]
    pub fsync: String,
    /// End to end against librdkafka's mock cluster (3 brokers, in this
    /// process) instead of --brokers: the sensor's side alone, without a
    /// broker's storage as the limit.
    #[arg(long, conflicts_with = "brokers")]
    pub mock: bool,
    /// A librdkafka property, as `[kafka.properties]` sets it (repeat).
    #[arg(long = "property", value_name = "KEY=VALUE")]
    pub properties: Vec<String>,
}

#[derive(Args, Debug)]
pub struct DetectArgs {
    /// Seed of the generator: the same seed gives the same events.
    #[arg(long, default_value_t = 13, value_name = "S")]
    pub seed: u64,
    /// Days to generate (local days from Monday 2026-11-02).
    #[arg(long, default_value_t = 14, value_name = "N")]
    pub days: u32,
    /// Hosts in the municipality (at least 150).
    #[arg(long, default_value_t = 2000, value_name = "N")]
    pub hosts: usize,
    /// Days before the first attack (the detectors' learning period).
    #[arg(long, default_value_t = 7, value_name = "N")]
    pub learning_days: u32,
    /// Allow-list rules file for the second stage, instead of the
    /// generator's suggestion.
    #[arg(long, value_name = "FILE", conflicts_with = "no_allow")]
    pub allow: Option<std::path::PathBuf>,
    /// Run only the built-in rules, without an allow-list stage.
    #[arg(long)]
    pub no_allow: bool,
    /// Write the generator's suggested allow-list (TOML) to FILE.
    #[arg(long, value_name = "FILE")]
    pub write_allow: Option<PathBuf>,
    /// Write every generated event as JSON lines to FILE (as vagt-sensor
    /// writes them).
    #[arg(long, value_name = "FILE")]
    pub write_events: Option<PathBuf>,
    /// Write a sensor configuration with the generator's segments (names,
    /// kinds and networks) to FILE, for `vagt-sensor -c FILE analyze` of
    /// the --write-events file.
    #[arg(long, value_name = "FILE")]
    pub write_config: Option<PathBuf>,
    /// Score the alerts in FILE (JSON lines, e.g. what `vagt-sensor
    /// analyze` wrote for the --write-events file of the same seed, days,
    /// hosts and learning days) against the generator's labels, instead of
    /// running the analysis stage here.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["write_events", "allow", "no_allow"])]
    pub score: Option<PathBuf>,
    /// Write the results as JSON to FILE ("-": standard output, instead of
    /// the tables).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// No progress line.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct CoresArgs {
    /// Threads to run at once against one.
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub threads: usize,
    /// Rounds of one thread and --threads threads, taking turns.
    #[arg(long, default_value_t = 11, value_name = "N")]
    pub rounds: usize,
    /// Length of one thread's share of work, in milliseconds (set once,
    /// before the rounds, on one thread).
    #[arg(long, default_value_t = 200, value_name = "MS")]
    pub work_ms: u64,
}

#[derive(Args, Debug)]
pub struct ConcatArgs {
    /// Capture files (pcap or pcapng), joined in the order given.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Where to write the joined capture.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
    /// Times the whole set is written (loop k shifts IPv4 addresses by k).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub loops: u32,
}

/// `--dispatch` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DispatchArg {
    /// The workers read the input together (see `--dispatch`).
    Auto,
    /// The input is dealt out to per-worker queues by flow hash before
    /// timing starts, as a multi-queue card or the kernel's fanout does
    /// live; each worker reads only its own (top speed only).
    Split,
    /// Always a reader thread and queues.
    Queued,
}

/// Synthetic traffic mixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MixKind {
    /// 64/594/1518-byte frames, 7:4:1.
    Imix,
    /// Minimum-size frames only.
    Min64,
    /// Many TCP connections open at once.
    Concurrent,
    /// The sensor's municipal network scenario.
    Municipal,
    /// A SYN flood from many distinct sources over ordinary traffic.
    Synflood,
}

impl MixKind {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            MixKind::Imix => "imix",
            MixKind::Min64 => "min64",
            MixKind::Concurrent => "concurrent",
            MixKind::Municipal => "municipal",
            MixKind::Synflood => "synflood",
        }
    }
}

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// Capture files (pcap or pcapng) to load, played in order as one
    /// input. Without files, --mix is generated (--packets, --seed).
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Worker counts to measure, comma-separated.
    #[arg(
        short,
        long,
        default_value = "1,2",
        value_delimiter = ',',
        value_name = "N,..."
    )]
    pub workers: Vec<usize>,

    /// Runs per worker count; medians are reported.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub runs: usize,

    /// Times the input is played per run (later loops are shifted in
    /// packet time, so their connections are new ones).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub loops: u32,

    /// Pace: this many packets per second.
    #[arg(long, value_name = "N")]
    pub pps: Option<f64>,

    /// Pace: this many Mbit/s of captured frame bytes.
    #[arg(long, value_name = "N")]
    pub mbps: Option<f64>,

    /// Pace: the capture's own timing, K times as fast (1 = real time,
    /// 0.5 = half speed). Gaps over a second are cut to a second.
    #[arg(long, value_name = "K")]
    pub speed: Option<f64>,

    /// Treat full worker queues as a live capture does: drop and count the
    /// packet instead of waiting (use with a pace).
    #[arg(long)]
    pub live: bool,

    /// How packets reach the workers: `auto` lets the workers read the
    /// in-memory input together, chunk by chunk, whoever gets to a chunk
    /// first dealing its packets out by flow (no reader thread), as
    /// `vagt-sensor replay` reads files; `split` deals the input out to per-worker queues by flow hash before
    /// the clock starts, as live capture gets it from the kernel's fanout,
    /// so no worker passes over another's packets; a paced input always
    /// goes through the reader thread and its queues, as does `queued`.
    #[arg(long, value_enum, default_value = "auto", value_name = "HOW")]
    pub dispatch: DispatchArg,

    /// Do not measure per-packet latency (saves a clock read per packet).
    #[arg(long)]
    pub no_latency: bool,

    /// For each worker count N above 1, also run N complete single-worker
    /// pipelines side by side, each on an even share of the input dealt
    /// out by flow, sharing nothing ("N apart"): the most this machine
    /// gives N workers on this input at the time. Rows take turns, so the
    /// report says how much of it the sensor's N workers reach.
    #[arg(long)]
    pub apart: bool,

    /// Do not verify checksums (for captures from hosts with checksum
    /// offloading).
    #[arg(long)]
    pub ignore_checksums: bool,

    /// Sensor configuration (TOML, as for vagt-sensor) to run the pipeline
    /// with; the defaults otherwise.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Cap on tracked connections (all workers together), overriding the
    /// configuration: the table's memory bound (about 251 bytes each).
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,

    /// Synthetic mix to generate when no file is given.
    #[arg(long, value_enum, default_value = "municipal", value_name = "MIX")]
    pub mix: MixKind,

    /// Packets of synthetic traffic when no file is given.
    #[arg(long, default_value_t = 1_000_000, value_name = "N")]
    pub packets: u64,

    /// Seed of the synthetic traffic.
    #[arg(long, default_value_t = 2025, value_name = "S")]
    pub seed: u64,

    /// Flows of the synthetic traffic (see `generate --help`).
    #[arg(long, value_name = "N")]
    pub flows: Option<u64>,

    /// Write every figure of every run as JSON to FILE ("-": standard
    /// output, instead of the table).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// Traffic mix.
    #[arg(long, value_enum, default_value = "imix", value_name = "MIX")]
    pub mix: MixKind,

    /// Packets to write (exact for all mixes but municipal, which ends its
    /// last sessions).
    #[arg(short = 'n', long, default_value_t = 1_000_000, value_name = "N")]
    pub packets: u64,

    /// Seed of the generator: the same seed gives the same file.
    #[arg(short, long, default_value_t = 1, value_name = "S")]
    pub seed: u64,

    /// imix and min64: flows the frames are spread over; concurrent:
    /// connections open at once.
    #[arg(long, value_name = "N")]
    pub flows: Option<u64>,

    /// Link speed that sets the timestamps (back-to-back frames).
    #[arg(long, default_value_t = 10.0, value_name = "GBPS")]
    pub link_gbps: f64,

    /// Pcap file to write ("-": standard output).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// The capture file every tool reads (pcap; tcpdump's filter needs
    /// Ethernet frames).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Timed rounds (one run of every tool each), after one warm-up round;
    /// medians are reported.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub runs: usize,

    /// The vagt-sensor binary (default: next to vagt-bench, then PATH).
    #[arg(long, value_name = "PATH")]
    pub sensor: Option<PathBuf>,

    /// vagt-sensor worker counts to run, comma-separated.
    #[arg(
        long,
        default_value = "1,2",
        value_delimiter = ',',
        value_name = "N,..."
    )]
    pub sensor_workers: Vec<usize>,

    /// Run vagt-sensor with -C (no checksum checks), as the peers do:
    /// none of them verifies TCP/UDP checksums, and captures from hosts
    /// with checksum offloading carry wrong ones.
    #[arg(short = 'C', long)]
    pub ignore_checksums: bool,

    /// Only these tools, comma-separated (tcpdump, argus, softflowd, ndpi,
    /// suricata, vagt).
    #[arg(long, value_delimiter = ',', value_name = "NAME,...")]
    pub tools: Vec<String>,

    /// Give up on a tool run after this many seconds.
    #[arg(long, default_value_t = 600, value_name = "SECS")]
    pub timeout: u64,

    /// Also write the results as JSON to FILE ("-": standard output,
    /// instead of the table).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}
