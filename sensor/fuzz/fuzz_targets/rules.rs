//! Fuzz target `rules`: see `vagt_sensor_fuzz::harness::rules`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| vagt_sensor_fuzz::harness::rules(data));
