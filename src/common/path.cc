#include "common/path.h"

#include <cstdint>

#include "common/encoding.h"

namespace kdfs {

namespace {

// Length of the UTF-8 sequence starting at `s[i]`, or 0 if it is malformed.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return 1;
  size_t len;
  uint32_t cp;
  uint32_t min;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return 0;  // continuation byte or 0xF8..0xFF as a lead byte
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min) return 0;                      // overlong
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0;  // UTF-16 surrogate
  if (cp > 0x10FFFF) return 0;
  return len;
}

}  // namespace

Result<std::string> PercentDecode(std::string_view encoded) {
  std::string out;
  out.reserve(encoded.size());
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] != '%') {
      out.push_back(encoded[i]);
      continue;
    }
    if (i + 2 >= encoded.size()) {
      return Status::InvalidPath("truncated percent-escape");
    }
    const int hi = HexDigitValue(encoded[i + 1]);
    const int lo = HexDigitValue(encoded[i + 2]);
    if (hi < 0 || lo < 0) return Status::InvalidPath("invalid percent-escape (want %XX hex)");
    const char c = static_cast<char>(hi * 16 + lo);
    if (c == '\0') return Status::InvalidPath("NUL byte (%00) is not allowed in a path");
    out.push_back(c);
    i += 2;
  }
  return out;
}

bool IsValidUtf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const size_t n = Utf8SequenceLength(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

Status Path::ValidateName(std::string_view name) {
  if (name.empty()) return Status::InvalidPath("empty path component");
  if (name.size() > kMaxNameBytes) {
    return Status::InvalidPath("path component longer than 255 bytes");
  }
  if (name == "." || name == "..") {
    return Status::InvalidPath("path component '.' or '..' is not allowed");
  }
  if (name.find('\0') != std::string_view::npos) {
    return Status::InvalidPath("NUL byte is not allowed in a path");
  }
  if (name.find('/') != std::string_view::npos) {
    return Status::InvalidPath("'/' is not allowed in a name");
  }
  if (!IsValidUtf8(name)) return Status::InvalidPath("path is not valid UTF-8");
  return Status::Ok();
}

Result<Path> Path::Parse(std::string_view text) {
  if (text.empty()) return Status::InvalidPath("path is empty");
  if (text.front() != '/') return Status::InvalidPath("path is not absolute (must start with '/')");
  if (text.size() > kMaxPathBytes) return Status::InvalidPath("path longer than 4096 bytes");
  if (text.find('\0') != std::string_view::npos) {
    return Status::InvalidPath("NUL byte is not allowed in a path");
  }
  if (!IsValidUtf8(text)) return Status::InvalidPath("path is not valid UTF-8");
  std::string_view rest = text.substr(1);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);  // one trailing slash
  Path path;
  if (rest.empty()) {
    if (text.size() > 1) return Status::InvalidPath("empty path component");  // "//"
    return path;                                                              // "/"
  }
  while (true) {
    const size_t slash = rest.find('/');
    std::string_view name = rest.substr(0, slash);
    KDFS_RETURN_IF_ERROR(ValidateName(name));
    path.components_.emplace_back(name);
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return path;
}

Result<Path> Path::FromUrl(std::string_view encoded) {
  for (size_t i = 0; i + 2 < encoded.size(); ++i) {
    if (encoded[i] == '%' && encoded[i + 1] == '2' &&
        (encoded[i + 2] == 'F' || encoded[i + 2] == 'f')) {
      return Status::InvalidPath("encoded '/' (%2F) is not allowed in a path");
    }
  }
  KDFS_ASSIGN_OR_RETURN(std::string decoded, PercentDecode(encoded));
  return Parse(decoded);
}

std::string Path::str() const {
  if (components_.empty()) return "/";
  std::string out;
  for (const auto& c : components_) {
    out.push_back('/');
    out += c;
  }
  return out;
}

std::string Path::UrlEncoded() const {
  return PercentEncodePath(str());
}

std::string_view Path::name() const {
  if (components_.empty()) return {};
  return components_.back();
}

Path Path::parent() const {
  Path p = *this;
  if (!p.components_.empty()) p.components_.pop_back();
  return p;
}

Path Path::Child(std::string_view name) const {
  Path p = *this;
  p.components_.emplace_back(name);
  return p;
}

bool Path::IsAncestorOf(const Path& other) const {
  if (other.components_.size() <= components_.size()) return false;
  for (size_t i = 0; i < components_.size(); ++i) {
    if (components_[i] != other.components_[i]) return false;
  }
  return true;
}

}  // namespace kdfs
