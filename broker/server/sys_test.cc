// The $SYS topics: published retained every sys.interval_seconds (on the fake clock here),
// reflecting the broker's state; not matched by leading wildcards [MQTT-4.7.2-1]; not writable
// by clients.

#include <functional>
#include <map>

#include <gtest/gtest.h>

#include "broker/core/broker.h"
#include "broker/server/test_util.h"
#include "broker/testing/coro.h"

namespace simq::server {
namespace {

using testing::BrokerFixture;
using testing::RunCoroutine;

// Sixteen broker topics plus one per drop reason.
constexpr size_t kSysTopics = 16 + static_cast<size_t>(core::DropReason::kCount);
// The topic the broker publishes last in each round: once it arrived, the round is complete
// (deliveries from one worker to a session arrive in order).
const std::string kLastSysTopic = "$SYS/broker/publish/messages/dropped/retained_limit";

config::Config SysConfig() {
  config::Config config = testing::TestConfig();
  config.sys.interval_seconds = 1;
  return config;
}

// Records what a $SYS subscriber sees.
struct SysObserver {
  std::shared_ptr<Client> client;
  std::map<std::string, std::string> latest;
  std::map<std::string, bool> retained;
  std::vector<std::string> topics;  // every message, in order
  size_t rounds = 0;                // times kLastSysTopic arrived

  void Attach() {
    client->set_message_handler([this](const protocol::PublishPacket& p) {
      std::string topic(p.topic);
      latest[topic] = std::string(p.payload);
      retained[topic] = p.retain;
      topics.push_back(topic);
      if (topic == kLastSysTopic) ++rounds;
    });
  }
  int64_t Number(const std::string& topic) const {
    auto it = latest.find(topic);
    EXPECT_NE(it, latest.end()) << topic;
    return it == latest.end() ? -1 : std::stoll(it->second);
  }
};

// Moves the fake clock one interval on and waits until `o` has the whole new round.
asio::awaitable<bool> NextRound(asio::any_io_executor ex, BrokerFixture& broker, SysObserver& o) {
  const size_t want = o.rounds + 1;
  broker.clock()->Advance(std::chrono::seconds(1));
  broker.Tick();
  co_return co_await WaitUntil([&o, want] { return o.rounds >= want; });
}

TEST(SysTest, SysTopicsArePublishedRetainedAndFollowTheBroker) {
  BrokerFixture broker(SysConfig(), /*fake_clock=*/true);
  broker.Tick();  // the first round, at start: nothing connected yet
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    SysObserver o;
    o.client = Client::Create(ex);
    o.Attach();
    EXPECT_TRUE((co_await o.client->Connect(broker.Options("sys-observer"))).ok());
    EXPECT_TRUE((co_await o.client->Subscribe(Sub("$SYS/broker/#"))).ok());
    // The first round arrives as retained messages.
    EXPECT_TRUE(co_await WaitUntil([&] { return o.latest.size() == kSysTopics; }));
    EXPECT_EQ(o.latest.size(), kSysTopics);
    EXPECT_TRUE(o.latest["$SYS/broker/version"].starts_with("simq version "))
        << o.latest["$SYS/broker/version"];
    EXPECT_TRUE(o.retained["$SYS/broker/version"]);
    EXPECT_EQ(o.latest["$SYS/broker/uptime"], "0 seconds");
    EXPECT_EQ(o.latest["$SYS/broker/clients/connected"], "0");

    // Round 1: two more clients, one with two subscriptions.
    auto a = Client::Create(ex);
    auto b = Client::Create(ex);
    EXPECT_TRUE((co_await a->Connect(broker.Options("sys-a"))).ok());
    EXPECT_TRUE((co_await b->Connect(broker.Options("sys-b"))).ok());
    EXPECT_TRUE((co_await a->Subscribe(Sub("a/1"))).ok());
    EXPECT_TRUE((co_await a->Subscribe(Sub("a/2"))).ok());
    EXPECT_TRUE(co_await NextRound(ex, broker, o));
    EXPECT_EQ(o.latest["$SYS/broker/uptime"], "1 seconds");
    EXPECT_EQ(o.latest["$SYS/broker/clients/connected"], "3");
    EXPECT_EQ(o.latest["$SYS/broker/subscriptions/count"], "3");
    const int64_t received1 = o.Number("$SYS/broker/messages/received");
    const int64_t dropped1 = o.Number("$SYS/broker/publish/messages/dropped");
    const int64_t retained1 = o.Number("$SYS/broker/retained messages/count");

    // Round 2: five packets in: two retained messages, a refused $SYS publish, a repeated
    // SUBSCRIBE (no new subscription) and an UNSUBSCRIBE.
    EXPECT_TRUE((co_await a->Publish(Msg("keep/1", "x", QoS::kAtLeastOnce, true))).ok());
    EXPECT_TRUE((co_await a->Publish(Msg("keep/2", "y", QoS::kAtLeastOnce, true))).ok());
    auto refused = co_await a->Publish(Msg("$SYS/broker/version", "fake", QoS::kAtLeastOnce, true));
    EXPECT_TRUE(refused.ok() && refused->reason_code == ReasonCode::kNotAuthorized);
    EXPECT_TRUE((co_await a->Subscribe(Sub("a/1"))).ok());
    EXPECT_TRUE((co_await a->Unsubscribe(Filters("a/2"))).ok());
    EXPECT_TRUE(co_await NextRound(ex, broker, o));
    EXPECT_EQ(o.latest["$SYS/broker/uptime"], "2 seconds");
    EXPECT_EQ(o.latest["$SYS/broker/subscriptions/count"], "2");
    EXPECT_EQ(o.Number("$SYS/broker/messages/received"), received1 + 5);
    EXPECT_EQ(o.Number("$SYS/broker/publish/messages/dropped"), dropped1 + 1);
    EXPECT_EQ(o.latest["$SYS/broker/publish/messages/dropped/not_authorized"], "1");
    EXPECT_EQ(o.Number("$SYS/broker/retained messages/count"), retained1 + 2);
    EXPECT_TRUE(o.latest["$SYS/broker/version"].starts_with("simq version "));

    // Round 3: one client leaves (its DISCONNECT is one more packet), a retained message is
    // cleared (one more).
    EXPECT_TRUE((co_await b->Disconnect()).ok());
    EXPECT_TRUE(
        co_await WaitUntil([&] { return broker.broker().Snapshot().clients_connected == 2; }));
    EXPECT_TRUE((co_await a->Publish(Msg("keep/1", "", QoS::kAtLeastOnce, true))).ok());
    EXPECT_TRUE(co_await NextRound(ex, broker, o));
    EXPECT_EQ(o.latest["$SYS/broker/uptime"], "3 seconds");
    EXPECT_EQ(o.latest["$SYS/broker/clients/connected"], "2");
    EXPECT_EQ(o.Number("$SYS/broker/messages/received"), received1 + 7);
    EXPECT_EQ(o.Number("$SYS/broker/retained messages/count"), retained1 + 1);

    // Every value is retained: a new subscriber gets the latest one at once.
    auto late = Client::Create(ex);
    EXPECT_TRUE((co_await late->Connect(broker.Options("sys-late"))).ok());
    EXPECT_TRUE((co_await late->Subscribe(Sub("$SYS/broker/clients/connected"))).ok());
    auto m = co_await late->Receive(5s);
    EXPECT_TRUE(m.ok()) << m.status();
    if (m.ok()) {
      EXPECT_TRUE(m->retain);
      EXPECT_EQ(m->payload, "2");
    }
  });
}

TEST(SysTest, LeadingWildcardsDoNotMatchSysTopics) {
  BrokerFixture broker(SysConfig(), /*fake_clock=*/true);
  broker.Tick();
  std::vector<client::Subscription> subs;
  for (const char* f : {"#", "+/broker/#", "+/+/version", "$share/g/#"})
    subs.push_back(Sub(f).front());
  subs.push_back(Sub(kLastSysTopic).front());
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    SysObserver s;
    s.client = Client::Create(ex);
    s.Attach();
    EXPECT_TRUE((co_await s.client->Connect(broker.Options("sys-wild"))).ok());
    // Retained messages follow the SUBSCRIBE's filter order: if "#" matched $SYS, its retained
    // topics would come before the explicit one's. In a new round every match would arrive
    // before the last topic (a shared subscription included).
    EXPECT_TRUE((co_await s.client->Subscribe(subs)).ok());
    EXPECT_TRUE(co_await WaitUntil([&] { return s.rounds == 1; }));
    EXPECT_EQ(s.topics, std::vector<std::string>(1, kLastSysTopic));
    // A new round: again only the explicitly subscribed topic [MQTT-4.7.2-1].
    EXPECT_TRUE(co_await NextRound(ex, broker, s));
    EXPECT_EQ(s.topics, std::vector<std::string>(2, kLastSysTopic));
    // Control: the same filters match an ordinary topic: one copy for the overlapping ordinary
    // subscriptions, one for the shared one.
    auto pub = Client::Create(ex);
    EXPECT_TRUE((co_await pub->Connect(broker.Options("sys-wild-pub"))).ok());
    EXPECT_TRUE((co_await pub->Publish(Msg("ordinary/broker/version", "x"))).ok());
    EXPECT_TRUE(co_await WaitUntil([&] { return s.topics.size() == 4; }));
    if (s.topics.size() == 4) {
      EXPECT_EQ(s.topics[2], "ordinary/broker/version");
      EXPECT_EQ(s.topics[3], "ordinary/broker/version");
    }
  });
}

TEST(SysTest, ClientsCannotPublishToSys) {
  BrokerFixture broker(SysConfig(), /*fake_clock=*/true);
  broker.Tick();
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    SysObserver o;
    o.client = Client::Create(ex);
    o.Attach();
    EXPECT_TRUE((co_await o.client->Connect(broker.Options("sys-watch"))).ok());
    EXPECT_TRUE((co_await o.client->Subscribe(Sub("$SYS/#"))).ok());
    EXPECT_TRUE(co_await WaitUntil([&] { return o.rounds == 1; }));
    const size_t seen = o.topics.size();

    auto v5 = Client::Create(ex);
    EXPECT_TRUE((co_await v5->Connect(broker.Options("sys-writer-5"))).ok());
    auto r = co_await v5->Publish(Msg("$SYS/broker/version", "fake", QoS::kAtLeastOnce, true));
    EXPECT_TRUE(r.ok() && r->reason_code == ReasonCode::kNotAuthorized);
    EXPECT_TRUE((co_await v5->Publish(Msg("$SYS/mine", "fake", QoS::kAtLeastOnce))).ok());
    auto v311 = Client::Create(ex);
    EXPECT_TRUE(
        (co_await v311->Connect(broker.Options("sys-writer-311", ProtocolVersion::kMqtt311))).ok());
    // 3.1.1 has no refusal in PUBACK: acknowledged, not published [MQTT-3.3.5-2].
    auto r311 = co_await v311->Publish(Msg("$SYS/broker/version", "fake", QoS::kAtLeastOnce, true));
    EXPECT_TRUE(r311.ok() && r311->reason_code == ReasonCode::kSuccess);

    // The next thing the observer sees is the broker's own round, without "fake".
    EXPECT_TRUE(co_await NextRound(ex, broker, o));
    EXPECT_EQ(o.topics.size(), seen + kSysTopics);
    for (size_t i = seen; i < o.topics.size(); ++i) EXPECT_NE(o.topics[i], "$SYS/mine");
    EXPECT_TRUE(o.latest["$SYS/broker/version"].starts_with("simq version "));
    // And the retained value is still the broker's.
    auto late = Client::Create(ex);
    EXPECT_TRUE((co_await late->Connect(broker.Options("sys-late-reader"))).ok());
    EXPECT_TRUE((co_await late->Subscribe(Sub("$SYS/broker/version"))).ok());
    auto m = co_await late->Receive(5s);
    EXPECT_TRUE(m.ok()) << m.status();
    if (m.ok()) EXPECT_TRUE(m->payload.starts_with("simq version ")) << m->payload;
  });
}

}  // namespace
}  // namespace simq::server
