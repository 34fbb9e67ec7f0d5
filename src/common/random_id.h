// Random identifiers for operations and idempotency keys.
#pragma once

#include <string>
#include <string_view>

namespace kdfs {

// "<prefix>-<32 hex digits>": 128 random bits from a per-thread generator
// seeded by std::random_device. Thread-safe.
std::string RandomId(std::string_view prefix);

}  // namespace kdfs
