// Shared subscriptions ($share/{ShareName}/{filter}, MQTT 5 §4.8.2): syntax, balancing
// strategies, retained messages, several groups, members that go away, MQTT 3.1.1.

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

#include "broker/core/broker.h"
#include "broker/server/test_util.h"
#include "broker/testing/coro.h"

namespace simq::server {
namespace {

using testing::BrokerFixture;
using testing::RunCoroutine;

// A member connected with the client library that records every payload it receives (and
// acknowledges QoS 1/2 as the library does).
struct Member {
  std::shared_ptr<Client> client;
  std::vector<std::string> payloads;
};

asio::awaitable<void> Join(asio::any_io_executor ex, BrokerFixture& broker, Member& m,
                           std::string id, std::string filter,
                           ProtocolVersion version = ProtocolVersion::kMqtt5) {
  m.client = Client::Create(ex);
  m.client->set_message_handler(
      [&m](const protocol::PublishPacket& p) { m.payloads.emplace_back(p.payload); });
  auto connack = co_await m.client->Connect(broker.Options(id, version));
  EXPECT_TRUE(connack.ok() && connack->reason_code == ReasonCode::kSuccess) << id;
  auto suback = co_await m.client->Subscribe(Sub(filter, QoS::kAtLeastOnce));
  EXPECT_TRUE(suback.ok()) << suback.status();
  if (suback.ok()) {
    EXPECT_EQ(suback->reason_codes.size(), 1u);
    if (!suback->reason_codes.empty()) {
      EXPECT_EQ(suback->reason_codes[0], static_cast<ReasonCode>(QoS::kAtLeastOnce)) << filter;
    }
  }
}

// Publishes "<prefix>0" .. "<prefix>{n-1}" to `topic` at QoS 1, each after the previous PUBACK.
asio::awaitable<void> PublishN(Client& pub, std::string topic, int n, std::string prefix = "m") {
  for (int i = 0; i < n; ++i) {
    auto r = co_await pub.Publish(Msg(topic, absl::StrCat(prefix, i), QoS::kAtLeastOnce));
    EXPECT_TRUE(r.ok()) << r.status();
  }
}

std::set<std::string> Expected(int n, std::string prefix = "m") {
  std::set<std::string> all;
  for (int i = 0; i < n; ++i) all.insert(absl::StrCat(prefix, i));
  return all;
}

// The payloads of several members together; EXPECTs that none arrived twice. (Variadic:
// coroutines cannot build initializer lists, see test_util.h.)
template <typename... M>
std::set<std::string> Union(const M&... members) {
  std::set<std::string> all;
  size_t count = 0;
  ((all.insert(members.payloads.begin(), members.payloads.end()), count += members.payloads.size()),
   ...);
  EXPECT_EQ(all.size(), count) << "a message reached more than one member of a group";
  return all;
}

// Largest minus smallest number of messages received.
size_t Spread(const Member& a, const Member& b, const Member& c) {
  const size_t lo = std::min({a.payloads.size(), b.payloads.size(), c.payloads.size()});
  const size_t hi = std::max({a.payloads.size(), b.payloads.size(), c.payloads.size()});
  return hi - lo;
}

protocol::SubscribePacket SubscribePacket(std::string_view filter, QoS qos) {
  protocol::SubscribePacket sub;
  sub.packet_id = 1;
  protocol::TopicSubscription s;
  s.filter = filter;
  s.options.max_qos = qos;
  sub.subscriptions.push_back(s);
  return sub;
}

TEST(SharedSubscriptionTest, InvalidShareNamesAreRejectedPerFilter) {
  BrokerFixture broker;
  std::vector<client::Subscription> subs;
  for (const char* f :
       {"$share/g/ok/topic", "$share//a", "$share/g+/a", "$share/g", "$share/g#/a"}) {
    client::Subscription s;
    s.filter = f;
    s.options.max_qos = QoS::kAtLeastOnce;
    subs.push_back(s);
  }
  std::vector<ProtocolVersion> versions = {ProtocolVersion::kMqtt5, ProtocolVersion::kMqtt311};
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    for (ProtocolVersion version : versions) {
      const bool v5 = version == ProtocolVersion::kMqtt5;
      auto c = Client::Create(ex);
      EXPECT_TRUE((co_await c->Connect(broker.Options(v5 ? "sub5" : "sub311", version))).ok());
      auto suback = co_await c->Subscribe(subs);
      EXPECT_TRUE(suback.ok()) << suback.status();
      if (!suback.ok()) co_return;
      EXPECT_EQ(suback->reason_codes.size(), 5u);
      if (suback->reason_codes.size() != 5u) co_return;
      EXPECT_EQ(suback->reason_codes[0], static_cast<ReasonCode>(QoS::kAtLeastOnce));
      // [MQTT-4.8.2-1], [MQTT-4.8.2-2]: 0x8F Topic Filter invalid (3.1.1: 0x80 Failure).
      const ReasonCode invalid =
          v5 ? ReasonCode::kTopicFilterInvalid : ReasonCode::kUnspecifiedError;
      for (size_t i = 1; i < 5; ++i) EXPECT_EQ(suback->reason_codes[i], invalid) << subs[i].filter;
      // The valid filter of the same SUBSCRIBE works.
      auto pub = Client::Create(ex);
      EXPECT_TRUE((co_await pub->Connect(broker.Options("pub"))).ok());
      EXPECT_TRUE((co_await pub->Publish(Msg("ok/topic", "hello", QoS::kAtLeastOnce))).ok());
      auto m = co_await c->Receive(5s);
      EXPECT_TRUE(m.ok()) << m.status();
      if (m.ok()) EXPECT_EQ(m->payload, "hello");
      EXPECT_TRUE((co_await c->Disconnect()).ok());
    }
  });
}

TEST(SharedSubscriptionTest, RoundRobinBalancesMembersEvenly) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    Member a, b, c;
    co_await Join(ex, broker, a, "rr-a", "$share/g/rr/+");
    co_await Join(ex, broker, b, "rr-b", "$share/g/rr/+");
    co_await Join(ex, broker, c, "rr-c", "$share/g/rr/+");
    auto pub = Client::Create(ex);
    EXPECT_TRUE((co_await pub->Connect(broker.Options("rr-pub"))).ok());
    constexpr int kMessages = 31;
    co_await PublishN(*pub, "rr/x", kMessages);
    EXPECT_TRUE(co_await WaitUntil(
        [&] { return a.payloads.size() + b.payloads.size() + c.payloads.size() >= kMessages; }));
    EXPECT_EQ(Union(a, b, c), Expected(kMessages));
    EXPECT_LE(Spread(a, b, c), 1u)
        << a.payloads.size() << " " << b.payloads.size() << " " << c.payloads.size();
  });
}

TEST(SharedSubscriptionTest, RandomStrategyReachesEveryMember) {
  config::Config config = testing::TestConfig();
  config.mqtt.shared_subscription_strategy = config::SharedSubscriptionStrategy::kRandom;
  BrokerFixture broker(config);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    Member a, b, c;
    co_await Join(ex, broker, a, "rnd-a", "$share/g/rnd");
    co_await Join(ex, broker, b, "rnd-b", "$share/g/rnd");
    co_await Join(ex, broker, c, "rnd-c", "$share/g/rnd");
    auto pub = Client::Create(ex);
    EXPECT_TRUE((co_await pub->Connect(broker.Options("rnd-pub"))).ok());
    constexpr int kMessages = 60;
    co_await PublishN(*pub, "rnd", kMessages);
    EXPECT_TRUE(co_await WaitUntil(
        [&] { return a.payloads.size() + b.payloads.size() + c.payloads.size() >= kMessages; }));
    EXPECT_EQ(Union(a, b, c), Expected(kMessages));
    EXPECT_GT(a.payloads.size(), 0u);
    EXPECT_GT(b.payloads.size(), 0u);
    EXPECT_GT(c.payloads.size(), 0u);
  });
}

TEST(SharedSubscriptionTest, LeastInflightPrefersTheMemberThatAcknowledges) {
  config::Config config = testing::TestConfig();
  config.mqtt.shared_subscription_strategy = config::SharedSubscriptionStrategy::kLeastInflight;
  BrokerFixture broker(config);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    // A member that never acknowledges: its in-flight count only grows.
    auto stuck = co_await RawConnect(ex, broker.port());
    OwnedPacket keep;
    EXPECT_TRUE((co_await Handshake(*stuck, Connect("li-stuck"), &keep)).has_value());
    stuck->Send(SubscribePacket("$share/g/li", QoS::kAtLeastOnce));
    auto suback = co_await stuck->Receive(5s);
    EXPECT_TRUE(suback.ok() && suback->type() == protocol::PacketType::kSuback);

    Member acker;
    co_await Join(ex, broker, acker, "li-acker", "$share/g/li");
    auto pub = Client::Create(ex);
    EXPECT_TRUE((co_await pub->Connect(broker.Options("li-pub"))).ok());

    constexpr int kMessages = 20;
    size_t stuck_count = 0;
    for (int i = 0; i < kMessages; ++i) {
      EXPECT_TRUE((co_await pub->Publish(Msg("li", absl::StrCat("m", i), QoS::kAtLeastOnce))).ok());
      // Wait until one of the two has it before publishing the next.
      const auto deadline = std::chrono::steady_clock::now() + 5s;
      while (acker.payloads.size() + stuck_count < static_cast<size_t>(i + 1) &&
             std::chrono::steady_clock::now() < deadline) {
        auto p = co_await stuck->Receive(2ms);
        if (p.ok() && p->type() == protocol::PacketType::kPublish) ++stuck_count;
      }
    }
    EXPECT_EQ(acker.payloads.size() + stuck_count, static_cast<size_t>(kMessages));
    // The stuck member gets a message only while its in-flight count is not above the
    // acknowledging member's (at most 1 while each message is acknowledged before the next).
    EXPECT_GE(stuck_count, 1u);
    EXPECT_LE(stuck_count, 2u);
    EXPECT_GE(acker.payloads.size(), static_cast<size_t>(kMessages - 2));
  });
}

TEST(SharedSubscriptionTest, NoRetainedMessagesOnSharedSubscribe) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto pub = Client::Create(ex);
    EXPECT_TRUE((co_await pub->Connect(broker.Options("ret-pub"))).ok());
    EXPECT_TRUE(
        (co_await pub->Publish(Msg("ret/t", "old", QoS::kAtLeastOnce, /*retain=*/true))).ok());

    // Control: an ordinary subscription gets the retained message.
    auto plain = Client::Create(ex);
    EXPECT_TRUE((co_await plain->Connect(broker.Options("ret-plain"))).ok());
    EXPECT_TRUE((co_await plain->Subscribe(Sub("ret/t", QoS::kAtLeastOnce))).ok());
    auto first_plain = co_await plain->Receive(5s);
    EXPECT_TRUE(first_plain.ok()) << first_plain.status();
    if (first_plain.ok()) EXPECT_EQ(first_plain->payload, "old");

    // [MQTT-3.8.4-?] / §4.8.2: a shared subscription gets no retained messages; so the first
    // message the member sees is the one published after it subscribed.
    auto member = Client::Create(ex);
    EXPECT_TRUE((co_await member->Connect(broker.Options("ret-member"))).ok());
    EXPECT_TRUE((co_await member->Subscribe(Sub("$share/g/ret/t", QoS::kAtLeastOnce))).ok());
    EXPECT_TRUE((co_await pub->Publish(Msg("ret/t", "live", QoS::kAtLeastOnce))).ok());
    auto first = co_await member->Receive(5s);
    EXPECT_TRUE(first.ok()) << first.status();
    if (first.ok()) {
      EXPECT_EQ(first->payload, "live");
      EXPECT_FALSE(first->retain);
    }
  });
}

TEST(SharedSubscriptionTest, EachGroupGetsEveryMessage) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    Member g1a, g1b, g2a, g2b;
    co_await Join(ex, broker, g1a, "g1-a", "$share/one/grp/#");
    co_await Join(ex, broker, g1b, "g1-b", "$share/one/grp/#");
    co_await Join(ex, broker, g2a, "g2-a", "$share/two/grp/#");
    co_await Join(ex, broker, g2b, "g2-b", "$share/two/grp/#");
    auto pub = Client::Create(ex);
    EXPECT_TRUE((co_await pub->Connect(broker.Options("grp-pub"))).ok());
    constexpr int kMessages = 12;
    co_await PublishN(*pub, "grp/x", kMessages);
    EXPECT_TRUE(co_await WaitUntil([&] {
      return g1a.payloads.size() + g1b.payloads.size() >= kMessages &&
             g2a.payloads.size() + g2b.payloads.size() >= kMessages;
    }));
    EXPECT_EQ(Union(g1a, g1b), Expected(kMessages));
    EXPECT_EQ(Union(g2a, g2b), Expected(kMessages));
  });
}

// A raw member that takes QoS 1 messages and never acknowledges them; Receive Maximum 2, so
// beyond two in flight its messages wait in its session queue.
asio::awaitable<std::unique_ptr<RawConnection>> StuckMember(asio::any_io_executor ex,
                                                            BrokerFixture& broker, std::string id,
                                                            uint32_t expiry) {
  auto c = co_await RawConnect(ex, broker.port());
  protocol::ConnectPacket connect = Connect(id, ProtocolVersion::kMqtt5, /*clean_start=*/true);
  connect.properties.receive_maximum = 2;
  if (expiry != 0) connect.properties.session_expiry_interval = expiry;
  OwnedPacket keep;
  EXPECT_TRUE((co_await Handshake(*c, connect, &keep)).has_value());
  c->Send(SubscribePacket("$share/g/work", QoS::kAtLeastOnce));
  auto suback = co_await c->Receive(5s);
  EXPECT_TRUE(suback.ok() && suback->type() == protocol::PacketType::kSuback);
  co_return c;
}

// Reads PUBLISH packets until `n` arrived; returns how many did.
asio::awaitable<int> ReceivePublishes(RawConnection& c, int n) {
  int got = 0;
  while (got < n) {
    auto p = co_await c.Receive(5s);
    if (!p.ok()) break;
    if (p->type() == protocol::PacketType::kPublish) ++got;
  }
  co_return got;
}

TEST(SharedSubscriptionTest, AbortedMemberMessagesGoToAnotherMember) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto stuck = co_await StuckMember(ex, broker, "gone-stuck", 0);
    Member other;
    co_await Join(ex, broker, other, "gone-other", "$share/g/work");
    auto pub = Client::Create(ex);
    EXPECT_TRUE((co_await pub->Connect(broker.Options("gone-pub"))).ok());
    constexpr int kMessages = 10;
    co_await PublishN(*pub, "work", kMessages);
    // Round robin: half each; the stuck member holds 2 in flight and 3 queued.
    EXPECT_EQ(co_await ReceivePublishes(*stuck, 2), 2);
    EXPECT_TRUE(co_await WaitUntil([&] { return other.payloads.size() >= kMessages / 2; }));
    EXPECT_LT(other.payloads.size(), static_cast<size_t>(kMessages));

    stuck->Close();  // the network connection drops; no DISCONNECT
    // Its unacknowledged and queued messages go to the remaining member (§4.8.2).
    EXPECT_TRUE(co_await WaitUntil([&] { return other.payloads.size() >= kMessages; }));
    EXPECT_EQ(Union(other), Expected(kMessages));
  });
}

TEST(SharedSubscriptionTest, DisconnectedPersistentMemberMessagesGoToAnotherMember) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto stuck = co_await StuckMember(ex, broker, "away-stuck", 600);
    Member other;
    co_await Join(ex, broker, other, "away-other", "$share/g/work");
    auto pub = Client::Create(ex);
    EXPECT_TRUE((co_await pub->Connect(broker.Options("away-pub"))).ok());
    constexpr int kMessages = 10;
    co_await PublishN(*pub, "work", kMessages);
    EXPECT_EQ(co_await ReceivePublishes(*stuck, 2), 2);
    EXPECT_TRUE(co_await WaitUntil([&] { return other.payloads.size() >= kMessages / 2; }));
    EXPECT_LT(other.payloads.size(), static_cast<size_t>(kMessages));

    // A normal DISCONNECT: the session stays (expiry 600 s) but its member is offline.
    stuck->Send(protocol::DisconnectPacket{});
    EXPECT_TRUE(co_await stuck->WaitClosed(5s));
    EXPECT_TRUE(co_await WaitUntil([&] { return other.payloads.size() >= kMessages; }));
    EXPECT_EQ(Union(other), Expected(kMessages));
    // While it is offline, new messages all go to the online member.
    co_await PublishN(*pub, "work", 4, "later");
    EXPECT_TRUE(co_await WaitUntil([&] { return other.payloads.size() >= kMessages + 4; }));
    EXPECT_EQ(other.payloads.size(), static_cast<size_t>(kMessages + 4));
  });
}

TEST(SharedSubscriptionTest, UnsubscribedMemberStopsReceiving) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    Member a, b;
    co_await Join(ex, broker, a, "unsub-a", "$share/g/unsub");
    co_await Join(ex, broker, b, "unsub-b", "$share/g/unsub");
    EXPECT_TRUE((co_await a.client->Subscribe(Sub("unsub/sentinel", QoS::kAtLeastOnce))).ok());
    auto unsuback = co_await a.client->Unsubscribe(Filters("$share/g/unsub"));
    EXPECT_TRUE(unsuback.ok() && unsuback->reason_codes.size() == 1 &&
                unsuback->reason_codes[0] == ReasonCode::kSuccess);
    auto pub = Client::Create(ex);
    EXPECT_TRUE((co_await pub->Connect(broker.Options("unsub-pub"))).ok());
    constexpr int kMessages = 6;
    co_await PublishN(*pub, "unsub", kMessages);
    EXPECT_TRUE((co_await pub->Publish(Msg("unsub/sentinel", "end", QoS::kAtLeastOnce))).ok());
    EXPECT_TRUE(co_await WaitUntil([&] { return !a.payloads.empty(); }));
    // The first thing the former member sees is the sentinel published after the group's messages.
    EXPECT_EQ(a.payloads, std::vector<std::string>(1, "end"));
    EXPECT_TRUE(co_await WaitUntil([&] { return b.payloads.size() >= kMessages; }));
    EXPECT_EQ(Union(b), Expected(kMessages));
  });
}

// Client ids whose sessions live on workers 0 and 1, so the broker's cross-worker paths run.
std::pair<std::string, std::string> IdsOnDifferentWorkers(BrokerFixture& broker, std::string base) {
  std::string on0, on1;
  for (int i = 0; on0.empty() || on1.empty(); ++i) {
    std::string id = absl::StrCat(base, i);
    (broker.broker().HomeWorker(id) == 0 ? on0 : on1) = id;
  }
  return {on0, on1};
}

ConnectOptions Persistent(BrokerFixture& broker, std::string id) {
  ConnectOptions o = broker.Options(std::move(id));
  o.clean_start = false;
  o.properties = ExpiryProps(600);
  return o;
}

TEST(SharedSubscriptionTest, SoleOfflineMemberKeepsTheGroupsMessages) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto member = Client::Create(ex);
    EXPECT_TRUE((co_await member->Connect(Persistent(broker, "solo"))).ok());
    EXPECT_TRUE((co_await member->Subscribe(Sub("$share/g/solo", QoS::kAtLeastOnce))).ok());
    EXPECT_TRUE((co_await member->Disconnect()).ok());
    EXPECT_TRUE(
        co_await WaitUntil([&] { return broker.broker().Snapshot().clients_connected == 0; }));

    auto pub = Client::Create(ex);
    EXPECT_TRUE((co_await pub->Connect(broker.Options("solo-pub"))).ok());
    co_await PublishN(*pub, "solo", 3);
    // Nobody else is in the group: the persistent member's session keeps them until it returns.
    auto connack = co_await member->Connect(Persistent(broker, "solo"));
    EXPECT_TRUE(connack.ok() && connack->session_present);
    std::set<std::string> got;
    for (int i = 0; i < 3; ++i) {
      auto m = co_await member->Receive(5s);
      EXPECT_TRUE(m.ok()) << m.status();
      if (!m.ok()) break;
      got.insert(m->payload);
    }
    EXPECT_EQ(got, Expected(3));
    EXPECT_EQ(
        broker.broker().Snapshot().dropped[static_cast<size_t>(core::DropReason::kSharedNoMember)],
        0u);
  });
}

TEST(SharedSubscriptionTest, SoleMemberKeepsInflightAndQueuedMessagesAcrossReconnect) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto stuck = co_await StuckMember(ex, broker, "solo-stuck", 600);
    auto pub = Client::Create(ex);
    EXPECT_TRUE((co_await pub->Connect(broker.Options("solo-stuck-pub"))).ok());
    co_await PublishN(*pub, "work", 4);
    EXPECT_EQ(co_await ReceivePublishes(*stuck, 2), 2);  // 2 in flight, 2 queued
    stuck->Send(protocol::DisconnectPacket{});
    EXPECT_TRUE(co_await stuck->WaitClosed(5s));
    EXPECT_TRUE(
        co_await WaitUntil([&] { return broker.broker().Snapshot().clients_connected == 1; }));

    // Back with the same session: all four arrive (re-sent or queued) [MQTT-4.4.0-1].
    auto member = Client::Create(ex);
    std::set<std::string> got;
    member->set_message_handler(
        [&got](const protocol::PublishPacket& p) { got.emplace(p.payload); });
    auto connack = co_await member->Connect(Persistent(broker, "solo-stuck"));
    EXPECT_TRUE(connack.ok() && connack->session_present);
    EXPECT_TRUE(co_await WaitUntil([&] { return got.size() >= 4; }));
    EXPECT_EQ(got, Expected(4));
  });
}

// While every member is offline, the group's messages wait in one member's session, within its
// queue limits (counted when full), until it returns; they are neither lost nor passed around.
TEST(SharedSubscriptionTest, OfflineMembersOnDifferentWorkersKeepTheMessages) {
  config::Config config = testing::TestConfig();
  config.queues.max_queued_messages = 2;
  BrokerFixture broker(config);
  auto [id0, id1] = IdsOnDifferentWorkers(broker, "offline-");
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    Member a, b;
    co_await Join(ex, broker, a, id0, "$share/g/off");
    co_await Join(ex, broker, b, id1, "$share/g/off");
    // Re-join both as persistent sessions, then leave.
    EXPECT_TRUE((co_await a.client->Connect(Persistent(broker, id0))).ok());
    EXPECT_TRUE((co_await a.client->Subscribe(Sub("$share/g/off", QoS::kAtLeastOnce))).ok());
    EXPECT_TRUE((co_await b.client->Connect(Persistent(broker, id1))).ok());
    EXPECT_TRUE((co_await b.client->Subscribe(Sub("$share/g/off", QoS::kAtLeastOnce))).ok());
    EXPECT_TRUE((co_await a.client->Disconnect()).ok());
    EXPECT_TRUE((co_await b.client->Disconnect()).ok());
    EXPECT_TRUE(
        co_await WaitUntil([&] { return broker.broker().Snapshot().clients_connected == 0; }));

    auto pub = Client::Create(ex);
    EXPECT_TRUE((co_await pub->Connect(broker.Options("offline-pub"))).ok());
    constexpr int kMessages = 6;
    const uint64_t full_before =
        broker.broker().Snapshot().dropped[static_cast<size_t>(core::DropReason::kQueueFull)];
    co_await PublishN(*pub, "off", kMessages);
    // Two wait in a session queue; the other four exceed it and are counted.
    EXPECT_TRUE(co_await WaitUntil([&] {
      return broker.broker().Snapshot().dropped[static_cast<size_t>(
                 core::DropReason::kQueueFull)] == full_before + kMessages - 2;
    }));
    // Both come back: between them they get the two kept messages, once.
    EXPECT_TRUE((co_await a.client->Connect(Persistent(broker, id0))).ok());
    EXPECT_TRUE((co_await b.client->Connect(Persistent(broker, id1))).ok());
    EXPECT_TRUE(co_await WaitUntil([&] { return a.payloads.size() + b.payloads.size() >= 2; }));
    EXPECT_EQ(Union(a, b), Expected(2));
  });
}

TEST(SharedSubscriptionTest, WorksForMqtt311Clients) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    Member a, b;
    co_await Join(ex, broker, a, "v311-a", "$share/g/v311/#", ProtocolVersion::kMqtt311);
    co_await Join(ex, broker, b, "v311-b", "$share/g/v311/#", ProtocolVersion::kMqtt311);
    auto pub = Client::Create(ex);
    EXPECT_TRUE(
        (co_await pub->Connect(broker.Options("v311-pub", ProtocolVersion::kMqtt311))).ok());
    constexpr int kMessages = 10;
    co_await PublishN(*pub, "v311/t", kMessages);
    EXPECT_TRUE(
        co_await WaitUntil([&] { return a.payloads.size() + b.payloads.size() >= kMessages; }));
    EXPECT_EQ(Union(a, b), Expected(kMessages));
    EXPECT_EQ(a.payloads.size(), static_cast<size_t>(kMessages / 2));
    EXPECT_EQ(b.payloads.size(), static_cast<size_t>(kMessages / 2));
  });
}

}  // namespace
}  // namespace simq::server
