// Message Expiry Interval (§3.3.2.3.3): forwarded as what is left of it, expired messages never
// delivered (online, queued behind the in-flight window, offline queue), messages without it
// carry none, and the server's cap (mqtt.max_message_expiry_interval).

#include <functional>

#include <gtest/gtest.h>

#include "broker/core/broker.h"
#include "broker/core/stats.h"
#include "broker/server/test_util.h"
#include "broker/testing/coro.h"

namespace simq::server {
namespace {

using core::DropReason;
using testing::BrokerFixture;
using testing::RunCoroutine;

protocol::Properties MessageExpiry(uint32_t seconds) {
  protocol::Properties p;
  p.message_expiry_interval = seconds;
  return p;
}

ConnectOptions NoKeepAlive(ConnectOptions o) {
  o.keep_alive_seconds = 0;
  return o;
}

ConnectOptions Persistent(BrokerFixture& broker, std::string id,
                          ProtocolVersion version = ProtocolVersion::kMqtt5) {
  ConnectOptions o = NoKeepAlive(broker.Options(std::move(id), version));
  o.clean_start = false;
  if (version == ProtocolVersion::kMqtt5) o.properties = ExpiryProps(3600);
  return o;
}

asio::awaitable<client::ConnackResult> MustConnect(Client& c, ConnectOptions o) {
  auto connack = co_await c.Connect(std::move(o));
  EXPECT_TRUE(connack.ok()) << connack.status();
  if (!connack.ok()) co_return client::ConnackResult{};
  EXPECT_EQ(connack->reason_code, ReasonCode::kSuccess);
  co_return std::move(*connack);
}

asio::awaitable<void> PublishOk(Client& c, Message m) {
  auto r = co_await c.Publish(std::move(m));
  EXPECT_TRUE(r.ok()) << r.status();
}

// The next message, which must carry `payload`; its Message Expiry Interval (nullopt if absent
// or if none arrived).
asio::awaitable<std::optional<uint32_t>> ExpectNext(Client& c, std::string payload) {
  auto m = co_await c.Receive(5s);
  EXPECT_TRUE(m.ok()) << m.status() << " (waiting for " << payload << ")";
  if (!m.ok()) co_return std::nullopt;
  EXPECT_EQ(m->payload, payload);
  co_return m->properties.view().message_expiry_interval;
}

// Proves nothing else is on its way to `sub` (see the other tests of this package).
asio::awaitable<void> ExpectFenceNext(Client& sub, Client& pub, std::string topic) {
  EXPECT_TRUE((co_await pub.Publish(Msg(topic, "fence", QoS::kAtLeastOnce))).ok());
  auto m = co_await sub.Receive(5s);
  EXPECT_TRUE(m.ok()) << m.status();
  if (m.ok()) EXPECT_EQ(m->payload, "fence") << "unexpected message on " << m->topic;
}

TEST(ExpiryTest, ForwardedAsTheRemainingInterval) {
  BrokerFixture broker(testing::TestConfig(), /*fake_clock=*/true);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto sub = Client::Create(ex);
    co_await MustConnect(*sub, Persistent(broker, "rem"));
    EXPECT_TRUE((co_await sub->Subscribe(Sub("rem/#", QoS::kAtLeastOnce))).ok());
    auto pub = Client::Create(ex);
    co_await MustConnect(*pub, NoKeepAlive(broker.Options(SameHomeAs(broker, "rem", "rem-pub"))));

    // Online, no time spent: the interval as published.
    co_await PublishOk(*pub, Msg("rem/t", "online", QoS::kAtLeastOnce, false, MessageExpiry(60)));
    EXPECT_EQ(co_await ExpectNext(*sub, "online"), std::optional<uint32_t>(60));

    EXPECT_TRUE((co_await sub->Disconnect()).ok());
    EXPECT_TRUE(co_await WaitConnected(broker, 1));
    co_await PublishOk(*pub, Msg("rem/t", "offline", QoS::kAtLeastOnce, false, MessageExpiry(60)));
    broker.clock()->Advance(std::chrono::seconds(20));
    broker.Tick();
    EXPECT_TRUE((co_await MustConnect(*sub, Persistent(broker, "rem"))).session_present);
    // [MQTT-3.3.2-6]: the received value minus the time spent waiting in the server.
    EXPECT_EQ(co_await ExpectNext(*sub, "offline"), std::optional<uint32_t>(40));
  });
}

class ExpiryVersionTest : public ::testing::TestWithParam<ProtocolVersion> {};

TEST_P(ExpiryVersionTest, ExpiredMessagesAreNotDeliveredFromTheOfflineQueue) {
  BrokerFixture broker(testing::TestConfig(), /*fake_clock=*/true);
  const ProtocolVersion version = GetParam();
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto sub = Client::Create(ex);
    co_await MustConnect(*sub, Persistent(broker, "oqx", version));
    EXPECT_TRUE((co_await sub->Subscribe(Sub("oqx/#", QoS::kExactlyOnce))).ok());
    EXPECT_TRUE((co_await sub->Disconnect()).ok());
    EXPECT_TRUE(co_await WaitConnected(broker, 0));

    auto pub = Client::Create(ex);
    co_await MustConnect(*pub, NoKeepAlive(broker.Options(SameHomeAs(broker, "oqx", "oqx-pub"))));
    co_await PublishOk(*pub, Msg("oqx/t", "short", QoS::kAtLeastOnce, false, MessageExpiry(10)));
    co_await PublishOk(*pub, Msg("oqx/t", "long", QoS::kExactlyOnce, false, MessageExpiry(100)));
    co_await PublishOk(*pub, Msg("oqx/t", "forever", QoS::kAtLeastOnce));
    broker.clock()->Advance(std::chrono::seconds(11));
    broker.Tick();

    EXPECT_TRUE((co_await MustConnect(*sub, Persistent(broker, "oqx", version))).session_present);
    std::optional<uint32_t> long_expiry = co_await ExpectNext(*sub, "long");  // [MQTT-3.3.2-5]
    std::optional<uint32_t> no_expiry = co_await ExpectNext(*sub, "forever");
    if (version == ProtocolVersion::kMqtt5) {
      EXPECT_EQ(long_expiry, std::optional<uint32_t>(89));
      EXPECT_EQ(no_expiry, std::nullopt);
    }
    co_await ExpectFenceNext(*sub, *pub, "oqx/fence");
    EXPECT_EQ(Dropped(broker, DropReason::kExpired), 1u);
  });
}

TEST(ExpiryTest, ExpiredMessagesGiveUpTheirQueueRoom) {
  config::Config config = testing::TestConfig();
  config.queues.max_queued_messages = 2;  // drop_new
  BrokerFixture broker(config, /*fake_clock=*/true);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto sub = Client::Create(ex);
    co_await MustConnect(*sub, Persistent(broker, "room"));
    EXPECT_TRUE((co_await sub->Subscribe(Sub("room/#", QoS::kAtLeastOnce))).ok());
    EXPECT_TRUE((co_await sub->Disconnect()).ok());
    EXPECT_TRUE(co_await WaitConnected(broker, 0));

    auto pub = Client::Create(ex);
    co_await MustConnect(*pub, NoKeepAlive(broker.Options(SameHomeAs(broker, "room", "room-pub"))));
    co_await PublishOk(*pub, Msg("room/t", "old1", QoS::kAtLeastOnce, false, MessageExpiry(10)));
    co_await PublishOk(*pub, Msg("room/t", "old2", QoS::kAtLeastOnce, false, MessageExpiry(10)));
    broker.clock()->Advance(std::chrono::seconds(11));
    // The queue is full of expired messages: they make room instead of the new one being dropped.
    co_await PublishOk(*pub, Msg("room/t", "new", QoS::kAtLeastOnce));
    EXPECT_EQ(Dropped(broker, DropReason::kExpired), 2u);
    EXPECT_EQ(Dropped(broker, DropReason::kQueueFull), 0u);
    EXPECT_TRUE((co_await MustConnect(*sub, Persistent(broker, "room"))).session_present);
    co_await ExpectNext(*sub, "new");
    co_await ExpectFenceNext(*sub, *pub, "room/fence");
  });
}

INSTANTIATE_TEST_SUITE_P(Versions, ExpiryVersionTest,
                         ::testing::Values(ProtocolVersion::kMqtt5, ProtocolVersion::kMqtt311),
                         VersionName);

TEST(ExpiryTest, ExpiredWhileWaitingForAnInflightSlotIsNotDelivered) {
  BrokerFixture broker(testing::TestConfig(), /*fake_clock=*/true);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto sub = Client::Create(ex);
    ConnectOptions o = NoKeepAlive(broker.Options("slot"));
    o.manual_acks = true;
    protocol::Properties props;
    props.receive_maximum = 1;  // one QoS 1 message in flight at a time
    o.properties = protocol::OwnedProperties(props);
    co_await MustConnect(*sub, o);
    EXPECT_TRUE((co_await sub->Subscribe(Sub("slot/#", QoS::kAtLeastOnce))).ok());
    auto pub = Client::Create(ex);
    co_await MustConnect(*pub, NoKeepAlive(broker.Options(SameHomeAs(broker, "slot", "slot-pub"))));

    co_await PublishOk(*pub, Msg("slot/t", "first", QoS::kAtLeastOnce));
    auto first = co_await sub->Receive(5s);
    EXPECT_TRUE(first.ok()) << first.status();
    if (!first.ok()) co_return;
    // These wait in the session behind the unacknowledged first message.
    co_await PublishOk(*pub, Msg("slot/t", "stale", QoS::kAtLeastOnce, false, MessageExpiry(10)));
    co_await PublishOk(*pub, Msg("slot/t", "fresh", QoS::kAtLeastOnce, false, MessageExpiry(100)));
    broker.clock()->Advance(std::chrono::seconds(11));
    sub->Ack(first->packet_id);
    auto next = co_await sub->Receive(5s);
    EXPECT_TRUE(next.ok()) << next.status();
    if (next.ok()) {
      EXPECT_EQ(next->payload, "fresh");  // [MQTT-3.3.2-5]
      EXPECT_EQ(next->properties.view().message_expiry_interval, std::optional<uint32_t>(89));
      sub->Ack(next->packet_id);
    }
    EXPECT_EQ(Dropped(broker, DropReason::kExpired), 1u);
  });
}

TEST(ExpiryTest, MessagesWithoutExpiryCarryNone) {
  BrokerFixture broker(testing::TestConfig(), /*fake_clock=*/true);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto sub = Client::Create(ex);
    co_await MustConnect(*sub, Persistent(broker, "none"));
    EXPECT_TRUE((co_await sub->Subscribe(Sub("none/#", QoS::kAtLeastOnce))).ok());
    auto pub = Client::Create(ex);
    co_await MustConnect(*pub, NoKeepAlive(broker.Options(SameHomeAs(broker, "none", "none-pub"))));

    co_await PublishOk(*pub, Msg("none/live", "live", QoS::kAtLeastOnce));
    EXPECT_EQ(co_await ExpectNext(*sub, "live"), std::nullopt);

    EXPECT_TRUE((co_await sub->Disconnect()).ok());
    EXPECT_TRUE(co_await WaitConnected(broker, 1));
    co_await PublishOk(*pub, Msg("none/queued", "queued", QoS::kAtLeastOnce));
    co_await PublishOk(*pub, Msg("none/retained", "retained", QoS::kAtLeastOnce, true));
    broker.clock()->Advance(std::chrono::minutes(30));  // within the session's 3600 s
    broker.Tick();
    EXPECT_TRUE((co_await MustConnect(*sub, Persistent(broker, "none"))).session_present);
    EXPECT_EQ(co_await ExpectNext(*sub, "queued"), std::nullopt);
    EXPECT_EQ(co_await ExpectNext(*sub, "retained"), std::nullopt);

    auto late = Client::Create(ex);
    co_await MustConnect(*late, NoKeepAlive(broker.Options("late")));
    EXPECT_TRUE((co_await late->Subscribe(Sub("none/retained", QoS::kAtLeastOnce))).ok());
    EXPECT_EQ(co_await ExpectNext(*late, "retained"), std::nullopt);
    EXPECT_EQ(Dropped(broker, DropReason::kExpired), 0u);
  });
}

// docs/config.md: "a message with a longer interval, or none, expires after this many seconds".
TEST(ExpiryTest, ServerCapOnMessageExpiry) {
  config::Config config = testing::TestConfig();
  config.mqtt.max_message_expiry_interval = 30;
  BrokerFixture broker(config, /*fake_clock=*/true);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto sub = Client::Create(ex);
    co_await MustConnect(*sub, Persistent(broker, "cap"));
    EXPECT_TRUE((co_await sub->Subscribe(Sub("cap/#", QoS::kAtLeastOnce))).ok());
    auto pub = Client::Create(ex);
    co_await MustConnect(*pub, NoKeepAlive(broker.Options(SameHomeAs(broker, "cap", "cap-pub"))));

    co_await PublishOk(*pub, Msg("cap/t", "long", QoS::kAtLeastOnce, false, MessageExpiry(100)));
    EXPECT_EQ(co_await ExpectNext(*sub, "long"), std::optional<uint32_t>(30));
    co_await PublishOk(*pub, Msg("cap/t", "short", QoS::kAtLeastOnce, false, MessageExpiry(10)));
    EXPECT_EQ(co_await ExpectNext(*sub, "short"), std::optional<uint32_t>(10));

    EXPECT_TRUE((co_await sub->Disconnect()).ok());
    EXPECT_TRUE(co_await WaitConnected(broker, 1));
    co_await PublishOk(*pub, Msg("cap/t", "unlimited", QoS::kAtLeastOnce));
    broker.clock()->Advance(std::chrono::seconds(31));
    broker.Tick();
    EXPECT_TRUE((co_await MustConnect(*sub, Persistent(broker, "cap"))).session_present);
    co_await ExpectFenceNext(*sub, *pub, "cap/fence");
    EXPECT_EQ(Dropped(broker, DropReason::kExpired), 1u);
  });
}

TEST(ExpiryTest, ServerCapAppliesToWills) {
  config::Config config = testing::TestConfig();
  config.mqtt.max_message_expiry_interval = 30;
  BrokerFixture broker(config, /*fake_clock=*/true);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto watcher = Client::Create(ex);
    co_await MustConnect(*watcher, NoKeepAlive(broker.Options("watcher")));
    EXPECT_TRUE((co_await watcher->Subscribe(Sub("capwill/#", QoS::kAtLeastOnce))).ok());
    auto c = Client::Create(ex);
    ConnectOptions o = NoKeepAlive(broker.Options("dying"));
    o.will = Msg("capwill/dying", "gone", QoS::kAtLeastOnce);  // no Message Expiry Interval
    co_await MustConnect(*c, o);
    c->Abort();
    EXPECT_EQ(co_await ExpectNext(*watcher, "gone"), std::optional<uint32_t>(30));
  });
}

}  // namespace
}  // namespace simq::server
