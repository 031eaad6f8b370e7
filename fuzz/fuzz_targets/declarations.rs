//! Fuzz target `declarations`; the properties are in `fuzz/src/lib.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| matcalc_fuzz::declarations(data));
