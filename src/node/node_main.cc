// kdfs-node: one server of a kdfs cluster. See `kdfs-node --help`.
#include <spdlog/spdlog.h>

#include <csignal>
#include <iostream>

#include "common/logging.h"
#include "node/node.h"
#include "node/node_config.h"

int main(int argc, char** argv) {
  bool exit_now = false;
  auto config = kdfs::LoadNodeConfig(argc, argv, &exit_now);
  if (!config.ok()) {
    std::cerr << "kdfs-node: " << config.status().message() << "\n"
              << "Run with --help for the settings.\n";
    return 2;
  }
  if (exit_now) return 0;
  kdfs::InitLogging(config->node_id, config->log_level);

  // Block the stop signals in every thread; the main thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  kdfs::Node node(*config);
  kdfs::Status started = node.Start();
  if (!started.ok()) {
    spdlog::error("start failed: {}", started.ToString());
    return 1;
  }
  spdlog::info("kdfs-node {} serving on {} ({})", config->node_id, config->listen,
               config->advertise_url);
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("signal {} received, shutting down", sig);
  node.Stop();
  spdlog::info("stopped cleanly");
  return 0;
}
