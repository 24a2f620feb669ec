//! The pipeline settings (`[pipeline]`): workers, how packets reach them,
//! batches and queues.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineSection {
    /// Worker threads; 0 picks one per CPU core.
    pub workers: usize,
    /// How packets reach workers: `auto` lets each worker read its own
    /// fanout ring, or the workers read a file together; `queued` always
    /// uses a reader thread.
    pub dispatch: crate::pipeline::Dispatch,
    /// Packets per batch handed to a worker (queued dispatch).
    pub batch_packets: usize,
    /// Batches in flight per worker (queued dispatch).
    pub queue_batches: usize,
}

impl Default for PipelineSection {
    fn default() -> Self {
        PipelineSection {
            workers: 0,
            dispatch: crate::pipeline::Dispatch::Auto,
            batch_packets: 256,
            queue_batches: 32,
        }
    }
}
