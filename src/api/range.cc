#include "api/range.h"

#include <charconv>

namespace kdfs {

namespace {
bool ParseU64(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}
}  // namespace

Result<std::optional<ByteRange>> ParseRange(std::string_view header, uint64_t size) {
  constexpr std::string_view kUnit = "bytes=";
  if (header.substr(0, kUnit.size()) != kUnit) return std::optional<ByteRange>();
  std::string_view spec = header.substr(kUnit.size());
  if (spec.find(',') != std::string_view::npos) return std::optional<ByteRange>();
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return std::optional<ByteRange>();
  std::string_view first = spec.substr(0, dash), last = spec.substr(dash + 1);
  uint64_t a = 0, b = 0;
  if (first.empty()) {  // suffix range: the last `b` bytes
    if (!ParseU64(last, &b)) return std::optional<ByteRange>();
    if (b == 0 || size == 0) return Status(Code::kRangeNotSatisfiable, "empty suffix range");
    uint64_t n = std::min(b, size);
    return std::optional<ByteRange>(ByteRange{size - n, n});
  }
  if (!ParseU64(first, &a)) return std::optional<ByteRange>();
  if (last.empty()) {
    b = size == 0 ? 0 : size - 1;
  } else if (!ParseU64(last, &b) || b < a) {
    return std::optional<ByteRange>();
  }
  if (a >= size) return Status(Code::kRangeNotSatisfiable, "range starts past the end");
  b = std::min(b, size - 1);
  return std::optional<ByteRange>(ByteRange{a, b - a + 1});
}

}  // namespace kdfs
