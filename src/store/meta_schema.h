// The metadata schema shared by the state machine and the MetaKv
// implementations: key names, inode fields, and the codecs between them.
// docs/METADATA.md describes the same schema for operators.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "store/meta_kv.h"
#include "store/state_machine.h"

namespace kdfs::schema {

inline constexpr uint64_t kRootIno = 1;
inline constexpr int kFormatVersion = 1;

// Keys.
inline constexpr std::string_view kMetaKey = "meta";     // hash: see kMeta* fields
inline constexpr std::string_view kOpsKey = "ops";       // hash: op_id -> outcome JSON
inline constexpr std::string_view kOpQueueKey = "opq";   // hash: sequence -> op_id (FIFO)
inline constexpr std::string_view kRefsKey = "refs";     // hash: chunk hex -> count
inline constexpr std::string_view kInodePrefix = "i:";   // hash per inode
inline constexpr std::string_view kDirentPrefix = "d:";  // hash per directory: name -> ino
inline constexpr std::string_view kIndexPrefix = "z:";   // zset per directory: names

std::string InodeKey(uint64_t ino);
std::string DirentKey(uint64_t ino);
std::string IndexKey(uint64_t ino);

// Fields of the meta hash.
inline constexpr std::string_view kMetaFormat = "format";
inline constexpr std::string_view kMetaAppliedOffset = "applied_offset";
inline constexpr std::string_view kMetaDigest = "digest";
inline constexpr std::string_view kMetaLeaderNode = "leader_node";
inline constexpr std::string_view kMetaLeaderEpoch = "leader_epoch";
inline constexpr std::string_view kMetaNextIno = "next_ino";
inline constexpr std::string_view kMetaOpHead = "op_head";
inline constexpr std::string_view kMetaOpTail = "op_tail";

// Fields of an inode hash.
inline constexpr std::string_view kType = "type";  // "d" or "f"
inline constexpr std::string_view kTypeDir = "d";
inline constexpr std::string_view kTypeFile = "f";
inline constexpr std::string_view kSize = "size";
inline constexpr std::string_view kMode = "mode";
inline constexpr std::string_view kMtime = "mtime";  // Hlc::Encode()
inline constexpr std::string_view kVersion = "version";
inline constexpr std::string_view kEtag = "etag";
inline constexpr std::string_view kContentType = "ctype";
inline constexpr std::string_view kChunkSize = "csize";
inline constexpr std::string_view kChunks = "chunks";  // raw 32-byte ids, concatenated
inline constexpr std::string_view kParent = "parent";
inline constexpr std::string_view kName = "name";

// Every inode field but kChunks: what a listing needs.
const std::vector<std::string>& ListFields();

// Writes the inode record of `info` (all fields; the chunk list only for
// files) under parent `parent` with entry name `name`.
void PutInode(const FileInfo& info, uint64_t parent, std::string_view name, WriteBatch* batch);
// Adds / removes the entry `name` -> `child` of directory `dir`.
void PutDirent(uint64_t dir, std::string_view name, uint64_t child, WriteBatch* batch);
void DelDirent(uint64_t dir, std::string_view name, WriteBatch* batch);

// Parses an inode hash. kCorruption if a field is malformed or "type" is
// missing. Missing chunks mean an empty list.
Result<FileInfo> ParseInode(uint64_t ino, const KvFields& fields);

// Outcomes remembered per op_id (JSON; chunks are not kept).
std::string EncodeOutcome(const ApplyOutcome& outcome);
Result<ApplyOutcome> DecodeOutcome(std::string_view op_id, std::string_view json);

// Decimal helpers; Parse* return false on malformed text.
bool ParseU64(std::string_view text, uint64_t* out);
bool ParseI64(std::string_view text, int64_t* out);

}  // namespace kdfs::schema
