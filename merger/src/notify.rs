//! `--notify URL`: a JSON POST when a job ends (done, failed or cancelled), sent by the merger.
//!
//! Each notification runs as a task of its own, so a slow or dead endpoint never holds up the
//! merger's loop, and its failure is only logged: the job's end is already stored when the
//! notification starts, and nothing a webhook does changes it. Attempts back off from 1 s,
//! doubling, [`ATTEMPTS`] in all (about a minute); an answer outside 2xx counts as a failure.
//! The notification is not durable: a merger killed while it retries does not send it again.

use serde::Serialize;
use shared::blob::Blobs;
use shared::protocol::schedule::{keys, Notify};
use shared::protocol::{JobId, Record};
use std::time::Duration;

/// Attempts before a notification is given up.
pub const ATTEMPTS: u32 = 6;
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// Longest one attempt may take, connecting included.
const TIMEOUT: Duration = Duration::from_secs(10);

/// What the POST carries.
#[derive(Debug, Clone, Serialize)]
pub struct Ending {
    pub job: JobId,
    /// `done`, `failed` or `cancelled`.
    pub state: String,
    /// Blob keys of the job's final images (none unless done), and the names they were
    /// submitted under.
    pub outputs: Vec<Output>,
    pub submitted_unix: f64,
    pub started_unix: Option<f64>,
    pub finished_unix: f64,
    pub tasks_done: u64,
    pub tasks_total: u64,
    pub failures: Vec<String>,
    /// CPU time rendered, once results report it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub core_seconds: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Output {
    pub name: String,
    pub key: String,
}

/// Sends the job's notification, if it asked for one, in the background.
pub fn spawn(blobs: Blobs, ending: Ending) {
    tokio::spawn(async move {
        let job = ending.job.clone();
        let target = match blobs.get_opt(&keys::notify(&job)).await {
            Ok(Some(bytes)) => match Notify::from_bytes(&bytes) {
                Ok(n) => n,
                Err(e) => {
                    return tracing::warn!(%job, "notify record unreadable, no notification: {e}")
                }
            },
            Ok(None) => return,
            Err(e) => {
                return tracing::warn!(%job, "reading the notify record failed, no notification: {e}")
            }
        };
        send(&target.url, &ending, FIRST_BACKOFF).await;
    });
}

/// POSTs `ending` to `url` until it is taken, [`ATTEMPTS`] times at most. True when delivered.
pub async fn send(url: &str, ending: &Ending, first_backoff: Duration) -> bool {
    // reqwest is built without a TLS provider of its own (ring only, see the workspace).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = match reqwest::Client::builder().timeout(TIMEOUT).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(job = %ending.job, "no HTTP client, no notification: {e}");
            return false;
        }
    };
    let body = serde_json::to_vec(ending).expect("endings serialise");
    let mut backoff = first_backoff;
    for attempt in 1..=ATTEMPTS {
        let sent = client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.clone())
            .send()
            .await;
        let why = match sent {
            Ok(r) if r.status().is_success() => {
                tracing::info!(job = %ending.job, %url, attempt, "notification delivered");
                return true;
            }
            Ok(r) => format!("answered {}", r.status()),
            Err(e) => e.to_string(),
        };
        if attempt == ATTEMPTS {
            tracing::warn!(job = %ending.job, %url, attempt, "notification given up: {why}");
        } else {
            tracing::info!(job = %ending.job, %url, attempt, "notification failed, retrying in {backoff:?}: {why}");
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn ending() -> Ending {
        Ending {
            job: JobId::parse("j1").unwrap(),
            state: "done".into(),
            outputs: vec![],
            submitted_unix: 1.0,
            started_unix: None,
            finished_unix: 2.0,
            tasks_done: 4,
            tasks_total: 4,
            failures: vec![],
            core_seconds: None,
        }
    }

    /// A server that answers 503 once, then 200: the second attempt delivers the body.
    #[tokio::test]
    async fn a_refused_attempt_is_retried_and_the_body_is_the_json() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let mut bodies = Vec::new();
            for code in ["503 Service Unavailable", "200 OK"] {
                let (mut s, _) = listener.accept().unwrap();
                let mut buf = vec![0; 65536];
                let mut got = Vec::new();
                // Read until the body announced by Content-Length is in.
                loop {
                    let n = s.read(&mut buf).unwrap();
                    got.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&got).to_string();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let len: usize = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse().unwrap())
                            })
                            .unwrap_or(0);
                        if body.len() >= len {
                            bodies.push(body.to_string());
                            break;
                        }
                    }
                    if n == 0 {
                        break;
                    }
                }
                write!(
                    s,
                    "HTTP/1.1 {code}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                )
                .unwrap();
            }
            bodies
        });
        let url = format!("http://127.0.0.1:{port}/hook");
        assert!(send(&url, &ending(), Duration::from_millis(10)).await);
        let bodies = server.join().unwrap();
        assert_eq!(bodies.len(), 2);
        let v: serde_json::Value = serde_json::from_str(&bodies[1]).unwrap();
        assert_eq!(
            (v["job"].as_str(), v["state"].as_str()),
            (Some("j1"), Some("done"))
        );
        assert!(v.get("core_seconds").is_none(), "{v}");
    }

    #[tokio::test]
    async fn a_refused_connection_gives_up_after_every_attempt() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}/hook");
        assert!(!send(&url, &ending(), Duration::from_millis(1)).await);
    }
}
