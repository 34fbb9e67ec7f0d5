#include "common/status.h"

#include <cerrno>
#include <cstring>

namespace kdfs {

namespace {
const std::string& EmptyString() {
  static const std::string* empty = new std::string();
  return *empty;
}
}  // namespace

Status::Status(Code code, std::string_view message) {
  if (code != Code::kOk) state_ = std::make_shared<const State>(State{code, std::string(message)});
}

const std::string& Status::message() const {
  return state_ ? state_->message : EmptyString();
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(WireNameOf(code())) + ": " + state_->message;
}

Status Status::FromErrno(int err, std::string_view context) {
  std::string msg = std::string(context) + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
      return Status(Code::kNotFound, msg);
    case ENOSPC:
    case EDQUOT:
      return Status(Code::kNoSpace, msg);
    case EEXIST:
      return Status(Code::kAlreadyExists, msg);
    case EISDIR:
      return Status(Code::kIsDirectory, msg);
    case ENOTDIR:
      return Status(Code::kNotDirectory, msg);
    case ENAMETOOLONG:
    case EINVAL:
      return Status(Code::kInvalidArgument, msg);
    case ETIMEDOUT:
      return Status(Code::kTimeout, msg);
    case ECONNREFUSED:
    case ECONNRESET:
    case EHOSTUNREACH:
    case ENETUNREACH:
      return Status(Code::kUnavailable, msg);
    default:
      return Status(Code::kIoError, msg);
  }
}

}  // namespace kdfs
