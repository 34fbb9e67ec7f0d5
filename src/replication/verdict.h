// Telling a validation verdict from a store failure.
//
// StateMachine::Validate returns either ok, a reason the operation is
// invalid (a verdict: the same at apply time, so it may become a rejection
// record), or a failure to read the store (Redis down), which says nothing
// about the operation and must never be turned into a rejection.
#pragma once

#include "common/status.h"

namespace kdfs {

// True if `s` is ok or a reason the operation itself is invalid.
inline bool IsVerdict(const Status& s) {
  switch (s.code()) {
    case Code::kInternal:
    case Code::kIoError:
    case Code::kCorruption:
    case Code::kUnavailable:
    case Code::kTimeout:
    case Code::kNoSpace:
      return false;
    default:
      return true;
  }
}

}  // namespace kdfs
