// The namespace handlers: mkdir, rename, list and stat.
#include <charconv>

#include "api/api_handlers.h"
#include "api/http_conditions.h"

namespace kdfs {

using json = nlohmann::json;

namespace {

constexpr size_t kMaxJsonBody = 64 * 1024;

// Reads a small request body whole; kPayloadTooLarge past `limit` bytes.
Result<std::string> ReadSmallBody(BodyReader& body, size_t limit) {
  std::string text;
  char buf[4096];
  for (;;) {
    KDFS_ASSIGN_OR_RETURN(size_t n, body.Read(buf, sizeof buf));
    if (n == 0) return text;
    text.append(buf, n);
    if (text.size() > limit) {
      return Status(Code::kPayloadTooLarge,
                    "JSON body larger than " + std::to_string(limit) + " bytes");
    }
  }
}

Result<size_t> ParseLimit(const HttpRequest& request) {
  auto it = request.query.find("limit");
  if (it == request.query.end()) return size_t{1000};
  size_t limit = 0;
  const std::string& s = it->second;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), limit);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || limit == 0 || limit > 10000) {
    return Status::InvalidArgument("limit must be 1..10000");
  }
  return limit;
}

}  // namespace

void ApiHandlers::Mkdir(const HttpRequest& request, std::string_view rest,
                        ResponseWriter& response) {
  auto path = PathFromRest(rest);
  if (!path.ok()) return SendError(response, path.status());
  auto key = ParseIdempotencyKey(request.headers.Get("idempotency-key"));
  if (!key.ok()) return SendError(response, key.status());
  SendWriteOutcome(ctx_.files->Mkdir(*path, *key, RequestDeadline()), *path, 201, response);
}

void ApiHandlers::Rename(const HttpRequest& request, BodyReader& body, ResponseWriter& response) {
  auto text = ReadSmallBody(body, kMaxJsonBody);
  if (!text.ok()) return SendError(response, text.status());
  json doc = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("from") || !doc.contains("to") ||
      !doc["from"].is_string() || !doc["to"].is_string()) {
    return SendError(
        response, Status::InvalidArgument(R"(body must be JSON {"from": "/path", "to": "/path"})"));
  }
  auto from = Path::Parse(doc["from"].get<std::string>());
  if (!from.ok()) return SendError(response, from.status());
  auto to = Path::Parse(doc["to"].get<std::string>());
  if (!to.ok()) return SendError(response, to.status());
  auto key = ParseIdempotencyKey(request.headers.Get("idempotency-key"));
  if (!key.ok()) return SendError(response, key.status());
  auto outcome = ctx_.files->Rename(*from, *to, *key, RequestDeadline());
  if (!WriteApplied(outcome, response)) return;
  SendJson(response, 200,
           {{"from", from->str()}, {"to", to->str()}, {"version", outcome->version}});
}

void ApiHandlers::List(const HttpRequest& request, std::string_view rest,
                       ResponseWriter& response) {
  auto path = PathFromRest(rest);
  if (!path.ok()) return SendError(response, path.status());
  auto limit = ParseLimit(request);
  if (!limit.ok()) return SendError(response, limit.status());
  std::string after = request.query.count("after") ? request.query.at("after") : "";
  if (!after.empty()) {
    Status valid = Path::ValidateName(after);
    if (!valid.ok()) return SendError(response, valid);
  }
  if (!WaitConsistent(request, response)) return;
  auto page = ctx_.files->List(*path, after, *limit);
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

}  // namespace kdfs
