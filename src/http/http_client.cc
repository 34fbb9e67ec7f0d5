#include "http/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <limits>

#include "common/host_port.h"
#include "http/timed_socket.h"

namespace kdfs {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

Result<Url> Url::Parse(std::string_view text) {
  constexpr std::string_view kScheme = "http://";
  if (text.substr(0, kScheme.size()) != kScheme) {
    return Status::InvalidArgument("URL must start with http:// : '" + std::string(text) + "'");
  }
  text.remove_prefix(kScheme.size());
  size_t slash = text.find('/');
  std::string_view authority = text.substr(0, slash);
  Url url;
  if (slash != std::string_view::npos) {
    url.path_prefix = std::string(text.substr(slash));
    while (!url.path_prefix.empty() && url.path_prefix.back() == '/')
      url.path_prefix.pop_back();
  }
  if (authority.find(':') == std::string_view::npos) {
    url.host = std::string(authority);
  } else {
    KDFS_ASSIGN_OR_RETURN(HostPort hp, ParseHostPort(authority, "URL"));
    url.host = std::move(hp.host);
    url.port = hp.port;
  }
  if (url.host.empty()) return Status::InvalidArgument("URL has no host");
  return url;
}

class HttpClient::Impl {
 public:
  // Where a response goes: streamed (2xx bodies to `body`) or kept whole.
  struct Receiver {
    const BodySink* body = nullptr;
    const HeadCallback* head = nullptr;
  };

  Impl(Url url, int timeout_ms) : url_(std::move(url)), timeout_ms_(timeout_ms) {}

  Result<HttpResponse> Do(std::string_view method, std::string_view target,
                          const std::vector<std::pair<std::string, std::string>>& headers,
                          std::optional<uint64_t> content_length, const BodySource* source,
                          std::string_view whole_body, Receiver receiver) {
    // A kept-alive connection may have been closed by the server while idle;
    // retry once on a fresh connection, but only if nothing was streamed yet.
    for (int attempt = 0; attempt < 2; ++attempt) {
      bool reused = socket_.is_open();
      KDFS_RETURN_IF_ERROR(EnsureConnected());
      bool body_consumed = false;
      auto r = Exchange(method, target, headers, content_length, source, whole_body, receiver,
                        &body_consumed);
      if (r.ok()) return r;
      Close();
      if (!reused || body_consumed || r.status().code() != Code::kUnavailable) return r;
    }
    return Status::Unavailable("request failed");
  }

 private:
  Status EnsureConnected() {
    if (socket_.is_open()) return Status::Ok();
    beast::error_code ec;
    tcp::resolver resolver(io_);
    auto results = resolver.resolve(url_.host, std::to_string(url_.port), ec);
    if (ec) return Status::Unavailable("cannot resolve " + url_.host + ": " + ec.message());
    asio::connect(socket_, results, ec);
    if (ec) {
      socket_.close();
      return Status::Unavailable("cannot connect to " + url_.host + ":" +
                                 std::to_string(url_.port) + ": " + ec.message());
    }
    socket_.set_option(tcp::no_delay(true), ec);
    buffer_.reserve(kSocketReadBufferBytes);
    return Status::Ok();
  }

  void Close() {
    beast::error_code ec;
    socket_.close(ec);
    buffer_.clear();
  }

  static Status TransportError(const beast::error_code& ec, std::string_view what) {
    if (ec == asio::error::would_block || ec == asio::error::timed_out) {
      return Status::Timeout(std::string(what) + " timed out");
    }
    return Status::Unavailable(std::string(what) + ": " + ec.message());
  }

  Result<HttpResponse> Exchange(std::string_view method, std::string_view target,
                                const std::vector<std::pair<std::string, std::string>>& headers,
                                std::optional<uint64_t> content_length, const BodySource* source,
                                std::string_view whole_body, Receiver receiver,
                                bool* body_consumed) {
    beast::error_code ec;
    std::string full_target = url_.path_prefix + std::string(target);
    if (source == nullptr) {
      http::request<http::string_body> req{http::string_to_verb(std::string(method)), full_target,
                                           11};
      SetCommon(req, headers);
      req.body() = std::string(whole_body);
      if (!whole_body.empty() || method == "PUT" || method == "POST") req.prepare_payload();
      http::write(stream_, req, ec);
      if (ec) return TransportError(ec, "sending request");
    } else {
      KDFS_RETURN_IF_ERROR(
          SendStreamed(method, full_target, headers, content_length, *source, body_consumed));
    }
    return ReadResponse(method == "HEAD", receiver);
  }

  template <class Req>
  void SetCommon(Req& req, const std::vector<std::pair<std::string, std::string>>& headers) {
    req.set(http::field::host, url_.host + ":" + std::to_string(url_.port));
    req.set(http::field::user_agent, "kdfs/0.1");
    for (const auto& [k, v] : headers)
      req.set(k, v);
    req.keep_alive(true);
  }

  Status SendStreamed(std::string_view method, const std::string& target,
                      const std::vector<std::pair<std::string, std::string>>& headers,
                      std::optional<uint64_t> content_length, const BodySource& source,
                      bool* body_consumed) {
    http::request<http::buffer_body> req{http::string_to_verb(std::string(method)), target, 11};
    SetCommon(req, headers);
    if (content_length) {
      req.content_length(*content_length);
    } else {
      req.chunked(true);
    }
    req.body().data = nullptr;
    req.body().more = true;
    http::request_serializer<http::buffer_body> sr{req};
    beast::error_code ec;
    http::write_header(stream_, sr, ec);
    if (ec) return TransportError(ec, "sending request head");
    std::vector<char> buf(256 << 10);
    for (;;) {
      auto n = source(buf.data(), buf.size());
      *body_consumed = true;
      if (!n.ok()) return n.status();
      req.body().data = *n > 0 ? buf.data() : nullptr;
      req.body().size = *n;
      req.body().more = *n > 0;
      http::write(stream_, sr, ec);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) return TransportError(ec, "sending request body");
      if (*n == 0) break;
    }
    return Status::Ok();
  }

  Result<HttpResponse> ReadResponse(bool head_request, Receiver receiver) {
    beast::error_code ec;
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    parser.skip(head_request);
    http::read_header(stream_, buffer_, parser, ec);
    if (ec) return TransportError(ec, "reading response");
    HttpResponse out;
    out.status = parser.get().result_int();
    for (const auto& f : parser.get())
      out.headers.Set(std::string(f.name_string()), std::string(f.value()));
    if (receiver.head != nullptr) (*receiver.head)(out);
    const BodySink* sink = receiver.body;
    bool stream = sink != nullptr && out.status >= 200 && out.status < 300;
    std::vector<char> buf(256 << 10);
    while (!parser.is_done()) {
      parser.get().body().data = buf.data();
      parser.get().body().size = buf.size();
      http::read(stream_, buffer_, parser, ec);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) return TransportError(ec, "reading response body");
      size_t got = buf.size() - parser.get().body().size;
      if (got == 0) continue;
      if (stream) {
        KDFS_RETURN_IF_ERROR((*sink)(std::string_view(buf.data(), got)));
      } else {
        out.body.append(buf.data(), got);
      }
    }
    if (!parser.get().keep_alive()) Close();
    return out;
  }

  const Url url_;
  const int timeout_ms_;
  asio::io_context io_;
  tcp::socket socket_{io_};
  TimedSocket stream_{socket_, timeout_ms_};
  beast::flat_buffer buffer_;
};

Result<std::unique_ptr<HttpClient>> HttpClient::Create(std::string_view base_url, int timeout_ms) {
  KDFS_ASSIGN_OR_RETURN(Url url, Url::Parse(base_url));
  return std::unique_ptr<HttpClient>(
      new HttpClient(std::make_unique<Impl>(std::move(url), timeout_ms)));
}

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpClient::~HttpClient() = default;

Result<HttpResponse> HttpClient::Request(
    std::string_view method, std::string_view target,
    const std::vector<std::pair<std::string, std::string>>& headers, std::string_view body) {
  return impl_->Do(method, target, headers, std::nullopt, nullptr, body, {});
}

Result<HttpResponse> HttpClient::Stream(
    std::string_view method, std::string_view target,
    const std::vector<std::pair<std::string, std::string>>& headers,
    std::optional<uint64_t> content_length, const BodySource& source, const BodySink& sink,
    const HeadCallback& on_head) {
  return impl_->Do(method, target, headers, content_length, source ? &source : nullptr, {},
                   {sink ? &sink : nullptr, on_head ? &on_head : nullptr});
}

}  // namespace kdfs
