//! `models.csv` read back, then joined.
#![no_main]

use hfharvest::hub::read_models_csv;
use hfharvest::run::Stage;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(read) = read_models_csv(data, "models.csv", Stage::Prepare) {
        hfharvest_fuzz::join(&read.rows, &[]);
    }
});
