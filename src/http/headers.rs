//! The response headers the client obeys: `Retry-After`, the Hub's `RateLimit`, and
//! the `Link` header of paginated lists.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use url::Url;

/// The delay a throttled response asks for: `Retry-After` (seconds or HTTP date), or the
/// reset time of a spent `RateLimit` window, whichever is longer.
pub fn server_delay(headers: &HeaderMap) -> Option<Duration> {
    let retry_after = headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after);
    let window = rate_limit(headers)
        .filter(|r| r.remaining == 0)
        .map(|r| r.reset);
    match (retry_after, window) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let secs = (when.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_milliseconds();
    Some(Duration::from_millis(secs.max(0) as u64))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub remaining: u64,
    pub reset: Duration,
}

/// Parse the IETF draft header the Hub sends: `RateLimit: "api";r=0;t=55`.
pub fn rate_limit(headers: &HeaderMap) -> Option<RateLimit> {
    let value = headers.get("ratelimit")?.to_str().ok()?;
    let mut remaining = None;
    let mut reset = None;
    for param in value.split(';') {
        match param.trim().split_once('=') {
            Some(("r", v)) => remaining = v.trim().parse().ok(),
            Some(("t", v)) => reset = v.trim().parse::<u64>().ok(),
            _ => {}
        }
    }
    Some(RateLimit {
        remaining: remaining?,
        reset: Duration::from_secs(reset?),
    })
}

/// The `rel="next"` target of a `Link` header, resolved against the current URL.
pub fn next_link(headers: &HeaderMap, current: &Url) -> Option<Url> {
    for value in headers.get_all(reqwest::header::LINK) {
        let Ok(value) = value.to_str() else { continue };
        for link in value.split(',') {
            let mut parts = link.split(';');
            let target = parts.next()?.trim();
            let is_next = parts.any(|p| {
                let p = p.trim().replace(' ', "");
                p == "rel=\"next\"" || p == "rel=next"
            });
            if is_next {
                let target = target.trim_start_matches('<').trim_end_matches('>');
                return current.join(target).ok();
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderValue, LINK};

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn reads_retry_after_and_ratelimit() {
        assert_eq!(
            server_delay(&headers(&[("retry-after", "1")])),
            Some(Duration::from_secs(1))
        );
        let rl = headers(&[("ratelimit", "\"api\";r=0;t=55")]);
        assert_eq!(
            rate_limit(&rl),
            Some(RateLimit {
                remaining: 0,
                reset: Duration::from_secs(55)
            })
        );
        assert_eq!(server_delay(&rl), Some(Duration::from_secs(55)));
        let plenty = headers(&[("ratelimit", "\"api\";r=499;t=55")]);
        assert_eq!(server_delay(&plenty), None);
        let both = headers(&[("retry-after", "3"), ("ratelimit", "\"api\";r=0;t=2")]);
        assert_eq!(server_delay(&both), Some(Duration::from_secs(3)));
        assert_eq!(server_delay(&headers(&[("retry-after", "soon")])), None);
        let date = (chrono::Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
        let d = server_delay(&headers(&[("retry-after", &date)])).unwrap();
        assert!(
            d > Duration::from_secs(25) && d <= Duration::from_secs(30),
            "{d:?}"
        );
    }

    #[test]
    fn parses_next_link() {
        let current = Url::parse("https://huggingface.co/api/models?limit=2").unwrap();
        let mut h = HeaderMap::new();
        h.insert(
            LINK,
            HeaderValue::from_static(
                "<https://huggingface.co/api/models?limit=2&cursor=abc>; rel=\"next\"",
            ),
        );
        assert_eq!(
            next_link(&h, &current).unwrap().as_str(),
            "https://huggingface.co/api/models?limit=2&cursor=abc"
        );
        let mut h = HeaderMap::new();
        h.insert(
            LINK,
            HeaderValue::from_static(
                "</api/models?cursor=x>; rel=\"prev\", </api/models?cursor=y>; rel=\"next\"",
            ),
        );
        assert_eq!(
            next_link(&h, &current).unwrap().as_str(),
            "https://huggingface.co/api/models?cursor=y"
        );
        assert_eq!(next_link(&HeaderMap::new(), &current), None);
    }
}
