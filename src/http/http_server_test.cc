// HttpServer over real loopback sockets: what a response promises about the
// connection (keep-alive or close) is what the server then does.
#include "http/http_server.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <mutex>
#include <string>
#include <vector>

#include "http/beast_io.h"

namespace kdfs {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// Answers 412 without reading the request body, as a failed precondition or
// a replayed idempotent outcome does; records the paths it saw.
class UnreadBodyServerTest : public ::testing::Test {
 protected:
  UnreadBodyServerTest() {
    options_.listen = "127.0.0.1:0";
    options_.idle_timeout_ms = 5000;
  }

  void SetUp() override {
    server_ = std::make_unique<HttpServer>(
        options_, [this](HttpRequest& req, BodyReader&, ResponseWriter& w) {
          {
            std::lock_guard lock(mu_);
            paths_.push_back(req.path);
          }
          (void)w.Send(412, R"({"error":"precondition_failed"})");
        });
    ASSERT_TRUE(server_->Start().ok());
    tcp::resolver resolver(io_);
    asio::connect(socket_, resolver.resolve("127.0.0.1", std::to_string(server_->port())));
  }

  void SendRaw(const std::string& bytes) { asio::write(socket_, asio::buffer(bytes)); }

  http::response<http::string_body> ReadResponse(beast::error_code& ec) {
    http::response<http::string_body> res;
    http::read(socket_, buffer_, res, ec);
    return res;
  }

  std::vector<std::string> paths() {
    std::lock_guard lock(mu_);
    return paths_;
  }

  // Sends a PUT with a body of `bytes` bytes, all of it, then reads the
  // answer, as most HTTP client libraries do. Fails the test if the server
  // cuts the upload off or the answer cannot be read.
  http::response<http::string_body> PutWholeBodyThenRead(size_t bytes) {
    SendRaw("PUT /big HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(bytes) +
            "\r\n\r\n");
    const std::string piece(64 << 10, 'x');
    beast::error_code ec;
    size_t sent = 0;
    while (sent < bytes && !ec)
      sent += asio::write(socket_, asio::buffer(piece.data(), std::min(piece.size(), bytes - sent)),
                          ec);
    EXPECT_FALSE(ec) << "the upload was cut off after " << sent << " bytes: " << ec.message();
    auto res = ReadResponse(ec);
    EXPECT_FALSE(ec) << "no answer: " << ec.message();
    return res;
  }

  HttpServerOptions options_;
  asio::io_context io_;
  tcp::socket socket_{io_};
  beast::flat_buffer buffer_;
  std::unique_ptr<HttpServer> server_;
  std::mutex mu_;
  std::vector<std::string> paths_;
};

TEST_F(UnreadBodyServerTest, SmallUnreadBodyIsDrainedAndTheConnectionServesTheNextRequest) {
  SendRaw("PUT /first HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
  beast::error_code ec;
  auto first = ReadResponse(ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(first.result_int(), 412);
  EXPECT_TRUE(first.keep_alive());

  SendRaw("GET /second HTTP/1.1\r\nHost: t\r\n\r\n");
  auto second = ReadResponse(ec);
  ASSERT_FALSE(ec) << "the connection promised as reusable was closed: " << ec.message();
  EXPECT_EQ(second.result_int(), 412);
  EXPECT_EQ(paths(), (std::vector<std::string>{"/first", "/second"}));
}

TEST_F(UnreadBodyServerTest, BodySentAfterTheResponseIsDrainedToo) {
  SendRaw("PUT /first HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\n");
  beast::error_code ec;
  auto first = ReadResponse(ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_TRUE(first.keep_alive());

  SendRaw("hello");
  SendRaw("GET /second HTTP/1.1\r\nHost: t\r\n\r\n");
  auto second = ReadResponse(ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(paths(), (std::vector<std::string>{"/first", "/second"}));
}

TEST_F(UnreadBodyServerTest, LargeUnreadBodyGetsConnectionCloseAndIsClosed) {
  const uint64_t big = BeastResponseWriter::kMaxDrainBytes + 1;
  SendRaw("PUT /big HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(big) +
          "\r\n\r\nsome");
  beast::error_code ec;
  auto res = ReadResponse(ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(res.result_int(), 412);
  EXPECT_FALSE(res.keep_alive()) << "the server closes, so it must say Connection: close";
  char byte;
  socket_.read_some(asio::buffer(&byte, 1), ec);
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
}

// A client that sends its whole body before it reads must still get the
// answer: closing with unread bytes would make the kernel reset the
// connection, failing the client's send and losing the answer.
TEST_F(UnreadBodyServerTest, ClientSendingAWholeLargeBodyFirstStillReadsTheAnswer) {
  auto res = PutWholeBodyThenRead(16 << 20);
  EXPECT_EQ(res.result_int(), 412);
  EXPECT_FALSE(res.keep_alive());
}

class BodyLimitServerTest : public UnreadBodyServerTest {
 protected:
  BodyLimitServerTest() { options_.max_body_bytes = 1 << 20; }
};

TEST_F(BodyLimitServerTest, ClientSendingABodyOverTheLimitReadsThe413) {
  auto res = PutWholeBodyThenRead(16 << 20);
  EXPECT_EQ(res.result_int(), 413);
  EXPECT_TRUE(paths().empty()) << "a body over the limit never reaches the handler";
}

TEST_F(UnreadBodyServerTest, ChunkedUnreadBodyOfUnknownLengthGetsConnectionClose) {
  SendRaw("PUT /chunked HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
  beast::error_code ec;
  auto res = ReadResponse(ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_FALSE(res.keep_alive());
}

TEST_F(UnreadBodyServerTest, ExpectContinueWithoutReadingAnswersFinallyAndCloses) {
  SendRaw("PUT /expect HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
  beast::error_code ec;
  auto res = ReadResponse(ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(res.result_int(), 412) << "no 100 Continue for a body the handler did not want";
  EXPECT_FALSE(res.keep_alive()) << "the client may never send the body: the server cannot wait";
}

}  // namespace
}  // namespace kdfs
