// Result<T>: either a value or a non-ok Status.
//
// Thread-compatible like Status.
#pragma once

#include <cassert>
#include <optional>
#include <utility>

#include "common/status.h"

namespace kdfs {

template <typename T>
class [[nodiscard]] Result {
 public:
  // REQUIRES: !status.ok()
  Result(Status status) : status_(std::move(status)) { assert(!status_.ok()); }  // NOLINT
  Result(T value) : value_(std::move(value)) {}                                  // NOLINT

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

  // REQUIRES: ok()
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace kdfs

#define KDFS_CONCAT_INNER(a, b) a##b
#define KDFS_CONCAT(a, b) KDFS_CONCAT_INNER(a, b)
// KDFS_ASSIGN_OR_RETURN(auto x, Foo()); returns Foo()'s status if not ok.
#define KDFS_ASSIGN_OR_RETURN(lhs, expr) \
  KDFS_ASSIGN_OR_RETURN_IMPL(KDFS_CONCAT(_kdfs_r_, __LINE__), lhs, expr)
#define KDFS_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()
