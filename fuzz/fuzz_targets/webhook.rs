//! The Twilio webhook's untrusted input, through the webhook's own code:
//! the form body (`form_params`, `media_of`), the signature check against
//! the URL (`verify_signature`), the keyword check on `Body` and the E.164
//! parsing of `From`.
//!
//! Input layout: `url` LF `X-Twilio-Signature` LF form body. The seeds are
//! real-shaped Twilio requests with valid signatures, so mutations start
//! from inputs that get past the check.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nudge::sms_router::keywords;
use nudge::sms_router::signature::{compute_signature, verify_signature};
use nudge::sms_router::webhook::{form_params, media_of};
use nudge::store::PhoneNumber;

/// The seeds are signed with this token.
const TOKEN: &str = "fuzz-auth-token";

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |b| *b == b'\n');
    let url = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let signature = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let body = parts.next().unwrap_or_default();

    let params = form_params(body);
    let media = media_of(&params);
    assert!(
        media.as_array().is_some_and(|items| items.len() <= 10),
        "media metadata is a list of at most ten items"
    );

    let accepted = verify_signature(TOKEN, &url, &params, &signature);
    if accepted {
        // Only a base64 HMAC-SHA1 can match.
        assert_eq!(signature.len(), 28);
    }

    // What we sign, we accept, in any parameter order.
    let good = compute_signature(TOKEN, &url, &params);
    assert!(verify_signature(TOKEN, &url, &params, &good));
    let mut reversed = params.clone();
    reversed.reverse();
    assert_eq!(compute_signature(TOKEN, &url, &reversed), good);

    // An empty token never verifies, whatever was signed with it.
    let empty = compute_signature("", &url, &params);
    assert!(!verify_signature("", &url, &params, &empty));

    // A parameter added by someone in the middle breaks the signature
    // (unless it repeats an existing pair exactly, which Twilio's node and
    // php validators ignore by design).
    let extra = ("Body".to_owned(), "forged".to_owned());
    if !params.contains(&extra) {
        let mut tampered = params.clone();
        tampered.push(extra);
        assert!(!verify_signature(TOKEN, &url, &tampered, &good));
    }

    let text = params
        .iter()
        .find(|(k, _)| k == "Body")
        .map_or("", |(_, v)| v.as_str());
    // Operator extra words go through the same normalisation as the table.
    let twilio = nudge::config::TwilioConfig {
        extra_opt_out_keywords: vec![text.to_owned()],
        ..nudge::config::TwilioConfig::default()
    };
    let _ = keywords::keyword(text, false, &twilio);
    let _ = keywords::keyword(text, true, &twilio);

    if let Some((_, from)) = params.iter().find(|(k, _)| k == "From")
        && let Ok(phone) = from.parse::<PhoneNumber>()
    {
        // The stored E.164 form must parse back to itself, or the next
        // text from the same person would not be recognised.
        assert_eq!(phone.as_str().parse::<PhoneNumber>().as_ref(), Ok(&phone));
    }
});
