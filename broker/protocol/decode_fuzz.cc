// libFuzzer target for the decoder, driven the way a connection drives it.
//
// Input: one byte choosing the protocol version (3, 4 or 5, taken modulo 3), then a byte
// stream. The stream is split with ParseFixedHeader + MakeFrame and each frame decoded with
// DecodePacket; a decoded CONNECT switches the stream to the version it announced, as the
// broker does. Every packet that decodes is encoded again, and that encoding must decode and
// re-encode to the very same bytes (the codec's fixpoint). Any violation traps; sanitizers catch
// the rest.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "broker/protocol/decoder.h"
#include "broker/protocol/encoder.h"
#include "broker/protocol/packets.h"
#include "broker/protocol/types.h"

namespace {

using simq::protocol::ConnectPacket;
using simq::protocol::FixedHeader;
using simq::protocol::Packet;
using simq::protocol::ProtocolVersion;

// Larger than libFuzzer's inputs, so the limit path is reached only by a forged header.
constexpr uint32_t kStreamMaxPacketSize = 1 << 20;

[[noreturn]] void Fail(const char* what, std::string_view bytes) {
  std::fprintf(stderr, "decode_fuzz: %s (%zu bytes)\n", what, bytes.size());
  __builtin_trap();
}

// The version a packet's bytes must be decoded and encoded with.
ProtocolVersion VersionFor(const Packet& packet, ProtocolVersion stream_version) {
  if (const auto* connect = std::get_if<ConnectPacket>(&packet)) return connect->version;
  return stream_version;
}

// Decodes exactly one packet from `bytes`, which must hold exactly one.
std::optional<Packet> DecodeWhole(std::string_view bytes, ProtocolVersion version) {
  auto header = simq::protocol::ParseFixedHeader(bytes, simq::protocol::kMaxPacketSize);
  if (!header.ok() || !header->has_value() || (*header)->total_size() != bytes.size()) {
    return std::nullopt;
  }
  auto packet = simq::protocol::DecodePacket(simq::protocol::MakeFrame(**header, bytes), version);
  if (!packet.ok()) return std::nullopt;
  return *std::move(packet);
}

void CheckFixpoint(const Packet& packet, ProtocolVersion version) {
  const std::string first = simq::protocol::EncodeToString(packet, version);
  if (simq::protocol::EncodedSize(packet, version) != first.size()) {
    Fail("EncodedSize differs from the encoded size", first);
  }
  std::optional<Packet> again = DecodeWhole(first, version);
  if (!again.has_value()) Fail("re-encoded packet does not decode", first);
  if (again->index() != packet.index()) Fail("re-decoded packet has another type", first);
  const std::string second = simq::protocol::EncodeToString(*again, version);
  if (second != first) Fail("encode(decode(encode(p))) != encode(p)", first);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  ProtocolVersion version = static_cast<ProtocolVersion>(3 + data[0] % 3);
  std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  while (!stream.empty()) {
    auto header = simq::protocol::ParseFixedHeader(stream, kStreamMaxPacketSize);
    if (!header.ok() || !header->has_value()) break;  // error, or waiting for more bytes
    const FixedHeader& h = **header;
    if (h.total_size() > stream.size()) break;
    auto packet = simq::protocol::DecodePacket(simq::protocol::MakeFrame(h, stream), version);
    stream.remove_prefix(h.total_size());
    if (!packet.ok()) break;  // a connection closes on the first bad packet
    version = VersionFor(*packet, version);
    CheckFixpoint(*packet, version);
  }
  return 0;
}
