#include "http/http_types.h"

#include <algorithm>
#include <cctype>

#include "common/encoding.h"

namespace kdfs {

namespace {
std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string DecodeQueryPart(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && HexDigitValue(s[i + 1]) >= 0 &&
               HexDigitValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexDigitValue(s[i + 1]) * 16 + HexDigitValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}
}  // namespace

void HeaderMap::Set(std::string_view name, std::string_view value) {
  headers_[Lower(name)] = std::string(value);
}

std::optional<std::string> HeaderMap::Get(std::string_view name) const {
  auto it = headers_.find(Lower(name));
  if (it == headers_.end()) return std::nullopt;
  return it->second;
}

std::map<std::string, std::string> ParseQuery(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    size_t eq = part.find('=');
    std::string key = DecodeQueryPart(part.substr(0, eq));
    std::string value = eq == std::string_view::npos ? "" : DecodeQueryPart(part.substr(eq + 1));
    if (!key.empty()) out[key] = value;
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

}  // namespace kdfs
