// CONNECT and CONNACK: first packet, timeouts, versions, client identifiers, keepalive,
// takeover, limits.

#include <gtest/gtest.h>

#include "broker/server/test_util.h"
#include "broker/testing/coro.h"

namespace simq::server {
namespace {

using testing::BrokerFixture;
using testing::RunCoroutine;

TEST(ConnectTest, FirstPacketMustBeConnect) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = co_await RawConnect(ex, broker.port());
    c->Send(protocol::PingreqPacket{});
    EXPECT_TRUE(co_await c->WaitClosed(5s));  // [MQTT-3.1.0-1]
  });
}

TEST(ConnectTest, SecondConnectIsAProtocolError) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = co_await RawConnect(ex, broker.port());
    OwnedPacket keep;
    EXPECT_TRUE((co_await Handshake(*c, Connect("twice"), &keep)).has_value());
    c->Send(Connect("twice"));
    auto p = co_await c->Receive(5s);
    EXPECT_TRUE(p.ok()) << p.status();
    if (!p.ok()) co_return;
    const auto* d = p->get<protocol::DisconnectPacket>();
    EXPECT_NE(d, nullptr);
    if (d) EXPECT_EQ(d->reason_code, ReasonCode::kProtocolError);  // [MQTT-3.1.0-2]
    EXPECT_TRUE(co_await c->WaitClosed(5s));
  });
}

TEST(ConnectTest, ConnectTimeoutClosesSilentConnections) {
  BrokerFixture broker(testing::TestConfig(), /*fake_clock=*/true);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = co_await RawConnect(ex, broker.port());
    // Wait until the broker has the connection, then let the timeout pass.
    while (broker.broker().open_connections().load() == 0) {
      co_await asio::steady_timer(ex, 5ms).async_wait(asio::use_awaitable);
    }
    broker.Tick();
    EXPECT_FALSE(co_await c->WaitClosed(100ms));
    broker.clock()->Advance(std::chrono::seconds(11));
    broker.Tick();
    EXPECT_TRUE(co_await c->WaitClosed(5s));
  });
}

TEST(ConnectTest, UnsupportedProtocolLevelGetsTheRightConnack) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    // Level 6 (newer than 5): MQTT 5 CONNACK 0x84.
    auto c = co_await RawConnect(ex, broker.port());
    c->SendRaw(std::string("\x10\x0d\x00\x04MQTT\x06\x02\x00\x00\x00\x00\x00", 15));
    auto p = co_await c->Receive(5s);
    EXPECT_TRUE(p.ok()) << p.status();
    if (p.ok()) {
      EXPECT_EQ(p->bytes(), std::string("\x20\x03\x00\x84\x00", 5));
    }
    EXPECT_TRUE(co_await c->WaitClosed(5s));

    // "MQTT" with level 3: a 3.1.1-format CONNACK with return code 0x01 [MQTT-3.1.2-2].
    auto c2 = co_await RawConnect(ex, broker.port(), ProtocolVersion::kMqtt311);
    c2->SendRaw(std::string("\x10\x0c\x00\x04MQTT\x03\x02\x00\x00\x00\x00", 14));
    auto p2 = co_await c2->Receive(5s);
    EXPECT_TRUE(p2.ok()) << p2.status();
    if (p2.ok()) {
      EXPECT_EQ(p2->bytes(), std::string("\x20\x02\x00\x01", 4));
    }
    EXPECT_TRUE(co_await c2->WaitClosed(5s));
  });
}

TEST(ConnectTest, Mqtt31ConnectsAndLimitsClientIdTo23) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = co_await RawConnect(ex, broker.port(), ProtocolVersion::kMqtt31);
    OwnedPacket keep;
    auto connack = co_await Handshake(*c, Connect("client-31", ProtocolVersion::kMqtt31), &keep);
    EXPECT_TRUE(connack.has_value());
    if (connack) EXPECT_EQ(connack->reason_code, ReasonCode::kSuccess);
    EXPECT_EQ(keep.bytes(), std::string("\x20\x02\x00\x00", 4));

    auto c2 = co_await RawConnect(ex, broker.port(), ProtocolVersion::kMqtt31);
    auto refused = co_await Handshake(
        *c2, Connect("a-client-id-longer-than-23", ProtocolVersion::kMqtt31), &keep);
    EXPECT_TRUE(refused.has_value());
    if (refused) EXPECT_EQ(refused->reason_code, ReasonCode::kClientIdentifierNotValid);  // 0x02
    EXPECT_TRUE(co_await c2->WaitClosed(5s));
  });
}

TEST(ConnectTest, EmptyClientIdIsAssignedInMqtt5) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = Client::Create(ex);
    auto connack = co_await c->Connect(broker.Options(""));
    EXPECT_TRUE(connack.ok()) << connack.status();
    if (!connack.ok()) co_return;
    EXPECT_EQ(connack->reason_code, ReasonCode::kSuccess);
    auto assigned = connack->properties.view().assigned_client_identifier;
    EXPECT_TRUE(assigned.has_value());
    if (assigned) EXPECT_FALSE(assigned->empty());  // [MQTT-3.2.2-16]
    // The session works: publish to ourselves through a subscription.
    EXPECT_TRUE((co_await c->Subscribe(Sub("self/#"))).ok());
    EXPECT_TRUE((co_await c->Publish(Msg("self/1", "x"))).ok());
    EXPECT_TRUE((co_await c->Receive(5s)).ok());
  });
}

TEST(ConnectTest, EmptyClientIdRules311) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    // Clean Session 0 with an empty id: return code 0x02 [MQTT-3.1.3-8].
    auto c = co_await RawConnect(ex, broker.port(), ProtocolVersion::kMqtt311);
    OwnedPacket keep;
    auto refused = co_await Handshake(*c, Connect("", ProtocolVersion::kMqtt311, false), &keep);
    EXPECT_TRUE(refused.has_value());
    EXPECT_EQ(keep.bytes(), std::string("\x20\x02\x00\x02", 4));
    EXPECT_TRUE(co_await c->WaitClosed(5s));
    // Clean Session 1: accepted [MQTT-3.1.3-6].
    auto c2 = co_await RawConnect(ex, broker.port(), ProtocolVersion::kMqtt311);
    auto ok = co_await Handshake(*c2, Connect("", ProtocolVersion::kMqtt311, true), &keep);
    EXPECT_TRUE(ok.has_value());
    EXPECT_EQ(keep.bytes(), std::string("\x20\x02\x00\x00", 4));
  });
}

TEST(ConnectTest, KeepAliveIsEnforcedAtOneAndAHalfTimes) {
  BrokerFixture broker(testing::TestConfig(), /*fake_clock=*/true);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = co_await RawConnect(ex, broker.port());
    OwnedPacket keep;
    EXPECT_TRUE((co_await Handshake(*c, Connect("ka", ProtocolVersion::kMqtt5, true, 10), &keep))
                    .has_value());
    broker.clock()->Advance(std::chrono::seconds(14));
    broker.Tick();
    EXPECT_EQ((co_await c->Receive(100ms)).status().code(), absl::StatusCode::kDeadlineExceeded);
    broker.clock()->Advance(std::chrono::seconds(2));  // 16 s > 15 s [MQTT-3.1.2-22]
    broker.Tick();
    auto p = co_await c->Receive(5s);
    EXPECT_TRUE(p.ok()) << p.status();
    if (p.ok()) {
      const auto* d = p->get<protocol::DisconnectPacket>();
      EXPECT_NE(d, nullptr);
      if (d) EXPECT_EQ(d->reason_code, ReasonCode::kKeepAliveTimeout);
    }
    EXPECT_TRUE(co_await c->WaitClosed(5s));
  });
}

TEST(ConnectTest, PingKeepsTheConnectionAlive) {
  BrokerFixture broker(testing::TestConfig(), /*fake_clock=*/true);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = co_await RawConnect(ex, broker.port());
    OwnedPacket keep;
    EXPECT_TRUE((co_await Handshake(*c, Connect("ping", ProtocolVersion::kMqtt5, true, 10), &keep))
                    .has_value());
    for (int i = 0; i < 3; ++i) {
      broker.clock()->Advance(std::chrono::seconds(10));
      c->Send(protocol::PingreqPacket{});
      auto p = co_await c->Receive(5s);
      EXPECT_TRUE(p.ok() && p->type() == protocol::PacketType::kPingresp);
      broker.Tick();
    }
    EXPECT_FALSE(co_await c->WaitClosed(100ms));
  });
}

TEST(ConnectTest, ServerKeepAliveFromConfig) {
  config::Config config = testing::TestConfig();
  config.mqtt.server_keep_alive = 30;
  BrokerFixture broker(config);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = Client::Create(ex);
    ConnectOptions o = broker.Options("ska");
    o.keep_alive_seconds = 300;
    auto connack = co_await c->Connect(o);
    EXPECT_TRUE(connack.ok());
    if (connack.ok()) EXPECT_EQ(connack->properties.view().server_keep_alive, 30);
  });
}

TEST(ConnectTest, TakeoverDisconnectsTheOldConnectionAndKeepsTheSession) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto first = Client::Create(ex);
    ConnectOptions o = broker.Options("same-id");
    o.clean_start = false;
    o.properties = ExpiryProps(600);
    EXPECT_TRUE((co_await first->Connect(o)).ok());
    EXPECT_TRUE((co_await first->Subscribe(Sub("take/#", QoS::kAtLeastOnce))).ok());

    auto second = Client::Create(ex);
    auto connack = co_await second->Connect(o);
    EXPECT_TRUE(connack.ok());
    if (connack.ok()) EXPECT_TRUE(connack->session_present);
    EXPECT_TRUE(co_await first->WaitClosed(5s));
    EXPECT_TRUE(first->server_disconnect().has_value());
    if (first->server_disconnect()) {
      EXPECT_EQ(first->server_disconnect()->reason_code, ReasonCode::kSessionTakenOver);
    }
    // The subscription came along with the session.
    auto pub = Client::Create(ex);
    EXPECT_TRUE((co_await pub->Connect(broker.Options("pub"))).ok());
    EXPECT_TRUE((co_await pub->Publish(Msg("take/1", "after", QoS::kAtLeastOnce))).ok());
    auto m = co_await second->Receive(5s);
    EXPECT_TRUE(m.ok()) << m.status();
    if (m.ok()) EXPECT_EQ(m->payload, "after");
  });
}

TEST(ConnectTest, MaximumConnections) {
  config::Config config = testing::TestConfig();
  config.mqtt.max_connections = 2;
  BrokerFixture broker(config);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto a = Client::Create(ex);
    auto b = Client::Create(ex);
    auto c = Client::Create(ex);
    EXPECT_TRUE((co_await a->Connect(broker.Options("a"))).ok());
    EXPECT_TRUE((co_await b->Connect(broker.Options("b"))).ok());
    auto refused = co_await c->Connect(broker.Options("c"));
    EXPECT_TRUE(refused.ok());
    if (refused.ok()) EXPECT_EQ(refused->reason_code, ReasonCode::kQuotaExceeded);
    EXPECT_TRUE((co_await a->Disconnect()).ok());
    // A slot is free again once the broker has seen the DISCONNECT.
    for (int i = 0; i < 100; ++i) {
      auto again = co_await c->Connect(broker.Options("c"));
      if (again.ok() && again->reason_code == ReasonCode::kSuccess) co_return;
      co_await asio::steady_timer(ex, 10ms).async_wait(asio::use_awaitable);
    }
    ADD_FAILURE() << "no slot after a client left";
  });
}

TEST(ConnectTest, RedirectSendsServerReference) {
  config::Config config = testing::TestConfig();
  config.redirect.enabled = true;
  config.redirect.servers = {"other.example:1883"};
  BrokerFixture broker(config);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = Client::Create(ex);
    auto connack = co_await c->Connect(broker.Options("r"));
    EXPECT_TRUE(connack.ok());
    if (!connack.ok()) co_return;
    EXPECT_EQ(connack->reason_code, ReasonCode::kUseAnotherServer);
    EXPECT_EQ(connack->properties.view().server_reference, "other.example:1883");
  });
}

}  // namespace
}  // namespace simq::server
