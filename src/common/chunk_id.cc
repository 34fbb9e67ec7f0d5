#include "common/chunk_id.h"

#include "common/encoding.h"
#include "common/sha256.h"

namespace kdfs {

std::string ChunkId::Hex() const {
  return ToHex(bytes.data(), bytes.size());
}

Result<ChunkId> ChunkId::FromHex(std::string_view hex) {
  if (hex.size() != 64) return Status::InvalidArgument("chunk id must be 64 hex digits");
  ChunkId id;
  for (size_t i = 0; i < 32; ++i) {
    int hi = HexDigitValue(hex[2 * i]);
    int lo = HexDigitValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return Status::InvalidArgument("chunk id must be 64 hex digits");
    id.bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return id;
}

ChunkId ChunkId::Of(std::string_view data) {
  return ChunkId{Sha256::Digest(data)};
}

}  // namespace kdfs
