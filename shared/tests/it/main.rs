//! Integration tests of the adapters against real services: RabbitMQ at 127.0.0.1:5672 and
//! Azurite at 127.0.0.1:10000, both started by `scripts/services.sh`. A missing service fails
//! the tests with that advice; nothing here is mocked and nothing passes by skipping.

mod amqp;
mod azure;
mod last_attempt;
mod service;

use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Fails the test, saying what to run, unless something accepts connections on `port`.
pub fn require_service(port: u16, what: &str) {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    if let Err(e) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
        panic!("{what} is not reachable at {addr} ({e}): run scripts/services.sh first");
    }
}

/// A name no other test run uses, so tests can run in parallel and leave no shared state.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4())
}
