// MQTT 5 properties (§2.2.2): identifiers, the packets each may appear in, and the decoded form.
//
// `Properties` holds every property a packet can carry. Decoded strings and binary data are
// views into the frame buffer; user properties and subscription identifiers, which may repeat,
// stay in wire form and are walked on demand, so decoding never allocates.
//
//   Properties props;
//   props.message_expiry_interval = 60;
//   props.user_properties = UserProperties(pairs);     // span of StringPair, for encoding
//   ...
//   decoded.properties.user_properties.ForEach([](std::string_view k, std::string_view v) {...});
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"

#include "broker/protocol/types.h"

namespace simq::protocol {

enum class PropertyId : uint8_t {
  kPayloadFormatIndicator = 0x01,
  kMessageExpiryInterval = 0x02,
  kContentType = 0x03,
  kResponseTopic = 0x08,
  kCorrelationData = 0x09,
  kSubscriptionIdentifier = 0x0B,
  kSessionExpiryInterval = 0x11,
  kAssignedClientIdentifier = 0x12,
  kServerKeepAlive = 0x13,
  kAuthenticationMethod = 0x15,
  kAuthenticationData = 0x16,
  kRequestProblemInformation = 0x17,
  kWillDelayInterval = 0x18,
  kRequestResponseInformation = 0x19,
  kResponseInformation = 0x1A,
  kServerReference = 0x1C,
  kReasonString = 0x1F,
  kReceiveMaximum = 0x21,
  kTopicAliasMaximum = 0x22,
  kTopicAlias = 0x23,
  kMaximumQoS = 0x24,
  kRetainAvailable = 0x25,
  kUserProperty = 0x26,
  kMaximumPacketSize = 0x27,
  kWildcardSubscriptionAvailable = 0x28,
  kSubscriptionIdentifierAvailable = 0x29,
  kSharedSubscriptionAvailable = 0x2A,
};

// Where a property block sits: a packet type, or the Will Properties of CONNECT.
enum class PropertyContext : uint8_t {
  kConnect,
  kWill,
  kConnack,
  kPublish,
  kPuback,
  kPubrec,
  kPubrel,
  kPubcomp,
  kSubscribe,
  kSuback,
  kUnsubscribe,
  kUnsuback,
  kDisconnect,
  kAuth,
  // Not a wire position: a stored block (OwnedProperties) where every property is allowed.
  kAny,
};

// §2.2.2.2 table 2-4: is `id` allowed in `context`? Unknown identifiers are never allowed.
bool IsPropertyAllowed(PropertyId id, PropertyContext context);

struct StringPair {
  std::string_view name;
  std::string_view value;
  friend bool operator==(const StringPair&, const StringPair&) = default;
};

// The User Properties of one packet, in order, duplicates kept [MQTT-3.3.2-18]. Either a view
// of a validated wire property block (decoded packets) or a caller-owned span (to encode).
class UserProperties {
 public:
  UserProperties() = default;
  explicit UserProperties(std::span<const StringPair> pairs)
      : pairs_(pairs), count_(static_cast<uint32_t>(pairs.size())) {}
  // `block` is a property block the decoder validated, holding `count` user properties.
  static UserProperties FromWire(std::string_view block, uint32_t count);

  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  void ForEach(absl::FunctionRef<void(std::string_view name, std::string_view value)> f) const;
  std::vector<StringPair> ToVector() const;

 private:
  std::span<const StringPair> pairs_;
  std::string_view wire_;
  uint32_t count_ = 0;
};

// Subscription Identifiers (§3.3.2.3.8): one in SUBSCRIBE, any number in a PUBLISH to a client.
// Like UserProperties, a view of wire bytes or a caller-owned span.
class SubscriptionIds {
 public:
  SubscriptionIds() = default;
  explicit SubscriptionIds(std::span<const uint32_t> ids)
      : ids_(ids), count_(static_cast<uint32_t>(ids.size())) {}
  static SubscriptionIds FromWire(std::string_view block, uint32_t count);

  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  void ForEach(absl::FunctionRef<void(uint32_t id)> f) const;
  std::vector<uint32_t> ToVector() const;
  // The first identifier; requires !empty().
  uint32_t front() const;

 private:
  std::span<const uint32_t> ids_;
  std::string_view wire_;
  uint32_t count_ = 0;
};

// Every property of MQTT 5. An empty optional means "absent"; the specification's default then
// applies (e.g. Receive Maximum 65,535, Maximum QoS 2), which callers apply with value_or().
struct Properties {
  std::optional<uint8_t> payload_format_indicator;
  std::optional<uint32_t> message_expiry_interval;
  std::optional<std::string_view> content_type;
  std::optional<std::string_view> response_topic;
  std::optional<std::string_view> correlation_data;
  SubscriptionIds subscription_ids;
  std::optional<uint32_t> session_expiry_interval;
  std::optional<std::string_view> assigned_client_identifier;
  std::optional<uint16_t> server_keep_alive;
  std::optional<std::string_view> authentication_method;
  std::optional<std::string_view> authentication_data;
  std::optional<uint8_t> request_problem_information;
  std::optional<uint32_t> will_delay_interval;
  std::optional<uint8_t> request_response_information;
  std::optional<std::string_view> response_information;
  std::optional<std::string_view> server_reference;
  std::optional<std::string_view> reason_string;
  std::optional<uint16_t> receive_maximum;
  std::optional<uint16_t> topic_alias_maximum;
  std::optional<uint16_t> topic_alias;
  std::optional<uint8_t> maximum_qos;
  std::optional<uint8_t> retain_available;
  UserProperties user_properties;
  std::optional<uint32_t> maximum_packet_size;
  std::optional<uint8_t> wildcard_subscription_available;
  std::optional<uint8_t> subscription_identifier_available;
  std::optional<uint8_t> shared_subscription_available;
};

class Reader;
class Writer;

// Reads a Property Length and that many bytes of properties into `out`, enforcing: every
// identifier allowed in `context` and of the right type (else 0x81 Malformed Packet); no
// property repeated that the specification allows once (0x82 Protocol Error); the values the
// specification restricts (0/1 flags, non-zero Receive Maximum, Maximum Packet Size, Topic
// Alias, Subscription Identifier) in range (0x82); strings valid UTF-8 (0x81); the property
// length inside the packet (0x81).
absl::Status DecodeProperties(Reader& reader, PropertyContext context, Properties* out);

// A deep copy of a Properties: owns its strings, and its `view()` points into itself. Stored
// messages, wills and client-side results keep their properties in one of these.
//
//   protocol::Properties p;
//   p.content_type = "text/plain";              // a view of a literal
//   OwnedProperties owned(p);                    // copies the bytes
//   EXPECT_EQ(owned.view().content_type, "text/plain");
//
// Internally the encoded property block, decoded again into `view_` on copy.
class OwnedProperties {
 public:
  OwnedProperties() = default;
  explicit OwnedProperties(const Properties& properties);
  // From a property block as wire() returned it (e.g. read back from the durable store).
  static OwnedProperties FromWire(std::string_view block);
  OwnedProperties(const OwnedProperties& other);
  OwnedProperties& operator=(const OwnedProperties& other);
  // Moves keep views valid: a moved std::string keeps its heap buffer, and short (SSO) blocks
  // are re-decoded.
  OwnedProperties(OwnedProperties&& other) noexcept;
  OwnedProperties& operator=(OwnedProperties&& other) noexcept;

  const Properties& view() const { return view_; }
  bool empty() const { return wire_.empty(); }
  // False if the properties it was built from cannot be encoded (a string over 65,535 bytes,
  // invalid UTF-8, a block over the Remaining Length limit); it then holds none of them.
  // Values outside a property's range (e.g. Receive Maximum 0) are kept: the receiver judges.
  bool valid() const { return valid_; }
  // The property block as it appears on the wire (without the length prefix).
  std::string_view wire() const { return wire_; }

 private:
  void Rebuild();

  std::string wire_;
  Properties view_;
  bool valid_ = true;
};

// Size of the property block without its length prefix.
size_t PropertiesSize(const Properties& props);
// Size including the Property Length prefix.
size_t PropertiesWireSize(const Properties& props);
// Writes Property Length and the block, in ascending identifier order. `block_size` is
// PropertiesSize(props).
void EncodeProperties(const Properties& props, size_t block_size, Writer& writer);

}  // namespace simq::protocol
