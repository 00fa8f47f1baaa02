// UTF-8 validation (§1.5.4 of MQTT 5 and 3.1.1, RFC 3629 §4): a table of boundary cases, the
// 8-byte ASCII fast path with a bad byte at every position, and an exhaustive comparison with
// a reference decoder written the other way round (by code point, not by byte ranges).

#include "broker/protocol/utf8.h"

#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "broker/protocol/test_util.h"

namespace simq::protocol {
namespace {

using test::Bytes;

struct Utf8Case {
  std::string_view bytes;  // test::Bytes notation
  bool well_formed;        // IsWellFormedUtf8
  bool mqtt;               // IsValidMqttString
  const char* what;
};

// Every edge of RFC 3629's table of well-formed sequences, and what lies just outside it.
constexpr Utf8Case kCases[] = {
    {"", true, true, "empty"},
    {"'a'", true, true, "ASCII"},
    {"00", true, false, "U+0000 [MQTT-1.5.4-2]"},
    {"'a' 00 'b'", true, false, "U+0000 inside"},
    {"01", true, true, "U+0001 (control: SHOULD NOT, still valid)"},
    {"7f", true, true, "U+007F"},
    {"c2 80", true, true, "U+0080, smallest two-byte"},
    {"c2 9f", true, true, "U+009F (C1 control)"},
    {"df bf", true, true, "U+07FF, largest two-byte"},
    {"e0 a0 80", true, true, "U+0800, smallest three-byte"},
    {"e0 bf bf", true, true, "U+0FFF"},
    {"e1 80 80", true, true, "U+1000"},
    {"ec bf bf", true, true, "U+CFFF"},
    {"ed 80 80", true, true, "U+D000"},
    {"ed 9f bf", true, true, "U+D7FF, last before the surrogates"},
    {"ee 80 80", true, true, "U+E000, first after the surrogates"},
    {"ef bb bf 'a'", true, true, "U+FEFF BOM, kept [MQTT-1.5.4-3]"},
    {"ef bf be", true, true, "U+FFFE non-character (SHOULD NOT, still valid)"},
    {"ef bf bf", true, true, "U+FFFF, largest three-byte"},
    {"f0 90 80 80", true, true, "U+10000, smallest four-byte"},
    {"f0 bf bf bf", true, true, "U+3FFFF"},
    {"f1 80 80 80", true, true, "U+40000"},
    {"f3 bf bf bf", true, true, "U+FFFFF"},
    {"f4 80 80 80", true, true, "U+100000"},
    {"f4 8f bf bf", true, true, "U+10FFFF, largest code point"},
    {"'h' c3 a9 'llo' e2 82 ac f0 9f 98 80", true, true, "mixed lengths"},

    {"80", false, false, "lone continuation byte"},
    {"bf", false, false, "lone continuation byte"},
    {"'a' 80 'b'", false, false, "continuation byte between ASCII"},
    {"c0 80", false, false, "overlong U+0000"},
    {"c0 af", false, false, "overlong '/'"},
    {"c1 bf", false, false, "overlong U+007F"},
    {"c2", false, false, "truncated two-byte"},
    {"c2 7f", false, false, "two-byte with ASCII tail"},
    {"c2 c0", false, false, "two-byte with lead-byte tail"},
    {"e0 80 80", false, false, "overlong U+0000 in three bytes"},
    {"e0 9f bf", false, false, "overlong U+07FF"},
    {"e1 80", false, false, "truncated three-byte"},
    {"e1", false, false, "truncated three-byte, lead only"},
    {"e1 7f 80", false, false, "three-byte with bad second byte"},
    {"e1 80 c0", false, false, "three-byte with bad third byte"},
    {"ed a0 80", false, false, "U+D800 surrogate [MQTT-1.5.4-1]"},
    {"ed af bf", false, false, "U+DBFF surrogate"},
    {"ed b0 80", false, false, "U+DC00 surrogate"},
    {"ed bf bf", false, false, "U+DFFF surrogate"},
    {"ed a0 bd ed b8 80", false, false, "CESU-8 surrogate pair"},
    {"f0 80 80 80", false, false, "overlong U+0000 in four bytes"},
    {"f0 8f bf bf", false, false, "overlong U+FFFF"},
    {"f1 80 80", false, false, "truncated four-byte"},
    {"f1 80 80 7f", false, false, "four-byte with bad last byte"},
    {"f4 90 80 80", false, false, "U+110000, above U+10FFFF"},
    {"f4 bf bf bf", false, false, "U+13FFFF"},
    {"f5 80 80 80", false, false, "lead byte F5"},
    {"f7 bf bf bf", false, false, "U+1FFFFF in the old five-bit form"},
    {"f8 88 80 80 80", false, false, "five-byte form"},
    {"fc 84 80 80 80 80", false, false, "six-byte form"},
    {"fe", false, false, "FE"},
    {"ff", false, false, "FF"},
};

TEST(Utf8Test, Table) {
  for (const Utf8Case& c : kCases) {
    const std::string s = Bytes(c.bytes);
    EXPECT_EQ(IsWellFormedUtf8(s), c.well_formed) << c.what << ": " << c.bytes;
    EXPECT_EQ(IsValidMqttString(s), c.mqtt) << c.what << ": " << c.bytes;
  }
}

TEST(Utf8Test, TableCasesAtEveryOffsetOfALongString) {
  // The ASCII fast path reads 8 bytes at a time; put each case after 0..17 ASCII bytes and
  // before 0..9 more, so it lands at every alignment and at the end of the input.
  for (const Utf8Case& c : kCases) {
    const std::string s = Bytes(c.bytes);
    for (size_t before = 0; before < 18; ++before) {
      for (size_t after : {size_t{0}, size_t{1}, size_t{7}, size_t{9}}) {
        const std::string padded = std::string(before, 'x') + s + std::string(after, 'y');
        EXPECT_EQ(IsWellFormedUtf8(padded), c.well_formed)
            << c.what << " after " << before << " before " << after;
        EXPECT_EQ(IsValidMqttString(padded), c.mqtt)
            << c.what << " after " << before << " before " << after;
      }
    }
  }
}

TEST(Utf8Test, BadByteAtEveryPositionOfTheFastPath) {
  for (size_t length = 8; length <= 40; ++length) {
    for (size_t pos = 0; pos < length; ++pos) {
      std::string s(length, 'q');
      s[pos] = '\x80';
      EXPECT_FALSE(IsWellFormedUtf8(s)) << "0x80 at " << pos << " of " << length;
      EXPECT_FALSE(IsValidMqttString(s)) << "0x80 at " << pos << " of " << length;
      s[pos] = '\xff';
      EXPECT_FALSE(IsValidMqttString(s)) << "0xFF at " << pos << " of " << length;
      s[pos] = '\0';
      EXPECT_TRUE(IsWellFormedUtf8(s)) << "NUL at " << pos << " of " << length;
      EXPECT_FALSE(IsValidMqttString(s)) << "NUL at " << pos << " of " << length;
      // Bytes next to the NUL that a careless zero-byte test confuses with it.
      if (pos + 1 < length) s[pos + 1] = '\x01';
      if (pos > 0) s[pos - 1] = '\x7f';
      EXPECT_FALSE(IsValidMqttString(s)) << "NUL beside 01/7F at " << pos << " of " << length;
    }
  }
}

TEST(Utf8Test, EveryAsciiByteButNulPassesTheFastPath) {
  std::string all;
  for (int c = 1; c < 0x80; ++c) all.push_back(static_cast<char>(c));
  EXPECT_TRUE(IsValidMqttString(all));
  EXPECT_TRUE(IsWellFormedUtf8(all));
  EXPECT_TRUE(IsValidMqttString(std::string(4096, '\x01')));
}

// Reference decoder: read a code point by its lead byte's length, then reject overlong forms,
// surrogates and values above U+10FFFF by value.
bool ReferenceValid(std::string_view s, bool allow_null) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<uint8_t>(s[i]);
    size_t len = 0;
    uint32_t cp = 0;
    if (b < 0x80) {
      len = 1;
      cp = b;
    } else if ((b & 0xE0) == 0xC0) {
      len = 2;
      cp = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
      len = 3;
      cp = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0) {
      len = 4;
      cp = b & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto c = static_cast<uint8_t>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    if (cp == 0 && !allow_null) return false;
    i += len;
  }
  return true;
}

TEST(Utf8Test, AgreesWithAReferenceDecoderOnEveryShortSequence) {
  int mismatches = 0;
  auto check = [&](const std::string& s) {
    if (IsWellFormedUtf8(s) != ReferenceValid(s, true) ||
        IsValidMqttString(s) != ReferenceValid(s, false)) {
      if (++mismatches <= 10) ADD_FAILURE() << "disagreement on " << test::Hex(s);
    }
  };
  std::string s;
  for (int a = 0; a < 256; ++a) {
    s.assign(1, static_cast<char>(a));
    check(s);
    for (int b = 0; b < 256; ++b) {
      s.assign({static_cast<char>(a), static_cast<char>(b)});
      check(s);
    }
  }
  // Three bytes from every lead byte that is not ASCII (ASCII leads are covered above).
  for (int a = 0x80; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      for (int c = 0; c < 256; ++c) {
        s.assign({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c)});
        check(s);
      }
    }
  }
  // Four bytes from the four-byte leads and their neighbours, with tails at the edges of the
  // continuation range.
  for (int a = 0xEF; a <= 0xF8; ++a) {
    for (int b = 0; b < 256; ++b) {
      for (int c : {0x00, 0x7F, 0x80, 0xBF, 0xC0}) {
        for (int d : {0x00, 0x7F, 0x80, 0xBF, 0xC0}) {
          s.assign({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c),
                    static_cast<char>(d)});
          check(s);
        }
      }
    }
  }
  EXPECT_EQ(mismatches, 0);
}

}  // namespace
}  // namespace simq::protocol
