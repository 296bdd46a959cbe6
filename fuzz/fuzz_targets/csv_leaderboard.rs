//! `leaderboard.csv` read back, then joined with a models list that names its models.
#![no_main]

use hfharvest::hub::ModelRecord;
use hfharvest::prepare::read_leaderboard_csv;
use hfharvest::run::Stage;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(read) = read_leaderboard_csv(data, "leaderboard.csv", Stage::Prepare) else {
        return;
    };
    let models: Vec<ModelRecord> = read
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| ModelRecord {
            rank: i as u64 + 1,
            model_id: r.model_id.clone(),
            base_models: r.base_model.clone(),
            ..ModelRecord::default()
        })
        .collect();
    hfharvest_fuzz::join(&models, &read.rows);
});
