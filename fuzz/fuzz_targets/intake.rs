//! Fuzz target: see `cameo_fuzz::check_intake` for what is checked beyond "no panic".
//!
//! Run with `-rss_limit_mb=512 -malloc_limit_mb=128` (see fuzz/README.md).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: {
        // libfuzzer-sys's hook aborts on any panic, even one that is caught. The intake
        // catches a decoder's panic and refuses the file (a known zune-jpeg bug), so this hook
        // only prints where a panic happened; one that escapes the intake still aborts, since
        // libfuzzer-sys aborts on an uncaught panic. No backtrace: symbolising one per caught
        // panic kept the binary's debug info in memory and ran into the RSS limit.
        std::panic::set_hook(Box::new(|info| eprintln!("{info}")));
    },
    |data: &[u8]| cameo_fuzz::check_intake(data)
);
