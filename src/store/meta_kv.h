// MetaKv: the few key-value operations the state machine needs, over Redis
// (RedisKv) or in memory (MemoryKv, for unit tests).
//
// Keys are logical names such as "meta" or "i:17" (see store/meta_schema.h);
// RedisKv prepends its key prefix. Values and hash fields are binary-safe.
// Sorted sets hold members with score 0 only, so that they are ordered
// byte-wise (Redis' lexicographic order is memcmp order).
//
// Reads are independent: two calls may observe different states. The two
// path walks (Resolve, ResolveAndList) each see one consistent state (a Lua
// script on Redis, one lock in memory). Commit() applies a whole WriteBatch
// atomically (MULTI/EXEC on Redis).
//
// Errors: kUnavailable when the store cannot be reached (connection refused
// or lost, Redis still loading its data, timeouts); kInternal for a reply
// that contradicts the schema (e.g. WRONGTYPE). After a failed Commit() the
// batch may or may not have been applied (the reply can be lost): callers
// must re-read before deciding again.
//
// Thread-safety: every method may be called from any thread concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace kdfs {

// The fields of one hash, ordered by name.
using KvFields = std::map<std::string, std::string>;

// An ordered list of writes, committed all-or-nothing by MetaKv::Commit().
// Later writes win over earlier ones to the same key/field.
class WriteBatch {
 public:
  struct Write {
    enum class Kind { kSet, kDel, kHSet, kHDel, kZAdd, kZRem };
    Kind kind;
    std::string key;
    std::string field;  // hash field or sorted-set member
    std::string value;  // kSet, kHSet
  };

  void Set(std::string_view key, std::string_view value) {
    writes_.push_back({Write::Kind::kSet, std::string(key), {}, std::string(value)});
  }
  // Deletes the key whatever its type.
  void Del(std::string_view key) {
    writes_.push_back({Write::Kind::kDel, std::string(key), {}, {}});
  }
  void HSet(std::string_view key, std::string_view field, std::string_view value) {
    writes_.push_back(
        {Write::Kind::kHSet, std::string(key), std::string(field), std::string(value)});
  }
  void HDel(std::string_view key, std::string_view field) {
    writes_.push_back({Write::Kind::kHDel, std::string(key), std::string(field), {}});
  }
  // Adds `member` with score 0.
  void ZAdd(std::string_view key, std::string_view member) {
    writes_.push_back({Write::Kind::kZAdd, std::string(key), std::string(member), {}});
  }
  void ZRem(std::string_view key, std::string_view member) {
    writes_.push_back({Write::Kind::kZRem, std::string(key), std::string(member), {}});
  }
  void Append(const WriteBatch& other) {
    writes_.insert(writes_.end(), other.writes_.begin(), other.writes_.end());
  }

  const std::vector<Write>& writes() const { return writes_; }
  size_t size() const { return writes_.size(); }
  bool empty() const { return writes_.empty(); }

 private:
  std::vector<Write> writes_;
};

// The result of walking directory entries from one inode (schema: the
// dirent hash "d:<ino>" maps a name to a child inode number; the inode hash
// "i:<ino>" has the field "type", "d" for directories).
struct ResolvedPath {
  // inos[i] is the inode reached by names[0..i], types[i] its "type" field.
  // The walk stops at the first name that is absent and after the first
  // entry that is not a directory, so inos.size() <= names.size().
  std::vector<uint64_t> inos;
  std::vector<std::string> types;
  // Every field of the inode where the walk ended (the start inode if inos
  // is empty); empty if that inode has no record. ResolveAndList fills only
  // the requested fields.
  KvFields last;
};

struct ListedEntry {
  std::string name;
  uint64_t ino = 0;
  KvFields fields;  // the requested fields that exist
};

struct ResolvedListing {
  ResolvedPath dir;
  // Filled only if every name was found and the last inode is a directory:
  // entries of "z:<dir ino>" with name > `after`, in byte order, at most
  // `limit`, each with the requested fields of its inode.
  std::vector<ListedEntry> entries;
};

class MetaKv {
 public:
  virtual ~MetaKv() = default;

  virtual Result<std::optional<std::string>> Get(std::string_view key) = 0;
  virtual Result<std::optional<std::string>> HGet(std::string_view key, std::string_view field) = 0;
  // One value per field, nullopt where absent.
  virtual Result<std::vector<std::optional<std::string>>> HMGet(
      std::string_view key, const std::vector<std::string>& fields) = 0;
  // Empty if the key does not exist.
  virtual Result<KvFields> HGetAll(std::string_view key) = 0;
  // HGetAll of several keys in one round trip (pipelined on Redis).
  virtual Result<std::vector<KvFields>> HGetAllMany(const std::vector<std::string>& keys) = 0;
  virtual Result<uint64_t> HLen(std::string_view key) = 0;
  // Members of sorted set `key` greater than `after` ("" = from the start),
  // in byte order, at most `limit`.
  virtual Result<std::vector<std::string>> ZRangeAfter(std::string_view key, std::string_view after,
                                                       size_t limit) = 0;

  // Walks `names` from directory inode `start` in one consistent read.
  virtual Result<ResolvedPath> Resolve(uint64_t start, const std::vector<std::string>& names) = 0;
  // Resolve, then one page of the directory reached (see ResolvedListing);
  // `fields` are the inode fields wanted for the directory and each entry.
  virtual Result<ResolvedListing> ResolveAndList(uint64_t start,
                                                 const std::vector<std::string>& names,
                                                 std::string_view after, size_t limit,
                                                 const std::vector<std::string>& fields) = 0;

  // Applies every write of `batch` atomically.
  virtual Status Commit(const WriteBatch& batch) = 0;
  // As Commit(), but only if hash field `field` of `key` equals `expected`
  // (nullopt: the field is absent) at the moment the batch is applied;
  // otherwise writes nothing and returns kPreconditionFailed. On Redis:
  // WATCH, HGET, then MULTI/EXEC on the same connection. The state machine
  // guards each record with the digest it believes is stored, so that a
  // store that lost acknowledged writes, or a second writer, is detected
  // instead of silently built upon.
  virtual Status CommitIf(std::string_view key, std::string_view field,
                          const std::optional<std::string>& expected, const WriteBatch& batch) = 0;
};

}  // namespace kdfs
