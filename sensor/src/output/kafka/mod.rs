//! The Kafka output, split as Vector splits a sink: `settings` (the
//! `[kafka]` section and the librdkafka properties it makes), the encoder
//! (`vagt_schema::wire`: an event's payload and the message around it),
//! `service` (the thread that talks to the brokers) and `sink` (what the
//! writer thread calls: events into the durable spool).
//!
//! Nothing reaches Kafka without passing through the spool first, and
//! nothing leaves the spool before the broker acknowledged it, so an
//! outage, a restart or a crash loses nothing that was spooled. The sink
//! never waits for the broker: a dead broker or a full spool never slows
//! the packet path; what the spool's bounds drop is counted by topic in the
//! health event.

#[cfg(feature = "kafka")]
pub mod service;
pub mod settings;
#[cfg(feature = "kafka")]
mod shared;
#[cfg(feature = "kafka")]
pub mod sink;

pub use settings::KafkaSection;
#[cfg(feature = "kafka")]
pub use shared::Shared;
#[cfg(feature = "kafka")]
pub use sink::KafkaSink;
