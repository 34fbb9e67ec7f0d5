// Status: the outcome of an operation that returns no value.
//
// One error type for the whole node (see error_codes.h for the table). A
// Status is cheap to copy when ok (no allocation) and carries a human
// readable message otherwise. Thread-compatible: distinct objects may be used
// from distinct threads without synchronisation.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "common/error_codes.h"

namespace kdfs {

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string_view message);

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string_view m) { return {Code::kInvalidArgument, m}; }
  static Status InvalidPath(std::string_view m) { return {Code::kInvalidPath, m}; }
  static Status NotFound(std::string_view m) { return {Code::kNotFound, m}; }
  static Status Internal(std::string_view m) { return {Code::kInternal, m}; }
  static Status IoError(std::string_view m) { return {Code::kIoError, m}; }
  static Status Corruption(std::string_view m) { return {Code::kCorruption, m}; }
  static Status Unavailable(std::string_view m) { return {Code::kUnavailable, m}; }
  static Status Timeout(std::string_view m) { return {Code::kTimeout, m}; }
  static Status NoSpace(std::string_view m) { return {Code::kNoSpace, m}; }
  // Maps an errno value observed at the OS edge; `context` says what failed.
  static Status FromErrno(int err, std::string_view context);

  bool ok() const { return state_ == nullptr; }
  Code code() const { return state_ ? state_->code : Code::kOk; }
  const std::string& message() const;
  // "not_found: /a/b" style text for logs.
  std::string ToString() const;

  bool operator==(const Status& other) const {
    return code() == other.code() && message() == other.message();
  }

 private:
  struct State {
    Code code;
    std::string message;
  };
  std::shared_ptr<const State> state_;  // null when ok
};

}  // namespace kdfs

// Returns early from the enclosing function when `expr` yields a non-ok Status.
#define KDFS_RETURN_IF_ERROR(expr)       \
  do {                                   \
    ::kdfs::Status _kdfs_st = (expr);    \
    if (!_kdfs_st.ok()) return _kdfs_st; \
  } while (0)
