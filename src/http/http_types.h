// The HTTP vocabulary handlers see: a parsed request head, a body reader and a
// response writer. Nothing here names Boost.Beast, so handlers and their unit
// tests do not depend on the transport.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace kdfs {

// Case-insensitive header lookup (names are stored lower-cased).
class HeaderMap {
 public:
  void Set(std::string_view name, std::string_view value);
  // The value of `name`, or nullopt. Case-insensitive.
  std::optional<std::string> Get(std::string_view name) const;
  bool Has(std::string_view name) const { return Get(name).has_value(); }
  const std::map<std::string, std::string>& all() const { return headers_; }

 private:
  std::map<std::string, std::string> headers_;
};

struct HttpRequest {
  std::string method;                        // upper case, e.g. "GET"
  std::string target;                        // as received: path and query, still percent-encoded
  std::string path;                          // target before '?', still percent-encoded
  std::map<std::string, std::string> query;  // decoded
  HeaderMap headers;
  std::optional<uint64_t> content_length;  // absent for chunked or no body
  std::string remote;                      // peer address, for logs
};

// Reads a request body incrementally. Not thread-safe: one request, one thread.
class BodyReader {
 public:
  virtual ~BodyReader() = default;
  // Reads up to `n` bytes into `out`; returns 0 at the end of the body.
  // kPayloadTooLarge past the configured limit; kInvalidArgument when the
  // client disconnects or sends fewer bytes than its Content-Length.
  virtual Result<size_t> Read(char* out, size_t n) = 0;
};

// Writes one response, either whole or streamed. Not thread-safe.
class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  virtual void SetHeader(std::string_view name, std::string_view value) = 0;
  // Sends status, headers and `body` (Content-Length set from it).
  virtual Status Send(int status, std::string_view body) = 0;
  // Starts a streamed response of exactly `content_length` bytes; for HEAD
  // requests no body bytes follow and Write() must not be called.
  virtual Status BeginStream(int status, uint64_t content_length) = 0;
  virtual Status Write(std::string_view data) = 0;
  virtual Status EndStream() = 0;
  // True once a status line has been sent.
  virtual bool started() const = 0;
};

// Splits "a=1&b=x%20y" into decoded pairs; malformed escapes are kept as is.
std::map<std::string, std::string> ParseQuery(std::string_view query);

}  // namespace kdfs
