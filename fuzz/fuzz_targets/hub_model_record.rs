//! One Hub model object (a list item or `/api/models/{id}`): its id check and its row.
#![no_main]

use hfharvest::hub::{hub_item_id, ModelRecord};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(item) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let id = hub_item_id(&item);
    match ModelRecord::from_hub(1, &item) {
        Ok(record) => {
            assert_eq!(
                id.map(String::from).as_deref(),
                Ok(record.model_id.as_str())
            );
            hfharvest_fuzz::models_round_trip(&[record]);
        }
        Err(fault) => {
            assert!(
                id.is_err(),
                "from_hub refused an item with a good id: {fault}"
            );
            let _ = (fault.check(), fault.id(), fault.to_string());
        }
    }
});
