#include "common/env.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>

#include "common/fault_env.h"

namespace kdfs {
namespace {

class EnvTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = testing::TempDir() + "kdfs_env_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) const { return JoinPath(dir_, name); }

  void WriteFile(Env* env, const std::string& path, std::string_view data) {
    auto file = env->NewWritableFile(path);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    ASSERT_TRUE((*file)->Append(data).ok());
    ASSERT_TRUE((*file)->Sync().ok());
    ASSERT_TRUE((*file)->Close().ok());
  }

  std::vector<std::string> Sorted(Result<std::vector<std::string>> names) {
    EXPECT_TRUE(names.ok()) << names.status().ToString();
    if (!names.ok()) return {};
    std::sort(names->begin(), names->end());
    return *names;
  }

  Env* env_ = Env::Default();
  std::string dir_;
};

TEST_F(EnvTest, WriteThenReadWholeAndRanges) {
  auto file = env_->NewWritableFile(Path("f"));
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("hello ").ok());
  ASSERT_TRUE((*file)->Append("world").ok());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Close().ok());

  auto all = env_->ReadFile(Path("f"));
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, "hello world");
  EXPECT_EQ(*env_->ReadFileRange(Path("f"), 6, 3), "wor");
  EXPECT_EQ(*env_->ReadFileRange(Path("f"), 6, 100), "world");  // short at EOF
  EXPECT_EQ(*env_->ReadFileRange(Path("f"), 50, 10), "");
  EXPECT_EQ(*env_->GetFileSize(Path("f")), 11u);
}

TEST_F(EnvTest, LargeFileRoundTrip) {
  std::string data(20 << 20, '\0');  // larger than one internal read step
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<char>(i * 131 + (i >> 12));
  WriteFile(env_, Path("big"), data);
  auto back = env_->ReadFile(Path("big"));
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(*back == data);
}

TEST_F(EnvTest, NewWritableFileTruncates) {
  WriteFile(env_, Path("f"), "a long first version");
  WriteFile(env_, Path("f"), "short");
  EXPECT_EQ(*env_->ReadFile(Path("f")), "short");
}

TEST_F(EnvTest, MissingFilesAreNotFound) {
  EXPECT_EQ(env_->ReadFile(Path("nope")).status().code(), Code::kNotFound);
  EXPECT_EQ(env_->ReadFileRange(Path("nope"), 0, 1).status().code(), Code::kNotFound);
  EXPECT_EQ(env_->Stat(Path("nope")).status().code(), Code::kNotFound);
  EXPECT_EQ(env_->RemoveFile(Path("nope")).code(), Code::kNotFound);
  EXPECT_EQ(env_->RenameFile(Path("nope"), Path("x")).code(), Code::kNotFound);
  EXPECT_EQ(env_->ListDir(Path("nope")).status().code(), Code::kNotFound);
  EXPECT_EQ(env_->SyncDir(Path("nope")).code(), Code::kNotFound);
  EXPECT_EQ(env_->SyncFilesystem(Path("nope")).code(), Code::kNotFound);
  EXPECT_EQ(env_->SetFileMTime(Path("nope"), 0).code(), Code::kNotFound);
  EXPECT_EQ(env_->NewWritableFile(Path("nodir/f")).status().code(), Code::kNotFound);
  EXPECT_FALSE(env_->FileExists(Path("nope")));
}

TEST_F(EnvTest, CreateDirsIsRecursiveAndIdempotent) {
  ASSERT_TRUE(env_->CreateDirs(Path("a/b/c")).ok());
  ASSERT_TRUE(env_->CreateDirs(Path("a/b/c")).ok());
  ASSERT_TRUE(env_->CreateDirs(Path("a/b/c/")).ok());
  auto info = env_->Stat(Path("a/b/c"));
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->is_directory);

  WriteFile(env_, Path("file"), "x");
  EXPECT_EQ(env_->CreateDirs(Path("file")).code(), Code::kNotDirectory);
  EXPECT_EQ(env_->CreateDirs(Path("file/sub")).code(), Code::kNotDirectory);
  EXPECT_EQ(env_->CreateDirs("").code(), Code::kInvalidArgument);
}

TEST_F(EnvTest, RenameReplacesAndListDirSeesEntries) {
  WriteFile(env_, Path("a"), "A");
  WriteFile(env_, Path("b"), "B");
  ASSERT_TRUE(env_->CreateDirs(Path("d")).ok());
  EXPECT_EQ(Sorted(env_->ListDir(dir_)), (std::vector<std::string>{"a", "b", "d"}));

  ASSERT_TRUE(env_->RenameFile(Path("a"), Path("b")).ok());
  EXPECT_EQ(*env_->ReadFile(Path("b")), "A");
  EXPECT_FALSE(env_->FileExists(Path("a")));
  ASSERT_TRUE(env_->SyncDir(dir_).ok());
  ASSERT_TRUE(env_->SyncFilesystem(dir_).ok());

  ASSERT_TRUE(env_->RemoveFile(Path("b")).ok());
  ASSERT_TRUE(env_->RemoveDir(Path("d")).ok());
  EXPECT_TRUE(Sorted(env_->ListDir(dir_)).empty());
}

TEST_F(EnvTest, RemoveDirOfNonEmptyDirFails) {
  ASSERT_TRUE(env_->CreateDirs(Path("d")).ok());
  WriteFile(env_, Path("d/f"), "x");
  Status s = env_->RemoveDir(Path("d"));
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(env_->FileExists(Path("d/f")));
}

TEST_F(EnvTest, SetFileMTimeIsWhatStatReports) {
  WriteFile(env_, Path("f"), "x");
  const int64_t when = 1'234'567'890'123;
  ASSERT_TRUE(env_->SetFileMTime(Path("f"), when).ok());
  auto info = env_->Stat(Path("f"));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->mtime_ms, when);
  EXPECT_EQ(info->size, 1u);
  EXPECT_FALSE(info->is_directory);
  EXPECT_EQ(*env_->GetFileMTime(Path("f")), when);
}

TEST_F(EnvTest, DiskSpaceIsPlausible) {
  auto space = env_->GetDiskSpace(dir_);
  ASSERT_TRUE(space.ok()) << space.status().ToString();
  EXPECT_GT(space->total_bytes, 0u);
  EXPECT_LE(space->available_bytes, space->total_bytes);
  EXPECT_EQ(env_->GetDiskSpace(Path("nope")).status().code(), Code::kNotFound);
}

TEST_F(EnvTest, LockFileIsExclusiveUntilReleased) {
  auto first = env_->LockFile(Path("LOCK"));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = env_->LockFile(Path("LOCK"));
  EXPECT_EQ(second.status().code(), Code::kUnavailable);
  first->reset();
  auto third = env_->LockFile(Path("LOCK"));
  EXPECT_TRUE(third.ok()) << third.status().ToString();
}

TEST_F(EnvTest, WriteFileAtomicReplacesWithoutLeftovers) {
  ASSERT_TRUE(env_->WriteFileAtomic(Path("cfg"), "one").ok());
  ASSERT_TRUE(env_->WriteFileAtomic(Path("cfg"), "two").ok());
  EXPECT_EQ(*env_->ReadFile(Path("cfg")), "two");
  EXPECT_EQ(Sorted(env_->ListDir(dir_)), (std::vector<std::string>{"cfg"}));
}

// A real write error (ENOSPC from /dev/full) poisons a POSIX WritableFile.
TEST_F(EnvTest, PosixWriteErrorIsSticky) {
  if (!env_->FileExists("/dev/full")) GTEST_SKIP() << "no /dev/full on this system";
  auto file = env_->NewWritableFile("/dev/full");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  Status first = (*file)->Append("data");
  EXPECT_EQ(first.code(), Code::kNoSpace) << first.ToString();
  EXPECT_EQ((*file)->Append("more"), first);
  EXPECT_EQ((*file)->Sync(), first);
  EXPECT_EQ((*file)->Close(), first);
}

TEST(PathTest, JoinAndParent) {
  EXPECT_EQ(JoinPath("a/b", "c"), "a/b/c");
  EXPECT_EQ(JoinPath("a/b/", "c"), "a/b/c");
  EXPECT_EQ(JoinPath("", "c"), "c");
  EXPECT_EQ(ParentDir("a/b/c"), "a/b");
  EXPECT_EQ(ParentDir("a/b/c/"), "a/b");
  EXPECT_EQ(ParentDir("c"), ".");
  EXPECT_EQ(ParentDir("/c"), "/");
}

// --- FaultInjectionEnv ---

class FaultEnvTest : public EnvTest {
 protected:
  FaultInjectionEnv fenv_{Env::Default()};
};

TEST_F(FaultEnvTest, ForwardsWhenNoFaultIsSet) {
  WriteFile(&fenv_, Path("f"), "abc");
  EXPECT_EQ(*fenv_.ReadFile(Path("f")), "abc");
  ASSERT_TRUE(fenv_.RenameFile(Path("f"), Path("g")).ok());
  ASSERT_TRUE(fenv_.SyncDir(dir_).ok());
  ASSERT_TRUE(fenv_.RemoveFile(Path("g")).ok());
  auto c = fenv_.counters();
  EXPECT_EQ(c.files_created, 1u);
  EXPECT_EQ(c.bytes_appended, 3u);
  EXPECT_EQ(c.syncs, 1u);
  EXPECT_EQ(c.dir_syncs, 1u);
  EXPECT_EQ(c.renames, 1u);
  EXPECT_EQ(c.removes, 1u);
}

TEST_F(FaultEnvTest, FailedWriteIsNoSpaceAndPoisonsTheFile) {
  fenv_.FailNextWrites(1);
  auto file = fenv_.NewWritableFile(Path("f"));
  ASSERT_TRUE(file.ok());
  Status s = (*file)->Append("abc");
  EXPECT_EQ(s.code(), Code::kNoSpace);
  // The injection is used up, but the file stays failed.
  EXPECT_EQ((*file)->Append("abc").code(), Code::kNoSpace);
  EXPECT_EQ((*file)->Sync().code(), Code::kNoSpace);
  EXPECT_EQ((*file)->Close().code(), Code::kNoSpace);
  EXPECT_EQ(*fenv_.GetFileSize(Path("f")), 0u);
  // Other files are fine again.
  WriteFile(&fenv_, Path("g"), "ok");
}

TEST_F(FaultEnvTest, FailedSyncIsPermanentForThatFile) {
  auto file = fenv_.NewWritableFile(Path("f"));
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("abc").ok());
  fenv_.FailNextSyncs(1);
  Status s = (*file)->Sync();
  EXPECT_EQ(s.code(), Code::kIoError);
  EXPECT_EQ((*file)->Sync(), s);  // not retried as if it could succeed
  EXPECT_EQ((*file)->Append("more"), s);
  EXPECT_EQ((*file)->Close(), s);
}

TEST_F(FaultEnvTest, WriteBudgetWritesWhatFitsThenFails) {
  fenv_.SetWriteBudget(10);
  auto file = fenv_.NewWritableFile(Path("f"));
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("12345").ok());
  EXPECT_EQ((*file)->Append("6789abcdef").code(), Code::kNoSpace);
  (void)(*file)->Close();
  EXPECT_EQ(*fenv_.ReadFile(Path("f")), "123456789a");

  auto other = fenv_.NewWritableFile(Path("g"));
  ASSERT_TRUE(other.ok());
  EXPECT_EQ((*other)->Append("x").code(), Code::kNoSpace);
  (void)(*other)->Close();

  fenv_.Reset();
  WriteFile(&fenv_, Path("h"), "fine again");
}

TEST_F(FaultEnvTest, RenameAndDirSyncFailures) {
  WriteFile(&fenv_, Path("f"), "abc");
  fenv_.SetFailRenames(true);
  EXPECT_EQ(fenv_.RenameFile(Path("f"), Path("g")).code(), Code::kIoError);
  EXPECT_TRUE(fenv_.FileExists(Path("f")));
  EXPECT_FALSE(fenv_.FileExists(Path("g")));
  fenv_.SetFailRenames(false);
  EXPECT_TRUE(fenv_.RenameFile(Path("f"), Path("g")).ok());

  fenv_.FailNextDirSyncs(2);
  EXPECT_EQ(fenv_.SyncDir(dir_).code(), Code::kIoError);
  EXPECT_EQ(fenv_.SyncDir(dir_).code(), Code::kIoError);
  EXPECT_TRUE(fenv_.SyncDir(dir_).ok());
}

}  // namespace
}  // namespace kdfs
