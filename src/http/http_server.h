// HttpServer: HTTP/1.1 over Boost.Beast, one thread per connection.
//
// Why threads and blocking I/O: handlers stream request bodies into the chunk
// store and wait on Kafka acknowledgements; blocking code keeps that simple
// and memory bounded by one read window per connection. Connections are
// capped (max_connections) and idle sockets time out, so a slow client can
// hold one thread at most for idle_timeout_ms. A connection closed while the
// client may still be sending its request body (the answer came before the
// body was read: 412, 413, ...) is half-closed and drained for up to 10 s
// (lingering close), so that the client can read the answer instead of a
// reset. See docs/ARCHITECTURE.md.
//
// Thread-safety: Start/Stop from one owner thread. The handler is called
// concurrently from connection threads and must be thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/result.h"
#include "http/http_types.h"

namespace kdfs {

using HttpHandler = std::function<void(HttpRequest&, BodyReader&, ResponseWriter&)>;

struct HttpServerOptions {
  std::string listen = "0.0.0.0:8081";    // host:port; port 0 picks a free one
  uint32_t max_header_bytes = 16 << 10;   // larger heads get 431
  uint64_t max_body_bytes = 64ULL << 30;  // larger bodies get 413
  int max_connections = 1024;             // more get 503 and are closed
  int idle_timeout_ms = 60000;            // a socket read/write stalled this long is closed
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts accepting. kUnavailable (address in use) or
  // kInvalidArgument (bad address).
  Status Start();
  // Stops accepting, shuts down open connections, waits for their threads.
  void Stop();
  // The bound port (after Start), useful with port 0.
  int port() const;
  int active_connections() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kdfs
