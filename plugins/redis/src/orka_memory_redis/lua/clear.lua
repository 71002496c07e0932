-- Delete every record of one kind. Events: every stream and the id index, unlinked (freed in the background),
-- in one step. Memories: `budget` at a time with their index entries; the caller repeats while memories remain.
-- Arguments from ARG0: kind ('log' or 'memory'), budget.
-- Returns {records deleted, more (0/1)}.
local kind, budget = ARGV[ARG0], tonumber(ARGV[ARG0 + 1])
if kind == 'log' then
  local deleted = 0
  for _, suffix in ipairs(redis.call('SMEMBERS', STREAMS)) do
    deleted = deleted + redis.call('XLEN', STREAM .. suffix)
    redis.call('UNLINK', STREAM .. suffix)
  end
  redis.call('UNLINK', STREAMS, IDS)
  redis.call('HDEL', COUNTERS, 'event_raw', 'event_stored')
  return {deleted, 0}
end
local ids = redis.call('ZRANGE', MEMORIES, 0, budget - 1)
for _, id in ipairs(ids) do
  remove_memory(id)
end
return {#ids, redis.call('ZCARD', MEMORIES) > 0 and 1 or 0}
