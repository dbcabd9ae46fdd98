//! A scene file: RDLA run in the Lua sandbox, or RDLB (chosen by content, as the loader does),
//! then built into a renderable scene. Every input must end in `Ok` or an `Err`: never a panic,
//! an abort, a hang or unbounded memory.
#![no_main]

use libfuzzer_sys::fuzz_target;
use render::rdla::SceneSource;

fuzz_target!(|data: &[u8]| {
    let sources = [SceneSource {
        name: "fuzz.rdla".to_string(),
        text: data.to_vec(),
    }];
    // Tighter than the defaults so an endless loop or a heap bomb ends in milliseconds; the
    // limits' own behaviour is what is under test.
    let inputs = render::FrameInputs {
        limits: render::LuaLimits {
            instructions: 1_000_000,
            memory_bytes: 64 << 20,
        },
        ..Default::default()
    };
    if let Ok(graph) = render::load_frame(&sources, &inputs) {
        let _ = render::scene::build(&graph, &Default::default());
    }
});
