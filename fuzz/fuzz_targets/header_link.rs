//! A `Link` header value: the `rel="next"` target, resolved as the client does.
#![no_main]

use hfharvest::http::parse_next_link;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(target) = parse_next_link(value) {
        let base = url::Url::parse("https://huggingface.co/api/models?limit=2").unwrap();
        let _ = base.join(&target);
    }
});
