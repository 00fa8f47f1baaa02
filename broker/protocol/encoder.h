// Encoding MQTT packets to their exact wire bytes.
//
// Each `Encode` appends one packet to `out` in a single allocation: a size pass, then a write
// into the reserved space. Fields a version lacks are omitted for it (properties before MQTT 5,
// reason codes in 3.1.1 acknowledgements). Optional trailing parts take their shortest legal
// form: an MQTT 5 PUBACK with Success and no properties is 4 bytes (§3.4.2.1).
//
// Preconditions, checked by callers that take input from users: strings and binary data are at
// most 65,535 bytes, and the packet's Remaining Length at most 268,435,455 (EncodedSize tells).
//
// Fan-out: a PUBLISH for many receivers is encoded once per wire layout; `Encode` returns where
// its Packet Identifier sits so each receiver's id can be patched into a shared copy, or written
// as a separate two-byte slice of a gathered write:
//
//   std::string bytes;
//   size_t id_offset = Encode(publish, version, &bytes);   // publish.packet_id may be 0 here
//   SetPacketId(&bytes[0], id_offset, 42);
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "broker/protocol/packets.h"

namespace simq::protocol {

void Encode(const ConnectPacket& packet, std::string* out);
void Encode(const ConnackPacket& packet, ProtocolVersion version, std::string* out);
// Returns the offset of the Packet Identifier from the start of the packet, or 0 for QoS 0.
size_t Encode(const PublishPacket& packet, ProtocolVersion version, std::string* out);
void Encode(const PubackPacket& packet, ProtocolVersion version, std::string* out);
void Encode(const PubrecPacket& packet, ProtocolVersion version, std::string* out);
void Encode(const PubrelPacket& packet, ProtocolVersion version, std::string* out);
void Encode(const PubcompPacket& packet, ProtocolVersion version, std::string* out);
void Encode(const SubscribePacket& packet, ProtocolVersion version, std::string* out);
void Encode(const SubackPacket& packet, ProtocolVersion version, std::string* out);
void Encode(const UnsubscribePacket& packet, ProtocolVersion version, std::string* out);
void Encode(const UnsubackPacket& packet, ProtocolVersion version, std::string* out);
void Encode(const PingreqPacket& packet, ProtocolVersion version, std::string* out);
void Encode(const PingrespPacket& packet, ProtocolVersion version, std::string* out);
void Encode(const DisconnectPacket& packet, ProtocolVersion version, std::string* out);
void Encode(const AuthPacket& packet, ProtocolVersion version, std::string* out);

// Any packet (CONNECT takes its version from the packet itself).
void EncodePacket(const Packet& packet, ProtocolVersion version, std::string* out);
std::string EncodeToString(const Packet& packet, ProtocolVersion version);

// The size `Encode` would produce, fixed header included: what Maximum Packet Size limits.
// Returns a value above kMaxPacketSize for a packet too large to encode at all.
size_t EncodedSize(const PublishPacket& packet, ProtocolVersion version);
size_t EncodedSize(const Packet& packet, ProtocolVersion version);

// Writes `packet_id` big-endian at `offset` of an encoded PUBLISH.
inline void SetPacketId(char* packet, size_t offset, uint16_t packet_id) {
  packet[offset] = static_cast<char>(packet_id >> 8);
  packet[offset + 1] = static_cast<char>(packet_id);
}

// The first byte of a PUBLISH fixed header with the given flags.
inline constexpr uint8_t PublishFirstByte(QoS qos, bool retain, bool dup) {
  return static_cast<uint8_t>((3 << 4) | (dup ? 0x08 : 0) | (static_cast<uint8_t>(qos) << 1) |
                              (retain ? 0x01 : 0));
}

}  // namespace simq::protocol
