-- Live records of one kind by id, in the order given, as {header, body, ...}; ids that are unknown, expired or
-- removed are skipped. Serves `trace` (the ids come from a run's index) and the pages of `iter_records`.
-- Arguments from ARG0: kind ('log' or 'memory'), now (epoch ms), then the ids.
local kind, now = ARGV[ARG0], tonumber(ARGV[ARG0 + 1])
local out = {}
for i = ARG0 + 2, #ARGV do
  local id = ARGV[i]
  if kind == 'memory' then
    local memory = redis.call('HMGET', MEMORY .. id, 'expires_at', 'header', 'body')
    if memory[2] and alive(memory[1], now) then
      out[#out + 1] = memory[2]
      out[#out + 1] = memory[3]
    end
  else
    local location = redis.call('HGET', IDS, id)
    if location then
      local suffix, entry_id = location:match('^(%S+) (%S+)$')
      local entries = redis.call('XRANGE', STREAM .. suffix, entry_id, entry_id)
      if #entries > 0 then
        local fields = entries[1][2]
        if alive(fields[EXPIRES], now) then
          out[#out + 1] = fields[HEADER]
          out[#out + 1] = fields[BODY]
        end
      end
    end
  end
end
return out
