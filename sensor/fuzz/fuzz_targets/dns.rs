//! Fuzz target `dns`: see `vagt_sensor_fuzz::harness::dns` for the input layout.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| vagt_sensor_fuzz::harness::dns(data));
