//! `Blobs` on Azure Blob Storage, against Azurite.

use crate::{require_service, unique};
use futures::StreamExt;
use shared::blob::{BlobError, Blobs};

/// Azurite through `az://`, exactly as the farm opens Azure (the environment decides).
fn azurite(prefix: &str) -> Blobs {
    require_service(10000, "Azurite");
    // Set once, before any store reads it; every test here wants the same value. Reading the
    // environment while another thread writes it is what `Once` keeps us from.
    static EMULATOR: std::sync::Once = std::sync::Once::new();
    EMULATOR.call_once(|| {
        if std::env::var_os("AZURE_STORAGE_USE_EMULATOR").is_none() {
            std::env::set_var("AZURE_STORAGE_USE_EMULATOR", "true");
        }
    });
    Blobs::from_url(&format!("az://renders/{prefix}")).expect("open az://renders")
}

#[tokio::test]
async fn put_get_exists_delete_and_not_found() {
    let blobs = azurite(&unique("it"));
    let key = "jobs/j1/partials/tile-0-0.bin";
    blobs.put(key, vec![1, 2, 3]).await.unwrap();
    assert_eq!(&blobs.get(key).await.unwrap()[..], &[1, 2, 3]);
    assert!(blobs.exists(key).await.unwrap());
    blobs.put(key, vec![4]).await.unwrap();
    assert_eq!(&blobs.get(key).await.unwrap()[..], &[4]);
    let missing = blobs.get("jobs/j1/nope").await.unwrap_err();
    assert!(matches!(missing, BlobError::NotFound { .. }), "{missing}");
    assert!(missing.to_string().contains("az://renders/"), "{missing}");
    assert!(blobs.get_opt("jobs/j1/nope").await.unwrap().is_none());
    blobs.delete(key).await.unwrap();
    blobs.delete(key).await.unwrap();
    assert!(!blobs.exists(key).await.unwrap());
}

#[tokio::test]
async fn prefixes_keep_stores_apart() {
    let (a, b) = (azurite(&unique("it-a")), azurite(&unique("it-b")));
    a.put("k", b"a".to_vec()).await.unwrap();
    assert!(!b.exists("k").await.unwrap());
    a.delete("k").await.unwrap();
}

#[tokio::test]
async fn a_missing_container_is_an_error_naming_the_store() {
    require_service(10000, "Azurite");
    let _ = azurite("warm-up");
    let blobs = Blobs::from_url(&format!("az://{}", unique("nocontainer"))).unwrap();
    let err = blobs.put("k", vec![1]).await.unwrap_err();
    assert!(matches!(err, BlobError::Store { .. }), "{err}");
    assert!(err.to_string().contains("az://nocontainer-"), "{err}");
    assert!(err.to_string().contains("ContainerNotFound"), "{err}");
}

#[tokio::test]
async fn delete_folder_deletes_that_folder_only_several_at_once() {
    let blobs = azurite(&unique("it-folder"));
    let keys: Vec<String> = (0..40)
        .map(|i| format!("jobs/j1/partials/f1/t{i:05}-p000.exr"))
        .collect();
    let puts = futures::stream::iter(&keys)
        .map(|k| blobs.put(k, vec![1]))
        .buffer_unordered(16);
    puts.collect::<Vec<_>>()
        .await
        .into_iter()
        .for_each(|r| r.unwrap());
    blobs.put("jobs/j1/final.exr", vec![2]).await.unwrap();
    blobs
        .put("jobs/j10/partials/t0.exr", vec![3])
        .await
        .unwrap();
    assert_eq!(blobs.delete_folder("jobs/j1/partials").await.unwrap(), 40);
    assert!(!blobs.exists(&keys[0]).await.unwrap());
    assert!(!blobs.exists(&keys[39]).await.unwrap());
    assert!(blobs.exists("jobs/j1/final.exr").await.unwrap());
    assert!(blobs.exists("jobs/j10/partials/t0.exr").await.unwrap());
    assert_eq!(blobs.delete_folder("jobs/j1/partials").await.unwrap(), 0);
}
