#include "api/http_conditions.h"

#include <gtest/gtest.h>

namespace kdfs {
namespace {

TEST(HttpConditions, QuoteAndUnquote) {
  EXPECT_EQ(QuoteEtag("abc"), "\"abc\"");
  EXPECT_EQ(UnquoteEtag("\"abc\""), "abc");
  EXPECT_EQ(UnquoteEtag("W/\"abc\""), "abc");
  EXPECT_EQ(UnquoteEtag("abc"), "abc");
  EXPECT_EQ(UnquoteEtag("\""), "\"");
}

TEST(HttpConditions, TagListMatchesAnyItemOrStar) {
  EXPECT_TRUE(EtagListMatches("\"a\", \"b\"", "b"));
  EXPECT_TRUE(EtagListMatches(" W/\"b\" ", "b"));
  EXPECT_TRUE(EtagListMatches("*", "b"));
  EXPECT_FALSE(EtagListMatches("\"a\",\"c\"", "b"));
  EXPECT_FALSE(EtagListMatches("", "b"));
  EXPECT_FALSE(EtagListMatches(",,", "b"));
  EXPECT_FALSE(EtagListMatches("\"\"", ""));  // an empty tag matches nothing
}

TEST(HttpConditions, IfMatchTakesOneTagOrStar) {
  EXPECT_EQ(*ParseIfMatch("\"abc\""), "abc");
  EXPECT_EQ(*ParseIfMatch(" * "), "*");
  EXPECT_EQ(ParseIfMatch("").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseIfMatch("\"a\", \"b\"").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseIfMatch("\"\"").status().code(), Code::kInvalidArgument);
}

TEST(HttpConditions, MinVersionIsANonNegativeInteger) {
  EXPECT_EQ(*ParseMinVersion("42"), 42);
  EXPECT_EQ(*ParseMinVersion(" 0 "), 0);
  for (const char* bad : {"", "-1", "1x", "x", "99999999999999999999", "+3"}) {
    EXPECT_EQ(ParseMinVersion(bad).status().code(), Code::kInvalidArgument) << bad;
  }
}

TEST(HttpConditions, IdempotencyKeyIsPrintableAscii) {
  EXPECT_EQ(*ParseIdempotencyKey(std::nullopt), "");
  EXPECT_EQ(*ParseIdempotencyKey("retry-7f3a_OK~"), "retry-7f3a_OK~");
  EXPECT_EQ(ParseIdempotencyKey(std::string(255, 'k')).value().size(), 255u);
  for (std::string bad : {std::string(), std::string("\x80"), std::string("caf\xc3\xa9"),
                          std::string("two words"), std::string(256, 'k'), std::string("a\x7f")}) {
    EXPECT_EQ(ParseIdempotencyKey(bad).status().code(), Code::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace kdfs
