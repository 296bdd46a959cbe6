//! A Hub `/api/models` list page's body: the page, then each item, then `models.csv`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hfharvest_fuzz::targets::hub_list_page(data));
