// Where the `kdfs` tool finds its cluster URL and keeps its state.
//
// The URL: --url, else $KDFS_URL, else `url = ...` in the config file
// ($XDG_CONFIG_HOME/kdfs/config, default ~/.config/kdfs/config), else
// http://127.0.0.1:8080.
//
// VersionStore: read-your-writes across invocations. It remembers, per
// cluster, the highest X-Kdfs-Version any invocation saw, in
// $XDG_STATE_HOME/kdfs/versions.json (default ~/.local/state/kdfs/). A cluster
// is the set of URLs that reach it (the URL used plus every node URL that
// /v1/cluster names), so a write through one node and a read through another
// share one entry. Saving merges with the file (max), atomically by rename.
//
// Thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/result.h"

namespace kdfs {

// Settings read from a config file: `key = value` lines, `#` comments.
Result<std::map<std::string, std::string>> ParseConfig(const std::string& text);

// $XDG_CONFIG_HOME/kdfs/config or ~/.config/kdfs/config ("" without HOME).
std::string ConfigFilePath();
// $XDG_STATE_HOME/kdfs/versions.json or ~/.local/state/kdfs/versions.json.
std::string VersionFilePath();

// The cluster URL by the precedence above; `flag` is --url ("" if not given).
Result<std::string> ResolveUrl(const std::string& flag);

// "4096", "4K", "4KiB", "1M", "1G" (powers of 1024) as bytes.
Result<uint64_t> ParseSize(const std::string& text);

// "http://h:p/" and "http://h:p" are one URL.
std::string NormalizeUrl(std::string url);

class VersionStore {
 public:
  // An empty path disables the store (Load gives -1, Save does nothing).
  explicit VersionStore(std::string path) : path_(std::move(path)) {}

  // The highest version remembered for a cluster reachable at `url`, or -1.
  int64_t Load(const std::string& url) const;
  // Remembers `version` for the cluster that `urls` reach (merged with any
  // entry sharing a URL).
  Status Save(const std::vector<std::string>& urls, int64_t version) const;
  // True if some entry already names `url`.
  bool Knows(const std::string& url) const;

 private:
  nlohmann::json Read() const;

  const std::string path_;
};

}  // namespace kdfs
