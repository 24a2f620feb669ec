//! The state file: the inventory as JSON, so that a restart keeps what
//! the sensor learnt. It is written whole to a temporary file beside it
//! and renamed over it, so a crash mid-write leaves the previous state.
//! A state file that cannot be read or parsed is moved aside (".corrupt")
//! with a warning and the inventory starts empty: losing the inventory is
//! better than a sensor that will not start.

use super::{Asset, Inventory};
use crate::site::Site;
use serde::{Deserialize, Serialize};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Version of the state file's layout.
const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct State {
    version: u32,
    assets: Vec<Asset>,
}

#[derive(Serialize)]
struct StateRef<'a> {
    version: u32,
    assets: Vec<&'a Asset>,
}

/// Writes the inventory to `path` atomically (temporary file, then rename).
pub fn save(path: &Path, inv: &Inventory) -> io::Result<()> {
    let state = StateRef {
        version: VERSION,
        assets: inv.assets(),
    };
    let body = serde_json::to_vec(&state).map_err(io::Error::other)?;
    let tmp = with_suffix(path, ".tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(&body)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

/// The inventory kept in `path`, or an empty one when there is none yet.
/// The second value is a warning for the operator when the file was
/// there but unusable (and has been moved aside).
pub fn load(path: &Path, site: Site, max_assets: usize) -> (Inventory, Option<String>) {
    let mut inv = Inventory::new(site, max_assets);
    let text = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return (inv, None),
        Err(e) => {
            return (
                inv,
                Some(format!(
                    "cannot read the asset inventory {}: {e}; starting with an empty inventory",
                    path.display()
                )),
            )
        }
    };
    let problem = match serde_json::from_slice::<State>(&text) {
        Ok(s) if s.version == VERSION => {
            inv.restore(s.assets);
            return (inv, None);
        }
        Ok(s) => format!(
            "it has layout version {}, this sensor reads {VERSION}",
            s.version
        ),
        Err(e) => format!("it is not a valid inventory ({e})"),
    };
    let aside = with_suffix(path, ".corrupt");
    let moved = match std::fs::rename(path, &aside) {
        Ok(()) => format!("moved it to {}", aside.display()),
        Err(e) => format!("could not move it aside: {e}"),
    };
    (
        inv,
        Some(format!(
            "asset inventory {}: {problem}; {moved} and started with an empty inventory",
            path.display()
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use vagt_schema::{ConnRecord, ConnState, Event, EventBody, Origin, Proto};

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("vagt-assets-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("temp dir");
        d
    }

    fn conn() -> Event {
        let c: ConnRecord = serde_json::from_value(serde_json::json!({
            "ts": 100.0, "uid": "C1", "id.orig_h": "10.0.0.57", "id.orig_p": 2000,
            "id.resp_h": "10.0.0.3", "id.resp_p": 502, "proto": "tcp", "service": "modbus",
            "conn_state": "SF", "missed_bytes": 0, "orig_pkts": 3, "orig_ip_bytes": 1,
            "resp_pkts": 3, "resp_ip_bytes": 1, "ip_proto": 6,
            "orig_l2_addr": "00:20:78:00:62:0d", "resp_l2_addr": "00:02:b3:ce:70:51",
            "community_id": "1:x", "orig_link_bytes": 1, "resp_link_bytes": 1
        }))
        .expect("conn record");
        assert_eq!((c.proto, c.conn_state), (Proto::Tcp, ConnState::Sf));
        Event::new(
            Origin {
                municipality: "0751".into(),
                sensor: "s".into(),
                segment: "ot".into(),
            },
            EventBody::Conn(c),
        )
    }

    #[test]
    fn the_inventory_survives_a_restart() {
        let d = dir("roundtrip");
        let path = d.join("assets.json");
        let (mut inv, warning) = load(&path, Site::default(), 100);
        assert!(
            warning.is_none() && inv.is_empty(),
            "no file yet is no problem"
        );
        assert_eq!(inv.observe(&conn()).len(), 2);
        save(&path, &inv).expect("save");
        assert!(!with_suffix(&path, ".tmp").exists(), "renamed into place");
        let (back, warning) = load(&path, Site::default(), 100);
        assert!(warning.is_none(), "{warning:?}");
        assert_eq!(back.assets(), inv.assets());
        let plc = back.get("ot", "mac:00:02:b3:ce:70:51").expect("the PLC");
        assert_eq!(plc.role.as_deref(), Some("ot_controller"));
        // What the restarted inventory knows is not news again.
        let mut back = back;
        assert!(back.observe(&conn()).is_empty());
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_corrupt_state_file_is_moved_aside_and_the_inventory_starts_empty() {
        let d = dir("corrupt");
        let path = d.join("assets.json");
        std::fs::write(&path, b"{\"version\":1,\"assets\":[{\"segm").expect("write");
        let (inv, warning) = load(&path, Site::default(), 100);
        let warning = warning.expect("a warning");
        assert!(inv.is_empty());
        assert!(warning.contains("not a valid inventory"), "{warning}");
        assert!(warning.contains("assets.json.corrupt"), "{warning}");
        assert!(!path.exists() && d.join("assets.json.corrupt").exists());
        // The next start finds no file and says nothing.
        assert!(load(&path, Site::default(), 100).1.is_none());
        let _ = std::fs::remove_dir_all(&d);
    }
}
