//! A `Link` header value: the `rel="next"` target, resolved as the client does.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hfharvest_fuzz::targets::header_link(data));
