#include "http/beast_io.h"

namespace kdfs {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;

bool BeastBodyReader::AwaitingContinue() const {
  if (continue_sent_ || parser_.is_done()) return false;
  auto expect = parser_.get().find(http::field::expect);
  return expect != parser_.get().end() && beast::iequals(expect->value(), "100-continue");
}

bool BeastBodyReader::DrainableWithin(uint64_t limit) const {
  if (Complete()) return true;
  if (AwaitingContinue()) return false;
  auto left = parser_.content_length_remaining();
  return left && *left <= limit;
}

Status BeastBodyReader::Drain() {
  char scratch[16 << 10];
  for (;;) {
    KDFS_ASSIGN_OR_RETURN(size_t got, Read(scratch, sizeof scratch));
    if (got == 0) return Status::Ok();
  }
}

Result<size_t> BeastBodyReader::Read(char* out, size_t n) {
  if (!continue_sent_) {
    const bool send_continue = AwaitingContinue();
    continue_sent_ = true;
    if (send_continue) {
      http::response<http::empty_body> cont{http::status::continue_, parser_.get().version()};
      beast::error_code ec;
      http::write(socket_, cont, ec);
      if (ec) return Status::InvalidArgument("client went away: " + ec.message());
    }
  }
  while (!parser_.is_done()) {
    parser_.get().body().data = out;
    parser_.get().body().size = n;
    beast::error_code ec;
    http::read(socket_, buffer_, parser_, ec);
    if (ec == http::error::need_buffer) ec = {};
    size_t got = n - parser_.get().body().size;
    if (ec == http::error::body_limit) {
      return Status(Code::kPayloadTooLarge, "body exceeds the configured maximum");
    }
    if (ec) {
      return Status::InvalidArgument("request body incomplete (client disconnected or sent " +
                                     std::string("fewer bytes than announced): ") + ec.message());
    }
    if (got > 0) return got;
  }
  return size_t{0};
}

void BeastResponseWriter::SetHeader(std::string_view name, std::string_view value) {
  fields_.set(beast::string_view(name.data(), name.size()),
              beast::string_view(value.data(), value.size()));
}

void BeastResponseWriter::DecideKeepAlive() {
  if (request_body_ != nullptr && !request_body_->DrainableWithin(kMaxDrainBytes))
    keep_alive_ = false;
}

Status BeastResponseWriter::Fail(const beast::error_code& ec) {
  failed_ = true;
  return Status::Unavailable("client connection lost: " + ec.message());
}

Status BeastResponseWriter::Send(int status, std::string_view body) {
  http::response<http::string_body> res{static_cast<http::status>(status), version_};
  for (const auto& f : fields_)
    res.set(f.name_string(), f.value());
  if (!res.has_content_length() && res.find(http::field::content_type) == res.end() &&
      !body.empty()) {
    res.set(http::field::content_type, "application/json");
  }
  DecideKeepAlive();
  res.keep_alive(keep_alive_);
  if (!head_) res.body() = std::string(body);
  res.content_length(body.size());
  started_ = true;
  complete_ = true;
  beast::error_code ec;
  if (head_) {
    http::response_serializer<http::string_body> sr{res};
    http::write_header(socket_, sr, ec);
  } else {
    http::write(socket_, res, ec);
  }
  return ec ? Fail(ec) : Status::Ok();
}

Status BeastResponseWriter::BeginStream(int status, uint64_t content_length) {
  stream_.emplace(static_cast<http::status>(status), version_);
  for (const auto& f : fields_)
    stream_->set(f.name_string(), f.value());
  DecideKeepAlive();
  stream_->keep_alive(keep_alive_);
  stream_->content_length(content_length);
  stream_->body().data = nullptr;
  stream_->body().size = 0;
  stream_->body().more = !head_ && content_length > 0;
  remaining_ = head_ ? 0 : content_length;
  serializer_.emplace(*stream_);
  started_ = true;
  beast::error_code ec;
  http::write_header(socket_, *serializer_, ec);
  if (ec) return Fail(ec);
  if (remaining_ == 0) complete_ = true;
  return Status::Ok();
}

Status BeastResponseWriter::Write(std::string_view data) {
  if (failed_) return Status::Unavailable("client connection lost");
  if (data.size() > remaining_) return Status::Internal("stream longer than its Content-Length");
  if (data.empty()) return Status::Ok();
  remaining_ -= data.size();
  stream_->body().data = const_cast<char*>(data.data());
  stream_->body().size = data.size();
  stream_->body().more = true;
  beast::error_code ec;
  http::write(socket_, *serializer_, ec);
  if (ec == http::error::need_buffer) ec = {};
  return ec ? Fail(ec) : Status::Ok();
}

Status BeastResponseWriter::EndStream() {
  if (failed_) return Status::Unavailable("client connection lost");
  if (remaining_ != 0) {
    failed_ = true;  // the client saw a truncated body; the connection must close
    return Status::Internal("stream ended before its Content-Length");
  }
  if (complete_) return Status::Ok();
  stream_->body().data = nullptr;
  stream_->body().size = 0;
  stream_->body().more = false;
  beast::error_code ec;
  http::write(socket_, *serializer_, ec);
  if (ec == http::error::need_buffer) ec = {};
  if (ec) return Fail(ec);
  complete_ = true;
  return Status::Ok();
}

}  // namespace kdfs
