//! Connection tracking: Zeek-compatible connection records from decoded
//! packets.
//!
//! `key` says which packets belong together, `conn` is the record itself,
//! `tcp` its TCP semantics (`gaps` the bytes never captured), `history`
//! the history letters, `service` recognises the application protocol,
//! `table` the per-worker store with timers (it finds and keeps
//! connections), `transport` what a packet means to its connection, and
//! `tracker` ties decoding and tracking into the unit a worker runs.
//! `record` turns a finished connection into the wire event.

pub mod conn;
pub mod defrag;
pub mod emit;
mod gaps;
pub mod history;
pub mod key;
pub mod ports;
pub mod record;
pub mod service;
pub mod settings;
pub mod table;
pub mod tcp;
pub mod tracker;
pub mod transport;

pub use conn::{Conn, ConnKind, Snapshot, TcpState};
pub use emit::{Emit, Emitted};
pub use key::FlowKey;
pub use ports::PortSet;
pub use record::RecordContext;
pub use settings::{FlowSection, ServicesSection, TimeoutSection};
pub use table::{ConnTable, TableConfig, TableStats, Timeouts};
pub use tracker::Tracker;
