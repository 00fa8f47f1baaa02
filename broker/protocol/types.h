// Basic MQTT vocabulary shared by the codec, the broker and the client.
#pragma once

#include <cstdint>
#include <string_view>

namespace simq::protocol {

// The Protocol Level byte of CONNECT.
enum class ProtocolVersion : uint8_t {
  kMqtt31 = 3,   // "MQIsdp", MQTT 3.1
  kMqtt311 = 4,  // "MQTT", MQTT 3.1.1
  kMqtt5 = 5,    // "MQTT", MQTT 5.0
};

inline constexpr bool IsV5(ProtocolVersion v) {
  return v == ProtocolVersion::kMqtt5;
}
std::string_view ProtocolVersionName(ProtocolVersion v);

// MQTT control packet types (the high nibble of the fixed header's first byte).
enum class PacketType : uint8_t {
  kReserved = 0,
  kConnect = 1,
  kConnack = 2,
  kPublish = 3,
  kPuback = 4,
  kPubrec = 5,
  kPubrel = 6,
  kPubcomp = 7,
  kSubscribe = 8,
  kSuback = 9,
  kUnsubscribe = 10,
  kUnsuback = 11,
  kPingreq = 12,
  kPingresp = 13,
  kDisconnect = 14,
  kAuth = 15,
};

std::string_view PacketTypeName(PacketType type);

enum class QoS : uint8_t {
  kAtMostOnce = 0,
  kAtLeastOnce = 1,
  kExactlyOnce = 2,
};

inline constexpr QoS MinQoS(QoS a, QoS b) {
  return a < b ? a : b;
}

// Retain Handling subscription option (MQTT 5 §3.8.3.1).
enum class RetainHandling : uint8_t {
  kSendOnSubscribe = 0,
  kSendIfNewSubscription = 1,
  kDoNotSend = 2,
};

// Largest value of a Variable Byte Integer, hence of Remaining Length (§1.5.5).
inline constexpr uint32_t kMaxVarInt = 268'435'455;
// Largest MQTT packet: 1 byte of type and flags, 4 bytes of Remaining Length, the rest.
inline constexpr uint32_t kMaxPacketSize = 1 + 4 + kMaxVarInt;
// Subscription Identifier range (§3.8.2.1.2).
inline constexpr uint32_t kMaxSubscriptionIdentifier = kMaxVarInt;
// Session Expiry Interval value meaning "never expires" (§3.1.2.11.2).
inline constexpr uint32_t kSessionNeverExpires = 0xFFFFFFFF;

}  // namespace simq::protocol
