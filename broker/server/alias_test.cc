// Topic aliases (MQTT 5 §3.3.2.3.4) in both directions: the inbound limit the broker advertises,
// invalid and unknown aliases, re-mapping, and aliases the broker assigns to its own PUBLISH.

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

#include "broker/server/test_util.h"
#include "broker/testing/coro.h"

namespace simq::server {
namespace {

using testing::BrokerFixture;
using testing::RunCoroutine;

constexpr uint16_t kServerAliasMaximum = 3;

config::Config AliasConfig() {
  config::Config config = testing::TestConfig();
  config.mqtt.topic_alias_maximum = kServerAliasMaximum;
  return config;
}

protocol::PublishPacket AliasedPublish(std::string_view topic, std::optional<uint16_t> alias,
                                       std::string_view payload) {
  protocol::PublishPacket p;
  p.topic = topic;
  p.payload = payload;
  p.properties.topic_alias = alias;
  return p;
}

protocol::SubscribePacket SubscribeTo(std::string_view filter) {
  protocol::SubscribePacket sub;
  sub.packet_id = 1;
  protocol::TopicSubscription s;
  s.filter = filter;
  sub.subscriptions.push_back(s);
  return sub;
}

// Expects DISCONNECT with `code`, then the connection closed by the broker.
asio::awaitable<void> ExpectDisconnect(RawConnection& c, ReasonCode code) {
  auto p = co_await c.Receive(5s);
  EXPECT_TRUE(p.ok()) << p.status();
  if (p.ok()) {
    const auto* d = p->get<protocol::DisconnectPacket>();
    EXPECT_NE(d, nullptr) << "expected DISCONNECT, got " << protocol::PacketTypeName(p->type());
    if (d) EXPECT_EQ(d->reason_code, code) << protocol::ReasonCodeName(d->reason_code);
  }
  EXPECT_TRUE(co_await c.WaitClosed(5s));
}

// A raw MQTT 5 publisher; checks the Topic Alias Maximum of its CONNACK.
asio::awaitable<std::unique_ptr<RawConnection>> AliasPublisher(asio::any_io_executor ex,
                                                               uint16_t port, std::string id) {
  auto c = co_await RawConnect(ex, port);
  OwnedPacket keep;
  auto connack = co_await Handshake(*c, Connect(id), &keep);
  EXPECT_TRUE(connack.has_value());
  if (connack) EXPECT_EQ(connack->properties.topic_alias_maximum, kServerAliasMaximum);
  co_return c;
}

asio::awaitable<void> ExpectMessage(Client& sub, std::string topic, std::string payload) {
  auto m = co_await sub.Receive(5s);
  EXPECT_TRUE(m.ok()) << m.status() << " waiting for " << payload;
  if (!m.ok()) co_return;
  EXPECT_EQ(m->topic, topic);
  EXPECT_EQ(m->payload, payload);
}

TEST(TopicAliasTest, InboundAliasesUpToTheAdvertisedMaximum) {
  BrokerFixture broker(AliasConfig());
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto sub = Client::Create(ex);
    EXPECT_TRUE((co_await sub->Connect(broker.Options("al-sub"))).ok());
    EXPECT_TRUE((co_await sub->Subscribe(Sub("al/#"))).ok());
    auto pub = co_await AliasPublisher(ex, broker.port(), "al-pub");

    pub->Send(AliasedPublish("al/one", 1, "1"));                      // sets alias 1
    pub->Send(AliasedPublish("", 1, "2"));                            // uses it
    pub->Send(AliasedPublish("al/three", kServerAliasMaximum, "3"));  // the highest allowed
    pub->Send(AliasedPublish("", kServerAliasMaximum, "4"));
    pub->Send(AliasedPublish("", 1, "5"));  // alias 1 still maps to al/one
    co_await ExpectMessage(*sub, "al/one", "1");
    co_await ExpectMessage(*sub, "al/one", "2");
    co_await ExpectMessage(*sub, "al/three", "3");
    co_await ExpectMessage(*sub, "al/three", "4");
    co_await ExpectMessage(*sub, "al/one", "5");
  });
}

TEST(TopicAliasTest, AliasCanBeMappedToANewTopic) {
  BrokerFixture broker(AliasConfig());
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto sub = Client::Create(ex);
    EXPECT_TRUE((co_await sub->Connect(broker.Options("remap-sub"))).ok());
    EXPECT_TRUE((co_await sub->Subscribe(Sub("remap/#"))).ok());
    auto pub = co_await AliasPublisher(ex, broker.port(), "remap-pub");
    pub->Send(AliasedPublish("remap/a", 2, "a1"));
    pub->Send(AliasedPublish("", 2, "a2"));
    pub->Send(AliasedPublish("remap/b", 2, "b1"));  // same alias, new topic: re-mapped
    pub->Send(AliasedPublish("", 2, "b2"));
    co_await ExpectMessage(*sub, "remap/a", "a1");
    co_await ExpectMessage(*sub, "remap/a", "a2");
    co_await ExpectMessage(*sub, "remap/b", "b1");
    co_await ExpectMessage(*sub, "remap/b", "b2");
  });
}

TEST(TopicAliasTest, AliasAboveTheMaximumIsTopicAliasInvalid) {
  BrokerFixture broker(AliasConfig());
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto pub = co_await AliasPublisher(ex, broker.port(), "big-alias");
    pub->Send(AliasedPublish("al/x", kServerAliasMaximum + 1, "x"));
    co_await ExpectDisconnect(*pub, ReasonCode::kTopicAliasInvalid);  // 0x94 [MQTT-3.2.2-17]
  });
}

TEST(TopicAliasTest, AliasZeroIsTopicAliasInvalid) {
  BrokerFixture broker(AliasConfig());
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto pub = co_await AliasPublisher(ex, broker.port(), "zero-alias");
    pub->Send(AliasedPublish("al/x", 0, "x"));
    co_await ExpectDisconnect(*pub, ReasonCode::kTopicAliasInvalid);  // 0x94 [MQTT-3.3.2-8]
  });
}

TEST(TopicAliasTest, AliasesAreRefusedWhenTheServerMaximumIsZero) {
  config::Config config = testing::TestConfig();
  config.mqtt.topic_alias_maximum = 0;
  BrokerFixture broker(config);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto pub = co_await RawConnect(ex, broker.port());
    OwnedPacket keep;
    auto connack = co_await Handshake(*pub, Connect("no-alias"), &keep);
    EXPECT_TRUE(connack.has_value());
    // Absent means 0: the client may not use aliases [MQTT-3.2.2-18].
    if (connack) EXPECT_FALSE(connack->properties.topic_alias_maximum.has_value());
    pub->Send(AliasedPublish("al/x", 1, "x"));
    co_await ExpectDisconnect(*pub, ReasonCode::kTopicAliasInvalid);
  });
}

TEST(TopicAliasTest, EmptyTopicWithUnknownAliasIsAProtocolError) {
  BrokerFixture broker(AliasConfig());
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto pub = co_await AliasPublisher(ex, broker.port(), "unknown-alias");
    pub->Send(AliasedPublish("", 2, "x"));
    co_await ExpectDisconnect(*pub, ReasonCode::kProtocolError);  // 0x82 (§3.3.4)
  });
}

TEST(TopicAliasTest, AliasesLastOnlyForTheNetworkConnection) {
  BrokerFixture broker(AliasConfig());
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto sub = Client::Create(ex);
    EXPECT_TRUE((co_await sub->Connect(broker.Options("conn-sub"))).ok());
    EXPECT_TRUE((co_await sub->Subscribe(Sub("conn/#"))).ok());
    auto pub = co_await AliasPublisher(ex, broker.port(), "conn-pub");
    pub->Send(AliasedPublish("conn/t", 1, "first"));
    co_await ExpectMessage(*sub, "conn/t", "first");
    pub->Send(protocol::DisconnectPacket{});
    EXPECT_TRUE(co_await pub->WaitClosed(5s));
    // [MQTT-3.3.2-7]: a new connection starts without mappings.
    auto again = co_await AliasPublisher(ex, broker.port(), "conn-pub");
    again->Send(AliasedPublish("", 1, "second"));
    co_await ExpectDisconnect(*again, ReasonCode::kProtocolError);
  });
}

// The broker's outbound PUBLISH, as a raw subscriber sees them.
struct Seen {
  std::string topic;  // as sent: empty when only the alias stands for it
  std::optional<uint16_t> alias;
  std::string payload;
};

asio::awaitable<std::vector<Seen>> ReceiveSeen(RawConnection& c, size_t n) {
  std::vector<Seen> seen;
  while (seen.size() < n) {
    auto p = co_await c.Receive(5s);
    EXPECT_TRUE(p.ok()) << p.status();
    if (!p.ok()) break;
    const auto* publish = p->get<protocol::PublishPacket>();
    if (publish == nullptr) continue;
    seen.push_back(Seen{std::string(publish->topic), publish->properties.topic_alias,
                        std::string(publish->payload)});
  }
  co_return seen;
}

TEST(TopicAliasTest, BrokerAssignsOutboundAliasesWhenTheClientAllows) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    constexpr uint16_t kClientMaximum = 2;
    auto sub = co_await RawConnect(ex, broker.port());
    protocol::ConnectPacket connect = Connect("out-sub");
    connect.properties.topic_alias_maximum = kClientMaximum;
    OwnedPacket keep;
    EXPECT_TRUE((co_await Handshake(*sub, connect, &keep)).has_value());
    sub->Send(SubscribeTo("out/#"));
    auto suback = co_await sub->Receive(5s);
    EXPECT_TRUE(suback.ok() && suback->type() == protocol::PacketType::kSuback);

    auto pub = Client::Create(ex);
    EXPECT_TRUE((co_await pub->Connect(broker.Options("out-pub"))).ok());
    std::vector<std::string> topics;
    topics.push_back("out/a");
    topics.push_back("out/a");
    topics.push_back("out/b");
    topics.push_back("out/c");  // more topics than the client's maximum
    topics.push_back("out/b");
    topics.push_back("out/a");
    for (size_t i = 0; i < topics.size(); ++i) {
      EXPECT_TRUE((co_await pub->Publish(Msg(topics[i], absl::StrCat(i)))).ok());
    }
    std::vector<Seen> seen = co_await ReceiveSeen(*sub, topics.size());
    EXPECT_EQ(seen.size(), topics.size());
    if (seen.size() != topics.size()) co_return;

    // The first PUBLISH on a topic carries topic and alias; the next only the alias.
    EXPECT_EQ(seen[0].topic, "out/a");
    EXPECT_TRUE(seen[0].alias.has_value());
    EXPECT_EQ(seen[1].topic, "");
    EXPECT_EQ(seen[1].alias, seen[0].alias);
    // Every PUBLISH resolves to the right topic through the client's own mapping, and no alias
    // exceeds what the client allowed [MQTT-3.1.2-26].
    std::vector<std::string> mapping(kClientMaximum + 1);
    for (size_t i = 0; i < seen.size(); ++i) {
      EXPECT_EQ(seen[i].payload, absl::StrCat(i));
      std::string resolved = seen[i].topic;
      if (seen[i].alias) {
        const uint16_t alias = *seen[i].alias;
        EXPECT_GE(alias, 1);
        EXPECT_LE(alias, kClientMaximum);
        if (alias < 1 || alias > kClientMaximum) continue;
        if (resolved.empty()) {
          resolved = mapping[alias];
        } else {
          mapping[alias] = resolved;
        }
      }
      EXPECT_EQ(resolved, topics[i]) << "message " << i;
    }
  });
}

TEST(TopicAliasTest, NoOutboundAliasesWhenTheClientMaximumIsZero) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto sub = co_await RawConnect(ex, broker.port());
    protocol::ConnectPacket connect = Connect("plain-sub");
    connect.properties.topic_alias_maximum = 0;
    OwnedPacket keep;
    EXPECT_TRUE((co_await Handshake(*sub, connect, &keep)).has_value());
    sub->Send(SubscribeTo("plain/#"));
    auto suback = co_await sub->Receive(5s);
    EXPECT_TRUE(suback.ok() && suback->type() == protocol::PacketType::kSuback);

    auto pub = Client::Create(ex);
    EXPECT_TRUE((co_await pub->Connect(broker.Options("plain-pub"))).ok());
    for (int i = 0; i < 3; ++i) EXPECT_TRUE((co_await pub->Publish(Msg("plain/t", "x"))).ok());
    std::vector<Seen> seen = co_await ReceiveSeen(*sub, 3);
    EXPECT_EQ(seen.size(), 3u);
    for (const Seen& s : seen) {
      EXPECT_EQ(s.topic, "plain/t");
      EXPECT_FALSE(s.alias.has_value());  // [MQTT-3.1.2-27]
    }
  });
}

}  // namespace
}  // namespace simq::server
