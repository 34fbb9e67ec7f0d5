// Operations proposed by an origin node and the records of the committed log.
//
// Wire format: one JSON object per Kafka record value (see docs/METADATA.md).
// Encoding is canonical (fixed key order, no whitespace), so that the same
// record hashes the same on every node (the state digest relies on it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/chunk_id.h"
#include "common/error_codes.h"
#include "common/hlc.h"
#include "common/result.h"

namespace kdfs {

enum class OpType { kPut, kDelete, kMkdir, kRename };

struct Operation {
  std::string op_id;   // unique; the client's Idempotency-Key when given
  std::string origin;  // node id that proposed it
  Hlc hlc;             // origin's timestamp; becomes the mtime
  OpType type = OpType::kPut;

  std::string path;        // absolute, already validated (rename: the source)
  std::string to;          // rename: the destination
  bool recursive = false;  // delete of a non-empty directory

  // kPut only.
  uint64_t size = 0;
  std::string etag;  // hex SHA-256 of the whole content
  uint32_t chunk_size = 0;
  std::vector<ChunkId> chunks;  // in file order; chunk i covers [i*chunk_size, ...)
  std::string content_type;
  uint32_t mode = 0644;
  std::optional<std::string> if_match;  // etag the current file must have
  bool if_none_match_any = false;       // the path must not exist
};

struct LeaderRecord {
  std::string node;
  int64_t epoch = 0;
};

struct Rejection {
  std::string op_id;
  std::string origin;
  Code code = Code::kInternal;
  std::string message;
};

struct LogRecord {
  enum class Kind { kOp, kReject, kLeader };
  Kind kind = Kind::kOp;
  Operation op;         // kOp
  Rejection rejection;  // kReject
  LeaderRecord leader;  // kLeader
};

std::string EncodeOperation(const Operation& op);
Result<Operation> DecodeOperation(std::string_view json);
std::string EncodeLogRecord(const LogRecord& record);
Result<LogRecord> DecodeLogRecord(std::string_view json);

}  // namespace kdfs
