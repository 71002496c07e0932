-- Remove (or, on a dry run, count) what expired at or before `now`, touching expired data only:
--   events: each stream's expired prefix (see expired_prefix), removed with XTRIM MINID, its ids unindexed;
--   memories: the ids the expiry index lists up to `now` (their hashes are mostly gone already, by TTL);
--   blobs: the hashes the blob index lists up to `now` (blobs have no TTL: a record being written may renew one,
--   atomically with this script); and the run registry's expired runs.
-- At most `budget` items per call, so a large cleanup never blocks the server for long; the caller repeats
-- while the reply says there is more. A dry run counts everything in one call.
-- Arguments from ARG0: now (epoch ms), dry ('1' or '0'), budget, then the memory types.
-- Returns {blobs, more (0/1), then per stream and per memory type: log type, memory type, count}.
local now, dry, budget = tonumber(ARGV[ARG0]), ARGV[ARG0 + 1] == '1', tonumber(ARGV[ARG0 + 2])
local limit = (not dry) and budget or nil
local used, more = 0, 0
local function left()
  return limit and (limit - used) or nil
end

local counts = {}
for _, suffix in ipairs(redis.call('SMEMBERS', STREAMS)) do
  if limit and left() <= 0 then
    more = 1
    break
  end
  local ids, raw, stored = {}, 0, 0
  local visit = nil
  if not dry then
    visit = function(fields)
      ids[#ids + 1] = fields[ID]
      raw = raw + tonumber(fields[RAW_SIZE])
      stored = stored + #fields[BODY]
    end
  end
  local count, last, exhausted = expired_prefix(suffix, now, left(), visit)
  counts[#counts + 1] = 'log'
  counts[#counts + 1] = suffix:match('^(.*):')
  counts[#counts + 1] = count
  used = used + count
  if not exhausted then
    more = 1
  end
  if not dry and count > 0 then
    local key = STREAM .. suffix
    local last_ms, last_seq = last:match('^(%d+)-(%d+)$')
    redis.call('XTRIM', key, 'MINID', last_ms .. '-' .. ms(tonumber(last_seq) + 1))
    in_pages('HDEL', IDS, ids)
    add_to_counter('event_raw', -raw)
    add_to_counter('event_stored', -stored)
    if redis.call('XLEN', key) == 0 then
      redis.call('DEL', key)
      redis.call('SREM', STREAMS, suffix)
    end
  end
end

for i = ARG0 + 3, #ARGV do
  local memory_type = ARGV[i]
  local key = EXPIRY .. memory_type
  local count
  if dry then
    count = redis.call('ZCOUNT', key, '-inf', now)
  else
    local ids = redis.call('ZRANGEBYSCORE', key, '-inf', now, 'LIMIT', 0, math.max(left(), 0))
    for _, id in ipairs(ids) do
      remove_memory(id)
    end
    count = #ids
    used = used + count
    if redis.call('ZCOUNT', key, '-inf', now) > 0 then
      more = 1
    end
  end
  counts[#counts + 1] = 'memory'
  counts[#counts + 1] = memory_type
  counts[#counts + 1] = count
end

local blobs
if dry then
  blobs = redis.call('ZCOUNT', BLOBS, '-inf', now)
else
  local hashes = redis.call('ZRANGEBYSCORE', BLOBS, '-inf', now, 'LIMIT', 0, math.max(left(), 0))
  local raw, stored = 0, 0
  for _, hash in ipairs(hashes) do
    local blob = redis.call('HMGET', BLOB .. hash, 'z', 'b')
    if blob[1] then
      raw = raw + tonumber(blob[1])
      stored = stored + #blob[2]
    end
    redis.call('UNLINK', BLOB .. hash)
  end
  in_pages('ZREM', BLOBS, hashes)
  add_to_counter('blob_raw', -raw)
  add_to_counter('blob_stored', -stored)
  blobs = #hashes
  if redis.call('ZCOUNT', BLOBS, '-inf', now) > 0 then
    more = 1
  end
end

if not dry then
  -- Runs whose records have all expired: their index keys are gone already, by TTL.
  redis.call('ZREMRANGEBYSCORE', RUNS, '-inf', now)
end

local out = {blobs, more}
for i = 1, #counts do
  out[#out + 1] = counts[i]
end
return out
