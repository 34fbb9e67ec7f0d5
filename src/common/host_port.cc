#include "common/host_port.h"

#include <charconv>

namespace kdfs {

Result<HostPort> ParseHostPort(std::string_view text, std::string_view what) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return Status::InvalidArgument(std::string(what) + " must be host:port, got '" +
                                   std::string(text) + "'");
  }
  HostPort out;
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  out.host = std::string(host);
  const std::string_view port = text.substr(colon + 1);
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), out.port);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || out.port < 0 ||
      out.port > 65535) {
    return Status::InvalidArgument(std::string(what) + " has a bad port: '" + std::string(text) +
                                   "'");
  }
  return out;
}

}  // namespace kdfs
