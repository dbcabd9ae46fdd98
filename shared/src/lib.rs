//! What producer, worker and merger share: the wire protocol, the queue and blob adapters, and
//! the film and EXR code that partial buffers and images go through.

pub mod accounting;
pub mod amqp;
pub mod blob;
pub mod cli;
pub mod config;
pub mod exr_io;
pub mod film;
pub mod health;
pub mod lifecycle;
pub mod limits;
pub mod plan;
pub mod process;
pub mod protocol;
pub mod queue;
pub mod secrets;
pub mod service;
pub mod shard;
