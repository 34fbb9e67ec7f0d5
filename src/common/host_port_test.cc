#include "common/host_port.h"

#include <gtest/gtest.h>

namespace kdfs {
namespace {

TEST(HostPortTest, SplitsAtTheLastColon) {
  auto hp = ParseHostPort("127.0.0.1:8081");
  ASSERT_TRUE(hp.ok());
  EXPECT_EQ(hp->host, "127.0.0.1");
  EXPECT_EQ(hp->port, 8081);
  hp = ParseHostPort("[::1]:0");
  ASSERT_TRUE(hp.ok());
  EXPECT_EQ(hp->host, "::1");
  EXPECT_EQ(hp->port, 0);
  hp = ParseHostPort(":9");
  ASSERT_TRUE(hp.ok());
  EXPECT_EQ(hp->host, "");
}

TEST(HostPortTest, RejectsMissingOrBadPorts) {
  for (const char* bad : {"localhost", "h:", "h:x", "h:80x", "h:-1", "h:65536"}) {
    auto hp = ParseHostPort(bad, "--redis");
    EXPECT_EQ(hp.status().code(), Code::kInvalidArgument) << bad;
    if (!hp.ok()) {
      EXPECT_NE(hp.status().message().find("--redis"), std::string::npos) << bad;
    }
  }
}

}  // namespace
}  // namespace kdfs
