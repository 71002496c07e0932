-- Counts without reading live data: XLEN of each event stream less its expired prefix (which cleanup has not
-- removed yet, usually empty), ZCOUNT of the memory expiry indexes and of the blob index, the byte counters every
-- write and removal maintains, and the server's own memory use.
-- Arguments from ARG0: now (epoch ms), then the memory types.
-- Returns {{suffix, length, expired, ...}, {memory type, live, expired, ...}, {blobs, expired blobs},
--          {counter, value, ...}, used_memory}.
local now = tonumber(ARGV[ARG0])
local streams = {}
for _, suffix in ipairs(redis.call('SMEMBERS', STREAMS)) do
  streams[#streams + 1] = suffix
  streams[#streams + 1] = redis.call('XLEN', STREAM .. suffix)
  streams[#streams + 1] = (expired_prefix(suffix, now, nil, nil))
end
local memories = {}
for i = ARG0 + 1, #ARGV do
  local key = EXPIRY .. ARGV[i]
  memories[#memories + 1] = ARGV[i]
  memories[#memories + 1] = redis.call('ZCOUNT', key, '(' .. ms(now), '+inf')
  memories[#memories + 1] = redis.call('ZCOUNT', key, '-inf', now)
end
local blobs = {redis.call('ZCARD', BLOBS), redis.call('ZCOUNT', BLOBS, '-inf', now)}
local used_memory = redis.call('INFO', 'memory'):match('used_memory:(%d+)')
return {streams, memories, blobs, redis.call('HGETALL', COUNTERS), tonumber(used_memory)}
