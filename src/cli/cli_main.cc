// kdfs: the command-line client of a kdfs cluster. See `kdfs --help`; the
// subcommands live in transfer.h (put, get, cat), commands.h (the metadata
// ones, exit codes) and loadgen.h (bench).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "cli/config.h"
#include "cli/loadgen.h"
#include "cli/transfer.h"
#include "common/random_id.h"

namespace {

using json = nlohmann::json;
using kdfs::Status;

constexpr const char* kEpilog =
    "The cluster URL comes from --url, else $KDFS_URL, else `url = ...` in\n"
    "$XDG_CONFIG_HOME/kdfs/config (default ~/.config/kdfs/config), else\n"
    "http://127.0.0.1:8080. Reads see every write an earlier invocation made\n"
    "(the highest version seen is kept per cluster in\n"
    "$XDG_STATE_HOME/kdfs/versions.json, default ~/.local/state/kdfs/).\n"
    "Exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 conflict, 5 unavailable.";

// Remembers the highest version this invocation saw for the cluster, under
// the URL used and every node URL the cluster names.
void SaveVersion(kdfs::KdfsClient& c, const kdfs::VersionStore& store, int64_t loaded) {
  if (c.seen_version() <= loaded) return;
  std::vector<std::string> urls = {c.options().url};
  if (!store.Knows(c.options().url)) {
    auto cluster = c.Cluster();
    if (cluster.ok()) {
      for (const auto& n : (*cluster)["nodes"]) {
        if (n.contains("url") && n["url"].is_string()) urls.push_back(n["url"]);
      }
    }
  }
  Status st = store.Save(urls, c.seen_version());
  if (!st.ok()) std::cerr << "kdfs: warning: " << st.ToString() << "\n";
}

int PrintTransfer(const kdfs::Result<kdfs::TransferStats>& r, bool print_answer) {
  if (!r.ok()) return kdfs::Fail(r.status());
  if (r->directory) {
    std::printf("%llu files, %llu bytes\n", static_cast<unsigned long long>(r->files),
                static_cast<unsigned long long>(r->bytes));
  } else if (print_answer) {
    std::cout << r->answer.dump() << "\n";
  }
  return 0;
}

int Bench(kdfs::KdfsClient& c, kdfs::LoadOptions load, const std::string& op,
          const std::string& size, bool as_json, bool keep) {
  auto bytes = kdfs::ParseSize(size);
  if (!bytes.ok()) return kdfs::Fail(bytes.status());
  load.size = *bytes;
  load.url = c.options().url;
  load.timeout_ms = c.options().timeout_ms;
  load.put = op != "get";
  load.get = op != "put";
  load.min_version = c.seen_version();
  if (load.prefix.empty()) load.prefix = "/bench/" + kdfs::RandomId("run");
  auto results = kdfs::RunLoad(load);
  if (!results.ok()) return kdfs::Fail(results.status());
  json out = json::array();
  size_t errors = 0;
  for (const auto& r : *results) {
    errors += r.errors;
    c.SeedVersion(r.max_version);
    out.push_back(r.ToJson());
    if (!as_json) {
      std::printf(
          "%-4s %zu x %zu B, %d clients: %8.1f ops/s  p50 %7.2f ms  p99 %7.2f ms  "
          "errors %zu\n",
          r.op.c_str(), r.ok, load.size, load.clients, r.rate, r.p50_ms, r.p99_ms, r.errors);
      if (!r.first_error.empty()) std::fprintf(stderr, "first error: %s\n", r.first_error.c_str());
    }
  }
  if (as_json) std::cout << json{{"prefix", load.prefix}, {"results", out}}.dump() << "\n";
  if (load.put && !load.raw && !keep) {
    Status st = c.Remove(load.prefix, true);
    if (!st.ok()) return kdfs::Fail(st);
  }
  return errors == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kdfs: command-line client of a kdfs cluster"};
  app.footer(kEpilog);
  app.require_subcommand(1);
  kdfs::ClientOptions options;
  std::string url_flag;
  bool no_state = false;
  app.add_option("--url", url_flag, "cluster URL (see below)");
  app.add_option("--timeout-ms", options.timeout_ms, "per-request timeout")->capture_default_str();
  app.add_option("--retries", options.retries, "retries of a transient failure")
      ->capture_default_str();
  app.add_flag("--no-state", no_state, "neither read nor record the version state file");
  kdfs::TransferOptions transfer;
  transfer.progress = isatty(STDERR_FILENO) != 0;
  std::string a, b;
  bool flag = false;
  int page_size = 1000;

  auto* put = app.add_subcommand("put", "upload a file, stdin (-) or a directory tree");
  put->add_option("local", a, "local file, directory, or - for stdin")->required();
  put->add_option("remote", b, "remote path (a directory's contents go under it)")->required();
  put->add_option("-j,--jobs", transfer.jobs, "parallel uploads for a directory")
      ->capture_default_str();
  auto* get = app.add_subcommand("get", "download a file or a directory tree (- for stdout)");
  get->add_option("remote", a, "remote file or directory")->required();
  get->add_option("local", b, "local path, or - for stdout")->required();
  get->add_option("-j,--jobs", transfer.jobs, "parallel downloads for a directory")
      ->capture_default_str();
  auto* cat = app.add_subcommand("cat", "write a remote file to stdout");
  cat->add_option("remote", a, "remote path")->required();
  auto* ls = app.add_subcommand("ls", "list a directory in name order");
  ls->add_option("remote", a, "remote directory")->default_val("/");
  ls->add_flag("-l,--long", flag, "type, size, version, mtime (UTC) of each entry");
  ls->add_option("--page-size", page_size, "entries per request")->capture_default_str();
  auto* rm = app.add_subcommand("rm", "delete a file or directory");
  rm->add_option("remote", a, "remote path")->required();
  rm->add_flag("-r,--recursive", flag, "delete a non-empty directory and everything in it");
  auto* mv = app.add_subcommand("mv", "rename a file or directory (atomic)");
  mv->add_option("from", a, "source path")->required();
  mv->add_option("to", b, "destination path")->required();
  auto* mkdir = app.add_subcommand("mkdir", "create a directory");
  mkdir->add_option("remote", a, "remote path")->required();
  mkdir->add_flag("-p,--parents", flag, "create missing parents; no error if it exists");
  auto* stat = app.add_subcommand("stat", "print the metadata of a path as JSON");
  stat->add_option("remote", a, "remote path")->required();
  app.add_subcommand("cluster", "show the nodes, the leader, lag and digests");
  kdfs::LoadOptions load;
  std::string op = "both", size = "4K";
  bool keep = false;
  auto* bench = app.add_subcommand("bench", "load generator: PUT/GET N files of S bytes");
  bench->add_option("-n,--files", load.files, "number of files")->capture_default_str();
  bench->add_option("-s,--size", size, "file size (4K, 1M, ...)")->capture_default_str();
  bench->add_option("-c,--clients", load.clients, "concurrent clients (one connection each)")
      ->capture_default_str();
  bench->add_option("--op", op, "put, get or both")
      ->check(CLI::IsMember({"put", "get", "both"}))
      ->capture_default_str();
  bench->add_option("--prefix", load.prefix, "remote directory (default /bench/<random>)");
  bench->add_flag("--raw", load.raw, "plain HTTP server: file i is <url><prefix>/f<i>");
  bench->add_flag("--json", flag, "print the results as JSON");
  bench->add_flag("--keep", keep, "keep the files (default: rm -r the prefix after)");

  CLI11_PARSE(app, argc, argv);
  auto url = kdfs::ResolveUrl(url_flag);
  if (!url.ok()) return kdfs::Fail(url.status());
  options.url = *url;
  auto client = kdfs::KdfsClient::Create(options);
  if (!client.ok()) return kdfs::Fail(client.status());
  kdfs::KdfsClient& c = **client;
  kdfs::VersionStore store(no_state ? "" : kdfs::VersionFilePath());
  int64_t loaded = store.Load(options.url);
  c.SeedVersion(loaded);

  int rc = 2;
  if (*put) rc = PrintTransfer(kdfs::PutPath(c, a, b, transfer), true);
  if (*get) rc = PrintTransfer(kdfs::GetPath(c, a, b, transfer), false);
  if (*cat) rc = PrintTransfer(kdfs::GetPath(c, a, "-", transfer), false);
  if (*ls) rc = kdfs::ListCommand(c, a, flag, page_size);
  if (*rm) rc = kdfs::RemoveCommand(c, a, flag);
  if (*mv) rc = kdfs::MoveCommand(c, a, b);
  if (*mkdir) rc = kdfs::MkdirCommand(c, a, flag);
  if (*stat) rc = kdfs::StatCommand(c, a);
  if (app.got_subcommand("cluster")) rc = kdfs::ClusterCommand(c);
  if (*bench) rc = Bench(c, load, op, size, flag, keep);
  SaveVersion(c, store, loaded);
  return rc;
}
