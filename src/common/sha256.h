// Streaming SHA-256 over OpenSSL's EVP interface.
//
// Thread-compatible: one object per thread.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace kdfs {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view data);
  // Finishes the digest. REQUIRES: called at most once.
  std::array<uint8_t, 32> Final();
  // Finishes and returns lower-case hex.
  std::string FinalHex();

  static std::array<uint8_t, 32> Digest(std::string_view data);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kdfs
