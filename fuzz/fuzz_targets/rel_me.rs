//! Fuzz target: see `cameo_fuzz::check_rel_me` for what is checked beyond "no panic".

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| cameo_fuzz::check_rel_me(data));
