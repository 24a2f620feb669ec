//! Fuzz target `tls_stream`: see `vagt_sensor_fuzz::harness::tls_stream` for the input layout.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| vagt_sensor_fuzz::harness::tls_stream(data));
