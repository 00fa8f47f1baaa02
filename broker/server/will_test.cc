// The Will Message (§3.1.2.5, §3.1.3.2): when it is published (network loss, keepalive
// timeout, protocol error, takeover, DISCONNECT 0x04) and when not (DISCONNECT 0x00), the Will
// Delay Interval and its race with the session's end, and what the published message carries.

#include <functional>

#include <gtest/gtest.h>

#include "broker/core/broker.h"
#include "broker/server/test_util.h"
#include "broker/testing/coro.h"

namespace simq::server {
namespace {

using testing::BrokerFixture;
using testing::RunCoroutine;

uint64_t WillsPublished(BrokerFixture& broker) {
  return broker.broker().Snapshot().wills_published;
}

protocol::OwnedProperties WillProps(std::optional<uint32_t> delay) {
  protocol::Properties p;
  p.will_delay_interval = delay;
  return protocol::OwnedProperties(p);
}

// A client with a Will on `topic`; in MQTT 5 with Session Expiry `expiry` and Will Delay
// `delay`; no keepalive unless asked, so fake-clock jumps do not end the connection.
ConnectOptions WithWill(BrokerFixture& broker, std::string id, std::string topic,
                        ProtocolVersion version = ProtocolVersion::kMqtt5, uint32_t expiry = 0,
                        std::optional<uint32_t> delay = std::nullopt, QoS qos = QoS::kAtLeastOnce,
                        bool retain = false) {
  ConnectOptions o = broker.Options(std::move(id), version);
  o.keep_alive_seconds = 0;
  o.clean_start = expiry == 0;
  if (version == ProtocolVersion::kMqtt5) {
    o.properties = ExpiryProps(expiry);
    o.will = Msg(std::move(topic), "gone", qos, retain, WillProps(delay).view());
  } else {
    o.will = Msg(std::move(topic), "gone", qos, retain);
  }
  return o;
}

ConnectOptions NoKeepAlive(ConnectOptions o) {
  o.keep_alive_seconds = 0;
  return o;
}

asio::awaitable<client::ConnackResult> MustConnect(Client& c, ConnectOptions o) {
  auto connack = co_await c.Connect(std::move(o));
  EXPECT_TRUE(connack.ok()) << connack.status();
  if (!connack.ok()) co_return client::ConnackResult{};
  EXPECT_EQ(connack->reason_code, ReasonCode::kSuccess);
  co_return std::move(*connack);
}

// A connected client subscribed to `filter` (QoS `qos`).
asio::awaitable<std::shared_ptr<Client>> Watcher(BrokerFixture& broker, std::string id,
                                                 std::string filter, QoS qos = QoS::kAtLeastOnce) {
  auto ex = co_await asio::this_coro::executor;
  auto c = Client::Create(ex);
  co_await MustConnect(*c, NoKeepAlive(broker.Options(std::move(id))));
  EXPECT_TRUE((co_await c->Subscribe(Sub(std::move(filter), qos))).ok());
  co_return c;
}

// The next message `watcher` receives must be the Will ("gone" on `topic`).
asio::awaitable<void> ExpectWill(Client& watcher, std::string topic) {
  auto m = co_await watcher.Receive(5s);
  EXPECT_TRUE(m.ok()) << m.status() << " (no Will on " << topic << ")";
  if (!m.ok()) co_return;
  EXPECT_EQ(m->topic, topic);
  EXPECT_EQ(m->payload, "gone");
}

// Proves nothing else is on its way to `sub`: `pub` publishes "fence" to `topic` (which `sub`
// subscribes to) and it must be the next message.
asio::awaitable<void> ExpectFenceNext(Client& sub, Client& pub, std::string topic) {
  EXPECT_TRUE((co_await pub.Publish(Msg(topic, "fence", QoS::kAtLeastOnce))).ok());
  auto m = co_await sub.Receive(5s);
  EXPECT_TRUE(m.ok()) << m.status();
  if (m.ok()) EXPECT_EQ(m->payload, "fence") << "unexpected message on " << m->topic;
}

// ---------------------------------------------------------------------------------------------
// When the Will is published, in both versions

class WillVersionTest : public ::testing::TestWithParam<ProtocolVersion> {};

TEST_P(WillVersionTest, PublishedWhenTheNetworkConnectionIsLost) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto watcher = co_await Watcher(broker, "watcher", "will/#");
    auto c = Client::Create(ex);
    co_await MustConnect(*c, WithWill(broker, "abort", "will/abort", GetParam()));
    c->Abort();  // [MQTT-3.1.2-8]: closed without DISCONNECT
    co_await ExpectWill(*watcher, "will/abort");
    EXPECT_EQ(WillsPublished(broker), 1u);
  });
}

TEST_P(WillVersionTest, PublishedOnKeepAliveTimeout) {
  BrokerFixture broker(testing::TestConfig(), /*fake_clock=*/true);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto watcher = co_await Watcher(broker, "watcher", "will/#");
    auto c = Client::Create(ex);
    ConnectOptions o = WithWill(broker, "ka", "will/ka", GetParam());
    o.keep_alive_seconds = 10;
    co_await MustConnect(*c, o);
    broker.clock()->Advance(std::chrono::seconds(16));  // > 1.5 × 10 s [MQTT-3.1.2-22]
    broker.Tick();
    co_await ExpectWill(*watcher, "will/ka");
    EXPECT_TRUE(co_await c->WaitClosed(5s));
  });
}

TEST_P(WillVersionTest, PublishedOnAProtocolError) {
  BrokerFixture broker;
  const ProtocolVersion version = GetParam();
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto watcher = co_await Watcher(broker, "watcher", "will/#");
    auto c = co_await RawConnect(ex, broker.port(), version);
    protocol::ConnectPacket connect = Connect("malformed", version);
    protocol::Will will;
    will.topic = "will/malformed";
    will.payload = "gone";
    will.qos = QoS::kAtLeastOnce;
    connect.will = will;
    OwnedPacket keep;
    EXPECT_TRUE((co_await Handshake(*c, connect, &keep)).has_value());
    // PUBLISH whose topic length (5) runs past the packet's end: Malformed Packet.
    c->SendRaw(std::string("\x30\x02\x00\x05", 4));
    if (version == ProtocolVersion::kMqtt5) {
      auto p = co_await c->Receive(5s);
      EXPECT_TRUE(p.ok()) << p.status();
      const auto* d = p.ok() ? p->get<protocol::DisconnectPacket>() : nullptr;
      EXPECT_NE(d, nullptr);
      if (d) EXPECT_EQ(d->reason_code, ReasonCode::kMalformedPacket);
    }
    EXPECT_TRUE(co_await c->WaitClosed(5s));
    // [MQTT-3.1.2-8]: the server closed the connection because of a protocol error.
    co_await ExpectWill(*watcher, "will/malformed");
  });
}

TEST_P(WillVersionTest, NotPublishedOnNormalDisconnect) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto watcher = co_await Watcher(broker, "watcher", "will/#");
    auto fence = Client::Create(ex);
    co_await MustConnect(*fence, broker.Options(SameHomeAs(broker, "normal", "fence")));
    auto c = Client::Create(ex);
    co_await MustConnect(*c, WithWill(broker, "normal", "will/normal", GetParam()));
    EXPECT_TRUE((co_await c->Disconnect()).ok());
    EXPECT_TRUE(co_await WaitConnected(broker, 2));
    // [MQTT-3.1.2-10], [MQTT-3.14.4-3]: DISCONNECT 0x00 deletes the Will.
    co_await ExpectFenceNext(*watcher, *fence, "will/fence");
    EXPECT_EQ(WillsPublished(broker), 0u);
  });
}

INSTANTIATE_TEST_SUITE_P(Versions, WillVersionTest,
                         ::testing::Values(ProtocolVersion::kMqtt5, ProtocolVersion::kMqtt311),
                         VersionName);

// ---------------------------------------------------------------------------------------------
// MQTT 5: takeover, DISCONNECT 0x04, Will Delay Interval

TEST(WillTest, OldConnectionsWillIsPublishedOnTakeover) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto watcher = co_await Watcher(broker, "watcher", "will/#");
    auto old = Client::Create(ex);
    co_await MustConnect(*old,
                         WithWill(broker, "taken", "will/taken", ProtocolVersion::kMqtt5, 600, 0));
    auto fresh = Client::Create(ex);
    ConnectOptions o = NoKeepAlive(broker.Options("taken"));
    o.clean_start = false;
    o.properties = ExpiryProps(600);
    auto connack = co_await MustConnect(*fresh, o);
    EXPECT_TRUE(connack.session_present);
    EXPECT_TRUE(co_await old->WaitClosed(5s));
    // Will Delay 0: published as the old connection closes [MQTT-3.1.2-8], [MQTT-3.1.4-3].
    co_await ExpectWill(*watcher, "will/taken");
    EXPECT_EQ(WillsPublished(broker), 1u);
  });
}

TEST(WillTest, TakeoverWithinTheWillDelayCancelsTheWill) {
  BrokerFixture broker(testing::TestConfig(), /*fake_clock=*/true);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto watcher = co_await Watcher(broker, "watcher", "will/#");
    auto fence = Client::Create(ex);
    co_await MustConnect(*fence, NoKeepAlive(broker.Options(SameHomeAs(broker, "taken", "fence"))));
    auto old = Client::Create(ex);
    co_await MustConnect(*old,
                         WithWill(broker, "taken", "will/taken", ProtocolVersion::kMqtt5, 600, 30));
    auto fresh = Client::Create(ex);
    ConnectOptions o = NoKeepAlive(broker.Options("taken"));
    o.clean_start = false;
    o.properties = ExpiryProps(600);
    EXPECT_TRUE((co_await MustConnect(*fresh, o)).session_present);
    EXPECT_TRUE(co_await old->WaitClosed(5s));
    broker.clock()->Advance(std::chrono::seconds(31));
    broker.Tick();
    // [MQTT-3.1.3-9]: a new connection to the session before the delay: no Will.
    co_await ExpectFenceNext(*watcher, *fence, "will/fence");
    EXPECT_EQ(WillsPublished(broker), 0u);
  });
}

TEST(WillTest, PublishedOnDisconnectWithWillMessage) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto watcher = co_await Watcher(broker, "watcher", "will/#");
    auto c = Client::Create(ex);
    co_await MustConnect(*c, WithWill(broker, "x04", "will/x04"));
    EXPECT_TRUE((co_await c->Disconnect(ReasonCode::kDisconnectWithWillMessage)).ok());
    co_await ExpectWill(*watcher, "will/x04");  // [MQTT-3.14.4-3]: only 0x00 deletes it
  });
}

// Only 0x00 deletes the Will [MQTT-3.1.2-8], [MQTT-3.14.4-3]: a client that disconnects with an
// error reason code still has its Will published.
TEST(WillTest, PublishedOnDisconnectWithAnErrorReasonCode) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto watcher = co_await Watcher(broker, "watcher", "will/#");
    auto c = Client::Create(ex);
    co_await MustConnect(*c, WithWill(broker, "x80", "will/x80"));
    EXPECT_TRUE((co_await c->Disconnect(ReasonCode::kUnspecifiedError)).ok());
    co_await ExpectWill(*watcher, "will/x80");
  });
}

TEST(WillTest, DelayIntervalPostponesTheWill) {
  BrokerFixture broker(testing::TestConfig(), /*fake_clock=*/true);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto watcher = co_await Watcher(broker, "watcher", "will/#");
    auto fence = Client::Create(ex);
    co_await MustConnect(*fence,
                         NoKeepAlive(broker.Options(SameHomeAs(broker, "delayed", "fence"))));
    auto c = Client::Create(ex);
    co_await MustConnect(
        *c, WithWill(broker, "delayed", "will/delayed", ProtocolVersion::kMqtt5, 300, 30));
    c->Abort();
    EXPECT_TRUE(co_await WaitConnected(broker, 2));

    broker.clock()->Advance(std::chrono::seconds(29));
    broker.Tick();
    co_await ExpectFenceNext(*watcher, *fence, "will/fence");  // not yet [MQTT-3.1.3-9]
    EXPECT_EQ(WillsPublished(broker), 0u);

    broker.clock()->Advance(std::chrono::seconds(2));  // 31 s
    broker.Tick();
    co_await ExpectWill(*watcher, "will/delayed");
  });
}

TEST(WillTest, ReconnectWithinTheDelayCancelsTheWill) {
  BrokerFixture broker(testing::TestConfig(), /*fake_clock=*/true);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto watcher = co_await Watcher(broker, "watcher", "will/#");
    auto fence = Client::Create(ex);
    co_await MustConnect(*fence, NoKeepAlive(broker.Options(SameHomeAs(broker, "back", "fence"))));
    auto c = Client::Create(ex);
    ConnectOptions o = WithWill(broker, "back", "will/back", ProtocolVersion::kMqtt5, 300, 30);
    co_await MustConnect(*c, o);
    c->Abort();
    EXPECT_TRUE(co_await WaitConnected(broker, 2));
    broker.clock()->Advance(std::chrono::seconds(10));
    broker.Tick();

    o.will.reset();
    EXPECT_TRUE((co_await MustConnect(*c, o)).session_present);
    broker.clock()->Advance(std::chrono::seconds(60));
    broker.Tick();
    co_await ExpectFenceNext(*watcher, *fence, "will/fence");  // [MQTT-3.1.3-9]
    // Cancelled, not postponed: the new connection has no Will, so losing it sends nothing.
    c->Abort();
    EXPECT_TRUE(co_await WaitConnected(broker, 2));
    broker.clock()->Advance(std::chrono::seconds(60));
    broker.Tick();
    co_await ExpectFenceNext(*watcher, *fence, "will/fence");
    EXPECT_EQ(WillsPublished(broker), 0u);
  });
}

// The periodic sweep is housekeeping, not the deadline: a client that comes back after the Will
// Delay Interval ran out does not cancel the Will, even before the sweep sent it.
TEST(WillTest, ReconnectAfterTheDelayDoesNotCancelTheWill) {
  BrokerFixture broker(testing::TestConfig(), /*fake_clock=*/true);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto watcher = co_await Watcher(broker, "watcher", "will/#");
    auto c = Client::Create(ex);
    ConnectOptions o = WithWill(broker, "late", "will/late", ProtocolVersion::kMqtt5, 300, 30);
    co_await MustConnect(*c, o);
    c->Abort();
    EXPECT_TRUE(co_await WaitConnected(broker, 1));
    broker.clock()->Advance(std::chrono::seconds(31));  // no Tick()
    o.will.reset();
    EXPECT_TRUE((co_await MustConnect(*c, o)).session_present);
    co_await ExpectWill(*watcher, "will/late");
  });
}

TEST(WillTest, SentWhenTheSessionEndsBeforeTheDelay) {
  BrokerFixture broker(testing::TestConfig(), /*fake_clock=*/true);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto watcher = co_await Watcher(broker, "watcher", "will/#");
    auto fence = Client::Create(ex);
    co_await MustConnect(*fence,
                         NoKeepAlive(broker.Options(SameHomeAs(broker, "ending", "fence"))));
    auto c = Client::Create(ex);
    co_await MustConnect(
        *c, WithWill(broker, "ending", "will/ending", ProtocolVersion::kMqtt5, 10, 300));
    c->Abort();
    EXPECT_TRUE(co_await WaitConnected(broker, 2));

    broker.clock()->Advance(std::chrono::seconds(9));
    broker.Tick();
    co_await ExpectFenceNext(*watcher, *fence, "will/fence");
    EXPECT_EQ(WillsPublished(broker), 0u);

    broker.clock()->Advance(std::chrono::seconds(2));  // 11 s: the session ends first
    broker.Tick();
    // §3.1.3.2.2: "until the Will Delay Interval has passed or the Session ends, whichever
    // happens first".
    co_await ExpectWill(*watcher, "will/ending");
    EXPECT_EQ(broker.broker().Snapshot().sessions_expired, 1u);
  });
}

TEST(WillTest, SentAtOnceWhenTheSessionEndsWithTheConnection) {
  BrokerFixture broker(testing::TestConfig(), /*fake_clock=*/true);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto watcher = co_await Watcher(broker, "watcher", "will/#");
    auto c = Client::Create(ex);
    // Session Expiry 0: the session ends at disconnect, so the 300 s delay does not apply.
    co_await MustConnect(*c, WithWill(broker, "now", "will/now", ProtocolVersion::kMqtt5, 0, 300));
    c->Abort();
    co_await ExpectWill(*watcher, "will/now");
  });
}

// ---------------------------------------------------------------------------------------------
// What the Will carries

TEST(WillTest, QoSAndRetainAreHonoured) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto watcher = co_await Watcher(broker, "watcher", "will/#", QoS::kExactlyOnce);
    auto c = Client::Create(ex);
    co_await MustConnect(*c, WithWill(broker, "kept", "will/kept", ProtocolVersion::kMqtt5, 0, 0,
                                      QoS::kAtLeastOnce, /*retain=*/true));
    c->Abort();
    auto live = co_await watcher->Receive(5s);
    EXPECT_TRUE(live.ok()) << live.status();
    if (live.ok()) {
      EXPECT_EQ(live->payload, "gone");
      EXPECT_EQ(live->qos, QoS::kAtLeastOnce);  // the Will's QoS (subscription allows 2)
      EXPECT_FALSE(live->retain);               // live delivery without Retain As Published
    }
    // Retained: a later subscriber gets it [MQTT-3.1.2-17].
    auto late = Client::Create(ex);
    co_await MustConnect(*late, broker.Options("late"));
    EXPECT_TRUE((co_await late->Subscribe(Sub("will/#", QoS::kExactlyOnce))).ok());
    auto retained = co_await late->Receive(5s);
    EXPECT_TRUE(retained.ok()) << retained.status();
    if (retained.ok()) {
      EXPECT_EQ(retained->topic, "will/kept");
      EXPECT_EQ(retained->payload, "gone");
      EXPECT_EQ(retained->qos, QoS::kAtLeastOnce);
      EXPECT_TRUE(retained->retain);
    }
  });
}

TEST(WillTest, QoS0WillIsDeliveredAtQoS0) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto watcher = co_await Watcher(broker, "watcher", "will/#", QoS::kExactlyOnce);
    auto c = Client::Create(ex);
    co_await MustConnect(
        *c, WithWill(broker, "q0", "will/q0", ProtocolVersion::kMqtt5, 0, 0, QoS::kAtMostOnce));
    c->Abort();
    auto m = co_await watcher->Receive(5s);
    EXPECT_TRUE(m.ok()) << m.status();
    if (m.ok()) EXPECT_EQ(m->qos, QoS::kAtMostOnce);
    EXPECT_EQ(broker.broker().Snapshot().retained, 0u);  // Will Retain 0: nothing retained
  });
}

struct WillPropertyValues {
  std::vector<protocol::StringPair> user = {{"k1", "v1"}, {"k2", "v2"}, {"k1", "again"}};
  protocol::OwnedProperties Build() const {
    protocol::Properties p;
    p.payload_format_indicator = 1;
    p.message_expiry_interval = 100;
    p.content_type = "text/plain";
    p.response_topic = "reply/here";
    p.correlation_data = std::string_view("\x01\x00\x02", 3);
    p.user_properties = protocol::UserProperties(user);
    p.will_delay_interval = 0;
    return protocol::OwnedProperties(p);
  }
};

TEST(WillTest, WillPropertiesArePassedThrough) {
  BrokerFixture broker(testing::TestConfig(), /*fake_clock=*/true);
  const WillPropertyValues values;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto watcher = co_await Watcher(broker, "watcher", "will/#");
    auto c = Client::Create(ex);
    ConnectOptions o = WithWill(broker, "props", "will/props");
    o.will->properties = values.Build();
    co_await MustConnect(*c, o);
    c->Abort();
    auto m = co_await watcher->Receive(5s);
    EXPECT_TRUE(m.ok()) << m.status();
    if (!m.ok()) co_return;
    // [MQTT-3.1.3-? Will Properties]: sent with the Will Message when it is published.
    const protocol::Properties& p = m->properties.view();
    EXPECT_EQ(p.payload_format_indicator, std::optional<uint8_t>(1));
    EXPECT_EQ(p.message_expiry_interval, std::optional<uint32_t>(100));
    EXPECT_EQ(p.content_type, std::optional<std::string_view>("text/plain"));
    EXPECT_EQ(p.response_topic, std::optional<std::string_view>("reply/here"));
    EXPECT_EQ(p.correlation_data,
              std::optional<std::string_view>(std::string_view("\x01\x00\x02", 3)));
    EXPECT_EQ(p.user_properties.ToVector(), values.user);  // in order, duplicates kept
    EXPECT_EQ(p.will_delay_interval, std::nullopt);        // not a PUBLISH property
  });
}

TEST(WillTest, WillQoSAboveMaximumIsRefused) {
  config::Config config = testing::TestConfig();
  config.mqtt.max_qos = 1;
  BrokerFixture broker(config);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = Client::Create(ex);
    auto connack = co_await c->Connect(WithWill(broker, "q2", "will/q2", ProtocolVersion::kMqtt5, 0,
                                                std::nullopt, QoS::kExactlyOnce));
    EXPECT_TRUE(connack.ok()) << connack.status();
    if (connack.ok())
      EXPECT_EQ(connack->reason_code, ReasonCode::kQoSNotSupported);  // [MQTT-3.2.2-12]
    EXPECT_FALSE(c->connected());
  });
}

TEST(WillTest, WillRetainWithoutRetainAvailableIsRefused) {
  config::Config config = testing::TestConfig();
  config.mqtt.retain_available = false;
  BrokerFixture broker(config);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = Client::Create(ex);
    auto connack = co_await c->Connect(WithWill(broker, "r", "will/r", ProtocolVersion::kMqtt5, 0,
                                                std::nullopt, QoS::kAtMostOnce, /*retain=*/true));
    EXPECT_TRUE(connack.ok()) << connack.status();
    if (connack.ok())
      EXPECT_EQ(connack->reason_code, ReasonCode::kRetainNotSupported);  // [MQTT-3.2.2-13]
    EXPECT_FALSE(c->connected());
  });
}

}  // namespace
}  // namespace simq::server
