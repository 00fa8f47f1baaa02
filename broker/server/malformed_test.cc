// Malformed packets and protocol errors after CONNECT (§4.13): MQTT 5 gets DISCONNECT with the
// reason code the specification names and then the connection closes; MQTT 3.1.1 is just
// closed [MQTT-4.8.0-1] (3.1.1 §4.8).

#include <array>
#include <string>

#include <gtest/gtest.h>

#include "broker/protocol/encoder.h"
#include "broker/server/test_util.h"
#include "broker/testing/coro.h"

namespace simq::server {
namespace {

using testing::BrokerFixture;
using testing::RunCoroutine;

struct Case {
  std::string name;
  std::string bytes;  // sent right after a successful CONNECT
  ReasonCode code;    // MQTT 5 DISCONNECT reason code
};

std::string Bytes(std::string_view s) {
  return std::string(s);
}

std::string Encoded(const protocol::Packet& p, ProtocolVersion version) {
  return protocol::EncodeToString(p, version);
}

protocol::PublishPacket Publish(std::string_view topic, QoS qos = QoS::kAtMostOnce,
                                uint16_t packet_id = 0) {
  protocol::PublishPacket p;
  p.topic = topic;
  p.qos = qos;
  p.packet_id = packet_id;
  p.payload = "x";
  return p;
}

const std::array<uint32_t, 1> kSubscriptionId = {7};

// The cases both versions share, encoded for `version`.
std::vector<Case> CommonCases(ProtocolVersion version) {
  const bool v5 = version == ProtocolVersion::kMqtt5;
  const std::string props = v5 ? Bytes(std::string_view("\x00", 1)) : "";
  std::vector<Case> cases;
  // Remaining Length of five bytes [MQTT-1.5.5-1] / §2.1.4.
  cases.push_back({"remaining length of 5 bytes", Bytes("\x30\xff\xff\xff\xff\x01"),
                   ReasonCode::kMalformedPacket});
  // QoS 3 [MQTT-3.3.1-4].
  cases.push_back({"PUBLISH QoS 3",
                   Bytes(std::string_view("\x36", 1)) + static_cast<char>(5 + props.size()) +
                       Bytes(std::string_view("\x00\x01"
                                              "a\x00\x01",
                                              5)) +
                       props,
                   ReasonCode::kMalformedPacket});
  // DUP on QoS 0 [MQTT-3.3.1-2].
  cases.push_back({"PUBLISH QoS 0 with DUP",
                   Bytes(std::string_view("\x38", 1)) + static_cast<char>(3 + props.size()) +
                       Bytes(std::string_view("\x00\x01"
                                              "a",
                                              3)) +
                       props,
                   ReasonCode::kMalformedPacket});
  // Wildcards in a topic name [MQTT-3.3.2-2].
  cases.push_back(
      {"wildcard in topic name", Encoded(Publish("a/+"), version), ReasonCode::kTopicNameInvalid});
  cases.push_back(
      {"# in topic name", Encoded(Publish("a/#"), version), ReasonCode::kTopicNameInvalid});
  // SUBSCRIBE fixed header flags must be 0010 [MQTT-3.8.1-1].
  cases.push_back({"SUBSCRIBE with wrong flags",
                   Bytes(std::string_view("\x80", 1)) + static_cast<char>(6 + props.size()) +
                       Bytes(std::string_view("\x00\x01", 2)) + props +
                       Bytes(std::string_view("\x00\x01"
                                              "a\x00",
                                              4)),
                   ReasonCode::kMalformedPacket});
  // PUBREL fixed header flags must be 0010 [MQTT-3.6.1-1].
  cases.push_back({"PUBREL with wrong flags", Bytes(std::string_view("\x60\x02\x00\x01", 4)),
                   ReasonCode::kMalformedPacket});
  // Packet Identifier 0 on QoS 1 [MQTT-2.2.1-3].
  cases.push_back({"packet id 0 in QoS 1",
                   Bytes(std::string_view("\x32", 1)) + static_cast<char>(5 + props.size()) +
                       Bytes(std::string_view("\x00\x01"
                                              "a\x00\x00",
                                              5)) +
                       props,
                   ReasonCode::kProtocolError});
  // Ill-formed UTF-8 (an overlong encoding) and U+0000 in a topic [MQTT-1.5.4-1], [MQTT-1.5.4-2].
  cases.push_back({"invalid UTF-8 topic",
                   Bytes(std::string_view("\x30", 1)) + static_cast<char>(4 + props.size()) +
                       Bytes(std::string_view("\x00\x02\xc0\xaf", 4)) + props,
                   ReasonCode::kMalformedPacket});
  cases.push_back({"U+0000 in topic",
                   Bytes(std::string_view("\x30", 1)) + static_cast<char>(5 + props.size()) +
                       Bytes(std::string_view("\x00\x03"
                                              "a\x00"
                                              "b",
                                              5)) +
                       props,
                   ReasonCode::kMalformedPacket});
  // A topic length beyond the packet.
  cases.push_back({"truncated topic",
                   Bytes(std::string_view("\x30\x03\x00\x05"
                                          "a",
                                          5)),
                   ReasonCode::kMalformedPacket});
  // SUBSCRIBE and UNSUBSCRIBE without payload [MQTT-3.8.3-2], [MQTT-3.10.3-2].
  cases.push_back({"SUBSCRIBE without filters",
                   Bytes(std::string_view("\x82", 1)) + static_cast<char>(2 + props.size()) +
                       Bytes(std::string_view("\x00\x01", 2)) + props,
                   ReasonCode::kProtocolError});
  cases.push_back({"UNSUBSCRIBE without filters",
                   Bytes(std::string_view("\xa2", 1)) + static_cast<char>(2 + props.size()) +
                       Bytes(std::string_view("\x00\x01", 2)) + props,
                   ReasonCode::kProtocolError});
  // Packets only a server sends.
  protocol::SubackPacket suback;
  suback.packet_id = 1;
  suback.reason_codes.push_back(ReasonCode::kSuccess);
  cases.push_back({"SUBACK from a client", Encoded(suback, version), ReasonCode::kProtocolError});
  cases.push_back({"CONNACK from a client", Encoded(protocol::ConnackPacket{}, version),
                   ReasonCode::kProtocolError});
  cases.push_back({"PINGRESP from a client", Encoded(protocol::PingrespPacket{}, version),
                   ReasonCode::kProtocolError});
  // Packet type 0 is reserved (§2.1.2).
  cases.push_back({"reserved packet type", Bytes(std::string_view("\x00\x00", 2)),
                   ReasonCode::kMalformedPacket});
  return cases;
}

std::vector<Case> Mqtt5Cases() {
  std::vector<Case> cases = CommonCases(ProtocolVersion::kMqtt5);
  // A Subscription Identifier in a PUBLISH from a client [MQTT-3.3.4-6].
  protocol::PublishPacket with_id = Publish("a");
  with_id.properties.subscription_ids = protocol::SubscriptionIds(kSubscriptionId);
  cases.push_back({"subscription identifier in PUBLISH", Encoded(with_id, ProtocolVersion::kMqtt5),
                   ReasonCode::kProtocolError});
  // A property PUBLISH cannot carry (Session Expiry Interval) §2.2.2.2.
  cases.push_back({"session expiry interval in PUBLISH",
                   Bytes(std::string_view("\x30\x09\x00\x01"
                                          "a\x05\x11\x00\x00\x00\x01",
                                          11)),
                   ReasonCode::kMalformedPacket});
  // A property that may appear once, twice (§2.2.2.2).
  cases.push_back({"content type twice",
                   Bytes(std::string_view("\x30\x0c\x00\x01"
                                          "a\x08\x03\x00\x01"
                                          "x\x03\x00\x01"
                                          "y",
                                          14)),
                   ReasonCode::kProtocolError});
  // No Local on a shared subscription [MQTT-3.8.3-4].
  cases.push_back({"no local on a shared subscription",
                   Bytes(std::string_view("\x82\x10\x00\x01\x00\x00\x0a$share/g/a\x04", 18)),
                   ReasonCode::kProtocolError});
  // Empty topic without a Topic Alias [MQTT-3.3.2-1] / §3.3.4.
  cases.push_back({"empty topic without alias", Encoded(Publish(""), ProtocolVersion::kMqtt5),
                   ReasonCode::kProtocolError});
  return cases;
}

// Each case on its own connection: DISCONNECT(code), then closed.
TEST(MalformedTest, Mqtt5MalformedPacketsGetDisconnectWithTheReasonCode) {
  BrokerFixture broker;
  const std::vector<Case> cases = Mqtt5Cases();
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    for (const Case& c : cases) {
      auto conn = co_await RawConnect(ex, broker.port());
      OwnedPacket keep;
      auto connack = co_await Handshake(*conn, Connect("malformed-5"), &keep);
      EXPECT_TRUE(connack.has_value() && connack->reason_code == ReasonCode::kSuccess) << c.name;
      conn->SendRaw(c.bytes);
      auto p = co_await conn->Receive(5s);
      EXPECT_TRUE(p.ok()) << c.name << ": " << p.status();
      if (p.ok()) {
        const auto* d = p->get<protocol::DisconnectPacket>();
        EXPECT_NE(d, nullptr) << c.name << ": got " << protocol::PacketTypeName(p->type());
        if (d) {
          EXPECT_EQ(d->reason_code, c.code)
              << c.name << ": got " << protocol::ReasonCodeName(d->reason_code);
        }
      }
      EXPECT_TRUE(co_await conn->WaitClosed(5s)) << c.name;
    }
  });
}

TEST(MalformedTest, Mqtt311MalformedPacketsCloseTheConnection) {
  BrokerFixture broker;
  const std::vector<Case> cases = CommonCases(ProtocolVersion::kMqtt311);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    for (const Case& c : cases) {
      auto conn = co_await RawConnect(ex, broker.port(), ProtocolVersion::kMqtt311);
      OwnedPacket keep;
      auto connack =
          co_await Handshake(*conn, Connect("malformed-311", ProtocolVersion::kMqtt311), &keep);
      EXPECT_TRUE(connack.has_value() && connack->reason_code == ReasonCode::kSuccess) << c.name;
      conn->SendRaw(c.bytes);
      // No DISCONNECT in 3.1.1: the next thing is the end of the connection.
      auto p = co_await conn->Receive(5s);
      EXPECT_FALSE(p.ok()) << c.name << ": got " << protocol::PacketTypeName(p->type());
      if (!p.ok()) EXPECT_TRUE(absl::IsUnavailable(p.status())) << c.name << ": " << p.status();
    }
  });
}

TEST(MalformedTest, WillIsPublishedWhenTheBrokerClosesForAProtocolError) {
  BrokerFixture broker;
  const std::vector<ProtocolVersion> versions = {ProtocolVersion::kMqtt5,
                                                 ProtocolVersion::kMqtt311};
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto watcher = Client::Create(ex);
    EXPECT_TRUE((co_await watcher->Connect(broker.Options("will-watcher"))).ok());
    EXPECT_TRUE((co_await watcher->Subscribe(Sub("will/#"))).ok());
    for (ProtocolVersion version : versions) {
      auto conn = co_await RawConnect(ex, broker.port(), version);
      protocol::ConnectPacket connect = Connect("will-sender", version);
      connect.will.emplace();
      connect.will->topic = "will/gone";
      connect.will->payload = protocol::ProtocolVersionName(version);
      OwnedPacket keep;
      EXPECT_TRUE((co_await Handshake(*conn, connect, &keep)).has_value());
      conn->SendRaw(
          std::string_view("\x36\x05\x00\x01"
                           "a\x00\x01",
                           7));  // QoS 3 (no props)
      EXPECT_TRUE(co_await conn->WaitClosed(5s));
      // [MQTT-3.1.2-8]: the connection closed without DISCONNECT, so the Will goes out.
      auto m = co_await watcher->Receive(5s);
      EXPECT_TRUE(m.ok()) << m.status();
      if (m.ok()) EXPECT_EQ(m->payload, protocol::ProtocolVersionName(version));
    }
  });
}

}  // namespace
}  // namespace simq::server
