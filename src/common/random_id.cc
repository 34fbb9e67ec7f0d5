#include "common/random_id.h"

#include <cstdint>
#include <random>

#include "common/encoding.h"

namespace kdfs {

std::string RandomId(std::string_view prefix) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const uint64_t bits[2] = {rng(), rng()};
  return std::string(prefix) + "-" + ToHex(reinterpret_cast<const uint8_t*>(bits), sizeof bits);
}

}  // namespace kdfs
