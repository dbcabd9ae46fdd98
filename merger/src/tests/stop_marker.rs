//! The stop marker the merger leaves for a failed job is the protocol's record, readable by
//! whoever reads it, not a body of the merger's own.

use super::*;
use shared::protocol::{Record, StopMarker};

#[tokio::test]
async fn a_failed_job_gets_the_protocols_stop_marker() {
    let (q, blobs, m) = new_job().await;
    publish_result(
        &q,
        result(
            &m,
            0,
            0,
            TaskOutcome::Failed {
                reason: "scene.rdla:3: boom".into(),
            },
            0,
        ),
    )
    .await;
    merge_until(&q, &blobs, &m, |s| s.state == JobState::Failed).await;
    let body = blobs.get(&keys::stopped(&m.job)).await.unwrap();
    assert_eq!(
        StopMarker::from_bytes(&body).unwrap(),
        StopMarker::new(&m.job, JobState::Failed)
    );
}
