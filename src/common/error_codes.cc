#include "common/error_codes.h"

#include <cstring>

namespace kdfs {

int HttpStatusOf(Code code) {
  switch (code) {
#define KDFS_X(name, http, wire) \
  case Code::name:               \
    return http;
    KDFS_ERROR_CODES(KDFS_X)
#undef KDFS_X
  }
  return 500;
}

const char* WireNameOf(Code code) {
  switch (code) {
#define KDFS_X(name, http, wire) \
  case Code::name:               \
    return wire;
    KDFS_ERROR_CODES(KDFS_X)
#undef KDFS_X
  }
  return "internal";
}

Code CodeFromWireName(const char* name) {
#define KDFS_X(cname, http, wire) \
  if (std::strcmp(name, wire) == 0) return Code::cname;
  KDFS_ERROR_CODES(KDFS_X)
#undef KDFS_X
  return Code::kInternal;
}

}  // namespace kdfs
