"""Writes N signed Twilio inbound-SMS webhooks (signature TAB form body per
line), signed by Twilio's own library, from 1000 registered numbers.
Usage: sign_requests.py URL TOKEN N OUT [SID_PREFIX=SMbench] (a distinct
prefix per run keeps every MessageSid new)."""
import sys
import urllib.parse

from twilio.request_validator import RequestValidator

url, token, count, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
prefix = sys.argv[5] if len(sys.argv) > 5 else "SMbench"
validator = RequestValidator(token)
with open(out, "w") as f:
    for n in range(count):
        sid = f"{prefix}{n:024d}"
        params = {
            "MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid,
            "AccountSid": "ACbench", "From": f"+1514555{n % 1000:04d}", "To": "+15005550006",
            "Body": "add milk and eggs", "NumMedia": "0", "NumSegments": "1",
            "SmsStatus": "received", "ApiVersion": "2010-04-01",
        }
        sig = validator.compute_signature(url, params)
        f.write(sig + "\t" + urllib.parse.urlencode(params) + "\n")
