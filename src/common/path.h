// Path: a validated kdfs namespace path, the rules of the HTTP API in one
// place (see docs/METADATA.md, "Paths").
//
// A path is absolute, valid UTF-8, '/'-separated; every component is 1-255
// bytes, contains no NUL and is neither "." nor ".."; the whole path is at
// most kMaxPathBytes bytes. "/" is the root. A single trailing slash is
// tolerated and dropped ("/a/b/" is "/a/b"); any other empty component
// ("//", "/a//b") is rejected. Every violation is Code::kInvalidPath with a
// message naming the rule that was broken.
//
// Paths from a URL go through FromUrl(), which percent-decodes first. An
// encoded slash (%2F) is rejected rather than treated as a separator or as a
// byte of a name: names cannot contain '/', and accepting it either way would
// give one resource two spellings.
//
// Path is a value type; thread-compatible.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace kdfs {

inline constexpr size_t kMaxPathBytes = 4096;
inline constexpr size_t kMaxNameBytes = 255;

class Path {
 public:
  // The root directory "/".
  Path() = default;
  static Path Root() { return Path(); }

  // Validates an already decoded path (e.g. from a JSON body).
  static Result<Path> Parse(std::string_view text);
  // Percent-decodes the path part of a URL (no query or fragment), then
  // validates it. Invalid escapes, %00 and %2F are rejected.
  static Result<Path> FromUrl(std::string_view encoded);

  // Validates one name (a single component).
  static Status ValidateName(std::string_view name);

  bool IsRoot() const { return components_.empty(); }
  // Canonical text: "/" or "/a/b" (no trailing slash).
  std::string str() const;
  // Percent-encoded form for a URL path: every byte outside RFC 3986
  // unreserved characters is escaped, separators stay '/'.
  std::string UrlEncoded() const;
  const std::vector<std::string>& components() const { return components_; }
  // The last component; "" for the root.
  std::string_view name() const;
  // The parent directory; the root's parent is the root.
  Path parent() const;
  // This path extended by `name`. REQUIRES: ValidateName(name).ok() and the
  // result within kMaxPathBytes.
  Path Child(std::string_view name) const;
  // True if `other` lies strictly below this path ("/a" is an ancestor of
  // "/a/b", not of "/ab" nor of "/a" itself).
  bool IsAncestorOf(const Path& other) const;

  bool operator==(const Path& other) const = default;

 private:
  std::vector<std::string> components_;
};

// Decodes %XX escapes. kInvalidPath on a malformed escape or %00. '+' is
// left as is (it only means space in query strings).
Result<std::string> PercentDecode(std::string_view encoded);
// True if `text` is well-formed UTF-8 (no overlong forms, no surrogates, no
// code point above U+10FFFF).
bool IsValidUtf8(std::string_view text);

}  // namespace kdfs
