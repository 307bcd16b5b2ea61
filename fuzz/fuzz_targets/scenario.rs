//! Fuzzes the scenario, network and sweep parsers: any bytes must give a value or an error, never a panic, a hang or unbounded memory.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("fuzz.toml");
    // A scenario (its `extends`, if any, resolves relative to the working folder).
    if let Ok(sc) = motcua::scenario::domain::parse(path, text) {
        // Compiling it exercises the limits that protect memory.
        let _ = motcua::model::prepare::prepare(&sc, motcua::engine::Discipline::Fifo);
    }
    let _ = motcua::scenario::network::parse(path, text);
});
