// SUBSCRIBE and UNSUBSCRIBE: wildcard matching, $-topics, overlapping subscriptions,
// Subscription Identifiers, NoLocal, Retain As Published, Retain Handling, SUBACK and UNSUBACK
// reason codes, and the capabilities CONNACK advertises.
//
// "Nothing else arrived" is observed without sleeping: the same publisher then publishes to a
// sentinel topic the subscriber also has, and the sentinel must be the next message (one
// publisher's messages reach a subscriber in order).

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "broker/auth/auth_interface.h"
#include "broker/server/test_util.h"
#include "broker/testing/coro.h"

namespace simq::server {
namespace {

using protocol::RetainHandling;
using protocol::SubscriptionOptions;
using testing::BrokerFixture;
using testing::RunCoroutine;

class SubscribeTest : public ::testing::TestWithParam<ProtocolVersion> {};

INSTANTIATE_TEST_SUITE_P(Versions, SubscribeTest,
                         ::testing::Values(ProtocolVersion::kMqtt5, ProtocolVersion::kMqtt311),
                         VersionName);

// Lists and options built outside coroutine bodies (GCC 12, see test_util.h).
client::Subscription One(std::string filter, QoS qos) {
  client::Subscription s;
  s.filter = std::move(filter);
  s.options.max_qos = qos;
  return s;
}

SubscriptionOptions Options(QoS qos, bool no_local = false, bool retain_as_published = false,
                            RetainHandling handling = RetainHandling::kSendOnSubscribe) {
  SubscriptionOptions o;
  o.max_qos = qos;
  o.no_local = no_local;
  o.retain_as_published = retain_as_published;
  o.retain_handling = handling;
  return o;
}

protocol::OwnedProperties SubscriptionId(uint32_t id) {
  const uint32_t ids[1] = {id};
  protocol::Properties p;
  p.subscription_ids = protocol::SubscriptionIds(std::span<const uint32_t>(ids, 1));
  return protocol::OwnedProperties(p);
}

std::vector<uint32_t> SortedIds(const Message& m) {
  std::vector<uint32_t> ids = m.properties.view().subscription_ids.ToVector();
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<uint32_t> Ids(uint32_t a) {
  return std::vector<uint32_t>(1, a);
}
std::vector<uint32_t> Ids(uint32_t a, uint32_t b) {
  std::vector<uint32_t> v;
  v.push_back(a);
  v.push_back(b);
  return v;
}

asio::awaitable<std::shared_ptr<Client>> Online(asio::any_io_executor ex, BrokerFixture& broker,
                                                std::string id, ProtocolVersion v,
                                                protocol::OwnedProperties* connack = nullptr) {
  auto c = Client::Create(ex);
  auto result = co_await c->Connect(broker.Options(std::move(id), v));
  EXPECT_TRUE(result.ok()) << result.status();
  if (result.ok()) {
    EXPECT_EQ(result->reason_code, ReasonCode::kSuccess);
    if (connack != nullptr) *connack = result->properties;
  }
  co_return c;
}

// The reason codes of a SUBACK (empty, and a test failure, if the call failed).
asio::awaitable<std::vector<ReasonCode>> Codes(
    asio::awaitable<absl::StatusOr<client::AckResult>> ack) {
  absl::StatusOr<client::AckResult> result = co_await std::move(ack);
  EXPECT_TRUE(result.ok()) << result.status();
  if (!result.ok()) co_return std::vector<ReasonCode>();
  co_return result->reason_codes;
}

// The topics `c` receives up to and excluding the first message on `sentinel`.
asio::awaitable<std::vector<std::string>> TopicsUntil(Client& c, std::string sentinel) {
  std::vector<std::string> topics;
  while (true) {
    absl::StatusOr<Message> m = co_await c.Receive(5s);
    EXPECT_TRUE(m.ok()) << m.status() << " (waiting for " << sentinel << ")";
    if (!m.ok() || m->topic == sentinel) break;
    topics.push_back(m->topic);
  }
  co_return topics;
}

// The next message must be the sentinel: nothing else was delivered before it.
asio::awaitable<void> ExpectOnlySentinel(Client& c, const std::string& sentinel) {
  std::vector<std::string> extra = co_await TopicsUntil(c, sentinel);
  EXPECT_TRUE(extra.empty()) << "unexpected message on " << extra.front();
}

// ---------------------------------------------------------------------------------------------
// Matching

struct WildcardCase {
  std::string filter;
  std::vector<std::string> expected;  // in publish order
};

std::vector<std::string> WildcardTopics() {
  return {"a", "a/b", "a/b/c", "a/c", "b/b", "/b", "a/"};
}

std::vector<WildcardCase> WildcardCases() {
  return {
      {"a/#", {"a", "a/b", "a/b/c", "a/c", "a/"}},  // "a/#" matches "a" [MQTT-4.7.1-2]
      {"a/+", {"a/b", "a/c", "a/"}},                // '+' matches an empty level
      {"+/b", {"a/b", "b/b", "/b"}},
      {"+/+", {"a/b", "a/c", "b/b", "/b", "a/"}},
      {"+/+/+", {"a/b/c"}},
      {"+", {"a"}},
      {"/+", {"/b"}},
      {"#", {"a", "a/b", "a/b/c", "a/c", "b/b", "/b", "a/"}},
      {"+/#", {"a", "a/b", "a/b/c", "a/c", "b/b", "/b", "a/"}},
      {"a/b/c", {"a/b/c"}},
  };
}

TEST_P(SubscribeTest, WildcardsMatchAsSpecified) {
  const ProtocolVersion v = GetParam();
  BrokerFixture broker;
  const std::vector<WildcardCase> cases = WildcardCases();
  const std::vector<std::string> topics = WildcardTopics();
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    std::vector<std::shared_ptr<Client>> subs;
    for (size_t i = 0; i < cases.size(); ++i) {
      auto c = co_await Online(ex, broker, "wild-" + std::to_string(i), v);
      std::vector<ReasonCode> granted =
          co_await Codes(c->Subscribe(Sub(cases[i].filter, QoS::kAtLeastOnce)));
      CO_ASSERT(granted.size() == 1);
      EXPECT_EQ(granted[0], ReasonCode::kGrantedQoS1) << cases[i].filter;
      CO_ASSERT((co_await c->Subscribe(Sub("end", QoS::kAtLeastOnce))).ok());
      subs.push_back(c);
    }
    auto pub = co_await Online(ex, broker, "wild-pub", v);
    for (const std::string& topic : topics) {
      CO_ASSERT((co_await pub->Publish(Msg(topic, "x", QoS::kAtLeastOnce))).ok());
    }
    CO_ASSERT((co_await pub->Publish(Msg("end", "", QoS::kAtLeastOnce))).ok());
    for (size_t i = 0; i < cases.size(); ++i) {
      std::vector<std::string> got = co_await TopicsUntil(*subs[i], "end");
      EXPECT_EQ(got, cases[i].expected) << "filter " << cases[i].filter;
    }
  });
}

std::vector<WildcardCase> DollarCases() {
  return {
      {"#", {}},
      {"+/bar", {}},
      {"+/+", {}},
      {"+/#", {}},
      {"$SYS/#", {}},
      {"$foo/#", {"$foo/bar"}},
      {"$foo/+", {"$foo/bar"}},
      {"$foo/bar", {"$foo/bar"}},
      {"$SYSTEM/#", {"$SYSTEM/bar"}},
  };
}

TEST_P(SubscribeTest, DollarTopicsAreNotMatchedByLeadingWildcards) {
  const ProtocolVersion v = GetParam();
  BrokerFixture broker;
  const std::vector<WildcardCase> cases = DollarCases();
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    std::vector<std::shared_ptr<Client>> subs;
    for (size_t i = 0; i < cases.size(); ++i) {
      auto c = co_await Online(ex, broker, "dollar-" + std::to_string(i), v);
      CO_ASSERT((co_await c->Subscribe(Sub(cases[i].filter, QoS::kAtLeastOnce))).ok());
      CO_ASSERT((co_await c->Subscribe(Sub("end", QoS::kAtLeastOnce))).ok());
      subs.push_back(c);
    }
    auto pub = co_await Online(ex, broker, "dollar-pub", v);
    // [MQTT-4.7.2-1]: "#" and "+/..." do not match a topic starting with '$'; a filter whose
    // first level is the same $-level does.
    auto ok = co_await pub->Publish(Msg("$foo/bar", "x", QoS::kAtLeastOnce));
    CO_ASSERT(ok.ok());
    EXPECT_EQ(ok->reason_code, ReasonCode::kSuccess);
    // Clients may not publish into $SYS (the broker's own tree): not authorized, and delivered
    // to nobody, not even "$SYS/#". MQTT 3.1.1 cannot say no, so it gets a plain PUBACK.
    auto refused = co_await pub->Publish(Msg("$SYS/fake", "x", QoS::kAtLeastOnce));
    CO_ASSERT(refused.ok());
    EXPECT_EQ(refused->reason_code,
              protocol::IsV5(v) ? ReasonCode::kNotAuthorized : ReasonCode::kSuccess);
    // "$SYSTEM" is not "$SYS": an ordinary $-topic.
    auto system = co_await pub->Publish(Msg("$SYSTEM/bar", "x", QoS::kAtLeastOnce));
    CO_ASSERT(system.ok());
    EXPECT_EQ(system->reason_code, ReasonCode::kSuccess);
    CO_ASSERT((co_await pub->Publish(Msg("end", "", QoS::kAtLeastOnce))).ok());
    for (size_t i = 0; i < cases.size(); ++i) {
      std::vector<std::string> got = co_await TopicsUntil(*subs[i], "end");
      EXPECT_EQ(got, cases[i].expected) << "filter " << cases[i].filter;
    }
  });
}

TEST_P(SubscribeTest, OverlappingSubscriptionsDeliverOneCopyAtTheHighestQoS) {
  const ProtocolVersion v = GetParam();
  const bool v5 = protocol::IsV5(v);
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto sub = co_await Online(ex, broker, "overlap-sub", v);
    // One SUBSCRIBE per filter: each carries its own Subscription Identifier (MQTT 5).
    // (The client sends no properties in 3.1.1.)
    CO_ASSERT((co_await sub->Subscribe(Sub("ov/#", QoS::kAtMostOnce), SubscriptionId(1))).ok());
    CO_ASSERT((co_await sub->Subscribe(Sub("ov/+", QoS::kExactlyOnce), SubscriptionId(2))).ok());
    CO_ASSERT((co_await sub->Subscribe(Sub("ov/a", QoS::kAtLeastOnce))).ok());
    CO_ASSERT((co_await sub->Subscribe(Sub("end"))).ok());
    auto pub = co_await Online(ex, broker, "overlap-pub", v);
    CO_ASSERT((co_await pub->Publish(Msg("ov/a", "three", QoS::kExactlyOnce))).ok());
    CO_ASSERT((co_await pub->Publish(Msg("ov/b", "two", QoS::kAtLeastOnce))).ok());
    CO_ASSERT((co_await pub->Publish(Msg("ov/x/y", "one", QoS::kExactlyOnce))).ok());
    CO_ASSERT((co_await pub->Publish(Msg("end", ""))).ok());

    // Documented choice [MQTT-3.3.4-2]: one copy per session at the highest QoS of the matching
    // subscriptions, carrying every matching Subscription Identifier [MQTT-3.3.4-3].
    auto a = co_await sub->Receive(5s);
    CO_ASSERT(a.ok());
    EXPECT_EQ(a->topic, "ov/a");
    EXPECT_EQ(a->qos, QoS::kExactlyOnce);
    if (v5) EXPECT_EQ(SortedIds(*a), Ids(1, 2));
    auto b = co_await sub->Receive(5s);
    CO_ASSERT(b.ok());
    EXPECT_EQ(b->topic, "ov/b");
    EXPECT_EQ(b->qos, QoS::kAtLeastOnce);  // min(published 1, best granted 2)
    if (v5) EXPECT_EQ(SortedIds(*b), Ids(1, 2));
    auto c = co_await sub->Receive(5s);
    CO_ASSERT(c.ok());
    EXPECT_EQ(c->topic, "ov/x/y");
    EXPECT_EQ(c->qos, QoS::kAtMostOnce);  // only "ov/#" matches
    if (v5) EXPECT_EQ(SortedIds(*c), Ids(1));
    co_await ExpectOnlySentinel(*sub, "end");
  });
}

// ---------------------------------------------------------------------------------------------
// Subscription options (MQTT 5)

TEST(SubscribeTest, SubscriptionIdentifiersAreDelivered) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto pub = co_await Online(ex, broker, "sid-pub", ProtocolVersion::kMqtt5);
    CO_ASSERT((co_await pub->Publish(Msg("sid/r", "retained", QoS::kAtLeastOnce, true))).ok());
    auto sub = co_await Online(ex, broker, "sid-sub", ProtocolVersion::kMqtt5);
    auto plain = co_await Online(ex, broker, "sid-plain", ProtocolVersion::kMqtt5);
    CO_ASSERT((co_await plain->Subscribe(Sub("sid/a", QoS::kAtLeastOnce))).ok());

    // The retained message sent on subscribe carries the identifier too [MQTT-3.3.4-3].
    CO_ASSERT((co_await sub->Subscribe(Sub("sid/+", QoS::kAtLeastOnce), SubscriptionId(5))).ok());
    auto r = co_await sub->Receive(5s);
    CO_ASSERT(r.ok());
    EXPECT_EQ(r->topic, "sid/r");
    EXPECT_EQ(SortedIds(*r), Ids(5));
    CO_ASSERT((co_await pub->Publish(Msg("sid/a", "live", QoS::kAtLeastOnce))).ok());
    auto m = co_await sub->Receive(5s);
    CO_ASSERT(m.ok());
    EXPECT_EQ(m->topic, "sid/a");
    EXPECT_EQ(SortedIds(*m), Ids(5));
    // A subscription without an identifier: none on the message.
    auto p = co_await plain->Receive(5s);
    CO_ASSERT(p.ok());
    EXPECT_TRUE(p->properties.view().subscription_ids.empty());

    // Re-subscribing replaces the identifier [MQTT-3.8.4-3] ...
    CO_ASSERT((co_await sub->Subscribe(Sub("sid/+", QoS::kAtLeastOnce), SubscriptionId(6))).ok());
    r = co_await sub->Receive(5s);  // the retained message again (Retain Handling 0)
    CO_ASSERT(r.ok());
    EXPECT_EQ(SortedIds(*r), Ids(6));
    CO_ASSERT((co_await pub->Publish(Msg("sid/a", "live", QoS::kAtLeastOnce))).ok());
    m = co_await sub->Receive(5s);
    CO_ASSERT(m.ok());
    EXPECT_EQ(SortedIds(*m), Ids(6));
    // ... or removes it.
    CO_ASSERT((co_await sub->Subscribe(Sub("sid/+", QoS::kAtLeastOnce))).ok());
    r = co_await sub->Receive(5s);
    CO_ASSERT(r.ok());
    EXPECT_TRUE(r->properties.view().subscription_ids.empty());
    CO_ASSERT((co_await pub->Publish(Msg("sid/a", "live", QoS::kAtLeastOnce))).ok());
    m = co_await sub->Receive(5s);
    CO_ASSERT(m.ok());
    EXPECT_TRUE(m->properties.view().subscription_ids.empty());
  });
}

TEST(SubscribeTest, NoLocalSuppressesOnlyTheSubscribersOwnMessages) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto self = co_await Online(ex, broker, "nolocal-self", ProtocolVersion::kMqtt5);
    auto other = co_await Online(ex, broker, "nolocal-other", ProtocolVersion::kMqtt5);
    auto watcher = co_await Online(ex, broker, "nolocal-watch", ProtocolVersion::kMqtt5);
    CO_ASSERT((co_await self->Subscribe(Sub("nl/t", Options(QoS::kAtLeastOnce, /*no_local=*/true))))
                  .ok());
    CO_ASSERT((co_await self->Subscribe(Sub("nl/end", QoS::kAtLeastOnce))).ok());
    CO_ASSERT((co_await watcher->Subscribe(Sub("nl/t", QoS::kAtLeastOnce))).ok());

    // [MQTT-3.8.3-3]: not forwarded to the connection that published it ...
    CO_ASSERT((co_await self->Publish(Msg("nl/t", "mine", QoS::kAtLeastOnce))).ok());
    // ... but other clients' messages are, and so are its own on other subscriptions.
    CO_ASSERT((co_await other->Publish(Msg("nl/t", "theirs", QoS::kAtLeastOnce))).ok());
    auto m = co_await self->Receive(5s);
    CO_ASSERT(m.ok());
    EXPECT_EQ(m->payload, "theirs");
    CO_ASSERT((co_await self->Publish(Msg("nl/end", "end", QoS::kAtLeastOnce))).ok());
    co_await ExpectOnlySentinel(*self, "nl/end");
    // Other subscribers still get the publisher's message.
    auto w1 = co_await watcher->Receive(5s);
    auto w2 = co_await watcher->Receive(5s);
    CO_ASSERT(w1.ok() && w2.ok());
    EXPECT_EQ(w1->payload, "mine");
    EXPECT_EQ(w2->payload, "theirs");
  });
}

TEST_P(SubscribeTest, RetainAsPublished) {
  const ProtocolVersion v = GetParam();
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto keep = co_await Online(ex, broker, "rap-keep", ProtocolVersion::kMqtt5);
    auto clear = co_await Online(ex, broker, "rap-clear", v);
    CO_ASSERT((co_await keep->Subscribe(
                   Sub("rap/t", Options(QoS::kAtLeastOnce, false, /*retain_as_published=*/true))))
                  .ok());
    CO_ASSERT((co_await clear->Subscribe(Sub("rap/t", QoS::kAtLeastOnce))).ok());
    auto pub = co_await Online(ex, broker, "rap-pub", v);
    CO_ASSERT((co_await pub->Publish(Msg("rap/t", "retained", QoS::kAtLeastOnce, true))).ok());
    CO_ASSERT((co_await pub->Publish(Msg("rap/t", "plain", QoS::kAtLeastOnce, false))).ok());

    // Live messages: the flag as published with Retain As Published [MQTT-3.3.1-13], else 0
    // [MQTT-3.3.1-12] (3.1.1: always 0 [MQTT-3.3.1-9 of 3.1.1]).
    auto k1 = co_await keep->Receive(5s);
    auto k2 = co_await keep->Receive(5s);
    CO_ASSERT(k1.ok() && k2.ok());
    EXPECT_TRUE(k1->retain);
    EXPECT_FALSE(k2->retain);
    auto c1 = co_await clear->Receive(5s);
    auto c2 = co_await clear->Receive(5s);
    CO_ASSERT(c1.ok() && c2.ok());
    EXPECT_EQ(c1->payload, "retained");
    EXPECT_FALSE(c1->retain);
    EXPECT_FALSE(c2->retain);

    // A retained message sent because of a new subscription always has the flag
    // [MQTT-3.3.1-9], whatever Retain As Published says.
    auto late = co_await Online(ex, broker, "rap-late", v);
    CO_ASSERT((co_await late->Subscribe(Sub("rap/t", QoS::kAtLeastOnce))).ok());
    auto r = co_await late->Receive(5s);
    CO_ASSERT(r.ok());
    EXPECT_EQ(r->payload, "retained");
    EXPECT_TRUE(r->retain);
  });
}

TEST(SubscribeTest, RetainHandling) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto pub = co_await Online(ex, broker, "rh-pub", ProtocolVersion::kMqtt5);
    CO_ASSERT((co_await pub->Publish(Msg("rh/t", "kept", QoS::kAtLeastOnce, true))).ok());
    auto rh0 = co_await Online(ex, broker, "rh-0", ProtocolVersion::kMqtt5);
    auto rh1 = co_await Online(ex, broker, "rh-1", ProtocolVersion::kMqtt5);
    auto rh2 = co_await Online(ex, broker, "rh-2", ProtocolVersion::kMqtt5);
    CO_ASSERT((co_await rh0->Subscribe(Sub("rh/end"))).ok());
    CO_ASSERT((co_await rh1->Subscribe(Sub("rh/end"))).ok());
    CO_ASSERT((co_await rh2->Subscribe(Sub("rh/end"))).ok());
    const std::vector<client::Subscription> s0 =
        Sub("rh/t", Options(QoS::kAtLeastOnce, false, false, RetainHandling::kSendOnSubscribe));
    const std::vector<client::Subscription> s1 = Sub(
        "rh/t", Options(QoS::kAtLeastOnce, false, false, RetainHandling::kSendIfNewSubscription));
    const std::vector<client::Subscription> s2 =
        Sub("rh/t", Options(QoS::kAtLeastOnce, false, false, RetainHandling::kDoNotSend));

    // 0: on every SUBSCRIBE, new or not [MQTT-3.3.1-9].
    for (int i = 0; i < 2; ++i) {
      CO_ASSERT((co_await rh0->Subscribe(s0)).ok());
      auto m = co_await rh0->Receive(5s);
      CO_ASSERT(m.ok());
      EXPECT_EQ(m->payload, "kept") << "subscribe #" << i;
    }
    // 1: only when the subscription did not exist [MQTT-3.3.1-10].
    CO_ASSERT((co_await rh1->Subscribe(s1)).ok());
    auto m1 = co_await rh1->Receive(5s);
    CO_ASSERT(m1.ok());
    EXPECT_EQ(m1->payload, "kept");
    CO_ASSERT((co_await rh1->Subscribe(s1)).ok());
    // 2: never [MQTT-3.3.1-11].
    CO_ASSERT((co_await rh2->Subscribe(s2)).ok());
    CO_ASSERT((co_await pub->Publish(Msg("rh/end", "end", QoS::kAtLeastOnce))).ok());
    co_await ExpectOnlySentinel(*rh0, "rh/end");
    co_await ExpectOnlySentinel(*rh1, "rh/end");
    co_await ExpectOnlySentinel(*rh2, "rh/end");

    // After UNSUBSCRIBE the subscription is new again for Retain Handling 1.
    CO_ASSERT((co_await rh1->Unsubscribe(Filters("rh/t"))).ok());
    CO_ASSERT((co_await rh1->Subscribe(s1)).ok());
    auto again = co_await rh1->Receive(5s);
    CO_ASSERT(again.ok());
    EXPECT_EQ(again->payload, "kept");
  });
}

TEST(SubscribeTest, Mqtt311SendsRetainedOnEverySubscribe) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto pub = co_await Online(ex, broker, "rh311-pub", ProtocolVersion::kMqtt311);
    CO_ASSERT((co_await pub->Publish(Msg("rh311/t", "kept", QoS::kAtLeastOnce, true))).ok());
    auto sub = co_await Online(ex, broker, "rh311-sub", ProtocolVersion::kMqtt311);
    // [MQTT-3.8.4-3] (3.1.1): a repeated SUBSCRIBE re-sends the retained messages.
    for (int i = 0; i < 2; ++i) {
      CO_ASSERT((co_await sub->Subscribe(Sub("rh311/t", QoS::kAtLeastOnce))).ok());
      auto m = co_await sub->Receive(5s);
      CO_ASSERT(m.ok());
      EXPECT_EQ(m->payload, "kept");
      EXPECT_TRUE(m->retain);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// SUBACK reason codes and CONNACK capabilities

TEST_P(SubscribeTest, SubackHasOneReasonCodePerFilter) {
  const ProtocolVersion v = GetParam();
  const ReasonCode invalid = protocol::IsV5(v) ? ReasonCode::kTopicFilterInvalid  // 0x8F
                                               : ReasonCode::kUnspecifiedError;   // 0x80
  BrokerFixture broker;
  std::vector<client::Subscription> filters;
  filters.push_back(One("ok/+", QoS::kAtLeastOnce));
  filters.push_back(One("a/#/b", QoS::kAtLeastOnce));  // '#' not last [MQTT-4.7.1-2]
  filters.push_back(One("ok/x", QoS::kExactlyOnce));
  filters.push_back(One("a+", QoS::kAtMostOnce));  // '+' not a whole level [MQTT-4.7.1-3]
  filters.push_back(One("#", QoS::kAtMostOnce));
  std::vector<ReasonCode> expected;
  expected.push_back(ReasonCode::kGrantedQoS1);
  expected.push_back(invalid);
  expected.push_back(ReasonCode::kGrantedQoS2);
  expected.push_back(invalid);
  expected.push_back(ReasonCode::kSuccess);  // Granted QoS 0
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = co_await Online(ex, broker, "suback", v);
    EXPECT_EQ(co_await Codes(c->Subscribe(filters)), expected);
    // The connection stays up and the granted ones work.
    auto pub = co_await Online(ex, broker, "suback-pub", v);
    CO_ASSERT((co_await pub->Publish(Msg("ok/x", "x", QoS::kExactlyOnce))).ok());
    auto m = co_await c->Receive(5s);
    CO_ASSERT(m.ok());
    EXPECT_EQ(m->qos, QoS::kExactlyOnce);
  });
}

TEST(SubscribeTest, CapabilitiesAreAdvertisedAsAvailableByDefault) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    protocol::OwnedProperties connack;
    co_await Online(ex, broker, "caps", ProtocolVersion::kMqtt5, &connack);
    // Absent means available (§3.2.2.3.11-13); a present value must then be 1.
    EXPECT_EQ(connack.view().wildcard_subscription_available.value_or(1), 1);
    EXPECT_EQ(connack.view().subscription_identifier_available.value_or(1), 1);
    EXPECT_EQ(connack.view().shared_subscription_available.value_or(1), 1);
  });
}

TEST(SubscribeTest, SharedSubscriptionsDisabled) {
  config::Config config = testing::TestConfig();
  config.mqtt.shared_subscriptions = false;
  BrokerFixture broker(config);
  std::vector<client::Subscription> filters;
  filters.push_back(One("$share/g/t", QoS::kAtLeastOnce));
  filters.push_back(One("t", QoS::kAtLeastOnce));
  std::vector<ReasonCode> expected;
  expected.push_back(ReasonCode::kSharedSubscriptionsNotSupported);  // 0x9E
  expected.push_back(ReasonCode::kGrantedQoS1);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    protocol::OwnedProperties connack;
    auto c = co_await Online(ex, broker, "noshare", ProtocolVersion::kMqtt5, &connack);
    EXPECT_EQ(connack.view().shared_subscription_available, 0);  // [MQTT-3.2.2-? §3.2.2.3.13]
    EXPECT_EQ(co_await Codes(c->Subscribe(filters)), expected);
  });
}

TEST(SubscribeTest, SubscriptionIdentifiersDisabled) {
  config::Config config = testing::TestConfig();
  config.mqtt.subscription_identifiers = false;
  BrokerFixture broker(config);
  std::vector<client::Subscription> filters;
  filters.push_back(One("x/y", QoS::kAtLeastOnce));
  filters.push_back(One("x/z", QoS::kAtMostOnce));
  std::vector<ReasonCode> refused(2, ReasonCode::kSubscriptionIdentifiersNotSupported);  // 0xA1
  std::vector<ReasonCode> granted;
  granted.push_back(ReasonCode::kGrantedQoS1);
  granted.push_back(ReasonCode::kSuccess);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    protocol::OwnedProperties connack;
    auto c = co_await Online(ex, broker, "nosid", ProtocolVersion::kMqtt5, &connack);
    EXPECT_EQ(connack.view().subscription_identifier_available, 0);
    EXPECT_EQ(co_await Codes(c->Subscribe(filters, SubscriptionId(3))), refused);
    // Without an identifier the same filters are fine.
    EXPECT_EQ(co_await Codes(c->Subscribe(filters)), granted);
  });
}

TEST_P(SubscribeTest, WildcardSubscriptionsDisabled) {
  const ProtocolVersion v = GetParam();
  const ReasonCode refused = protocol::IsV5(v)
                                 ? ReasonCode::kWildcardSubscriptionsNotSupported  // 0xA2
                                 : ReasonCode::kUnspecifiedError;
  config::Config config = testing::TestConfig();
  config.mqtt.wildcard_subscriptions = false;
  BrokerFixture broker(config);
  std::vector<client::Subscription> filters;
  filters.push_back(One("w/+", QoS::kAtLeastOnce));
  filters.push_back(One("w/#", QoS::kAtLeastOnce));
  filters.push_back(One("w/x", QoS::kAtLeastOnce));
  std::vector<ReasonCode> expected;
  expected.push_back(refused);
  expected.push_back(refused);
  expected.push_back(ReasonCode::kGrantedQoS1);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    protocol::OwnedProperties connack;
    auto c = co_await Online(ex, broker, "nowild", v, &connack);
    if (protocol::IsV5(v)) EXPECT_EQ(connack.view().wildcard_subscription_available, 0);
    EXPECT_EQ(co_await Codes(c->Subscribe(filters)), expected);
    // The refused filters deliver nothing.
    auto pub = co_await Online(ex, broker, "nowild-pub", v);
    CO_ASSERT((co_await pub->Publish(Msg("w/y", "no", QoS::kAtLeastOnce))).ok());
    CO_ASSERT((co_await pub->Publish(Msg("w/x", "yes", QoS::kAtLeastOnce))).ok());
    co_await ExpectOnlySentinel(*c, "w/x");
  });
}

// Denies subscriptions to "secret/..." filters; allows everything else.
class DenySecrets : public auth::Authorizer {
 public:
  bool CanPublish(const auth::ClientInfo&, std::string_view) override { return true; }
  bool CanSubscribe(const auth::ClientInfo&, std::string_view filter) override {
    return !filter.starts_with("secret/");
  }
};

TEST_P(SubscribeTest, UnauthorizedFiltersAreRefused) {
  const ProtocolVersion v = GetParam();
  core::BrokerOptions options;
  options.authorizer = std::make_shared<DenySecrets>();
  BrokerFixture broker(testing::TestConfig(), /*fake_clock=*/false, options);
  std::vector<client::Subscription> filters;
  filters.push_back(One("secret/x", QoS::kAtLeastOnce));
  filters.push_back(One("public/x", QoS::kAtLeastOnce));
  std::vector<ReasonCode> expected;
  expected.push_back(protocol::IsV5(v) ? ReasonCode::kNotAuthorized  // 0x87
                                       : ReasonCode::kUnspecifiedError);
  expected.push_back(ReasonCode::kGrantedQoS1);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = co_await Online(ex, broker, "authz", v);
    EXPECT_EQ(co_await Codes(c->Subscribe(filters)), expected);
    auto pub = co_await Online(ex, broker, "authz-pub", v);
    CO_ASSERT((co_await pub->Publish(Msg("secret/x", "no", QoS::kAtLeastOnce))).ok());
    CO_ASSERT((co_await pub->Publish(Msg("public/x", "yes", QoS::kAtLeastOnce))).ok());
    co_await ExpectOnlySentinel(*c, "public/x");
  });
}

// ---------------------------------------------------------------------------------------------
// UNSUBSCRIBE, re-SUBSCRIBE

TEST_P(SubscribeTest, UnsubscribeStopsDelivery) {
  const ProtocolVersion v = GetParam();
  BrokerFixture broker;
  // Publisher and subscriber on different workers: the route is removed everywhere before
  // UNSUBACK.
  const std::string sub_id = IdOnWorker(broker, "unsub-sub", 0);
  const std::string pub_id = IdOnWorker(broker, "unsub-pub", 1);
  std::vector<std::string> filters;
  filters.push_back("u/a");
  filters.push_back("u/none");
  std::vector<ReasonCode> expected;
  if (protocol::IsV5(v)) {
    expected.push_back(ReasonCode::kSuccess);
    expected.push_back(ReasonCode::kNoSubscriptionExisted);  // 0x11
  }
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto sub = co_await Online(ex, broker, sub_id, v);
    auto pub = co_await Online(ex, broker, pub_id, v);
    CO_ASSERT((co_await sub->Subscribe(Sub("u/a", QoS::kAtLeastOnce))).ok());
    CO_ASSERT((co_await sub->Subscribe(Sub("u/end", QoS::kAtLeastOnce))).ok());
    CO_ASSERT((co_await pub->Publish(Msg("u/a", "before", QoS::kAtLeastOnce))).ok());
    auto m = co_await sub->Receive(5s);
    CO_ASSERT(m.ok());
    EXPECT_EQ(m->payload, "before");

    auto unsuback = co_await sub->Unsubscribe(filters);
    CO_ASSERT(unsuback.ok());
    EXPECT_EQ(unsuback->reason_codes, expected);  // 3.1.1 UNSUBACK has none
    for (int i = 0; i < 5; ++i) {
      CO_ASSERT((co_await pub->Publish(Msg("u/a", "after", QoS::kAtLeastOnce))).ok());
    }
    CO_ASSERT((co_await pub->Publish(Msg("u/end", "end", QoS::kAtLeastOnce))).ok());
    co_await ExpectOnlySentinel(*sub, "u/end");
    // Unsubscribing again: nothing existed any more.
    auto again = co_await sub->Unsubscribe(Filters("u/a"));
    CO_ASSERT(again.ok());
    if (protocol::IsV5(v)) {
      CO_ASSERT(again->reason_codes.size() == 1);
      EXPECT_EQ(again->reason_codes[0], ReasonCode::kNoSubscriptionExisted);
    }
  });
}

TEST_P(SubscribeTest, ResubscribeReplacesOptionsWithoutDuplicates) {
  const ProtocolVersion v = GetParam();
  BrokerFixture broker;
  const std::string sub_id = IdOnWorker(broker, "resub-sub", 1);
  const std::string pub_id = IdOnWorker(broker, "resub-pub", 0);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto sub = co_await Online(ex, broker, sub_id, v);
    auto pub = co_await Online(ex, broker, pub_id, v);
    const int64_t before = broker.broker().Snapshot().subscriptions;
    CO_ASSERT((co_await sub->Subscribe(Sub("re/end", QoS::kAtMostOnce))).ok());
    std::vector<ReasonCode> first = co_await Codes(sub->Subscribe(Sub("re/t", QoS::kAtMostOnce)));
    CO_ASSERT(first.size() == 1);
    EXPECT_EQ(first[0], ReasonCode::kSuccess);
    CO_ASSERT((co_await pub->Publish(Msg("re/t", "low", QoS::kExactlyOnce))).ok());
    auto m = co_await sub->Receive(5s);
    CO_ASSERT(m.ok());
    EXPECT_EQ(m->qos, QoS::kAtMostOnce);

    // [MQTT-3.8.4-3]: the new SUBSCRIBE replaces the existing subscription's options.
    std::vector<ReasonCode> second = co_await Codes(sub->Subscribe(Sub("re/t", QoS::kExactlyOnce)));
    CO_ASSERT(second.size() == 1);
    EXPECT_EQ(second[0], ReasonCode::kGrantedQoS2);
    EXPECT_EQ(broker.broker().Snapshot().subscriptions - before, 2);  // "re/end" and "re/t"
    CO_ASSERT((co_await pub->Publish(Msg("re/t", "high", QoS::kExactlyOnce))).ok());
    CO_ASSERT((co_await pub->Publish(Msg("re/end", "end", QoS::kAtMostOnce))).ok());
    m = co_await sub->Receive(5s);
    CO_ASSERT(m.ok());
    EXPECT_EQ(m->payload, "high");
    EXPECT_EQ(m->qos, QoS::kExactlyOnce);
    co_await ExpectOnlySentinel(*sub, "re/end");  // one copy, not one per SUBSCRIBE
  });
}

}  // namespace
}  // namespace simq::server
