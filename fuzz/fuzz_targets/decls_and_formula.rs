//! Fuzz target `decls_and_formula`; the properties are in `fuzz/src/lib.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| matcalc_fuzz::decls_and_formula(data));
