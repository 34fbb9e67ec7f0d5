#include "common/encoding.h"

#include <gtest/gtest.h>

namespace kdfs {
namespace {

TEST(EncodingTest, HexRoundTrip) {
  const uint8_t bytes[] = {0x00, 0x0f, 0xa5, 0xff};
  EXPECT_EQ(ToHex(bytes, sizeof bytes), "000fa5ff");
  EXPECT_EQ(HexDigitValue('0'), 0);
  EXPECT_EQ(HexDigitValue('f'), 15);
  EXPECT_EQ(HexDigitValue('F'), 15);
  EXPECT_EQ(HexDigitValue('g'), -1);
  EXPECT_EQ(HexDigitValue('/'), -1);
}

TEST(EncodingTest, PercentEncodePathKeepsSlashesAndUnreserved) {
  EXPECT_EQ(PercentEncodePath("/a/b-c_d.e~f"), "/a/b-c_d.e~f");
  EXPECT_EQ(PercentEncodePath("/a b/+%"), "/a%20b/%2B%25");
  EXPECT_EQ(PercentEncodePath("/\xc3\xa9"), "/%C3%A9");
}

}  // namespace
}  // namespace kdfs
