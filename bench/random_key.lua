-- wrk script: each request carries a key picked at random from the first $KEYS_USE keys
-- (default: all) of $KEYS_FILE, sent to $KEY_PATH (default: Keyward's /me).
-- Every wrk thread runs its own copy of this script: setup() numbers the threads, so each
-- seeds its generator apart and the threads do not send the same keys in the same order.
local keys = {}
local limit = tonumber(os.getenv("KEYS_USE") or "0")
local path = os.getenv("KEY_PATH") or "/api/production/v1/me"
for line in io.lines(os.getenv("KEYS_FILE")) do
  keys[#keys + 1] = line
  if limit > 0 and #keys >= limit then break end
end

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

function init(args)
  math.randomseed(os.time() * 1000 + (thread_number or 0) * 7919)
end

request = function()
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. keys[math.random(#keys)] })
end
