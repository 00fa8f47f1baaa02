// Decoding: byte vectors written from the specifications' field descriptions (MQTT 5.0 and
// 3.1.1, OASIS), and every class of malformed input with the reason code the specification
// names for it.

#include "broker/protocol/decoder.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "broker/protocol/error.h"
#include "broker/protocol/test_util.h"

namespace simq::protocol {
namespace {

using test::Bytes;
using test::DecodeAs;
using test::DecodeOne;
using test::ReasonOf;

constexpr ProtocolVersion k31 = ProtocolVersion::kMqtt31;
constexpr ProtocolVersion k311 = ProtocolVersion::kMqtt311;
constexpr ProtocolVersion k5 = ProtocolVersion::kMqtt5;

// --- Vectors from the specifications ---

// MQTT 5 §3.1.2.11, figure 3-6 "Variable Header example": protocol name "MQTT", version 5,
// flags 0xCE (user name, password, will QoS 1, will, clean start), Keep Alive 10, Property
// Length 5, Session Expiry Interval (17) = 10. Completed with a payload in the order of §3.1.3.
constexpr std::string_view kSpecConnectV5 =
    "10 27"
    "00 04 'MQTT' 05 ce 00 0a 05 11 00 00 00 0a"  // the specification's variable header
    "00 04 'simq'"                                // Client Identifier
    "00"                                          // Will Properties: none
    "00 03 'a/b'"                                 // Will Topic
    "00 03 'bye'"                                 // Will Payload
    "00 01 'u'"                                   // User Name
    "00 01 'p'";                                  // Password

TEST(DecodeConnectTest, SpecificationVariableHeaderExampleV5) {
  absl::StatusOr<ConnectPacket> c = DecodeAs<ConnectPacket>(Bytes(kSpecConnectV5), k5);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->version, k5);
  EXPECT_TRUE(c->clean_start);
  EXPECT_EQ(c->keep_alive, 10);
  EXPECT_EQ(c->properties.session_expiry_interval, 10u);
  EXPECT_EQ(c->client_id, "simq");
  ASSERT_TRUE(c->will.has_value());
  EXPECT_EQ(c->will->qos, QoS::kAtLeastOnce);
  EXPECT_FALSE(c->will->retain);
  EXPECT_EQ(c->will->topic, "a/b");
  EXPECT_EQ(c->will->payload, "bye");
  EXPECT_EQ(c->username, "u");
  EXPECT_EQ(c->password, "p");
}

TEST(DecodeConnectTest, SpecificationVariableHeaderExample311) {
  // MQTT 3.1.1 §3.1.2.10 figure 3.6: the same flags and Keep Alive, no properties.
  absl::StatusOr<ConnectPacket> c = DecodeAs<ConnectPacket>(
      Bytes("10 20 00 04 'MQTT' 04 ce 00 0a 00 04 'simq' 00 03 'a/b' 00 03 'bye' 00 01 'u' "
            "00 01 'p'"),
      k311);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->version, k311);
  EXPECT_TRUE(c->clean_start);
  EXPECT_EQ(c->keep_alive, 10);
  ASSERT_TRUE(c->will.has_value());
  EXPECT_EQ(c->will->qos, QoS::kAtLeastOnce);
  EXPECT_EQ(c->will->topic, "a/b");
  EXPECT_EQ(c->username, "u");
  EXPECT_EQ(c->password, "p");
}

TEST(DecodeConnectTest, Minimal311) {
  // Clean Session, Keep Alive 60, zero-length Client Identifier [MQTT-3.1.3-6].
  absl::StatusOr<ConnectPacket> c =
      DecodeAs<ConnectPacket>(Bytes("10 0c 00 04 'MQTT' 04 02 00 3c 00 00"), k311);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->version, k311);
  EXPECT_TRUE(c->clean_start);
  EXPECT_EQ(c->keep_alive, 60);
  EXPECT_EQ(c->client_id, "");
  EXPECT_FALSE(c->will.has_value());
  EXPECT_FALSE(c->username.has_value());
  EXPECT_FALSE(c->password.has_value());
}

TEST(DecodeConnectTest, Mqtt31UsesMQIsdp) {
  // MQTT 3.1: protocol name "MQIsdp", version 3.
  absl::StatusOr<ConnectPacket> c =
      DecodeAs<ConnectPacket>(Bytes("10 0f 00 06 'MQIsdp' 03 02 00 3c 00 01 'a'"), k31);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->version, k31);
  EXPECT_EQ(c->client_id, "a");
}

TEST(DecodeConnectTest, VersionComesFromThePacketNotTheCaller) {
  // Before CONNECT the connection does not know its version; DecodePacket must not care.
  for (ProtocolVersion assumed : test::kAllVersions) {
    absl::StatusOr<ConnectPacket> c =
        DecodeAs<ConnectPacket>(Bytes("10 0c 00 04 'MQTT' 04 02 00 3c 00 00"), assumed);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(c->version, k311);
  }
}

// --- CONNECT errors ---

TEST(DecodeConnectErrorsTest, UnknownProtocolIs0x84AndLevelCanBePeeked) {
  struct Case {
    std::string_view bytes;
    uint8_t level;
  };
  for (const Case& c : {Case{"10 0c 00 04 'MQTT' 06 02 00 3c 00 00", 6},
                        Case{"10 0c 00 04 'MQTT' 03 02 00 3c 00 00", 3},
                        Case{"10 0c 00 04 'MQTX' 04 02 00 3c 00 00", 4},
                        Case{"10 0e 00 06 'MQIsdp' 04 02 00 3c 00 00", 4},
                        Case{"10 0e 00 06 'MQIsdp' 05 02 00 3c 00 00", 5},
                        Case{"10 0c 00 04 'mqtt' 05 02 00 3c 00 00", 5}}) {
    const std::string bytes = Bytes(c.bytes);
    EXPECT_EQ(ReasonOf(DecodeOne(bytes, k5)), ReasonCode::kUnsupportedProtocolVersion) << c.bytes;
    absl::StatusOr<std::optional<FixedHeader>> h = ParseFixedHeader(bytes, kMaxPacketSize);
    ASSERT_TRUE(h.ok() && h->has_value());
    EXPECT_EQ(PeekProtocolLevel(MakeFrame(**h, bytes)), c.level) << c.bytes;
  }
}

TEST(DecodeConnectErrorsTest, PeekProtocolLevelOfATruncatedConnect) {
  const std::string bytes = Bytes("10 06 00 04 'MQTT'");
  absl::StatusOr<std::optional<FixedHeader>> h = ParseFixedHeader(bytes, kMaxPacketSize);
  ASSERT_TRUE(h.ok() && h->has_value());
  EXPECT_EQ(PeekProtocolLevel(MakeFrame(**h, bytes)), std::nullopt);
  EXPECT_EQ(ReasonOf(DecodeOne(bytes, k5)), ReasonCode::kMalformedPacket);
}

TEST(DecodeConnectErrorsTest, ReservedFlagIsMalformed) {
  // [MQTT-3.1.2-3] both versions.
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("10 0c 00 04 'MQTT' 04 03 00 3c 00 00"), k311)),
            ReasonCode::kMalformedPacket);
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("10 0d 00 04 'MQTT' 05 03 00 3c 00 00 00"), k5)),
            ReasonCode::kMalformedPacket);
}

TEST(DecodeConnectErrorsTest, WillFlagRules) {
  // Flags 0x1e: will, QoS 3 [MQTT-3.1.2-14] (3.1.1) / §3.1.2.6 (5.0).
  EXPECT_EQ(
      ReasonOf(DecodeOne(Bytes("10 12 00 04 'MQTT' 04 1e 00 3c 00 00 00 01 't' 00 01 'x'"), k311)),
      ReasonCode::kMalformedPacket);
  EXPECT_EQ(ReasonOf(DecodeOne(
                Bytes("10 14 00 04 'MQTT' 05 1e 00 3c 00 00 00 00 00 01 't' 00 01 'x'"), k5)),
            ReasonCode::kMalformedPacket);
  // Will Retain without Will [MQTT-3.1.2-15] / [MQTT-3.1.2-13].
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("10 0c 00 04 'MQTT' 04 22 00 3c 00 00"), k311)),
            ReasonCode::kMalformedPacket);
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("10 0d 00 04 'MQTT' 05 22 00 3c 00 00 00"), k5)),
            ReasonCode::kMalformedPacket);
  // Will QoS without Will [MQTT-3.1.2-13] / [MQTT-3.1.2-11].
  for (std::string_view flags : {"0a", "12"}) {
    const std::string bytes = Bytes("10 0c 00 04 'MQTT' 04") + Bytes(flags) + Bytes("00 3c 00 00");
    EXPECT_EQ(ReasonOf(DecodeOne(bytes, k311)), ReasonCode::kMalformedPacket) << flags;
  }
  // A Will flag without the Will fields is a truncated packet.
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("10 0c 00 04 'MQTT' 04 06 00 3c 00 00"), k311)),
            ReasonCode::kMalformedPacket);
}

TEST(DecodeConnectErrorsTest, WillTopicWithWildcardIsTopicNameInvalid) {
  EXPECT_EQ(
      ReasonOf(DecodeOne(Bytes("10 12 00 04 'MQTT' 04 06 00 3c 00 00 00 01 '#' 00 01 'x'"), k311)),
      ReasonCode::kTopicNameInvalid);
}

TEST(DecodeConnectErrorsTest, PasswordWithoutUserNameIsMalformedBefore5) {
  // [MQTT-3.1.2-22] in 3.1.1 (and 3.1); MQTT 5 allows it (§3.1.2.9).
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("10 0f 00 04 'MQTT' 04 42 00 3c 00 00 00 01 'p'"), k311)),
            ReasonCode::kMalformedPacket);
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("10 11 00 06 'MQIsdp' 03 42 00 3c 00 00 00 01 'p'"), k31)),
            ReasonCode::kMalformedPacket);
  absl::StatusOr<ConnectPacket> v5 =
      DecodeAs<ConnectPacket>(Bytes("10 10 00 04 'MQTT' 05 42 00 3c 00 00 00 00 01 'p'"), k5);
  ASSERT_TRUE(v5.ok()) << v5.status();
  EXPECT_FALSE(v5->username.has_value());
  EXPECT_EQ(v5->password, "p");
}

TEST(DecodeConnectErrorsTest, AuthenticationDataWithoutMethodIsProtocolError) {
  // §3.1.2.11.10: "It is a Protocol Error to include Authentication Data if there is no
  // Authentication Method".
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("10 11 00 04 'MQTT' 05 02 00 3c 04 16 00 01 'x' 00 00"), k5)),
            ReasonCode::kProtocolError);
  EXPECT_TRUE(DecodeOne(Bytes("10 18 00 04 'MQTT' 05 02 00 3c 0b 15 00 04 'SCRA' 16 00 01 'x' "
                              "00 00"),
                        k5)
                  .ok());
}

TEST(DecodeConnectErrorsTest, InvalidUtf8InClientIdentifierIsMalformed) {
  // [MQTT-1.5.4-1], [MQTT-1.5.4-2], [MQTT-3.1.3-4].
  for (std::string_view bad : {"c0 af", "ed a0 80", "00", "e2 82", "f4 90 80 80"}) {
    const std::string id = Bytes(bad);
    std::string body = Bytes("00 04 'MQTT' 04 02 00 3c 00") + static_cast<char>(id.size()) + id;
    const std::string packet = Bytes("10") + static_cast<char>(body.size()) + body;
    EXPECT_EQ(ReasonOf(DecodeOne(packet, k311)), ReasonCode::kMalformedPacket) << bad;
  }
}

TEST(DecodeConnectErrorsTest, TrailingBytesAreMalformed) {
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("10 0d 00 04 'MQTT' 04 02 00 3c 00 00 ff"), k311)),
            ReasonCode::kMalformedPacket);
}

// --- CONNACK ---

TEST(DecodeConnackTest, Version3Vectors) {
  // MQTT 3.1.1 §3.2: 20 02, Session Present, return code.
  absl::StatusOr<ConnackPacket> c = DecodeAs<ConnackPacket>(Bytes("20 02 00 00"), k311);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->session_present);
  EXPECT_EQ(c->reason_code, ReasonCode::kSuccess);

  c = DecodeAs<ConnackPacket>(Bytes("20 02 01 00"), k311);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->session_present);

  // Return codes 1..5 map to their MQTT 5 equivalents.
  const ReasonCode expected[] = {ReasonCode::kUnsupportedProtocolVersion,
                                 ReasonCode::kClientIdentifierNotValid,
                                 ReasonCode::kServerUnavailable, ReasonCode::kBadUserNameOrPassword,
                                 ReasonCode::kNotAuthorized};
  for (int rc = 1; rc <= 5; ++rc) {
    c = DecodeAs<ConnackPacket>(Bytes("20 02 00") + static_cast<char>(rc), k311);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(c->reason_code, expected[rc - 1]) << rc;
  }
}

TEST(DecodeConnackTest, Version3Errors) {
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("20 02 00 06"), k311)), ReasonCode::kMalformedPacket);
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("20 02 02 00"), k311)), ReasonCode::kMalformedPacket);
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("20 03 00 00 00"), k311)), ReasonCode::kMalformedPacket);
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("20 01 00"), k311)), ReasonCode::kMalformedPacket);
}

TEST(DecodeConnackTest, Version5Vectors) {
  absl::StatusOr<ConnackPacket> c = DecodeAs<ConnackPacket>(Bytes("20 03 00 00 00"), k5);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->reason_code, ReasonCode::kSuccess);

  // Topic Alias Maximum 65535, Wildcard Subscription Available 1, Shared Subscription
  // Available 0.
  c = DecodeAs<ConnackPacket>(Bytes("20 0a 01 00 07 22 ff ff 28 01 2a 00"), k5);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->session_present);
  EXPECT_EQ(c->properties.topic_alias_maximum, 65'535);
  EXPECT_EQ(c->properties.wildcard_subscription_available, 1);
  EXPECT_EQ(c->properties.shared_subscription_available, 0);

  c = DecodeAs<ConnackPacket>(Bytes("20 03 00 8c 00"), k5);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->reason_code, ReasonCode::kBadAuthenticationMethod);
}

TEST(DecodeConnackTest, Version5Errors) {
  // The Property Length is not optional in CONNACK (§3.2.2.3.1).
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("20 02 00 00"), k5)), ReasonCode::kMalformedPacket);
  // 0x04 is a DISCONNECT code, not a CONNACK one (table 2-6).
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("20 03 00 04 00"), k5)), ReasonCode::kProtocolError);
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("20 03 00 01 00"), k5)), ReasonCode::kProtocolError);
  // Reserved acknowledge flags [MQTT-3.2.2-1].
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("20 03 80 00 00"), k5)), ReasonCode::kMalformedPacket);
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("20 04 00 00 00 ff"), k5)), ReasonCode::kMalformedPacket);
}

// --- PUBLISH ---

TEST(DecodePublishTest, QoS1Vectors) {
  // MQTT 3.1.1 §3.3.2.3 figure 3.11: Topic Name "a/b", Packet Identifier 10; payload "hi".
  absl::StatusOr<PublishPacket> p =
      DecodeAs<PublishPacket>(Bytes("32 09 00 03 'a/b' 00 0a 'hi'"), k311);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->topic, "a/b");
  EXPECT_EQ(p->qos, QoS::kAtLeastOnce);
  EXPECT_FALSE(p->retain);
  EXPECT_FALSE(p->dup);
  EXPECT_EQ(p->packet_id, 10);
  EXPECT_EQ(p->payload, "hi");

  // MQTT 5 adds the Property Length after the Packet Identifier.
  p = DecodeAs<PublishPacket>(Bytes("32 0a 00 03 'a/b' 00 0a 00 'hi'"), k5);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->packet_id, 10);
  EXPECT_EQ(p->payload, "hi");

  // The same bytes in 3.1.1 read the Property Length byte as payload.
  p = DecodeAs<PublishPacket>(Bytes("32 0a 00 03 'a/b' 00 0a 00 'hi'"), k311);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->payload, Bytes("00 'hi'"));
}

TEST(DecodePublishTest, FlagsAndEmptyPayload) {
  // DUP, QoS 2, RETAIN: 0x3d. No payload at all is a zero-length payload.
  absl::StatusOr<PublishPacket> p = DecodeAs<PublishPacket>(Bytes("3d 07 00 03 'a/b' ff ff"), k311);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->dup);
  EXPECT_TRUE(p->retain);
  EXPECT_EQ(p->qos, QoS::kExactlyOnce);
  EXPECT_EQ(p->packet_id, 65'535);
  EXPECT_EQ(p->payload, "");

  // QoS 0 has no Packet Identifier: the two bytes are payload.
  p = DecodeAs<PublishPacket>(Bytes("31 07 00 03 'a/b' 00 0a"), k311);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->qos, QoS::kAtMostOnce);
  EXPECT_EQ(p->packet_id, 0);
  EXPECT_EQ(p->payload, Bytes("00 0a"));
}

TEST(DecodePublishTest, QoS3IsMalformed) {
  // [MQTT-3.3.1-4].
  for (std::string_view first : {"36", "37", "3e", "3f"}) {
    const std::string bytes = Bytes(first) + Bytes("07 00 03 'a/b' 00 01");
    EXPECT_EQ(ReasonOf(DecodeOne(bytes, k311)), ReasonCode::kMalformedPacket) << first;
    EXPECT_EQ(ReasonOf(DecodeOne(bytes, k5)), ReasonCode::kMalformedPacket) << first;
  }
}

TEST(DecodePublishTest, DupWithQoS0IsMalformed) {
  // [MQTT-3.3.1-2].
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("38 05 00 03 'a/b'"), k311)), ReasonCode::kMalformedPacket);
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("39 06 00 03 'a/b' 00"), k5)), ReasonCode::kMalformedPacket);
}

TEST(DecodePublishTest, WildcardInTopicNameIsTopicNameInvalid) {
  // [MQTT-3.3.2-2].
  for (std::string_view topic : {"'a/+'", "'a/#'", "'+//'", "'#'", "'a+b'"}) {
    const std::string name = Bytes(topic);
    const std::string body = std::string(1, '\0') + static_cast<char>(name.size()) + name;
    EXPECT_EQ(ReasonOf(DecodeOne(Bytes("30") + static_cast<char>(body.size()) + body, k311)),
              ReasonCode::kTopicNameInvalid)
        << topic;
    EXPECT_EQ(
        ReasonOf(DecodeOne(Bytes("30") + static_cast<char>(body.size() + 1) + body + '\0', k5)),
        ReasonCode::kTopicNameInvalid)
        << topic;
  }
}

TEST(DecodePublishTest, EmptyTopicName) {
  // 3.1.1 [MQTT-4.7.3-1]: malformed. MQTT 5: allowed on the wire, for a Topic Alias.
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("30 02 00 00"), k311)), ReasonCode::kMalformedPacket);
  absl::StatusOr<PublishPacket> p = DecodeAs<PublishPacket>(Bytes("30 06 00 00 03 23 00 01"), k5);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->topic, "");
  EXPECT_EQ(p->properties.topic_alias, 1);
}

TEST(DecodePublishTest, InvalidUtf8TopicIsMalformed) {
  for (std::string_view bad : {"c0 af", "ed a0 80", "61 00 62", "e2 82", "f4 90 80 80", "ff"}) {
    const std::string name = Bytes(bad);
    const std::string body = std::string(1, '\0') + static_cast<char>(name.size()) + name;
    EXPECT_EQ(ReasonOf(DecodeOne(Bytes("30") + static_cast<char>(body.size()) + body, k311)),
              ReasonCode::kMalformedPacket)
        << bad;
  }
}

TEST(DecodePublishTest, InvalidUtf8UserPropertyIsMalformed) {
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("30 0c 00 01 't' 08 26 00 01 'k' 00 02 ed a0"), k5)),
            ReasonCode::kMalformedPacket);
  EXPECT_TRUE(DecodeOne(Bytes("30 0c 00 01 't' 08 26 00 01 'k' 00 02 'ok'"), k5).ok());
}

TEST(DecodePublishTest, PropertyLengthOverrunningThePacketIsMalformed) {
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("30 05 00 01 't' 05 01"), k5)), ReasonCode::kMalformedPacket);
  // A QoS 1 PUBLISH whose Packet Identifier is cut short.
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("32 04 00 01 't' 00"), k311)), ReasonCode::kMalformedPacket);
  // A topic length beyond the packet.
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("30 04 00 05 'ab'"), k311)), ReasonCode::kMalformedPacket);
}

TEST(DecodePublishTest, PropertyNotAllowedInPublishIsMalformed) {
  // Session Expiry Interval (0x11) belongs to CONNECT, CONNACK and DISCONNECT.
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("30 09 00 01 't' 05 11 00 00 00 01"), k5)),
            ReasonCode::kMalformedPacket);
}

TEST(DecodePublishTest, DuplicatedPropertyIsProtocolError) {
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("30 0a 00 01 't' 06 23 00 01 23 00 02"), k5)),
            ReasonCode::kProtocolError);
}

// --- Packet Identifier 0 [MQTT-2.2.1-3] ---

struct TestPacket {
  std::string_view bytes;
  ProtocolVersion version;
};

TEST(PacketIdentifierTest, ZeroIsProtocolError) {
  const TestPacket kZeroIds[] = {
      {"32 07 00 03 'a/b' 00 00", k311},
      {"32 08 00 03 'a/b' 00 00 00", k5},
      {"40 02 00 00", k311},
      {"40 02 00 00", k5},
      {"50 02 00 00", k311},
      {"50 02 00 00", k5},
      {"62 02 00 00", k311},
      {"62 02 00 00", k5},
      {"70 02 00 00", k311},
      {"70 02 00 00", k5},
      {"82 06 00 00 00 01 '#' 00", k311},
      {"82 07 00 00 00 00 01 '#' 00", k5},
      {"90 03 00 00 00", k311},
      {"90 04 00 00 00 00", k5},
      {"a2 05 00 00 00 01 '#'", k311},
      {"a2 06 00 00 00 00 01 '#'", k5},
      {"b0 02 00 00", k311},
      {"b0 04 00 00 00 00", k5},
  };
  for (const TestPacket& c : kZeroIds) {
    EXPECT_EQ(ReasonOf(DecodeOne(Bytes(c.bytes), c.version)), ReasonCode::kProtocolError)
        << c.bytes << " in " << ProtocolVersionName(c.version);
  }
}

// --- Fixed header flags (§2.1.3) ---

// One valid packet of every type but PUBLISH, in 3.1.1 and 5.
constexpr TestPacket kNonPublishPackets[] = {
    {"10 0c 00 04 'MQTT' 04 02 00 3c 00 00", k311},
    {"10 0d 00 04 'MQTT' 05 02 00 3c 00 00 00", k5},
    {"20 02 00 00", k311},
    {"20 03 00 00 00", k5},
    {"40 02 00 01", k311},
    {"40 02 00 01", k5},
    {"50 02 00 01", k311},
    {"50 03 00 01 10", k5},
    {"62 02 00 01", k311},
    {"62 03 00 01 92", k5},
    {"70 02 00 01", k311},
    {"70 04 00 01 00 00", k5},
    {"82 06 00 01 00 01 '#' 00", k311},
    {"82 07 00 01 00 00 01 '#' 00", k5},
    {"90 03 00 01 00", k311},
    {"90 04 00 01 00 00", k5},
    {"a2 05 00 01 00 01 '#'", k311},
    {"a2 06 00 01 00 00 01 '#'", k5},
    {"b0 02 00 01", k311},
    {"b0 04 00 01 00 00", k5},
    {"c0 00", k311},
    {"c0 00", k5},
    {"d0 00", k311},
    {"d0 00", k5},
    {"e0 00", k311},
    {"e0 00", k5},
    {"f0 00", k5},
};

TEST(FixedHeaderFlagsTest, EveryWrongReservedFlagValueIsMalformed) {
  // [MQTT-2.1.3-1]: PUBREL, SUBSCRIBE and UNSUBSCRIBE carry 0010, every other type but PUBLISH
  // 0000; anything else is a Malformed Packet.
  for (const TestPacket& valid : kNonPublishPackets) {
    std::string bytes = Bytes(valid.bytes);
    SCOPED_TRACE(test::Hex(bytes) + " in " + std::string(ProtocolVersionName(valid.version)));
    ASSERT_TRUE(DecodeOne(bytes, valid.version).ok()) << DecodeOne(bytes, valid.version).status();
    const uint8_t good = static_cast<uint8_t>(bytes[0]) & 0x0F;
    for (uint8_t flags = 0; flags < 16; ++flags) {
      if (flags == good) continue;
      bytes[0] = static_cast<char>((static_cast<uint8_t>(bytes[0]) & 0xF0) | flags);
      EXPECT_EQ(ReasonOf(DecodeOne(bytes, valid.version)), ReasonCode::kMalformedPacket)
          << "flags " << int{flags};
    }
  }
}

TEST(FixedHeaderFlagsTest, ReservedPacketTypeIsMalformed) {
  for (ProtocolVersion v : test::kAllVersions) {
    EXPECT_EQ(ReasonOf(DecodeOne(Bytes("00 00"), v)), ReasonCode::kMalformedPacket);
    EXPECT_EQ(ReasonOf(DecodeOne(Bytes("0f 01 00"), v)), ReasonCode::kMalformedPacket);
  }
}

// --- Acknowledgements ---

TEST(DecodeAckTest, ShortestMqtt5Puback) {
  // §3.4.2.1: "The Reason Code and Property Length can be omitted if the Reason Code is 0x00
  // (Success) and there are no Properties. In this case the PUBACK has a Remaining Length of 2."
  absl::StatusOr<PubackPacket> p = DecodeAs<PubackPacket>(Bytes("40 02 00 01"), k5);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->packet_id, 1);
  EXPECT_EQ(p->reason_code, ReasonCode::kSuccess);
}

TEST(DecodeAckTest, ReasonCodeWithoutProperties) {
  // §3.4.2.2.1: "If the Remaining Length is less than 4 there is no Property Length".
  absl::StatusOr<PubrecPacket> p = DecodeAs<PubrecPacket>(Bytes("50 03 12 34 10"), k5);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->packet_id, 0x1234);
  EXPECT_EQ(p->reason_code, ReasonCode::kNoMatchingSubscribers);

  absl::StatusOr<PubcompPacket> c =
      DecodeAs<PubcompPacket>(Bytes("70 0b 00 02 92 07 1f 00 04 'gone'"), k5);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->reason_code, ReasonCode::kPacketIdentifierNotFound);
  EXPECT_EQ(c->properties.reason_string, "gone");
}

TEST(DecodeAckTest, TrailingGarbageIsMalformed) {
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("40 03 00 01 00"), k311)), ReasonCode::kMalformedPacket);
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("62 03 00 01 00"), k31)), ReasonCode::kMalformedPacket);
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("40 05 00 01 00 00 ff"), k5)), ReasonCode::kMalformedPacket);
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("b0 03 00 01 00"), k311)), ReasonCode::kMalformedPacket);
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("e0 01 00"), k311)), ReasonCode::kMalformedPacket);
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("e0 03 00 00 ff"), k5)), ReasonCode::kMalformedPacket);
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("f0 03 18 00 ff"), k5)), ReasonCode::kMalformedPacket);
}

TEST(DecodeAckTest, TooShortIsMalformed) {
  for (ProtocolVersion v : {k311, k5}) {
    EXPECT_EQ(ReasonOf(DecodeOne(Bytes("40 00"), v)), ReasonCode::kMalformedPacket);
    EXPECT_EQ(ReasonOf(DecodeOne(Bytes("50 01 00"), v)), ReasonCode::kMalformedPacket);
  }
}

TEST(DecodeAckTest, ReasonCodeNotAllowedInThePacketIsProtocolError) {
  // Table 2-6.
  for (std::string_view bytes :
       {"40 03 00 01 92",     // PUBACK: Packet Identifier not found is PUBREL/PUBCOMP only
        "50 03 00 01 03",     // PUBREC: not a reason code at all
        "62 03 00 01 10",     // PUBREL: only 0x00 and 0x92
        "70 03 00 01 87",     // PUBCOMP: only 0x00 and 0x92
        "90 04 00 01 00 03",  // SUBACK
        "90 04 00 01 00 11",  // SUBACK: No subscription existed is UNSUBACK's
        "b0 04 00 01 00 01",  // UNSUBACK: Granted QoS 1 is SUBACK's
        "e0 01 18",           // DISCONNECT: Continue authentication is AUTH's
        "f0 01 04",           // AUTH: only 0x00, 0x18, 0x19
        "f0 01 87"}) {
    EXPECT_EQ(ReasonOf(DecodeOne(Bytes(bytes), k5)), ReasonCode::kProtocolError) << bytes;
  }
  // 3.1.1 SUBACK return codes are 0x00, 0x01, 0x02 and 0x80 only [MQTT-3.9.3-2].
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("90 03 00 01 03"), k311)), ReasonCode::kProtocolError);
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("90 03 00 01 87"), k311)), ReasonCode::kProtocolError);
}

TEST(DecodeAckTest, PropertyNotAllowedInAckIsMalformed) {
  // User Property is allowed, Topic Alias is not.
  EXPECT_TRUE(DecodeOne(Bytes("40 0b 00 01 00 07 26 00 01 'k' 00 01 'v'"), k5).ok());
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("40 07 00 01 00 03 23 00 01"), k5)),
            ReasonCode::kMalformedPacket);
}

// --- SUBSCRIBE / SUBACK / UNSUBSCRIBE / UNSUBACK ---

TEST(DecodeSubscribeTest, Specification311Example) {
  // MQTT 3.1.1 §3.8.3 figure 3.22: "a/b" QoS 1, "c/d" QoS 2; Packet Identifier 10.
  absl::StatusOr<SubscribePacket> s =
      DecodeAs<SubscribePacket>(Bytes("82 0e 00 0a 00 03 'a/b' 01 00 03 'c/d' 02"), k311);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->packet_id, 10);
  ASSERT_EQ(s->subscriptions.size(), 2u);
  EXPECT_EQ(s->subscriptions[0].filter, "a/b");
  EXPECT_EQ(s->subscriptions[0].options.max_qos, QoS::kAtLeastOnce);
  EXPECT_EQ(s->subscriptions[1].filter, "c/d");
  EXPECT_EQ(s->subscriptions[1].options.max_qos, QoS::kExactlyOnce);
}

TEST(DecodeSubscribeTest, Mqtt5OptionsByte) {
  // §3.8.3.1: bits 0-1 Maximum QoS, bit 2 No Local, bit 3 Retain As Published, bits 4-5 Retain
  // Handling. 0x2e = RH 2, RAP, NL, QoS 2. Subscription Identifier 300 = ac 02.
  absl::StatusOr<SubscribePacket> s =
      DecodeAs<SubscribePacket>(Bytes("82 10 00 01 03 0b ac 02 00 03 'a/b' 2e 00 01 '#' 19"), k5);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->properties.subscription_ids.ToVector(), std::vector<uint32_t>{300});
  ASSERT_EQ(s->subscriptions.size(), 2u);
  EXPECT_EQ(s->subscriptions[0].options,
            (SubscriptionOptions{.max_qos = QoS::kExactlyOnce,
                                 .no_local = true,
                                 .retain_as_published = true,
                                 .retain_handling = RetainHandling::kDoNotSend}));
  // 0x19 = RH 1, RAP, QoS 1.
  EXPECT_EQ(s->subscriptions[1].options,
            (SubscriptionOptions{.max_qos = QoS::kAtLeastOnce,
                                 .retain_as_published = true,
                                 .retain_handling = RetainHandling::kSendIfNewSubscription}));
}

TEST(DecodeSubscribeTest, NoFiltersIsProtocolError) {
  // [MQTT-3.8.3-2] / [MQTT-3.8.3-3].
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("82 02 00 01"), k311)), ReasonCode::kProtocolError);
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("82 03 00 01 00"), k5)), ReasonCode::kProtocolError);
}

TEST(DecodeSubscribeTest, OptionErrors) {
  struct Case {
    std::string_view options;
    ProtocolVersion version;
    ReasonCode expected;
  };
  const Case cases[] = {
      {"40", k5, ReasonCode::kMalformedPacket},    // reserved bit 6 [MQTT-3.8.3-5]
      {"80", k5, ReasonCode::kMalformedPacket},    // reserved bit 7
      {"03", k5, ReasonCode::kMalformedPacket},    // QoS 3
      {"30", k5, ReasonCode::kProtocolError},      // Retain Handling 3 (§3.8.3.1)
      {"04", k311, ReasonCode::kMalformedPacket},  // 3.1.1: bits 2-7 reserved [MQTT-3.8.3-4]
      {"10", k311, ReasonCode::kMalformedPacket},
      {"03", k311, ReasonCode::kMalformedPacket},  // QoS 3 [MQTT-3-8.3-4]
  };
  for (const Case& c : cases) {
    const std::string bytes = IsV5(c.version) ? Bytes("82 07 00 01 00 00 01 '#'") + Bytes(c.options)
                                              : Bytes("82 06 00 01 00 01 '#'") + Bytes(c.options);
    EXPECT_EQ(ReasonOf(DecodeOne(bytes, c.version)), c.expected)
        << c.options << " in " << ProtocolVersionName(c.version);
  }
}

TEST(DecodeSubscribeTest, NoLocalOnSharedSubscriptionIsProtocolError) {
  // [MQTT-3.8.3-4].
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("82 10 00 01 00 00 0a '$share/g/a' 04"), k5)),
            ReasonCode::kProtocolError);
  EXPECT_TRUE(DecodeOne(Bytes("82 10 00 01 00 00 0a '$share/g/a' 00"), k5).ok());
  EXPECT_TRUE(DecodeOne(Bytes("82 10 00 01 00 00 0a '$shared/ga' 04"), k5).ok());
}

TEST(DecodeSubscribeTest, TruncatedOrInvalidFilterIsMalformed) {
  // A filter without its options byte, a filter length past the end, invalid UTF-8.
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("82 05 00 01 00 01 '#'"), k311)),
            ReasonCode::kMalformedPacket);
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("82 06 00 01 00 05 '#' 00"), k311)),
            ReasonCode::kMalformedPacket);
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("82 07 00 01 00 02 c0 af 00"), k311)),
            ReasonCode::kMalformedPacket);
}

TEST(DecodeSubscribeTest, FilterSyntaxIsLeftToTheReceiver) {
  // "sport/tennis#" is not a valid filter, but SUBACK answers it per filter (0x8F), so the
  // packet itself decodes.
  absl::StatusOr<SubscribePacket> s =
      DecodeAs<SubscribePacket>(Bytes("82 12 00 01 00 0d 'sport/tennis#' 00"), k311);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->subscriptions[0].filter, "sport/tennis#");
}

TEST(DecodeSubackTest, Specification311Example) {
  // MQTT 3.1.1 §3.9.3 figure 3.26: Success QoS 0, Success QoS 2, Failure.
  absl::StatusOr<SubackPacket> s = DecodeAs<SubackPacket>(Bytes("90 05 00 0a 00 02 80"), k311);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->packet_id, 10);
  EXPECT_EQ(s->reason_codes,
            (std::vector<ReasonCode>{ReasonCode::kSuccess, ReasonCode::kGrantedQoS2,
                                     ReasonCode::kUnspecifiedError}));
}

TEST(DecodeSubackTest, NoReasonCodesIsProtocolError) {
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("90 02 00 01"), k311)), ReasonCode::kProtocolError);
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("90 03 00 01 00"), k5)), ReasonCode::kProtocolError);
}

TEST(DecodeUnsubscribeTest, Specification311Example) {
  // MQTT 3.1.1 §3.10.3 figure 3.30: "a/b" and "c/d".
  absl::StatusOr<UnsubscribePacket> u =
      DecodeAs<UnsubscribePacket>(Bytes("a2 0c 00 0a 00 03 'a/b' 00 03 'c/d'"), k311);
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->packet_id, 10);
  EXPECT_EQ(u->filters, (std::vector<std::string_view>{"a/b", "c/d"}));
}

TEST(DecodeUnsubscribeTest, NoFiltersIsProtocolError) {
  // [MQTT-3.10.3-2].
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("a2 02 00 01"), k311)), ReasonCode::kProtocolError);
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("a2 03 00 01 00"), k5)), ReasonCode::kProtocolError);
}

TEST(DecodeUnsubscribeTest, TruncatedOrInvalidFilterIsMalformed) {
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("a2 05 00 01 00 03 'a'"), k311)),
            ReasonCode::kMalformedPacket);
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("a2 07 00 01 00 03 ed a0 80"), k311)),
            ReasonCode::kMalformedPacket);
}

TEST(DecodeUnsubackTest, Mqtt5ReasonCodes) {
  absl::StatusOr<UnsubackPacket> u = DecodeAs<UnsubackPacket>(Bytes("b0 05 00 01 00 00 11"), k5);
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->reason_codes,
            (std::vector<ReasonCode>{ReasonCode::kSuccess, ReasonCode::kNoSubscriptionExisted}));
}

TEST(DecodeUnsubackTest, Mqtt5WithoutReasonCodesIsProtocolError) {
  // §3.11.3: one Reason Code per Topic Filter of the UNSUBSCRIBE, which has at least one.
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("b0 03 00 01 00"), k5)), ReasonCode::kProtocolError);
}

// --- PINGREQ, PINGRESP, DISCONNECT, AUTH ---

TEST(DecodePingTest, BodyIsMalformed) {
  for (ProtocolVersion v : test::kAllVersions) {
    EXPECT_TRUE(std::holds_alternative<PingreqPacket>(*DecodeOne(Bytes("c0 00"), v)));
    EXPECT_TRUE(std::holds_alternative<PingrespPacket>(*DecodeOne(Bytes("d0 00"), v)));
    EXPECT_EQ(ReasonOf(DecodeOne(Bytes("c0 01 00"), v)), ReasonCode::kMalformedPacket);
    EXPECT_EQ(ReasonOf(DecodeOne(Bytes("d0 01 00"), v)), ReasonCode::kMalformedPacket);
  }
}

TEST(DecodeDisconnectTest, Mqtt5Forms) {
  // §3.14.2.1: Remaining Length 0 means Normal disconnection without properties.
  absl::StatusOr<DisconnectPacket> d = DecodeAs<DisconnectPacket>(Bytes("e0 00"), k5);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->reason_code, ReasonCode::kSuccess);

  d = DecodeAs<DisconnectPacket>(Bytes("e0 01 04"), k5);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->reason_code, ReasonCode::kDisconnectWithWillMessage);

  d = DecodeAs<DisconnectPacket>(Bytes("e0 07 00 05 11 00 00 00 3c"), k5);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->properties.session_expiry_interval, 60u);
}

TEST(DecodeAuthTest, RemainingLengthZeroIsSuccess) {
  // §3.15.2.1.
  absl::StatusOr<AuthPacket> a = DecodeAs<AuthPacket>(Bytes("f0 00"), k5);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->reason_code, ReasonCode::kSuccess);

  a = DecodeAs<AuthPacket>(Bytes("f0 0d 18 0b 15 00 04 'SCRA' 16 00 01 'x'"), k5);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->reason_code, ReasonCode::kContinueAuthentication);
  EXPECT_EQ(a->properties.authentication_method, "SCRA");
  EXPECT_EQ(a->properties.authentication_data, "x");
}

TEST(DecodeAuthTest, AuthBeforeMqtt5IsMalformed) {
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("f0 00"), k311)), ReasonCode::kMalformedPacket);
  EXPECT_EQ(ReasonOf(DecodeOne(Bytes("f0 00"), k31)), ReasonCode::kMalformedPacket);
}

// --- A stream of packets, as a connection reads it ---

TEST(DecodeStreamTest, SplitsBackToBackPacketsByTheirHeaders) {
  const std::string stream = Bytes(
      "10 0c 00 04 'MQTT' 04 02 00 3c 00 00"
      "82 06 00 01 00 01 '#' 01"
      "32 09 00 03 'a/b' 00 0a 'hi'"
      "c0 00"
      "e0 00");
  std::string_view rest = stream;
  std::vector<PacketType> types;
  while (!rest.empty()) {
    absl::StatusOr<std::optional<FixedHeader>> h = ParseFixedHeader(rest, 1024);
    ASSERT_TRUE(h.ok() && h->has_value());
    ASSERT_LE((*h)->total_size(), rest.size());
    absl::StatusOr<Packet> p = DecodePacket(MakeFrame(**h, rest), k311);
    ASSERT_TRUE(p.ok()) << p.status();
    types.push_back(TypeOf(*p));
    rest.remove_prefix((*h)->total_size());
  }
  EXPECT_EQ(types, (std::vector<PacketType>{PacketType::kConnect, PacketType::kSubscribe,
                                            PacketType::kPublish, PacketType::kPingreq,
                                            PacketType::kDisconnect}));
}

}  // namespace
}  // namespace simq::protocol
