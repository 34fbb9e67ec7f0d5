// The /v1/files handlers: PUT, GET, HEAD and DELETE of one path.
#include "api/api_handlers.h"
#include "api/http_conditions.h"
#include "api/range.h"

namespace kdfs {

using json = nlohmann::json;

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
    if (!outcome->info.etag.empty()) response.SetHeader("ETag", QuoteEtag(outcome->info.etag));
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
  if (auto m = request.headers.Get("if-match")) {
    auto tag = ParseIfMatch(*m);
    if (!tag.ok()) return SendError(response, tag.status());
    put.if_match = *tag;
  }
  if (auto n = request.headers.Get("if-none-match")) {
    if (*n != "*") {
      return SendError(response, Status::InvalidArgument("PUT supports only If-None-Match: *"));
    }
    put.if_none_match_any = true;
  }
  auto key = ParseIdempotencyKey(request.headers.Get("idempotency-key"));
  if (!key.ok()) return SendError(response, key.status());
  put.idempotency_key = *key;
  auto timeout = std::chrono::milliseconds(ctx_.request_timeout_ms);
  SendWriteOutcome(ctx_.files->Put(put, body, timeout), path, 201, response);
}

bool ApiHandlers::WaitConsistent(const HttpRequest& request, ResponseWriter& response) {
  std::optional<int64_t> min_version;
  if (auto v = request.headers.Get("x-kdfs-min-version")) {
    auto parsed = ParseMinVersion(*v);
    if (!parsed.ok()) {
      SendError(response, parsed.status());
      return false;
    }
    min_version = *parsed;
  }
  bool strong = false;
  if (auto c = request.headers.Get("x-kdfs-consistency")) {
    if (*c != "strong" && *c != "local") {
      SendError(response, Status::InvalidArgument("X-Kdfs-Consistency is 'strong' or 'local'"));
      return false;
    }
    strong = *c == "strong";
  }
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
  response.SetHeader("ETag", QuoteEtag(info->etag));
  response.SetHeader("X-Kdfs-Version", std::to_string(info->version));
  response.SetHeader("Last-Modified", HttpDate(info->mtime.physical_ms));
  response.SetHeader("Accept-Ranges", "bytes");
  if (auto inm = request.headers.Get("if-none-match"); inm && EtagListMatches(*inm, info->etag)) {
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
  StreamFile(*info, range, status, response);
}

void ApiHandlers::StreamFile(const FileInfo& info, const ByteRange& range, int status,
                             ResponseWriter& response) {
  // Load the first piece before committing to a status, so that a missing
  // chunk still yields a clean error response instead of a cut-off body.
  bool begun = false;
  Status st = ctx_.files->Read(
      info, range.offset, range.length,
      [&](std::string_view piece) -> Status {
        if (!begun) {
          KDFS_RETURN_IF_ERROR(response.BeginStream(status, range.length));
          begun = true;
        }
        return response.Write(piece);
      },
      std::chrono::milliseconds(ctx_.request_timeout_ms));
  if (!begun && st.ok()) st = response.BeginStream(status, range.length);
  if (!begun && !st.ok()) return SendError(response, st);
  (void)response.EndStream();  // on error the connection closes mid-body
}

void ApiHandlers::DeleteFile(const HttpRequest& request, const Path& path,
                             ResponseWriter& response) {
  bool recursive = false;
  if (auto it = request.query.find("recursive"); it != request.query.end()) {
    if (it->second != "true" && it->second != "false") {
      return SendError(response, Status::InvalidArgument("recursive must be true or false"));
    }
    recursive = it->second == "true";
  }
  auto key = ParseIdempotencyKey(request.headers.Get("idempotency-key"));
  if (!key.ok()) return SendError(response, key.status());
  auto outcome = ctx_.files->Delete(path, recursive, *key, RequestDeadline());
  if (WriteApplied(outcome, response)) (void)response.Send(204, "");
}

}  // namespace kdfs
