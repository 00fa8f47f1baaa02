// Retained messages (§3.3.1.3): set, replace and clear; sent on subscribe with the RETAIN flag;
// wildcard matching; message expiry; the store's limits; Retain Available 0.

#include <algorithm>
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

uint64_t RetainedCount(BrokerFixture& broker) {
  return broker.broker().Snapshot().retained;
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

ConnectOptions NoKeepAlive(ConnectOptions o) {
  o.keep_alive_seconds = 0;
  return o;
}

protocol::OwnedProperties MessageExpiry(uint32_t seconds) {
  protocol::Properties p;
  p.message_expiry_interval = seconds;
  return protocol::OwnedProperties(p);
}

asio::awaitable<std::shared_ptr<Client>> Connected(ConnectOptions o) {
  auto ex = co_await asio::this_coro::executor;
  auto c = Client::Create(ex);
  auto connack = co_await c->Connect(NoKeepAlive(std::move(o)));
  EXPECT_TRUE(connack.ok()) << connack.status();
  if (connack.ok()) EXPECT_EQ(connack->reason_code, ReasonCode::kSuccess);
  co_return c;
}

asio::awaitable<void> PublishOk(Client& c, Message m) {
  auto r = co_await c.Publish(std::move(m));
  EXPECT_TRUE(r.ok()) << r.status();
}

// Receives `n` messages and returns "topic=payload" sorted: the order of retained messages
// across topics is not specified.
asio::awaitable<std::vector<std::string>> ReceiveSorted(Client& c, size_t n) {
  std::vector<std::string> out;
  while (out.size() < n) {
    auto m = co_await c.Receive(5s);
    EXPECT_TRUE(m.ok()) << m.status() << " after " << out.size() << " of " << n << " messages";
    if (!m.ok()) break;
    EXPECT_TRUE(m->retain) << m->topic;  // [MQTT-3.3.1-9]
    out.push_back(m->topic + "=" + m->payload);
  }
  std::sort(out.begin(), out.end());
  co_return out;
}

// Proves nothing else is on its way to `sub`: `pub` publishes "fence" (not retained) to `topic`,
// which `sub` subscribes to, and it must be the next message. Retained messages for a new
// subscription are sent right after its SUBACK, so any would arrive before the fence.
asio::awaitable<void> ExpectFenceNext(Client& sub, Client& pub, std::string topic) {
  EXPECT_TRUE((co_await pub.Publish(Msg(topic, "fence", QoS::kAtLeastOnce))).ok());
  auto m = co_await sub.Receive(5s);
  EXPECT_TRUE(m.ok()) << m.status();
  if (m.ok()) EXPECT_EQ(m->payload, "fence") << "unexpected message on " << m->topic;
}

TEST(RetainedTest, SetReplaceAndClear) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto pub = co_await Connected(broker.Options("pub"));
    co_await PublishOk(*pub, Msg("r/t", "one", QoS::kAtLeastOnce, true));
    co_await PublishOk(*pub, Msg("r/t", "two", QoS::kAtLeastOnce, true));  // [MQTT-3.3.1-5]
    EXPECT_EQ(RetainedCount(broker), 1u);

    auto first = co_await Connected(broker.Options("first"));
    EXPECT_TRUE((co_await first->Subscribe(Sub("r/t", QoS::kAtLeastOnce))).ok());
    auto m = co_await first->Receive(5s);
    EXPECT_TRUE(m.ok()) << m.status();
    if (m.ok()) {
      EXPECT_EQ(m->payload, "two");
      EXPECT_TRUE(m->retain);  // [MQTT-3.3.1-9]
      EXPECT_EQ(m->qos, QoS::kAtLeastOnce);
    }
    co_await ExpectFenceNext(*first, *pub, "r/t");  // only the latest one

    // An empty retained payload clears the topic [MQTT-3.3.1-6] and is itself delivered to
    // current subscribers, as an ordinary message [MQTT-3.3.1-7 note].
    co_await PublishOk(*pub, Msg("r/t", "", QoS::kAtLeastOnce, true));
    auto cleared = co_await first->Receive(5s);
    EXPECT_TRUE(cleared.ok()) << cleared.status();
    if (cleared.ok()) {
      EXPECT_EQ(cleared->payload, "");
      EXPECT_FALSE(cleared->retain);  // live delivery without Retain As Published [MQTT-3.3.1-12]
    }
    EXPECT_EQ(RetainedCount(broker), 0u);
    auto second = co_await Connected(broker.Options("second"));
    EXPECT_TRUE((co_await second->Subscribe(Sub("r/t", QoS::kAtLeastOnce))).ok());
    co_await ExpectFenceNext(*second, *pub, "r/t");
  });
}

TEST(RetainedTest, SentOnSubscribeWithRetainFlag311) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto pub = co_await Connected(broker.Options("pub311", ProtocolVersion::kMqtt311));
    co_await PublishOk(*pub, Msg("r311/t", "kept", QoS::kExactlyOnce, true));
    auto sub = co_await Connected(broker.Options("sub311", ProtocolVersion::kMqtt311));
    EXPECT_TRUE((co_await sub->Subscribe(Sub("r311/#", QoS::kAtLeastOnce))).ok());
    auto m = co_await sub->Receive(5s);
    EXPECT_TRUE(m.ok()) << m.status();
    if (m.ok()) {
      EXPECT_EQ(m->topic, "r311/t");
      EXPECT_EQ(m->payload, "kept");
      EXPECT_TRUE(m->retain);                // [MQTT-3.3.1-8] (3.1.1)
      EXPECT_EQ(m->qos, QoS::kAtLeastOnce);  // the subscription's maximum
    }
    // Live messages published with RETAIN reach existing 3.1.1 subscribers with RETAIN 0
    // [MQTT-3.3.1-9] (3.1.1).
    co_await PublishOk(*pub, Msg("r311/t", "live", QoS::kAtLeastOnce, true));
    auto live = co_await sub->Receive(5s);
    EXPECT_TRUE(live.ok()) << live.status();
    if (live.ok()) {
      EXPECT_EQ(live->payload, "live");
      EXPECT_FALSE(live->retain);
    }
  });
}

TEST(RetainedTest, WildcardSubscribeGetsAllMatching) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto pub = co_await Connected(broker.Options("pub"));
    co_await PublishOk(*pub, Msg("w/a/1", "1", QoS::kAtLeastOnce, true));
    co_await PublishOk(*pub, Msg("w/a/2", "2", QoS::kAtLeastOnce, true));
    co_await PublishOk(*pub, Msg("w/a/b/3", "3", QoS::kAtLeastOnce, true));
    co_await PublishOk(*pub, Msg("w/b/1", "4", QoS::kAtLeastOnce, true));

    auto all = co_await Connected(broker.Options("all"));
    EXPECT_TRUE((co_await all->Subscribe(Sub("w/a/#", QoS::kAtLeastOnce))).ok());
    EXPECT_EQ(co_await ReceiveSorted(*all, 3), Split("w/a/1=1,w/a/2=2,w/a/b/3=3"));
    co_await ExpectFenceNext(*all, *pub, "w/a/fence");

    auto level = co_await Connected(broker.Options("level"));
    EXPECT_TRUE((co_await level->Subscribe(Sub("w/+/1", QoS::kAtLeastOnce))).ok());
    EXPECT_EQ(co_await ReceiveSorted(*level, 2), Split("w/a/1=1,w/b/1=4"));
    co_await ExpectFenceNext(*level, *pub, "w/fence/1");
  });
}

TEST(RetainedTest, ExpiredRetainedMessageIsNotSent) {
  BrokerFixture broker(testing::TestConfig(), /*fake_clock=*/true);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto pub = co_await Connected(broker.Options("pub"));
    co_await PublishOk(*pub,
                       Msg("x/t", "short", QoS::kAtLeastOnce, true, MessageExpiry(10).view()));
    broker.clock()->Advance(std::chrono::seconds(4));

    auto early = co_await Connected(broker.Options("early"));
    EXPECT_TRUE((co_await early->Subscribe(Sub("x/t", QoS::kAtLeastOnce))).ok());
    auto m = co_await early->Receive(5s);
    EXPECT_TRUE(m.ok()) << m.status();
    if (m.ok()) {
      EXPECT_EQ(m->payload, "short");
      // [MQTT-3.3.2-6]: the interval minus the time it waited in the store.
      EXPECT_EQ(m->properties.view().message_expiry_interval, std::optional<uint32_t>(6));
    }

    broker.clock()->Advance(std::chrono::seconds(7));  // 11 s > 10 s
    auto late = co_await Connected(broker.Options("late"));
    EXPECT_TRUE((co_await late->Subscribe(Sub("x/t", QoS::kAtLeastOnce))).ok());
    co_await ExpectFenceNext(*late, *pub, "x/t");  // [MQTT-3.3.2-5]
    EXPECT_EQ(RetainedCount(broker), 0u);
  });
}

TEST(RetainedTest, MaxMessagesRefusesNewTopicsOnly) {
  config::Config config = testing::TestConfig();
  config.retained.max_messages = 2;
  BrokerFixture broker(config);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto live = co_await Connected(broker.Options("live"));
    EXPECT_TRUE((co_await live->Subscribe(Sub("lim/#", QoS::kAtLeastOnce))).ok());
    auto pub = co_await Connected(broker.Options("pub"));
    co_await PublishOk(*pub, Msg("lim/1", "a", QoS::kAtLeastOnce, true));
    co_await PublishOk(*pub, Msg("lim/2", "b", QoS::kAtLeastOnce, true));
    co_await PublishOk(*pub, Msg("lim/3", "c", QoS::kAtLeastOnce, true));  // a third topic: refused
    EXPECT_EQ(Dropped(broker, DropReason::kRetainedLimit), 1u);
    EXPECT_EQ(RetainedCount(broker), 2u);
    // The message itself was still delivered to current subscribers.
    std::vector<std::string> seen;
    for (int i = 0; i < 3; ++i) {
      auto m = co_await live->Receive(5s);
      EXPECT_TRUE(m.ok()) << m.status();
      if (m.ok()) seen.push_back(m->payload);
    }
    EXPECT_EQ(seen, Split("a,b,c"));

    // A full store still replaces existing topics.
    co_await PublishOk(*pub, Msg("lim/1", "a2", QoS::kAtLeastOnce, true));
    EXPECT_EQ(Dropped(broker, DropReason::kRetainedLimit), 1u);
    auto sub = co_await Connected(broker.Options("sub"));
    EXPECT_TRUE((co_await sub->Subscribe(Sub("lim/#", QoS::kAtLeastOnce))).ok());
    EXPECT_EQ(co_await ReceiveSorted(*sub, 2), Split("lim/1=a2,lim/2=b"));
    co_await ExpectFenceNext(*sub, *pub, "lim/fence");

    // Clearing a topic makes room for a new one.
    co_await PublishOk(*pub, Msg("lim/2", "", QoS::kAtLeastOnce, true));
    co_await PublishOk(*pub, Msg("lim/3", "c2", QoS::kAtLeastOnce, true));
    EXPECT_EQ(Dropped(broker, DropReason::kRetainedLimit), 1u);
    auto after = co_await Connected(broker.Options("after"));
    EXPECT_TRUE((co_await after->Subscribe(Sub("lim/#", QoS::kAtLeastOnce))).ok());
    EXPECT_EQ(co_await ReceiveSorted(*after, 2), Split("lim/1=a2,lim/3=c2"));
  });
}

TEST(RetainedTest, MaxBytesRefusesNewTopicsOnly) {
  config::Config config = testing::TestConfig();
  config.retained.max_bytes = 20;  // topic + payload: two messages of 3 + 4 bytes fit, not three
  BrokerFixture broker(config);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto pub = co_await Connected(broker.Options("pub"));
    co_await PublishOk(*pub, Msg("b/1", "aaaa", QoS::kAtLeastOnce, true));
    co_await PublishOk(*pub, Msg("b/2", "bbbb", QoS::kAtLeastOnce, true));
    co_await PublishOk(*pub, Msg("b/3", "cccc", QoS::kAtLeastOnce, true));  // 21 bytes: refused
    EXPECT_EQ(Dropped(broker, DropReason::kRetainedLimit), 1u);
    EXPECT_EQ(RetainedCount(broker), 2u);
    co_await PublishOk(*pub, Msg("b/1", "zzzz", QoS::kAtLeastOnce, true));  // replaces
    EXPECT_EQ(Dropped(broker, DropReason::kRetainedLimit), 1u);

    auto sub = co_await Connected(broker.Options("sub"));
    EXPECT_TRUE((co_await sub->Subscribe(Sub("b/+", QoS::kAtLeastOnce))).ok());
    EXPECT_EQ(co_await ReceiveSorted(*sub, 2), Split("b/1=zzzz,b/2=bbbb"));
    co_await ExpectFenceNext(*sub, *pub, "b/f");
  });
}

TEST(RetainedTest, ReplacementOverTheByteLimitClearsTheStaleValue) {
  config::Config config = testing::TestConfig();
  config.retained.max_bytes = 20;
  BrokerFixture broker(config);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto pub = co_await Connected(broker.Options("pub"));
    co_await PublishOk(*pub, Msg("s/1", "aaaa", QoS::kAtLeastOnce, true));  // 7 bytes
    co_await PublishOk(*pub, Msg("s/2", "bbbb", QoS::kAtLeastOnce, true));  // 14 bytes
    // 7 + 3 + 14 = 24 > 20: refused, and s/1 no longer claims the old "aaaa".
    co_await PublishOk(*pub, Msg("s/1", std::string(14, 'z'), QoS::kAtLeastOnce, true));
    EXPECT_EQ(Dropped(broker, DropReason::kRetainedLimit), 1u);
    EXPECT_EQ(RetainedCount(broker), 1u);
    auto sub = co_await Connected(broker.Options("sub"));
    EXPECT_TRUE((co_await sub->Subscribe(Sub("s/+", QoS::kAtLeastOnce))).ok());
    EXPECT_EQ(co_await ReceiveSorted(*sub, 1), Split("s/2=bbbb"));
    co_await ExpectFenceNext(*sub, *pub, "s/f");
  });
}

TEST(RetainedTest, RetainNotAvailable) {
  config::Config config = testing::TestConfig();
  config.mqtt.retain_available = false;
  BrokerFixture broker(config);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = co_await RawConnect(ex, broker.port());
    OwnedPacket keep;
    auto connack = co_await Handshake(*c, Connect("noretain"), &keep);
    EXPECT_TRUE(connack.has_value());
    if (connack) EXPECT_EQ(connack->properties.retain_available, std::optional<uint8_t>(0));
    protocol::PublishPacket p;
    p.topic = "nr/t";
    p.payload = "x";
    p.retain = true;
    c->Send(p);
    auto answer = co_await c->Receive(5s);
    EXPECT_TRUE(answer.ok()) << answer.status();
    const auto* d = answer.ok() ? answer->get<protocol::DisconnectPacket>() : nullptr;
    EXPECT_NE(d, nullptr);
    if (d) EXPECT_EQ(d->reason_code, ReasonCode::kRetainNotSupported);  // [MQTT-3.3.1-? / 3.2.2-14]
    EXPECT_TRUE(co_await c->WaitClosed(5s));
    EXPECT_EQ(RetainedCount(broker), 0u);
  });
}

}  // namespace
}  // namespace simq::server
