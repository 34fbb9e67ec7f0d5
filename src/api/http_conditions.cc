#include "api/http_conditions.h"

#include <algorithm>
#include <charconv>

namespace kdfs {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// Calls `fn` on each trimmed, non-empty item of a comma-separated list until
// it returns true; returns whether one did.
template <typename Fn>
bool AnyItem(std::string_view list, Fn fn) {
  while (true) {
    size_t comma = list.find(',');
    std::string_view item = Trim(list.substr(0, comma));
    if (!item.empty() && fn(item)) return true;
    if (comma == std::string_view::npos) return false;
    list.remove_prefix(comma + 1);
  }
}

}  // namespace

std::string QuoteEtag(std::string_view etag) {
  return "\"" + std::string(etag) + "\"";
}

std::string UnquoteEtag(std::string_view tag) {
  if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);
  if (tag.size() >= 2 && tag.front() == '"' && tag.back() == '"') {
    tag = tag.substr(1, tag.size() - 2);
  }
  return std::string(tag);
}

bool EtagListMatches(std::string_view list, std::string_view etag) {
  return AnyItem(list, [&](std::string_view item) {
    return item == "*" || (!etag.empty() && UnquoteEtag(item) == etag);
  });
}

Result<std::string> ParseIfMatch(std::string_view header) {
  std::string_view tag = Trim(header);
  if (tag.empty()) return Status::InvalidArgument("If-Match is empty");
  if (tag.find(',') != std::string_view::npos) {
    return Status::InvalidArgument("If-Match takes one entity tag or *");
  }
  if (tag == "*") return std::string("*");
  std::string unquoted = UnquoteEtag(tag);
  if (unquoted.empty()) return Status::InvalidArgument("If-Match names an empty entity tag");
  return unquoted;
}

Result<int64_t> ParseMinVersion(std::string_view header) {
  std::string_view v = Trim(header);
  int64_t parsed = -1;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), parsed);
  if (v.empty() || ec != std::errc() || ptr != v.data() + v.size() || parsed < 0) {
    return Status::InvalidArgument("X-Kdfs-Min-Version must be a non-negative integer");
  }
  return parsed;
}

Result<std::string> ParseIdempotencyKey(std::optional<std::string_view> header) {
  if (!header) return std::string();
  constexpr size_t kMaxKey = 255;
  bool printable =
      std::all_of(header->begin(), header->end(), [](char c) { return c >= 0x21 && c <= 0x7e; });
  if (header->empty() || header->size() > kMaxKey || !printable) {
    return Status::InvalidArgument(
        "Idempotency-Key must be 1-255 printable ASCII characters without spaces");
  }
  return std::string(*header);
}

}  // namespace kdfs
