//! Build script: writes the IEEE MAC prefix registries that the `oui-data`
//! crate carries (MA-L, MA-M, MA-S, CID, IAB) as sorted integer arrays and
//! one string, for `assets::vendor`. The crate's own table is a map of
//! string pointers: in a position-independent binary the dynamic loader
//! rewrote 182,000 of them at every start (about 3.5 ms and 3.6 MB of
//! written pages per process, before `main`). Integers need no such fixing.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // Prefixes of 6, 7 and 9 hex digits (24, 28 and 36 bits).
    let mut rows: [Vec<(u64, u32)>; 3] = Default::default();
    let mut names: Vec<&str> = Vec::new();
    let mut index: HashMap<&str, u32> = HashMap::new();
    for (key, record) in oui_data::OUI_ENTRIES.entries() {
        let slot = match key.len() {
            6 => 0,
            7 => 1,
            9 => 2,
            _ => continue,
        };
        let Ok(prefix) = u64::from_str_radix(key, 16) else {
            continue;
        };
        let name = record.organization().trim();
        let at = *index.entry(name).or_insert_with(|| {
            names.push(name);
            (names.len() - 1) as u32
        });
        rows[slot].push((prefix, at));
    }
    let mut out = String::new();
    for (slot, label) in ["MA_24", "MA_28", "MA_36"].iter().enumerate() {
        let r = &mut rows[slot];
        r.sort_unstable();
        let _ = writeln!(out, "static {label}: [(u64, u32); {}] = [", r.len());
        for (prefix, at) in r.iter() {
            let _ = writeln!(out, "({prefix:#x}, {at}),");
        }
        out.push_str("];\n");
    }
    let mut blob = String::new();
    let mut ends = Vec::with_capacity(names.len());
    for n in &names {
        blob.push_str(n);
        ends.push(blob.len());
    }
    let _ = writeln!(out, "static NAME_ENDS: [u32; {}] = [", ends.len());
    for e in ends {
        let _ = writeln!(out, "{e},");
    }
    out.push_str("];\n");
    let _ = writeln!(out, "static NAMES: &str = {blob:?};");
    let dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(dir.join("oui_table.rs"), out).expect("OUT_DIR is writable");
}
