// Encoding: exact bytes for packets whose wire form the specifications spell out, the PUBLISH
// fan-out helpers (Packet Identifier offset and patching), EncodedSize, and what each version
// leaves out.

#include "broker/protocol/encoder.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "broker/protocol/test_util.h"

namespace simq::protocol {
namespace {

using test::Bytes;
using test::Hex;

constexpr ProtocolVersion k31 = ProtocolVersion::kMqtt31;
constexpr ProtocolVersion k311 = ProtocolVersion::kMqtt311;
constexpr ProtocolVersion k5 = ProtocolVersion::kMqtt5;

// Compares as hex so that a failure shows where the bytes differ.
void ExpectBytes(const Packet& packet, ProtocolVersion version, std::string_view expected) {
  EXPECT_EQ(Hex(EncodeToString(packet, version)), Hex(Bytes(expected))) << test::Describe(packet);
}

TEST(EncodeConnectTest, SpecificationVariableHeaderExampleV5) {
  // MQTT 5 §3.1.2.11 figure 3-6 (see decoder_test.cc for the field by field reading).
  ConnectPacket c{.version = k5,
                  .clean_start = true,
                  .keep_alive = 10,
                  .client_id = "simq",
                  .will = Will{.topic = "a/b", .payload = "bye", .qos = QoS::kAtLeastOnce},
                  .username = "u",
                  .password = "p",
                  .properties = {.session_expiry_interval = 10}};
  ExpectBytes(c, k5,
              "10 27 00 04 'MQTT' 05 ce 00 0a 05 11 00 00 00 0a 00 04 'simq' 00 00 03 'a/b' "
              "00 03 'bye' 00 01 'u' 00 01 'p'");
}

TEST(EncodeConnectTest, Minimal311) {
  ExpectBytes(ConnectPacket{.version = k311, .keep_alive = 60}, k311,
              "10 0c 00 04 'MQTT' 04 02 00 3c 00 00");
}

TEST(EncodeConnectTest, Mqtt31UsesMQIsdp) {
  ExpectBytes(ConnectPacket{.version = k31, .keep_alive = 60, .client_id = "a"}, k31,
              "10 0f 00 06 'MQIsdp' 03 02 00 3c 00 01 'a'");
}

TEST(EncodeConnectTest, TakesTheVersionFromThePacket) {
  // The version argument of EncodePacket does not apply to CONNECT.
  EXPECT_EQ(EncodeToString(ConnectPacket{.version = k311}, k5),
            EncodeToString(ConnectPacket{.version = k311}, k31));
}

TEST(EncodeConnectTest, WillFlagsAndRetain) {
  // Flags: will (0x04), QoS 2 (0x10), retain (0x20), no clean start.
  ExpectBytes(
      ConnectPacket{
          .version = k311,
          .clean_start = false,
          .client_id = "c",
          .will = Will{.topic = "t", .payload = "", .qos = QoS::kExactlyOnce, .retain = true}},
      k311, "10 12 00 04 'MQTT' 04 34 00 00 00 01 'c' 00 01 't' 00 00");
}

TEST(EncodeConnackTest, Version3) {
  ExpectBytes(ConnackPacket{}, k311, "20 02 00 00");
  ExpectBytes(ConnackPacket{.session_present = true}, k311, "20 02 01 00");
  // MQTT 5 reasons map to the closest 3.1.1 return code (§3.2.2.2 of 5.0).
  ExpectBytes(ConnackPacket{.reason_code = ReasonCode::kUnsupportedProtocolVersion}, k311,
              "20 02 00 01");
  ExpectBytes(ConnackPacket{.reason_code = ReasonCode::kClientIdentifierNotValid}, k311,
              "20 02 00 02");
  ExpectBytes(ConnackPacket{.reason_code = ReasonCode::kServerBusy}, k311, "20 02 00 03");
  ExpectBytes(ConnackPacket{.reason_code = ReasonCode::kBadUserNameOrPassword}, k311,
              "20 02 00 04");
  ExpectBytes(ConnackPacket{.reason_code = ReasonCode::kBanned}, k311, "20 02 00 05");
  // Properties do not exist before MQTT 5.
  ExpectBytes(ConnackPacket{.properties = {.receive_maximum = 5}}, k311, "20 02 00 00");
}

TEST(EncodeConnackTest, Mqtt31HasNoSessionPresentFlag) {
  // MQTT 3.1 §3.2: the first byte of the CONNACK variable header is reserved ("not used");
  // Session Present arrived in 3.1.1.
  ExpectBytes(ConnackPacket{.session_present = true}, k31, "20 02 00 00");
}

TEST(EncodeConnackTest, Version5) {
  ExpectBytes(ConnackPacket{}, k5, "20 03 00 00 00");
  ExpectBytes(ConnackPacket{.properties = {.topic_alias_maximum = 65'535,
                                           .wildcard_subscription_available = 1,
                                           .shared_subscription_available = 0}},
              k5, "20 0a 00 00 07 22 ff ff 28 01 2a 00");
  ExpectBytes(ConnackPacket{.reason_code = ReasonCode::kServerMoved}, k5, "20 03 00 9d 00");
}

TEST(EncodePublishTest, QoS1Vectors) {
  const PublishPacket p{.topic = "a/b", .qos = QoS::kAtLeastOnce, .packet_id = 10, .payload = "hi"};
  ExpectBytes(p, k311, "32 09 00 03 'a/b' 00 0a 'hi'");
  ExpectBytes(p, k31, "32 09 00 03 'a/b' 00 0a 'hi'");
  ExpectBytes(p, k5, "32 0a 00 03 'a/b' 00 0a 00 'hi'");
}

TEST(EncodePublishTest, FlagsInTheFirstByte) {
  ExpectBytes(PublishPacket{.topic = "t", .retain = true}, k311, "31 03 00 01 't'");
  ExpectBytes(PublishPacket{.topic = "t", .qos = QoS::kExactlyOnce, .dup = true, .packet_id = 1},
              k311, "3c 05 00 01 't' 00 01");
  EXPECT_EQ(PublishFirstByte(QoS::kExactlyOnce, true, true), 0x3d);
  EXPECT_EQ(PublishFirstByte(QoS::kAtMostOnce, false, false), 0x30);
}

TEST(EncodePublishTest, ReturnsThePacketIdentifierOffset) {
  std::string out;
  EXPECT_EQ(Encode(PublishPacket{.topic = "a/b"}, k311, &out), 0u);  // QoS 0: none

  out.clear();
  // 2-byte fixed header + 5-byte topic.
  EXPECT_EQ(
      Encode(PublishPacket{.topic = "a/b", .qos = QoS::kAtLeastOnce, .packet_id = 9}, k5, &out),
      7u);
  EXPECT_EQ(Hex(out.substr(7, 2)), "00 09");

  // A 3-byte Remaining Length (a 4-byte fixed header) moves it; appending to a non-empty buffer
  // does not (the offset is from the packet's start).
  out = "xyz";
  const std::string payload(20'000, 'p');
  const size_t offset = Encode(
      PublishPacket{
          .topic = "a/b", .qos = QoS::kExactlyOnce, .packet_id = 0x1234, .payload = payload},
      k311, &out);
  EXPECT_EQ(offset, 9u);
  EXPECT_EQ(Hex(out.substr(3 + offset, 2)), "12 34");
}

TEST(EncodePublishTest, PatchingThePacketIdGivesTheSameBytesAsEncodingIt) {
  const std::string large(200'000, 'L');
  const StringPair user[] = {{"k", "v"}};
  for (ProtocolVersion v : test::kAllVersions) {
    for (QoS qos : {QoS::kAtLeastOnce, QoS::kExactlyOnce}) {
      for (std::string_view payload :
           {std::string_view(), std::string_view("hello"), std::string_view(large)}) {
        PublishPacket p{.topic = "fan/out", .qos = qos, .packet_id = 1, .payload = payload};
        if (IsV5(v)) p.properties.user_properties = UserProperties(user);
        std::string shared;
        const size_t offset = Encode(p, v, &shared);
        for (uint16_t id : {uint16_t{42}, uint16_t{0x0100}, uint16_t{65'535}}) {
          p.packet_id = id;
          std::string patched = shared;
          SetPacketId(patched.data(), offset, id);
          EXPECT_EQ(patched, EncodeToString(p, v))
              << ProtocolVersionName(v) << " qos " << static_cast<int>(qos) << " id " << id
              << " payload " << payload.size();
        }
      }
    }
  }
}

TEST(EncodeAckTest, ShortestMqtt5Forms) {
  // §3.4.2.1: Success without properties is Remaining Length 2.
  ExpectBytes(PubackPacket{.packet_id = 1}, k5, "40 02 00 01");
  ExpectBytes(PubrecPacket{.packet_id = 1}, k5, "50 02 00 01");
  ExpectBytes(PubrelPacket{.packet_id = 1}, k5, "62 02 00 01");
  ExpectBytes(PubcompPacket{.packet_id = 1}, k5, "70 02 00 01");
  // A reason code alone: Remaining Length 3, no Property Length.
  ExpectBytes(PubackPacket{.packet_id = 1, .reason_code = ReasonCode::kNoMatchingSubscribers}, k5,
              "40 03 00 01 10");
  // Properties force the reason code, even Success.
  ExpectBytes(PubackPacket{.packet_id = 1, .properties = {.reason_string = "x"}}, k5,
              "40 08 00 01 00 04 1f 00 01 'x'");
}

TEST(EncodeAckTest, Version3LeavesOutReasonAndProperties) {
  for (ProtocolVersion v : {k31, k311}) {
    ExpectBytes(PubackPacket{.packet_id = 1,
                             .reason_code = ReasonCode::kNoMatchingSubscribers,
                             .properties = {.reason_string = "x"}},
                v, "40 02 00 01");
    ExpectBytes(PubrelPacket{.packet_id = 0x0203}, v, "62 02 02 03");
    ExpectBytes(UnsubackPacket{.packet_id = 1, .reason_codes = {ReasonCode::kSuccess}}, v,
                "b0 02 00 01");
  }
}

TEST(EncodeSubscribeTest, OptionsByte) {
  // §3.8.3.1.
  const SubscriptionOptions all{.max_qos = QoS::kExactlyOnce,
                                .no_local = true,
                                .retain_as_published = true,
                                .retain_handling = RetainHandling::kDoNotSend};
  EXPECT_EQ(EncodeSubscriptionOptions(all, k5), 0x2e);
  EXPECT_EQ(
      EncodeSubscriptionOptions({.retain_handling = RetainHandling::kSendIfNewSubscription}, k5),
      0x10);
  EXPECT_EQ(EncodeSubscriptionOptions({.no_local = true}, k5), 0x04);
  EXPECT_EQ(EncodeSubscriptionOptions({.retain_as_published = true}, k5), 0x08);
  // 3.1.1 has only the QoS bits [MQTT-3.8.3-4].
  EXPECT_EQ(EncodeSubscriptionOptions(all, k311), 0x02);

  const uint32_t id[] = {300};
  ExpectBytes(SubscribePacket{.packet_id = 1,
                              .properties = {.subscription_ids = SubscriptionIds(id)},
                              .subscriptions = {{"a/b", all}}},
              k5, "82 0c 00 01 03 0b ac 02 00 03 'a/b' 2e");
  ExpectBytes(SubscribePacket{.packet_id = 10,
                              .subscriptions = {{"a/b", {.max_qos = QoS::kAtLeastOnce}},
                                                {"c/d", {.max_qos = QoS::kExactlyOnce}}}},
              k311, "82 0e 00 0a 00 03 'a/b' 01 00 03 'c/d' 02");
}

TEST(EncodeSubackTest, Version3MapsEveryFailureTo0x80) {
  // 3.1.1 §3.9.3: 0x00, 0x01, 0x02, or 0x80 Failure.
  const SubackPacket s{.packet_id = 1,
                       .reason_codes = {ReasonCode::kGrantedQoS1, ReasonCode::kNotAuthorized,
                                        ReasonCode::kQuotaExceeded, ReasonCode::kTopicFilterInvalid,
                                        ReasonCode::kSuccess, ReasonCode::kGrantedQoS2,
                                        ReasonCode::kUnspecifiedError}};
  ExpectBytes(s, k311, "90 09 00 01 01 80 80 80 00 02 80");
  ExpectBytes(s, k5, "90 0a 00 01 00 01 87 97 8f 00 02 80");
}

TEST(EncodeUnsubscribeTest, Vectors) {
  ExpectBytes(UnsubscribePacket{.packet_id = 10, .filters = {"a/b", "c/d"}}, k311,
              "a2 0c 00 0a 00 03 'a/b' 00 03 'c/d'");
  ExpectBytes(UnsubscribePacket{.packet_id = 10, .filters = {"a/b"}}, k5,
              "a2 08 00 0a 00 00 03 'a/b'");
  ExpectBytes(
      UnsubackPacket{.packet_id = 1,
                     .reason_codes = {ReasonCode::kSuccess, ReasonCode::kNoSubscriptionExisted}},
      k5, "b0 05 00 01 00 00 11");
}

TEST(EncodeTest, PingDisconnectAndAuth) {
  for (ProtocolVersion v : test::kAllVersions) {
    ExpectBytes(PingreqPacket{}, v, "c0 00");
    ExpectBytes(PingrespPacket{}, v, "d0 00");
  }
  // §3.14.2.1: Normal disconnection without properties is Remaining Length 0.
  ExpectBytes(DisconnectPacket{}, k5, "e0 00");
  ExpectBytes(DisconnectPacket{.reason_code = ReasonCode::kDisconnectWithWillMessage}, k5,
              "e0 01 04");
  ExpectBytes(DisconnectPacket{.properties = {.session_expiry_interval = 60}}, k5,
              "e0 07 00 05 11 00 00 00 3c");
  // 3.1.1 DISCONNECT has no variable header.
  ExpectBytes(DisconnectPacket{.reason_code = ReasonCode::kServerShuttingDown}, k311, "e0 00");
  // §3.15.2.1: AUTH Success without properties is Remaining Length 0.
  ExpectBytes(AuthPacket{}, k5, "f0 00");
  ExpectBytes(
      AuthPacket{.reason_code = ReasonCode::kContinueAuthentication,
                 .properties = {.authentication_method = "SCRA", .authentication_data = "x"}},
      k5, "f0 0d 18 0b 15 00 04 'SCRA' 16 00 01 'x'");
}

TEST(EncodedSizeTest, MatchesTheEncodedBytes) {
  // Payload sizes around each Remaining Length boundary (127/128, 16383/16384, 2097151/...).
  std::vector<std::string> payloads;
  for (size_t size : {size_t{0}, size_t{121}, size_t{122}, size_t{123}, size_t{16'376},
                      size_t{16'377}, size_t{16'378}, size_t{2'097'144}, size_t{2'097'146}}) {
    payloads.emplace_back(size, 'b');
  }
  std::vector<Packet> packets;
  for (const std::string& payload : payloads) {
    packets.push_back(PublishPacket{.topic = "a/b", .payload = payload});
    packets.push_back(PublishPacket{
        .topic = "a/b", .qos = QoS::kAtLeastOnce, .packet_id = 1, .payload = payload});
  }
  const StringPair user[] = {{"name", "value"}};
  packets.push_back(ConnectPacket{.client_id = "c",
                                  .will = Will{.topic = "w", .payload = "p"},
                                  .username = "u",
                                  .password = "p",
                                  .properties = {.user_properties = UserProperties(user)}});
  packets.push_back(ConnackPacket{.properties = {.reason_string = "r"}});
  packets.push_back(PubackPacket{.packet_id = 1});
  packets.push_back(PubrecPacket{.packet_id = 1, .reason_code = ReasonCode::kQuotaExceeded});
  packets.push_back(PubrelPacket{.packet_id = 1, .properties = {.reason_string = "r"}});
  packets.push_back(PubcompPacket{.packet_id = 1});
  packets.push_back(SubscribePacket{.packet_id = 1, .subscriptions = {{"a", {}}, {"b/#", {}}}});
  packets.push_back(SubackPacket{.packet_id = 1, .reason_codes = {ReasonCode::kGrantedQoS1}});
  packets.push_back(UnsubscribePacket{.packet_id = 1, .filters = {"a", "b"}});
  packets.push_back(UnsubackPacket{.packet_id = 1, .reason_codes = {ReasonCode::kSuccess}});
  packets.push_back(PingreqPacket{});
  packets.push_back(PingrespPacket{});
  packets.push_back(DisconnectPacket{.reason_code = ReasonCode::kSessionTakenOver});
  packets.push_back(AuthPacket{.reason_code = ReasonCode::kReAuthenticate});
  int checked = 0;
  for (ProtocolVersion v : test::kAllVersions) {
    for (const Packet& p : packets) {
      EXPECT_EQ(EncodedSize(p, v), EncodeToString(p, v).size())
          << test::Describe(p) << " in " << ProtocolVersionName(v);
      ++checked;
    }
  }
  EXPECT_EQ(checked, 3 * 32);
  // The boundaries really were crossed: a 2-, 3- and 4-byte Remaining Length.
  const std::string p127(122, 'x'), p128(123, 'x');
  EXPECT_EQ(EncodeToString(PublishPacket{.topic = "a/b", .payload = p127}, k311).size(), 129u);
  EXPECT_EQ(EncodeToString(PublishPacket{.topic = "a/b", .payload = p128}, k311).size(), 131u);
}

TEST(EncodeTest, AppendsToTheOutputBuffer) {
  std::string out = "prefix";
  Encode(PingreqPacket{}, k311, &out);
  Encode(PubackPacket{.packet_id = 2}, k311, &out);
  EXPECT_EQ(out, "prefix" + Bytes("c0 00 40 02 00 02"));
}

}  // namespace
}  // namespace simq::protocol
