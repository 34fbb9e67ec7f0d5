#include "recovery/redis_wipe.h"

#include <hiredis/hiredis.h>

#include <memory>
#include <string>
#include <vector>

namespace kdfs {

namespace {

struct ContextFree {
  void operator()(redisContext* c) const { redisFree(c); }
};
struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyFree>;

ReplyPtr Command(redisContext* c, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  return ReplyPtr(static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(args.size()), argv.data(), lens.data())));
}

}  // namespace

Result<uint64_t> WipeRedisPrefix(const RedisKvOptions& options) {
  if (options.prefix.empty()) return Status::InvalidArgument("refusing to wipe an empty prefix");
  timeval tv{options.connect_timeout_ms / 1000, (options.connect_timeout_ms % 1000) * 1000};
  std::unique_ptr<redisContext, ContextFree> c(
      redisConnectWithTimeout(options.host.c_str(), options.port, tv));
  if (!c || c->err) {
    return Status::Unavailable("Redis at " + options.host + ":" + std::to_string(options.port) +
                               ": " + (c ? c->errstr : "out of memory"));
  }
  timeval cmd{options.command_timeout_ms / 1000, (options.command_timeout_ms % 1000) * 1000};
  redisSetTimeout(c.get(), cmd);
  uint64_t deleted = 0;
  std::string cursor = "0";
  do {
    ReplyPtr r = Command(c.get(), {"SCAN", cursor, "MATCH", options.prefix + "*", "COUNT", "1000"});
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
      return Status::Unavailable(std::string("Redis SCAN failed: ") +
                                 (r && r->type == REDIS_REPLY_ERROR ? r->str : c->errstr));
    }
    cursor.assign(r->element[0]->str, r->element[0]->len);
    const redisReply* keys = r->element[1];
    if (keys->elements == 0) continue;
    std::vector<std::string> args{"UNLINK"};
    for (size_t i = 0; i < keys->elements; ++i)
      args.emplace_back(keys->element[i]->str, keys->element[i]->len);
    ReplyPtr d = Command(c.get(), args);
    if (!d || d->type != REDIS_REPLY_INTEGER) {
      return Status::Unavailable(std::string("Redis UNLINK failed: ") +
                                 (d && d->type == REDIS_REPLY_ERROR ? d->str : c->errstr));
    }
    deleted += static_cast<uint64_t>(d->integer);
  } while (cursor != "0");
  return deleted;
}

}  // namespace kdfs
