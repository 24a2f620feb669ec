//! One input in memory (a mapped capture file, a recording) read by several
//! workers together, with a single pass over it.
//!
//! Were every worker to pass over every packet to find its own, that pass
//! would be a cost the second worker cannot share. Instead the input is
//! cut into chunks walked one after another by whichever worker gets
//! there first: the walker reads each packet once, deals it to a worker
//! by flow (`pipeline/deal.rs`), runs the packet clock, and leaves every
//! worker a list of its own packets with the clock's events (flushes,
//! timer runs) in sequence, so timers and capture boundaries fall exactly
//! where they fall with one worker. Walking is serialised by the chunk
//! counter (whoever moves it on holds the input until it publishes the
//! chunk); processing is not: a worker works through its lists while
//! another walks ahead. Chunks live in a ring, and a walker reuses a slot
//! only once every worker is done with it, so memory stays bounded and
//! nothing is copied. The hand-over itself, the one place where these
//! threads meet without a lock, is `ring.rs`, which loom checks.

use super::super::ahead::Prefetcher;
use super::super::clock::PacketClock;
use super::super::deal::Dealer;
use super::super::shard;
use super::ring::{Ring, Turn};
use super::sync::Ref;
use crate::capture::pcap_reader::prefetch_lines;
use crate::capture::recording::DATA_AHEAD;
use crate::capture::{stray, Backing, CaptureError, Located, Source, LOOKAHEAD};
use crate::decode::LinkWalker;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// Packets per chunk: the hand-over costs nothing per packet, and a
/// chunk's packets are still in the shared cache when their worker gets
/// to them.
const CHUNK: usize = 2048;
/// Chunks in the ring: how far the worker ahead may run before it waits
/// for the one behind. Traffic comes in runs (a capture of one busy host
/// pair deals its worker 13,000 packets in a row in the corpus mix), and
/// with 8 chunks the other worker idled for a quarter of a run; with 64
/// (at most 4 MiB of lists per worker) it no longer waits.
const SLOTS: usize = 64;
/// How many chunks from its own on (its own included) a worker walks while
/// nobody else does.
const AHEAD: u64 = 2;

/// One item of a worker's list.
#[derive(Clone, Copy, Debug)]
pub(super) enum Entry {
    /// One of the worker's packets, where it lies in the input's memory.
    Packet(Located),
    /// Packet time jumped back to another capture: write out everything.
    Flush,
    /// Run the timers up to this packet time.
    Tick(i64),
}

/// What only the walker touches.
struct Walker {
    source: Box<dyn Source>,
    clock: PacketClock,
    dealer: Dealer,
    link: LinkWalker,
    /// The lists being filled, one per worker, swapped into the slot when
    /// the chunk is done: the slot's list headers, which the workers read,
    /// are then written once per chunk rather than once per packet.
    filling: Vec<Vec<Entry>>,
    /// Where the chunk's packets lie, read from the source in one call.
    located: Vec<Located>,
}

/// How the input ended.
#[derive(Default)]
struct End {
    error: Option<CaptureError>,
    first_ts: Option<i64>,
    last_ts: Option<i64>,
    /// The packet clock and the dealer after the last packet, for the
    /// input that follows.
    carried: Option<(PacketClock, Dealer)>,
}

/// An input shared by several workers.
pub struct SharedWalk {
    /// The chunks and their hand-over (`ring.rs`).
    ring: Ring<Walker, Vec<Entry>>,
    /// The memory the packets lie in, set before the first chunk.
    backing: OnceLock<Backing>,
    end: Mutex<End>,
    /// The input before this one: packet time runs on from where it ended,
    /// so a jump back between inputs ends every connection, as with one
    /// worker.
    /// Let go once the first chunk is walked.
    prev: Mutex<Option<Arc<SharedWalk>>>,
}

/// What a worker gets for a chunk.
pub(super) enum Chunk<'a> {
    /// Every worker's list (the caller reads its own) and the input's
    /// memory.
    Ready(Ref<'a, Box<[Vec<Entry>]>>, &'a [u8]),
    /// The input is over.
    End,
    /// Told to stop while waiting.
    Stopped,
}

impl SharedWalk {
    pub fn new(
        source: Box<dyn Source>,
        workers: usize,
        prev: Option<Arc<SharedWalk>>,
    ) -> Arc<SharedWalk> {
        let workers = workers.max(1);
        // Lists grow on the first walks: of many inputs given at once, only
        // those being read hold memory.
        let walker = Walker {
            source,
            clock: PacketClock::default(),
            dealer: Dealer::new(workers),
            link: LinkWalker::default(),
            filling: (0..workers).map(|_| Vec::new()).collect(),
            located: Vec::new(),
        };
        Arc::new(SharedWalk {
            ring: Ring::new(walker, workers, SLOTS, AHEAD),
            backing: OnceLock::new(),
            end: Mutex::new(End::default()),
            prev: Mutex::new(prev),
        })
    }

    /// The lists of chunk `c`, walking chunks when nobody else does; waits
    /// while another worker walks it.
    pub(super) fn chunk(&self, c: u64, stop: &dyn Fn() -> bool) -> Chunk<'_> {
        match self
            .ring
            .chunk(c, stop, &mut |w, c, lists| self.walk(w, c, lists))
        {
            Turn::Ready(lists) => {
                let data: &[u8] = match self.backing.get() {
                    Some(b) => (**b).as_ref(),
                    None => &[],
                };
                Chunk::Ready(lists, data)
            }
            Turn::End => Chunk::End,
            Turn::Stopped => Chunk::Stopped,
        }
    }

    /// Marks chunk `c` as done by one worker.
    pub(super) fn done(&self, c: u64) {
        self.ring.done(c);
    }

    /// Reads chunk `c` from the source into `out`, one list per worker;
    /// true when the input ended with it.
    fn walk(&self, w: &mut Walker, c: u64, out: &mut [Vec<Entry>]) -> bool {
        let mut lists = std::mem::take(&mut w.filling);
        lists.iter_mut().for_each(Vec::clear);
        let every = |lists: &mut [Vec<Entry>], e: Entry| lists.iter_mut().for_each(|l| l.push(e));
        if c == 0 {
            // Whoever walks this input first has finished the one before.
            let prev = self.prev.lock().ok().and_then(|mut p| p.take());
            if let Some((clock, dealer)) = prev.and_then(|p| p.end.lock().ok()?.carried.take()) {
                w.clock = clock;
                w.dealer = dealer;
            }
        }
        let mut located = std::mem::take(&mut w.located);
        located.clear();
        let (memory, damage) = w.source.locate(&mut located, CHUNK);
        // Fewer packets than asked for: the input ended, or is damaged
        // past the packets read.
        let mut ended = match damage {
            Some(e) => Some(Some(e)),
            None if located.len() < CHUNK => Some(None),
            None => None,
        };
        if memory.is_none() && !located.is_empty() {
            ended = Some(Some(stray(
                w.source.name(),
                "packets outside the input's memory",
            )));
            located.clear();
        }
        let data: &[u8] = match memory {
            Some(m) => {
                let same = self.backing.get_or_init(|| m.clone());
                if Arc::ptr_eq(same, &m) {
                    (**same).as_ref()
                } else {
                    ended = Some(Some(stray(w.source.name(), "packets in two memories")));
                    located.clear();
                    &[]
                }
            }
            None => &[],
        };
        // This walk is the first to read the packets: their headers are
        // asked for a little ahead.
        let head =
            |p: &Located| prefetch_lines(data, p.offset, p.offset + (p.len as usize).min(128));
        located.iter().take(DATA_AHEAD).for_each(head);
        for (i, p) in located.iter().enumerate() {
            if let Some(a) = located.get(i + DATA_AHEAD) {
                head(a);
            }
            if w.clock.arrive(p.ts) {
                every(&mut lists, Entry::Flush);
                w.dealer.forget();
            }
            let frame = p.frame(data).unwrap_or(&[]);
            let owner = w.dealer.deal(shard::flow_hash(&mut w.link, p.link, frame));
            lists[owner].push(Entry::Packet(*p));
            if let Some(now) = w.clock.tick_due() {
                every(&mut lists, Entry::Tick(now));
            }
        }
        w.located = located;
        // The slot's lists come back to be filled next time.
        for (slot, l) in out.iter_mut().zip(lists.iter_mut()) {
            std::mem::swap(slot, l);
        }
        w.filling = lists;
        let Some(error) = ended else {
            return false;
        };
        if let Ok(mut end) = self.end.lock() {
            *end = End {
                error,
                first_ts: w.clock.first,
                last_ts: w.clock.last(),
                carried: Some((w.clock.clone(), w.dealer.clone())),
            };
        }
        true
    }

    /// After the end: the error the input ended with (once), and the
    /// first and last packet times.
    pub(super) fn finish(
        &self,
        take_error: bool,
    ) -> (Option<CaptureError>, Option<i64>, Option<i64>) {
        self.ring.leave();
        match self.end.lock() {
            Ok(mut end) => {
                let error = if take_error { end.error.take() } else { None };
                (error, end.first_ts, end.last_ts)
            }
            Err(_) => (None, None, None),
        }
    }
}

/// Stops walkers and waiters when set.
pub(super) fn stop_flag<'a>(
    stop: &'a AtomicBool,
    failed: &'a AtomicBool,
) -> impl Fn() -> bool + 'a {
    move || stop.load(Ordering::Relaxed) || failed.load(Ordering::Relaxed)
}

impl super::LaneWorker {
    /// Works through this worker's lists of a shared input, chunk by
    /// chunk, walking chunks when it gets to them first. Returns false
    /// when told to stop.
    pub(super) fn run_shared(
        &mut self,
        walk: &SharedWalk,
        me: usize,
        since_publish: &mut u64,
    ) -> bool {
        let stop = self.stop.clone();
        let failed = self.failed.clone();
        let should_stop = stop_flag(&stop, &failed);
        let mut c = 0u64;
        loop {
            let (lists, data) = match walk.chunk(c, &should_stop) {
                Chunk::Ready(lists, data) => (lists, data),
                Chunk::End => return true,
                Chunk::Stopped => return false,
            };
            let list: &[Entry] = &lists[me];
            let prefetch = self.core.tracker.prefetch_pays();
            let packet = |j: usize| match list.get(j) {
                Some(Entry::Packet(p)) => p.frame(data).map(|f| (p.link, f)),
                _ => None,
            };
            let mut ahead = Prefetcher::new();
            if prefetch {
                ahead.prime(&self.core.tracker, packet);
            }
            for (i, entry) in list.iter().enumerate() {
                if *since_publish >= super::PUBLISH_EVERY {
                    *since_publish = 0;
                    if should_stop() {
                        walk.done(c);
                        return false;
                    }
                    self.core.ship(false);
                    self.core.publish();
                }
                let half = i + LOOKAHEAD / 2;
                // The walker read these packets on its own core: their
                // headers come over from there, so ask for them early,
                // whatever the size of the table.
                if let Some((_, f)) = packet(half) {
                    prefetch_lines(f, 0, f.len().min(128));
                }
                if prefetch {
                    ahead.step(&self.core.tracker, packet(i + LOOKAHEAD));
                }
                match *entry {
                    Entry::Packet(p) => {
                        *since_publish += 1;
                        let frame = p.frame(data).unwrap_or(&[]);
                        self.track(p.link, p.ts, frame, p.wire_len, 0);
                    }
                    Entry::Flush => self.core.flush(),
                    Entry::Tick(now) => self.core.tick(now),
                }
            }
            walk.done(c);
            c += 1;
        }
    }
}
