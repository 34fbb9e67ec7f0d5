#include "api/api_handlers.h"

#include <charconv>
#include <chrono>
#include <ctime>

#include "api/range.h"
#include "http/error_body.h"

namespace kdfs {

namespace {

using json = nlohmann::json;

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

std::string Quoted(const std::string& etag) {
  return "\"" + etag + "\"";
}

// Strips the quotes and a weak marker of an entity tag from a header.
std::string Unquote(std::string_view tag) {
  if (StartsWith(tag, "W/")) tag.remove_prefix(2);
  if (tag.size() >= 2 && tag.front() == '"' && tag.back() == '"') {
    tag = tag.substr(1, tag.size() - 2);
  }
  return std::string(tag);
}

// True if any tag of a comma-separated If-None-Match / If-Match list is `etag` or "*".
bool TagListMatches(std::string_view list, const std::string& etag) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && item.front() == ' ')
      item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ')
      item.remove_suffix(1);
    if (item == "*" || Unquote(item) == etag) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

void SendJson(ResponseWriter& response, int status, const json& body) {
  response.SetHeader("Content-Type", "application/json");
  (void)response.Send(status, body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n");
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

// Answers 405 with an Allow header unless the request's method is `allowed`.
bool AllowOnly(const HttpRequest& request, ResponseWriter& response, const char* allowed) {
  if (request.method == allowed) return true;
  response.SetHeader("Allow", allowed);
  SendError(response, Status(Code::kMethodNotAllowed, std::string("use ") + allowed));
  return false;
}

// Sends the error of a failed or rejected write; otherwise sets its version
// header and returns true so that the caller sends the success body.
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

}  // namespace

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
  std::string route = Route(request, body, response);
  if (ctx_.metrics == nullptr) return;
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ctx_.metrics->Observe("kdfs_http_request_duration_seconds", "route=\"" + route + "\"", seconds);
  ctx_.metrics->Add("kdfs_http_requests_total",
                    "route=\"" + route + "\",method=\"" + request.method + "\"");
}

std::string ApiHandlers::Route(HttpRequest& request, BodyReader& body, ResponseWriter& response) {
  std::string_view path = request.path;
  const std::string& m = request.method;
  if (path == "/healthz") {
    response.SetHeader("Content-Type", "text/plain");
    (void)response.Send(200, "ok\n");
    return "healthz";
  }
  if (path == "/readyz") {
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
    response.SetHeader("Content-Type", "text/plain; version=0.0.4");
    (void)response.Send(200, ctx_.metrics ? ctx_.metrics->Render() : "");
    return "metrics";
  }
  if (path == "/v1/cluster" && (m == "GET" || m == "HEAD")) {
    SendJson(response, 200, ctx_.cluster ? ctx_.cluster() : json::object());
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
    if (AllowOnly(request, response, "GET")) List(request, rest, response);
    return "list";
  }
  if (MatchPrefix(path, "/v1/stat", &rest)) {
    if (AllowOnly(request, response, "GET")) Stat(request, rest, response);
    return "stat";
  }
  SendError(response, Status::NotFound("no such endpoint: " + std::string(path)));
  return "unknown";
}

void ApiHandlers::Files(const HttpRequest& request, std::string_view rest, BodyReader& body,
                        ResponseWriter& response) {
  auto path = PathFromRest(rest);
  if (!path.ok()) return SendError(response, path.status());
  const std::string& m = request.method;
  if (m == "PUT") return PutFile(request, *path, body, response);
  if (m == "GET" || m == "HEAD") return GetFile(request, *path, response);
  if (m == "DELETE") return DeleteFile(request, *path, response);
  response.SetHeader("Allow", "GET, HEAD, PUT, DELETE");
  SendError(response, Status(Code::kMethodNotAllowed, m + " is not supported on files"));
}

void ApiHandlers::SendWriteOutcome(const Result<ApplyOutcome>& outcome, const Path& path,
                                   int created_status, ResponseWriter& response) {
  if (!WriteApplied(outcome, response)) return;
  json body = {{"path", path.str()}, {"version", outcome->version}};
  if (!outcome->info.is_dir) {
    body["size"] = outcome->info.size;
    body["etag"] = outcome->info.etag;
    if (!outcome->info.etag.empty()) response.SetHeader("ETag", Quoted(outcome->info.etag));
  }
  SendJson(response, outcome->created ? created_status : 200, body);
}

void ApiHandlers::PutFile(const HttpRequest& request, const Path& path, BodyReader& body,
                          ResponseWriter& response) {
  if (!request.content_length && !request.headers.Has("transfer-encoding")) {
    return SendError(response, Status(Code::kLengthRequired,
                                      "PUT needs Content-Length or chunked transfer encoding"));
  }
  PutRequest put;
  put.path = path;
  put.content_type = request.headers.Get("content-type").value_or("application/octet-stream");
  if (auto m = request.headers.Get("if-match")) put.if_match = Unquote(*m);
  if (auto n = request.headers.Get("if-none-match")) {
    if (*n != "*") {
      return SendError(response, Status::InvalidArgument("PUT supports only If-None-Match: *"));
    }
    put.if_none_match_any = true;
  }
  put.idempotency_key = request.headers.Get("idempotency-key").value_or("");
  SendWriteOutcome(ctx_.files->Put(put, body, RequestDeadline()), path, 201, response);
}

bool ApiHandlers::WaitConsistent(const HttpRequest& request, ResponseWriter& response) {
  std::optional<int64_t> min_version;
  if (auto v = request.headers.Get("x-kdfs-min-version")) {
    int64_t parsed = 0;
    auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), parsed);
    if (ec != std::errc() || ptr != v->data() + v->size()) {
      SendError(response, Status::InvalidArgument("X-Kdfs-Min-Version must be an integer"));
      return false;
    }
    min_version = parsed;
  }
  bool strong = request.headers.Get("x-kdfs-consistency").value_or("") == "strong";
  if (!min_version && !strong) return true;
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(ctx_.consistency_wait_ms);
  Status st = ctx_.files->WaitConsistent(min_version, strong, deadline);
  if (!st.ok()) {
    SendError(response, st.code() == Code::kTimeout
                            ? Status::Unavailable("this node has not caught up: " + st.message())
                            : st);
    return false;
  }
  return true;
}

void ApiHandlers::GetFile(const HttpRequest& request, const Path& path, ResponseWriter& response) {
  if (!WaitConsistent(request, response)) return;
  auto info = ctx_.files->Stat(path);
  if (!info.ok()) return SendError(response, info.status());
  if (info->is_dir) {
    return SendError(response,
                     Status(Code::kIsDirectory, path.str() + " is a directory; use /v1/list"));
  }
  response.SetHeader("ETag", Quoted(info->etag));
  response.SetHeader("X-Kdfs-Version", std::to_string(info->version));
  response.SetHeader("Last-Modified", HttpDate(info->mtime.physical_ms));
  response.SetHeader("Accept-Ranges", "bytes");
  if (auto inm = request.headers.Get("if-none-match"); inm && TagListMatches(*inm, info->etag)) {
    (void)response.Send(304, "");
    return;
  }
  response.SetHeader("Content-Type",
                     info->content_type.empty() ? "application/octet-stream" : info->content_type);
  ByteRange range{0, info->size};
  int status = 200;
  if (auto header = request.headers.Get("range")) {
    auto parsed = ParseRange(*header, info->size);
    if (!parsed.ok()) {
      response.SetHeader("Content-Range", "bytes */" + std::to_string(info->size));
      return SendError(response, parsed.status());
    }
    if (parsed->has_value()) {
      range = **parsed;
      status = 206;
      response.SetHeader("Content-Range", "bytes " + std::to_string(range.offset) + "-" +
                                              std::to_string(range.offset + range.length - 1) +
                                              "/" + std::to_string(info->size));
    }
  }
  if (request.method == "HEAD") {
    (void)response.BeginStream(status, range.length);
    return;
  }
  auto deadline = RequestDeadline();
  // Load the first piece before committing to a status, so that a missing
  // chunk still yields a clean error response instead of a cut-off body.
  bool begun = false;
  Status st = ctx_.files->Read(
      *info, range.offset, range.length,
      [&](std::string_view piece) -> Status {
        if (!begun) {
          KDFS_RETURN_IF_ERROR(response.BeginStream(status, range.length));
          begun = true;
        }
        if (ctx_.metrics) ctx_.metrics->Add("kdfs_http_bytes_out_total", "", piece.size());
        return response.Write(piece);
      },
      deadline);
  if (!begun && st.ok()) st = response.BeginStream(status, range.length);
  if (!begun && !st.ok()) return SendError(response, st);
  (void)response.EndStream();  // on error the connection closes mid-body
}

void ApiHandlers::DeleteFile(const HttpRequest& request, const Path& path,
                             ResponseWriter& response) {
  bool recursive = request.query.count("recursive") && request.query.at("recursive") == "true";
  auto key = request.headers.Get("idempotency-key").value_or("");
  auto outcome = ctx_.files->Delete(path, recursive, key, RequestDeadline());
  if (WriteApplied(outcome, response)) (void)response.Send(204, "");
}

void ApiHandlers::Mkdir(const HttpRequest& request, std::string_view rest,
                        ResponseWriter& response) {
  auto path = PathFromRest(rest);
  if (!path.ok()) return SendError(response, path.status());
  auto key = request.headers.Get("idempotency-key").value_or("");
  SendWriteOutcome(ctx_.files->Mkdir(*path, key, RequestDeadline()), *path, 201, response);
}

void ApiHandlers::Rename(const HttpRequest& request, BodyReader& body, ResponseWriter& response) {
  std::string text;
  char buf[4096];
  for (;;) {
    auto n = body.Read(buf, sizeof buf);
    if (!n.ok()) return SendError(response, n.status());
    if (*n == 0) break;
    text.append(buf, *n);
    if (text.size() > 64 * 1024) {
      return SendError(response, Status(Code::kPayloadTooLarge, "rename body too large"));
    }
  }
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("from") || !doc.contains("to") ||
      !doc["from"].is_string() || !doc["to"].is_string()) {
    return SendError(
        response, Status::InvalidArgument(R"(body must be JSON {"from": "/path", "to": "/path"})"));
  }
  auto from = Path::Parse(doc["from"].get<std::string>());
  if (!from.ok()) return SendError(response, from.status());
  auto to = Path::Parse(doc["to"].get<std::string>());
  if (!to.ok()) return SendError(response, to.status());
  auto key = request.headers.Get("idempotency-key").value_or("");
  auto outcome = ctx_.files->Rename(*from, *to, key, RequestDeadline());
  if (!WriteApplied(outcome, response)) return;
  SendJson(response, 200,
           {{"from", from->str()}, {"to", to->str()}, {"version", outcome->version}});
}

void ApiHandlers::List(const HttpRequest& request, std::string_view rest,
                       ResponseWriter& response) {
  auto path = PathFromRest(rest);
  if (!path.ok()) return SendError(response, path.status());
  if (!WaitConsistent(request, response)) return;
  size_t limit = 1000;
  if (auto it = request.query.find("limit"); it != request.query.end()) {
    auto [ptr, ec] =
        std::from_chars(it->second.data(), it->second.data() + it->second.size(), limit);
    if (ec != std::errc() || ptr != it->second.data() + it->second.size() || limit == 0 ||
        limit > 10000) {
      return SendError(response, Status::InvalidArgument("limit must be 1..10000"));
    }
  }
  std::string after = request.query.count("after") ? request.query.at("after") : "";
  auto page = ctx_.files->List(*path, after, limit);
  if (!page.ok()) return SendError(response, page.status());
  json entries = json::array();
  for (const auto& e : page->entries) {
    entries.push_back({{"name", e.name},
                       {"type", e.info.is_dir ? "directory" : "file"},
                       {"size", e.info.size},
                       {"version", e.info.version},
                       {"mtime", e.info.mtime.physical_ms}});
  }
  json body = {{"path", path->str()}, {"entries", entries}, {"next", nullptr}};
  if (page->next) body["next"] = *page->next;
  SendJson(response, 200, body);
}

void ApiHandlers::Stat(const HttpRequest& request, std::string_view rest,
                       ResponseWriter& response) {
  auto path = PathFromRest(rest);
  if (!path.ok()) return SendError(response, path.status());
  if (!WaitConsistent(request, response)) return;
  auto info = ctx_.files->Stat(*path);
  if (!info.ok()) return SendError(response, info.status());
  response.SetHeader("X-Kdfs-Version", std::to_string(info->version));
  SendJson(response, 200, FileInfoJson(path->str(), *info));
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
