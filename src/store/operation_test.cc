#include "store/operation.h"

#include <gtest/gtest.h>

#include "store/store_test_util.h"

namespace kdfs {
namespace {

using testing::OpMaker;

void ExpectSameOp(const Operation& a, const Operation& b) {
  EXPECT_EQ(a.op_id, b.op_id);
  EXPECT_EQ(a.origin, b.origin);
  EXPECT_EQ(a.hlc, b.hlc);
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.path, b.path);
  EXPECT_EQ(a.to, b.to);
  EXPECT_EQ(a.recursive, b.recursive);
  EXPECT_EQ(a.size, b.size);
  EXPECT_EQ(a.etag, b.etag);
  EXPECT_EQ(a.chunk_size, b.chunk_size);
  EXPECT_EQ(a.chunks, b.chunks);
  EXPECT_EQ(a.content_type, b.content_type);
  EXPECT_EQ(a.mode, b.mode);
  EXPECT_EQ(a.if_match, b.if_match);
  EXPECT_EQ(a.if_none_match_any, b.if_none_match_any);
}

TEST(OperationCodecTest, PutRoundTripsAndIsCanonical) {
  OpMaker m;
  Operation op = m.Put("/d\xC3\xA9j\xC3\xA0/file \"q\".txt", "hello world!", 5);
  op.mode = 0600;
  op.if_match = "abc";
  op.if_none_match_any = true;
  const std::string text = EncodeOperation(op);
  EXPECT_EQ(text.find('\n'), std::string::npos);  // compact: no whitespace between tokens
  EXPECT_EQ(text.find("\": "), std::string::npos);
  EXPECT_EQ(text.find(", \""), std::string::npos);
  EXPECT_EQ(text.rfind("{\"v\":1,\"op_id\":", 0), 0u) << text;
  auto back = DecodeOperation(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ExpectSameOp(op, *back);
  EXPECT_EQ(EncodeOperation(*back), text);  // byte-identical re-encoding
}

TEST(OperationCodecTest, EveryTypeRoundTrips) {
  OpMaker m;
  for (const Operation& op : {m.Mkdir("/a/b"), m.Delete("/a", true), m.Delete("/x", false),
                              m.Rename("/a/b", "/c/d"), m.Put("/empty", "")}) {
    auto back = DecodeOperation(EncodeOperation(op));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    ExpectSameOp(op, *back);
  }
}

TEST(OperationCodecTest, ExactWireFormat) {
  Operation op;
  op.op_id = "k1";
  op.origin = "n2";
  op.hlc = Hlc{17, 2, "n2"};
  op.type = OpType::kRename;
  op.path = "/a";
  op.to = "/b";
  EXPECT_EQ(EncodeOperation(op),
            R"({"v":1,"op_id":"k1","origin":"n2","hlc":"17.2.n2","op":"rename",)"
            R"("args":{"from":"/a","to":"/b"},"preconditions":{}})");
  LogRecord leader = testing::LeaderRec("n3", 7);
  EXPECT_EQ(EncodeLogRecord(leader), R"({"v":1,"kind":"leader","node":"n3","epoch":7})");
  LogRecord reject = testing::RejectRec("k9", Code::kLwwLost, "later write");
  EXPECT_EQ(EncodeLogRecord(reject),
            R"({"v":1,"kind":"reject","op_id":"k9","origin":"n1","code":"superseded",)"
            R"("message":"later write"})");
}

TEST(OperationCodecTest, LogRecordsRoundTrip) {
  OpMaker m;
  for (const LogRecord& r :
       {testing::OpRecord(m.Put("/f", "abcdefghij", 3)), testing::LeaderRec("node-1", 42),
        testing::RejectRec("op-7", Code::kParentNotDirectory, "/a is a file")}) {
    const std::string text = EncodeLogRecord(r);
    auto back = DecodeLogRecord(text);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(back->kind, r.kind);
    EXPECT_EQ(EncodeLogRecord(*back), text);
    if (r.kind == LogRecord::Kind::kOp) ExpectSameOp(r.op, back->op);
    if (r.kind == LogRecord::Kind::kLeader) {
      EXPECT_EQ(back->leader.node, "node-1");
      EXPECT_EQ(back->leader.epoch, 42);
    }
    if (r.kind == LogRecord::Kind::kReject) {
      EXPECT_EQ(back->rejection.op_id, "op-7");
      EXPECT_EQ(back->rejection.code, Code::kParentNotDirectory);
      EXPECT_EQ(back->rejection.message, "/a is a file");
    }
  }
}

TEST(OperationCodecTest, InvalidUtf8IsReplacedStably) {
  OpMaker m;
  Operation op = m.Put("/f", "x");
  op.content_type = "text/\xFF";
  const std::string once = EncodeOperation(op);
  auto back = DecodeOperation(once);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->content_type, "text/\xEF\xBF\xBD");  // U+FFFD
  EXPECT_EQ(EncodeOperation(*back), once);
}

TEST(OperationCodecTest, RejectsMalformed) {
  OpMaker m;
  std::string good = EncodeOperation(m.Put("/f", "abc"));
  auto expect_bad = [](std::string_view text) {
    auto r = DecodeOperation(text);
    EXPECT_FALSE(r.ok()) << text;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    }
  };
  expect_bad("");
  expect_bad("not json");
  expect_bad("[]");
  expect_bad(good.substr(0, good.size() - 1));
  auto replaced = [&](std::string from, std::string to) {
    std::string s = good;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  expect_bad(replaced("\"v\":1", "\"v\":2"));
  expect_bad(replaced("\"op\":\"put\"", "\"op\":\"chmod\""));
  expect_bad(replaced("\"size\":3", "\"size\":-3"));
  expect_bad(replaced("\"size\":3", "\"size\":\"3\""));
  expect_bad(replaced("\"hlc\":\"", "\"hlc\":\"x"));
  expect_bad(replaced("\"chunks\":[\"", "\"chunks\":[\"zz"));
  expect_bad(replaced("\"mode\":420", "\"mode\":4294967296"));
  expect_bad(replaced("\"preconditions\":{}", "\"preconditions\":{\"if_none_match\":\"x\"}"));

  EXPECT_FALSE(DecodeLogRecord(R"({"v":1,"kind":"nope"})").ok());
  EXPECT_FALSE(DecodeLogRecord(R"({"v":1,"kind":"leader","node":"n","epoch":"1"})").ok());
  EXPECT_FALSE(DecodeLogRecord(R"({"v":1,"kind":"op","op":{}})").ok());
}

}  // namespace
}  // namespace kdfs
