#include "store/redis_kv.h"

#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>

#include "common/encoding.h"
#include "common/host_port.h"
#include "store/meta_schema.h"
#include "store/redis_walk_script.h"

namespace kdfs {

// An owned copy of a hiredis reply tree.
struct RedisKv::Reply {
  int type = REDIS_REPLY_NIL;
  std::string str;  // string, status, error
  long long integer = 0;
  std::vector<Reply> elements;

  bool is_nil() const { return type == REDIS_REPLY_NIL; }
  bool is_error() const { return type == REDIS_REPLY_ERROR; }
};

namespace {

using Reply = RedisKv::Reply;

std::string Sha1Hex(std::string_view text) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), md, &len, EVP_sha1(), nullptr);
  return ToHex(md, len);
}

Reply Copy(const redisReply* r) {
  Reply out;
  out.type = r->type;
  switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i)
        out.elements.push_back(Copy(r->element[i]));
      break;
    default:
      break;
  }
  return out;
}

// Errors Redis reports while it cannot serve (restarting, out of memory,
// busy script...) are transient: kUnavailable. Anything else is a bug.
Status ReplyError(const Reply& r, std::string_view what) {
  static constexpr std::string_view kTransient[] = {
      "LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN", "OOM", "READONLY", "MISCONF", "NOREPLICAS"};
  std::string msg = "redis " + std::string(what) + ": " + r.str;
  for (auto prefix : kTransient) {
    if (r.str.compare(0, prefix.size(), prefix) == 0) return Status::Unavailable(msg);
  }
  return Status::Internal(msg);
}

Status Unexpected(std::string_view what) {
  return Status::Internal("redis " + std::string(what) + ": unexpected reply type");
}

std::optional<std::string> OptString(const Reply& r) {
  if (r.type == REDIS_REPLY_STRING) return r.str;
  return std::nullopt;
}

Result<KvFields> PairsToFields(const Reply& r, std::string_view what) {
  if (r.is_error()) return ReplyError(r, what);
  if (r.type != REDIS_REPLY_ARRAY || r.elements.size() % 2 != 0) return Unexpected(what);
  KvFields out;
  for (size_t i = 0; i + 1 < r.elements.size(); i += 2) {
    out.emplace(r.elements[i].str, r.elements[i + 1].str);
  }
  return out;
}

Result<uint64_t> InoOf(const Reply& r) {
  uint64_t ino = 0;
  if (r.type != REDIS_REPLY_STRING || !schema::ParseU64(r.str, &ino)) {
    return Status::Corruption("redis walk: malformed inode number");
  }
  return ino;
}

void AppendWriteCommands(const WriteBatch& batch, const std::string& prefix,
                         std::vector<RedisKv::Command>* out) {
  using Kind = WriteBatch::Write::Kind;
  const auto& writes = batch.writes();
  for (size_t i = 0; i < writes.size();) {
    const auto& w = writes[i];
    RedisKv::Command cmd;
    const std::string key = prefix + w.key;
    switch (w.kind) {
      case Kind::kSet:
        out->push_back({"SET", key, w.value});
        ++i;
        continue;
      case Kind::kDel:
        out->push_back({"DEL", key});
        ++i;
        continue;
      case Kind::kHSet:
        cmd = {"HSET", key};
        break;
      case Kind::kHDel:
        cmd = {"HDEL", key};
        break;
      case Kind::kZAdd:
        cmd = {"ZADD", key};
        break;
      case Kind::kZRem:
        cmd = {"ZREM", key};
        break;
    }
    // Merge the run of writes of this kind to this key into one command.
    for (; i < writes.size() && writes[i].kind == w.kind && writes[i].key == w.key; ++i) {
      if (w.kind == Kind::kZAdd) cmd.push_back("0");
      cmd.push_back(writes[i].field);
      if (w.kind == Kind::kHSet) cmd.push_back(writes[i].value);
    }
    out->push_back(std::move(cmd));
  }
}

// False if the server has closed the connection (EOF pending) or sent
// something unsolicited; a cheap non-blocking peek, no round trip.
bool PeerAlive(redisContext* ctx) {
  char byte;
  const ssize_t n = ::recv(ctx->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

Result<RedisKvOptions> RedisKvOptions::FromAddress(std::string_view host_port) {
  KDFS_ASSIGN_OR_RETURN(HostPort hp, ParseHostPort(host_port, "redis address"));
  if (hp.host.empty() || hp.port == 0) {
    return Status::InvalidArgument("redis address must be host:port with a port above 0, got '" +
                                   std::string(host_port) + "'");
  }
  RedisKvOptions o;
  o.host = std::move(hp.host);
  o.port = hp.port;
  return o;
}

// A connection taken from the pool; returned (or closed if broken) on
// destruction.
class RedisKv::Lease {
 public:
  Lease(RedisKv* kv, redisContext* ctx, bool reused) : kv_(kv), ctx_(ctx), reused_(reused) {}
  Lease(Lease&& o) noexcept : kv_(o.kv_), ctx_(o.ctx_), reused_(o.reused_), broken_(o.broken_) {
    o.ctx_ = nullptr;
  }
  Lease& operator=(Lease&&) = delete;
  ~Lease() {
    if (ctx_ != nullptr) kv_->Release(ctx_, broken_);
  }
  redisContext* get() const { return ctx_; }
  bool reused() const { return reused_; }
  void MarkBroken() { broken_ = true; }

 private:
  RedisKv* kv_;
  redisContext* ctx_;
  bool reused_;
  bool broken_ = false;
};

RedisKv::RedisKv(RedisKvOptions options)
    : options_(std::move(options)), script_(kWalkScript), script_sha_(Sha1Hex(script_)) {}

RedisKv::~RedisKv() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto* ctx : idle_)
    redisFree(ctx);
  idle_.clear();
}

Result<RedisKv::Lease> RedisKv::Acquire() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !idle_.empty() || open_ < options_.max_connections; });
    while (!idle_.empty()) {
      redisContext* ctx = idle_.back();
      idle_.pop_back();
      if (PeerAlive(ctx)) return Lease(this, ctx, /*reused=*/true);
      // The server closed this socket (it restarted or went away): the
      // other idle connections are stale too. Drop them all, connect anew.
      idle_.push_back(ctx);
      for (auto* c : idle_)
        redisFree(c);
      open_ -= idle_.size();
      idle_.clear();
    }
    ++open_;
  }
  auto tv = [](int ms) { return timeval{ms / 1000, (ms % 1000) * 1000}; };
  redisContext* ctx = redisConnectWithTimeout(options_.host.c_str(), options_.port,
                                              tv(options_.connect_timeout_ms));
  if (ctx == nullptr || ctx->err != 0 ||
      redisSetTimeout(ctx, tv(options_.command_timeout_ms)) != REDIS_OK) {
    std::string err = ctx ? ctx->errstr : "out of memory";
    if (ctx != nullptr) redisFree(ctx);
    std::lock_guard<std::mutex> lock(mu_);
    --open_;
    cv_.notify_one();
    return Status::Unavailable("redis connect " + options_.host + ":" +
                               std::to_string(options_.port) + ": " + err);
  }
  redisEnableKeepAlive(ctx);
  return Lease(this, ctx, /*reused=*/false);
}

void RedisKv::Release(redisContext* ctx, bool broken) {
  std::vector<redisContext*> stale;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (broken || ctx->err != 0) {
      // A broken socket usually means the server restarted or went away:
      // the idle connections are stale too.
      stale.swap(idle_);
      stale.push_back(ctx);
      open_ -= stale.size();
    } else {
      idle_.push_back(ctx);
    }
  }
  cv_.notify_all();
  for (auto* c : stale)
    redisFree(c);
}

Result<std::vector<Reply>> RedisKv::RunOn(Lease& lease, const std::vector<Command>& commands) {
  redisContext* ctx = lease.get();
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& cmd : commands) {
    argv.clear();
    lens.clear();
    for (const auto& a : cmd) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    redisAppendCommandArgv(ctx, static_cast<int>(argv.size()), argv.data(), lens.data());
  }
  std::vector<Reply> replies;
  replies.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(ctx, &raw) != REDIS_OK || raw == nullptr) {
      lease.MarkBroken();
      return Status::Unavailable("redis " + options_.host + ":" + std::to_string(options_.port) +
                                 ": " + ctx->errstr);
    }
    replies.push_back(Copy(static_cast<redisReply*>(raw)));
    freeReplyObject(raw);
  }
  return replies;
}

Result<std::vector<Reply>> RedisKv::Run(const std::vector<Command>& commands, bool retry_stale) {
  for (int attempt = 0;; ++attempt) {
    KDFS_ASSIGN_OR_RETURN(Lease lease, Acquire());
    auto replies = RunOn(lease, commands);
    if (!replies.ok() && retry_stale && lease.reused() && attempt == 0) continue;
    return replies;
  }
}

Result<Reply> RedisKv::RunOne(Command command) {
  KDFS_ASSIGN_OR_RETURN(std::vector<Reply> replies, Run({std::move(command)}, true));
  return std::move(replies[0]);
}

Result<Reply> RedisKv::RunScript(std::vector<std::string> args) {
  Command cmd = {"EVALSHA", script_sha_, "0"};
  cmd.insert(cmd.end(), std::make_move_iterator(args.begin()), std::make_move_iterator(args.end()));
  KDFS_ASSIGN_OR_RETURN(Reply r, RunOne(cmd));
  if (r.is_error() && r.str.compare(0, 8, "NOSCRIPT") == 0) {
    cmd[0] = "EVAL";
    cmd[1] = script_;
    KDFS_ASSIGN_OR_RETURN(r, RunOne(std::move(cmd)));
  }
  if (r.is_error()) return ReplyError(r, "walk script");
  if (r.type != REDIS_REPLY_ARRAY || r.elements.size() != 4) return Unexpected("walk script");
  return r;
}

Status RedisKv::Ping() {
  KDFS_ASSIGN_OR_RETURN(Reply r, RunOne({"PING"}));
  if (r.is_error()) return ReplyError(r, "PING");
  return Status::Ok();
}

Result<std::optional<std::string>> RedisKv::Get(std::string_view key) {
  KDFS_ASSIGN_OR_RETURN(Reply r, RunOne({"GET", Key(key)}));
  if (r.is_error()) return ReplyError(r, "GET");
  return OptString(r);
}

Result<std::optional<std::string>> RedisKv::HGet(std::string_view key, std::string_view field) {
  KDFS_ASSIGN_OR_RETURN(Reply r, RunOne({"HGET", Key(key), std::string(field)}));
  if (r.is_error()) return ReplyError(r, "HGET");
  return OptString(r);
}

Result<std::vector<std::optional<std::string>>> RedisKv::HMGet(
    std::string_view key, const std::vector<std::string>& fields) {
  std::vector<std::optional<std::string>> out;
  if (fields.empty()) return out;
  Command cmd = {"HMGET", Key(key)};
  cmd.insert(cmd.end(), fields.begin(), fields.end());
  KDFS_ASSIGN_OR_RETURN(Reply r, RunOne(std::move(cmd)));
  if (r.is_error()) return ReplyError(r, "HMGET");
  if (r.type != REDIS_REPLY_ARRAY || r.elements.size() != fields.size()) return Unexpected("HMGET");
  for (const auto& e : r.elements)
    out.push_back(OptString(e));
  return out;
}

Result<KvFields> RedisKv::HGetAll(std::string_view key) {
  KDFS_ASSIGN_OR_RETURN(Reply r, RunOne({"HGETALL", Key(key)}));
  return PairsToFields(r, "HGETALL");
}

Result<std::vector<KvFields>> RedisKv::HGetAllMany(const std::vector<std::string>& keys) {
  std::vector<Command> cmds;
  cmds.reserve(keys.size());
  for (const auto& k : keys)
    cmds.push_back({"HGETALL", Key(k)});
  KDFS_ASSIGN_OR_RETURN(std::vector<Reply> replies, Run(cmds, true));
  std::vector<KvFields> out;
  out.reserve(replies.size());
  for (const auto& r : replies) {
    KDFS_ASSIGN_OR_RETURN(KvFields f, PairsToFields(r, "HGETALL"));
    out.push_back(std::move(f));
  }
  return out;
}

Result<uint64_t> RedisKv::HLen(std::string_view key) {
  KDFS_ASSIGN_OR_RETURN(Reply r, RunOne({"HLEN", Key(key)}));
  if (r.is_error()) return ReplyError(r, "HLEN");
  if (r.type != REDIS_REPLY_INTEGER) return Unexpected("HLEN");
  return static_cast<uint64_t>(r.integer);
}

Result<std::vector<std::string>> RedisKv::ZRangeAfter(std::string_view key, std::string_view after,
                                                      size_t limit) {
  std::vector<std::string> out;
  if (limit == 0) return out;
  std::string from = after.empty() ? "-" : "(" + std::string(after);
  KDFS_ASSIGN_OR_RETURN(
      Reply r, RunOne({"ZRANGEBYLEX", Key(key), from, "+", "LIMIT", "0", std::to_string(limit)}));
  if (r.is_error()) return ReplyError(r, "ZRANGEBYLEX");
  if (r.type != REDIS_REPLY_ARRAY) return Unexpected("ZRANGEBYLEX");
  for (auto& e : r.elements)
    out.push_back(std::move(e.str));
  return out;
}

namespace {

std::vector<std::string> WalkArgs(const std::string& prefix, uint64_t start, const char* mode,
                                  std::string_view after, size_t limit,
                                  const std::vector<std::string>& fields,
                                  const std::vector<std::string>& names) {
  std::vector<std::string> args = {prefix,
                                   std::to_string(start),
                                   mode,
                                   std::string(after),
                                   std::to_string(limit),
                                   std::to_string(fields.size())};
  args.insert(args.end(), fields.begin(), fields.end());
  args.insert(args.end(), names.begin(), names.end());
  return args;
}

Result<ResolvedPath> ParseWalk(const Reply& r) {
  ResolvedPath out;
  const Reply& inos = r.elements[0];
  const Reply& types = r.elements[1];
  if (inos.elements.size() != types.elements.size()) return Unexpected("walk script");
  for (size_t i = 0; i < inos.elements.size(); ++i) {
    KDFS_ASSIGN_OR_RETURN(uint64_t ino, InoOf(inos.elements[i]));
    out.inos.push_back(ino);
    out.types.push_back(types.elements[i].str);
  }
  KDFS_ASSIGN_OR_RETURN(out.last, PairsToFields(r.elements[2], "walk script"));
  return out;
}

}  // namespace

Result<ResolvedPath> RedisKv::Resolve(uint64_t start, const std::vector<std::string>& names) {
  KDFS_ASSIGN_OR_RETURN(Reply r,
                        RunScript(WalkArgs(options_.prefix, start, "r", "", 0, {}, names)));
  return ParseWalk(r);
}

Result<ResolvedListing> RedisKv::ResolveAndList(uint64_t start,
                                                const std::vector<std::string>& names,
                                                std::string_view after, size_t limit,
                                                const std::vector<std::string>& fields) {
  std::vector<std::string> wanted = fields;
  if (wanted.empty()) wanted.push_back(std::string(schema::kType));  // HMGET needs a field
  KDFS_ASSIGN_OR_RETURN(
      Reply r, RunScript(WalkArgs(options_.prefix, start, "l", after, limit, wanted, names)));
  ResolvedListing out;
  KDFS_ASSIGN_OR_RETURN(out.dir, ParseWalk(r));
  const auto& flat = r.elements[3].elements;
  const size_t stride = 2 + wanted.size();
  if (flat.size() % stride != 0) return Unexpected("walk script");
  for (size_t i = 0; i < flat.size(); i += stride) {
    ListedEntry e;
    e.name = flat[i].str;
    KDFS_ASSIGN_OR_RETURN(e.ino, InoOf(flat[i + 1]));
    for (size_t k = 0; k < wanted.size(); ++k) {
      const Reply& v = flat[i + 2 + k];
      if (v.type == REDIS_REPLY_STRING && (k < fields.size())) e.fields.emplace(wanted[k], v.str);
    }
    out.entries.push_back(std::move(e));
  }
  if (fields.empty()) out.dir.last.clear();
  return out;
}

namespace {

// Checks the replies of MULTI, the queued writes and EXEC. kPreconditionFailed
// when EXEC returns nil (a WATCHed key changed).
Status CheckTransaction(const std::vector<Reply>& replies) {
  // A command rejected while queueing makes EXEC fail with EXECABORT and
  // nothing is applied; report the first cause.
  for (size_t i = 0; i + 1 < replies.size(); ++i) {
    if (replies[i].is_error()) return ReplyError(replies[i], "MULTI");
  }
  const Reply& exec = replies.back();
  if (exec.is_error()) return ReplyError(exec, "EXEC");
  if (exec.is_nil()) {
    return Status(Code::kPreconditionFailed, "redis EXEC aborted: watched key changed");
  }
  if (exec.type != REDIS_REPLY_ARRAY) return Unexpected("EXEC");
  for (const auto& r : exec.elements) {
    // Errors at execution time (e.g. WRONGTYPE) do not roll back the rest.
    if (r.is_error()) return Status::Internal("redis EXEC partially failed: " + r.str);
  }
  return Status::Ok();
}

}  // namespace

std::vector<RedisKv::Command> RedisKv::Transaction(const WriteBatch& batch) const {
  std::vector<Command> cmds;
  cmds.reserve(batch.size() + 2);
  cmds.push_back({"MULTI"});
  AppendWriteCommands(batch, options_.prefix, &cmds);
  cmds.push_back({"EXEC"});
  return cmds;
}

Status RedisKv::Commit(const WriteBatch& batch) {
  if (batch.empty()) return Status::Ok();
  KDFS_ASSIGN_OR_RETURN(std::vector<Reply> replies, Run(Transaction(batch), false));
  return CheckTransaction(replies);
}

Status RedisKv::CommitIf(std::string_view key, std::string_view field,
                         const std::optional<std::string>& expected, const WriteBatch& batch) {
  // Two round trips on one connection: WATCH + HGET, then MULTI..EXEC. If
  // the key changes in between, or the connection (and so the WATCH) is
  // lost, EXEC does not apply anything.
  KDFS_ASSIGN_OR_RETURN(Lease lease, Acquire());
  KDFS_ASSIGN_OR_RETURN(
      std::vector<Reply> check,
      RunOn(lease, {{"WATCH", Key(key)}, {"HGET", Key(key), std::string(field)}}));
  if (check[0].is_error()) return ReplyError(check[0], "WATCH");
  if (check[1].is_error()) return ReplyError(check[1], "HGET");
  if (OptString(check[1]) != expected) {
    KDFS_RETURN_IF_ERROR(RunOn(lease, {{"UNWATCH"}}).status());
    return Status(Code::kPreconditionFailed,
                  "redis: " + std::string(key) + " " + std::string(field) + " is not as expected");
  }
  KDFS_ASSIGN_OR_RETURN(std::vector<Reply> replies, RunOn(lease, Transaction(batch)));
  return CheckTransaction(replies);
}

}  // namespace kdfs
