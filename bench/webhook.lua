-- wrk script: replays pre-signed Twilio webhooks (one unique MessageSid
-- each), split between wrk's threads so no request is sent twice.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  requests = {}
  local file = args[1]
  local nthreads = tonumber(args[2])
  local n = 0
  for line in io.lines(file) do
    if n % nthreads == id then
      local sig, body = line:match("([^\t]+)\t(.*)")
      requests[#requests + 1] = wrk.format("POST", "/twilio/sms", {
        ["Content-Type"] = "application/x-www-form-urlencoded",
        ["X-Twilio-Signature"] = sig,
      }, body)
    end
    n = n + 1
  end
  i = 0
  wrapped = 0
end

function request()
  i = i + 1
  if i > #requests then
    i = 1
    wrapped = wrapped + 1
  end
  return requests[i]
end

function response(status, headers, body)
  if status ~= 200 then
    io.stderr:write("status " .. status .. "\n")
  end
end

function done(summary, latency, requests_)
  for _, p in pairs({ 50, 90, 99, 99.9 }) do
    io.write(string.format("p%g %.2f ms\n", p, latency:percentile(p) / 1000))
  end
  io.write(string.format("requests %d, errors %d (non-2xx %d)\n", summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
