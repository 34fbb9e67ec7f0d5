#include "api/file_service.h"

#include <vector>

#include "common/random_id.h"
#include "common/sha256.h"

namespace kdfs {

namespace {

// Reads from `body` until `buf` is full or the body ends.
Result<size_t> FillBuffer(BodyReader& body, std::vector<char>& buf) {
  size_t filled = 0;
  while (filled < buf.size()) {
    KDFS_ASSIGN_OR_RETURN(size_t n, body.Read(buf.data() + filled, buf.size() - filled));
    if (n == 0) break;
    filled += n;
  }
  return filled;
}

}  // namespace

FileService::FileService(FileServiceOptions options, StateMachine* state, ChunkStore* chunks,
                         Replicator* replicator, HlcClock* hlc)
    : options_(std::move(options)),
      state_(state),
      chunks_(chunks),
      replicator_(replicator),
      hlc_(hlc) {}

Operation FileService::NewOperation(OpType type, const Path& path, const std::string& key) {
  Operation op;
  op.op_id = key.empty() ? RandomId(options_.node_id) : key;
  op.origin = options_.node_id;
  op.type = type;
  op.path = path.str();
  return op;
}

Result<ApplyOutcome> FileService::Submit(Operation op, Deadline deadline) {
  // Replicator::Propose returns the remembered outcome of an op id already
  // applied (a retried Idempotency-Key), race-free; no lookup here.
  op.hlc = hlc_->Now();
  // --- TEST ONLY (--unsafe-ack-before-apply, chaos harness) -----------------
  // Proposes, waits 1 ms, and answers success whatever happens next: a
  // deliberately broken acknowledgement the chaos checkers must catch.
  if (options_.unsafe_ack_before_apply && op.type != OpType::kMkdir) {
    (void)replicator_->Propose(op, std::chrono::steady_clock::now() + std::chrono::milliseconds(1));
    ApplyOutcome fake{op.op_id, Status::Ok(), state_->applied_offset(), false, {}};
    fake.info.size = op.size;
    fake.info.etag = op.etag;
    return fake;
  }
  // --- end TEST ONLY ---------------------------------------------------------
  proposals_in_flight_.fetch_add(1, std::memory_order_relaxed);
  auto outcome = replicator_->Propose(op, deadline);
  proposals_in_flight_.fetch_sub(1, std::memory_order_relaxed);
  return outcome;
}

Result<ApplyOutcome> FileService::Put(const PutRequest& request, BodyReader& body,
                                      std::chrono::milliseconds timeout) {
  if (!request.idempotency_key.empty()) {
    // Before reading the body: a retry of a finished upload is not uploaded again.
    KDFS_ASSIGN_OR_RETURN(auto previous, state_->FindOutcome(request.idempotency_key));
    if (previous) return *previous;
  }
  if (request.path.IsRoot()) return Status(Code::kIsDirectory, "/ is a directory");
  if (!replicator_->View().kafka_connected) {
    return Status::Unavailable("Kafka is unreachable; writes are refused, reads still work");
  }
  Operation op = NewOperation(OpType::kPut, request.path, request.idempotency_key);
  op.content_type = request.content_type;
  op.if_match = request.if_match;
  op.if_none_match_any = request.if_none_match_any;
  op.chunk_size = options_.chunk_size;

  auto upload = replicator_->NewChunkUpload(options_.upload_window);
  Sha256 whole;
  std::vector<char> buf(options_.chunk_size);
  for (;;) {
    KDFS_ASSIGN_OR_RETURN(size_t n, FillBuffer(body, buf));
    if (n == 0) break;
    std::string_view piece(buf.data(), n);
    whole.Update(piece);
    KDFS_ASSIGN_OR_RETURN(ChunkId id, chunks_->Put(piece));
    KDFS_RETURN_IF_ERROR(upload->Add(id, piece));
    op.chunks.push_back(id);
    op.size += n;
    if (n < buf.size()) break;
  }
  const Deadline deadline = std::chrono::steady_clock::now() + timeout;
  KDFS_RETURN_IF_ERROR(upload->Finish(deadline));
  op.etag = whole.FinalHex();
  return Submit(std::move(op), deadline);
}

Result<ApplyOutcome> FileService::Delete(const Path& path, bool recursive, const std::string& key,
                                         Deadline deadline) {
  Operation op = NewOperation(OpType::kDelete, path, key);
  op.recursive = recursive;
  return Submit(std::move(op), deadline);
}

Result<ApplyOutcome> FileService::Mkdir(const Path& path, const std::string& key,
                                        Deadline deadline) {
  return Submit(NewOperation(OpType::kMkdir, path, key), deadline);
}

Result<ApplyOutcome> FileService::Rename(const Path& from, const Path& to, const std::string& key,
                                         Deadline deadline) {
  Operation op = NewOperation(OpType::kRename, from, key);
  op.to = to.str();
  return Submit(std::move(op), deadline);
}

Status FileService::WaitConsistent(std::optional<int64_t> min_version, bool strong,
                                   Deadline deadline) {
  int64_t target = min_version.value_or(-1);
  if (strong) {
    KDFS_ASSIGN_OR_RETURN(int64_t end, replicator_->QueryLogEnd(deadline));
    target = std::max(target, end);
  }
  if (target < 0) return Status::Ok();
  return replicator_->WaitApplied(target, deadline);
}

Result<FileInfo> FileService::Stat(const Path& path) const {
  return state_->Stat(path.str());
}

Result<ListPage> FileService::List(const Path& path, const std::string& after, size_t limit) const {
  return state_->List(path.str(), after, limit);
}

Result<std::string> FileService::LoadChunk(const ChunkId& id, Deadline deadline) {
  auto data = chunks_->Read(id);
  if (data.ok()) return data;
  if (data.status().code() != Code::kNotFound && data.status().code() != Code::kCorruption) {
    return data.status();
  }
  Status fetched = replicator_->FetchChunk(id, deadline);
  if (!fetched.ok()) {
    return Status::Unavailable("chunk " + id.Hex() + " is missing here and could not be " +
                               "fetched from a peer: " + fetched.message());
  }
  return chunks_->Read(id);
}

Status FileService::Read(const FileInfo& file, uint64_t offset, uint64_t length,
                         const std::function<Status(std::string_view)>& sink,
                         std::chrono::milliseconds chunk_timeout) {
  if (length == 0) return Status::Ok();
  const uint64_t chunk_size = file.chunk_size;
  if (chunk_size == 0) return Status::Internal("file has no chunk size");
  uint64_t end = offset + length;
  for (uint64_t index = offset / chunk_size; index * chunk_size < end; ++index) {
    if (index >= file.chunks.size()) return Status::Internal("file shorter than its size");
    const Deadline deadline = std::chrono::steady_clock::now() + chunk_timeout;
    KDFS_ASSIGN_OR_RETURN(std::string data, LoadChunk(file.chunks[index], deadline));
    uint64_t chunk_start = index * chunk_size;
    uint64_t from = std::max(offset, chunk_start) - chunk_start;
    uint64_t to = std::min<uint64_t>(end - chunk_start, data.size());
    if (from > to) return Status::Internal("chunk shorter than expected");
    KDFS_RETURN_IF_ERROR(sink(std::string_view(data).substr(from, to - from)));
  }
  return Status::Ok();
}

Result<std::string> FileService::ReadChunk(const ChunkId& id) {
  return chunks_->Read(id);
}

}  // namespace kdfs
