//! Fuzz target `app_ntp`: see `vagt_sensor_fuzz::harness::app_ntp` for the input layout.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| vagt_sensor_fuzz::harness::app_ntp(data));
