// Sessions: Clean Start, Session Expiry Interval (CONNECT, DISCONNECT, the server's cap), MQTT
// 3.1.1 Clean Session, and the offline queue of a persistent session (what is queued, its
// limits, the overflow policy and the drop counters).

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

// Options for a session that survives its connection (Clean Start 0, expiry `expiry` in v5,
// Clean Session 0 in 3.1.1), without keepalive so fake-clock jumps do not disconnect it.
ConnectOptions Persistent(BrokerFixture& broker, std::string id, uint32_t expiry,
                          ProtocolVersion version = ProtocolVersion::kMqtt5) {
  ConnectOptions o = broker.Options(std::move(id), version);
  o.clean_start = false;
  o.keep_alive_seconds = 0;
  if (version == ProtocolVersion::kMqtt5) o.properties = ExpiryProps(expiry);
  return o;
}

ConnectOptions NoKeepAlive(ConnectOptions o) {
  o.keep_alive_seconds = 0;
  return o;
}

std::vector<std::string> Split(std::string_view csv) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= csv.size()) {
    size_t comma = csv.find(',', start);
    if (comma == std::string_view::npos) comma = csv.size();
    out.emplace_back(csv.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

// Connects and expects a successful CONNACK; returns it (or a default one after a failure).
asio::awaitable<client::ConnackResult> MustConnect(Client& c, ConnectOptions o) {
  auto connack = co_await c.Connect(std::move(o));
  EXPECT_TRUE(connack.ok()) << connack.status();
  if (!connack.ok()) co_return client::ConnackResult{};
  EXPECT_EQ(connack->reason_code, ReasonCode::kSuccess);
  co_return std::move(*connack);
}

// Receives up to `n` messages; stops early on a timeout or a closed connection.
asio::awaitable<std::vector<Message>> ReceiveN(Client& c, size_t n,
                                               std::chrono::milliseconds timeout = 5s) {
  std::vector<Message> out;
  while (out.size() < n) {
    auto m = co_await c.Receive(timeout);
    EXPECT_TRUE(m.ok()) << m.status() << " after " << out.size() << " of " << n << " messages";
    if (!m.ok()) break;
    out.push_back(std::move(*m));
  }
  co_return out;
}

std::vector<std::string> Payloads(const std::vector<Message>& messages) {
  std::vector<std::string> out;
  for (const Message& m : messages) out.push_back(m.payload);
  return out;
}

// Proves nothing else is on its way to `sub`: `pub` publishes "fence" to `topic` (which `sub`
// subscribes to) and it must be the next message. Whatever was routed to `sub` before through
// `pub`'s worker arrives first.
asio::awaitable<void> ExpectFenceNext(Client& sub, Client& pub, std::string topic) {
  EXPECT_TRUE((co_await pub.Publish(Msg(topic, "fence", QoS::kAtLeastOnce))).ok());
  auto m = co_await sub.Receive(5s);
  EXPECT_TRUE(m.ok()) << m.status();
  if (m.ok()) EXPECT_EQ(m->payload, "fence") << "unexpected message on " << m->topic;
}

// ---------------------------------------------------------------------------------------------
// Clean Start and Session Expiry

TEST(SessionTest, CleanStartDiscardsTheExistingSession) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto sub = Client::Create(ex);
    co_await MustConnect(*sub, Persistent(broker, "cs", 600));
    EXPECT_TRUE((co_await sub->Subscribe(Sub("cs/old", QoS::kAtLeastOnce))).ok());
    EXPECT_TRUE((co_await sub->Disconnect()).ok());
    EXPECT_TRUE(co_await WaitConnected(broker, 0));

    auto pub = Client::Create(ex);
    co_await MustConnect(*pub, broker.Options(SameHomeAs(broker, "cs", "cs-pub")));
    // Queued for the offline session: it must go with the session.
    EXPECT_TRUE((co_await pub->Publish(Msg("cs/old", "queued", QoS::kAtLeastOnce))).ok());

    ConnectOptions clean = Persistent(broker, "cs", 600);
    clean.clean_start = true;
    auto connack = co_await MustConnect(*sub, clean);
    EXPECT_FALSE(connack.session_present);  // [MQTT-3.2.2-2]
    EXPECT_TRUE((co_await sub->Subscribe(Sub("cs/fence", QoS::kAtLeastOnce))).ok());
    EXPECT_TRUE((co_await pub->Publish(Msg("cs/old", "after", QoS::kAtLeastOnce))).ok());
    // Neither the queued message nor the old subscription survived [MQTT-3.1.2-4].
    co_await ExpectFenceNext(*sub, *pub, "cs/fence");
  });
}

TEST(SessionTest, CleanSession1DiscardsTheSession311) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto sub = Client::Create(ex);
    co_await MustConnect(*sub, Persistent(broker, "cs311", 0, ProtocolVersion::kMqtt311));
    EXPECT_TRUE((co_await sub->Subscribe(Sub("cs311/old", QoS::kAtLeastOnce))).ok());
    EXPECT_TRUE((co_await sub->Disconnect()).ok());
    EXPECT_TRUE(co_await WaitConnected(broker, 0));

    ConnectOptions clean = broker.Options("cs311", ProtocolVersion::kMqtt311);
    clean.clean_start = true;
    auto connack = co_await MustConnect(*sub, clean);
    EXPECT_FALSE(connack.session_present);  // [MQTT-3.2.2-1]
    EXPECT_TRUE((co_await sub->Subscribe(Sub("cs311/fence", QoS::kAtLeastOnce))).ok());
    auto pub = Client::Create(ex);
    co_await MustConnect(*pub, broker.Options("cs311-pub"));
    EXPECT_TRUE((co_await pub->Publish(Msg("cs311/old", "after", QoS::kAtLeastOnce))).ok());
    co_await ExpectFenceNext(*sub, *pub, "cs311/fence");
  });
}

TEST(SessionTest, ExpiryZeroEndsTheSessionAtDisconnect) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto sub = Client::Create(ex);
    // Clean Start 0 but no Session Expiry Interval: the session ends with the connection
    // [MQTT-3.1.2-23 note: absent means 0].
    ConnectOptions o = broker.Options("zero");
    o.clean_start = false;
    co_await MustConnect(*sub, o);
    EXPECT_TRUE((co_await sub->Subscribe(Sub("zero/t", QoS::kAtLeastOnce))).ok());
    EXPECT_EQ(broker.broker().Snapshot().sessions, 1);
    EXPECT_TRUE((co_await sub->Disconnect()).ok());
    EXPECT_TRUE(co_await WaitUntil([&] { return broker.broker().Snapshot().sessions == 0; }));

    auto connack = co_await MustConnect(*sub, o);
    EXPECT_FALSE(connack.session_present);
    EXPECT_TRUE((co_await sub->Subscribe(Sub("zero/fence", QoS::kAtLeastOnce))).ok());
    auto pub = Client::Create(ex);
    co_await MustConnect(*pub, broker.Options("zero-pub"));
    EXPECT_TRUE((co_await pub->Publish(Msg("zero/t", "old subscription", QoS::kAtLeastOnce))).ok());
    co_await ExpectFenceNext(*sub, *pub, "zero/fence");
  });
}

TEST(SessionTest, ExpiryIntervalKeepsTheSessionThenRemovesIt) {
  BrokerFixture broker(testing::TestConfig(), /*fake_clock=*/true);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    // Two offline sessions: one of 10 s, one of 60 s.
    auto brief = Client::Create(ex);
    co_await MustConnect(*brief, Persistent(broker, "brief", 10));
    EXPECT_TRUE((co_await brief->Subscribe(Sub("exp/brief", QoS::kAtLeastOnce))).ok());
    auto lasting = Client::Create(ex);
    co_await MustConnect(*lasting, Persistent(broker, "lasting", 60));
    EXPECT_TRUE((co_await lasting->Subscribe(Sub("exp/lasting", QoS::kAtLeastOnce))).ok());
    EXPECT_TRUE((co_await brief->Disconnect()).ok());
    EXPECT_TRUE((co_await lasting->Disconnect()).ok());
    EXPECT_TRUE(co_await WaitConnected(broker, 0));

    broker.clock()->Advance(std::chrono::seconds(9));
    broker.Tick();
    EXPECT_EQ(broker.broker().Snapshot().sessions_expired, 0u);
    EXPECT_EQ(broker.broker().Snapshot().sessions, 2);

    broker.clock()->Advance(std::chrono::seconds(2));  // 11 s: past 10, not 60
    broker.Tick();
    EXPECT_EQ(broker.broker().Snapshot().sessions_expired, 1u);
    EXPECT_EQ(broker.broker().Snapshot().sessions, 1);

    auto connack = co_await MustConnect(*brief, Persistent(broker, "brief", 10));
    EXPECT_FALSE(connack.session_present);  // [MQTT-3.1.2-23]: expired and discarded
    auto kept = co_await MustConnect(*lasting, Persistent(broker, "lasting", 60));
    EXPECT_TRUE(kept.session_present);
    // The kept session still has its subscription.
    auto pub = Client::Create(ex);
    co_await MustConnect(*pub, NoKeepAlive(broker.Options("exp-pub")));
    EXPECT_TRUE((co_await pub->Publish(Msg("exp/lasting", "still here", QoS::kAtLeastOnce))).ok());
    auto m = co_await lasting->Receive(5s);
    EXPECT_TRUE(m.ok()) << m.status();
    if (m.ok()) EXPECT_EQ(m->payload, "still here");
  });
}

// The periodic sweep is housekeeping, not the deadline: a session whose interval has passed is
// gone for a client that reconnects before the next sweep.
TEST(SessionTest, ExpiredSessionIsNotResumedBeforeTheSweep) {
  BrokerFixture broker(testing::TestConfig(), /*fake_clock=*/true);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = Client::Create(ex);
    co_await MustConnect(*c, Persistent(broker, "unswept", 10));
    EXPECT_TRUE((co_await c->Subscribe(Sub("unswept/t", QoS::kAtLeastOnce))).ok());
    EXPECT_TRUE((co_await c->Disconnect()).ok());
    EXPECT_TRUE(co_await WaitConnected(broker, 0));
    broker.clock()->Advance(std::chrono::seconds(11));  // no Tick()
    auto connack = co_await MustConnect(*c, Persistent(broker, "unswept", 10));
    EXPECT_FALSE(connack.session_present);
    EXPECT_EQ(broker.broker().Snapshot().sessions_expired, 1u);
  });
}

TEST(SessionTest, ExpiryMaxValueNeverExpires) {
  BrokerFixture broker(testing::TestConfig(), /*fake_clock=*/true);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = Client::Create(ex);
    co_await MustConnect(*c, Persistent(broker, "forever", protocol::kSessionNeverExpires));
    EXPECT_TRUE((co_await c->Subscribe(Sub("forever/t", QoS::kAtLeastOnce))).ok());
    EXPECT_TRUE((co_await c->Disconnect()).ok());
    EXPECT_TRUE(co_await WaitConnected(broker, 0));
    // Longer than any finite interval (0xFFFFFFFE s) [MQTT-3.1.2-? 0xFFFFFFFF: never expires].
    broker.clock()->Advance(std::chrono::seconds(uint64_t{1} << 32));
    broker.Tick();
    EXPECT_EQ(broker.broker().Snapshot().sessions_expired, 0u);
    auto connack =
        co_await MustConnect(*c, Persistent(broker, "forever", protocol::kSessionNeverExpires));
    EXPECT_TRUE(connack.session_present);
  });
}

TEST(SessionTest, CleanSession0KeepsTheSession311) {
  BrokerFixture broker(testing::TestConfig(), /*fake_clock=*/true);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto sub = Client::Create(ex);
    ConnectOptions o = Persistent(broker, "keep311", 0, ProtocolVersion::kMqtt311);
    auto first = co_await MustConnect(*sub, o);
    EXPECT_FALSE(first.session_present);
    EXPECT_TRUE((co_await sub->Subscribe(Sub("keep311/t", QoS::kAtLeastOnce))).ok());
    EXPECT_TRUE((co_await sub->Disconnect()).ok());
    EXPECT_TRUE(co_await WaitConnected(broker, 0));

    auto pub = Client::Create(ex);
    co_await MustConnect(*pub,
                         NoKeepAlive(broker.Options(SameHomeAs(broker, "keep311", "keep311-pub"))));
    EXPECT_TRUE((co_await pub->Publish(Msg("keep311/t", "while away", QoS::kAtLeastOnce))).ok());
    broker.clock()->Advance(std::chrono::hours(24 * 365));
    broker.Tick();

    auto connack = co_await MustConnect(*sub, o);
    EXPECT_TRUE(connack.session_present);  // [MQTT-3.2.2-2]
    auto m = co_await sub->Receive(5s);
    EXPECT_TRUE(m.ok()) << m.status();
    if (m.ok()) EXPECT_EQ(m->payload, "while away");
  });
}

TEST(SessionTest, DisconnectCanSetExpiryToZero) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = Client::Create(ex);
    ConnectOptions o = Persistent(broker, "d600", 600);
    co_await MustConnect(*c, o);
    EXPECT_TRUE((co_await c->Subscribe(Sub("d600/t"))).ok());
    EXPECT_EQ(broker.broker().Snapshot().sessions, 1);
    EXPECT_TRUE((co_await c->Disconnect(ReasonCode::kSuccess, ExpiryProps(0))).ok());
    // [MQTT-3.14.2-? DISCONNECT Session Expiry Interval]: 0 ends the session now.
    EXPECT_TRUE(co_await WaitUntil([&] { return broker.broker().Snapshot().sessions == 0; }));
    auto connack = co_await MustConnect(*c, o);
    EXPECT_FALSE(connack.session_present);
  });
}

TEST(SessionTest, DisconnectCanShortenTheExpiry) {
  BrokerFixture broker(testing::TestConfig(), /*fake_clock=*/true);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = Client::Create(ex);
    ConnectOptions o = Persistent(broker, "d30", 600);
    co_await MustConnect(*c, o);
    EXPECT_TRUE((co_await c->Disconnect(ReasonCode::kSuccess, ExpiryProps(30))).ok());
    EXPECT_TRUE(co_await WaitConnected(broker, 0));
    broker.clock()->Advance(std::chrono::seconds(31));
    broker.Tick();
    EXPECT_EQ(broker.broker().Snapshot().sessions_expired, 1u);
    auto connack = co_await MustConnect(*c, o);
    EXPECT_FALSE(connack.session_present);
  });
}

TEST(SessionTest, DisconnectFromZeroToNonZeroIsAProtocolError) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = co_await RawConnect(ex, broker.port());
    OwnedPacket keep;
    EXPECT_TRUE((co_await Handshake(*c, Connect("z2n", ProtocolVersion::kMqtt5, false), &keep))
                    .has_value());
    protocol::DisconnectPacket d;
    d.properties.session_expiry_interval = 600;
    c->Send(d);
    auto p = co_await c->Receive(5s);
    EXPECT_TRUE(p.ok()) << p.status();
    if (p.ok()) {
      const auto* answer = p->get<protocol::DisconnectPacket>();
      EXPECT_NE(answer, nullptr);
      if (answer) EXPECT_EQ(answer->reason_code, ReasonCode::kProtocolError);  // [MQTT-3.14.2-2]
    }
    EXPECT_TRUE(co_await c->WaitClosed(5s));
    // The interval stayed 0: the session is gone.
    auto again = Client::Create(ex);
    ConnectOptions o = broker.Options("z2n");
    o.clean_start = false;
    auto connack = co_await MustConnect(*again, o);
    EXPECT_FALSE(connack.session_present);
  });
}

// The rule is about the CONNECT packet's value (§3.14.2.2.2), not the one the server granted:
// a client that asked for 600 and was granted 0 may still send 600 on DISCONNECT.
TEST(SessionTest, DisconnectExpiryAfterAServerCapToZeroIsNoProtocolError) {
  config::Config config = testing::TestConfig();
  config.mqtt.max_session_expiry_interval = 0;
  BrokerFixture broker(config);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = co_await RawConnect(ex, broker.port());
    protocol::ConnectPacket connect = Connect("capped0", ProtocolVersion::kMqtt5, false);
    connect.properties.session_expiry_interval = 600;
    OwnedPacket keep;
    auto connack = co_await Handshake(*c, connect, &keep);
    EXPECT_TRUE(connack.has_value());
    if (connack) EXPECT_EQ(connack->properties.session_expiry_interval, std::optional<uint32_t>(0));
    protocol::DisconnectPacket d;
    d.properties.session_expiry_interval = 600;
    c->Send(d);
    // A valid DISCONNECT: the server just closes, without DISCONNECT 0x82.
    auto p = co_await c->Receive(5s);
    EXPECT_EQ(p.status().code(), absl::StatusCode::kUnavailable)
        << (p.ok() ? "got a packet of type " + std::to_string(static_cast<int>(p->type())) : "");
    // Still capped at 0: the session ended.
    EXPECT_TRUE(co_await WaitUntil([&] { return broker.broker().Snapshot().sessions == 0; }));
  });
}

TEST(SessionTest, ServerCapsTheExpiryAndSaysSoInConnack) {
  config::Config config = testing::TestConfig();
  config.mqtt.max_session_expiry_interval = 100;
  BrokerFixture broker(config, /*fake_clock=*/true);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = Client::Create(ex);
    ConnectOptions o = Persistent(broker, "capped", 600);
    auto connack = co_await MustConnect(*c, o);
    // [MQTT-3.2.2-? Session Expiry Interval in CONNACK]: the value the server uses.
    EXPECT_EQ(connack.properties.view().session_expiry_interval, std::optional<uint32_t>(100));
    EXPECT_TRUE((co_await c->Disconnect()).ok());
    EXPECT_TRUE(co_await WaitConnected(broker, 0));
    broker.clock()->Advance(std::chrono::seconds(101));
    broker.Tick();
    EXPECT_EQ(broker.broker().Snapshot().sessions_expired, 1u);
    EXPECT_FALSE((co_await MustConnect(*c, o)).session_present);

    // Within the cap: granted as asked, and the CONNACK need not repeat it.
    auto within = Client::Create(ex);
    auto granted = co_await MustConnect(*within, Persistent(broker, "within", 50));
    EXPECT_EQ(granted.properties.view().session_expiry_interval, std::nullopt);
  });
}

// ---------------------------------------------------------------------------------------------
// Offline queue

class OfflineQueueTest : public ::testing::TestWithParam<ProtocolVersion> {};

TEST_P(OfflineQueueTest, QoS1And2QueuedAndDeliveredInOrderQoS0Dropped) {
  BrokerFixture broker;
  const ProtocolVersion version = GetParam();
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto sub = Client::Create(ex);
    ConnectOptions o = Persistent(broker, "oq", 600, version);
    co_await MustConnect(*sub, o);
    EXPECT_TRUE((co_await sub->Subscribe(Sub("oq/#", QoS::kExactlyOnce))).ok());
    EXPECT_TRUE((co_await sub->Disconnect()).ok());
    EXPECT_TRUE(co_await WaitConnected(broker, 0));

    auto pub = Client::Create(ex);
    co_await MustConnect(*pub, broker.Options(SameHomeAs(broker, "oq", "oq-pub")));
    EXPECT_TRUE((co_await pub->Publish(Msg("oq/a", "1", QoS::kAtLeastOnce))).ok());
    EXPECT_TRUE((co_await pub->Publish(Msg("oq/b", "2", QoS::kExactlyOnce))).ok());
    EXPECT_TRUE((co_await pub->Publish(Msg("oq/c", "zero", QoS::kAtMostOnce))).ok());
    EXPECT_TRUE((co_await pub->Publish(Msg("oq/a", "3", QoS::kExactlyOnce))).ok());
    EXPECT_TRUE((co_await pub->Publish(Msg("oq/b", "4", QoS::kAtLeastOnce))).ok());
    EXPECT_TRUE(co_await WaitUntil([&] { return Dropped(broker, DropReason::kOfflineQoS0) == 1; }));

    auto connack = co_await MustConnect(*sub, o);
    EXPECT_TRUE(connack.session_present);
    std::vector<Message> got = co_await ReceiveN(*sub, 4);
    EXPECT_EQ(Payloads(got), Split("1,2,3,4"));  // [MQTT-4.6.0-6] order kept
    if (got.size() == 4) {
      EXPECT_EQ(got[0].qos, QoS::kAtLeastOnce);
      EXPECT_EQ(got[1].qos, QoS::kExactlyOnce);
      EXPECT_EQ(got[2].qos, QoS::kExactlyOnce);
      EXPECT_EQ(got[3].qos, QoS::kAtLeastOnce);
    }
    // The QoS 0 message was not queued (queues.queue_qos0 = false): nothing else follows.
    co_await ExpectFenceNext(*sub, *pub, "oq/fence");
    EXPECT_EQ(Dropped(broker, DropReason::kOfflineQoS0), 1u);
  });
}

TEST_P(OfflineQueueTest, QoS0QueuedWhenConfigured) {
  config::Config config = testing::TestConfig();
  config.queues.queue_qos0 = true;
  BrokerFixture broker(config);
  const ProtocolVersion version = GetParam();
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto sub = Client::Create(ex);
    ConnectOptions o = Persistent(broker, "oq0", 600, version);
    co_await MustConnect(*sub, o);
    EXPECT_TRUE((co_await sub->Subscribe(Sub("oq0/#", QoS::kAtLeastOnce))).ok());
    EXPECT_TRUE((co_await sub->Disconnect()).ok());
    EXPECT_TRUE(co_await WaitConnected(broker, 0));

    auto pub = Client::Create(ex);
    co_await MustConnect(*pub, broker.Options(SameHomeAs(broker, "oq0", "oq0-pub")));
    EXPECT_TRUE((co_await pub->Publish(Msg("oq0/t", "a", QoS::kAtMostOnce))).ok());
    EXPECT_TRUE((co_await pub->Publish(Msg("oq0/t", "b", QoS::kAtLeastOnce))).ok());
    EXPECT_TRUE((co_await pub->Publish(Msg("oq0/t", "c", QoS::kAtMostOnce))).ok());
    // The last QoS 1 publish is a barrier: the QoS 0 before it were routed too.
    EXPECT_TRUE((co_await pub->Publish(Msg("oq0/t", "d", QoS::kAtLeastOnce))).ok());

    EXPECT_TRUE((co_await MustConnect(*sub, o)).session_present);
    std::vector<Message> got = co_await ReceiveN(*sub, 4);
    EXPECT_EQ(Payloads(got), Split("a,b,c,d"));
    if (got.size() == 4) EXPECT_EQ(got[0].qos, QoS::kAtMostOnce);
    EXPECT_EQ(Dropped(broker, DropReason::kOfflineQoS0), 0u);
  });
}

INSTANTIATE_TEST_SUITE_P(Versions, OfflineQueueTest,
                         ::testing::Values(ProtocolVersion::kMqtt5, ProtocolVersion::kMqtt311),
                         VersionName);

// Publishes "1".."5" (QoS 1) to a persistent session's offline queue limited by `config`, then
// reconnects and returns what arrives, checked with a fence.
struct OverflowOutcome {
  std::vector<std::string> received;
  uint64_t queue_full = 0;
  uint64_t queue_oldest = 0;
};

OverflowOutcome RunOverflow(const config::Config& config, uint64_t expected_drops) {
  BrokerFixture broker(config);
  OverflowOutcome out;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto sub = Client::Create(ex);
    ConnectOptions o = Persistent(broker, "ovf", 600);
    co_await MustConnect(*sub, o);
    EXPECT_TRUE((co_await sub->Subscribe(Sub("ovf/#", QoS::kAtLeastOnce))).ok());
    EXPECT_TRUE((co_await sub->Disconnect()).ok());
    EXPECT_TRUE(co_await WaitConnected(broker, 0));

    auto pub = Client::Create(ex);
    co_await MustConnect(*pub, broker.Options(SameHomeAs(broker, "ovf", "ovf-pub")));
    for (int i = 1; i <= 5; ++i) {
      // Ten-byte payloads: 5 + 10 bytes per message for the byte limits.
      std::string payload = std::to_string(i) + std::string(9, '.');
      auto r = co_await pub->Publish(Msg("ovf/t", payload, QoS::kAtLeastOnce));
      EXPECT_TRUE(r.ok()) << r.status();
      // The publisher is not told about the subscriber's queue: its PUBACK is a success.
      if (r.ok()) EXPECT_EQ(r->reason_code, ReasonCode::kSuccess);
    }
    EXPECT_TRUE(co_await WaitUntil([&] {
      return Dropped(broker, DropReason::kQueueFull) + Dropped(broker, DropReason::kQueueOldest) ==
             expected_drops;
    }));
    EXPECT_TRUE((co_await MustConnect(*sub, o)).session_present);
    std::vector<Message> got = co_await ReceiveN(*sub, 5 - expected_drops);
    for (const Message& m : got) out.received.push_back(m.payload.substr(0, 1));
    co_await ExpectFenceNext(*sub, *pub, "ovf/fence");
    out.queue_full = Dropped(broker, DropReason::kQueueFull);
    out.queue_oldest = Dropped(broker, DropReason::kQueueOldest);
  });
  return out;
}

TEST(SessionTest, QueueBoundedByCountDropNew) {
  config::Config config = testing::TestConfig();
  config.queues.max_queued_messages = 3;
  config.queues.overflow_policy = config::QueueOverflowPolicy::kDropNew;
  OverflowOutcome out = RunOverflow(config, 2);
  EXPECT_EQ(out.received, Split("1,2,3"));
  EXPECT_EQ(out.queue_full, 2u);
  EXPECT_EQ(out.queue_oldest, 0u);
}

TEST(SessionTest, QueueBoundedByCountDropOldest) {
  config::Config config = testing::TestConfig();
  config.queues.max_queued_messages = 3;
  config.queues.overflow_policy = config::QueueOverflowPolicy::kDropOldest;
  OverflowOutcome out = RunOverflow(config, 2);
  EXPECT_EQ(out.received, Split("3,4,5"));
  EXPECT_EQ(out.queue_oldest, 2u);
  EXPECT_EQ(out.queue_full, 0u);
}

TEST(SessionTest, QueueBoundedByBytesDropNew) {
  config::Config config = testing::TestConfig();
  config.queues.max_queued_messages = 0;  // unlimited count: only bytes bound it
  config.queues.max_queued_bytes = 50;    // three messages of 15 bytes fit, a fourth does not
  config.queues.overflow_policy = config::QueueOverflowPolicy::kDropNew;
  OverflowOutcome out = RunOverflow(config, 2);
  EXPECT_EQ(out.received, Split("1,2,3"));
  EXPECT_EQ(out.queue_full, 2u);
}

TEST(SessionTest, QueueBoundedByBytesDropOldest) {
  config::Config config = testing::TestConfig();
  config.queues.max_queued_messages = 0;
  config.queues.max_queued_bytes = 50;
  config.queues.overflow_policy = config::QueueOverflowPolicy::kDropOldest;
  OverflowOutcome out = RunOverflow(config, 2);
  EXPECT_EQ(out.received, Split("3,4,5"));
  EXPECT_EQ(out.queue_oldest, 2u);
}

}  // namespace
}  // namespace simq::server
