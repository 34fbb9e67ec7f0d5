#include "common/sha256.h"

#include <openssl/evp.h>

#include <stdexcept>

#include "common/encoding.h"

namespace kdfs {

struct Sha256::Impl {
  EVP_MD_CTX* ctx = nullptr;
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  impl_->ctx = EVP_MD_CTX_new();
  if (impl_->ctx == nullptr || EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr) != 1) {
    throw std::bad_alloc();
  }
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(impl_->ctx);
}

void Sha256::Update(std::string_view data) {
  EVP_DigestUpdate(impl_->ctx, data.data(), data.size());
}

std::array<uint8_t, 32> Sha256::Final() {
  std::array<uint8_t, 32> out{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(impl_->ctx, out.data(), &len);
  return out;
}

std::string Sha256::FinalHex() {
  auto d = Final();
  return ToHex(d.data(), d.size());
}

std::array<uint8_t, 32> Sha256::Digest(std::string_view data) {
  Sha256 h;
  h.Update(data);
  return h.Final();
}

}  // namespace kdfs
