//! The health and metrics endpoint every long-running process serves: `/healthz` (the process
//! is alive), `/readyz` (it is connected and taking work) and `/metrics` (Prometheus text).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use prometheus_client::encoding::text::encode;
use prometheus_client::registry::Registry;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// What the endpoint reports; shared with the process's main loop, which flips `ready`.
#[derive(Clone)]
pub struct Health {
    pub ready: Arc<AtomicBool>,
    registry: Arc<Registry>,
}

impl Health {
    pub fn new(registry: Registry) -> Health {
        Health {
            ready: Arc::new(AtomicBool::new(false)),
            registry: Arc::new(registry),
        }
    }

    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Relaxed);
    }

    /// The metrics in Prometheus' text format.
    pub fn metrics_text(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(h): State<Health>) -> impl IntoResponse {
    if h.ready.load(Ordering::Relaxed) {
        (StatusCode::OK, "ready\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
    }
}

async fn metrics(State(h): State<Health>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        h.metrics_text(),
    )
}

/// Binds `0.0.0.0:port` (port 0 picks a free one) and serves until `shutdown`; returns the
/// bound address once listening, so a bad port is an error at start-up, not later.
pub async fn serve(
    port: u16,
    health: Health,
    shutdown: CancellationToken,
) -> std::io::Result<std::net::SocketAddr> {
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", port))
        .await
        .map_err(|e| {
            let hint = if e.kind() == std::io::ErrorKind::AddrInUse {
                "another worker or merger on this host has it? Set MOONFARM_HTTP_PORT (or --http-port) to another port, or 0 for any free one"
            } else {
                "set MOONFARM_HTTP_PORT (or --http-port) to another port, or 0 for any free one"
            };
            std::io::Error::new(
                e.kind(),
                format!("health and metrics port {port}: {e} ({hint})"),
            )
        })?;
    let addr = listener.local_addr()?;
    let app = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(health);
    tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await;
        if let Err(e) = served {
            tracing::error!("health endpoint stopped: {e}");
        }
    });
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::metrics::counter::Counter;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn get(addr: std::net::SocketAddr, path: &str) -> String {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn serves_health_readiness_and_metrics() {
        let mut registry = Registry::default();
        let done = Counter::<u64>::default();
        registry.register("moonfarm_test_done", "Things done", done.clone());
        done.inc_by(3);
        let health = Health::new(registry);
        let stop = CancellationToken::new();
        let addr = serve(0, health.clone(), stop.clone()).await.unwrap();
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], addr.port()));
        assert!(get(addr, "/healthz").await.starts_with("HTTP/1.1 200"));
        assert!(get(addr, "/readyz").await.starts_with("HTTP/1.1 503"));
        health.set_ready(true);
        assert!(get(addr, "/readyz").await.starts_with("HTTP/1.1 200"));
        assert!(get(addr, "/metrics")
            .await
            .contains("moonfarm_test_done_total 3"));
        stop.cancel();
    }
}
