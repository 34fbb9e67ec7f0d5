#include "cli/client.h"

#include <chrono>
#include <thread>

#include "common/encoding.h"
#include "common/random_id.h"

namespace kdfs {

using json = nlohmann::json;

namespace {

bool Transient(const Result<HttpResponse>& r) {
  if (!r.ok())
    return r.status().code() == Code::kUnavailable || r.status().code() == Code::kTimeout;
  return r->status == 503 || r->status == 502 || r->status == 504;
}

Result<json> JsonBody(const HttpResponse& response) {
  if (response.status >= 300) return StatusFromResponse(response);
  json j = json::parse(response.body, nullptr, false);
  if (j.is_discarded()) return Status::Internal("server sent malformed JSON");
  return j;
}

}  // namespace

Status StatusFromResponse(const HttpResponse& response) {
  json j = json::parse(response.body, nullptr, false);
  std::string code = "internal", message = "HTTP " + std::to_string(response.status);
  if (!j.is_discarded() && j.contains("error")) {
    code = j["error"].value("code", code);
    message = j["error"].value("message", message);
  } else if (response.status == 404) {
    code = "not_found";
  }
  return Status(CodeFromWireName(code.c_str()), message);
}

Result<std::unique_ptr<KdfsClient>> KdfsClient::Create(const ClientOptions& options) {
  KDFS_ASSIGN_OR_RETURN(auto http, HttpClient::Create(options.url, options.timeout_ms));
  return std::unique_ptr<KdfsClient>(new KdfsClient(options, std::move(http)));
}

KdfsClient::KdfsClient(ClientOptions options, std::unique_ptr<HttpClient> http)
    : options_(std::move(options)), http_(std::move(http)) {}

std::vector<std::pair<std::string, std::string>> KdfsClient::ReadHeaders() const {
  if (seen_version_ < 0) return {};
  return {{"X-Kdfs-Min-Version", std::to_string(seen_version_)}};
}

void KdfsClient::Track(const HttpResponse& response) {
  if (auto v = response.headers.Get("x-kdfs-version")) {
    try {
      seen_version_ = std::max<int64_t>(seen_version_, std::stoll(*v));
    } catch (const std::exception&) {
    }
  }
}

Result<HttpResponse> KdfsClient::WithRetries(const std::function<Result<HttpResponse>()>& attempt) {
  int delay_ms = 200;
  for (int i = 0;; ++i) {
    auto r = attempt();
    if (!Transient(r) || i >= options_.retries) {
      if (r.ok()) Track(*r);
      return r;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    delay_ms = std::min(delay_ms * 2, 3000);
  }
}

Result<json> KdfsClient::Put(const std::string& remote, std::optional<uint64_t> size,
                             const BodySource& source, bool rewindable,
                             const std::function<void()>& rewind) {
  std::vector<std::pair<std::string, std::string>> headers = {{"Idempotency-Key", RandomId("cli")},
                                                              {"Expect", ""}};
  bool first = true;
  auto attempt = [&]() -> Result<HttpResponse> {
    if (!first) {
      if (!rewindable) return Status::Unavailable("upload from a stream cannot be retried");
      rewind();
    }
    first = false;
    return http_->Stream("PUT", "/v1/files" + PercentEncodePath(remote), headers, size, source,
                         nullptr);
  };
  KDFS_ASSIGN_OR_RETURN(HttpResponse r, WithRetries(attempt));
  return JsonBody(r);
}

Status KdfsClient::Get(const std::string& remote, const std::function<void(uint64_t)>& on_size,
                       const BodySink& sink) {
  uint64_t delivered = 0;
  auto counting_sink = [&](std::string_view piece) {
    delivered += piece.size();
    return sink(piece);
  };
  auto on_head = [&](const HttpResponse& head) {
    auto len = head.headers.Get("content-length");
    if (head.status >= 200 && head.status < 300 && len && on_size) on_size(std::stoull(*len));
  };
  KDFS_ASSIGN_OR_RETURN(
      HttpResponse r, WithRetries([&]() -> Result<HttpResponse> {
        auto r = http_->Stream("GET", "/v1/files" + PercentEncodePath(remote), ReadHeaders(),
                               std::nullopt, nullptr, counting_sink, on_head);
        // Bytes already written to the sink cannot be taken back: no retry.
        if (!r.ok() && delivered > 0) {
          return Status::IoError("download interrupted after " + std::to_string(delivered) +
                                 " bytes: " + r.status().message());
        }
        return r;
      }));
  if (r.status >= 300) return StatusFromResponse(r);
  return Status::Ok();
}

Result<json> KdfsClient::Stat(const std::string& remote) {
  KDFS_ASSIGN_OR_RETURN(HttpResponse r, WithRetries([&] {
                          return http_->Request("GET", "/v1/stat" + PercentEncodePath(remote),
                                                ReadHeaders());
                        }));
  return JsonBody(r);
}

Result<json> KdfsClient::List(const std::string& remote, const std::string& after, int limit) {
  std::string target = "/v1/list" + PercentEncodePath(remote) + "?limit=" + std::to_string(limit);
  if (!after.empty()) target += "&after=" + PercentEncodePath(after);
  KDFS_ASSIGN_OR_RETURN(HttpResponse r,
                        WithRetries([&] { return http_->Request("GET", target, ReadHeaders()); }));
  return JsonBody(r);
}

Status KdfsClient::Remove(const std::string& remote, bool recursive) {
  std::vector<std::pair<std::string, std::string>> headers = {{"Idempotency-Key", RandomId("cli")}};
  std::string target = "/v1/files" + PercentEncodePath(remote);
  if (recursive) target += "?recursive=true";
  KDFS_ASSIGN_OR_RETURN(HttpResponse r,
                        WithRetries([&] { return http_->Request("DELETE", target, headers); }));
  if (r.status >= 300) return StatusFromResponse(r);
  return Status::Ok();
}

Result<json> KdfsClient::Mkdir(const std::string& remote) {
  std::vector<std::pair<std::string, std::string>> headers = {{"Idempotency-Key", RandomId("cli")}};
  KDFS_ASSIGN_OR_RETURN(HttpResponse r, WithRetries([&] {
                          return http_->Request("POST", "/v1/mkdir" + PercentEncodePath(remote),
                                                headers);
                        }));
  return JsonBody(r);
}

Result<json> KdfsClient::Rename(const std::string& from, const std::string& to) {
  std::vector<std::pair<std::string, std::string>> headers = {{"Idempotency-Key", RandomId("cli")},
                                                              {"Content-Type", "application/json"}};
  std::string body = json{{"from", from}, {"to", to}}.dump();
  KDFS_ASSIGN_OR_RETURN(HttpResponse r, WithRetries([&] {
                          return http_->Request("POST", "/v1/rename", headers, body);
                        }));
  return JsonBody(r);
}

Result<json> KdfsClient::Cluster() {
  KDFS_ASSIGN_OR_RETURN(HttpResponse r,
                        WithRetries([&] { return http_->Request("GET", "/v1/cluster", {}); }));
  return JsonBody(r);
}

}  // namespace kdfs
