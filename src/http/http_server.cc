#include "http/http_server.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "common/host_port.h"
#include "http/beast_io.h"
#include "http/timed_socket.h"

namespace kdfs {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions options, HttpHandler handler)
      : options_(std::move(options)), handler_(std::move(handler)) {}

  Status Start() {
    KDFS_ASSIGN_OR_RETURN(HostPort listen, ParseHostPort(options_.listen, "listen address"));
    const std::string& host = listen.host;
    const int port = listen.port;
    beast::error_code ec;
    auto address = asio::ip::make_address(host.empty() ? "0.0.0.0" : host, ec);
    if (ec) return Status::InvalidArgument("bad listen address '" + host + "'");
    tcp::endpoint endpoint(address, static_cast<uint16_t>(port));
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Status::Unavailable("cannot listen on " + options_.listen + ": " + ec.message());
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { AcceptLoop(); });
    return Status::Ok();
  }

  void Stop() {
    if (stopping_.exchange(true)) return;
    beast::error_code ec;
    acceptor_.cancel(ec);
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    acceptor_.close(ec);
    if (accept_thread_.joinable()) accept_thread_.join();
    std::unique_lock lock(mu_);
    for (int fd : open_fds_)
      ::shutdown(fd, SHUT_RDWR);
    idle_.wait(lock, [this] { return active_ == 0; });
  }

  int port() const { return port_; }
  int active() const {
    std::lock_guard lock(mu_);
    return active_;
  }

 private:
  void AcceptLoop() {
    while (!stopping_) {
      beast::error_code ec;
      tcp::socket socket(io_);
      acceptor_.accept(socket, ec);
      if (ec) {
        if (stopping_) return;
        spdlog::warn("accept failed: {}", ec.message());
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
      bool over_limit = false;
      {
        std::lock_guard lock(mu_);
        over_limit = active_ >= options_.max_connections;
        if (!over_limit) {
          ++active_;
          open_fds_.insert(socket.native_handle());
        }
      }
      if (over_limit) {
        RejectBusy(socket);
        continue;
      }
      std::thread([this, s = std::move(socket)]() mutable { Session(std::move(s)); }).detach();
    }
  }

  void RejectBusy(tcp::socket& socket) {
    TimedSocket stream(socket, 1000);
    BeastResponseWriter writer(stream, 11, /*keep_alive=*/false, /*head=*/false);
    writer.SetHeader("Retry-After", "1");
    (void)writer.Send(503, ErrorBody(Code::kUnavailable, "too many connections"));
  }

  void Session(tcp::socket socket) {
    int fd = socket.native_handle();
    beast::error_code nodelay_ec;
    // A streamed answer is written as head then body: without TCP_NODELAY the
    // body waits for the client's delayed ACK (~40 ms per small GET).
    socket.set_option(tcp::no_delay(true), nodelay_ec);
    beast::flat_buffer buffer;
    buffer.reserve(kSocketReadBufferBytes);
    TimedSocket stream(socket, options_.idle_timeout_ms);
    Next next = Next::kRequest;
    while (!stopping_ && next == Next::kRequest)
      next = ServeOne(stream, buffer);
    beast::error_code ec;
    socket.shutdown(tcp::socket::shutdown_send, ec);
    if (next == Next::kLingerThenClose && !ec) Linger(socket);
    std::lock_guard lock(mu_);
    open_fds_.erase(fd);
    socket.close(ec);
    if (--active_ == 0) idle_.notify_all();
  }

  // What follows a request on its connection.
  enum class Next {
    kRequest,          // the connection is kept: read the next request
    kClose,            // close: nothing more is coming from the client
    kLingerThenClose,  // close, but the client may still be sending the request
  };

  // Lingering close (RFC 9112 9.6): the server closes while the client may
  // still be sending a request body, so it has half-closed and now reads and
  // drops what arrives until the client closes too, or for at most
  // kLingerMs (kLingerIdleMs without data). Closing at once with unread bytes
  // would make the kernel answer the client's next bytes with a reset: its
  // send fails, and the answer it has not read yet (a 413, or a 412 replayed
  // to a large upload) may be lost with the connection. Stop() cuts it short.
  static constexpr int kLingerMs = 10000;
  static constexpr int kLingerIdleMs = 2000;
  static void Linger(tcp::socket& socket) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(kLingerMs);
    TimedSocket stream(socket, kLingerIdleMs);
    std::vector<char> scratch(kSocketReadBufferBytes);
    beast::error_code ec;
    while (!ec && std::chrono::steady_clock::now() < until)
      stream.read_some(asio::buffer(scratch), ec);
  }

  // Serves one request and says what the connection does next.
  Next ServeOne(TimedSocket& socket, beast::flat_buffer& buffer) {
    http::request_parser<http::buffer_body> parser;
    parser.header_limit(options_.max_header_bytes);
    parser.body_limit(options_.max_body_bytes);
    beast::error_code ec;
    http::read_header(socket, buffer, parser, ec);
    if (ec == http::error::header_limit) {
      BeastResponseWriter writer(socket, 11, false, false);
      (void)writer.Send(431, ErrorBody(Code::kHeadersTooLarge, "request head too large"));
      return Next::kLingerThenClose;
    }
    if (ec == http::error::body_limit) {
      BeastResponseWriter writer(socket, 11, false, false);
      (void)writer.Send(413, ErrorBody(Code::kPayloadTooLarge, "body exceeds the limit"));
      return Next::kLingerThenClose;
    }
    if (ec) {
      if (ec == http::error::end_of_stream || ec == asio::error::eof ||
          ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
          ec == asio::error::timed_out || ec == asio::error::bad_descriptor)
        return Next::kClose;
      BeastResponseWriter writer(socket, 11, false, false);
      (void)writer.Send(400,
                        ErrorBody(Code::kInvalidArgument, "malformed request: " + ec.message()));
      return Next::kLingerThenClose;
    }
    auto& head = parser.get();
    HttpRequest request = ToRequest(head, socket.socket());
    bool keep_alive = head.keep_alive();
    bool is_head = head.method() == http::verb::head;
    BeastBodyReader body(socket, buffer, parser);
    BeastResponseWriter writer(socket, head.version(), keep_alive, is_head, &body);
    handler_(request, body, writer);
    if (!writer.started()) {
      (void)writer.Send(500, ErrorBody(Code::kInternal, "handler sent no response"));
    }
    if (writer.failed() || !writer.complete()) return Next::kClose;
    if (!writer.keep_alive()) return body.Complete() ? Next::kClose : Next::kLingerThenClose;
    // The response promised the connection to the client: drop what the
    // handler left of the body (the writer kept that small), or it would be
    // parsed as the next request.
    return body.Drain().ok() ? Next::kRequest : Next::kClose;
  }

  static HttpRequest ToRequest(const http::request<http::buffer_body>& head, tcp::socket& socket) {
    HttpRequest r;
    r.method = std::string(head.method_string());
    r.target = std::string(head.target());
    size_t q = r.target.find('?');
    r.path = r.target.substr(0, q);
    if (q != std::string::npos) r.query = ParseQuery(std::string_view(r.target).substr(q + 1));
    for (const auto& field : head)
      r.headers.Set(std::string(field.name_string()), std::string(field.value()));
    if (head.has_content_length()) {
      auto it = head.find(http::field::content_length);
      r.content_length = std::stoull(std::string(it->value()));
    }
    beast::error_code ec;
    auto remote = socket.remote_endpoint(ec);
    if (!ec) r.remote = remote.address().to_string() + ":" + std::to_string(remote.port());
    return r;
  }

  const HttpServerOptions options_;
  const HttpHandler handler_;
  asio::io_context io_;
  tcp::acceptor acceptor_{io_};
  std::thread accept_thread_;
  std::atomic<bool> stopping_{false};
  int port_ = 0;

  mutable std::mutex mu_;
  std::condition_variable idle_;
  int active_ = 0;          // guarded by mu_
  std::set<int> open_fds_;  // guarded by mu_
};

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}
HttpServer::~HttpServer() {
  Stop();
}
Status HttpServer::Start() {
  return impl_->Start();
}
void HttpServer::Stop() {
  impl_->Stop();
}
int HttpServer::port() const {
  return impl_->port();
}
int HttpServer::active_connections() const {
  return impl_->active();
}

}  // namespace kdfs
