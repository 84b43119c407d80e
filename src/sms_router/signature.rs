//! Twilio webhook signatures (`X-Twilio-Signature`).
//!
//! Twilio signs every webhook with
//! `base64(HMAC-SHA1(auth_token, url || name1 || value1 || name2 || value2 ...))`
//! where the URL is the exact webhook URL Twilio called (query string
//! included, nothing decoded or re-encoded) and the POST parameters are
//! appended sorted by name, then by value for a repeated name.
//!
//! The rules here follow Twilio's own validators rather than the prose docs,
//! because that is what their back end is known to agree with:
//!
//! * `twilio-python` `twilio/request_validator.py`: names from
//!   `sorted(set(params))`, then each name's values `sorted(...)`; values of a
//!   repeated name are *not* de-duplicated.
//! * `twilio-node` `lib/webhooks/webhooks.ts`: `Object.keys(params).sort()`,
//!   an array value becomes `Array.from(new Set(values)).sort()`, i.e. values
//!   *are* de-duplicated. `twilio-php` does the same (its test
//!   `testValidateWithArrayAndDuplicates` signs `Digits=[5678,1234,1234]` to
//!   the same signature as python's `Digits=[5678,1234]`).
//!
//! [`compute_signature`] therefore sorts by `(name, value)` and drops exact
//! duplicate pairs (node/php); [`verify_signature`] additionally accepts the
//! python form (duplicates kept) when the request actually has a duplicate
//! pair, so a signature is accepted if any official library would accept it.
//! Sorting is by Unicode scalar value (Rust `str` order = python's order);
//! node sorts by UTF-16 code unit, which only differs for names/values mixing
//! astral characters with U+E000..U+FFFF, something Twilio never sends.
//!
//! Ports: all three libraries compute the signature for the URL "with port"
//! (the scheme's default port added when the URL has no port, unchanged
//! otherwise) and "without port" (any explicit port removed, default or
//! not) and accept either, because Twilio's back end is inconsistent about
//! which form it signs. We do the same; userinfo, path, query and fragment
//! are kept byte for byte.
//!
//! Not handled: the `bodySHA256` variant for JSON bodies. It needs a SHA-256
//! of the raw body, and SHA-256 is not among our dependencies. For such a
//! webhook, call [`verify_signature`] with no params (that checks the URL,
//! which carries the hash) and compare the body's SHA-256 separately.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use subtle::{Choice, ConstantTimeEq};

type HmacSha1 = Hmac<Sha1>;

/// base64(HMAC-SHA1(auth_token, url + concatenation of every POST parameter's name and value, sorted by name; for a repeated name, its values sorted too)).
///
/// Exact duplicate `(name, value)` pairs are counted once, as twilio-node
/// and twilio-php do.
pub fn compute_signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    sign(auth_token, url, &sorted_pairs(params), true)
}

/// Constant-time check (subtle). Accepts the URL as given and with/without the scheme's default port (https:443, http:80), exactly as Twilio's own validators do (they try both forms). Also handle the `bodySHA256` query-param JSON-body variant only if trivial; not required.
///
/// Precisely: the candidates are the URL as given, the URL with the
/// scheme's default port added (only when it has no port) and the URL with
/// its explicit port removed (only when it has one, whichever port that is,
/// as all of Twilio's validators do). An empty auth token or an empty
/// signature is always rejected, since either would make the check
/// meaningless.
pub fn verify_signature(
    auth_token: &str,
    url: &str,
    params: &[(String, String)],
    signature: &str,
) -> bool {
    if auth_token.is_empty() || signature.is_empty() {
        return false;
    }
    let pairs = sorted_pairs(params);
    let has_duplicate_pair = pairs.windows(2).any(|w| w[0] == w[1]);
    let dedup_forms: &[bool] = if has_duplicate_pair {
        &[true, false]
    } else {
        &[true]
    };

    // Every candidate is computed and compared, so the time taken does not
    // reveal which form (if any) matched.
    let mut matched = Choice::from(0);
    for candidate in url_candidates(url) {
        for &dedup in dedup_forms {
            let expected = sign(auth_token, &candidate, &pairs, dedup);
            matched |= expected.as_bytes().ct_eq(signature.as_bytes());
        }
    }
    bool::from(matched)
}

/// Pairs sorted by name then value, which is exactly "names sorted, then
/// each name's values sorted" that the libraries do in two steps.
fn sorted_pairs(params: &[(String, String)]) -> Vec<(&str, &str)> {
    let mut pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    pairs.sort_unstable();
    pairs
}

fn sign(auth_token: &str, url: &str, sorted: &[(&str, &str)], dedup: bool) -> String {
    // HMAC accepts keys of any length, so this cannot fail; an empty string
    // never equals a real signature, so it is a safe answer if it ever did.
    let Ok(mut mac) = HmacSha1::new_from_slice(auth_token.as_bytes()) else {
        return String::new();
    };
    mac.update(url.as_bytes());
    let mut previous: Option<(&str, &str)> = None;
    for &pair in sorted {
        if dedup && previous == Some(pair) {
            continue;
        }
        previous = Some(pair);
        mac.update(pair.0.as_bytes());
        mac.update(pair.1.as_bytes());
    }
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Byte offsets of the parts of `scheme://[userinfo@]host[:port]rest` that
/// the port handling needs. Hand-rolled instead of `url::Url` because the
/// signature covers the URL byte for byte, and a URL parser normalises
/// (percent-encoding, case, default ports) in ways Twilio does not.
struct UrlParts<'a> {
    scheme: &'a str,
    /// Offset where the host starts (after any userinfo).
    host_start: usize,
    /// Offset of the `:` introducing the port, if there is one.
    port_colon: Option<usize>,
    /// Offset where the authority ends (start of path, query or fragment).
    authority_end: usize,
}

fn parse_url(url: &str) -> Option<UrlParts<'_>> {
    let scheme_end = url.find("://")?;
    let scheme = &url[..scheme_end];
    let authority_start = scheme_end + 3;
    let authority_end = url[authority_start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| authority_start + i);
    let authority = &url[authority_start..authority_end];
    // Userinfo may itself contain ':' (user:password), so the host starts
    // after the last '@', and only a ':' after that can introduce a port.
    let host_start = authority_start + authority.rfind('@').map_or(0, |i| i + 1);
    let host_port = &url[host_start..authority_end];
    let colon_in_host_port = if host_port.starts_with('[') {
        // IPv6 literal: its colons are not port separators.
        let close = host_port.find(']')?;
        host_port[close + 1..].starts_with(':').then_some(close + 1)
    } else {
        host_port.rfind(':')
    };
    let port_colon = match colon_in_host_port {
        Some(i) => {
            let port = &host_port[i + 1..];
            if !port.bytes().all(|b| b.is_ascii_digit()) {
                // Not a port we understand: leave the URL alone entirely.
                return None;
            }
            Some(host_start + i)
        }
        None => None,
    };
    Some(UrlParts {
        scheme,
        host_start,
        port_colon,
        authority_end,
    })
}

/// The URL as given plus, where they differ, its "with default port" and
/// "without port" forms.
fn url_candidates(url: &str) -> Vec<String> {
    let mut candidates = vec![url.to_owned()];
    let Some(parts) = parse_url(url) else {
        return candidates;
    };
    match parts.port_colon {
        Some(colon) => {
            let mut without = String::with_capacity(url.len());
            without.push_str(&url[..colon]);
            without.push_str(&url[parts.authority_end..]);
            candidates.push(without);
        }
        None => {
            let default_port = if parts.scheme.eq_ignore_ascii_case("https") {
                Some(":443")
            } else if parts.scheme.eq_ignore_ascii_case("http") {
                Some(":80")
            } else {
                None
            };
            let has_host = parts.authority_end > parts.host_start;
            if let (Some(port), true) = (default_port, has_host) {
                let mut with = String::with_capacity(url.len() + port.len());
                with.push_str(&url[..parts.authority_end]);
                with.push_str(port);
                with.push_str(&url[parts.authority_end..]);
                candidates.push(with);
            }
        }
    }
    candidates
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    // Vectors from twilio-python `tests/unit/test_request_validator.py`
    // (token "12345"), repeated in twilio-php
    // `tests/Twilio/Unit/RequestValidatorTest.php`.
    const TOKEN: &str = "12345";
    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
    const EXPECTED: &str = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
    const DUPLICATE_EXPECTED: &str = "IK+Dwps556ElfBT0I3Rgjkr1wJU=";

    fn params() -> Vec<(String, String)> {
        // Deliberately not in sorted order: sorting is our job.
        p(&[
            ("From", "+14158675309"),
            ("CallSid", "CA1234567890ABCDE"),
            ("To", "+18005551212"),
            ("Digits", "1234"),
            ("Caller", "+14158675309"),
        ])
    }

    #[test]
    fn public_vector_computes_and_verifies() {
        assert_eq!(compute_signature(TOKEN, URL, &params()), EXPECTED);
        assert!(verify_signature(TOKEN, URL, &params(), EXPECTED));
    }

    #[test]
    fn duplicate_names_sort_by_value() {
        // twilio-python test_compute_signature_duplicate_multi_dict.
        let python = p(&[
            ("Sid", "CA123"),
            ("SidAccount", "AC123"),
            ("Digits", "5678"),
            ("Digits", "1234"),
        ]);
        assert_eq!(compute_signature(TOKEN, URL, &python), DUPLICATE_EXPECTED);
        assert!(verify_signature(TOKEN, URL, &python, DUPLICATE_EXPECTED));

        // twilio-php testValidateWithArrayAndDuplicates (and twilio-node's
        // `new Set(...)`): an exact duplicate pair is counted once.
        let php = p(&[
            ("Sid", "CA123"),
            ("SidAccount", "AC123"),
            ("Digits", "5678"),
            ("Digits", "1234"),
            ("Digits", "1234"),
        ]);
        assert_eq!(compute_signature(TOKEN, URL, &php), DUPLICATE_EXPECTED);
        assert!(verify_signature(TOKEN, URL, &php, DUPLICATE_EXPECTED));
    }

    #[test]
    fn duplicate_pair_also_accepted_in_python_form() {
        // twilio-python keeps duplicate values; a signature made that way
        // must verify too.
        let params = p(&[("Digits", "1234"), ("Digits", "1234"), ("Sid", "CA1")]);
        let mut mac = HmacSha1::new_from_slice(TOKEN.as_bytes()).unwrap();
        mac.update(format!("{URL}Digits1234Digits1234SidCA1").as_bytes());
        let python_form = STANDARD.encode(mac.finalize().into_bytes());
        assert_ne!(python_form, compute_signature(TOKEN, URL, &params));
        assert!(verify_signature(TOKEN, URL, &params, &python_form));
        // Without the duplicate in the request, the python form is wrong.
        let single = p(&[("Digits", "1234"), ("Sid", "CA1")]);
        assert!(!verify_signature(TOKEN, URL, &single, &python_form));
    }

    #[test]
    fn port_vectors_from_twilio_test_suites() {
        // twilio-python test_validation_removes_port_on_https /
        // twilio-php testValidateRemovesPortHttps: a non-default port is
        // removed too.
        let https_1234 = URL.replace(".com", ".com:1234");
        assert!(verify_signature(TOKEN, &https_1234, &params(), EXPECTED));

        // test_validation_removes_port_on_http: "hash of http uri with port 1234".
        let http_1234 = https_1234.replace("https", "http");
        assert!(verify_signature(
            TOKEN,
            &http_1234,
            &params(),
            "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="
        ));

        // test_validation_adds_port_on_https: "hash of uri with port 443".
        assert!(verify_signature(
            TOKEN,
            URL,
            &params(),
            "kvajT1Ptam85bY51eRf/AJRuM3w="
        ));
        assert_eq!(
            compute_signature(TOKEN, &URL.replace(".com", ".com:443"), &params()),
            "kvajT1Ptam85bY51eRf/AJRuM3w="
        );

        // test_validation_adds_port_on_http: "hash of uri with port 80".
        let http = URL.replace("https", "http");
        assert!(verify_signature(
            TOKEN,
            &http,
            &params(),
            "0ZXoZLH/DfblKGATFgpif+LLRf4="
        ));
        assert_eq!(
            compute_signature(TOKEN, &http.replace(".com", ".com:80"), &params()),
            "0ZXoZLH/DfblKGATFgpif+LLRf4="
        );
    }

    #[test]
    fn userinfo_vectors_from_twilio_php() {
        // twilio-php testBuildUrlCreds / testBuildUrlWithUser /
        // testBuildUrlCredsAddsPort: userinfo is signed as is, and the port
        // goes after the host, not after the password.
        let creds = "https://user:pass@mycompany.com/myapp.php?foo=1&bar=2";
        assert!(verify_signature(
            TOKEN,
            creds,
            &params(),
            "CukzLTc1tT5dXEDIHm/tKBanW10="
        ));
        assert!(verify_signature(
            TOKEN,
            creds,
            &params(),
            "ZQFR1PTIZXF2MXB8ZnKCvnnA+rI="
        ));
        assert!(verify_signature(
            TOKEN,
            "https://user@mycompany.com/myapp.php?foo=1&bar=2",
            &params(),
            "2YRLlVAflCqxaNicjMpJcSTgzSs="
        ));
        let with_port = "https://user:pass@mycompany.com:443/myapp.php?foo=1&bar=2";
        assert_eq!(
            compute_signature(TOKEN, with_port, &params()),
            "ZQFR1PTIZXF2MXB8ZnKCvnnA+rI="
        );
        assert!(verify_signature(
            TOKEN,
            with_port,
            &params(),
            "CukzLTc1tT5dXEDIHm/tKBanW10="
        ));
    }

    #[test]
    fn port_forms_verify_both_ways() {
        // Shape of twilio-node spec/unit/webhooks/webhooks.spec.js.
        let token = "s3cr3t";
        let without = "https://example.com/path?test=param";
        let with = "https://example.com:443/path?test=param";
        let signed_with = compute_signature(token, with, &[]);
        let signed_without = compute_signature(token, without, &[]);
        assert_ne!(signed_with, signed_without);
        for url in [with, without] {
            assert!(verify_signature(token, url, &[], &signed_with));
            assert!(verify_signature(token, url, &[], &signed_without));
        }
        let other_query = "https://example.com/path?test=param2";
        assert!(!verify_signature(token, other_query, &[], &signed_without));

        // http with its own default port.
        let http_with = "http://example.com:80/x";
        let sig = compute_signature(token, http_with, &[]);
        assert!(verify_signature(token, "http://example.com/x", &[], &sig));
    }

    #[test]
    fn only_the_default_port_is_added() {
        let sig_443 = compute_signature(TOKEN, &URL.replace(".com", ".com:443"), &params());
        let url_8443 = URL.replace(".com", ".com:8443");
        assert!(!verify_signature(TOKEN, &url_8443, &params(), &sig_443));
        // http's default is 80, not 443.
        let http = URL.replace("https", "http");
        assert!(!verify_signature(
            TOKEN,
            &http,
            &params(),
            "kvajT1Ptam85bY51eRf/AJRuM3w="
        ));
        // And the scheme itself is signed.
        assert!(!verify_signature(TOKEN, &http, &params(), EXPECTED));
    }

    #[test]
    fn ipv6_host_port_handling() {
        let with = "https://[::1]:443/hook";
        let sig = compute_signature(TOKEN, with, &[]);
        assert!(verify_signature(TOKEN, "https://[::1]/hook", &[], &sig));
        let sig = compute_signature(TOKEN, "https://[::1]/hook", &[]);
        assert!(verify_signature(TOKEN, with, &[], &sig));
    }

    #[test]
    fn url_is_not_decoded() {
        let encoded = "https://example.com/hook?q=a%20b";
        let sig = compute_signature(TOKEN, encoded, &[]);
        assert!(verify_signature(TOKEN, encoded, &[], &sig));
        assert!(!verify_signature(
            TOKEN,
            "https://example.com/hook?q=a b",
            &[],
            &sig
        ));
        assert!(!verify_signature(
            TOKEN,
            "https://example.com/hook?q=a+b",
            &[],
            &sig
        ));
    }

    #[test]
    fn tampering_any_value_or_name_fails() {
        let original = params();
        for i in 0..original.len() {
            let mut changed = original.clone();
            changed[i].1.push('0');
            assert!(
                !verify_signature(TOKEN, URL, &changed, EXPECTED),
                "value {i}"
            );

            let mut changed = original.clone();
            changed[i].0.push('X');
            assert!(
                !verify_signature(TOKEN, URL, &changed, EXPECTED),
                "name {i}"
            );

            let mut changed = original.clone();
            changed[i].0 = changed[i].0.to_lowercase();
            assert!(
                !verify_signature(TOKEN, URL, &changed, EXPECTED),
                "case {i}"
            );

            let mut changed = original.clone();
            changed.remove(i);
            assert!(
                !verify_signature(TOKEN, URL, &changed, EXPECTED),
                "removed {i}"
            );
        }
        let mut added = original.clone();
        added.push(("Body".to_owned(), String::new()));
        assert!(!verify_signature(TOKEN, URL, &added, EXPECTED));
        // Moving a value from one name to another changes the signed string.
        let mut swapped = original;
        swapped[0].1 = "+18005551212".to_owned();
        swapped[2].1 = "+14158675309".to_owned();
        assert!(!verify_signature(TOKEN, URL, &swapped, EXPECTED));
        // Wrong token.
        assert!(!verify_signature("12346", URL, &params(), EXPECTED));
    }

    #[test]
    fn missing_garbage_or_empty_signature_fails() {
        for bad in [
            "",
            " ",
            "garbage",
            "FAIL",
            "RSOYDt4T1cUTdK1PDd93/VVr8B8",
            "RSOYDt4T1cUTdK1PDd93/VVr8B8==",
            " RSOYDt4T1cUTdK1PDd93/VVr8B8=",
            "RSOYDt4T1cUTdK1PDd93/VVr8B8= ",
            "rsoydt4t1cutdk1pdd93/vvr8b8=",
            "invalid 王",
            "\u{0}",
        ] {
            assert!(!verify_signature(TOKEN, URL, &params(), bad), "{bad:?}");
        }
        let long = "A".repeat(100_000);
        assert!(!verify_signature(TOKEN, URL, &params(), &long));
    }

    #[test]
    fn empty_token_is_rejected_even_with_matching_signature() {
        let sig = compute_signature("", URL, &params());
        assert!(!verify_signature("", URL, &params(), &sig));
    }

    #[test]
    fn odd_urls_never_panic() {
        for url in [
            "",
            "://",
            "https://",
            "https:///path",
            "https://host:",
            "https://host:/x",
            "https://host:abc/x",
            "https://[::1",
            "https://[::1]x/",
            "https://user:pw@",
            "https://@:443",
            "https://hé.example:443/ü?ä=ö#frag",
            "ftp://example.com/x",
            "no scheme at all",
            "https://a:b:c@d:e:f/",
            "HTTPS://EXAMPLE.COM/x",
        ] {
            let sig = compute_signature(TOKEN, url, &params());
            // Whatever the URL, its own signature verifies.
            assert!(verify_signature(TOKEN, url, &params(), &sig), "{url:?}");
            assert!(!verify_signature(TOKEN, url, &params(), "x"), "{url:?}");
        }
    }

    #[test]
    fn candidates_keep_everything_but_the_port() {
        assert_eq!(
            url_candidates("https://u:p@h.com:8443/a:b?c=d:e#f"),
            vec![
                "https://u:p@h.com:8443/a:b?c=d:e#f".to_owned(),
                "https://u:p@h.com/a:b?c=d:e#f".to_owned(),
            ]
        );
        assert_eq!(
            url_candidates("http://h.com?x=1"),
            vec![
                "http://h.com?x=1".to_owned(),
                "http://h.com:80?x=1".to_owned()
            ]
        );
        assert_eq!(
            url_candidates("ftp://h.com/"),
            vec!["ftp://h.com/".to_owned()]
        );
    }
}
