#include "http/error_body.h"

#include <nlohmann/json.hpp>

namespace kdfs {

std::string ErrorBody(Code code, std::string_view message) {
  nlohmann::json body = {{"error", {{"code", WireNameOf(code)}, {"message", message}}}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace kdfs
