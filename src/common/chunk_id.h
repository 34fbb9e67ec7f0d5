// ChunkId: the SHA-256 of a chunk's bytes; chunks are addressed by it.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace kdfs {

struct ChunkId {
  std::array<uint8_t, 32> bytes{};

  // Lower-case hex, 64 characters.
  std::string Hex() const;
  // kInvalidArgument unless `hex` is 64 hex digits.
  static Result<ChunkId> FromHex(std::string_view hex);
  // The id of `data` (SHA-256 through OpenSSL).
  static ChunkId Of(std::string_view data);

  auto operator<=>(const ChunkId&) const = default;
};

}  // namespace kdfs
