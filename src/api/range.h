// Parsing of the HTTP Range header (RFC 9110 §14) for one byte range.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "common/result.h"

namespace kdfs {

struct ByteRange {
  uint64_t offset = 0;
  uint64_t length = 0;
};

// nullopt: no usable range, serve the whole body (absent header, another unit,
// several ranges). kRangeNotSatisfiable: a well-formed range outside `size`.
// kInvalidArgument is never returned: a malformed header is ignored as the
// RFC allows.
Result<std::optional<ByteRange>> ParseRange(std::string_view header, uint64_t size);

}  // namespace kdfs
