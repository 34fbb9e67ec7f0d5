// KdfsClient: the API v1 as C++ calls, for the `kdfs` command-line tool.
//
// Read-your-writes: the client remembers the highest X-Kdfs-Version it saw
// and sends it as X-Kdfs-Min-Version on every read. Writes carry an
// Idempotency-Key and are retried on transient failures (503, connection
// loss) with the same key, so a retry never applies twice.
//
// Thread-compatible: one client per thread.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/result.h"
#include "http/http_client.h"

namespace kdfs {

struct ClientOptions {
  std::string url = "http://127.0.0.1:8080";
  int timeout_ms = 60000;
  int retries = 5;
};

class KdfsClient {
 public:
  static Result<std::unique_ptr<KdfsClient>> Create(const ClientOptions& options);

  // Uploads `size` bytes produced by `source` to `remote`. Returns the JSON answer.
  Result<nlohmann::json> Put(const std::string& remote, std::optional<uint64_t> size,
                             const BodySource& source, bool rewindable,
                             const std::function<void()>& rewind);
  // Streams the file to `sink`; `on_size` is told the length first.
  Status Get(const std::string& remote, const std::function<void(uint64_t)>& on_size,
             const BodySink& sink);
  Result<nlohmann::json> Stat(const std::string& remote);
  // One page of a listing.
  Result<nlohmann::json> List(const std::string& remote, const std::string& after, int limit);
  Status Remove(const std::string& remote, bool recursive);
  Result<nlohmann::json> Mkdir(const std::string& remote);
  Result<nlohmann::json> Rename(const std::string& from, const std::string& to);
  Result<nlohmann::json> Cluster();

  // Read-your-writes state: the highest version seen (-1 none). Seed it with
  // what earlier invocations or other threads saw.
  int64_t seen_version() const { return seen_version_; }
  void SeedVersion(int64_t v) { seen_version_ = std::max(seen_version_, v); }
  const ClientOptions& options() const { return options_; }

 private:
  explicit KdfsClient(ClientOptions options, std::unique_ptr<HttpClient> http);
  std::vector<std::pair<std::string, std::string>> ReadHeaders() const;
  void Track(const HttpResponse& response);
  // Sends a request, retrying transient failures with the same headers.
  Result<HttpResponse> WithRetries(const std::function<Result<HttpResponse>()>& attempt);

  ClientOptions options_;
  std::unique_ptr<HttpClient> http_;
  int64_t seen_version_ = -1;
};

// Maps a non-2xx answer (JSON error body) to a Status.
Status StatusFromResponse(const HttpResponse& response);

}  // namespace kdfs
