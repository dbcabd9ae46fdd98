//! The merger's side of the job index: the job's entry rewritten when it starts and ends, so
//! that `producer list` reads one small record per job.

use shared::blob::{BlobError, Blobs};
use shared::protocol::index::{keys, JobIndex};
use shared::protocol::{JobId, Record};

/// Reads the job's entry, changes it and writes it back. A job without an entry (submitted by
/// an older producer) is left without one; an unreadable entry is replaced only by a change
/// that does not need it, so it is logged and left.
pub async fn update(
    blobs: &Blobs,
    job: &JobId,
    change: impl FnOnce(&mut JobIndex),
) -> Result<(), BlobError> {
    let key = keys::index(job);
    let Some(bytes) = blobs.get_opt(&key).await? else {
        return Ok(());
    };
    let mut entry = match JobIndex::from_bytes(&bytes) {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(%job, "the job's index entry is unreadable, left as it is: {e}");
            return Ok(());
        }
    };
    change(&mut entry);
    blobs.put(&key, entry.to_bytes()).await
}
