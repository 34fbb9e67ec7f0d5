// The metadata subcommands of `kdfs` (ls, rm, mv, mkdir, stat, cluster) and
// the mapping of errors to exit codes.
//
// Exit codes: 0 success, 1 other error, 2 usage, 3 not found, 4 conflict or
// precondition failed, 5 unavailable (no leader, Kafka down, timeout).
#pragma once

#include <string>

#include "cli/client.h"

namespace kdfs {

int ExitCodeOf(const Status& st);
// Prints "kdfs: <code>: <message>" on stderr; returns the exit code.
int Fail(const Status& st);

// Lists a directory, `page_size` entries per request. `-l`: type, size,
// version, modification time (UTC), name.
int ListCommand(KdfsClient& c, const std::string& remote, bool long_format, int page_size);
int RemoveCommand(KdfsClient& c, const std::string& remote, bool recursive);
int MoveCommand(KdfsClient& c, const std::string& from, const std::string& to);
// Without `parents` the parent must exist and the path must not: like mkdir(1).
int MkdirCommand(KdfsClient& c, const std::string& remote, bool parents);
int StatCommand(KdfsClient& c, const std::string& remote);
// A table of the nodes: role, readiness, applied version, lag, digest.
int ClusterCommand(KdfsClient& c);

}  // namespace kdfs
