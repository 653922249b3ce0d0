-- wrk script of bench/scim.py: POST /scim/v2/Users, a new userName on every request.
-- Arguments (after --): the body template, in which USERNAME stands for the part of the
-- userName before @bench.example, and a prefix unique to the run; userNames are
-- <prefix>-<thread>-<counter>@bench.example.
-- Answers other than 201 are counted and printed by done() as "bench: unexpected N".
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  template = args[1]
  prefix = args[2]
  counter = 0
  unexpected = 0
end

function request()
  counter = counter + 1
  local name = string.format("%s-%d-%d", prefix, id, counter)
  local body = template:gsub("USERNAME", name)
  return wrk.format("POST", nil, nil, body)
end

function response(status, headers, body)
  if status ~= 201 then
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
