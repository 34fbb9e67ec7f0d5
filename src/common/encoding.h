// Hex and percent encoding, in one place for the whole node and client.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace kdfs {

// Lower-case hex of `n` bytes.
std::string ToHex(const uint8_t* data, size_t n);
// The value of one hex digit of either case, or -1 if `c` is not one.
int HexDigitValue(char c);
// True for RFC 3986 unreserved characters (ALPHA, DIGIT, "-", ".", "_", "~").
bool IsUnreservedUrlChar(unsigned char c);
// Percent-encodes (upper-case %XX) every byte of `path` that is neither
// unreserved nor '/', so a path, or a name, can stand in a URL.
std::string PercentEncodePath(std::string_view path);

}  // namespace kdfs
