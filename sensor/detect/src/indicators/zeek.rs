//! Feeds in the format of Zeek's Intel framework (`Intel::read_files`),
//! read as Zeek's input framework reads them: tab-separated columns named
//! by a `#fields` line (`indicator`, `indicator_type`, `meta.source`,
//! `meta.desc`, `meta.url`; other columns, such as `meta.do_notice`, are
//! ignored), `-` for an unset field and `(empty)` for an empty one, and
//! every other line that starts with `#` ignored. Types not matched here
//! (`Intel::FILE_NAME`, `Intel::PUBKEY_HASH`, a package's own) are skipped
//! and counted rather than refused, so an existing feed loads as it is.

use super::{Indicators, Kind, Raw};
use crate::rules::RulesError;
use std::path::Path;

/// The kind a Zeek type names, without its `Intel::`; `None` for a type
/// not matched here. `JA3` and the others after it are not Zeek's own but
/// those of packages (ja3, hassh) and of feeds that write them.
fn kind_of(zeek_type: &str) -> Option<Kind> {
    Some(match zeek_type.strip_prefix("Intel::")? {
        "ADDR" | "SUBNET" => Kind::Ip,
        "DOMAIN" => Kind::Domain,
        "URL" => Kind::Url,
        "SOFTWARE" => Kind::Software,
        "USER_NAME" => Kind::UserName,
        "EMAIL" => Kind::Email,
        "FILE_HASH" => Kind::FileHash,
        "CERT_HASH" => Kind::CertHash,
        "JA3" => Kind::Ja3,
        "JA3S" => Kind::Ja3s,
        "JA4" => Kind::Ja4,
        "JA4S" => Kind::Ja4s,
        "HASSH" => Kind::Hassh,
        "HASSH_SERVER" | "HASSHSERVER" => Kind::HasshServer,
        _ => return None,
    })
}

/// Column positions from the `#fields` line.
struct Columns {
    indicator: usize,
    kind: usize,
    source: Option<usize>,
    desc: Option<usize>,
    url: Option<usize>,
}

/// A field's value: `-` is unset, `(empty)` empty.
fn field<'a>(cols: &[&'a str], at: Option<usize>) -> Option<&'a str> {
    let v = cols.get(at?)?.trim_matches(' ');
    match v {
        "-" => None,
        "(empty)" => Some(""),
        v => Some(v),
    }
}

/// Reads one feed's text into `set`.
pub fn add_file(set: &mut Indicators, path: &Path, text: &str) -> Result<(), RulesError> {
    let err = |line: usize, message: String| RulesError {
        file: path.to_path_buf(),
        line: Some(line),
        message,
    };
    // Registered even when it holds no indicator, for `rules check`.
    set.file_index(path);
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut columns: Option<Columns> = None;
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        if let Some(rest) = line.strip_prefix("#fields") {
            if !rest.starts_with('\t') {
                return Err(err(
                    n,
                    "the `#fields` line must separate its column names with tabs, as Zeek writes it: #fields<TAB>indicator<TAB>indicator_type<TAB>meta.source".into(),
                ));
            }
            let names: Vec<&str> = rest.split('\t').skip(1).map(str::trim).collect();
            let at = |name: &str| names.iter().position(|c| *c == name);
            let (Some(indicator), Some(kind)) = (at("indicator"), at("indicator_type")) else {
                return Err(err(
                    n,
                    format!(
                        "`#fields` names no `indicator` or no `indicator_type` column (it names {}); Zeek's intel files need both",
                        names.join(", ")
                    ),
                ));
            };
            columns = Some(Columns {
                indicator,
                kind,
                source: at("meta.source"),
                desc: at("meta.desc"),
                url: at("meta.url"),
            });
            continue;
        }
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let Some(c) = &columns else {
            return Err(err(
                n,
                "an indicator before the `#fields` line; a Zeek intel file starts with #fields<TAB>indicator<TAB>indicator_type<TAB>meta.source".into(),
            ));
        };
        let cols: Vec<&str> = line.split('\t').collect();
        let (Some(value), Some(zeek_type)) =
            (field(&cols, Some(c.indicator)), field(&cols, Some(c.kind)))
        else {
            return Err(err(
                n,
                format!(
                    "{} column(s) where `#fields` names the indicator in column {} and its type in column {}; columns are separated by one tab, and `-` is an unset field",
                    cols.len(),
                    c.indicator + 1,
                    c.kind + 1
                ),
            ));
        };
        let Some(kind) = kind_of(zeek_type) else {
            *set.skipped.entry(zeek_type.to_string()).or_default() += 1;
            continue;
        };
        set.add(
            path,
            Raw {
                kind,
                value,
                score: None,
                technique: None,
                comment: field(&cols, c.desc).unwrap_or(""),
                source: field(&cols, c.source).filter(|s| !s.is_empty()),
                url: field(&cols, c.url).filter(|s| !s.is_empty()),
                expires: None,
                line: n,
                lenient: true,
            },
        )
        .map_err(|e| RulesError {
            message: format!("{} ({zeek_type} `{value}`)", e.message),
            ..e
        })?;
    }
    Ok(())
}
