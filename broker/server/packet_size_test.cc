// Maximum Packet Size in both directions (MQTT 5 §3.1.2.11.4, §3.2.2.3.6), and the tighter
// limit before CONNECT is accepted (DESIGN §3).

#include <gtest/gtest.h>

#include "broker/core/broker.h"
#include "broker/protocol/encoder.h"
#include "broker/server/test_util.h"
#include "broker/testing/coro.h"

namespace simq::server {
namespace {

using testing::BrokerFixture;
using testing::RunCoroutine;

protocol::OwnedProperties ClientLimits(uint32_t maximum_packet_size, uint16_t receive_maximum) {
  protocol::Properties p;
  p.maximum_packet_size = maximum_packet_size;
  p.receive_maximum = receive_maximum;
  return protocol::OwnedProperties(p);
}

// A PUBLISH with an empty topic and no Topic Alias: a Protocol Error (§3.3.4).
protocol::PublishPacket AliasedEmptyTopic() {
  protocol::PublishPacket p;
  p.payload = "x";
  return p;
}

// A payload that makes a QoS 0 MQTT 5 PUBLISH to `topic` exactly `size` bytes on the wire.
std::string PayloadForSize(std::string_view topic, size_t size) {
  protocol::PublishPacket p;
  p.topic = topic;
  std::string payload;
  p.payload = payload;
  payload.assign(size - protocol::EncodedSize(p, ProtocolVersion::kMqtt5), 'f');
  p.payload = payload;
  while (protocol::EncodedSize(p, ProtocolVersion::kMqtt5) > size) {
    payload.pop_back();
    p.payload = payload;
  }
  return payload;
}

TEST(PacketSizeTest, ConnackAdvertisesMaximumPacketSize) {
  config::Config config = testing::TestConfig();
  config.mqtt.max_packet_size = 2048;
  config.mqtt.max_packet_size_before_connect = 1024;
  BrokerFixture broker(config);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = Client::Create(ex);
    auto connack = co_await c->Connect(broker.Options("mps"));
    EXPECT_TRUE(connack.ok()) << connack.status();
    if (connack.ok()) EXPECT_EQ(connack->properties.view().maximum_packet_size, 2048u);
  });
}

TEST(PacketSizeTest, DefaultLimitIsNotAdvertised) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = Client::Create(ex);
    auto connack = co_await c->Connect(broker.Options("mps-default"));
    EXPECT_TRUE(connack.ok()) << connack.status();
    // Absent means "no limit beyond the protocol's" (§3.2.2.3.6).
    if (connack.ok()) EXPECT_FALSE(connack->properties.view().maximum_packet_size.has_value());
  });
}

TEST(PacketSizeTest, LargerInboundPublishIsPacketTooLarge) {
  config::Config config = testing::TestConfig();
  config.mqtt.max_packet_size = 1024;
  config.mqtt.max_packet_size_before_connect = 1024;
  BrokerFixture broker(config);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto sub = Client::Create(ex);
    EXPECT_TRUE((co_await sub->Connect(broker.Options("big-in-sub"))).ok());
    EXPECT_TRUE((co_await sub->Subscribe(Sub("big/#"))).ok());
    auto c = co_await RawConnect(ex, broker.port());
    OwnedPacket keep;
    EXPECT_TRUE((co_await Handshake(*c, Connect("big-in"), &keep)).has_value());
    // At the limit: accepted.
    std::string exact = PayloadForSize("big/1", 1024);
    protocol::PublishPacket ok;
    ok.topic = "big/1";
    ok.payload = exact;
    EXPECT_EQ(protocol::EncodedSize(ok, ProtocolVersion::kMqtt5), 1024u);
    c->Send(ok);
    auto m = co_await sub->Receive(5s);
    EXPECT_TRUE(m.ok()) << m.status();
    if (m.ok()) EXPECT_EQ(m->payload.size(), exact.size());
    // One byte more: DISCONNECT 0x95 [MQTT-3.2.2-15] / §4.13.
    std::string over(exact.size() + 1, 'o');
    protocol::PublishPacket big;
    big.topic = "big/2";
    big.payload = over;
    c->Send(big);
    auto p = co_await c->Receive(5s);
    EXPECT_TRUE(p.ok()) << p.status();
    if (p.ok()) {
      const auto* d = p->get<protocol::DisconnectPacket>();
      EXPECT_NE(d, nullptr);
      if (d) EXPECT_EQ(d->reason_code, ReasonCode::kPacketTooLarge);
    }
    EXPECT_TRUE(co_await c->WaitClosed(5s));

    // MQTT 3.1.1 has no DISCONNECT from the server: the connection just closes.
    auto c311 = co_await RawConnect(ex, broker.port(), ProtocolVersion::kMqtt311);
    EXPECT_TRUE((co_await Handshake(*c311, Connect("big-in-311", ProtocolVersion::kMqtt311), &keep))
                    .has_value());
    std::string over311(exact.size() + 2, 'o');  // 3.1.1 has no property length byte
    big.payload = over311;
    EXPECT_EQ(protocol::EncodedSize(big, ProtocolVersion::kMqtt311), 1025u);
    c311->Send(big);
    auto closed = co_await c311->Receive(5s);
    EXPECT_FALSE(closed.ok()) << "got " << protocol::PacketTypeName(closed->type());
    if (!closed.ok()) EXPECT_TRUE(absl::IsUnavailable(closed.status())) << closed.status();
  });
}

TEST(PacketSizeTest, TighterLimitBeforeConnect) {
  config::Config config = testing::TestConfig();
  config.mqtt.max_packet_size = 64 * 1024;
  config.mqtt.max_packet_size_before_connect = 256;
  BrokerFixture broker(config);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    // A CONNECT under the limit is accepted...
    auto small = co_await RawConnect(ex, broker.port());
    OwnedPacket keep;
    auto connack = co_await Handshake(*small, Connect("small-connect"), &keep);
    EXPECT_TRUE(connack.has_value());
    if (connack) EXPECT_EQ(connack->reason_code, ReasonCode::kSuccess);
    // ...and after CONNECT the larger limit applies.
    std::string payload(1000, 'p');
    protocol::PublishPacket p;
    p.topic = "after/connect";
    p.qos = QoS::kAtLeastOnce;
    p.packet_id = 1;
    p.payload = payload;
    small->Send(p);
    auto ack = co_await small->Receive(5s);
    EXPECT_TRUE(ack.ok() && ack->type() == protocol::PacketType::kPuback);

    // A first packet over the pre-CONNECT limit closes the connection unanswered.
    auto big = co_await RawConnect(ex, broker.port());
    protocol::ConnectPacket connect = Connect("big-connect");
    std::string password(300, 'x');
    connect.password = password;
    big->Send(connect);
    // The broker may say why with CONNACK 0x95 first; it must not accept it.
    auto answer = co_await big->Receive(5s);
    if (answer.ok()) {
      const auto* refused = answer->get<protocol::ConnackPacket>();
      EXPECT_NE(refused, nullptr) << protocol::PacketTypeName(answer->type());
      if (refused) EXPECT_EQ(refused->reason_code, ReasonCode::kPacketTooLarge);
    } else {
      EXPECT_TRUE(absl::IsUnavailable(answer.status())) << answer.status();
    }
    EXPECT_TRUE(co_await big->WaitClosed(5s));
  });
}

TEST(PacketSizeTest, OutboundPublishLargerThanClientMaximumIsNotSent) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto sub = Client::Create(ex);
    ConnectOptions o = broker.Options("small-sub");
    o.properties = ClientLimits(/*maximum_packet_size=*/200, /*receive_maximum=*/100);
    EXPECT_TRUE((co_await sub->Connect(o)).ok());
    EXPECT_TRUE((co_await sub->Subscribe(Sub("out/#"))).ok());
    auto other = Client::Create(ex);
    EXPECT_TRUE((co_await other->Connect(broker.Options("big-sub"))).ok());
    EXPECT_TRUE((co_await other->Subscribe(Sub("out/#"))).ok());

    auto pub = Client::Create(ex);
    EXPECT_TRUE((co_await pub->Connect(broker.Options("out-pub"))).ok());
    const uint64_t before = Dropped(broker, core::DropReason::kTooLarge);
    EXPECT_TRUE((co_await pub->Publish(Msg("out/t", std::string(500, 'L')))).ok());
    EXPECT_TRUE((co_await pub->Publish(Msg("out/t", "small"))).ok());

    // [MQTT-3.1.2-25]: the large one is discarded for the limited client only.
    auto first = co_await sub->Receive(5s);
    EXPECT_TRUE(first.ok()) << first.status();
    if (first.ok()) EXPECT_EQ(first->payload, "small");
    auto big = co_await other->Receive(5s);
    EXPECT_TRUE(big.ok()) << big.status();
    if (big.ok()) EXPECT_EQ(big->payload.size(), 500u);
    auto small = co_await other->Receive(5s);
    EXPECT_TRUE(small.ok()) << small.status();
    if (small.ok()) EXPECT_EQ(small->payload, "small");
    EXPECT_EQ(Dropped(broker, core::DropReason::kTooLarge), before + 1);
    EXPECT_TRUE(sub->connected());
  });
}

TEST(PacketSizeTest, OversizedQoS1DoesNotBlockTheInflightWindow) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    // Receive Maximum 1: if the dropped message took the only slot, nothing would follow it.
    auto sub = Client::Create(ex);
    ConnectOptions o = broker.Options("window-sub");
    o.properties = ClientLimits(/*maximum_packet_size=*/200, /*receive_maximum=*/1);
    EXPECT_TRUE((co_await sub->Connect(o)).ok());
    EXPECT_TRUE((co_await sub->Subscribe(Sub("win/#", QoS::kAtLeastOnce))).ok());
    auto pub = Client::Create(ex);
    EXPECT_TRUE((co_await pub->Connect(broker.Options("window-pub"))).ok());
    const uint64_t before = Dropped(broker, core::DropReason::kTooLarge);
    EXPECT_TRUE(
        (co_await pub->Publish(Msg("win/t", std::string(500, 'L'), QoS::kAtLeastOnce))).ok());
    EXPECT_TRUE((co_await pub->Publish(Msg("win/t", "after-1", QoS::kAtLeastOnce))).ok());
    EXPECT_TRUE(
        (co_await pub->Publish(Msg("win/t", std::string(300, 'M'), QoS::kAtLeastOnce))).ok());
    EXPECT_TRUE((co_await pub->Publish(Msg("win/t", "after-2", QoS::kAtLeastOnce))).ok());
    auto a = co_await sub->Receive(5s);
    EXPECT_TRUE(a.ok()) << a.status();
    if (a.ok()) EXPECT_EQ(a->payload, "after-1");
    auto b = co_await sub->Receive(5s);
    EXPECT_TRUE(b.ok()) << b.status();
    if (b.ok()) EXPECT_EQ(b->payload, "after-2");
    EXPECT_EQ(Dropped(broker, core::DropReason::kTooLarge), before + 2);
  });
}

TEST(PacketSizeTest, OversizedMessageQueuedWhileOfflineIsDroppedOnResume) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto sub = Client::Create(ex);
    ConnectOptions o = broker.Options("resume-sub");
    o.clean_start = false;
    protocol::Properties props;
    props.maximum_packet_size = 200;
    props.receive_maximum = 1;
    props.session_expiry_interval = 600;
    o.properties = protocol::OwnedProperties(props);
    EXPECT_TRUE((co_await sub->Connect(o)).ok());
    EXPECT_TRUE((co_await sub->Subscribe(Sub("resume/#", QoS::kAtLeastOnce))).ok());
    EXPECT_TRUE((co_await sub->Disconnect()).ok());

    auto pub = Client::Create(ex);
    EXPECT_TRUE((co_await pub->Connect(broker.Options("resume-pub"))).ok());
    EXPECT_TRUE(
        (co_await pub->Publish(Msg("resume/t", std::string(500, 'L'), QoS::kAtLeastOnce))).ok());
    EXPECT_TRUE((co_await pub->Publish(Msg("resume/t", "queued-small", QoS::kAtLeastOnce))).ok());

    auto connack = co_await sub->Connect(o);
    EXPECT_TRUE(connack.ok() && connack->session_present);
    auto m = co_await sub->Receive(5s);
    EXPECT_TRUE(m.ok()) << m.status();
    if (m.ok()) EXPECT_EQ(m->payload, "queued-small");
  });
}

// [MQTT-3.4.2-2], [MQTT-3.5.2-2], [MQTT-3.14.2-3]: a Reason String is left out when it would
// take the packet over the client's Maximum Packet Size; the reason code still goes.
TEST(PacketSizeTest, ReasonStringsNeverExceedTheClientMaximum) {
  BrokerFixture broker;
  // 1024 is the control: with room, the refusals carry Reason Strings.
  const std::vector<uint32_t> maxima = {1024, 16};
  const std::vector<QoS> qos_levels = {QoS::kAtLeastOnce, QoS::kExactlyOnce};
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    for (uint32_t maximum : maxima) {
      auto c = co_await RawConnect(ex, broker.port());
      protocol::ConnectPacket connect = Connect("tight-acks");
      connect.properties.maximum_packet_size = maximum;
      OwnedPacket keep;
      EXPECT_TRUE((co_await Handshake(*c, connect, &keep)).has_value());
      for (QoS qos : qos_levels) {
        protocol::PublishPacket bad;
        bad.topic = "tight/t";
        bad.qos = qos;
        bad.packet_id = 7;
        bad.payload = std::string_view("\xff\xfe", 2);
        bad.properties.payload_format_indicator = 1;
        c->Send(bad);
        auto ack = co_await c->Receive(5s);
        EXPECT_TRUE(ack.ok()) << ack.status();
        if (!ack.ok()) co_return;
        EXPECT_LE(ack->bytes().size(), maximum);
        const protocol::Properties* props = nullptr;
        ReasonCode code = ReasonCode::kSuccess;
        if (const auto* a = ack->get<protocol::PubackPacket>()) {
          props = &a->properties;
          code = a->reason_code;
        } else if (const auto* r = ack->get<protocol::PubrecPacket>()) {
          props = &r->properties;
          code = r->reason_code;
        }
        EXPECT_NE(props, nullptr) << protocol::PacketTypeName(ack->type());
        if (props == nullptr) co_return;
        EXPECT_EQ(code, ReasonCode::kPayloadFormatInvalid);
        EXPECT_EQ(props->reason_string.has_value(), maximum == 1024) << maximum;
      }
      // A protocol error: DISCONNECT 0x82, with a Reason String only if it fits.
      c->Send(AliasedEmptyTopic());
      auto d = co_await c->Receive(5s);
      EXPECT_TRUE(d.ok()) << d.status();
      if (d.ok()) {
        EXPECT_LE(d->bytes().size(), maximum);
        const auto* disconnect = d->get<protocol::DisconnectPacket>();
        EXPECT_NE(disconnect, nullptr);
        if (disconnect) {
          EXPECT_EQ(disconnect->reason_code, ReasonCode::kProtocolError);
          EXPECT_EQ(disconnect->properties.reason_string.has_value(), maximum == 1024);
        }
      }
      EXPECT_TRUE(co_await c->WaitClosed(5s));
    }
  });
}

// [MQTT-3.2.2-19]: a refusing CONNACK leaves its Reason String out rather than exceed the
// Maximum Packet Size of the CONNECT.
TEST(PacketSizeTest, ConnackReasonStringRespectsTheClientMaximum) {
  config::Config config = testing::TestConfig();
  config.mqtt.max_connections = 1;
  BrokerFixture broker(config);
  const std::vector<uint32_t> maxima = {1024, 16};
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto first = Client::Create(ex);
    EXPECT_TRUE((co_await first->Connect(broker.Options("the-only-one"))).ok());
    for (uint32_t maximum : maxima) {
      auto c = co_await RawConnect(ex, broker.port());
      protocol::ConnectPacket connect = Connect("one-too-many");
      connect.properties.maximum_packet_size = maximum;
      OwnedPacket keep;
      auto connack = co_await Handshake(*c, connect, &keep);
      EXPECT_TRUE(connack.has_value());
      if (!connack) co_return;
      EXPECT_EQ(connack->reason_code, ReasonCode::kQuotaExceeded);
      EXPECT_LE(keep.bytes().size(), maximum);
      EXPECT_EQ(connack->properties.reason_string.has_value(), maximum == 1024) << maximum;
      EXPECT_TRUE(co_await c->WaitClosed(5s));
    }
  });
}

}  // namespace
}  // namespace simq::server
