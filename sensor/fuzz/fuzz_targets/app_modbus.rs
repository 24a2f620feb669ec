//! Fuzz target `app_modbus`: see `vagt_sensor_fuzz::harness::app_modbus` for the input layout.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| vagt_sensor_fuzz::harness::app_modbus(data));
