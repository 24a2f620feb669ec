//! `vagt-analyzer query ...`: the API from a terminal, with the same
//! tokens and the same tenant rules (the API enforces them), as tables or
//! as JSON.

use serde_json::Value;
use std::path::Path;

pub struct Client {
    url: String,
    token: String,
    agent: ureq::Agent,
}

impl Client {
    /// A client of the analyzer at `url`. For HTTPS, the server's
    /// certificate is checked against `ca` (a PEM file, typically the
    /// centre's own CA) or, without it, against the Mozilla roots.
    pub fn new(url: &str, token: &str, ca: Option<&Path>) -> anyhow::Result<Client> {
        let mut tls = ureq::tls::TlsConfig::builder();
        if let Some(ca) = ca {
            let pem = std::fs::read(ca).map_err(|e| {
                anyhow::anyhow!("cannot read the CA certificate {}: {e}", ca.display())
            })?;
            let certs = ureq::tls::parse_pem(&pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                    _ => None,
                })
                .collect::<Vec<_>>();
            if certs.is_empty() {
                anyhow::bail!("{} holds no PEM certificate", ca.display());
            }
            tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&certs));
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .tls_config(tls.build())
            .build()
            .into();
        Ok(Client {
            url: url.trim_end_matches('/').to_string(),
            token: token.to_string(),
            agent,
        })
    }

    /// GETs an API path with query pairs; the JSON answer, or the API's
    /// error message.
    pub fn get(&self, path: &str, query: &[(&str, String)]) -> anyhow::Result<Value> {
        let text = self.get_text(path, query)?;
        serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("the analyzer answered no JSON: {e}"))
    }

    pub fn get_text(&self, path: &str, query: &[(&str, String)]) -> anyhow::Result<String> {
        let url = format!("{}{path}", self.url);
        let mut req = self
            .agent
            .get(&url)
            .header("Authorization", &format!("Bearer {}", self.token));
        for (k, v) in query {
            if !v.is_empty() {
                req = req.query(*k, v);
            }
        }
        let resp = req
            .call()
            .map_err(|e| anyhow::anyhow!("cannot reach the analyzer at {url}: {e}"))?;
        answer(resp)
    }

    /// PATCHes an API path with a JSON body; the JSON answer, or the
    /// API's error message.
    pub fn patch(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.url);
        let resp = self
            .agent
            .patch(&url)
            .header("Authorization", &format!("Bearer {}", self.token))
            .send_json(body)
            .map_err(|e| anyhow::anyhow!("cannot reach the analyzer at {url}: {e}"))?;
        let text = answer(resp)?;
        serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("the analyzer answered no JSON: {e}"))
    }
}

/// The body of a successful answer, or the API's error message.
fn answer(mut resp: ureq::http::Response<ureq::Body>) -> anyhow::Result<String> {
    let status = resp.status();
    let body = resp
        .body_mut()
        .read_to_string()
        .map_err(|e| anyhow::anyhow!("reading the answer: {e}"))?;
    if !status.is_success() {
        let msg = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(String::from))
            .unwrap_or(body);
        anyhow::bail!("the analyzer refused ({status}): {msg}");
    }
    Ok(body)
}

/// Prints objects as a table of the given columns (arrays joined by ",").
pub fn table(items: &[Value], cols: &[&str]) -> String {
    let cell = |v: &Value, c: &str| -> String {
        match v.get(c) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|x| {
                    x.as_str()
                        .map(String::from)
                        .unwrap_or_else(|| x.to_string())
                })
                .collect::<Vec<_>>()
                .join(","),
            Some(Value::Number(n)) if c.ends_with("seen") || c == "ts" || c == "detected" => n
                .as_f64()
                .map(crate::nis2::datetime)
                .unwrap_or_else(|| n.to_string()),
            Some(x) => x.to_string(),
        }
    };
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|v| {
            cols.iter()
                .map(|c| {
                    let s = cell(v, c);
                    if s.chars().count() > 70 {
                        format!("{}…", s.chars().take(69).collect::<String>())
                    } else {
                        s
                    }
                })
                .collect()
        })
        .collect();
    let widths: Vec<usize> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
                .max(c.len())
        })
        .collect();
    let line = |cells: Vec<String>| -> String {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let mut out = line(cols.iter().map(|c| c.to_uppercase()).collect());
    out.push('\n');
    for r in rows {
        out.push_str(&line(r));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn tables_line_up() {
        let items = vec![
            serde_json::json!({"id": "a", "municipalities": ["0101", "0147"], "alerts": 3}),
            serde_json::json!({"id": "bbbb", "municipalities": [], "alerts": 10}),
        ];
        let t = super::table(&items, &["id", "municipalities", "alerts"]);
        assert_eq!(
            t,
            "ID    MUNICIPALITIES  ALERTS\na     0101,0147       3\nbbbb                  10\n"
        );
    }
}
