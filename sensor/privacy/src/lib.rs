//! Pseudonymisation of Vagt events before they leave the municipality
//! (issue 14).
//!
//! Every event a sensor ships goes to a Kafka shared by the analysis
//! centre of all municipalities. Nothing personal may leave in clear, yet
//! the centre must still count, join and correlate. So internal
//! identities are replaced by keyed tokens (HMAC-SHA256 under a key that
//! only the municipality holds), secrets are removed, and external
//! addresses and indicators (internet domains, server names, JA3/JA4,
//! certificate hashes, external IPs) stay in clear.
//!
//! # Token formats
//!
//! * **Address**: an internal IP address becomes an IPv6 address in
//!   `fd00::/8`: the byte `fd` followed by the first 15 bytes of
//!   HMAC-SHA256(key, `"ip"` || the 16-byte IPv4-mapped form of the
//!   address). Typed address fields stay typed, and the centre knows a
//!   pseudonym by its prefix. Real `fd00::/8` addresses are internal and
//!   tokenised too, so nothing in `fd00::/8` at the centre is clear. The
//!   one typed IPv4 field (`arp.ip`) gets `240.0.0.0/4` plus the first
//!   28 bits of the same HMAC.
//! * **String**: `~` + kind letter + `_` + 20 lower-case base32
//!   characters (100 bits) of HMAC-SHA256(key, letter || `":"` || value):
//!   `~h_` host and domain names, `~u_` users and principals, `~m_` MACs
//!   (lower case, colons), `~e_` mail addresses, `~p_` paths, URIs,
//!   shares and file names, `~x_` other personal text, `~c_` Community
//!   IDs. Host names are lower-cased first.
//!
//! The same value under the same key always gives the same token, so the
//! centre can count and join within a municipality; another
//! municipality's key gives an unrelated token.
//!
//! # Use
//!
//! ```no_run
//! use vagt_privacy::{Pseudonymiser, Revealer, Settings};
//! # fn f(mut event: vagt_schema::Event, toml_section: &str) -> Result<(), Box<dyn std::error::Error>> {
//! // The sensor's `[privacy]` section.
//! let settings: Settings = toml::from_str(toml_section)?;
//! // At start: validates, loads or creates the key, opens the journal.
//! let mut p = Pseudonymiser::open(&settings)?;
//! // On every event, before it leaves.
//! p.apply(&mut event);
//!
//! // `vagt-sensor reveal TOKEN`, with the asset inventory as candidates.
//! let mut r = Revealer::open(&settings)?;
//! r.add_candidates(["02:00:0a:14:03:30", "anne-pc"]);
//! for found in r.reveal("~h_4xuji5cxuyhfvcebfhkb")? {
//!     println!("{} {} (from the {})", found.kind, found.value, found.via);
//! }
//! # Ok(()) }
//! ```
//!
//! `docs/privacy.md` at the repository root has the settings, the
//! choices, and a table of every field of every event kind.
//!
//! Modules: [`key`] (the key file), `token` (formats), [`settings`]
//! (`[privacy]` configuration, internal/external), `pseudonymise` (the
//! transform; per-record rules in `records` and `apps`, free text in
//! `scrub`), [`journal`] and [`reveal`].

mod apps;
pub mod journal;
pub mod key;
mod pseudonymise;
mod records;
pub mod reveal;
mod scrub;
pub mod settings;
mod token;

pub use journal::{read_journal, Journal, JournalEntry};
pub use key::Key;
pub use pseudonymise::Pseudonymiser;
pub use reveal::{Revealed, Revealer};
pub use settings::{Net, SegmentSettings, Settings, FIELDS, SECRETS};
pub use token::{is_ip_token, parse_string_token, Kind, Tokeniser, STR_TOKEN_LEN};

use std::path::{Path, PathBuf};

// The sensor moves the pseudonymiser into its writer thread.
const _: () = {
    const fn send<T: Send>() {}
    send::<Pseudonymiser>();
    send::<Revealer>();
};

/// What can go wrong; each says what to do.
#[derive(Debug)]
pub enum PrivacyError {
    /// A file operation failed.
    Io {
        path: PathBuf,
        what: &'static str,
        source: std::io::Error,
    },
    /// The key file exists but cannot be used.
    Key { path: PathBuf, problem: String },
    /// The journal file exists but cannot be used.
    Journal { path: PathBuf, problem: String },
    /// The `[privacy]` settings are wrong.
    Settings(String),
    /// A token cannot be revealed as asked.
    Reveal(String),
}

impl PrivacyError {
    pub(crate) fn io(path: &Path, what: &'static str, source: std::io::Error) -> PrivacyError {
        PrivacyError::Io {
            path: path.to_path_buf(),
            what,
            source,
        }
    }
}

impl std::fmt::Display for PrivacyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PrivacyError::Io { path, what, source } => {
                write!(f, "{what} {}: {source}", path.display())
            }
            PrivacyError::Key { path, problem } => {
                write!(f, "pseudonymisation key file {} {problem}", path.display())
            }
            PrivacyError::Journal { path, problem } => {
                write!(f, "pseudonym journal {} {problem}", path.display())
            }
            PrivacyError::Settings(s) => write!(f, "[privacy] settings: {s}"),
            PrivacyError::Reveal(s) => write!(f, "reveal: {s}"),
        }
    }
}

impl std::error::Error for PrivacyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PrivacyError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
