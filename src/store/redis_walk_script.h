// The Lua script behind RedisKv::Resolve and RedisKv::ResolveAndList: one
// consistent walk of directory entries (see meta_kv.h and store/meta_schema.h
// for the key names "d:<ino>", "i:<ino>", "z:<ino>" and the field "type").
// Reads only; runs as one atomic script on the server.
#pragma once

namespace kdfs {

// The path walk of MetaKv::Resolve / ResolveAndList (see meta_kv.h).
// ARGV: prefix, start ino, mode ("r" resolve, "l" list), after, limit, nf,
// nf field names, then the names to walk.
inline constexpr const char* kWalkScript = R"lua(
local p = ARGV[1]
local ino = ARGV[2]
local nf = tonumber(ARGV[6])
local first = 7 + nf
local inos, types = {}, {}
for i = first, #ARGV do
  local child = redis.call('HGET', p .. 'd:' .. ino, ARGV[i])
  if not child then break end
  local t = redis.call('HGET', p .. 'i:' .. child, 'type') or ''
  inos[#inos + 1] = child
  types[#types + 1] = t
  ino = child
  if t ~= 'd' then break end
end
local ikey = p .. 'i:' .. ino
if ARGV[3] == 'r' then
  return {inos, types, redis.call('HGETALL', ikey), {}}
end
local last = {}
local vals = redis.call('HMGET', ikey, unpack(ARGV, 7, 6 + nf))
for k = 1, nf do
  if vals[k] then
    last[#last + 1] = ARGV[6 + k]
    last[#last + 1] = vals[k]
  end
end
local entries = {}
if #inos == #ARGV - first + 1 and redis.call('HGET', ikey, 'type') == 'd' then
  local from = '-'
  if ARGV[4] ~= '' then from = '(' .. ARGV[4] end
  local names = redis.call('ZRANGEBYLEX', p .. 'z:' .. ino, from, '+', 'LIMIT', 0,
                           tonumber(ARGV[5]))
  local dkey = p .. 'd:' .. ino
  for _, name in ipairs(names) do
    local child = redis.call('HGET', dkey, name)
    if child then
      local v = redis.call('HMGET', p .. 'i:' .. child, unpack(ARGV, 7, 6 + nf))
      entries[#entries + 1] = name
      entries[#entries + 1] = child
      for k = 1, nf do entries[#entries + 1] = v[k] end
    end
  end
end
return {inos, types, last, entries}
)lua";

}  // namespace kdfs
