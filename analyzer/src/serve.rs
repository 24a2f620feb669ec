//! `vagt-analyzer serve`: the store, the ingest thread, the correlation
//! and retention schedules and the API, until SIGTERM or Ctrl-C. Ingest
//! stops after the batch it is storing, so a stop loses nothing.

use crate::api::{self, App};
use crate::config::Config;
use crate::correlate::{self, Rules};
use crate::ingest::{Ingest, IngestStats};
use crate::retention;
use crate::store::Store;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub async fn serve(cfg: Config) -> anyhow::Result<()> {
    let rules = Rules::load(&cfg.correlation.rules)?;
    let store = Store::open(&cfg.store.url, cfg.store.max_connections).await?;
    let instance = cfg.instance();
    let stats = Arc::new(IngestStats::default());
    let counters = Arc::new(api::metrics::Counters::default());
    let stop = Arc::new(AtomicBool::new(false));
    let addr: SocketAddr = cfg.api.listen.parse().map_err(|e| {
        anyhow::anyhow!("[api] listen = {:?} is not host:port: {e}", cfg.api.listen)
    })?;

    let ingest = if cfg.kafka.enabled {
        let i = Ingest::new(
            &cfg.kafka,
            store.clone(),
            stats.clone(),
            tokio::runtime::Handle::current(),
        )?;
        let stop = stop.clone();
        Some(
            std::thread::Builder::new()
                .name("ingest".into())
                .spawn(move || i.run(stop))?,
        )
    } else {
        None
    };

    {
        let (store, stop, counters) = (store.clone(), stop.clone(), counters.clone());
        let every = Duration::from_secs_f64(cfg.correlation.interval_seconds);
        tokio::spawn(async move {
            let mut marks = correlate::Marks::default();
            while !stop.load(Ordering::Relaxed) {
                let r = correlate::run(&store, &rules, &mut marks).await;
                counters.round(r.as_ref().ok());
                match r {
                    Ok(r) if r.created > 0 || r.incidents > 0 => {
                        tracing::info!(?r, "correlation raised {} findings", r.created)
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!("correlation: {e}"),
                }
                tokio::time::sleep(every).await;
            }
        });
    }
    {
        let (store, stop, r, inst, counters) = (
            store.clone(),
            stop.clone(),
            cfg.retention.clone(),
            instance.clone(),
            counters.clone(),
        );
        let every = Duration::from_secs_f64(cfg.retention.interval_minutes * 60.0);
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                match retention::run(&store, &r, &inst).await {
                    Ok(done) => {
                        for d in done {
                            counters.deleted(&d.kind, d.rows);
                        }
                    }
                    Err(e) => tracing::warn!("retention: {e}"),
                }
                tokio::time::sleep(every).await;
            }
        });
    }

    let app = App {
        store: store.clone(),
        ingest: stats,
        instance,
        counters,
    };
    let router = api::router(app, cfg.api.max_body_bytes);
    let handle = axum_server::Handle::new();
    {
        let (h, stop) = (handle.clone(), stop.clone());
        tokio::spawn(async move {
            shutdown_signal().await;
            tracing::info!("stopping");
            stop.store(true, Ordering::Relaxed);
            h.graceful_shutdown(Some(Duration::from_secs(10)));
        });
    }
    tracing::info!(
        "vagt-analyzer {} on {addr} ({}), store {}, ingest {}",
        env!("CARGO_PKG_VERSION"),
        if cfg.api.tls_cert.is_empty() {
            "http"
        } else {
            "https"
        },
        crate::store::redact(&cfg.store.url),
        if cfg.kafka.enabled {
            cfg.kafka.brokers.as_str()
        } else {
            "off"
        }
    );
    let svc = router.into_make_service();
    if cfg.api.tls_cert.is_empty() {
        axum_server::bind(addr).handle(handle).serve(svc).await?;
    } else {
        // ring: builds with no C toolchain beyond cc (aws-lc needs more);
        // its lack of post-quantum key exchange is what rustls warns of.
        #[allow(deprecated)]
        let _ = rustls::crypto::ring::default_provider().install_default();
        let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(
            &cfg.api.tls_cert,
            &cfg.api.tls_key,
        )
        .await
        .map_err(|e| anyhow::anyhow!("[api] TLS files: {e}"))?;
        axum_server::bind_rustls(addr, tls)
            .handle(handle)
            .serve(svc)
            .await?;
    }
    stop.store(true, Ordering::Relaxed);
    if let Some(t) = ingest {
        let _ = tokio::task::spawn_blocking(move || t.join()).await;
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
