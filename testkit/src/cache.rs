//! Files a test run makes once and every later test, and every other test binary, reuses: the
//! embedded reference renders. Kept under target/testkit-cache, named by a SHA-256 of
//! everything the content depends on (the caller passes the scene's bytes, the settings and
//! the binary's identity), so a change to any of them makes a new file instead of reusing a
//! stale one. Written to a temporary name and renamed, so a concurrent binary sees a whole file
//! or none.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Where cached files live: target/testkit-cache.
pub fn dir() -> PathBuf {
    crate::paths::target_dir()
        .parent()
        .expect("the target folder")
        .join("testkit-cache")
}

/// A key part for a file: its bytes (a scene). Panics if it cannot be read.
pub fn file_part(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A key part for a binary: its size and modification time (a rebuilt binary is a new key)
/// rather than its bytes, which would be a hundred megabytes to hash per test.
pub fn binary_part(path: &Path) -> Vec<u8> {
    let m = std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let modified = m
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    format!("{}:{}:{modified}", path.display(), m.len()).into_bytes()
}

/// The cached file for `key` (named `<prefix>-<hash>.<ext>`), made by `make(path)` if it is
/// not there yet. `make` writes the file at the path it is given, or panics.
pub fn file(prefix: &str, ext: &str, key: &[&[u8]], make: impl FnOnce(&Path)) -> PathBuf {
    let mut h = Sha256::new();
    for part in key {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part);
    }
    let hex: String = h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let dir = dir();
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let path = dir.join(format!("{prefix}-{hex}.{ext}"));
    if path.is_file() {
        return path;
    }
    let tmp = dir.join(format!("{prefix}-{hex}.{}.tmp.{ext}", std::process::id()));
    make(&tmp);
    assert!(tmp.is_file(), "making {} wrote nothing", path.display());
    std::fs::rename(&tmp, &path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_made_once_per_key_and_a_new_key_makes_a_new_one() {
        let nonce = format!("{}-{:?}", std::process::id(), std::time::Instant::now());
        let mut made = 0;
        let a = file("selftest", "txt", &[nonce.as_bytes(), b"a"], |p| {
            made += 1;
            std::fs::write(p, "a").unwrap()
        });
        let again = file("selftest", "txt", &[nonce.as_bytes(), b"a"], |_| {
            panic!("made twice")
        });
        let b = file("selftest", "txt", &[nonce.as_bytes(), b"b"], |p| {
            made += 1;
            std::fs::write(p, "b").unwrap()
        });
        assert_eq!((a.clone(), made), (again, 2));
        assert_ne!(a, b);
        assert_eq!(std::fs::read_to_string(&b).unwrap(), "b");
        std::fs::remove_file(a).unwrap();
        std::fs::remove_file(b).unwrap();
    }
}
