// Deletes every key of one node's Redis key prefix (SCAN MATCH + UNLINK), on
// its own connection: what a bootstrap does before loading a snapshot.
//
// Thread-safe (no shared state).
#pragma once

#include "common/result.h"
#include "store/redis_kv.h"

namespace kdfs {

// Returns the number of keys deleted; kUnavailable if Redis cannot be
// reached. REQUIRES: options.prefix is not empty.
Result<uint64_t> WipeRedisPrefix(const RedisKvOptions& options);

}  // namespace kdfs
