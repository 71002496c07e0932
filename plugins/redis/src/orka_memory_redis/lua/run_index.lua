-- Add records to one run's index (a sorted set by created_at; ties sort by id) and keep the key alive exactly as
-- long as its longest-lived record: a run's keys then expire natively with its records, without a sweep.
-- KEYS[1]: the run's index. ARGV[1]: the latest expiry among the records added ('' = never), then score/id pairs.
-- Runs on the run's own slot (its hash tag), so it needs none of the global keys.
local key = KEYS[1]
local existed = redis.call('EXISTS', key)
for first = 2, #ARGV, 1000 do
  redis.call('ZADD', key, 'NX', unpack(ARGV, first, math.min(first + 999, #ARGV)))
end
if ARGV[1] == '' then
  redis.call('PERSIST', key)
elseif existed == 0 then
  redis.call('PEXPIREAT', key, ARGV[1])
else
  -- GT: only ever later. A key without a TTL (it holds a record that never expires) keeps none.
  redis.call('PEXPIREAT', key, ARGV[1], 'GT')
end
return existed
