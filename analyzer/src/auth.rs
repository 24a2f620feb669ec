//! API tokens and roles. A token is `vagt_` and 40 random hex digits; the
//! store keeps only its SHA-256, so a copy of the database opens nothing.
//!
//! Roles: `central` (every municipality, may update incidents),
//! `municipality` (its own municipality only, may update its incidents),
//! `readonly` (reads, never writes; its own municipality when one is
//! given, else all).

use crate::store::{float, now, text, Store};
use serde::Serialize;
use sha2::{Digest, Sha256};

pub const ROLES: [&str; 3] = ["central", "municipality", "readonly"];

/// Who is asking, as their token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub token_id: String,
    pub role: String,
    /// None: every municipality.
    pub municipality: Option<String>,
}

impl Principal {
    pub fn can_write(&self) -> bool {
        self.role != "readonly"
    }

    pub fn is_central(&self) -> bool {
        self.municipality.is_none()
    }

    /// Whether this principal may see data of `municipality` ("" is data
    /// across municipalities: central only).
    pub fn sees(&self, municipality: &str) -> bool {
        match &self.municipality {
            None => true,
            Some(m) => m == municipality,
        }
    }

    /// What the audit log records as the data's scope.
    pub fn scope(&self) -> String {
        self.municipality.clone().unwrap_or_else(|| "*".into())
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TokenInfo {
    pub id: String,
    pub name: String,
    pub role: String,
    pub municipality: String,
    pub created: f64,
    pub revoked: Option<f64>,
}

fn hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn random_hex(bytes: usize) -> anyhow::Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// Creates a token; returns its id and the secret, shown once.
pub async fn create(
    store: &Store,
    name: &str,
    role: &str,
    municipality: &str,
) -> anyhow::Result<(String, String)> {
    if !ROLES.contains(&role) {
        anyhow::bail!("unknown role {role:?}; roles: {}", ROLES.join(", "));
    }
    if role == "municipality" && municipality.is_empty() {
        anyhow::bail!("a municipality token needs --municipality CODE");
    }
    if role == "central" && !municipality.is_empty() {
        anyhow::bail!("a central token covers every municipality; drop --municipality");
    }
    if municipality.len() > 64 || name.len() > 200 {
        anyhow::bail!("name or municipality too long");
    }
    let id = format!("tok-{}", random_hex(4)?);
    let secret = format!("vagt_{}", random_hex(20)?);
    sqlx::query(
        "INSERT INTO tokens (id, name, hash, role, municipality, created) \
         VALUES ($1,$2,$3,$4,$5,$6)",
    )
    .bind(&id)
    .bind(name)
    .bind(hash(&secret))
    .bind(role)
    .bind(municipality)
    .bind(now())
    .execute(&store.pool)
    .await?;
    Ok((id, secret))
}

pub async fn list(store: &Store) -> anyhow::Result<Vec<TokenInfo>> {
    let rows = sqlx::query(
        "SELECT id, name, role, municipality, created, revoked FROM tokens ORDER BY created",
    )
    .fetch_all(&store.pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| TokenInfo {
            id: text(r, "id"),
            name: text(r, "name"),
            role: text(r, "role"),
            municipality: text(r, "municipality"),
            created: float(r, "created"),
            revoked: Some(float(r, "revoked")).filter(|t| *t > 0.0),
        })
        .collect())
}

/// Revokes a token; `false` when there is no such (live) token.
pub async fn revoke(store: &Store, id: &str) -> anyhow::Result<bool> {
    Ok(
        sqlx::query("UPDATE tokens SET revoked = $2 WHERE id = $1 AND revoked IS NULL")
            .bind(id)
            .bind(now())
            .execute(&store.pool)
            .await?
            .rows_affected()
            == 1,
    )
}

/// The principal a presented secret stands for, if it is live.
pub async fn check(store: &Store, secret: &str) -> anyhow::Result<Option<Principal>> {
    if !secret.starts_with("vagt_") || secret.len() > 100 {
        return Ok(None);
    }
    let row = sqlx::query(
        "SELECT id, role, municipality FROM tokens WHERE hash = $1 AND revoked IS NULL",
    )
    .bind(hash(secret))
    .fetch_optional(&store.pool)
    .await?;
    Ok(row.map(|r| {
        let m = text(&r, "municipality");
        Principal {
            token_id: text(&r, "id"),
            role: text(&r, "role"),
            municipality: if m.is_empty() { None } else { Some(m) },
        }
    }))
}
