// LoadGen: the `kdfs bench` load generator. C concurrent clients, each a
// thread with one kept-alive HttpClient connection, PUT and/or GET N files
// of S bytes and report the rate and latency percentiles. The same generator
// drives other HTTP servers (nginx, a SeaweedFS filer) in "raw" mode, where
// file i is <url><prefix>/f<i> instead of <url>/v1/files<prefix>/f<i>.
//
// In kdfs mode GETs carry X-Kdfs-Min-Version of the highest version the PUT
// phase saw, so they read what was written through any node.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/result.h"

namespace kdfs {

struct LoadOptions {
  std::string url;     // e.g. http://127.0.0.1:8080
  std::string prefix;  // directory of the files, e.g. /bench/x
  bool raw = false;
  bool put = true;
  bool get = true;
  size_t files = 1000;
  size_t size = 4096;
  int clients = 8;
  int timeout_ms = 30000;
  int64_t min_version = -1;
};

struct LoadResult {
  std::string op;  // "put" or "get"
  size_t ok = 0;
  size_t errors = 0;
  std::string first_error;
  double seconds = 0;
  double rate = 0;  // successful operations per second
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
  int64_t max_version = -1;  // highest X-Kdfs-Version seen
  nlohmann::json ToJson() const;
};

// Runs the PUT phase, then the GET phase (each if enabled).
Result<std::vector<LoadResult>> RunLoad(const LoadOptions& options);

// The q-quantile (0..1) of `sorted` by nearest rank; 0 for an empty vector.
double Quantile(const std::vector<double>& sorted, double q);

}  // namespace kdfs
