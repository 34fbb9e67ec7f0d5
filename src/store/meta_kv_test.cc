// Typed tests: MemoryKv and RedisKv must behave identically.
#include "store/meta_kv.h"

#include <gtest/gtest.h>

#include "store/meta_schema.h"
#include "store/store_test_util.h"

namespace kdfs {
namespace {

template <typename Backend>
class MetaKvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Backend::Available()) GTEST_SKIP() << "redis-server is not installed";
    kv_ = Backend::NewKv();
  }
  std::unique_ptr<MetaKv> kv_;
};

TYPED_TEST_SUITE(MetaKvTest, testing::Backends, testing::BackendNames);

TYPED_TEST(MetaKvTest, StringsAndHashesAreBinarySafe) {
  MetaKv& kv = *this->kv_;
  const std::string bin("a\0b\xFF\r\n", 6);
  WriteBatch b;
  b.Set("s", bin);
  b.HSet("h", bin, bin + "v");
  b.HSet("h", "x", "1");
  b.HSet("h", "x", "2");  // later write wins
  ASSERT_TRUE(kv.Commit(b).ok());

  auto s = kv.Get("s");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, std::optional<std::string>(bin));
  EXPECT_EQ(*kv.Get("absent"), std::nullopt);
  EXPECT_EQ(*kv.HGet("h", bin), std::optional<std::string>(bin + "v"));
  EXPECT_EQ(*kv.HGet("h", "x"), std::optional<std::string>("2"));
  EXPECT_EQ(*kv.HGet("h", "nope"), std::nullopt);
  EXPECT_EQ(*kv.HGet("nokey", "x"), std::nullopt);
  auto m = kv.HMGet("h", {"x", "nope", bin});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m, (std::vector<std::optional<std::string>>{"2", std::nullopt, bin + "v"}));
  EXPECT_EQ(*kv.HGetAll("h"), (KvFields{{bin, bin + "v"}, {"x", "2"}}));
  EXPECT_EQ(*kv.HGetAll("nokey"), KvFields{});
  EXPECT_EQ(*kv.HLen("h"), 2u);
  EXPECT_EQ(*kv.HLen("nokey"), 0u);

  WriteBatch d;
  d.HDel("h", "x");
  d.Del("s");
  ASSERT_TRUE(kv.Commit(d).ok());
  EXPECT_EQ(*kv.HLen("h"), 1u);
  EXPECT_EQ(*kv.Get("s"), std::nullopt);

  auto many = kv.HGetAllMany({"h", "nokey"});
  ASSERT_TRUE(many.ok());
  ASSERT_EQ(many->size(), 2u);
  EXPECT_EQ((*many)[0].size(), 1u);
  EXPECT_TRUE((*many)[1].empty());
}

TYPED_TEST(MetaKvTest, SortedSetPagesInByteOrder) {
  MetaKv& kv = *this->kv_;
  WriteBatch b;
  // Byte order: "B" < "a" < "a b" < "ab" < "\xC3\xA9" (UTF-8 é) < "\xFF".
  for (const char* m : {"ab", "\xFF", "a", "B", "\xC3\xA9", "a b"})
    b.ZAdd("z", m);
  b.ZAdd("z", "ab");  // duplicate
  ASSERT_TRUE(kv.Commit(b).ok());
  auto all = kv.ZRangeAfter("z", "", 100);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, (std::vector<std::string>{"B", "a", "a b", "ab", "\xC3\xA9", "\xFF"}));
  EXPECT_EQ(*kv.ZRangeAfter("z", "a", 2), (std::vector<std::string>{"a b", "ab"}));
  EXPECT_EQ(*kv.ZRangeAfter("z", "aa", 10),
            (std::vector<std::string>{"ab", "\xC3\xA9", "\xFF"}));  // `after` need not exist
  EXPECT_TRUE(kv.ZRangeAfter("z", "\xFF", 10)->empty());
  EXPECT_TRUE(kv.ZRangeAfter("none", "", 10)->empty());
  WriteBatch r;
  r.ZRem("z", "a");
  ASSERT_TRUE(kv.Commit(r).ok());
  EXPECT_EQ(*kv.ZRangeAfter("z", "", 2), (std::vector<std::string>{"B", "a b"}));
}

// A small tree in the schema: / (1) -> a (2, dir) -> f (3, file), a -> b (4, dir).
void BuildTree(MetaKv& kv) {
  WriteBatch b;
  FileInfo root, a, f, dir_b;
  root.ino = 1, root.is_dir = true;
  a.ino = 2, a.is_dir = true;
  f.ino = 3, f.size = 5, f.etag = "e";
  f.chunks = {ChunkId::Of("x")};
  dir_b.ino = 4, dir_b.is_dir = true;
  schema::PutInode(root, 1, "", &b);
  schema::PutInode(a, 1, "a", &b);
  schema::PutInode(f, 2, "f", &b);
  schema::PutInode(dir_b, 2, "b", &b);
  schema::PutDirent(1, "a", 2, &b);
  schema::PutDirent(2, "f", 3, &b);
  schema::PutDirent(2, "b", 4, &b);
  ASSERT_TRUE(kv.Commit(b).ok());
}

TYPED_TEST(MetaKvTest, ResolveWalksDirectoryEntries) {
  MetaKv& kv = *this->kv_;
  BuildTree(kv);
  auto r = kv.Resolve(1, {"a", "f"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->inos, (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(r->types, (std::vector<std::string>{"d", "f"}));
  EXPECT_EQ(r->last.at("size"), "5");
  EXPECT_EQ(r->last.at("chunks").size(), 32u);

  // Stops after a file: "/a/f/x" reaches f only.
  r = kv.Resolve(1, {"a", "f", "x"});
  EXPECT_EQ(r->inos, (std::vector<uint64_t>{2, 3}));
  // Stops at the first absent name and reports the last inode found.
  r = kv.Resolve(1, {"a", "nope", "b"});
  EXPECT_EQ(r->inos, (std::vector<uint64_t>{2}));
  EXPECT_EQ(r->last.at("type"), "d");
  EXPECT_EQ(r->last.at("name"), "a");
  // The empty walk returns the start inode.
  r = kv.Resolve(1, {});
  EXPECT_TRUE(r->inos.empty());
  EXPECT_EQ(r->last.at("type"), "d");
}

TYPED_TEST(MetaKvTest, ResolveAndListReturnsOnePage) {
  MetaKv& kv = *this->kv_;
  BuildTree(kv);
  const std::vector<std::string> fields = {"type", "size"};
  auto l = kv.ResolveAndList(1, {"a"}, "", 10, fields);
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_EQ(l->dir.inos, (std::vector<uint64_t>{2}));
  EXPECT_EQ(l->dir.last, (KvFields{{"size", "0"}, {"type", "d"}}));
  ASSERT_EQ(l->entries.size(), 2u);
  EXPECT_EQ(l->entries[0].name, "b");
  EXPECT_EQ(l->entries[0].ino, 4u);
  EXPECT_EQ(l->entries[1].name, "f");
  EXPECT_EQ(l->entries[1].fields, (KvFields{{"size", "5"}, {"type", "f"}}));

  l = kv.ResolveAndList(1, {"a"}, "b", 1, fields);
  ASSERT_EQ(l->entries.size(), 1u);
  EXPECT_EQ(l->entries[0].name, "f");

  // A file or a missing directory yields no entries.
  l = kv.ResolveAndList(1, {"a", "f"}, "", 10, fields);
  EXPECT_EQ(l->dir.inos.size(), 2u);
  EXPECT_EQ(l->dir.last.at("type"), "f");
  EXPECT_TRUE(l->entries.empty());
  l = kv.ResolveAndList(1, {"zz"}, "", 10, fields);
  EXPECT_TRUE(l->dir.inos.empty());
  EXPECT_TRUE(l->entries.empty());
  // The root.
  l = kv.ResolveAndList(1, {}, "", 10, fields);
  ASSERT_EQ(l->entries.size(), 1u);
  EXPECT_EQ(l->entries[0].name, "a");
}

TYPED_TEST(MetaKvTest, MergedWritesKeepOrder) {
  MetaKv& kv = *this->kv_;
  WriteBatch b;
  b.HSet("h", "a", "1");
  b.HSet("h", "b", "2");
  b.HDel("h", "a");
  b.HSet("h", "a", "3");
  b.ZAdd("z", "x");
  b.ZAdd("z", "y");
  b.ZRem("z", "x");
  b.Del("gone");
  ASSERT_TRUE(kv.Commit(b).ok());
  EXPECT_EQ(*kv.HGetAll("h"), (KvFields{{"a", "3"}, {"b", "2"}}));
  EXPECT_EQ(*kv.ZRangeAfter("z", "", 10), (std::vector<std::string>{"y"}));
}

}  // namespace
}  // namespace kdfs
