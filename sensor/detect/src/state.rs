//! Learned state on disk: the baselines and what detectors remember (the
//! OT devices' known writers, ...), in one JSON file in the state
//! directory, replaced atomically (written beside, flushed to disk,
//! renamed over, directory flushed), so a crash or kill -9 leaves either
//! the previous or the new file, never a torn one. A restart forgets at
//! most what happened since the last interval was written.

use crate::baseline::{Baselines, Settings};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Version of the file's layout; a file of another version is set aside
/// and learning starts afresh (and says so).
pub const VERSION: u32 = 2;
/// The file's name in the state directory.
pub const FILE: &str = "analysis-state.json";

/// What is saved.
#[derive(Serialize, Deserialize)]
pub struct Saved {
    pub version: u32,
    /// Packet time reached when saved.
    pub now: f64,
    pub baselines: Baselines,
    /// Per detector (by name), what it remembers.
    #[serde(default)]
    pub detectors: BTreeMap<String, serde_json::Value>,
}

pub fn path(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

/// What is saved, borrowed from the running stage.
#[derive(Serialize)]
pub struct SavedRef<'a> {
    pub version: u32,
    pub now: f64,
    pub baselines: &'a Baselines,
    pub detectors: BTreeMap<String, serde_json::Value>,
}

/// Writes `saved` to `dir` atomically.
pub fn save(dir: &Path, saved: &SavedRef<'_>) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    let tmp = dir.join(format!("{FILE}.tmp"));
    {
        let mut f = File::create(&tmp)?;
        let mut w = io::BufWriter::new(&mut f);
        serde_json::to_writer(&mut w, saved).map_err(io::Error::other)?;
        w.flush()?;
        drop(w);
        f.sync_all()?;
    }
    fs::rename(&tmp, path(dir))?;
    // The rename itself must reach the disk.
    File::open(dir)?.sync_all()
}

/// What loading found.
pub enum Loaded {
    /// No state yet: learning starts.
    Fresh,
    Restored(Box<Saved>),
    /// The file could not be used; it was renamed aside (named here) and
    /// learning starts afresh.
    SetAside(PathBuf, String),
}

/// Reads the state in `dir`, with the baselines under `settings`; a file
/// that cannot be used is moved aside.
pub fn load(dir: &Path, settings: &Settings) -> io::Result<Loaded> {
    match load_readonly(dir, settings)? {
        Loaded::SetAside(_, why) => {
            let aside = dir.join(format!("{FILE}.unusable"));
            fs::rename(path(dir), &aside)?;
            Ok(Loaded::SetAside(aside, why))
        }
        other => Ok(other),
    }
}

/// [`load`] without moving anything: an unusable file is reported as
/// `SetAside` with its own path.
pub fn load_readonly(dir: &Path, settings: &Settings) -> io::Result<Loaded> {
    let p = path(dir);
    let text = match fs::read(&p) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Loaded::Fresh),
        Err(e) => return Err(e),
    };
    let why = match serde_json::from_slice::<Saved>(&text) {
        Ok(s) if s.version != VERSION => {
            format!("written by layout {}, this is {VERSION}", s.version)
        }
        Ok(mut s) => match s.baselines.restored(settings.clone()) {
            Some(b) => {
                s.baselines = b;
                return Ok(Loaded::Restored(Box::new(s)));
            }
            None => "its baselines are malformed".to_string(),
        },
        Err(e) => format!("not readable: {e}"),
    };
    Ok(Loaded::SetAside(p, why))
}
