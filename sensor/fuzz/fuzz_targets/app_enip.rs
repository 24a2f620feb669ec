//! Fuzz target `app_enip`: see `vagt_sensor_fuzz::harness::app_enip` for the input layout.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| vagt_sensor_fuzz::harness::app_enip(data));
