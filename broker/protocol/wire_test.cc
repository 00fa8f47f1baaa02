// Data representations (§1.5) and the fixed header (§2.1): Variable Byte Integers, the
// bounds-checked reader, and ParseFixedHeader's framing and size limit.

#include "broker/protocol/wire.h"

#include <cstdint>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "broker/protocol/decoder.h"
#include "broker/protocol/error.h"
#include "broker/protocol/test_util.h"
#include "broker/protocol/types.h"

namespace simq::protocol {
namespace {

using test::Bytes;

struct VarIntCase {
  uint32_t value;
  std::string_view bytes;
};

// §1.5.5 table 1-1: the smallest and largest value of each encoded length.
constexpr VarIntCase kVarIntTable[] = {
    {0, "00"},
    {127, "7f"},
    {128, "80 01"},
    {16'383, "ff 7f"},
    {16'384, "80 80 01"},
    {2'097'151, "ff ff 7f"},
    {2'097'152, "80 80 80 01"},
    {268'435'455, "ff ff ff 7f"},
};

TEST(VarIntTest, DecodesTheSpecificationTable) {
  for (const VarIntCase& c : kVarIntTable) {
    SCOPED_TRACE(c.bytes);
    // Trailing bytes belong to whatever follows and are not consumed.
    const std::string bytes = Bytes(c.bytes) + "\x7f";
    uint32_t value = 0;
    size_t length = 0;
    ASSERT_EQ(DecodeVarInt(bytes, &value, &length), VarIntStatus::kOk);
    EXPECT_EQ(value, c.value);
    EXPECT_EQ(length, bytes.size() - 1);
  }
}

TEST(VarIntTest, EncodesTheSpecificationTable) {
  for (const VarIntCase& c : kVarIntTable) {
    const std::string expected = Bytes(c.bytes);
    EXPECT_EQ(VarIntSize(c.value), expected.size()) << c.value;
    std::string out(4, '\0');
    Writer w(out.data());
    w.VarInt(c.value);
    out.resize(static_cast<size_t>(w.position() - out.data()));
    EXPECT_EQ(test::Hex(out), test::Hex(expected)) << c.value;
  }
}

TEST(VarIntTest, FifthByteIsMalformed) {
  // [MQTT-1.5.5]: at most four bytes. The fourth byte's continuation bit alone is enough to
  // know, without waiting for a fifth.
  for (std::string_view bytes :
       {"80 80 80 80 01", "ff ff ff ff 7f", "ff ff ff ff", "80 80 80 80"}) {
    uint32_t value = 0;
    size_t length = 0;
    EXPECT_EQ(DecodeVarInt(Bytes(bytes), &value, &length), VarIntStatus::kMalformed) << bytes;
  }
}

TEST(VarIntTest, NonMinimalEncodingIsMalformed) {
  // [MQTT-1.5.5-1]: the encoded value MUST use the minimum number of bytes.
  for (std::string_view bytes : {"80 00", "81 00", "ff 00", "80 80 00", "ff ff 00", "80 80 80 00",
                                 "ff ff ff 00", "80 00 7f"}) {
    uint32_t value = 0;
    size_t length = 0;
    EXPECT_EQ(DecodeVarInt(Bytes(bytes), &value, &length), VarIntStatus::kMalformed) << bytes;
  }
}

TEST(VarIntTest, TruncatedNeedsMore) {
  for (std::string_view bytes : {"", "80", "ff ff", "ff ff ff"}) {
    uint32_t value = 0;
    size_t length = 0;
    EXPECT_EQ(DecodeVarInt(Bytes(bytes), &value, &length), VarIntStatus::kNeedMore) << bytes;
  }
}

TEST(ReaderTest, ReadsBigEndianAndStopsAtTheEnd) {
  const std::string bytes = Bytes("01 02 03 04 05 06 07 00 02 'hi' 'rest'");
  Reader r(bytes);
  uint8_t b = 0;
  uint16_t u16 = 0;
  uint32_t u32 = 0;
  std::string_view s;
  ASSERT_TRUE(r.ReadByte(&b));
  EXPECT_EQ(b, 0x01);
  ASSERT_TRUE(r.ReadU16(&u16));
  EXPECT_EQ(u16, 0x0203);
  ASSERT_TRUE(r.ReadU32(&u32));
  EXPECT_EQ(u32, 0x04050607u);
  ASSERT_TRUE(r.ReadLengthPrefixed(&s));
  EXPECT_EQ(s, "hi");
  EXPECT_EQ(r.remaining(), 4u);
  EXPECT_FALSE(r.ReadU32(&u32) && r.ReadByte(&b));
  EXPECT_TRUE(r.empty());
}

TEST(ReaderTest, RefusesToReadPastTheEnd) {
  const std::string one = Bytes("01");
  uint16_t u16 = 0;
  uint32_t u32 = 0;
  std::string_view s;
  {
    Reader r(one);
    EXPECT_FALSE(r.ReadU16(&u16));
    EXPECT_FALSE(r.ReadU32(&u32));
    EXPECT_EQ(r.remaining(), 1u);  // a failed read consumes nothing
  }
  {
    const std::string overrun = Bytes("00 05 'abcd'");
    Reader r(overrun);
    EXPECT_FALSE(r.ReadLengthPrefixed(&s));
  }
  {
    const std::string bad = Bytes("80 00");
    Reader r(bad);
    uint32_t v = 0;
    EXPECT_FALSE(r.ReadVarInt(&v));
  }
}

TEST(ParseFixedHeaderTest, ReadsTypeFlagsAndLength) {
  const std::string bytes = Bytes("3b 80 01") + std::string(128, 'x');
  absl::StatusOr<std::optional<FixedHeader>> h = ParseFixedHeader(bytes, kMaxPacketSize);
  ASSERT_TRUE(h.ok()) << h.status();
  ASSERT_TRUE(h->has_value());
  EXPECT_EQ((*h)->type, PacketType::kPublish);
  EXPECT_EQ((*h)->flags, 0xB);
  EXPECT_EQ((*h)->header_size, 3);
  EXPECT_EQ((*h)->remaining_length, 128u);
  EXPECT_EQ((*h)->total_size(), 131u);
  const Frame frame = MakeFrame(**h, bytes);
  EXPECT_EQ(frame.body.size(), 128u);
  EXPECT_EQ(frame.body.data(), bytes.data() + 3);
}

TEST(ParseFixedHeaderTest, NeedsMoreAtEveryTruncationPoint) {
  for (std::string_view header : {"c0 00", "30 7f", "30 80 01", "30 ff ff 7f", "30 ff ff ff 7f"}) {
    const std::string bytes = Bytes(header);
    for (size_t n = 0; n < bytes.size(); ++n) {
      absl::StatusOr<std::optional<FixedHeader>> h =
          ParseFixedHeader(std::string_view(bytes).substr(0, n), kMaxPacketSize);
      ASSERT_TRUE(h.ok()) << header << " cut at " << n << ": " << h.status();
      EXPECT_FALSE(h->has_value()) << header << " cut at " << n;
    }
    absl::StatusOr<std::optional<FixedHeader>> whole = ParseFixedHeader(bytes, kMaxPacketSize);
    ASSERT_TRUE(whole.ok()) << whole.status();
    ASSERT_TRUE(whole->has_value()) << header;
    EXPECT_EQ((*whole)->header_size, bytes.size());
  }
}

TEST(ParseFixedHeaderTest, MalformedRemainingLengthIs0x81) {
  for (std::string_view header : {"30 80 80 80 80 01", "30 ff ff ff ff", "30 80 00", "30 ff 00",
                                  "30 80 80 00", "30 80 80 80 00"}) {
    EXPECT_EQ(test::ReasonOf(ParseFixedHeader(Bytes(header), kMaxPacketSize)),
              ReasonCode::kMalformedPacket)
        << header;
  }
}

TEST(ParseFixedHeaderTest, PacketAboveMaximumPacketSizeIs0x95) {
  // [MQTT-3.2.2-15] / [MQTT-3.1.2-24]: the whole packet, fixed header included, counts. A
  // 100-byte body with a 2-byte header is 102 bytes.
  const std::string header = Bytes("30 64");
  EXPECT_EQ(test::ReasonOf(ParseFixedHeader(header, 101)), ReasonCode::kPacketTooLarge);
  absl::StatusOr<std::optional<FixedHeader>> at_limit = ParseFixedHeader(header, 102);
  ASSERT_TRUE(at_limit.ok()) << at_limit.status();
  EXPECT_TRUE(at_limit->has_value());
}

TEST(ParseFixedHeaderTest, LargestRemainingLengthIsJudgedFromTheHeaderAlone) {
  // Five header bytes announcing 268,435,455 bytes: refused before any of the body exists.
  const std::string header = Bytes("30 ff ff ff 7f");
  EXPECT_EQ(test::ReasonOf(ParseFixedHeader(header, 1024 * 1024)), ReasonCode::kPacketTooLarge);
  EXPECT_EQ(test::ReasonOf(ParseFixedHeader(header, kMaxPacketSize - 1)),
            ReasonCode::kPacketTooLarge);
  absl::StatusOr<std::optional<FixedHeader>> h = ParseFixedHeader(header, kMaxPacketSize);
  ASSERT_TRUE(h.ok()) << h.status();
  ASSERT_TRUE(h->has_value());
  EXPECT_EQ((*h)->remaining_length, kMaxVarInt);
  EXPECT_EQ((*h)->total_size(), kMaxPacketSize);
}

TEST(ParseFixedHeaderTest, HeaderOfAPacketThatFollowsIsNotConsumed) {
  // Two packets back to back: the first header describes only the first packet.
  const std::string two = Bytes("c0 00 d0 00");
  absl::StatusOr<std::optional<FixedHeader>> h = ParseFixedHeader(two, kMaxPacketSize);
  ASSERT_TRUE(h.ok() && h->has_value());
  EXPECT_EQ((*h)->type, PacketType::kPingreq);
  EXPECT_EQ((*h)->total_size(), 2u);
}

}  // namespace
}  // namespace simq::protocol
