//! A config file through the real loader (TOML → layers → Settings → validate); the
//! settings it accepts must give durations and products without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hfharvest_fuzz::targets::config_toml(data));
