//! One Hub model object (a list item or `/api/models/{id}`): its id check and its row.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hfharvest_fuzz::targets::hub_model_record(data));
