// ApiHandlers: HTTP API v1 (DESIGN §5) as thin handlers: parse the request,
// call FileService, map the Result to a status, headers and a JSON body.
// Routing, metrics and the shared helpers live in api_handlers.cc, the file
// handlers in files_handlers.cc, the namespace ones in namespace_handlers.cc.
// docs/API.md documents every operation.
//
// Thread-safe: Handle() runs on every connection thread at once.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "api/file_service.h"
#include "api/range.h"
#include "common/metrics.h"
#include "http/http_types.h"

namespace kdfs {

struct ApiContext {
  FileService* files = nullptr;
  Metrics* metrics = nullptr;
  // Ok when this node should receive traffic; the reason otherwise.
  std::function<Status()> readiness;
  // This node's own status (GET /internal/status).
  std::function<nlohmann::json()> local_status;
  // The cluster as this node sees it (GET /v1/cluster).
  std::function<nlohmann::json()> cluster;
  int request_timeout_ms = 30000;
  int consistency_wait_ms = 10000;  // bound on X-Kdfs-Min-Version waits
};

class ApiHandlers {
 public:
  explicit ApiHandlers(ApiContext context);
  void Handle(HttpRequest& request, BodyReader& body, ResponseWriter& response);

 private:
  // Each returns the route label used in metrics.
  std::string Route(HttpRequest& request, BodyReader& body, ResponseWriter& response);
  void Files(const HttpRequest& request, std::string_view rest, BodyReader& body,
             ResponseWriter& response);
  void PutFile(const HttpRequest& request, const Path& path, BodyReader& body,
               ResponseWriter& response);
  void GetFile(const HttpRequest& request, const Path& path, ResponseWriter& response);
  // Streams `range` of `info`; a read failing before the first byte is sent
  // still gets a JSON error, a later one cuts the connection.
  void StreamFile(const FileInfo& info, const ByteRange& range, int status,
                  ResponseWriter& response);
  void DeleteFile(const HttpRequest& request, const Path& path, ResponseWriter& response);
  void Mkdir(const HttpRequest& request, std::string_view rest, ResponseWriter& response);
  void Rename(const HttpRequest& request, BodyReader& body, ResponseWriter& response);
  void List(const HttpRequest& request, std::string_view rest, ResponseWriter& response);
  void Stat(const HttpRequest& request, std::string_view rest, ResponseWriter& response);
  void InternalChunk(std::string_view hex, ResponseWriter& response);

  // Applies X-Kdfs-Min-Version / X-Kdfs-Consistency; false after answering.
  bool WaitConsistent(const HttpRequest& request, ResponseWriter& response);
  void SendWriteOutcome(const Result<ApplyOutcome>& outcome, const Path& path, int created_status,
                        ResponseWriter& response);
  Deadline RequestDeadline() const;

  ApiContext ctx_;
};

// Sends `status` as a JSON error (with Retry-After for 503).
void SendError(ResponseWriter& response, const Status& status);
// Sends `body` as application/json.
void SendJson(ResponseWriter& response, int status, const nlohmann::json& body);
// Sends the error of a failed or rejected write and returns false; otherwise
// sets its X-Kdfs-Version header and returns true (the caller sends the body).
bool WriteApplied(const Result<ApplyOutcome>& outcome, ResponseWriter& response);
// The path named by the URL remainder after a route prefix ("a/b" -> "/a/b"),
// percent-decoded and validated.
Result<Path> PathFromRest(std::string_view rest);
// JSON of a FileInfo as returned by stat and list.
nlohmann::json FileInfoJson(const std::string& path, const FileInfo& info);
// RFC 7231 IMF-fixdate of a Unix time in milliseconds.
std::string HttpDate(int64_t unix_ms);

}  // namespace kdfs
