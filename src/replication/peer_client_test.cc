#include "replication/peer_client.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>

#include "common/env.h"
#include "http/http_server.h"

namespace kdfs {
namespace {

using std::chrono::seconds;
using std::chrono::steady_clock;

// A peer serving GET /internal/chunks/<hex> from a map; can lie.
class FakePeer {
 public:
  FakePeer() {
    HttpServerOptions o;
    o.listen = "127.0.0.1:0";
    server_ =
        std::make_unique<HttpServer>(o, [this](HttpRequest& req, BodyReader&, ResponseWriter& w) {
          std::lock_guard<std::mutex> lock(mu_);
          ++requests_;
          const std::string prefix = "/internal/chunks/";
          if (req.path.rfind(prefix, 0) != 0) {
            (void)w.Send(404, "");
            return;
          }
          auto it = chunks_.find(req.path.substr(prefix.size()));
          (void)w.Send(it == chunks_.end() ? 404 : 200, it == chunks_.end() ? "" : it->second);
        });
    EXPECT_TRUE(server_->Start().ok());
  }
  ~FakePeer() { server_->Stop(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  void Serve(const ChunkId& id, std::string bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    chunks_[id.Hex()] = std::move(bytes);
  }
  int requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::string> chunks_;
  int requests_ = 0;
  std::unique_ptr<HttpServer> server_;
};

class PeerChunkClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "kdfs-peer-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    ChunkStoreOptions o;
    o.dir = dir_;
    auto s = ChunkStore::Open(Env::Default(), o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::string dir_;
  std::unique_ptr<ChunkStore> store_;
  ChunkArrivals arrivals_;
};

TEST_F(PeerChunkClientTest, FetchesFromThePreferredPeerFirstAndStoresVerified) {
  FakePeer p1, p2;
  const std::string bytes = "chunk bytes";
  const ChunkId id = ChunkId::Of(bytes);
  p1.Serve(id, bytes);
  p2.Serve(id, bytes);
  PeerChunkClient client({{"n1", p1.url()}, {"n2", p2.url()}, {"self", "http://127.0.0.1:1"}},
                         "self", store_.get(), &arrivals_, 1 << 20);
  const uint64_t seen = arrivals_.generation();
  ASSERT_TRUE(client.Fetch(id, "n2", steady_clock::now() + seconds(10)).ok());
  EXPECT_EQ(p2.requests(), 1);
  EXPECT_EQ(p1.requests(), 0);
  EXPECT_TRUE(store_->Has(id));
  EXPECT_NE(arrivals_.generation(), seen);
  // Already stored: no request at all.
  ASSERT_TRUE(client.Fetch(id, "n1", steady_clock::now() + seconds(10)).ok());
  EXPECT_EQ(p1.requests() + p2.requests(), 1);
}

TEST_F(PeerChunkClientTest, FallsBackToAnotherPeerAndRejectsWrongBytes) {
  FakePeer liar, honest;
  const std::string bytes = "the real chunk";
  const ChunkId id = ChunkId::Of(bytes);
  liar.Serve(id, "something else");
  honest.Serve(id, bytes);
  PeerChunkClient client({{"a-liar", liar.url()}, {"b-honest", honest.url()}}, "self", store_.get(),
                         &arrivals_, 1 << 20);
  ASSERT_TRUE(client.Fetch(id, "a-liar", steady_clock::now() + seconds(10)).ok());
  EXPECT_EQ(liar.requests(), 1);
  EXPECT_EQ(honest.requests(), 1);
  auto read = store_->Read(id);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, bytes);
}

TEST_F(PeerChunkClientTest, NotFoundWhenNoPeerHasItUnavailableWhenNoneAnswers) {
  FakePeer empty;
  const ChunkId id = ChunkId::Of("missing");
  PeerChunkClient some({{"n1", empty.url()}, {"n2", "http://127.0.0.1:1"}}, "self", store_.get(),
                       &arrivals_, 1 << 20);
  EXPECT_EQ(some.Fetch(id, "", steady_clock::now() + seconds(10)).code(), Code::kNotFound);
  PeerChunkClient none({{"n2", "http://127.0.0.1:1"}}, "self", store_.get(), &arrivals_, 1 << 20);
  EXPECT_EQ(none.Fetch(id, "", steady_clock::now() + seconds(10)).code(), Code::kUnavailable);
  PeerChunkClient alone({{"self", empty.url()}}, "self", store_.get(), &arrivals_, 1 << 20);
  EXPECT_FALSE(alone.has_peers());
  EXPECT_EQ(alone.Fetch(id, "", steady_clock::now() + seconds(10)).code(), Code::kUnavailable);
  EXPECT_FALSE(store_->Has(id));
}

TEST_F(PeerChunkClientTest, OversizedBodyIsRefused) {
  FakePeer big;
  const std::string bytes(4096, 'x');
  const ChunkId id = ChunkId::Of(bytes);
  big.Serve(id, bytes);
  PeerChunkClient client({{"n1", big.url()}}, "self", store_.get(), &arrivals_, 1024);
  EXPECT_FALSE(client.Fetch(id, "", steady_clock::now() + seconds(10)).ok());
  EXPECT_FALSE(store_->Has(id));
}

}  // namespace
}  // namespace kdfs
