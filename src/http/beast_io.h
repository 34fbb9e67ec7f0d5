// BodyReader and ResponseWriter over a Beast parser and a blocking socket.
// Internal to src/http: only the server and its tests use these.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>

#include "http/error_body.h"
#include "http/http_types.h"
#include "http/timed_socket.h"

namespace kdfs {

class BeastBodyReader final : public BodyReader {
 public:
  using Parser = boost::beast::http::request_parser<boost::beast::http::buffer_body>;
  BeastBodyReader(TimedSocket& socket, boost::beast::flat_buffer& buffer, Parser& parser)
      : socket_(socket), buffer_(buffer), parser_(parser) {}

  Result<size_t> Read(char* out, size_t n) override;

  // Whether the rest of the body can be read and dropped after the response,
  // keeping the connection: the body is complete, or has a known length of at
  // most `limit` bytes left and the client is not waiting for a 100 Continue
  // (RFC 9110 10.1.1: a client told nothing may never send it).
  bool DrainableWithin(uint64_t limit) const;
  // Reads and drops what is left of the body. REQUIRES: DrainableWithin(...).
  Status Drain();
  // The whole body has been read (or there was none).
  bool Complete() const { return parser_.is_done(); }

 private:
  bool AwaitingContinue() const;

  TimedSocket& socket_;
  boost::beast::flat_buffer& buffer_;
  Parser& parser_;
  bool continue_sent_ = false;
};

class BeastResponseWriter final : public ResponseWriter {
 public:
  // `request_body` (optional) is the body of the request being answered: when
  // the handler leaves more of it unread than kMaxDrainBytes, the response
  // says Connection: close, so that the client does not reuse a connection the
  // server is about to close.
  BeastResponseWriter(TimedSocket& socket, unsigned version, bool keep_alive, bool head_request,
                      const BeastBodyReader* request_body = nullptr)
      : socket_(socket),
        version_(version),
        keep_alive_(keep_alive),
        head_(head_request),
        request_body_(request_body) {}

  // Unread request bytes the server reads and drops to keep a connection.
  static constexpr uint64_t kMaxDrainBytes = 256 << 10;

  void SetHeader(std::string_view name, std::string_view value) override;
  Status Send(int status, std::string_view body) override;
  Status BeginStream(int status, uint64_t content_length) override;
  Status Write(std::string_view data) override;
  Status EndStream() override;
  bool started() const override { return started_; }

  bool failed() const { return failed_; }
  // The response was fully written (a stream was ended).
  bool complete() const { return complete_; }
  // Whether the response (once started) told the client it may reuse the
  // connection; the server then owes it that, draining any unread body.
  bool keep_alive() const { return keep_alive_; }

 private:
  // Settles keep_alive_ as the head is sent.
  void DecideKeepAlive();
  using StreamResponse = boost::beast::http::response<boost::beast::http::buffer_body>;
  using StreamSerializer = boost::beast::http::response_serializer<boost::beast::http::buffer_body>;
  Status Fail(const boost::beast::error_code& ec);

  TimedSocket& socket_;
  unsigned version_;
  bool keep_alive_;
  bool head_;
  const BeastBodyReader* request_body_;
  boost::beast::http::fields fields_;
  bool started_ = false;
  bool complete_ = false;
  bool failed_ = false;
  uint64_t remaining_ = 0;
  std::optional<StreamResponse> stream_;
  std::optional<StreamSerializer> serializer_;
};

}  // namespace kdfs
