#include "api/range.h"

#include <gtest/gtest.h>

namespace kdfs {
namespace {

ByteRange Get(std::string_view header, uint64_t size) {
  auto r = ParseRange(header, size);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->has_value()) << header;
  return r->value_or(ByteRange{});
}

TEST(RangeTest, ClosedOpenAndSuffix) {
  auto r = Get("bytes=0-9", 100);
  EXPECT_EQ(r.offset, 0u);
  EXPECT_EQ(r.length, 10u);
  r = Get("bytes=90-", 100);
  EXPECT_EQ(r.offset, 90u);
  EXPECT_EQ(r.length, 10u);
  r = Get("bytes=-5", 100);
  EXPECT_EQ(r.offset, 95u);
  EXPECT_EQ(r.length, 5u);
  r = Get("bytes=-500", 100);  // longer suffix than the file: the whole file
  EXPECT_EQ(r.offset, 0u);
  EXPECT_EQ(r.length, 100u);
  r = Get("bytes=50-1000", 100);  // clipped to the end
  EXPECT_EQ(r.length, 50u);
}

TEST(RangeTest, UnsatisfiableIs416) {
  EXPECT_EQ(ParseRange("bytes=100-", 100).status().code(), Code::kRangeNotSatisfiable);
  EXPECT_EQ(ParseRange("bytes=-0", 100).status().code(), Code::kRangeNotSatisfiable);
  EXPECT_EQ(ParseRange("bytes=0-0", 0).status().code(), Code::kRangeNotSatisfiable);
}

TEST(RangeTest, MalformedOrMultipleIsIgnored) {
  for (const char* h : {"items=0-1", "bytes=a-b", "bytes=5-1", "bytes=0-1,3-4", "bytes=", "x"}) {
    auto r = ParseRange(h, 100);
    ASSERT_TRUE(r.ok()) << h;
    EXPECT_FALSE(r->has_value()) << h;
  }
}

}  // namespace
}  // namespace kdfs
