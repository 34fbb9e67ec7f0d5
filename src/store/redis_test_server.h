// RedisTestServer: a private redis-server for tests and benchmarks, on a
// free loopback port, in its own temporary directory, killed with its
// parent (PR_SET_PDEATHSIG) so that a crashed test leaves nothing behind.
//
// Header-only so that tests and bench programs can share it without it
// entering the kdfs_store library. Not thread-safe: one owner thread, the
// one that calls Start() (the death signal follows that thread).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

namespace kdfs {

class RedisTestServer {
 public:
  struct Options {
    bool aof = false;  // appendonly yes, appendfsync everysec
  };

  // The path of redis-server on PATH, or "" if it is not installed.
  static std::string FindBinary() {
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/bin:/usr/local/bin";
    size_t start = 0;
    while (start <= dirs.size()) {
      size_t end = dirs.find(':', start);
      if (end == std::string::npos) end = dirs.size();
      std::string candidate = dirs.substr(start, end - start) + "/redis-server";
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
      start = end + 1;
    }
    return "";
  }

  RedisTestServer() : RedisTestServer(Options{}) {}
  explicit RedisTestServer(Options options) : options_(options) {
    std::error_code ec;
    std::string tmpl = (std::filesystem::temp_directory_path(ec) / "kdfs-redis-XXXXXX").string();
    if (!ec && ::mkdtemp(tmpl.data()) != nullptr) dir_ = tmpl;
    port_ = FreePort();
  }
  ~RedisTestServer() {
    Stop();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  RedisTestServer(const RedisTestServer&) = delete;
  RedisTestServer& operator=(const RedisTestServer&) = delete;

  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  bool running() const { return pid_ > 0; }

  // Starts the server (again, on the same port and directory after Kill or
  // Stop) and waits until it answers PING with PONG (data loaded).
  Status Start() {
    if (pid_ > 0) return Status::Ok();
    const std::string binary = FindBinary();
    if (binary.empty()) return Status::Unavailable("redis-server is not installed");
    if (dir_.empty() || port_ <= 0) return Status::Internal("no temp dir or port");
    std::vector<std::string> args = {binary,
                                     "--port",
                                     std::to_string(port_),
                                     "--bind",
                                     "127.0.0.1",
                                     "--dir",
                                     dir_,
                                     "--save",
                                     "",
                                     "--logfile",
                                     dir_ + "/redis.log",
                                     "--daemonize",
                                     "no",
                                     "--protected-mode",
                                     "no"};
    if (options_.aof) {
      args.insert(args.end(), {"--appendonly", "yes", "--appendfsync", "everysec"});
    } else {
      args.insert(args.end(), {"--appendonly", "no"});
    }
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) return Status::FromErrno(errno, "fork");
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);
      std::vector<char*> argv;
      for (auto& a : args)
        argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(binary.c_str(), argv.data());
      ::_exit(127);
    }
    pid_ = pid;
    return WaitReady(std::chrono::seconds(20));
  }

  // SIGKILL: no shutdown, no final fsync (the page cache survives).
  void Kill() { Signal(SIGKILL); }
  // SIGTERM: a clean shutdown.
  void Stop() { Signal(SIGTERM); }

 private:
  static int FreePort() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    int port = -1;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port = ntohs(addr.sin_port);
    }
    ::close(fd);
    return port;
  }

  void Signal(int sig) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  Status WaitReady(std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return Status::Unavailable("redis-server exited at start; see " + dir_ + "/redis.log");
      }
      timeval tv{0, 200000};
      redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, tv);
      bool ready = false;
      if (c != nullptr && c->err == 0) {
        auto* r = static_cast<redisReply*>(redisCommand(c, "PING"));
        ready = r != nullptr && r->type == REDIS_REPLY_STATUS && std::string(r->str) == "PONG";
        if (r != nullptr) freeReplyObject(r);
      }
      if (c != nullptr) redisFree(c);
      if (ready) return Status::Ok();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // poll interval
    }
    return Status::Timeout("redis-server did not become ready");
  }

  const Options options_;
  std::string dir_;
  int port_ = -1;
  pid_t pid_ = -1;
};

}  // namespace kdfs
