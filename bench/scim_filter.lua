-- wrk script of bench/scim.py: GET /scim/v2/Users?filter=userName eq "…" on users created
-- beforehand. Argument (after --): a file of encoded filter values, one a line. Each thread
-- walks the list from its own offset. Answers other than 200 with exactly one user are counted
-- and printed by done() as "bench: unexpected N".
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  filters = {}
  for line in io.lines(args[1]) do
    table.insert(filters, line)
  end
  counter = id * 7919
  unexpected = 0
end

function request()
  counter = counter + 1
  local filter = filters[counter % #filters + 1]
  return wrk.format("GET", wrk.path .. "?filter=" .. filter)
end

function response(status, headers, body)
  if status ~= 200 or not body:find('"totalResults":%s*1[,}%s]') then
    unexpected = unexpected + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("unexpected")
  end
  io.write(string.format("bench: unexpected %d\n", total))
end
