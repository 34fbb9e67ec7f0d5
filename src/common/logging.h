// Process-wide logging set-up. Components log through spdlog's default
// logger with key=value fields after the message, e.g.
//   spdlog::info("applied record offset={} op={}", offset, op);
#pragma once

#include <string>

namespace kdfs {

// Configures the default spdlog logger: level ("debug", "info", "warn",
// "error"), one line per event with an ISO-8601 UTC timestamp, the level and
// `component` (e.g. the node id). Safe to call once at start-up.
void InitLogging(const std::string& component, const std::string& level);

}  // namespace kdfs
