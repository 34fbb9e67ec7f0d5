#include "cli/config.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/random_id.h"

namespace kdfs {

using json = nlohmann::json;

namespace {

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

// $XDG_<var> if set and absolute, else $HOME/<fallback>; "" without either.
std::string XdgDir(const char* var, const char* fallback) {
  const char* xdg = std::getenv(var);
  if (xdg != nullptr && xdg[0] == '/') return std::string(xdg) + "/kdfs";
  const char* home = std::getenv("HOME");
  if (home == nullptr || home[0] == '\0') return "";
  return std::string(home) + "/" + fallback + "/kdfs";
}

}  // namespace

Result<std::map<std::string, std::string>> ParseConfig(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    line = Trim(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    size_t eq = line.find('=');
    if (eq == std::string::npos || Trim(line.substr(0, eq)).empty()) {
      return Status::InvalidArgument("config line " + std::to_string(n) +
                                     ": expected `key = value`");
    }
    out[Trim(line.substr(0, eq))] = Trim(line.substr(eq + 1));
  }
  return out;
}

std::string ConfigFilePath() {
  std::string dir = XdgDir("XDG_CONFIG_HOME", ".config");
  return dir.empty() ? "" : dir + "/config";
}

std::string VersionFilePath() {
  std::string dir = XdgDir("XDG_STATE_HOME", ".local/state");
  return dir.empty() ? "" : dir + "/versions.json";
}

Result<std::string> ResolveUrl(const std::string& flag) {
  if (!flag.empty()) return NormalizeUrl(flag);
  if (const char* env = std::getenv("KDFS_URL"); env != nullptr && env[0] != '\0') {
    return NormalizeUrl(env);
  }
  std::string path = ConfigFilePath();
  std::ifstream in(path);
  if (in) {
    std::stringstream text;
    text << in.rdbuf();
    auto config = ParseConfig(text.str());
    if (!config.ok()) return Status::InvalidArgument(path + ": " + config.status().message());
    if (auto it = config->find("url"); it != config->end()) return NormalizeUrl(it->second);
  }
  return std::string("http://127.0.0.1:8080");
}

Result<uint64_t> ParseSize(const std::string& text) {
  size_t end = 0;
  uint64_t n = 0;
  try {
    n = std::stoull(text, &end);
  } catch (const std::exception&) {
    return Status::InvalidArgument("not a size: " + text);
  }
  std::string unit = text.substr(end);
  if (unit.size() > 1 && (unit.substr(1) == "iB" || unit.substr(1) == "B")) unit.resize(1);
  int shift = 0;
  if (unit == "K" || unit == "k")
    shift = 10;
  else if (unit == "M")
    shift = 20;
  else if (unit == "G")
    shift = 30;
  else if (!unit.empty())
    return Status::InvalidArgument("unknown size unit in " + text);
  return n << shift;
}

std::string NormalizeUrl(std::string url) {
  while (!url.empty() && url.back() == '/')
    url.pop_back();
  return url;
}

json VersionStore::Read() const {
  std::ifstream in(path_);
  if (!in) return json::object();
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("clusters") || !j["clusters"].is_array()) {
    return json::object();
  }
  return j;
}

int64_t VersionStore::Load(const std::string& url) const {
  if (path_.empty()) return -1;
  json j = Read();
  int64_t best = -1;
  for (const auto& c : j.value("clusters", json::array())) {
    for (const auto& u : c.value("urls", json::array())) {
      if (u.is_string() && u.get<std::string>() == NormalizeUrl(url)) {
        best = std::max(best, c.value("version", int64_t{-1}));
      }
    }
  }
  return best;
}

bool VersionStore::Knows(const std::string& url) const {
  return !path_.empty() && Load(url) >= 0;
}

Status VersionStore::Save(const std::vector<std::string>& urls, int64_t version) const {
  if (path_.empty() || version < 0) return Status::Ok();
  std::set<std::string> merged;
  for (const auto& u : urls)
    merged.insert(NormalizeUrl(u));
  json j = Read();
  json kept = json::array();
  for (const auto& c : j.value("clusters", json::array())) {
    bool shares = false;
    for (const auto& u : c.value("urls", json::array())) {
      if (u.is_string() && merged.count(u.get<std::string>()) > 0) shares = true;
    }
    if (!shares) {
      kept.push_back(c);
      continue;
    }
    for (const auto& u : c.value("urls", json::array())) {
      if (u.is_string()) merged.insert(u.get<std::string>());
    }
    version = std::max(version, c.value("version", int64_t{-1}));
  }
  kept.push_back({{"urls", merged}, {"version", version}});
  std::error_code ec;
  std::filesystem::path target(path_);
  std::filesystem::create_directories(target.parent_path(), ec);
  std::string tmp = path_ + "." + RandomId("tmp");
  {
    std::ofstream out(tmp);
    out << json{{"clusters", kept}}.dump(1) << "\n";
    if (!out) return Status::IoError("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path_.c_str()) != 0) {
    int err = errno;
    std::remove(tmp.c_str());
    return Status::FromErrno(err, "rename to " + path_);
  }
  return Status::Ok();
}

}  // namespace kdfs
