//! The output settings (`[output]`): where records go, in which format,
//! and how often they are flushed and statistics written.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutputSection {
    /// File to write; "-" is standard output.
    pub path: String,
    pub format: OutputFormat,
    /// Live capture writes a stats event this often, in seconds.
    pub stats_interval: f64,
    /// Finished records reach the output at most this many seconds after
    /// they are written (they are held to write in large pieces).
    pub flush_interval: f64,
    /// Live capture: start an existing output file afresh instead of
    /// appending to it.
    pub truncate: bool,
}

impl Default for OutputSection {
    fn default() -> Self {
        OutputSection {
            path: "-".into(),
            format: OutputFormat::Json,
            stats_interval: 60.0,
            flush_interval: 1.0,
            truncate: false,
        }
    }
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum OutputFormat {
    /// JSON Lines with Zeek field names.
    Json,
    /// Zeek's tab-separated conn.log.
    Zeek,
}
