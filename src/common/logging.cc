#include "common/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace kdfs {

void InitLogging(const std::string& component, const std::string& level) {
  auto logger = spdlog::stderr_color_mt("kdfs");
  logger->set_pattern("ts=%Y-%m-%dT%H:%M:%S.%eZ level=%l node=" + component + " msg=\"%v\"",
                      spdlog::pattern_time_type::utc);
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace kdfs
