//! A Hub `/api/models` list page's body: the page, then each item, then `models.csv`.
#![no_main]

use hfharvest::hub::{parse_list_page, ModelRecord};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(items) = parse_list_page(data) else {
        return;
    };
    let mut records = Vec::new();
    for item in &items {
        if let Ok(record) = ModelRecord::from_hub(records.len() as u64 + 1, item) {
            records.push(record);
        }
    }
    hfharvest_fuzz::models_round_trip(&records);
});
