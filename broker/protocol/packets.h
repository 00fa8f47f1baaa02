// The fifteen MQTT control packets, as the codec decodes and encodes them.
//
// A decoded packet is a set of views into the frame buffer it came from: it is valid only while
// that buffer is, and whatever must outlive the frame (a retained message, a queued publish) is
// copied by its owner. To encode, fill the same structs with views of data you own.
//
// One struct serves MQTT 3.1, 3.1.1 and 5.0; fields a version lacks (properties, reason codes
// in acknowledgements) are ignored when encoding for it and left at their defaults when
// decoding it.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include "broker/protocol/properties.h"
#include "broker/protocol/reason_code.h"
#include "broker/protocol/types.h"

namespace simq::protocol {

struct Will {
  std::string_view topic;
  std::string_view payload;
  QoS qos = QoS::kAtMostOnce;
  bool retain = false;
  Properties properties;  // Will Properties (MQTT 5)
};

struct ConnectPacket {
  ProtocolVersion version = ProtocolVersion::kMqtt5;
  bool clean_start = true;  // "Clean Session" in 3.1.1
  uint16_t keep_alive = 0;  // seconds; 0 disables
  std::string_view client_id;
  std::optional<Will> will;
  std::optional<std::string_view> username;
  std::optional<std::string_view> password;
  Properties properties;
};

struct ConnackPacket {
  bool session_present = false;
  // MQTT 5 reason code; for 3.1/3.1.1 the return code is derived (ToConnectReturnCode) when
  // encoding and mapped back when decoding.
  ReasonCode reason_code = ReasonCode::kSuccess;
  Properties properties;
};

struct PublishPacket {
  std::string_view topic;  // empty in MQTT 5 when a Topic Alias stands for it
  QoS qos = QoS::kAtMostOnce;
  bool retain = false;
  bool dup = false;
  uint16_t packet_id = 0;  // only with QoS 1 and 2
  Properties properties;
  std::string_view payload;
};

// PUBACK, PUBREC, PUBREL and PUBCOMP share one layout; the type parameter keeps them distinct
// alternatives of `Packet`.
template <PacketType kType>
struct AckPacket {
  static constexpr PacketType kPacketType = kType;
  uint16_t packet_id = 0;
  ReasonCode reason_code = ReasonCode::kSuccess;
  Properties properties;
};
using PubackPacket = AckPacket<PacketType::kPuback>;
using PubrecPacket = AckPacket<PacketType::kPubrec>;
using PubrelPacket = AckPacket<PacketType::kPubrel>;
using PubcompPacket = AckPacket<PacketType::kPubcomp>;

// The Subscription Options byte (§3.8.3.1). 3.1.1 has only the QoS bits.
struct SubscriptionOptions {
  QoS max_qos = QoS::kAtMostOnce;
  bool no_local = false;
  bool retain_as_published = false;
  RetainHandling retain_handling = RetainHandling::kSendOnSubscribe;
  friend bool operator==(const SubscriptionOptions&, const SubscriptionOptions&) = default;
};

struct TopicSubscription {
  std::string_view filter;  // syntax checked by the receiver (ValidateTopicFilter), per filter
  SubscriptionOptions options;
};

struct SubscribePacket {
  uint16_t packet_id = 0;
  Properties properties;  // at most one Subscription Identifier, and User Properties
  std::vector<TopicSubscription> subscriptions;
};

struct SubackPacket {
  uint16_t packet_id = 0;
  Properties properties;
  // One per filter: Granted QoS 0/1/2 or a failure code. 3.1.1 has only 0, 1, 2 and 0x80.
  std::vector<ReasonCode> reason_codes;
};

struct UnsubscribePacket {
  uint16_t packet_id = 0;
  Properties properties;
  std::vector<std::string_view> filters;
};

struct UnsubackPacket {
  uint16_t packet_id = 0;
  Properties properties;
  std::vector<ReasonCode> reason_codes;  // MQTT 5 only
};

struct PingreqPacket {};
struct PingrespPacket {};

struct DisconnectPacket {
  ReasonCode reason_code = ReasonCode::kSuccess;  // MQTT 5 only
  Properties properties;
};

struct AuthPacket {
  ReasonCode reason_code = ReasonCode::kSuccess;
  Properties properties;
};

using Packet =
    std::variant<ConnectPacket, ConnackPacket, PublishPacket, PubackPacket, PubrecPacket,
                 PubrelPacket, PubcompPacket, SubscribePacket, SubackPacket, UnsubscribePacket,
                 UnsubackPacket, PingreqPacket, PingrespPacket, DisconnectPacket, AuthPacket>;

PacketType TypeOf(const Packet& packet);

// The Subscription Options byte. Decoding checks reserved bits and values.
uint8_t EncodeSubscriptionOptions(const SubscriptionOptions& options, ProtocolVersion version);

}  // namespace simq::protocol
