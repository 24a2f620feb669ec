//! Fuzz target `dce_rpc`: see `vagt_sensor_fuzz::harness::dce_rpc` for the input layout.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| vagt_sensor_fuzz::harness::dce_rpc(data));
