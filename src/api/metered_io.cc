#include "api/metered_io.h"

namespace kdfs {

Result<size_t> CountingBodyReader::Read(char* out, size_t n) {
  auto got = inner_.Read(out, n);
  if (got.ok()) bytes_ += *got;
  return got;
}

void RecordingResponseWriter::SetHeader(std::string_view name, std::string_view value) {
  inner_.SetHeader(name, value);
}

Status RecordingResponseWriter::Send(int status, std::string_view body) {
  status_ = status;
  bytes_ += body.size();
  return inner_.Send(status, body);
}

Status RecordingResponseWriter::BeginStream(int status, uint64_t content_length) {
  status_ = status;
  return inner_.BeginStream(status, content_length);
}

Status RecordingResponseWriter::Write(std::string_view data) {
  Status st = inner_.Write(data);
  if (st.ok()) bytes_ += data.size();
  return st;
}

Status RecordingResponseWriter::EndStream() {
  return inner_.EndStream();
}

}  // namespace kdfs
