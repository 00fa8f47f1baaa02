// Encode → decode → compare every field, for every packet type in every protocol version that
// has it, and for every MQTT 5 property in every packet that may carry it.

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "broker/protocol/decoder.h"
#include "broker/protocol/encoder.h"
#include "broker/protocol/packets.h"
#include "broker/protocol/properties.h"
#include "broker/protocol/reason_code.h"
#include "broker/protocol/test_util.h"
#include "broker/protocol/types.h"

namespace simq::protocol {
namespace {

using test::ExpectRoundTrip;

// Every reason code table 2-6 allows in `type`.
std::vector<ReasonCode> CodesAllowedIn(PacketType type) {
  std::vector<ReasonCode> codes;
  for (int v = 0; v <= 0xFF; ++v) {
    if (IsValidReasonCode(type, static_cast<ReasonCode>(v))) {
      codes.push_back(static_cast<ReasonCode>(v));
    }
  }
  return codes;
}

class RoundTripTest : public ::testing::TestWithParam<ProtocolVersion> {
 protected:
  ProtocolVersion version() const { return GetParam(); }
  bool v5() const { return IsV5(GetParam()); }
};

TEST_P(RoundTripTest, Connect) {
  // Minimal: empty client id, no will, no credentials.
  ExpectRoundTrip(ConnectPacket{.version = version(), .clean_start = true}, version());

  // Everything the version has.
  ConnectPacket full{.version = version(),
                     .clean_start = false,
                     .keep_alive = 65'535,
                     .client_id = "sensor-\xe2\x82\xac-42",
                     .username = "alice",
                     .password = std::string_view("p\x00\xffss", 5)};
  for (QoS qos : {QoS::kAtMostOnce, QoS::kAtLeastOnce, QoS::kExactlyOnce}) {
    for (bool retain : {false, true}) {
      full.will = Will{.topic = "devices/42/status",
                       .payload = std::string_view("\x00offline", 8),
                       .qos = qos,
                       .retain = retain};
      if (v5()) {
        full.properties = Properties{.session_expiry_interval = 120, .receive_maximum = 10};
        full.will->properties = Properties{.will_delay_interval = 5};
      }
      ExpectRoundTrip(full, version());
    }
  }

  // A will with an empty payload, user name without password.
  ConnectPacket user_only{.version = version(),
                          .keep_alive = 30,
                          .client_id = "c",
                          .will = Will{.topic = "t", .payload = ""},
                          .username = ""};
  ExpectRoundTrip(user_only, version());

  if (v5()) {
    // MQTT 5 allows a password without a user name (§3.1.2.9).
    ExpectRoundTrip(ConnectPacket{.client_id = "c", .password = "secret"}, version());
  }
}

TEST_P(RoundTripTest, Connack) {
  if (v5()) {
    for (ReasonCode code : CodesAllowedIn(PacketType::kConnack)) {
      ExpectRoundTrip(
          ConnackPacket{.session_present = code == ReasonCode::kSuccess, .reason_code = code},
          version());
    }
    ExpectRoundTrip(ConnackPacket{.properties = Properties{.assigned_client_identifier = "auto-1",
                                                           .receive_maximum = 100}},
                    version());
    return;
  }
  // The six return codes of 3.1/3.1.1 (§3.2.2.3 of 3.1.1), as their MQTT 5 equivalents.
  for (ReasonCode code : {ReasonCode::kSuccess, ReasonCode::kUnsupportedProtocolVersion,
                          ReasonCode::kClientIdentifierNotValid, ReasonCode::kServerUnavailable,
                          ReasonCode::kBadUserNameOrPassword, ReasonCode::kNotAuthorized}) {
    ExpectRoundTrip(ConnackPacket{.reason_code = code}, version());
  }
  if (version() == ProtocolVersion::kMqtt311) {
    ExpectRoundTrip(ConnackPacket{.session_present = true}, version());
  }
}

TEST_P(RoundTripTest, Publish) {
  const std::string large(70'000, 'z');  // a three-byte Remaining Length
  for (QoS qos : {QoS::kAtMostOnce, QoS::kAtLeastOnce, QoS::kExactlyOnce}) {
    for (bool retain : {false, true}) {
      for (bool dup : {false, true}) {
        if (dup && qos == QoS::kAtMostOnce) continue;  // [MQTT-3.3.1-2]
        for (std::string_view payload :
             {std::string_view(), std::string_view("\x00\x01\xff", 3), std::string_view(large)}) {
          PublishPacket p{.topic = "a/b/c",
                          .qos = qos,
                          .retain = retain,
                          .dup = dup,
                          .packet_id = static_cast<uint16_t>(qos == QoS::kAtMostOnce ? 0 : 65'535),
                          .payload = payload};
          if (v5()) p.properties = Properties{.message_expiry_interval = 60, .topic_alias = 3};
          ExpectRoundTrip(p, version());
        }
      }
    }
  }
  if (v5()) {
    // An empty Topic Name stands for a Topic Alias (§3.3.2.3.4).
    ExpectRoundTrip(PublishPacket{.topic = "", .properties = Properties{.topic_alias = 1}},
                    version());
  }
}

template <typename Ack>
void AckRoundTrips(ProtocolVersion version) {
  SCOPED_TRACE(PacketTypeName(Ack::kPacketType));
  ExpectRoundTrip(Ack{.packet_id = 1}, version);
  ExpectRoundTrip(Ack{.packet_id = 65'535}, version);
  if (!IsV5(version)) return;
  for (ReasonCode code : CodesAllowedIn(Ack::kPacketType)) {
    ExpectRoundTrip(Ack{.packet_id = 2, .reason_code = code}, version);
    ExpectRoundTrip(
        Ack{.packet_id = 3, .reason_code = code, .properties = {.reason_string = "why"}}, version);
  }
}

TEST_P(RoundTripTest, Puback) {
  AckRoundTrips<PubackPacket>(version());
}
TEST_P(RoundTripTest, Pubrec) {
  AckRoundTrips<PubrecPacket>(version());
}
TEST_P(RoundTripTest, Pubrel) {
  AckRoundTrips<PubrelPacket>(version());
}
TEST_P(RoundTripTest, Pubcomp) {
  AckRoundTrips<PubcompPacket>(version());
}

TEST_P(RoundTripTest, Subscribe) {
  SubscribePacket p{.packet_id = 10};
  for (QoS qos : {QoS::kAtMostOnce, QoS::kAtLeastOnce, QoS::kExactlyOnce}) {
    p.subscriptions.push_back({"sport/tennis/+", {.max_qos = qos}});
  }
  if (v5()) {
    // Every combination of the MQTT 5 options (§3.8.3.1).
    for (int rh = 0; rh <= 2; ++rh) {
      for (bool no_local : {false, true}) {
        for (bool rap : {false, true}) {
          p.subscriptions.push_back({"#",
                                     {.max_qos = QoS::kExactlyOnce,
                                      .no_local = no_local,
                                      .retain_as_published = rap,
                                      .retain_handling = static_cast<RetainHandling>(rh)}});
        }
      }
    }
    p.subscriptions.push_back({"$share/group/a/+", {.max_qos = QoS::kAtLeastOnce}});
    p.properties.subscription_ids = SubscriptionIds(test::kSampleSubscriptionIdSubscribe);
  }
  // Filter syntax is the receiver's business (SUBACK per filter), so even an invalid one
  // travels.
  p.subscriptions.push_back({"", {}});
  ExpectRoundTrip(p, version());
}

TEST_P(RoundTripTest, Suback) {
  std::vector<ReasonCode> codes = {ReasonCode::kGrantedQoS1, ReasonCode::kSuccess,
                                   ReasonCode::kGrantedQoS2, ReasonCode::kUnspecifiedError};
  if (v5()) codes = CodesAllowedIn(PacketType::kSuback);
  ExpectRoundTrip(SubackPacket{.packet_id = 11, .reason_codes = codes}, version());
  ExpectRoundTrip(SubackPacket{.packet_id = 12, .reason_codes = {ReasonCode::kGrantedQoS2}},
                  version());
}

TEST_P(RoundTripTest, Unsubscribe) {
  ExpectRoundTrip(UnsubscribePacket{.packet_id = 13, .filters = {"a/+", "#", "$share/g/x"}},
                  version());
}

TEST_P(RoundTripTest, Unsuback) {
  UnsubackPacket p{.packet_id = 14};
  if (v5()) p.reason_codes = CodesAllowedIn(PacketType::kUnsuback);
  ExpectRoundTrip(p, version());
}

TEST_P(RoundTripTest, PingreqAndPingresp) {
  ExpectRoundTrip(PingreqPacket{}, version());
  ExpectRoundTrip(PingrespPacket{}, version());
}

TEST_P(RoundTripTest, Disconnect) {
  ExpectRoundTrip(DisconnectPacket{}, version());
  if (!v5()) return;
  for (ReasonCode code : CodesAllowedIn(PacketType::kDisconnect)) {
    ExpectRoundTrip(DisconnectPacket{.reason_code = code}, version());
  }
  ExpectRoundTrip(DisconnectPacket{.reason_code = ReasonCode::kServerMoved,
                                   .properties = {.server_reference = "b.example"}},
                  version());
}

// AUTH exists only in MQTT 5.
TEST(Mqtt5RoundTripTest, Auth) {
  for (ReasonCode code : CodesAllowedIn(PacketType::kAuth)) {
    ExpectRoundTrip(AuthPacket{.reason_code = code}, ProtocolVersion::kMqtt5);
    ExpectRoundTrip(AuthPacket{.reason_code = code,
                               .properties = {.authentication_method = "SCRAM-SHA-1",
                                              .authentication_data = "r=fyko"}},
                    ProtocolVersion::kMqtt5);
  }
}

INSTANTIATE_TEST_SUITE_P(AllVersions, RoundTripTest, ::testing::ValuesIn(test::kAllVersions),
                         [](const ::testing::TestParamInfo<ProtocolVersion>& info) {
                           switch (info.param) {
                             case ProtocolVersion::kMqtt31: return std::string("Mqtt31");
                             case ProtocolVersion::kMqtt311: return std::string("Mqtt311");
                             case ProtocolVersion::kMqtt5: return std::string("Mqtt5");
                           }
                           return std::string("Unknown");
                         });

// The reason-code walks above must have found codes, or they test nothing.
TEST(ReasonCodeTableTest, WalksFindCodes) {
  EXPECT_EQ(CodesAllowedIn(PacketType::kAuth).size(), 3u);
  EXPECT_EQ(CodesAllowedIn(PacketType::kPubrel).size(), 2u);
  EXPECT_GE(CodesAllowedIn(PacketType::kConnack).size(), 20u);
}

// --- MQTT 5 properties ---

TEST(PropertyRoundTripTest, EveryPropertyAloneInEveryPacketThatAllowsIt) {
  int combinations = 0;
  for (PropertyContext context : test::kAllContexts) {
    for (PropertyId id : test::kAllPropertyIds) {
      if (!IsPropertyAllowed(id, context)) continue;
      SCOPED_TRACE("property " + std::to_string(static_cast<int>(id)) + " in " +
                   test::ContextName(context));
      Properties props;
      test::SetSampleProperty(id, context, &props);
      // Authentication Data needs its Method in CONNECT (§3.1.2.11.10).
      if (id == PropertyId::kAuthenticationData) {
        test::SetSampleProperty(PropertyId::kAuthenticationMethod, context, &props);
      }
      ExpectRoundTrip(test::PacketWithProperties(context, props), ProtocolVersion::kMqtt5);
      ++combinations;
    }
  }
  // Table 2-4 of §2.2.2.2: 50 cells for the 26 single-use properties, plus User Property in
  // all 14 places.
  EXPECT_EQ(combinations, 64);
}

TEST(PropertyRoundTripTest, AllAllowedPropertiesTogetherInEveryPacket) {
  for (PropertyContext context : test::kAllContexts) {
    SCOPED_TRACE(test::ContextName(context));
    Properties props;
    int count = 0;
    for (PropertyId id : test::kAllPropertyIds) {
      if (IsPropertyAllowed(id, context)) {
        test::SetSampleProperty(id, context, &props);
        ++count;
      }
    }
    EXPECT_GE(count, 1);
    ExpectRoundTrip(test::PacketWithProperties(context, props), ProtocolVersion::kMqtt5);
  }
}

TEST(PropertyRoundTripTest, UserPropertiesKeepOrderAndDuplicates) {
  // [MQTT-3.3.2-18]: the order of User Properties is kept; a name may appear more than once.
  const StringPair pairs[] = {{"k", "1"}, {"a", "x"}, {"k", "1"}, {"k", "2"}, {"", ""}};
  const PublishPacket publish{.topic = "t",
                              .properties = {.user_properties = UserProperties(pairs)}};
  const std::string bytes = EncodeToString(publish, ProtocolVersion::kMqtt5);
  absl::StatusOr<PublishPacket> decoded =
      test::DecodeAs<PublishPacket>(bytes, ProtocolVersion::kMqtt5);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->properties.user_properties.size(), 5u);
  EXPECT_EQ(decoded->properties.user_properties.ToVector(),
            std::vector<StringPair>(std::begin(pairs), std::end(pairs)));
}

TEST(PropertyRoundTripTest, PublishCarriesManySubscriptionIdentifiers) {
  // §3.3.2.3.8: a PUBLISH to a client carries one identifier per matching subscription.
  const PublishPacket publish{
      .topic = "t",
      .properties = {.subscription_ids = SubscriptionIds(test::kSampleSubscriptionIdsPublish)}};
  const std::string bytes = EncodeToString(publish, ProtocolVersion::kMqtt5);
  absl::StatusOr<PublishPacket> decoded =
      test::DecodeAs<PublishPacket>(bytes, ProtocolVersion::kMqtt5);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->properties.subscription_ids.ToVector(),
            std::vector<uint32_t>(std::begin(test::kSampleSubscriptionIdsPublish),
                                  std::end(test::kSampleSubscriptionIdsPublish)));
  EXPECT_EQ(decoded->properties.subscription_ids.front(), 1u);
}

}  // namespace
}  // namespace simq::protocol
