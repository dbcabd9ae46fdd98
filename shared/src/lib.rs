//! What producer, worker and merger share: the wire protocol, the queue and blob adapters, and
//! the film and EXR code that partial buffers and images go through.

pub mod accounting;
pub mod adaptive;
pub mod amqp;
pub mod blob;
pub mod cli;
pub mod config;
pub mod exr_io;
pub mod film;
pub mod health;
pub mod lifecycle;
pub mod limits;
pub mod names;
pub mod parking;
pub mod plan;
pub mod priority;
pub mod process;
pub mod protocol;
pub mod queue;
pub mod secrets;
pub mod service;
pub mod shard;
pub mod tls;

/// Checks (or, with `MOONFARM_WRITE_FUZZ_SEEDS` set, rewrites) the committed seed corpus
/// `fuzz/seeds/<target>`: each named seed's file must decode to what these bytes decode to
/// (`same`), so the fuzzers start from what this version really writes.
#[cfg(test)]
pub(crate) fn check_fuzz_seeds(
    target: &str,
    seeds: &[(&str, Vec<u8>)],
    same: impl Fn(&[u8], &[u8]) -> bool,
) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/seeds")
        .join(target);
    let write = std::env::var_os("MOONFARM_WRITE_FUZZ_SEEDS").is_some();
    for (name, bytes) in seeds {
        let path = dir.join(name);
        if write {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, bytes).unwrap();
        }
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            same(&committed, bytes),
            "{} is not what this version writes: rewrite the seeds with \
             `MOONFARM_WRITE_FUZZ_SEEDS=1 cargo test -p shared --lib fuzz_seeds`",
            path.display()
        );
    }
}
