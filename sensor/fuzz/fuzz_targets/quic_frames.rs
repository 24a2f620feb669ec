//! Fuzz target `quic_frames`: see `vagt_sensor_fuzz::harness::quic_frames` for the input layout.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| vagt_sensor_fuzz::harness::quic_frames(data));
