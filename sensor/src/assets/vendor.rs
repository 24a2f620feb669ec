//! The vendor of a MAC address: the organisation its prefix is registered
//! to in the IEEE registries (MA-L, MA-M, MA-S, CID, IAB), from the
//! `oui-data` crate's copy of them, which the build script writes as sorted
//! integer arrays (`build.rs` says why). No vendor list is kept here: a
//! hand-written one would go stale and wrong.

// MA_24, MA_28, MA_36: (prefix, organisation) sorted by prefix;
// NAME_ENDS: where each organisation's name ends in NAMES.
include!(concat!(env!("OUT_DIR"), "/oui_table.rs"));

/// A MAC address as six bytes.
pub type Mac = [u8; 6];

/// Reads "aa:bb:cc:dd:ee:ff" (colons or dashes, either case); `None` for
/// anything else.
pub fn parse_mac(s: &str) -> Option<Mac> {
    let mut mac = [0u8; 6];
    let mut parts = s.split([':', '-']);
    for byte in &mut mac {
        let p = parts.next()?;
        if p.len() != 2 {
            return None;
        }
        *byte = u8::from_str_radix(p, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

/// Lower case with colons, as conn records write it.
pub fn mac_string(m: &Mac) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    )
}

/// A group (multicast or broadcast) address: never one device.
pub fn is_group(m: &Mac) -> bool {
    m[0] & 1 == 1
}

/// Locally administered: chosen by the device or its software (random
/// Wi-Fi addresses, virtual machines), so its prefix names no vendor.
pub fn is_local_admin(m: &Mac) -> bool {
    m[0] & 2 == 2
}

/// The registered organisation, or `None` when the prefix is not in the
/// registries or the address is locally administered. The IEEE's own
/// all-zero entry is no answer for the all-zero address that loopback
/// and some captures carry.
pub fn vendor(m: &Mac) -> Option<String> {
    if is_local_admin(m) || *m == [0; 6] {
        return None;
    }
    let mac = m.iter().fold(0u64, |a, &b| a << 8 | u64::from(b));
    // The longest registered prefix wins: MA-S and IAB blocks lie inside
    // prefixes the IEEE registered to itself.
    let find = |table: &[(u64, u32)], bits: u32| {
        let i = table
            .binary_search_by_key(&(mac >> (48 - bits)), |r| r.0)
            .ok()?;
        Some(table[i].1)
    };
    let at = find(&MA_36, 36)
        .or_else(|| find(&MA_28, 28))
        .or_else(|| find(&MA_24, 24))?;
    organisation(at).map(str::to_string)
}

/// The name of organisation `at` of the table.
fn organisation(at: u32) -> Option<&'static str> {
    let at = at as usize;
    let end = *NAME_ENDS.get(at)? as usize;
    let start = match at {
        0 => 0,
        _ => *NAME_ENDS.get(at - 1)? as usize,
    };
    NAMES.get(start..end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_parse_strictly() {
        assert_eq!(
            parse_mac("00:02:b3:CE:70:51"),
            Some([0x00, 0x02, 0xb3, 0xce, 0x70, 0x51])
        );
        assert_eq!(
            parse_mac("00-02-b3-ce-70-51")
                .map(|m| mac_string(&m))
                .as_deref(),
            Some("00:02:b3:ce:70:51")
        );
        for bad in [
            "",
            "00:02:b3:ce:70",
            "00:02:b3:ce:70:51:00",
            "0:02:b3:ce:70:51",
            "zz:02:b3:ce:70:51",
            "é0:02:b3:ce:70:51",
        ] {
            assert_eq!(parse_mac(bad), None, "{bad}");
        }
    }

    #[test]
    fn vendors_come_from_the_registry() {
        let intel = parse_mac("00:02:b3:ce:70:51").unwrap();
        assert_eq!(vendor(&intel).as_deref(), Some("Intel Corporation"));
        let schneider = parse_mac("00:04:17:02:31:3b").unwrap();
        assert_eq!(vendor(&schneider).as_deref(), Some("Schneider Electric"));
        assert_eq!(
            vendor(&[0x02, 0, 0x0a, 0x14, 3, 0x30]),
            None,
            "locally administered"
        );
        assert_eq!(vendor(&[0; 6]), None);
        assert!(is_group(&[0xff; 6]) && !is_group(&intel));
    }

    /// Every prefix of the crate's registry, as the first and the last
    /// address of its block, names the organisation the crate's own lookup
    /// names.
    #[test]
    fn the_table_answers_as_the_crate_does() {
        let mut checked = 0;
        for key in oui_data::OUI_ENTRIES.keys() {
            let Ok(prefix) = u64::from_str_radix(key, 16) else {
                continue;
            };
            let free = 48 - 4 * key.len() as u32;
            for low in [0, (1u64 << free) - 1] {
                let v = prefix << free | low;
                let mac: Mac = std::array::from_fn(|i| (v >> (40 - 8 * i)) as u8);
                if is_local_admin(&mac) || mac == [0; 6] {
                    continue;
                }
                let hex: String = mac.iter().map(|b| format!("{b:02X}")).collect();
                let expected = oui_data::lookup(&hex).map(|r| r.organization().trim());
                assert_eq!(vendor(&mac).as_deref(), expected, "{hex}");
                checked += 1;
            }
        }
        assert!(checked > 50_000, "{checked} prefixes");
    }
}
