//! `vagt-sensor reveal`: the municipality's own way back from a
//! pseudonym seen at the centre to the address or name it stands for.

use crate::config::Config;

/// `vagt-sensor reveal`: pseudonyms back to what they stand for, from
/// the key, the internal networks, the journal and the asset inventory.
pub(super) fn run(cfg: &Config, args: crate::cli::RevealArgs) -> Result<i32, String> {
    let settings = cfg.privacy_settings();
    let mut r = vagt_privacy::Revealer::open(&settings).map_err(|e| e.to_string())?;
    let inventory = args.assets.or_else(|| cfg.assets.state_path(true));
    if let Some(path) = inventory.filter(|p| p.exists()) {
        // Every string of the inventory is a candidate: addresses, MACs,
        // names, whatever the inventory learnt.
        let text =
            std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let v: serde_json::Value = serde_json::from_slice(&text)
            .map_err(|e| format!("{} is not an asset inventory: {e}", path.display()))?;
        let mut strings = Vec::new();
        collect_strings(&v, &mut strings);
        r.add_candidates(strings);
    }
    let mut code = 0;
    for t in &args.tokens {
        match r.reveal(t) {
            Ok(found) if found.is_empty() => {
                println!(
                    "{t}\tnot found (not an internal address, and not in the journal or inventory)"
                );
                code = 1;
            }
            Ok(found) => {
                for f in found {
                    println!("{t}\t{}\t{}\t({})", f.kind, f.value, f.via);
                }
            }
            Err(e) => {
                println!("{t}\t{e}");
                code = 1;
            }
        }
    }
    Ok(code)
}

fn collect_strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => {
            out.push(s.clone());
            // Asset keys are `mac:<MAC>` and `ip:<address>`.
            if let Some((_, rest)) = s.split_once(':').filter(|(k, _)| *k == "mac" || *k == "ip") {
                out.push(rest.to_string());
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}
