// Pass-through wrappers of a request's body reader and response writer that
// record what went through them (bytes, status), for the request metrics.
//
// Not thread-safe: one request, one thread, like what they wrap.
#pragma once

#include <cstdint>

#include "http/http_types.h"

namespace kdfs {

class CountingBodyReader : public BodyReader {
 public:
  explicit CountingBodyReader(BodyReader& inner) : inner_(inner) {}
  Result<size_t> Read(char* out, size_t n) override;
  uint64_t bytes() const { return bytes_; }

 private:
  BodyReader& inner_;
  uint64_t bytes_ = 0;
};

class RecordingResponseWriter : public ResponseWriter {
 public:
  explicit RecordingResponseWriter(ResponseWriter& inner) : inner_(inner) {}
  void SetHeader(std::string_view name, std::string_view value) override;
  Status Send(int status, std::string_view body) override;
  Status BeginStream(int status, uint64_t content_length) override;
  Status Write(std::string_view data) override;
  Status EndStream() override;
  bool started() const override { return inner_.started(); }

  // The status sent; 0 if none was.
  int status() const { return status_; }
  // Body bytes handed to the transport.
  uint64_t bytes() const { return bytes_; }

 private:
  ResponseWriter& inner_;
  int status_ = 0;
  uint64_t bytes_ = 0;
};

}  // namespace kdfs
