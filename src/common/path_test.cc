#include "common/path.h"

#include <gtest/gtest.h>

#include <string>

namespace kdfs {
namespace {

void ExpectInvalid(std::string_view text, std::string_view rule) {
  auto p = Path::Parse(text);
  ASSERT_FALSE(p.ok()) << "accepted: " << text;
  EXPECT_EQ(p.status().code(), Code::kInvalidPath);
  EXPECT_NE(p.status().message().find(rule), std::string::npos)
      << "message '" << p.status().message() << "' should name '" << rule << "'";
}

void ExpectInvalidUrl(std::string_view text, std::string_view rule) {
  auto p = Path::FromUrl(text);
  ASSERT_FALSE(p.ok()) << "accepted: " << text;
  EXPECT_EQ(p.status().code(), Code::kInvalidPath);
  EXPECT_NE(p.status().message().find(rule), std::string::npos)
      << "message '" << p.status().message() << "' should name '" << rule << "'";
}

TEST(PathTest, RootAndSimplePaths) {
  auto root = Path::Parse("/");
  ASSERT_TRUE(root.ok());
  EXPECT_TRUE(root->IsRoot());
  EXPECT_EQ(root->str(), "/");
  EXPECT_EQ(root->name(), "");
  EXPECT_EQ(root->parent(), Path::Root());

  auto p = Path::Parse("/a/bc/d.txt");
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->IsRoot());
  EXPECT_EQ(p->components(), (std::vector<std::string>{"a", "bc", "d.txt"}));
  EXPECT_EQ(p->str(), "/a/bc/d.txt");
  EXPECT_EQ(p->name(), "d.txt");
  EXPECT_EQ(p->parent().str(), "/a/bc");
  EXPECT_EQ(p->parent().parent().parent(), Path::Root());
  EXPECT_EQ(Path::Root().Child("x").Child("y").str(), "/x/y");
}

TEST(PathTest, SingleTrailingSlashIsDropped) {
  auto p = Path::Parse("/a/b/");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->str(), "/a/b");
  ExpectInvalid("/a/b//", "empty path component");
  ExpectInvalid("//", "empty path component");
}

TEST(PathTest, RejectsRelativeAndEmpty) {
  ExpectInvalid("", "empty");
  ExpectInvalid("a/b", "absolute");
  ExpectInvalid("./a", "absolute");
}

TEST(PathTest, RejectsDotComponents) {
  ExpectInvalid("/a/../b", "'..'");
  ExpectInvalid("/..", "'..'");
  ExpectInvalid("/a/.", "'.'");
  ExpectInvalid("/./a", "'.'");
  // Names that merely contain dots are fine.
  EXPECT_TRUE(Path::Parse("/.hidden/..x/a..b/...").ok());
}

TEST(PathTest, RejectsEmptyComponents) {
  ExpectInvalid("/a//b", "empty path component");
  ExpectInvalid("//a", "empty path component");
}

TEST(PathTest, RejectsNul) {
  ExpectInvalid(std::string_view("/a\0b", 4), "NUL");
  ExpectInvalidUrl("/a%00b", "NUL");
}

TEST(PathTest, ComponentLengthLimits) {
  EXPECT_TRUE(Path::Parse("/" + std::string(255, 'x')).ok());
  ExpectInvalid("/" + std::string(256, 'x'), "255 bytes");
  // The limit is in bytes, not characters: 128 two-byte characters = 256 bytes.
  std::string two_byte;
  for (int i = 0; i < 128; ++i)
    two_byte += "\xC3\xA9";  // é
  ExpectInvalid("/" + two_byte, "255 bytes");
}

TEST(PathTest, TotalLengthLimit) {
  std::string ok;
  while (ok.size() + 101 <= kMaxPathBytes)
    ok += "/" + std::string(100, 'a');
  ok += "/" + std::string(kMaxPathBytes - ok.size() - 1, 'b');
  ASSERT_EQ(ok.size(), kMaxPathBytes);
  EXPECT_TRUE(Path::Parse(ok).ok());
  ExpectInvalid(ok + "c", "4096");
}

TEST(PathTest, Utf8) {
  auto p = Path::Parse("/d\xC3\xA9j\xC3\xA0/\xE6\x97\xA5\xE6\x9C\xAC/\xF0\x9F\x98\x80");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->components().size(), 3u);
  ExpectInvalid("/a\xFF", "UTF-8");             // invalid lead byte
  ExpectInvalid("/a\xC3", "UTF-8");             // truncated sequence
  ExpectInvalid("/\xC0\xAF", "UTF-8");          // overlong '/'
  ExpectInvalid("/\xED\xA0\x80", "UTF-8");      // surrogate U+D800
  ExpectInvalid("/\xF4\x90\x80\x80", "UTF-8");  // above U+10FFFF
  ExpectInvalid("/\x80", "UTF-8");              // lone continuation byte
  ExpectInvalidUrl("/a%FF", "UTF-8");           // decoded bytes are checked too
}

TEST(PathTest, PercentDecoding) {
  auto p = Path::FromUrl("/hello%20world/%E6%97%A5%e6%9c%ac/a+b");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->components(),
            (std::vector<std::string>{"hello world", "\xE6\x97\xA5\xE6\x9C\xAC", "a+b"}));
  ExpectInvalidUrl("/a%2", "truncated");
  ExpectInvalidUrl("/a%", "truncated");
  ExpectInvalidUrl("/a%zz", "percent-escape");
  ExpectInvalidUrl("/a%g1b", "percent-escape");
}

TEST(PathTest, EncodedDotsAreStillDots) {
  ExpectInvalidUrl("/a/%2e%2e/b", "'..'");
  ExpectInvalidUrl("/a/%2E", "'.'");
  ExpectInvalidUrl("/a/.%2e", "'..'");
}

TEST(PathTest, EncodedSlashIsRejected) {
  ExpectInvalidUrl("/a%2Fb", "%2F");
  ExpectInvalidUrl("/a%2fb", "%2F");
  ExpectInvalidUrl("/%2F", "%2F");
}

TEST(PathTest, UrlEncodingRoundTrips) {
  auto p = Path::Parse("/a b/c%d/\xE6\x97\xA5/x~y-z_.q");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->UrlEncoded(), "/a%20b/c%25d/%E6%97%A5/x~y-z_.q");
  auto back = Path::FromUrl(p->UrlEncoded());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, *p);
  EXPECT_EQ(Path::Root().UrlEncoded(), "/");
}

TEST(PathTest, ValidateName) {
  EXPECT_TRUE(Path::ValidateName("x").ok());
  EXPECT_EQ(Path::ValidateName("a/b").code(), Code::kInvalidPath);
  EXPECT_EQ(Path::ValidateName("").code(), Code::kInvalidPath);
  EXPECT_EQ(Path::ValidateName("..").code(), Code::kInvalidPath);
}

TEST(PathTest, IsAncestorOf) {
  auto a = *Path::Parse("/a");
  EXPECT_TRUE(a.IsAncestorOf(*Path::Parse("/a/b")));
  EXPECT_TRUE(a.IsAncestorOf(*Path::Parse("/a/b/c")));
  EXPECT_FALSE(a.IsAncestorOf(a));
  EXPECT_FALSE(a.IsAncestorOf(*Path::Parse("/ab")));
  EXPECT_FALSE(a.IsAncestorOf(Path::Root()));
  EXPECT_TRUE(Path::Root().IsAncestorOf(a));
}

}  // namespace
}  // namespace kdfs
