// Decoding MQTT packets from a byte stream.
//
// Two steps. `ParseFixedHeader` looks at the start of the receive buffer and says how long the
// next packet is, or that more bytes are needed; it enforces the size limit before anything is
// allocated. Once the whole packet is buffered, `Decode*` turn the frame into a packet of views.
//
//   absl::StatusOr<std::optional<FixedHeader>> header = ParseFixedHeader(buffer, max_size);
//   if (!header.ok()) return Fail(ReasonCodeOf(header.status()));  // 0x81 or 0x95
//   if (!header->has_value() || buffer.size() < (*header)->total_size()) return ReadMore();
//   Frame frame = MakeFrame(**header, buffer);
//   absl::StatusOr<PublishPacket> publish = DecodePublish(frame, ProtocolVersion::kMqtt5);
//
// Every error is a ProtocolError (broker/protocol/error.h) carrying the reason code the
// specification names.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "absl/status/statusor.h"

#include "broker/protocol/packets.h"

namespace simq::protocol {

struct FixedHeader {
  PacketType type = PacketType::kReserved;
  uint8_t flags = 0;        // low nibble of the first byte
  uint8_t header_size = 0;  // 2..5 bytes
  uint32_t remaining_length = 0;

  uint32_t total_size() const { return header_size + remaining_length; }
};

// Parses a fixed header at the start of `buffer`. nullopt: `buffer` ends inside the header.
// Errors: 0x81 Malformed Packet for a Remaining Length of more than four bytes or longer than
// the minimum encoding; 0x95 Packet Too Large if the whole packet would exceed
// `max_packet_size` [MQTT-3.2.2-15] — known from the header alone, before any allocation.
absl::StatusOr<std::optional<FixedHeader>> ParseFixedHeader(std::string_view buffer,
                                                            uint32_t max_packet_size);

// A complete packet: its fixed header and the Remaining Length bytes after it.
struct Frame {
  FixedHeader header;
  std::string_view body;
};

// `buffer` starts with the packet described by `header` and holds all of it.
inline Frame MakeFrame(const FixedHeader& header, std::string_view buffer) {
  return Frame{header, buffer.substr(header.header_size, header.remaining_length)};
}

// CONNECT carries its own version. Unknown protocol name or level → 0x84 Unsupported Protocol
// Version (use PeekProtocolLevel to pick the CONNACK format); reserved flag set [MQTT-3.1.2-3],
// Will QoS 3 or Will flags without a Will [MQTT-3.1.2-11..14], password without user name in
// 3.1.1 [MQTT-3.1.2-22] → 0x81; Authentication Data without Method → 0x82.
absl::StatusOr<ConnectPacket> DecodeConnect(const Frame& frame);

// The Protocol Level byte of a CONNECT frame, if the frame is long enough to hold one.
std::optional<uint8_t> PeekProtocolLevel(const Frame& frame);

// MQTT 3.1 has no Session Present: its first variable header byte is reserved and ignored.
absl::StatusOr<ConnackPacket> DecodeConnack(const Frame& frame, ProtocolVersion version);

// QoS 3 [MQTT-3.3.1-4] or DUP with QoS 0 [MQTT-3.3.1-2] → 0x81; a Topic Name with a wildcard
// → 0x90 [MQTT-3.3.2-2]; an empty Topic Name in 3.1.1 → 0x81; Packet Identifier 0 with QoS > 0
// → 0x82 [MQTT-2.2.1-3]. Topic Alias range and the empty-name-without-alias case are left to
// the receiver, which knows its Topic Alias Maximum.
absl::StatusOr<PublishPacket> DecodePublish(const Frame& frame, ProtocolVersion version);

absl::StatusOr<PubackPacket> DecodePuback(const Frame& frame, ProtocolVersion version);
absl::StatusOr<PubrecPacket> DecodePubrec(const Frame& frame, ProtocolVersion version);
absl::StatusOr<PubrelPacket> DecodePubrel(const Frame& frame, ProtocolVersion version);
absl::StatusOr<PubcompPacket> DecodePubcomp(const Frame& frame, ProtocolVersion version);

// No filters → 0x82 [MQTT-3.8.3-2]; reserved option bits [MQTT-3.8.3-5] or QoS 3 → 0x81;
// Retain Handling 3 → 0x82; No Local on a shared subscription → 0x82 [MQTT-3.8.3-4].
// Filter syntax is NOT checked here: SUBACK answers it per filter.
absl::StatusOr<SubscribePacket> DecodeSubscribe(const Frame& frame, ProtocolVersion version);
// SUBACK without reason codes, and (MQTT 5) UNSUBACK without reason codes → 0x82: each answers
// a packet that has at least one filter.
absl::StatusOr<SubackPacket> DecodeSuback(const Frame& frame, ProtocolVersion version);
absl::StatusOr<UnsubscribePacket> DecodeUnsubscribe(const Frame& frame, ProtocolVersion version);
absl::StatusOr<UnsubackPacket> DecodeUnsuback(const Frame& frame, ProtocolVersion version);
absl::StatusOr<DisconnectPacket> DecodeDisconnect(const Frame& frame, ProtocolVersion version);
absl::StatusOr<AuthPacket> DecodeAuth(const Frame& frame, ProtocolVersion version);

// Any packet. Fixed header flags are checked against §2.1.3 [MQTT-2.1.3-1] (0x81).
absl::StatusOr<Packet> DecodePacket(const Frame& frame, ProtocolVersion version);

}  // namespace simq::protocol
