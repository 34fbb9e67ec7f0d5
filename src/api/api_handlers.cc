#include "api/api_handlers.h"

#include <chrono>
#include <ctime>

#include "api/docs_handlers.h"
#include "api/metered_io.h"
#include "http/error_body.h"

namespace kdfs {

namespace {

using json = nlohmann::json;

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// True if `path` is `prefix` or lies below it; `*rest` is what follows "prefix/".
bool MatchPrefix(std::string_view path, std::string_view prefix, std::string_view* rest) {
  if (path == prefix) {
    *rest = {};
    return true;
  }
  if (path.size() <= prefix.size() || !StartsWith(path, prefix) || path[prefix.size()] != '/') {
    return false;
  }
  *rest = path.substr(prefix.size() + 1);
  return true;
}

// The method as a metrics label: unknown methods share one label, so that a
// client cannot grow the label set without bound.
std::string MethodLabel(const HttpRequest& request) {
  static const char* const kKnown[] = {"GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "PATCH"};
  for (const char* m : kKnown) {
    if (request.method == m) return m;
  }
  return "other";
}

// Answers 405 with an Allow header unless the request's method is one of
// `allowed`, a list such as "GET, HEAD".
bool AllowOnly(const HttpRequest& request, ResponseWriter& response, std::string_view allowed) {
  for (std::string_view list = allowed; !list.empty();) {
    size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && item.front() == ' ')
      item.remove_prefix(1);
    if (item == request.method) return true;
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
  }
  response.SetHeader("Allow", allowed);
  SendError(response, Status(Code::kMethodNotAllowed, "use " + std::string(allowed)));
  return false;
}

}  // namespace

void SendJson(ResponseWriter& response, int status, const json& body) {
  response.SetHeader("Content-Type", "application/json");
  (void)response.Send(status, body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n");
}

bool WriteApplied(const Result<ApplyOutcome>& outcome, ResponseWriter& response) {
  if (!outcome.ok()) {
    SendError(response, outcome.status());
    return false;
  }
  response.SetHeader("X-Kdfs-Version", std::to_string(outcome->version));
  if (!outcome->status.ok()) {
    SendError(response, outcome->status);
    return false;
  }
  return true;
}

Result<Path> PathFromRest(std::string_view rest) {
  return Path::FromUrl("/" + std::string(rest));
}

void SendError(ResponseWriter& response, const Status& status) {
  if (status.code() == Code::kUnavailable || status.code() == Code::kTimeout) {
    response.SetHeader("Retry-After", "1");
  }
  response.SetHeader("Content-Type", "application/json");
  (void)response.Send(HttpStatusOf(status.code()), ErrorBody(status));
}

std::string HttpDate(int64_t unix_ms) {
  std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

json FileInfoJson(const std::string& path, const FileInfo& info) {
  json j = {{"path", path},
            {"type", info.is_dir ? "directory" : "file"},
            {"size", info.size},
            {"version", info.version},
            {"mtime", info.mtime.physical_ms},
            {"hlc", info.mtime.Encode()},
            {"mode", info.mode}};
  if (!info.is_dir) {
    j["etag"] = info.etag;
    j["content_type"] = info.content_type;
    j["chunks"] = info.chunks.size();
  }
  return j;
}

ApiHandlers::ApiHandlers(ApiContext context) : ctx_(std::move(context)) {}

Deadline ApiHandlers::RequestDeadline() const {
  return std::chrono::steady_clock::now() + std::chrono::milliseconds(ctx_.request_timeout_ms);
}

void ApiHandlers::Handle(HttpRequest& request, BodyReader& body, ResponseWriter& response) {
  auto start = std::chrono::steady_clock::now();
  CountingBodyReader in(body);
  RecordingResponseWriter out(response);
  std::string route = Route(request, in, out);
  if (ctx_.metrics == nullptr) return;
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string by_route = "route=\"" + route + "\"";
  ctx_.metrics->Observe("kdfs_http_request_duration_seconds", by_route, seconds);
  ctx_.metrics->Add("kdfs_http_requests_total", by_route + ",method=\"" + MethodLabel(request) +
                                                    "\",code=\"" + std::to_string(out.status()) +
                                                    "\"");
  ctx_.metrics->Add("kdfs_http_bytes_in_total", by_route, static_cast<double>(in.bytes()));
  if (request.method != "HEAD") {
    ctx_.metrics->Add("kdfs_http_bytes_out_total", by_route, static_cast<double>(out.bytes()));
  }
}

std::string ApiHandlers::Route(HttpRequest& request, BodyReader& body, ResponseWriter& response) {
  std::string_view path = request.path;
  const std::string& m = request.method;
  constexpr std::string_view kRead = "GET, HEAD";
  if (path == "/healthz") {
    if (!AllowOnly(request, response, kRead)) return "healthz";
    response.SetHeader("Content-Type", "text/plain");
    (void)response.Send(200, "ok\n");
    return "healthz";
  }
  if (path == "/readyz") {
    if (!AllowOnly(request, response, kRead)) return "readyz";
    Status ready = ctx_.readiness ? ctx_.readiness() : Status::Ok();
    if (ready.ok()) {
      response.SetHeader("Content-Type", "text/plain");
      (void)response.Send(200, "ready\n");
    } else {
      SendError(response, Status::Unavailable(ready.message()));
    }
    return "readyz";
  }
  if (path == "/metrics") {
    if (!AllowOnly(request, response, kRead)) return "metrics";
    response.SetHeader("Content-Type", "text/plain; version=0.0.4");
    (void)response.Send(200, ctx_.metrics ? ctx_.metrics->Render() : "");
    return "metrics";
  }
  if (path == "/v1/cluster") {
    if (AllowOnly(request, response, kRead)) {
      SendJson(response, 200, ctx_.cluster ? ctx_.cluster() : json::object());
    }
    return "cluster";
  }
  if (path == "/internal/status" && m == "GET") {
    SendJson(response, 200, ctx_.local_status ? ctx_.local_status() : json::object());
    return "internal_status";
  }
  if (StartsWith(path, "/internal/chunks/") && m == "GET") {
    InternalChunk(path.substr(std::string_view("/internal/chunks/").size()), response);
    return "internal_chunk";
  }
  std::string_view rest;
  if (MatchPrefix(path, "/v1/files", &rest)) {
    Files(request, rest, body, response);
    return "files";
  }
  if (MatchPrefix(path, "/v1/mkdir", &rest)) {
    if (AllowOnly(request, response, "POST")) Mkdir(request, rest, response);
    return "mkdir";
  }
  if (path == "/v1/rename") {
    if (AllowOnly(request, response, "POST")) Rename(request, body, response);
    return "rename";
  }
  if (MatchPrefix(path, "/v1/list", &rest)) {
    if (AllowOnly(request, response, kRead)) List(request, rest, response);
    return "list";
  }
  if (MatchPrefix(path, "/v1/stat", &rest)) {
    if (AllowOnly(request, response, kRead)) Stat(request, rest, response);
    return "stat";
  }
  if (auto docs = ServeDocs(request, response)) return *docs;
  SendError(response, Status::NotFound("no such endpoint: " + std::string(path)));
  return "unknown";
}

void ApiHandlers::InternalChunk(std::string_view hex, ResponseWriter& response) {
  auto id = ChunkId::FromHex(hex);
  if (!id.ok()) return SendError(response, id.status());
  auto data = ctx_.files->ReadChunk(*id);
  if (!data.ok()) return SendError(response, data.status());
  response.SetHeader("Content-Type", "application/octet-stream");
  (void)response.Send(200, *data);
}

}  // namespace kdfs
