//! Blob storage for scenes, partial buffers, snapshots and final images.
//!
//! The storage interface is `object_store`'s `ObjectStore` trait: one interface for Azure Blob
//! Storage, the local disk (the embedded mode) and memory. [`Blobs`] adds the few operations
//! Moonfarm needs, with errors that say which key and which store failed.
//!
//! Azure (`az://container[/prefix]`) takes its account from AZURE_STORAGE_ACCOUNT_NAME and its
//! credential from the way MOONFARM_AZURE_AUTH names (`azure` module: the Azure CLI login, a
//! service principal, workload identity, a managed identity, an account key or a SAS), or
//! AZURE_STORAGE_USE_EMULATOR=true for Azurite at http://127.0.0.1:10000 (AZURITE_BLOB_STORAGE_URL
//! overrides the address) with its well-known account. Missing variables are reported when the
//! store is opened; nothing is checked against the service until the first request: a missing
//! container or a missing role shows up as an error naming the store and the way.

use bytes::Bytes;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use std::sync::Arc;

pub mod azure;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob `{key}` not found in {store}")]
    NotFound { key: String, store: String },
    /// With what to do about it when the error says (a certificate not trusted: `crate::tls`).
    #[error("blob `{key}` in {store}: {source}{}", tls_hint(.source))]
    Store {
        key: String,
        store: String,
        #[source]
        source: object_store::Error,
    },
    #[error("blob store URL `{url}`: {reason}")]
    Url { url: String, reason: String },
}

/// The hint for a store error caused by a certificate no trusted CA signed (`crate::tls`),
/// found in the whole chain of sources: the TLS failure is a few levels down (reqwest,
/// rustls).
fn tls_hint(source: &object_store::Error) -> String {
    let mut chain = source.to_string();
    let mut next = std::error::Error::source(source);
    while let Some(e) = next {
        chain.push_str(&format!(": {e} {e:?}"));
        next = e.source();
    }
    crate::tls::hint(&chain)
}

/// A handle on one blob store; cheap to clone and shared by every task of a process.
#[derive(Clone, Debug)]
pub struct Blobs {
    store: Arc<dyn ObjectStore>,
    /// Shown in errors: the URL the store was opened from.
    describe: String,
}

impl Blobs {
    /// A store kept in a local folder (created if missing): the embedded mode's store.
    pub fn local(dir: &std::path::Path) -> Result<Blobs, BlobError> {
        let url_err = |reason: String| BlobError::Url {
            url: dir.display().to_string(),
            reason,
        };
        std::fs::create_dir_all(dir).map_err(|e| url_err(e.to_string()))?;
        let store = LocalFileSystem::new_with_prefix(dir).map_err(|e| url_err(e.to_string()))?;
        Ok(Blobs {
            store: Arc::new(store),
            describe: format!("file://{}", dir.display()),
        })
    }

    /// A store that lives in memory, for tests of the code around it.
    pub fn memory() -> Blobs {
        Blobs {
            store: Arc::new(InMemory::new()),
            describe: "memory://".into(),
        }
    }

    /// Opens a store from a URL: `az://container[/prefix]`, `file:///path` or `memory://`.
    pub fn from_url(url: &str) -> Result<Blobs, BlobError> {
        if let Some(rest) = url.strip_prefix("az://") {
            return Blobs::azure(url, rest);
        }
        if let Some(path) = url.strip_prefix("file://") {
            return Blobs::local(std::path::Path::new(path));
        }
        if url == "memory://" {
            return Ok(Blobs::memory());
        }
        Err(BlobError::Url {
            url: url.into(),
            reason: "unsupported scheme: use az://container[/prefix], file:///absolute/path or \
                     memory://"
                .into(),
        })
    }

    /// An Azure Blob Storage container, optionally under a key prefix, with the credential
    /// this process's environment chooses (see the module comment).
    fn azure(url: &str, rest: &str) -> Result<Blobs, BlobError> {
        if rest.split('/').next().is_none_or(str::is_empty) {
            return Err(BlobError::Url {
                url: url.into(),
                reason: "no container: use az://container[/prefix]".into(),
            });
        }
        let options = azure::AzureOptions::from_env().map_err(|reason| BlobError::Url {
            url: url.into(),
            reason,
        })?;
        Blobs::azure_with(url, rest, options)
    }

    fn azure_with(url: &str, rest: &str, options: azure::AzureOptions) -> Result<Blobs, BlobError> {
        let url_err = |reason: String| BlobError::Url {
            url: url.into(),
            reason,
        };
        let (container, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let prefix = prefix.trim_matches('/');
        if container.is_empty() {
            return Err(url_err("no container: use az://container[/prefix]".into()));
        }
        // reqwest is built without a TLS provider of its own (no aws-lc): make ring rustls's
        // process default. An error means one is installed already, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let describe = match &options.account {
            Some(account) => format!("{url} (account {account}, auth {})", options.auth),
            None => format!("{url} (auth {})", options.auth),
        };
        // The system's roots, plus the extra CA's (`crate::tls`): every certificate verified.
        // The client options first: the configuration's own client keys go on top of them.
        let mut client = object_store::ClientOptions::new();
        if let Some(pem) = crate::tls::extra_ca_pem().map_err(url_err)? {
            let certs = object_store::Certificate::from_pem_bundle(pem.as_bytes())
                .map_err(|e| url_err(format!("{}: {e}", crate::tls::CA_FILE_VAR)))?;
            for cert in certs {
                client = client.with_root_certificate(cert);
            }
        }
        let builder = options.options.into_iter().fold(
            MicrosoftAzureBuilder::new().with_client_options(client),
            |b, (key, value)| b.with_config(key, value),
        );
        let store = builder
            .with_container_name(container)
            .build()
            .map_err(|e| url_err(format!("{e} (auth {})", options.auth)))?;
        let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
            Arc::new(store)
        } else {
            Arc::new(PrefixStore::new(store, prefix))
        };
        Ok(Blobs { store, describe })
    }

    pub fn describe(&self) -> &str {
        &self.describe
    }

    fn err(&self, key: &str, source: object_store::Error) -> BlobError {
        match source {
            object_store::Error::NotFound { .. } => BlobError::NotFound {
                key: key.into(),
                store: self.describe.clone(),
            },
            source => BlobError::Store {
                key: key.into(),
                store: self.describe.clone(),
                source,
            },
        }
    }

    /// Stores `bytes` under `key`, replacing what was there. A reader sees the old or the new
    /// blob, never a mixture: Azure commits a blob whole and the local store renames a
    /// finished temporary file into place.
    pub async fn put(&self, key: &str, bytes: impl Into<Bytes>) -> Result<(), BlobError> {
        match self
            .store
            .put(&Path::from(key), PutPayload::from(bytes.into()))
            .await
        {
            Ok(_) => Ok(()),
            // A put cannot miss its blob: "not found" here is the container (Azure answers
            // 404 ContainerNotFound), a configuration error that must not read as a missing key.
            Err(source @ object_store::Error::NotFound { .. }) => Err(BlobError::Store {
                key: key.into(),
                store: self.describe.clone(),
                source,
            }),
            Err(e) => Err(self.err(key, e)),
        }
    }

    pub async fn get(&self, key: &str) -> Result<Bytes, BlobError> {
        let result = self
            .store
            .get(&Path::from(key))
            .await
            .map_err(|e| self.err(key, e))?;
        result.bytes().await.map_err(|e| self.err(key, e))
    }

    /// `Ok(None)` when the blob does not exist.
    pub async fn get_opt(&self, key: &str) -> Result<Option<Bytes>, BlobError> {
        match self.get(key).await {
            Ok(b) => Ok(Some(b)),
            Err(BlobError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn exists(&self, key: &str) -> Result<bool, BlobError> {
        match self.store.head(&Path::from(key)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(self.err(key, e)),
        }
    }

    /// When a blob was last written, or None when it is missing.
    pub async fn modified(&self, key: &str) -> Result<Option<std::time::SystemTime>, BlobError> {
        match self.store.head(&Path::from(key)).await {
            Ok(meta) => Ok(Some(meta.last_modified.into())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.err(key, e)),
        }
    }

    /// The names directly under a folder (`jobs` -> the job ids), sorted.
    pub async fn list_folders(&self, folder: &str) -> Result<Vec<String>, BlobError> {
        let prefix = Path::from(folder);
        let listed = self
            .store
            .list_with_delimiter(Some(&prefix))
            .await
            .map_err(|e| self.err(folder, e))?;
        let mut names: Vec<String> = listed
            .common_prefixes
            .iter()
            .filter_map(|p| p.filename().map(str::to_string))
            .collect();
        names.sort();
        Ok(names)
    }

    /// The keys of every blob under a folder (`jobs/J/logs/f1`), sorted: one listing, paged by
    /// the store, for folders of small records.
    pub async fn list_keys(&self, folder: &str) -> Result<Vec<String>, BlobError> {
        use futures::TryStreamExt;
        let prefix = Path::from(folder);
        let mut keys: Vec<String> = self
            .store
            .list(Some(&prefix))
            .map_ok(|m| m.location.to_string())
            .try_collect()
            .await
            .map_err(|e| self.err(folder, e))?;
        keys.sort();
        Ok(keys)
    }

    /// Deletes every blob under a folder (`jobs/J/partials`): how many were deleted. Blobs
    /// another process deletes meanwhile are not an error. One request a blob, several at a
    /// time: Azure's batch delete would be fewer requests, but Azurite does not take it.
    pub async fn delete_folder(&self, folder: &str) -> Result<u64, BlobError> {
        use futures::{StreamExt, TryStreamExt};
        let prefix = Path::from(folder);
        let keys: Vec<Path> = self
            .store
            .list(Some(&prefix))
            .map_ok(|m| m.location)
            .try_collect()
            .await
            .map_err(|e| self.err(folder, e))?;
        let deleted = futures::stream::iter(keys)
            .map(|key| async move {
                match self.store.delete(&key).await {
                    Ok(()) => Ok(1),
                    Err(object_store::Error::NotFound { .. }) => Ok(0),
                    Err(e) => Err(self.err(key.as_ref(), e)),
                }
            })
            .buffer_unordered(16)
            .try_fold(0u64, |n, d| async move { Ok(n + d) })
            .await?;
        Ok(deleted)
    }

    /// Deletes a blob; deleting a missing blob is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), BlobError> {
        match self.store.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.err(key, e)),
        }
    }
}

/// Hex SHA-256 of some bytes: the content address of a scene file.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_store_round_trips_and_reports_missing_keys() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::local(dir.path()).unwrap();
        blobs.put("jobs/a/b.bin", vec![1, 2, 3]).await.unwrap();
        assert_eq!(&blobs.get("jobs/a/b.bin").await.unwrap()[..], &[1, 2, 3]);
        assert!(dir.path().join("jobs/a/b.bin").is_file());
        assert!(blobs.exists("jobs/a/b.bin").await.unwrap());
        blobs.put("jobs/a/b.bin", vec![4]).await.unwrap();
        assert_eq!(&blobs.get("jobs/a/b.bin").await.unwrap()[..], &[4]);
        let missing = blobs.get("nope").await.unwrap_err();
        assert!(matches!(missing, BlobError::NotFound { .. }), "{missing}");
        assert!(blobs.get_opt("nope").await.unwrap().is_none());
        blobs.put("jobs/c/d.bin", vec![1]).await.unwrap();
        assert_eq!(
            blobs.list_folders("jobs").await.unwrap(),
            vec!["a".to_string(), "c".to_string()]
        );
        blobs.delete("jobs/a/b.bin").await.unwrap();
        blobs.delete("jobs/a/b.bin").await.unwrap();
        assert!(!blobs.exists("jobs/a/b.bin").await.unwrap());
    }

    #[tokio::test]
    async fn delete_folder_deletes_that_folder_only() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::local(dir.path()).unwrap();
        for k in [
            "jobs/a/partials/f1/t0.exr",
            "jobs/a/partials/f1/t1.exr",
            "jobs/a/final.exr",
            "jobs/ab/partials/t0.exr",
        ] {
            blobs.put(k, vec![1]).await.unwrap();
        }
        assert_eq!(blobs.delete_folder("jobs/a/partials").await.unwrap(), 2);
        assert!(!blobs.exists("jobs/a/partials/f1/t0.exr").await.unwrap());
        assert!(blobs.exists("jobs/a/final.exr").await.unwrap());
        assert!(blobs.exists("jobs/ab/partials/t0.exr").await.unwrap());
        assert_eq!(blobs.delete_folder("jobs/a/partials").await.unwrap(), 0);
    }

    #[test]
    fn azure_urls_need_a_container_and_say_what_to_set() {
        let err = Blobs::from_url("az://").unwrap_err().to_string();
        assert!(
            err.contains("az://") && err.contains("no container"),
            "{err}"
        );
        let err = Blobs::from_url("s3://bucket").unwrap_err().to_string();
        assert!(err.contains("az://container"), "{err}");
    }

    /// Every way's options are ones `object_store` builds a client from (no request is made).
    #[test]
    fn every_azure_way_builds_a_store() {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("token");
        std::fs::write(&token, "jwt").unwrap();
        std::fs::write(dir.path().join("az"), "").unwrap();
        let env = |extra: &[(&str, &str)]| {
            let mut v = vec![
                ("AZURE_STORAGE_ACCOUNT_NAME".to_string(), "acct".to_string()),
                ("PATH".to_string(), dir.path().display().to_string()),
            ];
            v.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
            v
        };
        let token = token.to_str().unwrap();
        let ways: [&[(&str, &str)]; 7] = [
            &[("MOONFARM_AZURE_AUTH", "cli")],
            &[
                ("AZURE_CLIENT_ID", "c"),
                ("AZURE_CLIENT_SECRET", "s"),
                ("AZURE_TENANT_ID", "t"),
            ],
            &[
                ("AZURE_CLIENT_ID", "c"),
                ("AZURE_TENANT_ID", "t"),
                ("AZURE_FEDERATED_TOKEN_FILE", token),
            ],
            &[("MOONFARM_AZURE_AUTH", "managed-identity")],
            &[("AZURE_STORAGE_ACCOUNT_KEY", "a2V5")],
            &[("AZURE_STORAGE_SAS_TOKEN", "sv=2022-11-02&sig=abc")],
            &[("AZURE_STORAGE_USE_EMULATOR", "true")],
        ];
        for (way, extra) in azure::AzureAuth::ALL.into_iter().zip(ways) {
            let options = azure::AzureOptions::from_vars(env(extra)).unwrap();
            assert_eq!(options.auth, way);
            let blobs = Blobs::azure_with("az://renders/p", "renders/p", options)
                .unwrap_or_else(|e| panic!("{way}: {e}"));
            assert!(
                blobs
                    .describe()
                    .starts_with("az://renders/p (account acct, auth ")
                    && blobs.describe().ends_with(&format!("auth {way})")),
                "{}",
                blobs.describe()
            );
        }
    }

    #[test]
    fn azure_without_a_credential_says_what_to_set() {
        let options = azure::AzureOptions::from_vars([(
            "AZURE_STORAGE_ACCOUNT_NAME".to_string(),
            "acct".to_string(),
        )]);
        let err = options.unwrap_err();
        assert!(err.contains("MOONFARM_AZURE_AUTH"), "{err}");
    }

    #[test]
    fn sha256_matches_a_known_digest() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
