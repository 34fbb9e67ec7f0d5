// RedisKv: MetaKv over one Redis server (hiredis, blocking API).
//
// Every key is prefixed with options.prefix, so several state machines (or
// tests) can share one Redis. The two path walks run as one Lua script each
// (EVALSHA, falling back to EVAL after a Redis restart empties the script
// cache). Commit() sends MULTI, the writes and EXEC in one pipelined round
// trip; consecutive writes of the same kind to the same key are merged into
// one command (HSET k f1 v1 f2 v2 ...). CommitIf() adds one round trip
// before it (WATCH + HGET of the guard field).
//
// Connections: a pool of at most options.max_connections, created on demand,
// so that readers on many threads and the applier do not queue behind one
// socket. A connection that saw an I/O error is closed together with every
// idle one (a Redis restart breaks them all), and the next call connects
// afresh. Reads that fail on a reused connection are retried once on a new
// one; Commit() is never retried here (the EXEC may have run): the caller
// gets kUnavailable and must re-read.
//
// Thread-safe.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/meta_kv.h"

struct redisContext;

namespace kdfs {

struct RedisKvOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string prefix = "kdfs:";
  size_t max_connections = 8;
  int connect_timeout_ms = 1000;
  int command_timeout_ms = 10000;

  // "host:port" (e.g. NodeConfig::redis) -> options with the other defaults.
  // kInvalidArgument on malformed input.
  static Result<RedisKvOptions> FromAddress(std::string_view host_port);
};

class RedisKv final : public MetaKv {
 public:
  explicit RedisKv(RedisKvOptions options);
  ~RedisKv() override;
  RedisKv(const RedisKv&) = delete;
  RedisKv& operator=(const RedisKv&) = delete;

  // Round trip to the server; kUnavailable if it cannot be reached.
  Status Ping();
  const RedisKvOptions& options() const { return options_; }

  Result<std::optional<std::string>> Get(std::string_view key) override;
  Result<std::optional<std::string>> HGet(std::string_view key, std::string_view field) override;
  Result<std::vector<std::optional<std::string>>> HMGet(
      std::string_view key, const std::vector<std::string>& fields) override;
  Result<KvFields> HGetAll(std::string_view key) override;
  Result<std::vector<KvFields>> HGetAllMany(const std::vector<std::string>& keys) override;
  Result<uint64_t> HLen(std::string_view key) override;
  Result<std::vector<std::string>> ZRangeAfter(std::string_view key, std::string_view after,
                                               size_t limit) override;
  Result<ResolvedPath> Resolve(uint64_t start, const std::vector<std::string>& names) override;
  Result<ResolvedListing> ResolveAndList(uint64_t start, const std::vector<std::string>& names,
                                         std::string_view after, size_t limit,
                                         const std::vector<std::string>& fields) override;
  Status Commit(const WriteBatch& batch) override;
  Status CommitIf(std::string_view key, std::string_view field,
                  const std::optional<std::string>& expected, const WriteBatch& batch) override;

  // One command's arguments.
  using Command = std::vector<std::string>;
  struct Reply;  // an owned copy of a hiredis reply

 private:
  class Lease;

  Result<Lease> Acquire();
  void Release(redisContext* ctx, bool broken);
  // Sends `commands` pipelined on one connection and returns their replies.
  // `retry_stale`: on an I/O error on a reused connection, retry once on a
  // fresh one (reads only).
  Result<std::vector<Reply>> Run(const std::vector<Command>& commands, bool retry_stale);
  // Sends `commands` pipelined on `lease`; marks it broken on an I/O error.
  Result<std::vector<Reply>> RunOn(Lease& lease, const std::vector<Command>& commands);
  // MULTI, the writes of `batch` (merged), EXEC.
  std::vector<Command> Transaction(const WriteBatch& batch) const;
  Result<Reply> RunOne(Command command);
  Result<Reply> RunScript(std::vector<std::string> args);
  std::string Key(std::string_view key) const { return options_.prefix + std::string(key); }

  const RedisKvOptions options_;
  const std::string script_;
  const std::string script_sha_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<redisContext*> idle_;  // guarded by mu_
  size_t open_ = 0;                  // guarded by mu_; idle + leased
};

}  // namespace kdfs
