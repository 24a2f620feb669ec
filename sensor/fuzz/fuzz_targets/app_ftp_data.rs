//! Fuzz target `app_ftp_data`: see `vagt_sensor_fuzz::harness::app_ftp_data`
//! and `vagt_sensor::applayer::drive` for the input layout.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| vagt_sensor_fuzz::harness::app_ftp_data(data));
