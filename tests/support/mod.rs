//! Support shared by the integration tests: random, well-shaped
//! expressions ([`gen`]) and numeric problems written as text ([`numeric`]). Each test binary includes it with `mod support;`
//! and uses only part of it, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod gen;
pub mod numeric;
pub mod parse_back;
pub mod shape_oracle;
