-- A flood of unique feed queries for wrk (bench/serving.py): every request a new URL, a mix
-- of alarm, search, start/end and include; counts the statuses and any 429/503 that came
-- without Retry-After, and prints them as one line wrk's caller parses. With the script
-- argument "close" every request asks for Connection: close, so each comes on a new
-- connection (a client that dodges the per-connection tarpit).
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  reconnect = args[1] == "close"
  counter = 0
  s200, s429, s503, other, no_retry = 0, 0, 0, 0, 0
end

function request()
  counter = counter + 1
  local n = id * 10000000 + counter
  local kind = counter % 4
  local path
  if kind == 0 then
    path = "/events.ics?start=1957-01-01&alarm=" .. (n % 9000 + 1)
  elseif kind == 1 then
    path = "/events.ics?start=1957-01-01&search=a&end=2027-01-01T00:00:" .. string.format("%02d", n % 60) .. "Z&alarm=" .. (n % 997 + 1)
  elseif kind == 2 then
    path = "/events.json?start=19" .. (57 + n % 40) .. "-01-01&end=2030-01-" .. string.format("%02d", n % 28 + 1) .. "&alarm=" .. (n % 991 + 1)
  else
    path = "/feed.ics?include=events,launches&start=1957-01-01&alarm=" .. (n % 9000 + 1)
  end
  if reconnect then
    return wrk.format("GET", path, { ["Connection"] = "close" })
  end
  return wrk.format("GET", path)
end

function response(status, headers, body)
  if status == 200 then s200 = s200 + 1
  elseif status == 429 then s429 = s429 + 1
  elseif status == 503 then s503 = s503 + 1
  else other = other + 1 end
  if (status == 429 or status == 503) and headers["Retry-After"] == nil then
    no_retry = no_retry + 1
  end
end

function done(summary, latency, requests)
  local t = { 0, 0, 0, 0, 0 }
  for _, thread in ipairs(threads) do
    t[1] = t[1] + thread:get("s200")
    t[2] = t[2] + thread:get("s429")
    t[3] = t[3] + thread:get("s503")
    t[4] = t[4] + thread:get("other")
    t[5] = t[5] + thread:get("no_retry")
  end
  io.write(string.format("FLOOD 200=%d 429=%d 503=%d other=%d no_retry_after=%d\n",
    t[1], t[2], t[3], t[4], t[5]))
end
