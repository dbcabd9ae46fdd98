//! The service runner against real RabbitMQ: ready while the work runs, not ready once it has
//! ended, the work's error returned as the service's, and the adapters it hands over usable.

use crate::{require_service, unique};
use shared::config::ConnectionArgs;
use shared::service::{self, ServiceSpec};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn status_line(port: u16, path: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out.lines().next().unwrap_or_default().to_string()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn ready_while_the_work_runs_and_not_after() {
    require_service(5672, "RabbitMQ");
    let dir = tempfile::tempdir().unwrap();
    let conn = ConnectionArgs {
        amqp: Some("amqp://guest:guest@127.0.0.1:5672/%2f".into()),
        blob: Some(format!("file://{}", dir.path().display())),
    };
    let port = free_port();
    let queue = unique("it.service");
    let spec = ServiceSpec {
        name: unique("moonfarm-it-service"),
        http_port: port,
        registry: Default::default(),
        conn: &conn,
    };
    let result = service::run(spec, |c, shutdown| {
        let queue = queue.clone();
        async move {
            assert!(!shutdown.is_cancelled());
            assert_eq!(status_line(port, "/readyz").await, "HTTP/1.1 200 OK");
            c.queue.publish(&queue, b"hello".to_vec()).await?;
            let mut consumer = c.queue.consume(&queue, 1).await?;
            let d = consumer.next().await?.expect("the message just published");
            assert_eq!(d.payload, b"hello");
            d.settle(shared::queue::Settle::Ack).await?;
            c.blobs.put("it/service", b"x".to_vec()).await?;
            anyhow::bail!("the work's own error")
        }
    })
    .await;
    assert_eq!(result.unwrap_err().to_string(), "the work's own error");
    assert_eq!(
        status_line(port, "/readyz").await,
        "HTTP/1.1 503 Service Unavailable"
    );
    assert_eq!(status_line(port, "/healthz").await, "HTTP/1.1 200 OK");
    assert!(dir.path().join("it/service").exists());
}

#[tokio::test]
async fn a_missing_queue_url_fails_before_the_work_starts() {
    let conn = ConnectionArgs::default();
    let spec = ServiceSpec {
        name: "moonfarm-it-service".into(),
        http_port: 0,
        registry: Default::default(),
        conn: &conn,
    };
    let err = service::run(spec, |_, _| async { panic!("the work must not start") })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("MOONFARM_AMQP_URL"), "{err}");
}
