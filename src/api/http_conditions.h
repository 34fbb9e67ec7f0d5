// Parsing of the request headers behind conditional and consistent requests:
// entity tags (If-Match, If-None-Match, RFC 9110 §13) and the kdfs read
// headers (X-Kdfs-Min-Version, X-Kdfs-Consistency). Pure functions of their
// input, no I/O; the libFuzzer target fuzz/http_headers_fuzz.cc drives them.
//
// Thread-safe: stateless.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace kdfs {

// `"etag"`: the strong entity tag as sent in an ETag header.
std::string QuoteEtag(std::string_view etag);
// Strips the quotes and a weak marker (W/) of one entity tag.
std::string UnquoteEtag(std::string_view tag);
// True if any tag of a comma-separated If-None-Match / If-Match list is `etag`
// (weak comparison) or "*".
bool EtagListMatches(std::string_view list, std::string_view etag);

// The precondition of a PUT's If-Match header: one entity tag (unquoted) or
// "*". kInvalidArgument for an empty header or a list of several tags (the
// log's precondition names one tag).
Result<std::string> ParseIfMatch(std::string_view header);

// X-Kdfs-Min-Version: a decimal log offset >= 0. kInvalidArgument otherwise.
Result<int64_t> ParseMinVersion(std::string_view header);

// Idempotency-Key: absent (nullopt: the node makes an op id) or 1-255
// printable ASCII characters (0x21-0x7E), as docs/openapi.yaml says. The key
// becomes the op id in the log's JSON, so any other byte is kInvalidArgument
// rather than a key that would not survive the trip.
Result<std::string> ParseIdempotencyKey(std::optional<std::string_view> header);

}  // namespace kdfs
