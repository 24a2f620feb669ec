//! Fuzz target `x509`: see `vagt_sensor_fuzz::harness::x509` for the input layout.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| vagt_sensor_fuzz::harness::x509(data));
