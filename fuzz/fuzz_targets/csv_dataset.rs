//! `dataset.csv` read back, then rendered as the report.
#![no_main]

use hfharvest::prepare::read_dataset_csv;
use hfharvest::run::Stage;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(read) = read_dataset_csv(data, "dataset.csv", Stage::Report) {
        hfharvest_fuzz::report(&read.rows, None);
    }
});
