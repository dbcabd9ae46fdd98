//! A partial sample buffer (an EXR a worker uploaded), as the merger decodes it, and the same
//! bytes as an image `producer convert` or a texture read would open.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = shared::exr_io::decode(data);
    let _ = shared::exr_io::decode_image(data);
});
