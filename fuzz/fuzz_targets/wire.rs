//! A message from either queue, as the worker and the merger decode it before anything else.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = shared::protocol::decode(data);
});
