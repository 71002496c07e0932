-- The newest `count` live records of one kind, newest first, as {header, body, header, body, ...}.
-- Events: each stream's newest entries written less than its lifetime ago (XREVRANGE from the end, so expired
-- entries, which sit at the start, are never read), merged by entry id, which is write order. Memories: the memory
-- index from its newest end, skipping ids whose hash has expired (its TTL already removed it) or not yet cleaned.
-- Arguments from ARG0: kind ('log' or 'memory'), count, now (epoch ms).
local kind, count, now = ARGV[ARG0], tonumber(ARGV[ARG0 + 1]), tonumber(ARGV[ARG0 + 2])
local out = {}

if kind == 'memory' then
  local start = 0
  while #out < 2 * count do
    local ids = redis.call('ZREVRANGE', MEMORIES, start, start + count - 1)
    for _, id in ipairs(ids) do
      local memory = redis.call('HMGET', MEMORY .. id, 'expires_at', 'header', 'body')
      if memory[2] and alive(memory[1], now) and #out < 2 * count then
        out[#out + 1] = memory[2]
        out[#out + 1] = memory[3]
      end
    end
    if #ids < count then
      break
    end
    start = start + count
  end
  return out
end

local candidates = {}
for _, suffix in ipairs(redis.call('SMEMBERS', STREAMS)) do
  local lifetime = stream_lifetime(suffix)
  local floor = lifetime == 'keep' and '-' or ms(now - tonumber(lifetime) + 1)
  local upper, found = '+', 0
  while found < count do
    local entries = redis.call('XREVRANGE', STREAM .. suffix, upper, floor, 'COUNT', count)
    for _, entry in ipairs(entries) do
      local fields = entry[2]
      if found < count and alive(fields[EXPIRES], now) then
        local entry_ms, entry_seq = entry[1]:match('^(%d+)-(%d+)$')
        candidates[#candidates + 1] = {tonumber(entry_ms), tonumber(entry_seq), fields[HEADER], fields[BODY]}
        found = found + 1
      end
    end
    if #entries < count then
      break
    end
    upper = '(' .. entries[#entries][1]
  end
end
table.sort(candidates, function(a, b)
  if a[1] ~= b[1] then
    return a[1] > b[1]
  end
  return a[2] > b[2]
end)
for i = 1, math.min(count, #candidates) do
  out[#out + 1] = candidates[i][3]
  out[#out + 1] = candidates[i][4]
end
return out
