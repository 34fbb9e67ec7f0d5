// libFuzzer target: the request-header parsers handlers rely on, on arbitrary
// bytes: Range (against a file size taken from the input), If-Match /
// If-None-Match entity-tag lists, X-Kdfs-Min-Version, and query strings.
// Checks their contracts, not only the absence of crashes: a range lies
// inside the file, a parsed version is non-negative, and so on.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "api/http_conditions.h"
#include "api/range.h"
#include "http/http_types.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  uint64_t file_size = 0;
  if (size >= sizeof file_size) {
    std::memcpy(&file_size, data, sizeof file_size);
    file_size >>= (data[0] & 63);  // small sizes too, not only huge ones
    data += sizeof file_size;
    size -= sizeof file_size;
  }
  std::string_view header(reinterpret_cast<const char*>(data), size);

  auto range = kdfs::ParseRange(header, file_size);
  if (range.ok()) {
    if (range->has_value()) {
      const kdfs::ByteRange& r = **range;
      Check(r.length > 0);
      Check(r.offset < file_size);
      Check(r.length <= file_size - r.offset);
    }
  } else {
    Check(range.status().code() == kdfs::Code::kRangeNotSatisfiable);
  }

  std::string tag = kdfs::UnquoteEtag(header);
  Check(tag.size() <= header.size());
  if (kdfs::EtagListMatches(header, "")) Check(header.find('*') != std::string_view::npos);
  if (auto m = kdfs::ParseIfMatch(header); m.ok()) {
    Check(!m->empty());
    Check(m->find(',') == std::string::npos);
    if (*m != "*") Check(kdfs::EtagListMatches(kdfs::QuoteEtag(*m), *m));
  }
  if (auto v = kdfs::ParseMinVersion(header); v.ok()) Check(*v >= 0);

  auto query = kdfs::ParseQuery(header);
  for (const auto& [k, v] : query)
    Check(k.size() + v.size() <= header.size());
  kdfs::HeaderMap headers;
  headers.Set(header, header);
  Check(headers.Get(header).has_value());
  return 0;
}
