//! The response headers the client obeys: `Retry-After`, the Hub's `RateLimit`, and
//! the `Link` header of paginated lists. They come from outside, so no value of
//! theirs may panic or overflow: waits saturate at `Duration::MAX` here, and the
//! client caps them at `http.max_server_wait_secs`.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, LINK, RETRY_AFTER};
use url::Url;

/// The delay a throttled response asks for: `Retry-After` (seconds or HTTP date), or the
/// reset time of a spent `RateLimit` window, whichever is longer. Not capped.
pub fn server_delay(headers: &HeaderMap) -> Option<Duration> {
    let retry_after = headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, SystemTime::now()));
    let window = rate_limit(headers)
        .filter(|r| r.remaining == 0)
        .map(|r| r.reset);
    match (retry_after, window) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// A `Retry-After` value (RFC 9110 §10.2.3): a number of seconds, or an HTTP date
/// (read with `httpdate`), as a wait from `now`. A date in the past is no wait. A
/// number may have a fraction or an exponent (servers send `1.5`); a negative one,
/// `NaN` or anything else is no value. A wait too long for a `Duration` is
/// `Duration::MAX`, for the caller to cap.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(value.parse().map_or(Duration::MAX, Duration::from_secs));
    }
    if let Ok(secs) = value.parse::<f64>() {
        if secs.is_nan() || secs < 0.0 {
            return None;
        }
        return Some(Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub remaining: u64,
    pub reset: Duration,
}

/// The Hub's `RateLimit` header (the IETF draft's form): `"api";r=0;t=55`.
pub fn rate_limit(headers: &HeaderMap) -> Option<RateLimit> {
    parse_rate_limit(headers.get("ratelimit")?.to_str().ok()?)
}

/// Parse a `RateLimit` value. With several policies (`, `-separated), the spent one
/// (`r=0`) that resets last wins, else the first. `r` and `t` are whole numbers; one
/// too big for a u64 is taken as u64::MAX.
pub fn parse_rate_limit(value: &str) -> Option<RateLimit> {
    let number = |v: &str| -> Option<u64> {
        let v = v.trim();
        if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(v.parse().unwrap_or(u64::MAX))
    };
    let policies = value.split(',').filter_map(|item| {
        let mut remaining = None;
        let mut reset = None;
        for param in item.split(';') {
            match param.trim().split_once('=') {
                Some(("r", v)) => remaining = number(v),
                Some(("t", v)) => reset = number(v),
                _ => {}
            }
        }
        Some(RateLimit {
            remaining: remaining?,
            reset: Duration::from_secs(reset?),
        })
    });
    let mut first = None;
    let mut spent: Option<RateLimit> = None;
    for policy in policies {
        first.get_or_insert(policy);
        if policy.remaining == 0 && spent.is_none_or(|s| s.reset < policy.reset) {
            spent = Some(policy);
        }
    }
    spent.or(first)
}

/// The `rel="next"` target of a `Link` header, resolved against the current URL.
pub fn next_link(headers: &HeaderMap, current: &Url) -> Option<Url> {
    headers
        .get_all(LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(parse_next_link)
        .and_then(|target| current.join(&target).ok())
}

/// The target of the link whose `rel` has the `next` relation in a `Link` value
/// (RFC 8288), parsed with `nom-rfc8288`. A value that does not parse has no next link.
pub fn parse_next_link(value: &str) -> Option<String> {
    use nom_language::error::VerboseError;
    let links = nom_rfc8288::complete::link_lenient::<VerboseError<&str>>(value).ok()?;
    links.into_iter().flatten().find_map(|link| {
        let next = link.params.iter().any(|p| {
            p.key.eq_ignore_ascii_case("rel")
                && p.val.as_deref().is_some_and(|rels| {
                    rels.split_ascii_whitespace()
                        .any(|rel| rel.eq_ignore_ascii_case("next"))
                })
        });
        next.then(|| link.url.to_owned())
    })
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
        let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        let d = server_delay(&headers(&[("retry-after", &date)])).unwrap();
        assert!(
            d > Duration::from_secs(25) && d <= Duration::from_secs(30),
            "{d:?}"
        );
    }

    #[test]
    fn hostile_values_do_not_panic() {
        let h = |k: &'static str, v: &str| headers(&[(k, v)]);
        let _ = server_delay(&h("retry-after", "1e20"));
        let _ = server_delay(&h("retry-after", "-5"));
        let _ = server_delay(&h("retry-after", "Fri, 31 Dec 9999 23:59:59 GMT"));
        let _ = server_delay(&h("ratelimit", &format!("\"api\";r=0;t={}", u64::MAX)));
    }

    #[test]
    fn retry_after_saturates_or_is_ignored_never_panics() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let parse = |v: &str| parse_retry_after(v, now);
        assert_eq!(parse("1e20"), Some(Duration::MAX));
        assert_eq!(parse("inf"), Some(Duration::MAX));
        assert_eq!(parse("99999999999999999999999"), Some(Duration::MAX));
        assert_eq!(parse("1.5"), Some(Duration::from_millis(1500)));
        assert_eq!(parse(" 7 "), Some(Duration::from_secs(7)));
        for ignored in ["-5", "-0.5", "NaN", "-inf", "", "soon", "5s"] {
            assert_eq!(parse(ignored), None, "{ignored:?}");
        }
        let far = parse("Fri, 31 Dec 9999 23:59:59 GMT").unwrap();
        assert!(far > Duration::from_secs(7000 * 365 * 86_400), "{far:?}");
        assert_eq!(parse("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        // The two obsolete forms RFC 9110 says a recipient must read.
        assert!(parse("Sunday, 06-Nov-94 08:49:37 GMT").is_some());
        assert!(parse("Sun Nov  6 08:49:37 1994").is_some());
    }

    #[test]
    fn rate_limit_values_saturate() {
        let max = parse_rate_limit(&format!("\"api\";r=0;t={}", u64::MAX)).unwrap();
        assert_eq!(max.reset, Duration::from_secs(u64::MAX));
        let huge = parse_rate_limit("\"api\";r=0;t=184467440737095516150").unwrap();
        assert_eq!(huge.reset, Duration::from_secs(u64::MAX));
        assert_eq!(parse_rate_limit("\"api\";r=0;t=-5"), None);
        assert_eq!(parse_rate_limit("\"api\";r=x;t=5"), None);
        assert_eq!(parse_rate_limit("garbage"), None);
        let two = parse_rate_limit("\"a\";r=3;t=9, \"b\";r=0;t=20, \"c\";r=0;t=4").unwrap();
        assert_eq!((two.remaining, two.reset), (0, Duration::from_secs(20)));
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

    #[test]
    fn next_link_follows_rfc_8288() {
        // A comma inside a quoted parameter does not split links; rel is a list of
        // relation types, compared case-insensitively; an unquoted token is fine.
        assert_eq!(
            parse_next_link(
                r#"<https://x/a>; title="a, b"; rel="last", <https://x/b>; REL="prev NEXT""#
            ),
            Some("https://x/b".into())
        );
        assert_eq!(
            parse_next_link("<https://x/c>; rel=next"),
            Some("https://x/c".into())
        );
        assert_eq!(parse_next_link("<https://x/c>; rel=\"nextish\""), None);
        assert_eq!(parse_next_link("https://x/c; rel=next"), None);
        assert_eq!(parse_next_link(""), None);
        assert_eq!(parse_next_link("<https://x/c>; rel=\"next"), None);
    }
}
