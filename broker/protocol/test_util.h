// Helpers shared by the codec's tests: hex byte literals, a canonical text rendering of every
// field of a packet (so that a round trip compares everything and a failure prints a readable
// diff), one-packet decoding through the same path a connection takes, and sample values for
// every MQTT 5 property.
#pragma once

#include <cctype>
#include <cstdint>
#include <deque>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include <gtest/gtest.h>

#include "absl/status/statusor.h"

#include "broker/protocol/decoder.h"
#include "broker/protocol/encoder.h"
#include "broker/protocol/error.h"
#include "broker/protocol/packets.h"
#include "broker/protocol/properties.h"
#include "broker/protocol/reason_code.h"
#include "broker/protocol/types.h"

namespace simq::protocol {

// gtest prints enums with an 8-bit underlying type as characters; print reason codes and
// versions the way the specification names them instead.
inline void PrintTo(ReasonCode code, std::ostream* os) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  const auto v = static_cast<uint8_t>(code);
  *os << "0x" << kDigits[v >> 4] << kDigits[v & 0xF] << " " << ReasonCodeName(code);
}
inline void PrintTo(ProtocolVersion version, std::ostream* os) {
  *os << ProtocolVersionName(version);
}

namespace test {

inline constexpr ProtocolVersion kAllVersions[] = {
    ProtocolVersion::kMqtt31, ProtocolVersion::kMqtt311, ProtocolVersion::kMqtt5};

// Every property identifier of MQTT 5 (§2.2.2.2).
inline constexpr PropertyId kAllPropertyIds[] = {
    PropertyId::kPayloadFormatIndicator,
    PropertyId::kMessageExpiryInterval,
    PropertyId::kContentType,
    PropertyId::kResponseTopic,
    PropertyId::kCorrelationData,
    PropertyId::kSubscriptionIdentifier,
    PropertyId::kSessionExpiryInterval,
    PropertyId::kAssignedClientIdentifier,
    PropertyId::kServerKeepAlive,
    PropertyId::kAuthenticationMethod,
    PropertyId::kAuthenticationData,
    PropertyId::kRequestProblemInformation,
    PropertyId::kWillDelayInterval,
    PropertyId::kRequestResponseInformation,
    PropertyId::kResponseInformation,
    PropertyId::kServerReference,
    PropertyId::kReasonString,
    PropertyId::kReceiveMaximum,
    PropertyId::kTopicAliasMaximum,
    PropertyId::kTopicAlias,
    PropertyId::kMaximumQoS,
    PropertyId::kRetainAvailable,
    PropertyId::kUserProperty,
    PropertyId::kMaximumPacketSize,
    PropertyId::kWildcardSubscriptionAvailable,
    PropertyId::kSubscriptionIdentifierAvailable,
    PropertyId::kSharedSubscriptionAvailable,
};

// Every place a property block can sit.
inline constexpr PropertyContext kAllContexts[] = {
    PropertyContext::kConnect,    PropertyContext::kWill,        PropertyContext::kConnack,
    PropertyContext::kPublish,    PropertyContext::kPuback,      PropertyContext::kPubrec,
    PropertyContext::kPubrel,     PropertyContext::kPubcomp,     PropertyContext::kSubscribe,
    PropertyContext::kSuback,     PropertyContext::kUnsubscribe, PropertyContext::kUnsuback,
    PropertyContext::kDisconnect, PropertyContext::kAuth,
};

inline std::string ContextName(PropertyContext context) {
  switch (context) {
    case PropertyContext::kConnect: return "CONNECT";
    case PropertyContext::kWill: return "Will Properties";
    case PropertyContext::kConnack: return "CONNACK";
    case PropertyContext::kPublish: return "PUBLISH";
    case PropertyContext::kPuback: return "PUBACK";
    case PropertyContext::kPubrec: return "PUBREC";
    case PropertyContext::kPubrel: return "PUBREL";
    case PropertyContext::kPubcomp: return "PUBCOMP";
    case PropertyContext::kSubscribe: return "SUBSCRIBE";
    case PropertyContext::kSuback: return "SUBACK";
    case PropertyContext::kUnsubscribe: return "UNSUBSCRIBE";
    case PropertyContext::kUnsuback: return "UNSUBACK";
    case PropertyContext::kDisconnect: return "DISCONNECT";
    case PropertyContext::kAuth: return "AUTH";
    case PropertyContext::kAny: return "any (stored block)";
  }
  return "?";
}

// "10 0c 00 04 'MQTT'" style literals: pairs of hex digits, whitespace ignored, and text in
// single quotes copied as is.
inline std::string Bytes(std::string_view spec) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < spec.size();) {
    const char c = spec[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '\'') {
      const size_t end = spec.find('\'', i + 1);
      EXPECT_NE(end, std::string_view::npos) << "unterminated quote in " << spec;
      if (end == std::string_view::npos) break;
      out.append(spec.substr(i + 1, end - i - 1));
      i = end + 1;
    } else {
      const int hi = nibble(c);
      const int lo = i + 1 < spec.size() ? nibble(spec[i + 1]) : -1;
      EXPECT_TRUE(hi >= 0 && lo >= 0) << "bad hex at offset " << i << " of " << spec;
      if (hi < 0 || lo < 0) break;
      out.push_back(static_cast<char>(hi << 4 | lo));
      i += 2;
    }
  }
  return out;
}

inline std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i > 0) out.push_back(' ');
    const auto b = static_cast<uint8_t>(bytes[i]);
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xF]);
  }
  return out;
}

// Printable text quoted, anything else as \xNN; long strings summarised by size and ends.
inline std::string Quote(std::string_view s) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "\"";
  auto append = [&](std::string_view part) {
    for (char c : part) {
      const auto b = static_cast<uint8_t>(c);
      if (b >= 0x20 && b < 0x7F && c != '"' && c != '\\') {
        out.push_back(c);
      } else {
        out += "\\x";
        out.push_back(kDigits[b >> 4]);
        out.push_back(kDigits[b & 0xF]);
      }
    }
  };
  if (s.size() <= 64) {
    append(s);
  } else {
    append(s.substr(0, 16));
    out += "...(" + std::to_string(s.size()) + " bytes)...";
    append(s.substr(s.size() - 16));
  }
  return out + "\"";
}

inline std::string CodeText(ReasonCode code) {
  return std::to_string(static_cast<int>(code));
}

// One line per property that is present, in identifier order; repeatable ones list every
// occurrence in order.
inline std::string Describe(const Properties& p) {
  std::string out;
  auto num = [&out](const char* name, auto v) {
    if (v) out += std::string(" ") + name + "=" + std::to_string(+*v);
  };
  auto str = [&out](const char* name, const std::optional<std::string_view>& v) {
    if (v) out += std::string(" ") + name + "=" + Quote(*v);
  };
  num("payload_format_indicator", p.payload_format_indicator);
  num("message_expiry_interval", p.message_expiry_interval);
  str("content_type", p.content_type);
  str("response_topic", p.response_topic);
  str("correlation_data", p.correlation_data);
  if (!p.subscription_ids.empty()) {
    out += " subscription_ids=[";
    for (uint32_t id : p.subscription_ids.ToVector()) out += " " + std::to_string(id);
    out += " ]";
  }
  num("session_expiry_interval", p.session_expiry_interval);
  str("assigned_client_identifier", p.assigned_client_identifier);
  num("server_keep_alive", p.server_keep_alive);
  str("authentication_method", p.authentication_method);
  str("authentication_data", p.authentication_data);
  num("request_problem_information", p.request_problem_information);
  num("will_delay_interval", p.will_delay_interval);
  num("request_response_information", p.request_response_information);
  str("response_information", p.response_information);
  str("server_reference", p.server_reference);
  str("reason_string", p.reason_string);
  num("receive_maximum", p.receive_maximum);
  num("topic_alias_maximum", p.topic_alias_maximum);
  num("topic_alias", p.topic_alias);
  num("maximum_qos", p.maximum_qos);
  num("retain_available", p.retain_available);
  if (!p.user_properties.empty()) {
    out += " user_properties=[";
    for (const StringPair& pair : p.user_properties.ToVector()) {
      out += " " + Quote(pair.name) + ":" + Quote(pair.value);
    }
    out += " ]";
  }
  num("maximum_packet_size", p.maximum_packet_size);
  num("wildcard_subscription_available", p.wildcard_subscription_available);
  num("subscription_identifier_available", p.subscription_identifier_available);
  num("shared_subscription_available", p.shared_subscription_available);
  return "{" + out + " }";
}

// Every field of `packet`, so that equal descriptions mean equal packets.
inline std::string Describe(const Packet& packet) {
  auto b = [](bool v) { return std::string(v ? "1" : "0"); };
  auto n = [](auto v) { return std::to_string(static_cast<int64_t>(v)); };
  return std::visit(
      [&](const auto& p) -> std::string {
        using T = std::decay_t<decltype(p)>;
        std::string out = std::string(PacketTypeName(TypeOf(Packet(p))));
        if constexpr (std::is_same_v<T, ConnectPacket>) {
          out += " version=" + n(p.version) + " clean_start=" + b(p.clean_start) +
                 " keep_alive=" + n(p.keep_alive) + " client_id=" + Quote(p.client_id);
          if (p.will) {
            out += " will={topic=" + Quote(p.will->topic) + " payload=" + Quote(p.will->payload) +
                   " qos=" + n(p.will->qos) + " retain=" + b(p.will->retain) +
                   " properties=" + Describe(p.will->properties) + "}";
          }
          if (p.username) out += " username=" + Quote(*p.username);
          if (p.password) out += " password=" + Quote(*p.password);
          out += " properties=" + Describe(p.properties);
        } else if constexpr (std::is_same_v<T, ConnackPacket>) {
          out += " session_present=" + b(p.session_present) + " reason=" + CodeText(p.reason_code) +
                 " properties=" + Describe(p.properties);
        } else if constexpr (std::is_same_v<T, PublishPacket>) {
          out += " topic=" + Quote(p.topic) + " qos=" + n(p.qos) + " retain=" + b(p.retain) +
                 " dup=" + b(p.dup) + " packet_id=" + n(p.packet_id) +
                 " properties=" + Describe(p.properties) + " payload=" + Quote(p.payload);
        } else if constexpr (std::is_same_v<T, PubackPacket> || std::is_same_v<T, PubrecPacket> ||
                             std::is_same_v<T, PubrelPacket> || std::is_same_v<T, PubcompPacket>) {
          out += " packet_id=" + n(p.packet_id) + " reason=" + CodeText(p.reason_code) +
                 " properties=" + Describe(p.properties);
        } else if constexpr (std::is_same_v<T, SubscribePacket>) {
          out += " packet_id=" + n(p.packet_id) + " properties=" + Describe(p.properties) +
                 " subscriptions=[";
          for (const TopicSubscription& s : p.subscriptions) {
            out += " {" + Quote(s.filter) + " qos=" + n(s.options.max_qos) +
                   " no_local=" + b(s.options.no_local) +
                   " rap=" + b(s.options.retain_as_published) +
                   " rh=" + n(s.options.retain_handling) + "}";
          }
          out += " ]";
        } else if constexpr (std::is_same_v<T, SubackPacket> || std::is_same_v<T, UnsubackPacket>) {
          out += " packet_id=" + n(p.packet_id) + " properties=" + Describe(p.properties) +
                 " reasons=[";
          for (ReasonCode rc : p.reason_codes) out += " " + CodeText(rc);
          out += " ]";
        } else if constexpr (std::is_same_v<T, UnsubscribePacket>) {
          out += " packet_id=" + n(p.packet_id) + " properties=" + Describe(p.properties) +
                 " filters=[";
          for (std::string_view f : p.filters) out += " " + Quote(f);
          out += " ]";
        } else if constexpr (std::is_same_v<T, DisconnectPacket> || std::is_same_v<T, AuthPacket>) {
          out += " reason=" + CodeText(p.reason_code) + " properties=" + Describe(p.properties);
        } else {
          static_assert(std::is_same_v<T, PingreqPacket> || std::is_same_v<T, PingrespPacket>);
        }
        return out;
      },
      packet);
}

// Decodes `bytes` as a connection would: ParseFixedHeader, MakeFrame, DecodePacket. The header
// must describe exactly `bytes`; anything else is a broken test input and fails with an error
// that carries no reason code (kUnspecifiedError). The packet's fields are views of `bytes`.
inline absl::StatusOr<Packet> DecodeOne(std::string_view bytes, ProtocolVersion version,
                                        uint32_t max_packet_size = kMaxPacketSize) {
  absl::StatusOr<std::optional<FixedHeader>> header = ParseFixedHeader(bytes, max_packet_size);
  if (!header.ok()) return header.status();
  if (!header->has_value()) return absl::InternalError("test input: incomplete fixed header");
  if ((*header)->total_size() != bytes.size()) {
    return absl::InternalError("test input: remaining length does not match the bytes given");
  }
  return DecodePacket(MakeFrame(**header, bytes), version);
}

// Keeps `bytes` alive until the test binary exits, so that packets decoded from a temporary
// (their fields are views) stay readable for the rest of the test.
inline std::string_view Keep(std::string bytes) {
  static auto* kept = new std::deque<std::string>();
  return kept->emplace_back(std::move(bytes));
}

// DecodeOne on a kept copy of `bytes`, then the packet alternative `T`.
template <typename T>
absl::StatusOr<T> DecodeAs(std::string bytes, ProtocolVersion version) {
  absl::StatusOr<Packet> packet = DecodeOne(Keep(std::move(bytes)), version);
  if (!packet.ok()) return packet.status();
  if (!std::holds_alternative<T>(*packet)) {
    return absl::InternalError("decoded a different packet type: " + Describe(*packet));
  }
  return std::get<T>(*std::move(packet));
}

inline ReasonCode ReasonOf(const absl::Status& status) {
  return ReasonCodeOf(status);
}
template <typename T>
ReasonCode ReasonOf(const absl::StatusOr<T>& result) {
  return ReasonCodeOf(result.status());
}

// --- Sample property values ---
//
// Values differ from the specification's defaults and pass the decoder's range checks, so a
// round trip shows each one really travelled.

inline constexpr StringPair kSampleUserProperties[] = {
    {"region", "eu-west"}, {"region", "eu-west"}, {"", ""}, {"a", "\xc3\xa9t\xc3\xa9"}};
// Variable Byte Integer boundaries: 1, 2, 3 and 4 bytes.
inline constexpr uint32_t kSampleSubscriptionIdsPublish[] = {
    1, 127, 128, 16'383, 16'384, 2'097'151, 2'097'152, 268'435'455};
inline constexpr uint32_t kSampleSubscriptionIdSubscribe[] = {16'384};

// Sets property `id` in `props` to a sample value suitable for `context`.
inline void SetSampleProperty(PropertyId id, PropertyContext context, Properties* props) {
  using P = PropertyId;
  switch (id) {
    case P::kPayloadFormatIndicator: props->payload_format_indicator = 1; break;
    case P::kMessageExpiryInterval: props->message_expiry_interval = 0xFFFFFFFE; break;
    case P::kContentType: props->content_type = "application/json"; break;
    case P::kResponseTopic: props->response_topic = "reply/to/me"; break;
    case P::kCorrelationData: props->correlation_data = std::string_view("\x00\xff\x01", 3); break;
    case P::kSubscriptionIdentifier:
      props->subscription_ids = context == PropertyContext::kSubscribe
                                    ? SubscriptionIds(kSampleSubscriptionIdSubscribe)
                                    : SubscriptionIds(kSampleSubscriptionIdsPublish);
      break;
    case P::kSessionExpiryInterval: props->session_expiry_interval = kSessionNeverExpires; break;
    case P::kAssignedClientIdentifier: props->assigned_client_identifier = "auto-7f3a"; break;
    case P::kServerKeepAlive: props->server_keep_alive = 65'535; break;
    case P::kAuthenticationMethod: props->authentication_method = "SCRAM-SHA-256"; break;
    case P::kAuthenticationData:
      props->authentication_data = std::string_view("n,,n=user\x00", 10);
      break;
    case P::kRequestProblemInformation: props->request_problem_information = 0; break;
    case P::kWillDelayInterval: props->will_delay_interval = 3600; break;
    case P::kRequestResponseInformation: props->request_response_information = 1; break;
    case P::kResponseInformation: props->response_information = "responses/"; break;
    case P::kServerReference: props->server_reference = "other.example:1883"; break;
    case P::kReasonString: props->reason_string = "because"; break;
    case P::kReceiveMaximum: props->receive_maximum = 1; break;
    case P::kTopicAliasMaximum: props->topic_alias_maximum = 0; break;
    case P::kTopicAlias: props->topic_alias = 65'535; break;
    case P::kMaximumQoS: props->maximum_qos = 0; break;
    case P::kRetainAvailable: props->retain_available = 0; break;
    case P::kUserProperty: props->user_properties = UserProperties(kSampleUserProperties); break;
    case P::kMaximumPacketSize: props->maximum_packet_size = 1; break;
    case P::kWildcardSubscriptionAvailable: props->wildcard_subscription_available = 0; break;
    case P::kSubscriptionIdentifierAvailable: props->subscription_identifier_available = 1; break;
    case P::kSharedSubscriptionAvailable: props->shared_subscription_available = 0; break;
  }
}

// A valid MQTT 5 packet whose property block for `context` is `props` (for kWill: a CONNECT
// with a Will whose Will Properties are `props`).
inline Packet PacketWithProperties(PropertyContext context, const Properties& props) {
  switch (context) {
    case PropertyContext::kConnect: {
      ConnectPacket c;
      c.client_id = "client";
      c.properties = props;
      return c;
    }
    case PropertyContext::kWill: {
      ConnectPacket c;
      c.client_id = "client";
      c.will = Will{.topic = "last/will", .payload = "gone", .qos = QoS::kAtLeastOnce};
      c.will->properties = props;
      return c;
    }
    case PropertyContext::kConnack: return ConnackPacket{.properties = props};
    case PropertyContext::kPublish:
      return PublishPacket{.topic = "a/b",
                           .qos = QoS::kAtLeastOnce,
                           .packet_id = 7,
                           .properties = props,
                           .payload = "x"};
    case PropertyContext::kPuback: return PubackPacket{.packet_id = 7, .properties = props};
    case PropertyContext::kPubrec: return PubrecPacket{.packet_id = 7, .properties = props};
    case PropertyContext::kPubrel: return PubrelPacket{.packet_id = 7, .properties = props};
    case PropertyContext::kPubcomp: return PubcompPacket{.packet_id = 7, .properties = props};
    case PropertyContext::kSubscribe:
      return SubscribePacket{.packet_id = 7, .properties = props, .subscriptions = {{"a/#", {}}}};
    case PropertyContext::kSuback:
      return SubackPacket{
          .packet_id = 7, .properties = props, .reason_codes = {ReasonCode::kGrantedQoS1}};
    case PropertyContext::kUnsubscribe:
      return UnsubscribePacket{.packet_id = 7, .properties = props, .filters = {"a/#"}};
    case PropertyContext::kUnsuback:
      return UnsubackPacket{
          .packet_id = 7, .properties = props, .reason_codes = {ReasonCode::kSuccess}};
    case PropertyContext::kDisconnect: return DisconnectPacket{.properties = props};
    case PropertyContext::kAuth:
      return AuthPacket{.reason_code = ReasonCode::kContinueAuthentication, .properties = props};
    case PropertyContext::kAny: break;  // not a place on the wire
  }
  ADD_FAILURE() << "no packet carries properties for " << ContextName(context);
  return PingreqPacket{};
}

// Encodes `packet` for `version`, decodes it back and expects every field equal, the same
// bytes when the decoded packet is encoded again, and EncodedSize to match.
inline void ExpectRoundTrip(const Packet& packet, ProtocolVersion version) {
  const std::string bytes = EncodeToString(packet, version);
  SCOPED_TRACE(Describe(packet) + "\n  encoded: " + Hex(bytes.substr(0, 200)));
  EXPECT_EQ(EncodedSize(packet, version), bytes.size());
  absl::StatusOr<Packet> decoded = DecodeOne(bytes, version);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(Describe(*decoded), Describe(packet));
  EXPECT_EQ(EncodeToString(*decoded, version), bytes);
}

}  // namespace test
}  // namespace simq::protocol
