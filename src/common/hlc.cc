#include "common/hlc.h"

#include <charconv>
#include <limits>

namespace kdfs {

namespace {

// Parses all of `text` as a decimal number without sign.
template <typename T>
bool ParseUnsignedDecimal(std::string_view text, T* out) {
  if (text.empty() || text.front() < '0' || text.front() > '9') return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::string Hlc::Encode() const {
  return std::to_string(physical_ms) + "." + std::to_string(logical) + "." + node;
}

Result<Hlc> Hlc::Decode(std::string_view text) {
  const size_t dot1 = text.find('.');
  if (dot1 == std::string_view::npos) return Status::InvalidArgument("hlc: missing '.'");
  const size_t dot2 = text.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos) return Status::InvalidArgument("hlc: missing second '.'");
  Hlc hlc;
  if (!ParseUnsignedDecimal(text.substr(0, dot1), &hlc.physical_ms)) {
    return Status::InvalidArgument("hlc: bad physical time");
  }
  if (!ParseUnsignedDecimal(text.substr(dot1 + 1, dot2 - dot1 - 1), &hlc.logical)) {
    return Status::InvalidArgument("hlc: bad logical counter");
  }
  hlc.node = std::string(text.substr(dot2 + 1));  // may itself contain '.'
  return hlc;
}

HlcClock::HlcClock(Clock* clock, std::string node_id) : clock_(clock), node_(std::move(node_id)) {}

Hlc HlcClock::Now() {
  const int64_t wall = clock_->WallMillis();
  std::lock_guard<std::mutex> lock(mu_);
  if (wall > last_physical_ms_) {
    last_physical_ms_ = wall;
    last_logical_ = 0;
  } else if (last_logical_ == std::numeric_limits<uint32_t>::max()) {
    // Counter exhausted within one millisecond: borrow the next millisecond.
    ++last_physical_ms_;
    last_logical_ = 0;
  } else {
    ++last_logical_;
  }
  return Hlc{last_physical_ms_, last_logical_, node_};
}

void HlcClock::Observe(const Hlc& remote) {
  std::lock_guard<std::mutex> lock(mu_);
  // Afterwards (last_physical_, last_logical_) >= remote's pair; the next
  // Now() either moves to a later wall time or increments the counter, so it
  // is strictly greater than `remote` whatever the node ids.
  if (remote.physical_ms > last_physical_ms_) {
    last_physical_ms_ = remote.physical_ms;
    last_logical_ = remote.logical;
  } else if (remote.physical_ms == last_physical_ms_ && remote.logical > last_logical_) {
    last_logical_ = remote.logical;
  }
}

}  // namespace kdfs
