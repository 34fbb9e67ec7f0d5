// Parsing of "host:port" addresses (listen addresses, Redis, URL authorities).
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace kdfs {

struct HostPort {
  std::string host;  // IPv6 brackets removed; may be empty (":8081")
  int port = 0;      // 0..65535
};

// Splits at the last ':'. kInvalidArgument, with `what` naming the setting,
// when there is no ':' or the port is not a number in 0..65535.
Result<HostPort> ParseHostPort(std::string_view text, std::string_view what = "address");

}  // namespace kdfs
