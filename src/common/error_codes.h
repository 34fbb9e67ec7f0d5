// The one table of every error kdfs can report. Each row names the code used
// in C++, the HTTP status a client receives, and the stable string placed in
// the JSON error body {"error":{"code":...,"message":...}}.
//
// Add a row here, never a code anywhere else: errno, Redis and Kafka errors
// are mapped onto these rows once, at the edge where they are observed.
#pragma once

#define KDFS_ERROR_CODES(X)                             \
  X(kOk, 200, "ok")                                     \
  /* Client input. */                                   \
  X(kInvalidArgument, 400, "invalid_argument")          \
  X(kInvalidPath, 400, "invalid_path")                  \
  X(kNotFound, 404, "not_found")                        \
  X(kMethodNotAllowed, 405, "method_not_allowed")       \
  X(kLengthRequired, 411, "length_required")            \
  X(kPayloadTooLarge, 413, "payload_too_large")         \
  X(kRangeNotSatisfiable, 416, "range_not_satisfiable") \
  X(kHeadersTooLarge, 431, "headers_too_large")         \
  /* Conflicts with the current namespace. */           \
  X(kParentNotDirectory, 409, "parent_not_directory")   \
  X(kIsDirectory, 409, "is_directory")                  \
  X(kNotDirectory, 409, "not_directory")                \
  X(kDirectoryNotEmpty, 409, "directory_not_empty")     \
  X(kAlreadyExists, 409, "already_exists")              \
  X(kInvalidRename, 409, "invalid_rename")              \
  X(kLwwLost, 409, "superseded")                        \
  X(kPreconditionFailed, 412, "precondition_failed")    \
  /* Server side. */                                    \
  X(kInternal, 500, "internal")                         \
  X(kIoError, 500, "io_error")                          \
  X(kCorruption, 500, "corruption")                     \
  X(kUnavailable, 503, "unavailable")                   \
  X(kTimeout, 503, "timeout")                           \
  X(kNoSpace, 507, "insufficient_storage")

namespace kdfs {

enum class Code : int {
#define KDFS_X(name, http, wire) name,
  KDFS_ERROR_CODES(KDFS_X)
#undef KDFS_X
};

// The HTTP status a client receives for `code`.
int HttpStatusOf(Code code);
// The stable wire name of `code`, e.g. "not_found".
const char* WireNameOf(Code code);
// Inverse of WireNameOf; kInternal for an unknown name.
Code CodeFromWireName(const char* name);

}  // namespace kdfs
