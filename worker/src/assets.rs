//! The worker's cache of the files scenes reference (textures, ...): fetched from the blob
//! store by content hash, verified against it, kept in a folder under the temp dir and bounded
//! in bytes (`MOONFARM_ASSET_CACHE_BYTES`), the least recently used evicted first.
//!
//! Shared by every worker loop of a process. The folder is this process's own (created on
//! first use, removed when the process ends), so two workers on one machine never race on it.

use shared::blob::{sha256_hex, BlobError, Blobs};
use shared::protocol::{keys, AssetFile};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// The default bound: 2 GiB.
pub const DEFAULT_CACHE_BYTES: u64 = 2 << 30;

/// Why a file could not be had.
#[derive(Debug, thiserror::Error)]
pub enum AssetError {
    /// Not in the blob store: the job cannot render anywhere.
    #[error("referenced file {name} ({sha256}) is missing from the blob store")]
    Missing { name: String, sha256: String },
    /// The store or the local disk failed, or the bytes did not match their hash: try again.
    #[error("{0}")]
    Transient(String),
}

impl From<BlobError> for AssetError {
    fn from(e: BlobError) -> Self {
        AssetError::Transient(e.to_string())
    }
}

#[derive(Default, Clone)]
pub struct AssetCache {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    /// Created on first use; deleted with the cache.
    dir: Option<tempfile::TempDir>,
    /// By hash: size and the tick of the last use.
    entries: HashMap<String, (u64, u64)>,
    total: u64,
    tick: u64,
}

impl Inner {
    fn path(&mut self, sha256: &str) -> std::io::Result<PathBuf> {
        if self.dir.is_none() {
            self.dir = Some(
                tempfile::Builder::new()
                    .prefix("moonfarm-assets-")
                    .tempdir()?,
            );
        }
        Ok(self.dir.as_ref().unwrap().path().join(sha256))
    }

    /// Evicts least recently used entries other than `keep` until the total is within `bound`.
    fn evict(&mut self, bound: u64, keep: &str) {
        while self.total > bound {
            let Some(victim) = self
                .entries
                .iter()
                .filter(|(k, _)| k.as_str() != keep)
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            let (size, _) = self.entries.remove(&victim).unwrap();
            self.total -= size;
            if let Ok(p) = self.path(&victim) {
                let _ = std::fs::remove_file(p);
            }
        }
    }
}

impl AssetCache {
    /// The file's bytes: from the local folder when cached, else fetched from the blob store
    /// and verified against its hash. Keeps the cache within `bound` bytes; a file larger
    /// than the whole bound is handed over without being kept.
    pub async fn fetch(
        &self,
        blobs: &Blobs,
        file: &AssetFile,
        bound: u64,
    ) -> Result<Arc<[u8]>, AssetError> {
        let cached = {
            let mut inner = self.inner.lock().unwrap();
            inner.tick += 1;
            let tick = inner.tick;
            match inner.entries.get_mut(&file.sha256) {
                Some(entry) => {
                    entry.1 = tick;
                    Some(inner.path(&file.sha256))
                }
                None => None,
            }
        };
        if let Some(Ok(path)) = cached {
            match tokio::fs::read(&path).await {
                Ok(bytes) if sha256_hex(&bytes) == file.sha256 => return Ok(bytes.into()),
                // Removed or damaged behind our back: forget it and fetch again.
                _ => self.forget(&file.sha256),
            }
        }
        let bytes = match blobs.get(&keys::asset(&file.sha256)).await {
            Ok(b) => b,
            Err(BlobError::NotFound { .. }) => {
                return Err(AssetError::Missing {
                    name: file.name.clone(),
                    sha256: file.sha256.clone(),
                })
            }
            Err(e) => return Err(e.into()),
        };
        if sha256_hex(&bytes) != file.sha256 {
            return Err(AssetError::Transient(format!(
                "referenced file {} downloaded with the wrong hash (want {}): not used",
                file.name, file.sha256
            )));
        }
        let size = bytes.len() as u64;
        if size <= bound {
            let path = {
                let mut inner = self.inner.lock().unwrap();
                inner.path(&file.sha256)
            }
            .map_err(|e| AssetError::Transient(format!("asset cache folder: {e}")))?;
            let tmp = path.with_extension("part");
            tokio::fs::write(&tmp, &bytes)
                .await
                .and(tokio::fs::rename(&tmp, &path).await)
                .map_err(|e| AssetError::Transient(format!("writing {}: {e}", path.display())))?;
            let mut inner = self.inner.lock().unwrap();
            inner.tick += 1;
            let tick = inner.tick;
            if inner
                .entries
                .insert(file.sha256.clone(), (size, tick))
                .is_none()
            {
                inner.total += size;
            }
            inner.evict(bound, &file.sha256);
        }
        Ok(bytes.to_vec().into())
    }

    fn forget(&self, sha256: &str) {
        let mut inner = self.inner.lock().unwrap();
        if let Some((size, _)) = inner.entries.remove(sha256) {
            inner.total -= size;
        }
    }

    /// The hashes cached now and their total size, for tests and logs.
    pub fn contents(&self) -> (Vec<String>, u64) {
        let inner = self.inner.lock().unwrap();
        let mut keys: Vec<String> = inner.entries.keys().cloned().collect();
        keys.sort();
        (keys, inner.total)
    }

    /// How many files are in the cache folder on disk.
    pub fn files_on_disk(&self) -> usize {
        let inner = self.inner.lock().unwrap();
        inner.dir.as_ref().map_or(0, |d| {
            std::fs::read_dir(d.path()).map_or(0, |r| r.filter_map(Result::ok).count())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn stored(blobs: &Blobs, name: &str, bytes: &[u8]) -> AssetFile {
        let sha256 = sha256_hex(bytes);
        blobs
            .put(&keys::asset(&sha256), bytes.to_vec())
            .await
            .unwrap();
        AssetFile {
            name: name.into(),
            sha256,
            size: bytes.len() as u64,
        }
    }

    #[tokio::test]
    async fn keeps_within_its_bound_evicting_the_least_recently_used() {
        let blobs = Blobs::memory();
        let a = stored(&blobs, "a.png", &[1; 40]).await;
        let b = stored(&blobs, "b.png", &[2; 40]).await;
        let c = stored(&blobs, "c.png", &[3; 40]).await;
        let cache = AssetCache::default();
        assert_eq!(&*cache.fetch(&blobs, &a, 100).await.unwrap(), &[1; 40]);
        cache.fetch(&blobs, &b, 100).await.unwrap();
        cache.fetch(&blobs, &a, 100).await.unwrap(); // a is now the more recent
        cache.fetch(&blobs, &c, 100).await.unwrap(); // 120 > 100: b goes
        let (keys, total) = cache.contents();
        let mut want = vec![a.sha256.clone(), c.sha256.clone()];
        want.sort();
        assert_eq!((keys, total), (want, 80));
        assert_eq!(cache.files_on_disk(), 2);

        // A cached file is served from disk: gone from the store, still there.
        blobs.delete(&keys::asset(&a.sha256)).await.unwrap();
        assert_eq!(&*cache.fetch(&blobs, &a, 100).await.unwrap(), &[1; 40]);
        // An evicted one is fetched again.
        assert_eq!(&*cache.fetch(&blobs, &b, 100).await.unwrap(), &[2; 40]);
        assert_eq!(cache.contents().1, 80);

        // Bigger than the whole bound: handed over, not kept.
        let big = stored(&blobs, "big.exr", &[4; 300]).await;
        assert_eq!(cache.fetch(&blobs, &big, 100).await.unwrap().len(), 300);
        assert!(!cache.contents().0.contains(&big.sha256));
        assert!(cache.contents().1 <= 100);
    }

    #[tokio::test]
    async fn verifies_the_hash_and_names_missing_files() {
        let blobs = Blobs::memory();
        let mut bad = stored(&blobs, "t.png", b"real").await;
        let cache = AssetCache::default();
        // Stored under a hash its bytes do not have.
        let fake = sha256_hex(b"other");
        blobs
            .put(&keys::asset(&fake), b"real".to_vec())
            .await
            .unwrap();
        bad.sha256 = fake;
        let e = cache.fetch(&blobs, &bad, 100).await.unwrap_err();
        assert!(
            matches!(e, AssetError::Transient(ref m) if m.contains("wrong hash")),
            "{e}"
        );
        assert!(cache.contents().0.is_empty());
        let missing = AssetFile {
            name: "gone.png".into(),
            sha256: sha256_hex(b"gone"),
            size: 4,
        };
        let e = cache.fetch(&blobs, &missing, 100).await.unwrap_err();
        assert!(e.to_string().starts_with("referenced file gone.png"), "{e}");
    }
}
