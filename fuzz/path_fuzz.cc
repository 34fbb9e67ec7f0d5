// libFuzzer target: Path::FromUrl / Path::Parse / PercentDecode on arbitrary
// bytes. Beyond "no crash, no sanitizer report" it checks the parser's
// contract: an accepted path is canonical, within the limits, made of valid
// names, and survives a round trip through its text and its URL encoding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/path.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

void CheckAccepted(const kdfs::Path& p) {
  const std::string text = p.str();
  Check(text.size() <= kdfs::kMaxPathBytes);
  Check(text.front() == '/');
  Check(p.IsRoot() == (text == "/"));
  for (const auto& name : p.components())
    Check(kdfs::Path::ValidateName(name).ok());
  auto again = kdfs::Path::Parse(text);
  Check(again.ok() && *again == p);
  auto from_url = kdfs::Path::FromUrl(p.UrlEncoded());
  Check(from_url.ok() && *from_url == p);
  if (!p.IsRoot()) Check(p.parent().IsAncestorOf(p));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  if (auto p = kdfs::Path::FromUrl(input); p.ok()) {
    CheckAccepted(*p);
    // Whatever was accepted decodes to a path without dot segments.
    for (const auto& name : p->components())
      Check(name != "." && name != "..");
  } else {
    Check(p.status().code() == kdfs::Code::kInvalidPath);
  }
  if (auto p = kdfs::Path::Parse(input); p.ok()) {
    CheckAccepted(*p);
  } else {
    Check(p.status().code() == kdfs::Code::kInvalidPath);
  }
  if (auto decoded = kdfs::PercentDecode(input); decoded.ok()) {
    Check(decoded->size() <= input.size());
    // %00 is refused; a literal NUL passes through (Parse refuses it).
    if (input.find('\0') == std::string_view::npos) Check(decoded->find('\0') == std::string::npos);
  }
  return 0;
}
