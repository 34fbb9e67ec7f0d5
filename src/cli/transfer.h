// Transfers between local files and a kdfs cluster: single files, stdin and
// stdout ("-"), and whole directory trees with parallel workers.
//
// Directory mapping: `put DIR /r` uploads DIR/a/b as /r/a/b (the contents of
// DIR go under /r, empty directories included); `get /r DIR` is the inverse.
// A REMOTE (put) or LOCAL (get) ending in '/', or a LOCAL that is an existing
// directory, receives a single file under its own name.
//
// Downloads write LOCAL.kdfs-part and rename it when complete, so a failed
// transfer never leaves a truncated file under the real name.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/client.h"

namespace kdfs {

struct TransferOptions {
  int jobs = 4;           // parallel transfers for directories
  bool progress = false;  // draw a progress bar on stderr
};

struct TransferStats {
  uint64_t files = 0;
  uint64_t bytes = 0;
  bool directory = false;
  nlohmann::json answer;  // the server's answer for a single-file upload
};

Result<TransferStats> PutPath(KdfsClient& client, const std::string& local,
                              const std::string& remote, const TransferOptions& options);
Result<TransferStats> GetPath(KdfsClient& client, const std::string& remote,
                              const std::string& local, const TransferOptions& options);

// Runs fn(worker, i) for every i in [0, n) on up to `jobs` threads, each with
// its own client (seeded with `base`'s version; `base` learns the highest
// version any worker saw). Stops at the first error and returns it.
Status ForEachParallel(KdfsClient& base, int jobs, size_t n,
                       const std::function<Status(KdfsClient&, size_t)>& fn);

// "/a" + "b/c" -> "/a/b/c"; "/" + "b" -> "/b".
std::string JoinRemote(const std::string& dir, const std::string& rel);

}  // namespace kdfs
