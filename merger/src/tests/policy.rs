//! The merger's error policy, by table: what each kind of failure means for the queue.

use super::*;
use shared::blob::BlobError;

#[test]
fn decisions_by_error() {
    let garbage = protocol::decode(b"not a message").unwrap_err();
    let reason = garbage.to_string();
    let missing_partial = BlobError::NotFound {
        key: "jobs/j/partials/0/0-0.exr".into(),
        store: "memory".into(),
    };
    let table: Vec<(&str, MergeError, Settle)> = vec![
        (
            "undecodable",
            undecodable(garbage),
            Settle::DeadLetter(reason),
        ),
        (
            "unknown job",
            MergeError::Permanent("job j has no manifest".into()),
            Settle::DeadLetter("job j has no manifest".into()),
        ),
        ("blob error", transient(missing_partial), Settle::Retry),
        (
            "queue or store trouble",
            transient(anyhow::anyhow!("connection reset")),
            Settle::Retry,
        ),
    ];
    for (what, error, expected) in table {
        assert_eq!(error_policy(&error), expected, "{what}: {error}");
    }
}
