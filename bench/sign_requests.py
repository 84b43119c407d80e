"""Writes N signed Twilio inbound-SMS webhooks (signature TAB form body per
line), signed by Twilio's own library, from 1000 registered numbers."""
import sys
import urllib.parse

from twilio.request_validator import RequestValidator

url, token, count, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
validator = RequestValidator(token)
with open(out, "w") as f:
    for n in range(count):
        sid = f"SMbench{n:024d}"
        params = {
            "MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid,
            "AccountSid": "ACbench", "From": f"+1514555{n % 1000:04d}", "To": "+15005550006",
            "Body": "add milk and eggs", "NumMedia": "0", "NumSegments": "1",
            "SmsStatus": "received", "ApiVersion": "2010-04-01",
        }
        sig = validator.compute_signature(url, params)
        f.write(sig + "\t" + urllib.parse.urlencode(params) + "\n")
