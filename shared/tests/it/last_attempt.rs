//! `AmqpQueue` tells a delivery whether it is the last the queue's delivery limit allows, from
//! the limit it declared the queue with.

use crate::{require_service, unique};
use shared::amqp::{AmqpOptions, AmqpQueue};
use shared::queue::{Queue, Settle};
use std::time::Duration;

#[tokio::test]
async fn the_delivery_after_the_last_allowed_return_is_the_last_attempt() {
    require_service(5672, "RabbitMQ");
    let opts = AmqpOptions {
        connection_name: unique("moonfarm-it"),
        // One return allowed: two deliveries, the second the last.
        delivery_limit: 1,
        ..AmqpOptions::default()
    };
    let q = AmqpQueue::connect("amqp://guest:guest@127.0.0.1:5672/%2f", opts)
        .await
        .expect("connect to RabbitMQ (run scripts/services.sh)");
    let name = unique("it.last-attempt");
    q.publish(&name, b"task".to_vec()).await.unwrap();
    let mut c = q.consume(&name, 1).await.unwrap();
    let mut seen = vec![];
    for _ in 0..2 {
        let d = tokio::time::timeout(Duration::from_secs(15), c.next())
            .await
            .expect("no delivery within the deadline")
            .unwrap()
            .unwrap();
        seen.push((d.delivery_count, d.last_attempt));
        d.settle(Settle::Retry).await.unwrap();
    }
    assert_eq!(seen, [(1, false), (2, true)]);
    q.close().await;
}
