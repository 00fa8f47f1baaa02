#include "broker/protocol/utf8.h"

#include <cstdint>
#include <cstring>

namespace simq::protocol {
namespace {

// Validates per RFC 3629 §4 (the table of well-formed byte sequences). `allow_null` decides
// whether U+0000 is acceptable.
template <bool kAllowNull>
bool Validate(std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const uint8_t* end = p + s.size();
  while (p < end) {
    // Fast path: 8 ASCII bytes at a time (and no NUL unless allowed).
    while (end - p >= 8) {
      uint64_t word;
      std::memcpy(&word, p, 8);
      if ((word & 0x8080808080808080ULL) != 0) break;
      if (!kAllowNull && ((word - 0x0101010101010101ULL) & ~word & 0x8080808080808080ULL) != 0) {
        return false;  // a zero byte
      }
      p += 8;
    }
    if (p >= end) break;
    uint8_t c = *p;
    if (c < 0x80) {
      if (!kAllowNull && c == 0) return false;
      ++p;
      continue;
    }
    size_t left = static_cast<size_t>(end - p);
    if (c >= 0xC2 && c <= 0xDF) {
      if (left < 2 || (p[1] & 0xC0) != 0x80) return false;
      p += 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      if (left < 3) return false;
      uint8_t c1 = p[1];
      if (c == 0xE0 && (c1 < 0xA0 || c1 > 0xBF)) return false;  // overlong
      if (c == 0xED && (c1 < 0x80 || c1 > 0x9F)) return false;  // surrogates
      if ((c1 & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return false;
      p += 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
      if (left < 4) return false;
      uint8_t c1 = p[1];
      if (c == 0xF0 && (c1 < 0x90 || c1 > 0xBF)) return false;  // overlong
      if (c == 0xF4 && (c1 < 0x80 || c1 > 0x8F)) return false;  // above U+10FFFF
      if ((c1 & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) return false;
      p += 4;
    } else {
      return false;  // 0x80..0xC1 (continuation or overlong lead) and 0xF5..0xFF
    }
  }
  return true;
}

}  // namespace

bool IsValidMqttString(std::string_view s) {
  return Validate<false>(s);
}

bool IsWellFormedUtf8(std::string_view s) {
  return Validate<true>(s);
}

}  // namespace simq::protocol
