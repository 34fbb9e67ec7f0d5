#include "api/metered_io.h"

#include <gtest/gtest.h>

#include <cstring>

namespace kdfs {
namespace {

class StringBody : public BodyReader {
 public:
  explicit StringBody(std::string data) : data_(std::move(data)) {}
  Result<size_t> Read(char* out, size_t n) override {
    size_t k = std::min(n, data_.size() - pos_);
    std::memcpy(out, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  std::string data_;
  size_t pos_ = 0;
};

class NullWriter : public ResponseWriter {
 public:
  void SetHeader(std::string_view, std::string_view) override {}
  Status Send(int, std::string_view) override { return Mark(); }
  Status BeginStream(int, uint64_t) override { return Mark(); }
  Status Write(std::string_view) override { return fail_writes ? Status::IoError("gone") : Mark(); }
  Status EndStream() override { return Status::Ok(); }
  bool started() const override { return started_; }
  bool fail_writes = false;

 private:
  Status Mark() {
    started_ = true;
    return Status::Ok();
  }
  bool started_ = false;
};

TEST(MeteredIo, CountsBodyBytesRead) {
  StringBody inner("hello world");
  CountingBodyReader body(inner);
  char buf[4];
  while (*body.Read(buf, sizeof buf) > 0) {
  }
  EXPECT_EQ(body.bytes(), 11u);
}

TEST(MeteredIo, RecordsStatusAndBytesWritten) {
  NullWriter inner;
  RecordingResponseWriter out(inner);
  EXPECT_EQ(out.status(), 0);
  ASSERT_TRUE(out.BeginStream(206, 10).ok());
  ASSERT_TRUE(out.Write("12345").ok());
  inner.fail_writes = true;
  EXPECT_FALSE(out.Write("67890").ok());  // not counted: never sent
  EXPECT_EQ(out.status(), 206);
  EXPECT_EQ(out.bytes(), 5u);
  EXPECT_TRUE(out.started());

  NullWriter inner2;
  RecordingResponseWriter whole(inner2);
  ASSERT_TRUE(whole.Send(404, "{\"error\":{}}").ok());
  EXPECT_EQ(whole.status(), 404);
  EXPECT_EQ(whole.bytes(), 12u);
}

}  // namespace
}  // namespace kdfs
