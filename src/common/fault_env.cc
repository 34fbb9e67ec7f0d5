#include "common/fault_env.h"

namespace kdfs {

class FaultInjectionEnv::File final : public WritableFile {
 public:
  File(FaultInjectionEnv* env, std::string path, std::unique_ptr<WritableFile> base)
      : env_(env), path_(std::move(path)), base_(std::move(base)) {}

  Status Append(std::string_view data) override {
    if (!error_.ok()) return error_;
    int err = 0;
    size_t admitted = env_->AdmitWrite(data.size(), &err);
    if (admitted > 0) {
      Status s = base_->Append(data.substr(0, admitted));
      if (!s.ok()) return Poison(s);
    }
    if (err != 0) return Poison(Status::FromErrno(err, "write " + path_ + " (injected)"));
    return Status::Ok();
  }

  Status Sync() override {
    if (!error_.ok()) return error_;
    if (env_->TakeSyncFailure())
      return Poison(Status::FromErrno(EIO, "fsync " + path_ + " (injected)"));
    Status s = base_->Sync();
    if (!s.ok()) return Poison(s);
    return s;
  }

  Status Close() override {
    Status s = base_->Close();
    if (!error_.ok()) return error_;
    return Poison(s);
  }

 private:
  Status Poison(Status s) {
    if (error_.ok()) error_ = s;
    return s;
  }

  FaultInjectionEnv* const env_;
  const std::string path_;
  std::unique_ptr<WritableFile> base_;
  Status error_;
};

void FaultInjectionEnv::FailNextWrites(int n, int err) {
  std::lock_guard<std::mutex> l(mu_);
  fail_writes_ = n;
  fail_writes_errno_ = err;
}

void FaultInjectionEnv::FailNextSyncs(int n) {
  std::lock_guard<std::mutex> l(mu_);
  fail_syncs_ = n;
}

void FaultInjectionEnv::FailNextDirSyncs(int n) {
  std::lock_guard<std::mutex> l(mu_);
  fail_dir_syncs_ = n;
}

void FaultInjectionEnv::SetFailRenames(bool fail) {
  std::lock_guard<std::mutex> l(mu_);
  fail_renames_ = fail;
}

void FaultInjectionEnv::SetWriteBudget(int64_t bytes) {
  std::lock_guard<std::mutex> l(mu_);
  budget_ = bytes;
}

void FaultInjectionEnv::Reset() {
  std::lock_guard<std::mutex> l(mu_);
  fail_writes_ = 0;
  fail_writes_errno_ = ENOSPC;
  fail_syncs_ = 0;
  fail_dir_syncs_ = 0;
  fail_renames_ = false;
  budget_ = -1;
}

FaultInjectionEnv::Counters FaultInjectionEnv::counters() {
  std::lock_guard<std::mutex> l(mu_);
  return counters_;
}

size_t FaultInjectionEnv::AdmitWrite(size_t n, int* err) {
  std::lock_guard<std::mutex> l(mu_);
  *err = 0;
  if (fail_writes_ > 0) {
    --fail_writes_;
    *err = fail_writes_errno_;
    return 0;
  }
  size_t admitted = n;
  if (budget_ >= 0) {
    if (static_cast<uint64_t>(budget_) < n) {
      admitted = static_cast<size_t>(budget_);
      *err = ENOSPC;
    }
    budget_ -= static_cast<int64_t>(admitted);
  }
  counters_.bytes_appended += admitted;
  return admitted;
}

bool FaultInjectionEnv::TakeSyncFailure() {
  std::lock_guard<std::mutex> l(mu_);
  ++counters_.syncs;
  if (fail_syncs_ <= 0) return false;
  --fail_syncs_;
  return true;
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewWritableFile(const std::string& path) {
  {
    std::lock_guard<std::mutex> l(mu_);
    ++counters_.files_created;
  }
  auto base = base_->NewWritableFile(path);
  if (!base.ok()) return base.status();
  return std::unique_ptr<WritableFile>(std::make_unique<File>(this, path, std::move(base).value()));
}

Status FaultInjectionEnv::RenameFile(const std::string& from, const std::string& to) {
  {
    std::lock_guard<std::mutex> l(mu_);
    ++counters_.renames;
    if (fail_renames_) return Status::FromErrno(EIO, "rename " + from + " (injected)");
  }
  return base_->RenameFile(from, to);
}

Status FaultInjectionEnv::RemoveFile(const std::string& path) {
  {
    std::lock_guard<std::mutex> l(mu_);
    ++counters_.removes;
  }
  return base_->RemoveFile(path);
}

Status FaultInjectionEnv::SyncDir(const std::string& path) {
  {
    std::lock_guard<std::mutex> l(mu_);
    ++counters_.dir_syncs;
    if (fail_dir_syncs_ > 0) {
      --fail_dir_syncs_;
      return Status::FromErrno(EIO, "fsync " + path + " (injected)");
    }
  }
  return base_->SyncDir(path);
}

}  // namespace kdfs
