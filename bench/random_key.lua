-- wrk script: each request carries a key picked at random from the first $KEYS_USE keys
-- (default: all) of $KEYS_FILE.
local keys = {}
local limit = tonumber(os.getenv("KEYS_USE") or "0")
for line in io.lines(os.getenv("KEYS_FILE")) do
  keys[#keys + 1] = line
  if limit > 0 and #keys >= limit then break end
end
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/api/production/v1/me",
    { ["Authorization"] = "Bearer " .. keys[math.random(#keys)] })
end
