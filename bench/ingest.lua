-- wrk script of the webhook ingest benchmark (bench/ingest.py):
--   wrk -t2 -c32 -d10s -s bench/ingest.lua http://127.0.0.1:PORT/webhook/whatsapp/batched -- RUN PER_REQUEST
-- Every request is a batched webhook of PER_REQUEST messages from as many distinct chats, each with a message id
-- no other request of any run uses (RUN is unique per run), since the api drops a message id it has seen.
-- At the end it prints one line "BENCH-JSON {...}" with the requests, errors, latency and the answers' statuses.

local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("tid", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

function init(args)
  run = args[1] or "run"
  per = tonumber(args[2] or "10")
  seq = 0
  statuses = {}
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  seq = seq + 1
  local parts = {}
  for i = 1, per do
    -- 10 consecutive chat numbers: distinct chats within a request, spread over 10 million per thread.
    local chat = ((tid * 1000003 + seq) * per + i) % 10000000
    parts[i] = string.format(
      '{"from":"7955%07d","message":"Здравствуйте! Хочу записаться на стрижку","messageId":"B%s-%d-%d-%d"}',
      chat, run, tid, seq, i)
  end
  local body = '{"companyId":"962302","messages":[' .. table.concat(parts, ",") .. ']}'
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    local counted = thread:get("statuses")
    for status, count in pairs(counted) do
      total[status] = (total[status] or 0) + count
    end
  end
  local shown = {}
  for status, count in pairs(total) do
    table.insert(shown, string.format('"%d":%d', status, count))
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH-JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p99":%d,"max":%d},"statuses":{%s}}\n',
    summary.requests, summary.duration, summary.bytes,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.max, table.concat(shown, ",")))
end
