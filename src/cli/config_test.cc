#include "cli/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "cli/loadgen.h"
#include "cli/transfer.h"

namespace kdfs {
namespace {

TEST(ConfigTest, ParsesKeyValueLinesAndComments) {
  auto c = ParseConfig("# kdfs\nurl = http://h:1/  # the gateway\n\n timeout_ms=5\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->at("url"), "http://h:1/");
  EXPECT_EQ(c->at("timeout_ms"), "5");
  EXPECT_FALSE(ParseConfig("just words\n").ok());
  EXPECT_FALSE(ParseConfig("= value\n").ok());
}

TEST(ConfigTest, ParsesSizes) {
  EXPECT_EQ(*ParseSize("4096"), 4096u);
  EXPECT_EQ(*ParseSize("4K"), 4096u);
  EXPECT_EQ(*ParseSize("4KiB"), 4096u);
  EXPECT_EQ(*ParseSize("1M"), 1u << 20);
  EXPECT_EQ(*ParseSize("1G"), 1u << 30);
  EXPECT_FALSE(ParseSize("x").ok());
  EXPECT_FALSE(ParseSize("3Q").ok());
}

class VersionStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("kdfs-cli-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(VersionStoreTest, SharesVersionAcrossTheUrlsOfOneCluster) {
  VersionStore store((dir_ / "sub" / "versions.json").string());
  EXPECT_EQ(store.Load("http://a:1"), -1);
  ASSERT_TRUE(store.Save({"http://gw:1", "http://a:1/", "http://b:1"}, 7).ok());
  EXPECT_EQ(store.Load("http://b:1"), 7);
  EXPECT_EQ(store.Load("http://a:1"), 7);
  EXPECT_TRUE(store.Knows("http://gw:1/"));
  // A lower version never lowers the entry; a higher one raises it for all.
  ASSERT_TRUE(store.Save({"http://a:1"}, 3).ok());
  EXPECT_EQ(store.Load("http://gw:1"), 7);
  ASSERT_TRUE(store.Save({"http://a:1"}, 9).ok());
  EXPECT_EQ(store.Load("http://b:1"), 9);
  // Another cluster keeps its own entry.
  ASSERT_TRUE(store.Save({"http://other:2"}, 1).ok());
  EXPECT_EQ(store.Load("http://other:2"), 1);
  EXPECT_EQ(store.Load("http://gw:1"), 9);
}

TEST_F(VersionStoreTest, DisabledStoreRemembersNothing) {
  VersionStore store("");
  ASSERT_TRUE(store.Save({"http://a:1"}, 5).ok());
  EXPECT_EQ(store.Load("http://a:1"), -1);
}

TEST_F(VersionStoreTest, CorruptFileReadsAsEmpty) {
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ / "v.json") << "{not json";
  VersionStore store((dir_ / "v.json").string());
  EXPECT_EQ(store.Load("http://a:1"), -1);
  ASSERT_TRUE(store.Save({"http://a:1"}, 2).ok());
  EXPECT_EQ(store.Load("http://a:1"), 2);
}

TEST(ConfigTest, UrlPrecedenceFlagThenEnvThenFileThenDefault) {
  auto dir = std::filesystem::temp_directory_path() / ("kdfs-cfg-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "kdfs");
  std::ofstream(dir / "kdfs" / "config") << "url = http://from-file:3/\n";
  ::setenv("XDG_CONFIG_HOME", dir.c_str(), 1);
  ::unsetenv("KDFS_URL");
  EXPECT_EQ(*ResolveUrl(""), "http://from-file:3");
  ::setenv("KDFS_URL", "http://from-env:2", 1);
  EXPECT_EQ(*ResolveUrl(""), "http://from-env:2");
  EXPECT_EQ(*ResolveUrl("http://flag:1"), "http://flag:1");
  ::unsetenv("KDFS_URL");
  std::filesystem::remove_all(dir);
  EXPECT_EQ(*ResolveUrl(""), "http://127.0.0.1:8080");
  ::unsetenv("XDG_CONFIG_HOME");
}

TEST(LoadGenTest, QuantileIsNearestRank) {
  std::vector<double> v;
  for (int i = 1; i <= 100; ++i)
    v.push_back(i);
  EXPECT_EQ(Quantile(v, 0.5), 50);
  EXPECT_EQ(Quantile(v, 0.99), 99);
  EXPECT_EQ(Quantile({}, 0.5), 0);
  EXPECT_EQ(Quantile({3}, 0.99), 3);
}

TEST(TransferTest, JoinRemote) {
  EXPECT_EQ(JoinRemote("/a", "b/c"), "/a/b/c");
  EXPECT_EQ(JoinRemote("/", "b"), "/b");
  EXPECT_EQ(JoinRemote("/a/", "b"), "/a/b");
  EXPECT_EQ(JoinRemote("/a", ""), "/a");
}

}  // namespace
}  // namespace kdfs
