//! A bounded table of per-key state: at most `cap` entries; inserting into
//! a full table evicts the entry touched longest ago (counted), so a flood
//! of new keys (a SYN flood from millions of sources) cannot grow it.
//! Tables of learned state are saved with the baselines: they serialise as
//! a list of (key, last touched, value), so any key type will do.

use serde::de::{Deserialize, Deserializer};
use serde::ser::{Serialize, SerializeSeq, Serializer};
use std::collections::HashMap;
use std::hash::Hash;

pub struct Table<K, V> {
    map: HashMap<K, (f64, V)>,
    cap: usize,
    pub evicted: u64,
}

impl<K: Hash + Eq + Clone, V> Table<K, V> {
    pub fn new(cap: usize) -> Self {
        Table {
            map: HashMap::new(),
            cap: cap.max(1),
            evicted: 0,
        }
    }

    /// The entry of `key`, made with `make` when missing; `now` marks it
    /// touched.
    pub fn entry(&mut self, key: &K, now: f64, make: impl FnOnce() -> V) -> &mut V {
        if self.map.len() >= self.cap && !self.map.contains_key(key) {
            self.evict_one();
        }
        let slot = self.map.entry(key.clone()).or_insert_with(|| (now, make()));
        slot.0 = slot.0.max(now);
        &mut slot.1
    }

    /// Evicts about an eighth of the table, the least recently touched,
    /// so that a flood pays for the scan once per many inserts.
    fn evict_one(&mut self) {
        let mut touched: Vec<f64> = self.map.values().map(|(t, _)| *t).collect();
        let k = (touched.len() / 8).max(1) - 1;
        let (_, cut, _) = touched.select_nth_unstable_by(k, |a, b| a.total_cmp(b));
        let cut = *cut;
        let before = self.map.len();
        self.map.retain(|_, (t, _)| *t > cut);
        if self.map.len() == before {
            // Every entry has the same time: drop one anyway.
            if let Some(k) = self.map.keys().next().cloned() {
                self.map.remove(&k);
            }
        }
        self.evicted += (before - self.map.len()) as u64;
    }

    /// Drops entries for which `keep` says no.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        self.map.retain(|k, (_, v)| keep(k, v));
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        self.map.remove(key).map(|(_, v)| v)
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Entries, cap and evictions, for health.
    pub fn tracked(&self) -> super::Tracked {
        super::Tracked {
            entries: self.map.len() as u64,
            cap: self.cap as u64,
            evicted: self.evicted,
        }
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        self.map.get(key).map(|(_, v)| v)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.map.iter().map(|(k, (_, v))| (k, v))
    }

    /// The same entries under a new cap (restored state, new settings).
    pub fn with_cap(mut self, cap: usize) -> Self {
        self.cap = cap.max(1);
        while self.map.len() > self.cap {
            self.evict_one();
        }
        self
    }
}

impl<K: Serialize, V: Serialize> Serialize for Table<K, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.map.len()))?;
        for (k, (t, v)) in &self.map {
            seq.serialize_element(&(k, t, v))?;
        }
        seq.end()
    }
}

impl<'de, K, V> Deserialize<'de> for Table<K, V>
where
    K: Deserialize<'de> + Hash + Eq,
    V: Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let entries: Vec<(K, f64, V)> = Vec::deserialize(d)?;
        Ok(Table {
            cap: entries.len().max(1),
            map: entries.into_iter().map(|(k, t, v)| (k, (t, v))).collect(),
            evicted: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_of_keys_stays_within_the_cap_and_is_counted() {
        let mut t: Table<u32, u32> = Table::new(1000);
        for k in 0..100_000u32 {
            *t.entry(&k, f64::from(k), || 0) += 1;
        }
        assert!(t.len() <= 1000);
        assert_eq!(t.evicted + t.len() as u64, 100_000);
        // The most recent keys survived.
        assert!(t.map.contains_key(&99_999));
    }
}
