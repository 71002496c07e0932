-- Delete one record by id: a stored memory with its index entries, or an event's stream entry.
-- Arguments from ARG0: the record id.
-- Returns {'memory', index document} or {'log', header} (the caller removes the id from the run's index), or {}
-- when no such record is stored.
local id = ARGV[ARG0]
local document = remove_memory(id)
if document then
  return {'memory', document}
end
local location = redis.call('HGET', IDS, id)
if not location then
  return {}
end
redis.call('HDEL', IDS, id)
local suffix, entry_id = location:match('^(%S+) (%S+)$')
local key = STREAM .. suffix
local entries = redis.call('XRANGE', key, entry_id, entry_id)
if #entries == 0 then
  return {} -- already trimmed: it had expired
end
local fields = entries[1][2]
redis.call('XDEL', key, entry_id)
add_to_counter('event_raw', -tonumber(fields[RAW_SIZE]))
add_to_counter('event_stored', -#fields[BODY])
return {'log', fields[HEADER]}
