// HttpClient: a blocking HTTP/1.1 client on Boost.Beast with one kept-alive
// connection, used between nodes (chunk fetches, cluster status) and by the
// `kdfs` command-line client. Bodies can be streamed both ways.
//
// Thread-compatible: one client per thread (it owns one connection).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "http/http_types.h"

namespace kdfs {

struct HttpResponse {
  int status = 0;
  HeaderMap headers;
  std::string body;  // empty when streamed to a sink
};

// Supplies a request body: fills `out` with up to `n` bytes, returns 0 at end.
using BodySource = std::function<Result<size_t>(char* out, size_t n)>;
// Receives response body pieces in order.
using BodySink = std::function<Status(std::string_view piece)>;
// Sees the status and headers of a streamed response before its body.
using HeadCallback = std::function<void(const HttpResponse& head)>;

struct Url {
  std::string host;
  int port = 80;
  std::string path_prefix;  // without a trailing '/'
  // Parses "http://host:port/prefix"; kInvalidArgument otherwise (https is not
  // supported by this client).
  static Result<Url> Parse(std::string_view text);
};

class HttpClient {
 public:
  // REQUIRES: base_url is http://host[:port][/prefix]
  static Result<std::unique_ptr<HttpClient>> Create(std::string_view base_url, int timeout_ms);
  ~HttpClient();

  // Sends a request with a whole body, returns the whole response.
  // Transport failures are kUnavailable (connect) or kTimeout.
  Result<HttpResponse> Request(std::string_view method, std::string_view target,
                               const std::vector<std::pair<std::string, std::string>>& headers,
                               std::string_view body = {});
  // Sends a request whose body comes from `source` (Content-Length
  // `content_length` if given, else chunked), and streams a 2xx response
  // body into `sink` (other statuses are returned whole in body).
  // `on_head`, if set, is called with the status and headers first.
  Result<HttpResponse> Stream(std::string_view method, std::string_view target,
                              const std::vector<std::pair<std::string, std::string>>& headers,
                              std::optional<uint64_t> content_length, const BodySource& source,
                              const BodySink& sink, const HeadCallback& on_head = nullptr);

 private:
  class Impl;
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kdfs
