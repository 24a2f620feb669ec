//! The store: SQLite (WAL mode, embedded, the default) or PostgreSQL
//! (several analyzer instances share it), behind one `sqlx::AnyPool` with
//! the same SQL and the same versioned migrations (`analyzer/migrations`).
//! The SQL sticks to what both accept: `$n` parameters, plain types,
//! `ON CONFLICT` upserts, `RETURNING`.

pub mod write;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};
use std::time::Duration;

pub use write::{Incoming, Written};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Clone)]
pub struct Store {
    pub pool: AnyPool,
    pub postgres: bool,
}

impl Store {
    /// Connects (creating an SQLite file when missing) and brings the
    /// schema up to date.
    pub async fn open(url: &str, max_connections: u32) -> anyhow::Result<Store> {
        sqlx::any::install_default_drivers();
        let postgres = url.starts_with("postgres");
        let url = if !postgres && !url.contains("mode=") {
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}mode=rwc")
        } else {
            url.to_string()
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if !postgres {
                        // WAL: readers never wait for the writer; a
                        // second writer waits instead of failing.
                        for p in [
                            "PRAGMA journal_mode = WAL",
                            "PRAGMA synchronous = NORMAL",
                            "PRAGMA busy_timeout = 10000",
                            "PRAGMA foreign_keys = ON",
                            // Index pages in memory rather than re-read:
                            // with SQLite's 2 MB default, ingest halved
                            // as the store grew past a million events.
                            "PRAGMA cache_size = -65536",
                            // Pages read from the mapped file, not copied
                            // into the cache (16 GB: the build allows it,
                            // .cargo/config.toml); with the memory
                            // statistics off, ingest into a store of 10 M
                            // events went from 15,600 to 18,600 events/s.
                            "PRAGMA mmap_size = 17179869184",
                            "PRAGMA temp_store = MEMORY",
                            // Checkpoint every 256 MB of WAL, not 16 MB:
                            // a page that every batch dirties (the end of
                            // each index) is copied to the database once
                            // per checkpoint, and each checkpoint syncs.
                            // Ingest at 2 M events: 17,400 -> 22,700
                            // events/s. The file is cut back after a
                            // checkpoint that a long reader let grow.
                            "PRAGMA wal_autocheckpoint = 65536",
                            "PRAGMA journal_size_limit = 536870912",
                        ] {
                            sqlx::query(p).execute(&mut *conn).await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(|e| anyhow::anyhow!("cannot open the store {}: {e}", redact(&url)))?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| anyhow::anyhow!("cannot migrate the store: {e}"))?;
        Ok(Store { pool, postgres })
    }

    /// The schema version the store is at.
    pub async fn version(&self) -> anyhow::Result<i64> {
        let row = sqlx::query("SELECT MAX(version) FROM _sqlx_migrations")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<i64, _>(0).unwrap_or(0))
    }
}

/// A connection URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Reads a text column, "" when NULL or missing.
pub fn text(row: &AnyRow, col: &str) -> String {
    row.try_get::<Option<String>, _>(col)
        .ok()
        .flatten()
        .unwrap_or_default()
}

pub fn int(row: &AnyRow, col: &str) -> i64 {
    row.try_get::<Option<i64>, _>(col)
        .ok()
        .flatten()
        .or_else(|| {
            row.try_get::<Option<i32>, _>(col)
                .ok()
                .flatten()
                .map(i64::from)
        })
        .unwrap_or(0)
}

pub fn float(row: &AnyRow, col: &str) -> f64 {
    row.try_get::<Option<f64>, _>(col)
        .ok()
        .flatten()
        .or_else(|| {
            row.try_get::<Option<i64>, _>(col)
                .ok()
                .flatten()
                .map(|v| v as f64)
        })
        .unwrap_or(0.0)
}

/// Seconds since the Unix epoch.
pub fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("postgres://vagt:secret@db/vagt"),
            "postgres://vagt:***@db/vagt"
        );
        assert_eq!(redact("sqlite://x.db"), "sqlite://x.db");
    }
}
