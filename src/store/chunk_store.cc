// FileChunkStore: the ChunkStore of chunk_store.h on top of an Env.
//
// Concurrency: the path of a chunk is derived from its id, so all state that
// needs mutual exclusion is per id. A striped mutex (by id) serialises the
// "is it there / install it / remove it / quarantine it" steps of one id;
// writing and fsyncing a temporary file, reading and hashing happen outside
// any lock. The counters of Stats() are atomics updated under the stripe that
// changed the file, so they never count one file twice. `bytes` subtracts the
// size a file has when it is removed; if a file was resized behind the
// store's back (a truncated, corrupt chunk) the figure is off by that much
// until the next Open recounts.
//
// Durability of a new chunk: temp file written, mtime stamped, fsync, close,
// rename into its fan-out dir, fsync of that dir. A fan-out dir is created
// (and its entry, and its parent's, fsynced) before any chunk is renamed into
// it. Open runs one syncfs so that whatever a crashed predecessor left
// unsynced is durable before it is trusted. Removals (Remove, Sweep,
// quarantine) are not fsynced: a removed file that reappears after a crash is
// swept or detected again, and Open recounts everything.
#include "store/chunk_store.h"

#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <mutex>

#include "common/encoding.h"

namespace kdfs {

namespace {

constexpr size_t kStripes = 64;
constexpr size_t kFanouts = 256 * 256;

size_t FanoutIndex(const ChunkId& id) {
  return size_t{id.bytes[0]} << 8 | id.bytes[1];
}

// counter -= n, saturating at 0: a file changed behind the store's back (a
// truncated chunk, a file copied in by hand) must not wrap the counters.
void SaturatingSub(std::atomic<uint64_t>& counter, uint64_t n) {
  uint64_t cur = counter.load();
  while (!counter.compare_exchange_weak(cur, cur >= n ? cur - n : 0)) {
  }
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

class FileChunkStore final : public ChunkStore {
 public:
  FileChunkStore(Env* env, const ChunkStoreOptions& options)
      : env_(env),
        options_(options),
        clock_(options.clock),
        chunks_dir_(JoinPath(options.dir, "chunks")),
        tmp_dir_(JoinPath(options.dir, "tmp")),
        quarantine_dir_(JoinPath(options.dir, "quarantine")) {}

  // Creates the layout, takes the lock, removes stale temp files and counts
  // what is stored.
  Status Init();

  Result<ChunkId> Put(std::string_view data) override {
    ChunkId id = ChunkId::Of(data);
    KDFS_RETURN_IF_ERROR(Store(id, data));
    return id;
  }

  Status PutVerified(const ChunkId& id, std::string_view data) override {
    ChunkId actual = ChunkId::Of(data);
    if (actual != id) {
      return Status::Corruption("chunk data hashes to " + actual.Hex() + ", expected " + id.Hex());
    }
    return Store(id, data);
  }

  bool Has(const ChunkId& id) override { return env_->FileExists(ChunkPath(id)); }

  Result<std::string> Read(const ChunkId& id) override;
  Status Remove(const ChunkId& id) override;
  Status ForEach(const std::function<bool(const ChunkId&)>& fn) override {
    return ForEachFile([&](const ChunkId& id, const std::string&) { return fn(id); });
  }
  Result<uint64_t> Sweep(const std::function<bool(const ChunkId&)>& referenced) override;

  ChunkStoreStats Stats() override {
    ChunkStoreStats s;
    s.chunks = chunks_.load();
    s.bytes = bytes_.load();
    s.quarantined = quarantined_.load();
    return s;
  }

 private:
  std::string ChunkPath(const ChunkId& id) const {
    std::string hex = id.Hex();
    return chunks_dir_ + "/" + hex.substr(0, 2) + "/" + hex.substr(2, 2) + "/" + hex;
  }
  std::mutex& StripeOf(const ChunkId& id) { return stripes_[id.bytes[31] % kStripes]; }

  // Installs `data`, already known to hash to `id`.
  Status Store(const ChunkId& id, std::string_view data);
  // Refreshes the mtime of an existing chunk file. false if it is absent.
  // REQUIRES: the stripe of the chunk is held.
  Result<bool> TouchIfPresent(const std::string& path);
  // Writes, stamps, fsyncs and closes a temp file. Removes it on failure.
  Status WriteTemp(const std::string& tmp, std::string_view data);
  // Renames `tmp` to `path` and fsyncs the fan-out dir; removes whichever is
  // left on failure. REQUIRES: the stripe of the chunk is held and its
  // fan-out dir is ready (EnsureFanout).
  Status Install(const std::string& tmp, const std::string& path);
  // Returns once the fan-out dir of `id` exists and its own entry is durable,
  // creating it if needed. Fan-out dirs are never removed.
  Status EnsureFanout(const ChunkId& id);
  // Marks the fan-out dirs found at Open as ready.
  Status MarkExistingFanouts();
  // Called when a read of `id` did not verify. Re-reads under the stripe
  // lock (another thread may have replaced or quarantined it meanwhile);
  // moves a still corrupt file to quarantine/. Returns the data if it now
  // verifies, kCorruption otherwise.
  Result<std::string> QuarantineIfCorrupt(const ChunkId& id);
  // Calls fn(id, path) for every well-named chunk file; stops when it returns
  // false. Stray names are skipped.
  Status ForEachFile(const std::function<bool(const ChunkId&, const std::string&)>& fn);
  void RemoveQuietly(const std::string& path);

  Env* const env_;
  const ChunkStoreOptions options_;
  Clock* const clock_;
  const std::string chunks_dir_;
  const std::string tmp_dir_;
  const std::string quarantine_dir_;
  std::unique_ptr<FileLock> lock_;

  std::array<std::mutex, kStripes> stripes_;
  // Fan-out dirs known to exist durably, by the id's first two bytes (and top
  // dirs by its first byte). A chunk is renamed only into a ready dir, so a
  // Put never reports success while another thread is still making the
  // dir's own entry durable.
  std::mutex dirs_mu_;  // serialises creating fan-out dirs
  std::unique_ptr<std::atomic<bool>[]> fanout_ready_ =
      std::make_unique<std::atomic<bool>[]>(kFanouts);
  std::array<std::atomic<bool>, 256> top_ready_{};
  std::atomic<uint64_t> seq_{0};  // makes temp and quarantine names unique
  std::atomic<uint64_t> chunks_{0};
  std::atomic<uint64_t> bytes_{0};
  std::atomic<uint64_t> quarantined_{0};
};

Status FileChunkStore::Init() {
  for (const std::string& d : {options_.dir, chunks_dir_, tmp_dir_, quarantine_dir_}) {
    KDFS_RETURN_IF_ERROR(env_->CreateDirs(d));
  }
  KDFS_RETURN_IF_ERROR(env_->SyncDir(options_.dir));
  KDFS_ASSIGN_OR_RETURN(lock_, env_->LockFile(JoinPath(options_.dir, "LOCK")));

  // Stale temp files: a crash between create and rename. Nobody else can be
  // writing them: we hold the lock.
  KDFS_ASSIGN_OR_RETURN(std::vector<std::string> stale, env_->ListDir(tmp_dir_));
  for (const std::string& name : stale) {
    KDFS_RETURN_IF_ERROR(env_->RemoveFile(JoinPath(tmp_dir_, name)));
  }
  if (!stale.empty()) {
    spdlog::warn("chunk store removed stale temp files dir={} count={}", options_.dir,
                 stale.size());
  }

  KDFS_ASSIGN_OR_RETURN(std::vector<std::string> quarantined, env_->ListDir(quarantine_dir_));
  quarantined_ = quarantined.size();

  Status status;
  Status scan = ForEachFile([&](const ChunkId&, const std::string& path) {
    auto info = env_->Stat(path);
    if (!info.ok()) {
      status = info.status();
      return false;
    }
    chunks_ += 1;
    bytes_ += info->size;
    return true;
  });
  KDFS_RETURN_IF_ERROR(scan);
  KDFS_RETURN_IF_ERROR(status);
  KDFS_RETURN_IF_ERROR(MarkExistingFanouts());
  // What a crashed predecessor renamed or created without fsyncing is on
  // disk now but maybe not durable; a Put finding such a chunk would report
  // success. One syncfs makes all of it durable before anything is trusted.
  return env_->SyncFilesystem(options_.dir);
}

Status FileChunkStore::Store(const ChunkId& id, std::string_view data) {
  const std::string path = ChunkPath(id);
  {
    std::lock_guard<std::mutex> l(StripeOf(id));
    KDFS_ASSIGN_OR_RETURN(bool present, TouchIfPresent(path));
    if (present) return Status::Ok();
  }
  const std::string tmp = tmp_dir_ + "/" + id.Hex() + "." + std::to_string(seq_.fetch_add(1));
  KDFS_RETURN_IF_ERROR(WriteTemp(tmp, data));
  Status ready = EnsureFanout(id);
  if (!ready.ok()) {
    RemoveQuietly(tmp);
    return ready;
  }

  std::lock_guard<std::mutex> l(StripeOf(id));
  auto present = TouchIfPresent(path);  // a concurrent Put of the same id won
  if (!present.ok() || *present) {
    RemoveQuietly(tmp);
    return present.status();
  }
  Status s = Install(tmp, path);
  if (!s.ok()) return s;
  chunks_ += 1;
  bytes_ += data.size();
  return Status::Ok();
}

Result<bool> FileChunkStore::TouchIfPresent(const std::string& path) {
  Status s = env_->SetFileMTime(path, clock_->WallMillis());
  if (s.ok()) return true;
  if (s.code() == Code::kNotFound) return false;
  return s;
}

Status FileChunkStore::WriteTemp(const std::string& tmp, std::string_view data) {
  auto file = env_->NewWritableFile(tmp);
  if (!file.ok()) return file.status();
  Status s = (*file)->Append(data);
  // The mtime is what Sweep compares with the clock; stamp it before the
  // fsync so that it is durable with the data.
  if (s.ok()) s = env_->SetFileMTime(tmp, clock_->WallMillis());
  if (s.ok()) s = (*file)->Sync();
  Status c = (*file)->Close();
  if (s.ok()) s = c;
  if (!s.ok()) RemoveQuietly(tmp);
  return s;
}

Status FileChunkStore::Install(const std::string& tmp, const std::string& path) {
  const std::string fanout = ParentDir(path);
  Status s = env_->RenameFile(tmp, path);
  if (!s.ok()) {
    RemoveQuietly(tmp);
    return s;
  }
  s = env_->SyncDir(fanout);
  if (!s.ok()) {
    // The data is on disk but its name may not be: do not let a later Put
    // find the file and report success without a durable directory entry.
    RemoveQuietly(path);
    return s;
  }
  return Status::Ok();
}

Status FileChunkStore::EnsureFanout(const ChunkId& id) {
  const size_t index = FanoutIndex(id);
  if (fanout_ready_[index].load(std::memory_order_acquire)) return Status::Ok();
  std::lock_guard<std::mutex> l(dirs_mu_);
  if (fanout_ready_[index].load(std::memory_order_acquire)) return Status::Ok();
  const std::string hex = id.Hex();
  const std::string top = chunks_dir_ + "/" + hex.substr(0, 2);
  KDFS_RETURN_IF_ERROR(env_->CreateDirs(top + "/" + hex.substr(2, 2)));
  KDFS_RETURN_IF_ERROR(env_->SyncDir(top));  // the fan-out dir's entry
  if (!top_ready_[id.bytes[0]].load()) {
    KDFS_RETURN_IF_ERROR(env_->SyncDir(chunks_dir_));  // the top dir's entry
    top_ready_[id.bytes[0]].store(true);
  }
  fanout_ready_[index].store(true, std::memory_order_release);
  return Status::Ok();
}

Status FileChunkStore::MarkExistingFanouts() {
  KDFS_ASSIGN_OR_RETURN(std::vector<std::string> tops, env_->ListDir(chunks_dir_));
  for (const std::string& top : tops) {
    if (top.size() != 2 || !IsLowerHex(top)) continue;
    const int hi = HexDigitValue(top[0]) << 4 | HexDigitValue(top[1]);
    top_ready_[hi].store(true);
    KDFS_ASSIGN_OR_RETURN(std::vector<std::string> subs, env_->ListDir(chunks_dir_ + "/" + top));
    for (const std::string& sub : subs) {
      if (sub.size() != 2 || !IsLowerHex(sub)) continue;
      fanout_ready_[size_t(hi) << 8 | size_t(HexDigitValue(sub[0]) << 4 | HexDigitValue(sub[1]))]
          .store(true);
    }
  }
  return Status::Ok();
}

Result<std::string> FileChunkStore::Read(const ChunkId& id) {
  auto data = env_->ReadFile(ChunkPath(id));
  if (!data.ok()) {
    if (data.status().code() == Code::kNotFound) return Status::NotFound("chunk " + id.Hex());
    return data.status();
  }
  if (ChunkId::Of(*data) == id) return data;
  return QuarantineIfCorrupt(id);
}

Result<std::string> FileChunkStore::QuarantineIfCorrupt(const ChunkId& id) {
  const std::string path = ChunkPath(id);
  std::lock_guard<std::mutex> l(StripeOf(id));
  auto data = env_->ReadFile(path);
  if (!data.ok()) {
    if (data.status().code() == Code::kNotFound) {
      return Status::Corruption("chunk " + id.Hex() + " was corrupt and is quarantined");
    }
    return data.status();
  }
  if (ChunkId::Of(*data) == id) return data;  // replaced by a good copy meanwhile

  const std::string dest = quarantine_dir_ + "/" + id.Hex() + "." +
                           std::to_string(clock_->WallMillis()) + "." +
                           std::to_string(seq_.fetch_add(1));
  Status moved = env_->RenameFile(path, dest);
  if (moved.ok()) {
    quarantined_ += 1;
  } else {
    // Could not keep it for inspection; at least stop serving it.
    Status removed = env_->RemoveFile(path);
    if (!removed.ok()) {
      return Status::Corruption("chunk " + id.Hex() +
                                " is corrupt and could not be removed: " + removed.ToString());
    }
  }
  SaturatingSub(chunks_, 1);
  SaturatingSub(bytes_, data->size());
  spdlog::error("chunk corrupt id={} size={} quarantined={}", id.Hex(), data->size(),
                moved.ok() ? dest : "no (" + moved.ToString() + "), removed");
  return Status::Corruption("chunk " + id.Hex() + " does not match its hash; quarantined");
}

Status FileChunkStore::Remove(const ChunkId& id) {
  const std::string path = ChunkPath(id);
  std::lock_guard<std::mutex> l(StripeOf(id));
  auto info = env_->Stat(path);
  if (!info.ok()) {
    if (info.status().code() == Code::kNotFound) return Status::NotFound("chunk " + id.Hex());
    return info.status();
  }
  KDFS_RETURN_IF_ERROR(env_->RemoveFile(path));
  SaturatingSub(chunks_, 1);
  SaturatingSub(bytes_, info->size);
  return Status::Ok();
}

Result<uint64_t> FileChunkStore::Sweep(const std::function<bool(const ChunkId&)>& referenced) {
  const int64_t now = clock_->WallMillis();
  auto old_enough = [&](const FileAttributes& info) {
    return now - info.mtime_ms >= options_.gc_grace_ms;
  };
  uint64_t deleted = 0;
  Status error;
  Status scan = ForEachFile([&](const ChunkId& id, const std::string& path) {
    auto info = env_->Stat(path);
    if (!info.ok() || !old_enough(*info) || referenced(id)) return true;
    std::lock_guard<std::mutex> l(StripeOf(id));
    // Re-check under the lock: a Put since the first Stat refreshed the mtime.
    info = env_->Stat(path);
    if (!info.ok() || !old_enough(*info)) return true;
    Status s = env_->RemoveFile(path);
    if (!s.ok()) {
      error = s;
      return false;
    }
    SaturatingSub(chunks_, 1);
    SaturatingSub(bytes_, info->size);
    ++deleted;
    return true;
  });
  KDFS_RETURN_IF_ERROR(scan);
  KDFS_RETURN_IF_ERROR(error);
  if (deleted > 0) spdlog::info("chunk sweep deleted={} dir={}", deleted, options_.dir);
  return deleted;
}

Status FileChunkStore::ForEachFile(
    const std::function<bool(const ChunkId&, const std::string&)>& fn) {
  KDFS_ASSIGN_OR_RETURN(std::vector<std::string> tops, env_->ListDir(chunks_dir_));
  for (const std::string& top : tops) {
    if (top.size() != 2 || !IsLowerHex(top)) continue;
    const std::string top_dir = chunks_dir_ + "/" + top;
    KDFS_ASSIGN_OR_RETURN(std::vector<std::string> subs, env_->ListDir(top_dir));
    for (const std::string& sub : subs) {
      if (sub.size() != 2 || !IsLowerHex(sub)) continue;
      const std::string sub_dir = top_dir + "/" + sub;
      KDFS_ASSIGN_OR_RETURN(std::vector<std::string> names, env_->ListDir(sub_dir));
      for (const std::string& name : names) {
        if (name.size() != 64 || !IsLowerHex(name) || name.compare(0, 2, top) != 0 ||
            name.compare(2, 2, sub) != 0) {
          continue;
        }
        auto id = ChunkId::FromHex(name);
        if (!id.ok()) continue;
        if (!fn(*id, sub_dir + "/" + name)) return Status::Ok();
      }
    }
  }
  return Status::Ok();
}

void FileChunkStore::RemoveQuietly(const std::string& path) {
  Status s = env_->RemoveFile(path);
  if (!s.ok() && s.code() != Code::kNotFound) {
    spdlog::warn("chunk store could not remove path={} error={}", path, s.ToString());
  }
}

}  // namespace

Result<std::unique_ptr<ChunkStore>> ChunkStore::Open(Env* env, const ChunkStoreOptions& options) {
  if (env == nullptr) return Status::InvalidArgument("chunk store: null env");
  if (options.dir.empty()) return Status::InvalidArgument("chunk store: empty dir");
  if (options.clock == nullptr) return Status::InvalidArgument("chunk store: null clock");
  if (options.gc_grace_ms < 0) return Status::InvalidArgument("chunk store: negative grace");
  auto store = std::make_unique<FileChunkStore>(env, options);
  KDFS_RETURN_IF_ERROR(store->Init());
  return std::unique_ptr<ChunkStore>(std::move(store));
}

}  // namespace kdfs
