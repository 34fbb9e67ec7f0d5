// Namespace semantics of the state machine, typed over MemoryKv and RedisKv.
#include "store/state_machine.h"

#include <gtest/gtest.h>

#include "store/store_test_util.h"

namespace kdfs {
namespace {

template <typename Backend>
class StateMachineTest : public testing::StateMachineFixture<Backend> {};

TYPED_TEST_SUITE(StateMachineTest, testing::Backends, testing::BackendNames);

TYPED_TEST(StateMachineTest, OpenCreatesRoot) {
  auto& sm = *this->sm_;
  EXPECT_EQ(sm.applied_offset(), -1);
  EXPECT_EQ(sm.digest(), std::string(64, '0'));
  auto root = sm.Stat("/");
  ASSERT_TRUE(root.ok()) << root.status().ToString();
  EXPECT_TRUE(root->is_dir);
  EXPECT_EQ(root->ino, 1u);
  auto l = sm.List("/", "", 10);
  ASSERT_TRUE(l.ok());
  EXPECT_TRUE(l->entries.empty());
  EXPECT_FALSE(l->next);
}

TYPED_TEST(StateMachineTest, PutCreatesFileAndParents) {
  auto& sm = *this->sm_;
  Operation op = this->m_.Put("/a/b/c.txt", "hello world", 4);
  ApplyOutcome out = this->Ok(op);
  EXPECT_TRUE(out.created);
  EXPECT_EQ(out.op_id, op.op_id);
  EXPECT_EQ(out.version, 0);
  EXPECT_EQ(out.info.size, 11u);
  EXPECT_EQ(out.info.etag, op.etag);
  EXPECT_EQ(out.info.version, 0);

  auto st = sm.Stat("/a/b/c.txt");
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_FALSE(st->is_dir);
  EXPECT_EQ(st->size, 11u);
  EXPECT_EQ(st->mode, 0644u);
  EXPECT_EQ(st->mtime, op.hlc);
  EXPECT_EQ(st->version, 0);
  EXPECT_EQ(st->content_type, "text/plain");
  EXPECT_EQ(st->chunk_size, 4u);
  EXPECT_EQ(st->chunks, op.chunks);  // Stat returns the chunk list
  auto dir = sm.Stat("/a/b");
  ASSERT_TRUE(dir.ok());
  EXPECT_TRUE(dir->is_dir);
  EXPECT_EQ(dir->mtime, op.hlc);
  EXPECT_EQ(testing::TreeOf(sm), "/a d 0  0 " + op.hlc.Encode() + "\n/a/b d 0  0 " +
                                     op.hlc.Encode() + "\n/a/b/c.txt f 11 " + op.etag + " 0 " +
                                     op.hlc.Encode() + "\n");
  EXPECT_EQ(sm.Stat("/a/b/nope").status().code(), Code::kNotFound);
  EXPECT_EQ(sm.Stat("/a/b/c.txt/x").status().code(), Code::kNotFound);
  EXPECT_EQ(sm.Stat("/a/../b").status().code(), Code::kInvalidPath);
}

TYPED_TEST(StateMachineTest, PutReplacesFile) {
  auto& sm = *this->sm_;
  ApplyOutcome first = this->Ok(this->m_.Put("/f", "one"));
  Operation second = this->m_.Put("/f", "second version");
  ApplyOutcome out = this->Ok(second);
  EXPECT_FALSE(out.created);
  EXPECT_EQ(out.version, 1);
  EXPECT_EQ(out.info.ino, first.info.ino);
  auto st = sm.Stat("/f");
  EXPECT_EQ(st->size, 14u);
  EXPECT_EQ(st->etag, second.etag);
  EXPECT_EQ(st->version, 1);
}

TYPED_TEST(StateMachineTest, PutRejections) {
  this->Ok(this->m_.Put("/file", "x"));
  this->Ok(this->m_.Mkdir("/dir"));
  this->ExpectRejected(this->m_.Put("/file/child", "y"), Code::kParentNotDirectory);
  this->ExpectRejected(this->m_.Put("/file/a/b", "y"), Code::kParentNotDirectory);
  this->ExpectRejected(this->m_.Put("/dir", "y"), Code::kIsDirectory);
  this->ExpectRejected(this->m_.Put("/", "y"), Code::kIsDirectory);
  this->ExpectRejected(this->m_.Put("/a/./b", "y"), Code::kInvalidPath);
  Operation bad_layout = this->m_.Put("/new", "12345678", 4);
  bad_layout.chunks.pop_back();
  this->ExpectRejected(bad_layout, Code::kInvalidArgument);
}

TYPED_TEST(StateMachineTest, Preconditions) {
  auto& sm = *this->sm_;
  Operation first = this->m_.Put("/f", "v1");
  this->Ok(first);

  Operation none_match = this->m_.Put("/f", "v2");
  none_match.if_none_match_any = true;
  this->ExpectRejected(none_match, Code::kPreconditionFailed);
  Operation create = this->m_.Put("/g", "v1");
  create.if_none_match_any = true;
  EXPECT_TRUE(this->Ok(create).created);

  Operation wrong = this->m_.Put("/f", "v2");
  wrong.if_match = "0000";
  this->ExpectRejected(wrong, Code::kPreconditionFailed);
  Operation absent = this->m_.Put("/nope", "v2");
  absent.if_match = "*";
  this->ExpectRejected(absent, Code::kPreconditionFailed);

  Operation right = this->m_.Put("/f", "v2");
  right.if_match = first.etag;
  this->Ok(right);
  EXPECT_EQ(sm.Stat("/f")->etag, right.etag);
  Operation any = this->m_.Put("/f", "v3");
  any.if_match = "*";
  this->Ok(any);
}

TYPED_TEST(StateMachineTest, LastWriterWinsOnHlc) {
  auto& sm = *this->sm_;
  Operation late = this->m_.Put("/f", "late");
  Operation early = this->m_.Put("/f", "early");
  early.hlc = late.hlc;
  early.hlc.physical_ms -= 5;  // proposed earlier, sequenced later
  this->Ok(late);
  this->ExpectRejected(early, Code::kLwwLost);
  EXPECT_EQ(sm.Stat("/f")->etag, late.etag);
  // Same time, node id breaks the tie.
  Operation tie = this->m_.Put("/f", "tie");
  tie.hlc = late.hlc;
  tie.hlc.node = "a-smaller-node";
  this->ExpectRejected(tie, Code::kLwwLost);
  tie.hlc.node = "z-larger-node";
  tie.op_id += "-retry";
  this->Ok(tie);
}

TYPED_TEST(StateMachineTest, Mkdir) {
  auto& sm = *this->sm_;
  ApplyOutcome out = this->Ok(this->m_.Mkdir("/x/y/z"));
  EXPECT_TRUE(out.created);
  EXPECT_TRUE(out.info.is_dir);
  EXPECT_TRUE(sm.Stat("/x/y")->is_dir);
  EXPECT_TRUE(sm.Stat("/x/y/z")->is_dir);
  EXPECT_EQ(out.info.ino, sm.Stat("/x/y/z")->ino);

  ApplyOutcome again = this->Ok(this->m_.Mkdir("/x/y/z"));
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.info.ino, out.info.ino);
  EXPECT_FALSE(this->Ok(this->m_.Mkdir("/")).created);

  this->Ok(this->m_.Put("/x/f", "data"));
  this->ExpectRejected(this->m_.Mkdir("/x/f"), Code::kNotDirectory);
  this->ExpectRejected(this->m_.Mkdir("/x/f/g"), Code::kParentNotDirectory);
}

TYPED_TEST(StateMachineTest, DeleteFileAndDirectories) {
  auto& sm = *this->sm_;
  this->Ok(this->m_.Put("/d/f", "data"));
  this->Ok(this->m_.Mkdir("/d/empty"));
  this->ExpectRejected(this->m_.Delete("/d"), Code::kDirectoryNotEmpty);
  this->ExpectRejected(this->m_.Delete("/nope"), Code::kNotFound);
  this->ExpectRejected(this->m_.Delete("/d/f/x"), Code::kNotFound);
  this->ExpectRejected(this->m_.Delete("/"), Code::kInvalidArgument);
  this->ExpectRejected(this->m_.Delete("/", true), Code::kInvalidArgument);

  this->Ok(this->m_.Delete("/d/f"));
  EXPECT_EQ(sm.Stat("/d/f").status().code(), Code::kNotFound);
  this->Ok(this->m_.Delete("/d/empty"));
  this->Ok(this->m_.Delete("/d"));  // now empty
  EXPECT_EQ(testing::TreeOf(sm), "");
}

TYPED_TEST(StateMachineTest, RecursiveDeleteDropsSubtreeAndReferences) {
  auto& sm = *this->sm_;
  Operation f1 = this->m_.Put("/t/a/f1", "aaaabbbb");
  Operation f2 = this->m_.Put("/t/a/b/f2", "aaaacccc");  // shares chunk "aaaa"
  Operation keep = this->m_.Put("/keep", "bbbb");        // shares chunk "bbbb"
  for (auto* op : {&f1, &f2, &keep})
    this->Ok(*op);
  this->Ok(this->m_.Mkdir("/t/a/b/c/d"));
  const ChunkId aaaa = ChunkId::Of("aaaa"), bbbb = ChunkId::Of("bbbb"), cccc = ChunkId::Of("cccc");
  EXPECT_TRUE(*sm.IsChunkReferenced(aaaa));
  EXPECT_TRUE(*sm.IsChunkReferenced(cccc));

  this->Ok(this->m_.Delete("/t", true));
  EXPECT_EQ(testing::TreeOf(sm), "/keep f 4 " + keep.etag + " 2 " + keep.hlc.Encode() + "\n");
  EXPECT_FALSE(*sm.IsChunkReferenced(aaaa));
  EXPECT_FALSE(*sm.IsChunkReferenced(cccc));
  EXPECT_TRUE(*sm.IsChunkReferenced(bbbb));  // still used by /keep
  // The names are free again, with fresh inodes.
  this->Ok(this->m_.Put("/t/a/f1", "new"));
  EXPECT_EQ(sm.Stat("/t/a/f1")->size, 3u);
}

TYPED_TEST(StateMachineTest, ChunkReferenceCounts) {
  auto& sm = *this->sm_;
  const ChunkId zeros = ChunkId::Of(std::string(4, '\0'));
  this->Ok(this->m_.Put("/z1", std::string(12, '\0')));  // the same chunk three times
  this->Ok(this->m_.Put("/z2", std::string(4, '\0')));
  EXPECT_TRUE(*sm.IsChunkReferenced(zeros));
  this->Ok(this->m_.Put("/z1", "replaced"));  // replace drops z1's three references
  EXPECT_TRUE(*sm.IsChunkReferenced(zeros));
  this->Ok(this->m_.Delete("/z2"));
  EXPECT_FALSE(*sm.IsChunkReferenced(zeros));
  EXPECT_TRUE(*sm.IsChunkReferenced(ChunkId::Of("repl")));
  // Re-putting identical content keeps the count stable.
  this->Ok(this->m_.Put("/z1", "replaced"));
  this->Ok(this->m_.Delete("/z1"));
  EXPECT_FALSE(*sm.IsChunkReferenced(ChunkId::Of("repl")));
}

TYPED_TEST(StateMachineTest, RenameFileAndDirectory) {
  auto& sm = *this->sm_;
  Operation f = this->m_.Put("/src/sub/f", "content");
  this->Ok(f);
  const uint64_t ino = sm.Stat("/src")->ino;
  ApplyOutcome out = this->Ok(this->m_.Rename("/src", "/new/place/dst"));
  EXPECT_EQ(out.info.ino, ino);
  EXPECT_EQ(sm.Stat("/src").status().code(), Code::kNotFound);
  EXPECT_EQ(sm.Stat("/new/place/dst")->ino, ino);
  auto moved = sm.Stat("/new/place/dst/sub/f");
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(moved->etag, f.etag);
  EXPECT_EQ(moved->version, 0);  // content untouched by a rename

  this->Ok(this->m_.Rename("/new/place/dst/sub/f", "/g"));
  EXPECT_EQ(sm.Stat("/g")->etag, f.etag);
  auto l = sm.List("/new/place/dst/sub", "", 10);
  EXPECT_TRUE(l->entries.empty());
}

TYPED_TEST(StateMachineTest, RenameRejections) {
  this->Ok(this->m_.Put("/a/f", "x"));
  this->Ok(this->m_.Put("/b", "y"));
  this->ExpectRejected(this->m_.Rename("/nope", "/c"), Code::kNotFound);
  this->ExpectRejected(this->m_.Rename("/a/f", "/b"), Code::kAlreadyExists);
  this->ExpectRejected(this->m_.Rename("/a", "/a"), Code::kAlreadyExists);
  this->ExpectRejected(this->m_.Rename("/a/f", "/"), Code::kAlreadyExists);
  this->ExpectRejected(this->m_.Rename("/a", "/a/inner"), Code::kInvalidRename);
  this->ExpectRejected(this->m_.Rename("/a", "/a/x/y"), Code::kInvalidRename);
  this->ExpectRejected(this->m_.Rename("/", "/r"), Code::kInvalidRename);
  this->ExpectRejected(this->m_.Rename("/a/f", "/b/f"), Code::kParentNotDirectory);
  this->ExpectRejected(this->m_.Rename("/a/f", "/x/../y"), Code::kInvalidPath);
  // "/ab" is not inside "/a".
  this->Ok(this->m_.Rename("/a", "/ab"));
}

TYPED_TEST(StateMachineTest, ListPagesInByteOrder) {
  auto& sm = *this->sm_;
  std::vector<std::string> names;
  for (int i = 0; i < 23; ++i)
    names.push_back("n" + std::to_string(i));
  names.push_back("\xC3\xA9t\xC3\xA9");  // UTF-8 sorts after ASCII
  names.push_back("Zebra");
  for (const auto& n : names)
    this->Ok(this->m_.Put("/d/" + n, n));
  this->Ok(this->m_.Mkdir("/d/sub"));
  names.push_back("sub");
  std::sort(names.begin(), names.end());

  std::vector<std::string> seen;
  std::string after;
  int pages = 0;
  while (true) {
    auto l = sm.List("/d", after, 10);
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    ++pages;
    for (const auto& e : l->entries)
      seen.push_back(e.name);
    if (!l->next) break;
    EXPECT_EQ(l->entries.size(), 10u);
    EXPECT_EQ(*l->next, l->entries.back().name);
    after = *l->next;
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, names);
  // Exactly `limit` remaining: no next.
  auto last = sm.List("/d", names[names.size() - 4], 3);
  EXPECT_EQ(last->entries.size(), 3u);
  EXPECT_FALSE(last->next);
  auto mid = sm.List("/d", "n15x", 1);  // `after` need not exist
  EXPECT_EQ(mid->entries[0].name, "n16");
  auto sub = std::find_if(seen.begin(), seen.end(), [](auto& n) { return n == "sub"; });
  EXPECT_NE(sub, seen.end());

  EXPECT_EQ(sm.List("/d/n1", "", 10).status().code(), Code::kNotDirectory);
  EXPECT_EQ(sm.List("/nope", "", 10).status().code(), Code::kNotFound);
  EXPECT_EQ(sm.List("/d", "", 0).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(sm.List("/d/../x", "", 10).status().code(), Code::kInvalidPath);
  auto entry = sm.List("/d", "n0", 1);
  EXPECT_EQ(entry->entries[0].name, "n1");
  EXPECT_EQ(entry->entries[0].info.size, 2u);
  EXPECT_TRUE(entry->entries[0].info.chunks.empty());  // listings carry no chunk lists
}

}  // namespace
}  // namespace kdfs
