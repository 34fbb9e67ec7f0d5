#include "cli/loadgen.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <mutex>
#include <thread>

#include "common/encoding.h"
#include "http/http_client.h"

namespace kdfs {

namespace {

using Clock = std::chrono::steady_clock;

struct Phase {
  const LoadOptions& options;
  bool put;
  std::string body;
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::vector<double> latencies_ms;
  LoadResult result;

  std::string Target(size_t i) const {
    std::string path = options.prefix + "/f" + std::to_string(i);
    return options.raw ? PercentEncodePath(path) : "/v1/files" + PercentEncodePath(path);
  }

  void Fail(const std::string& what) {
    std::lock_guard<std::mutex> lock(mu);
    ++result.errors;
    if (result.first_error.empty()) result.first_error = what;
  }

  // One client's loop: takes file indices until none are left.
  void Worker() {
    auto client = HttpClient::Create(options.url, options.timeout_ms);
    if (!client.ok()) return Fail(client.status().ToString());
    std::vector<std::pair<std::string, std::string>> headers;
    if (!put && !options.raw && options.min_version >= 0) {
      headers.emplace_back("X-Kdfs-Min-Version", std::to_string(options.min_version));
    }
    std::vector<double> mine;
    int64_t max_version = -1;
    for (size_t i; (i = next++) < options.files;) {
      auto start = Clock::now();
      auto r = (*client)->Request(put ? "PUT" : "GET", Target(i), headers,
                                  put ? std::string_view(body) : std::string_view());
      double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      if (!r.ok()) {
        Fail(r.status().ToString());
        continue;
      }
      if (r->status < 200 || r->status >= 300) {
        Fail("HTTP " + std::to_string(r->status) + " " + r->body.substr(0, 200));
        continue;
      }
      if (!put && r->body.size() != options.size) {
        Fail("GET returned " + std::to_string(r->body.size()) + " bytes");
        continue;
      }
      if (auto v = r->headers.Get("x-kdfs-version")) {
        max_version = std::max<int64_t>(max_version, std::atoll(v->c_str()));
      }
      mine.push_back(ms);
    }
    std::lock_guard<std::mutex> lock(mu);
    latencies_ms.insert(latencies_ms.end(), mine.begin(), mine.end());
    result.max_version = std::max(result.max_version, max_version);
  }

  LoadResult Run() {
    result.op = put ? "put" : "get";
    if (put) body.assign(options.size, 'k');
    auto start = Clock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < std::max(options.clients, 1); ++t)
      threads.emplace_back([this] { Worker(); });
    for (auto& t : threads)
      t.join();
    result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    std::sort(latencies_ms.begin(), latencies_ms.end());
    result.ok = latencies_ms.size();
    result.rate = result.seconds > 0 ? result.ok / result.seconds : 0;
    result.p50_ms = Quantile(latencies_ms, 0.50);
    result.p99_ms = Quantile(latencies_ms, 0.99);
    result.max_ms = latencies_ms.empty() ? 0 : latencies_ms.back();
    return result;
  }
};

}  // namespace

double Quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(q * sorted.size()));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

nlohmann::json LoadResult::ToJson() const {
  return {{"op", op},           {"ok", ok},         {"errors", errors},
          {"seconds", seconds}, {"rate", rate},     {"p50_ms", p50_ms},
          {"p99_ms", p99_ms},   {"max_ms", max_ms}, {"first_error", first_error}};
}

Result<std::vector<LoadResult>> RunLoad(const LoadOptions& options) {
  KDFS_ASSIGN_OR_RETURN(Url url, Url::Parse(options.url));
  (void)url;
  std::vector<LoadResult> out;
  LoadOptions effective = options;
  if (options.put) {
    Phase phase{options, true};
    out.push_back(phase.Run());
    effective.min_version = std::max(effective.min_version, out.back().max_version);
  }
  if (options.get) {
    Phase phase{effective, false};
    out.push_back(phase.Run());
  }
  return out;
}

}  // namespace kdfs
