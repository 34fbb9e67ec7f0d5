// The JSON error body every failed request gets:
//   {"error":{"code":"not_found","message":"..."}}
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace kdfs {

std::string ErrorBody(Code code, std::string_view message);
inline std::string ErrorBody(const Status& status) {
  return ErrorBody(status.code(), status.message());
}

}  // namespace kdfs
