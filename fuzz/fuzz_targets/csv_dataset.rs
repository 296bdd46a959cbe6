//! `dataset.csv` read back, then rendered as the report.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hfharvest_fuzz::targets::csv_dataset(data));
