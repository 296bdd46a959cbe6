//! A `Retry-After` value, and the wait the client makes of it (capped as
//! `http.max_server_wait_secs` caps it, from a clock anywhere in its range).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hfharvest_fuzz::targets::header_retry_after(data));
