// QoS 0/1/2 in both directions: acknowledgements, the broker's own packet identifiers, flow
// control by Receive Maximum both ways, exactly-once delivery of inbound QoS 2, re-sending on
// session resume, per-topic order across workers, Maximum QoS, and 3.1.1/5.0 interoperation.
//
// Wire-exact checks use RawConnection. "Nothing more was sent" is observed without sleeping:
// a PINGREQ on the same connection is answered after everything the broker already decided to
// send there (Barrier), or a later message from the same publisher arrives first (a sentinel).

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "broker/server/test_util.h"
#include "broker/testing/coro.h"

namespace simq::server {
namespace {

using protocol::PacketType;
using testing::BrokerFixture;
using testing::RunCoroutine;

class QosTest : public ::testing::TestWithParam<ProtocolVersion> {};

INSTANTIATE_TEST_SUITE_P(Versions, QosTest,
                         ::testing::Values(ProtocolVersion::kMqtt5, ProtocolVersion::kMqtt311),
                         VersionName);

// Packets built outside coroutine bodies (GCC 12 and braced initializers, see test_util.h).
protocol::PublishPacket Pub(std::string_view topic, std::string_view payload, QoS qos,
                            uint16_t packet_id, bool dup = false) {
  protocol::PublishPacket p;
  p.topic = topic;
  p.payload = payload;
  p.qos = qos;
  p.packet_id = packet_id;
  p.dup = dup;
  return p;
}
protocol::PubackPacket Puback(uint16_t id) {
  return protocol::PubackPacket{id};
}
protocol::PubrecPacket Pubrec(uint16_t id) {
  return protocol::PubrecPacket{id};
}
protocol::PubrelPacket Pubrel(uint16_t id) {
  return protocol::PubrelPacket{id};
}
protocol::PubcompPacket Pubcomp(uint16_t id) {
  return protocol::PubcompPacket{id};
}

// The two bytes of a packet identifier, for wire-exact 3.1.1 comparisons.
std::string Ack311(char first_byte, uint16_t id) {
  std::string s;
  s.push_back(first_byte);
  s.push_back('\x02');
  s.push_back(static_cast<char>(id >> 8));
  s.push_back(static_cast<char>(id & 0xFF));
  return s;
}

ConnectOptions WithReceiveMaximum(ConnectOptions o, uint16_t receive_maximum) {
  protocol::Properties p;
  p.receive_maximum = receive_maximum;
  o.properties = protocol::OwnedProperties(p);
  return o;
}

asio::awaitable<std::shared_ptr<Client>> Online(asio::any_io_executor ex, BrokerFixture& broker,
                                                std::string id, ProtocolVersion v) {
  auto c = Client::Create(ex);
  auto connack = co_await c->Connect(broker.Options(std::move(id), v));
  EXPECT_TRUE(connack.ok()) << connack.status();
  if (connack.ok()) EXPECT_EQ(connack->reason_code, ReasonCode::kSuccess);
  co_return c;
}

// A raw connection that completed `connect`; the CONNACK goes to `connack` if given.
asio::awaitable<std::unique_ptr<RawConnection>> RawOnline(asio::any_io_executor ex, uint16_t port,
                                                          protocol::ConnectPacket connect,
                                                          OwnedPacket* connack = nullptr) {
  auto c = co_await RawConnect(ex, port, connect.version);
  if (c == nullptr) co_return nullptr;
  OwnedPacket keep;
  std::optional<protocol::ConnackPacket> ack = co_await Handshake(*c, connect, &keep);
  if (!ack) co_return nullptr;
  EXPECT_EQ(ack->reason_code, ReasonCode::kSuccess);
  if (connack != nullptr) *connack = std::move(keep);
  co_return c;
}

// The next packet (failing the test if none arrives within 5 s).
asio::awaitable<std::optional<OwnedPacket>> Next(RawConnection& c) {
  absl::StatusOr<OwnedPacket> p = co_await c.Receive(5s);
  EXPECT_TRUE(p.ok()) << p.status();
  if (!p.ok()) co_return std::nullopt;
  co_return std::move(*p);
}

// Everything the broker sends on `c` before it answers a PINGREQ sent now.
asio::awaitable<std::vector<OwnedPacket>> Barrier(RawConnection& c) {
  c.Send(protocol::PingreqPacket{});
  std::vector<OwnedPacket> before;
  while (true) {
    absl::StatusOr<OwnedPacket> p = co_await c.Receive(5s);
    EXPECT_TRUE(p.ok()) << p.status();
    if (!p.ok() || p->type() == PacketType::kPingresp) break;
    before.push_back(std::move(*p));
  }
  co_return before;
}

asio::awaitable<std::vector<ReasonCode>> RawSubscribe(RawConnection& c, std::string_view filter,
                                                      QoS qos, uint16_t packet_id = 1) {
  protocol::SubscribePacket s;
  s.packet_id = packet_id;
  protocol::TopicSubscription t;
  t.filter = filter;
  t.options.max_qos = qos;
  s.subscriptions.push_back(t);
  c.Send(s);
  std::vector<ReasonCode> codes;
  std::optional<OwnedPacket> p = co_await Next(c);
  const auto* suback = p ? p->get<protocol::SubackPacket>() : nullptr;
  EXPECT_NE(suback, nullptr) << "expected SUBACK";
  if (suback != nullptr) {
    EXPECT_EQ(suback->packet_id, packet_id);
    codes = suback->reason_codes;
  }
  co_return codes;
}

// The PUBLISH packets among `packets`, as (packet id, payload, qos, dup).
struct SeenPublish {
  uint16_t packet_id;
  std::string topic;
  std::string payload;
  QoS qos;
  bool dup;
};
std::vector<SeenPublish> Publishes(const std::vector<OwnedPacket>& packets) {
  std::vector<SeenPublish> out;
  for (const OwnedPacket& p : packets) {
    if (const auto* pub = p.get<protocol::PublishPacket>()) {
      out.push_back(SeenPublish{pub->packet_id, std::string(pub->topic), std::string(pub->payload),
                                pub->qos, pub->dup});
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Publisher → broker

TEST_P(QosTest, PublisherGetsTheAcknowledgementsOfItsQoS) {
  const ProtocolVersion v = GetParam();
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto sub = co_await Online(ex, broker, "acks-sub", v);
    CO_ASSERT((co_await sub->Subscribe(Sub("acks/#", QoS::kExactlyOnce))).ok());
    auto pub = co_await RawOnline(ex, broker.port(), Connect("acks-pub", v));
    CO_ASSERT(pub != nullptr);

    // QoS 0: no acknowledgement at all.
    pub->Send(Pub("acks/0", "zero", QoS::kAtMostOnce, 0));
    EXPECT_TRUE((co_await Barrier(*pub)).empty());

    // QoS 1: PUBACK with the publisher's packet identifier [MQTT-4.3.2-2].
    pub->Send(Pub("acks/1", "one", QoS::kAtLeastOnce, 7));
    std::optional<OwnedPacket> puback = co_await Next(*pub);
    CO_ASSERT(puback && puback->get<protocol::PubackPacket>() != nullptr);
    EXPECT_EQ(puback->get<protocol::PubackPacket>()->packet_id, 7);
    EXPECT_EQ(puback->get<protocol::PubackPacket>()->reason_code, ReasonCode::kSuccess);
    if (!protocol::IsV5(v)) EXPECT_EQ(puback->bytes(), Ack311('\x40', 7));

    // QoS 2: PUBREC, then PUBCOMP for our PUBREL [MQTT-4.3.3-9], [MQTT-4.3.3-11].
    pub->Send(Pub("acks/2", "two", QoS::kExactlyOnce, 8));
    std::optional<OwnedPacket> pubrec = co_await Next(*pub);
    CO_ASSERT(pubrec && pubrec->get<protocol::PubrecPacket>() != nullptr);
    EXPECT_EQ(pubrec->get<protocol::PubrecPacket>()->packet_id, 8);
    EXPECT_EQ(pubrec->get<protocol::PubrecPacket>()->reason_code, ReasonCode::kSuccess);
    if (!protocol::IsV5(v)) EXPECT_EQ(pubrec->bytes(), Ack311('\x50', 8));
    pub->Send(Pubrel(8));
    std::optional<OwnedPacket> pubcomp = co_await Next(*pub);
    CO_ASSERT(pubcomp && pubcomp->get<protocol::PubcompPacket>() != nullptr);
    EXPECT_EQ(pubcomp->get<protocol::PubcompPacket>()->packet_id, 8);
    EXPECT_EQ(pubcomp->get<protocol::PubcompPacket>()->reason_code, ReasonCode::kSuccess);
    if (!protocol::IsV5(v)) EXPECT_EQ(pubcomp->bytes(), Ack311('\x70', 8));
    EXPECT_TRUE((co_await Barrier(*pub)).empty());

    // And the subscriber got the three messages, each at the QoS it was published with.
    auto m0 = co_await sub->Receive(5s);
    auto m1 = co_await sub->Receive(5s);
    auto m2 = co_await sub->Receive(5s);
    CO_ASSERT(m0.ok() && m1.ok() && m2.ok());
    EXPECT_EQ(m0->payload, "zero");
    EXPECT_EQ(m0->qos, QoS::kAtMostOnce);
    EXPECT_EQ(m1->payload, "one");
    EXPECT_EQ(m1->qos, QoS::kAtLeastOnce);
    EXPECT_EQ(m2->payload, "two");
    EXPECT_EQ(m2->qos, QoS::kExactlyOnce);
  });
}

TEST(QosTest, NoMatchingSubscribersReasonCode) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    // MQTT 5: PUBACK / PUBREC 0x10 when nobody subscribes [MQTT-3.4.2.1, 3.5.2.1].
    auto pub = co_await RawOnline(ex, broker.port(), Connect("nomatch-pub"));
    CO_ASSERT(pub != nullptr);
    pub->Send(Pub("nomatch/t", "x", QoS::kAtLeastOnce, 1));
    std::optional<OwnedPacket> puback = co_await Next(*pub);
    CO_ASSERT(puback && puback->get<protocol::PubackPacket>() != nullptr);
    EXPECT_EQ(puback->get<protocol::PubackPacket>()->reason_code,
              ReasonCode::kNoMatchingSubscribers);
    pub->Send(Pub("nomatch/t", "x", QoS::kExactlyOnce, 2));
    std::optional<OwnedPacket> pubrec = co_await Next(*pub);
    CO_ASSERT(pubrec && pubrec->get<protocol::PubrecPacket>() != nullptr);
    EXPECT_EQ(pubrec->get<protocol::PubrecPacket>()->reason_code,
              ReasonCode::kNoMatchingSubscribers);
    // 0x10 is not an error: the QoS 2 exchange completes normally.
    pub->Send(Pubrel(2));
    std::optional<OwnedPacket> pubcomp = co_await Next(*pub);
    CO_ASSERT(pubcomp && pubcomp->get<protocol::PubcompPacket>() != nullptr);
    EXPECT_EQ(pubcomp->get<protocol::PubcompPacket>()->reason_code, ReasonCode::kSuccess);

    // With a subscriber: Success.
    auto sub = co_await Online(ex, broker, "nomatch-sub", ProtocolVersion::kMqtt5);
    CO_ASSERT((co_await sub->Subscribe(Sub("nomatch/#"))).ok());
    pub->Send(Pub("nomatch/t", "y", QoS::kAtLeastOnce, 3));
    puback = co_await Next(*pub);
    CO_ASSERT(puback && puback->get<protocol::PubackPacket>() != nullptr);
    EXPECT_EQ(puback->get<protocol::PubackPacket>()->reason_code, ReasonCode::kSuccess);

    // MQTT 3.1.1 has no reason codes: a plain PUBACK.
    auto old =
        co_await RawOnline(ex, broker.port(), Connect("nomatch-311", ProtocolVersion::kMqtt311));
    CO_ASSERT(old != nullptr);
    old->Send(Pub("nobody/here", "x", QoS::kAtLeastOnce, 5));
    std::optional<OwnedPacket> plain = co_await Next(*old);
    CO_ASSERT(plain.has_value());
    EXPECT_EQ(plain->bytes(), Ack311('\x40', 5));
  });
}

// ---------------------------------------------------------------------------------------------
// Broker → subscriber

TEST_P(QosTest, SubscriberFlowsOnTheWire) {
  const ProtocolVersion v = GetParam();
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto sub = co_await RawOnline(ex, broker.port(), Connect("flows-sub", v));
    CO_ASSERT(sub != nullptr);
    std::vector<ReasonCode> granted = co_await RawSubscribe(*sub, "flows/#", QoS::kExactlyOnce);
    CO_ASSERT(granted.size() == 1);
    EXPECT_EQ(granted[0], ReasonCode::kGrantedQoS2);
    auto pub = co_await Online(ex, broker, "flows-pub", v);

    // QoS 0: a PUBLISH without packet identifier, nothing to acknowledge.
    CO_ASSERT((co_await pub->Publish(Msg("flows/0", "zero", QoS::kAtMostOnce))).ok());
    std::optional<OwnedPacket> p0 = co_await Next(*sub);
    CO_ASSERT(p0 && p0->get<protocol::PublishPacket>() != nullptr);
    EXPECT_EQ(p0->get<protocol::PublishPacket>()->qos, QoS::kAtMostOnce);
    EXPECT_EQ(p0->get<protocol::PublishPacket>()->payload, "zero");

    // QoS 1: PUBLISH, PUBACK; nothing is re-sent afterwards.
    CO_ASSERT((co_await pub->Publish(Msg("flows/1", "one", QoS::kAtLeastOnce))).ok());
    std::optional<OwnedPacket> p1 = co_await Next(*sub);
    CO_ASSERT(p1 && p1->get<protocol::PublishPacket>() != nullptr);
    const protocol::PublishPacket& q1 = *p1->get<protocol::PublishPacket>();
    EXPECT_EQ(q1.qos, QoS::kAtLeastOnce);
    EXPECT_EQ(q1.payload, "one");
    EXPECT_FALSE(q1.dup);
    EXPECT_NE(q1.packet_id, 0);
    sub->Send(Puback(q1.packet_id));

    // QoS 2: PUBLISH, PUBREC, PUBREL (same id), PUBCOMP [MQTT-4.3.3-3..5].
    CO_ASSERT((co_await pub->Publish(Msg("flows/2", "two", QoS::kExactlyOnce))).ok());
    std::optional<OwnedPacket> p2 = co_await Next(*sub);
    CO_ASSERT(p2 && p2->get<protocol::PublishPacket>() != nullptr);
    const protocol::PublishPacket& q2 = *p2->get<protocol::PublishPacket>();
    EXPECT_EQ(q2.qos, QoS::kExactlyOnce);
    EXPECT_EQ(q2.payload, "two");
    EXPECT_NE(q2.packet_id, 0);
    sub->Send(Pubrec(q2.packet_id));
    std::optional<OwnedPacket> rel = co_await Next(*sub);
    CO_ASSERT(rel && rel->get<protocol::PubrelPacket>() != nullptr);
    EXPECT_EQ(rel->get<protocol::PubrelPacket>()->packet_id, q2.packet_id);
    EXPECT_EQ(rel->get<protocol::PubrelPacket>()->reason_code, ReasonCode::kSuccess);
    if (!protocol::IsV5(v))
      EXPECT_EQ(rel->bytes(), Ack311('\x62', q2.packet_id));  // flags 0010 [MQTT-3.6.1-1]
    sub->Send(Pubcomp(q2.packet_id));
    // Every flow is complete: nothing is re-sent or left over.
    EXPECT_TRUE((co_await Barrier(*sub)).empty());
  });
}

TEST_P(QosTest, DeliveredQoSIsTheLowerOfPublishAndSubscription) {
  const ProtocolVersion v = GetParam();
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto low = co_await Online(ex, broker, "min-low", v);
    auto high = co_await Online(ex, broker, "min-high", v);
    CO_ASSERT((co_await low->Subscribe(Sub("min/t", QoS::kAtLeastOnce))).ok());
    CO_ASSERT((co_await high->Subscribe(Sub("min/t", QoS::kExactlyOnce))).ok());
    auto pub = co_await Online(ex, broker, "min-pub", v);
    CO_ASSERT((co_await pub->Publish(Msg("min/t", "q2", QoS::kExactlyOnce))).ok());
    CO_ASSERT((co_await pub->Publish(Msg("min/t", "q1", QoS::kAtLeastOnce))).ok());
    // [MQTT-3.8.4-8]: min(published QoS, granted QoS).
    auto a = co_await low->Receive(5s);
    auto b = co_await low->Receive(5s);
    CO_ASSERT(a.ok() && b.ok());
    EXPECT_EQ(a->payload, "q2");
    EXPECT_EQ(a->qos, QoS::kAtLeastOnce);
    EXPECT_EQ(b->qos, QoS::kAtLeastOnce);
    auto c = co_await high->Receive(5s);
    auto d = co_await high->Receive(5s);
    CO_ASSERT(c.ok() && d.ok());
    EXPECT_EQ(c->qos, QoS::kExactlyOnce);
    EXPECT_EQ(d->payload, "q1");
    EXPECT_EQ(d->qos, QoS::kAtLeastOnce);
  });
}

TEST_P(QosTest, BrokerAllocatesItsOwnPacketIdsPerSession) {
  const ProtocolVersion v = GetParam();
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto a = co_await RawOnline(ex, broker.port(), Connect("ids-a", v));
    auto b = co_await RawOnline(ex, broker.port(), Connect("ids-b", v));
    auto pub = co_await RawOnline(ex, broker.port(), Connect("ids-pub", v));
    CO_ASSERT(a && b && pub);
    CO_ASSERT((co_await RawSubscribe(*a, "ids/a", QoS::kAtLeastOnce, 1)).size() == 1);
    CO_ASSERT((co_await RawSubscribe(*a, "ids/both", QoS::kAtLeastOnce, 2)).size() == 1);
    CO_ASSERT((co_await RawSubscribe(*b, "ids/both", QoS::kAtLeastOnce, 1)).size() == 1);

    // The publisher uses packet id 7 three times (it is free again after each PUBACK).
    pub->Send(Pub("ids/a", "first", QoS::kAtLeastOnce, 7));
    std::optional<OwnedPacket> ack = co_await Next(*pub);
    CO_ASSERT(ack && ack->get<protocol::PubackPacket>() != nullptr);
    pub->Send(Pub("ids/a", "second", QoS::kAtLeastOnce, 7));
    ack = co_await Next(*pub);
    CO_ASSERT(ack && ack->get<protocol::PubackPacket>() != nullptr);
    pub->Send(Pub("ids/both", "third", QoS::kAtLeastOnce, 7));
    ack = co_await Next(*pub);
    CO_ASSERT(ack && ack->get<protocol::PubackPacket>() != nullptr);

    // A acknowledges none of them, so all three are in flight at once: three distinct non-zero
    // identifiers chosen by the broker for A's session [MQTT-2.2.1-4].
    std::vector<uint16_t> ids_a;
    std::vector<std::string> payloads;
    for (int i = 0; i < 3; ++i) {
      std::optional<OwnedPacket> p = co_await Next(*a);
      CO_ASSERT(p && p->get<protocol::PublishPacket>() != nullptr);
      ids_a.push_back(p->get<protocol::PublishPacket>()->packet_id);
      payloads.push_back(std::string(p->get<protocol::PublishPacket>()->payload));
    }
    EXPECT_EQ(payloads[0], "first");
    EXPECT_EQ(payloads[1], "second");
    EXPECT_EQ(payloads[2], "third");
    for (uint16_t id : ids_a) EXPECT_NE(id, 0);
    EXPECT_NE(ids_a[0], ids_a[1]);
    EXPECT_NE(ids_a[1], ids_a[2]);
    EXPECT_NE(ids_a[0], ids_a[2]);

    // B's session has its own identifier space: its first message gets the same identifier as
    // A's first, however many A has in use.
    std::optional<OwnedPacket> pb = co_await Next(*b);
    CO_ASSERT(pb && pb->get<protocol::PublishPacket>() != nullptr);
    EXPECT_EQ(pb->get<protocol::PublishPacket>()->payload, "third");
    EXPECT_EQ(pb->get<protocol::PublishPacket>()->packet_id, ids_a[0]);
  });
}

// ---------------------------------------------------------------------------------------------
// Flow control (MQTT 5 Receive Maximum, §4.9)

TEST(QosTest, OutboundInflightIsBoundedByTheClientsReceiveMaximum) {
  BrokerFixture broker;
  // Same worker: the publisher's PUBACK then proves the deliveries were already decided.
  const std::string sub_id = IdOnWorker(broker, "rmax-sub", 0);
  const std::string pub_id = IdOnWorker(broker, "rmax-pub", 0);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    protocol::ConnectPacket connect = Connect(sub_id);
    connect.properties.receive_maximum = 2;
    auto sub = co_await RawOnline(ex, broker.port(), connect);
    CO_ASSERT(sub != nullptr);
    CO_ASSERT((co_await RawSubscribe(*sub, "rmax/t", QoS::kAtLeastOnce)).size() == 1);
    auto pub = co_await Online(ex, broker, pub_id, ProtocolVersion::kMqtt5);
    for (int i = 0; i < 5; ++i) {
      CO_ASSERT(
          (co_await pub->Publish(Msg("rmax/t", "m" + std::to_string(i), QoS::kAtLeastOnce))).ok());
    }
    // [MQTT-3.3.4-9]: no more than Receive Maximum unacknowledged QoS 1/2 PUBLISH.
    std::vector<SeenPublish> seen = Publishes(co_await Barrier(*sub));
    CO_ASSERT(seen.size() == 2);
    EXPECT_EQ(seen[0].payload, "m0");
    EXPECT_EQ(seen[1].payload, "m1");

    // One PUBACK frees one slot: exactly one more.
    sub->Send(Puback(seen[0].packet_id));
    std::vector<SeenPublish> more = Publishes(co_await Barrier(*sub));
    CO_ASSERT(more.size() == 1);
    EXPECT_EQ(more[0].payload, "m2");

    sub->Send(Puback(seen[1].packet_id));
    sub->Send(Puback(more[0].packet_id));
    std::vector<SeenPublish> rest = Publishes(co_await Barrier(*sub));
    CO_ASSERT(rest.size() == 2);
    EXPECT_EQ(rest[0].payload, "m3");
    EXPECT_EQ(rest[1].payload, "m4");
    sub->Send(Puback(rest[0].packet_id));
    sub->Send(Puback(rest[1].packet_id));
    EXPECT_TRUE((co_await Barrier(*sub)).empty());
  });
}

TEST(QosTest, OutboundQos2HoldsItsSlotUntilPubcomp) {
  BrokerFixture broker;
  const std::string sub_id = IdOnWorker(broker, "slot-sub", 1);
  const std::string pub_id = IdOnWorker(broker, "slot-pub", 1);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    protocol::ConnectPacket connect = Connect(sub_id);
    connect.properties.receive_maximum = 1;
    auto sub = co_await RawOnline(ex, broker.port(), connect);
    CO_ASSERT(sub != nullptr);
    CO_ASSERT((co_await RawSubscribe(*sub, "slot/t", QoS::kExactlyOnce)).size() == 1);
    auto pub = co_await Online(ex, broker, pub_id, ProtocolVersion::kMqtt5);
    CO_ASSERT((co_await pub->Publish(Msg("slot/t", "a", QoS::kExactlyOnce))).ok());
    CO_ASSERT((co_await pub->Publish(Msg("slot/t", "b", QoS::kExactlyOnce))).ok());

    std::vector<SeenPublish> first = Publishes(co_await Barrier(*sub));
    CO_ASSERT(first.size() == 1);
    EXPECT_EQ(first[0].payload, "a");
    // PUBREC does not free the slot: the PUBREL comes, the next PUBLISH does not [MQTT-4.9.0-2].
    sub->Send(Pubrec(first[0].packet_id));
    std::vector<OwnedPacket> after_rec = co_await Barrier(*sub);
    CO_ASSERT(after_rec.size() == 1);
    const auto* rel = after_rec[0].get<protocol::PubrelPacket>();
    CO_ASSERT(rel != nullptr);
    EXPECT_EQ(rel->packet_id, first[0].packet_id);
    // PUBCOMP does.
    sub->Send(Pubcomp(first[0].packet_id));
    std::vector<SeenPublish> second = Publishes(co_await Barrier(*sub));
    CO_ASSERT(second.size() == 1);
    EXPECT_EQ(second[0].payload, "b");
  });
}

TEST(QosTest, ServerReceiveMaximumIsAdvertisedAndEnforced) {
  config::Config config = testing::TestConfig();
  config.mqtt.receive_maximum = 2;
  BrokerFixture broker(config);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    OwnedPacket connack;
    auto pub = co_await RawOnline(ex, broker.port(), Connect("srmax"), &connack);
    CO_ASSERT(pub != nullptr && connack.get<protocol::ConnackPacket>() != nullptr);
    EXPECT_EQ(connack.get<protocol::ConnackPacket>()->properties.receive_maximum, 2);

    // Two QoS 2 PUBLISH without PUBREL fill the window.
    pub->Send(Pub("srmax/t", "1", QoS::kExactlyOnce, 1));
    pub->Send(Pub("srmax/t", "2", QoS::kExactlyOnce, 2));
    std::vector<OwnedPacket> recs = co_await Barrier(*pub);
    CO_ASSERT(recs.size() == 2);
    EXPECT_NE(recs[0].get<protocol::PubrecPacket>(), nullptr);
    EXPECT_NE(recs[1].get<protocol::PubrecPacket>(), nullptr);
    // A DUP re-send of one of them is not a new message: it is acknowledged again.
    pub->Send(Pub("srmax/t", "2", QoS::kExactlyOnce, 2, /*dup=*/true));
    std::optional<OwnedPacket> again = co_await Next(*pub);
    CO_ASSERT(again && again->get<protocol::PubrecPacket>() != nullptr);
    EXPECT_EQ(again->get<protocol::PubrecPacket>()->packet_id, 2);
    // PUBCOMP frees a slot.
    pub->Send(Pubrel(1));
    std::optional<OwnedPacket> comp = co_await Next(*pub);
    CO_ASSERT(comp && comp->get<protocol::PubcompPacket>() != nullptr);
    pub->Send(Pub("srmax/t", "3", QoS::kExactlyOnce, 3));
    std::optional<OwnedPacket> rec3 = co_await Next(*pub);
    CO_ASSERT(rec3 && rec3->get<protocol::PubrecPacket>() != nullptr);
    EXPECT_EQ(rec3->get<protocol::PubrecPacket>()->packet_id, 3);
    // The third unreleased one exceeds it: DISCONNECT 0x93 [MQTT-3.3.4-8].
    pub->Send(Pub("srmax/t", "4", QoS::kExactlyOnce, 4));
    std::optional<OwnedPacket> d = co_await Next(*pub);
    CO_ASSERT(d && d->get<protocol::DisconnectPacket>() != nullptr);
    EXPECT_EQ(d->get<protocol::DisconnectPacket>()->reason_code,
              ReasonCode::kReceiveMaximumExceeded);
    EXPECT_TRUE(co_await pub->WaitClosed(5s));
  });
}

// ---------------------------------------------------------------------------------------------
// Inbound QoS 2: exactly once

TEST_P(QosTest, InboundQos2IsDeliveredExactlyOnce) {
  const ProtocolVersion v = GetParam();
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto sub = co_await Online(ex, broker, "once-sub", v);
    CO_ASSERT((co_await sub->Subscribe(Sub("once/#", QoS::kAtLeastOnce))).ok());
    auto pub = co_await RawOnline(ex, broker.port(), Connect("once-pub", v));
    CO_ASSERT(pub != nullptr);

    pub->Send(Pub("once/t", "one", QoS::kExactlyOnce, 5));
    std::optional<OwnedPacket> rec = co_await Next(*pub);
    CO_ASSERT(rec && rec->get<protocol::PubrecPacket>() != nullptr);
    // The PUBREC got lost, say: the publisher re-sends with DUP before PUBREL. It is
    // acknowledged again but not delivered again [MQTT-4.3.3-10].
    pub->Send(Pub("once/t", "one", QoS::kExactlyOnce, 5, /*dup=*/true));
    rec = co_await Next(*pub);
    CO_ASSERT(rec && rec->get<protocol::PubrecPacket>() != nullptr);
    EXPECT_EQ(rec->get<protocol::PubrecPacket>()->packet_id, 5);
    EXPECT_EQ(rec->get<protocol::PubrecPacket>()->reason_code, ReasonCode::kSuccess);
    pub->Send(Pubrel(5));
    std::optional<OwnedPacket> comp = co_await Next(*pub);
    CO_ASSERT(comp && comp->get<protocol::PubcompPacket>() != nullptr);
    EXPECT_EQ(comp->get<protocol::PubcompPacket>()->reason_code, ReasonCode::kSuccess);

    // After PUBREL the identifier is free: the same id is a new message [MQTT-4.3.3-11].
    pub->Send(Pub("once/t", "two", QoS::kExactlyOnce, 5));
    rec = co_await Next(*pub);
    CO_ASSERT(rec && rec->get<protocol::PubrecPacket>() != nullptr);
    pub->Send(Pubrel(5));
    comp = co_await Next(*pub);
    CO_ASSERT(comp && comp->get<protocol::PubcompPacket>() != nullptr);
    pub->Send(Pub("once/end", "end", QoS::kAtMostOnce, 0));

    auto m1 = co_await sub->Receive(5s);
    auto m2 = co_await sub->Receive(5s);
    auto m3 = co_await sub->Receive(5s);
    CO_ASSERT(m1.ok() && m2.ok() && m3.ok());
    EXPECT_EQ(m1->payload, "one");
    EXPECT_EQ(m2->payload, "two");  // not a second "one"
    EXPECT_EQ(m3->payload, "end");
  });
}

TEST_P(QosTest, PubrelForAnUnknownPacketId) {
  const ProtocolVersion v = GetParam();
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto pub = co_await RawOnline(ex, broker.port(), Connect("unknown-rel", v));
    CO_ASSERT(pub != nullptr);
    pub->Send(Pubrel(42));
    std::optional<OwnedPacket> comp = co_await Next(*pub);
    CO_ASSERT(comp && comp->get<protocol::PubcompPacket>() != nullptr);
    EXPECT_EQ(comp->get<protocol::PubcompPacket>()->packet_id, 42);
    if (protocol::IsV5(v)) {
      // 0x92 Packet Identifier not found (§3.7.2.1).
      EXPECT_EQ(comp->get<protocol::PubcompPacket>()->reason_code,
                ReasonCode::kPacketIdentifierNotFound);
    } else {
      EXPECT_EQ(comp->bytes(), Ack311('\x70', 42));
    }
    // The connection stays up.
    EXPECT_TRUE((co_await Barrier(*pub)).empty());
  });
}

TEST_P(QosTest, InboundQos2StateSurvivesAReconnect) {
  const ProtocolVersion v = GetParam();
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto sub = co_await Online(ex, broker, "survive-sub", v);
    CO_ASSERT((co_await sub->Subscribe(Sub("survive/#", QoS::kAtLeastOnce))).ok());
    protocol::ConnectPacket connect = Connect("survive-pub", v, /*clean_start=*/false);
    if (protocol::IsV5(v)) connect.properties.session_expiry_interval = 300;
    auto pub = co_await RawOnline(ex, broker.port(), connect);
    CO_ASSERT(pub != nullptr);
    pub->Send(Pub("survive/t", "once", QoS::kExactlyOnce, 9));
    std::optional<OwnedPacket> rec = co_await Next(*pub);
    CO_ASSERT(rec && rec->get<protocol::PubrecPacket>() != nullptr);
    pub->Close();

    // On resume the publisher re-sends the PUBLISH with DUP [MQTT-4.4.0-1]; the broker still
    // knows packet id 9, so it is not delivered again, and PUBREL finds it.
    OwnedPacket connack;
    auto again = co_await RawOnline(ex, broker.port(), connect, &connack);
    CO_ASSERT(again != nullptr);
    EXPECT_TRUE(connack.get<protocol::ConnackPacket>()->session_present);
    again->Send(Pub("survive/t", "once", QoS::kExactlyOnce, 9, /*dup=*/true));
    rec = co_await Next(*again);
    CO_ASSERT(rec && rec->get<protocol::PubrecPacket>() != nullptr);
    again->Send(Pubrel(9));
    std::optional<OwnedPacket> comp = co_await Next(*again);
    CO_ASSERT(comp && comp->get<protocol::PubcompPacket>() != nullptr);
    EXPECT_EQ(comp->get<protocol::PubcompPacket>()->reason_code, ReasonCode::kSuccess);
    again->Send(Pub("survive/end", "end", QoS::kAtMostOnce, 0));

    auto m1 = co_await sub->Receive(5s);
    auto m2 = co_await sub->Receive(5s);
    CO_ASSERT(m1.ok() && m2.ok());
    EXPECT_EQ(m1->payload, "once");
    EXPECT_EQ(m2->payload, "end");
  });
}

// ---------------------------------------------------------------------------------------------
// Session resume

TEST_P(QosTest, UnacknowledgedPublishAndPubrelAreResentOnResume) {
  const ProtocolVersion v = GetParam();
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    protocol::ConnectPacket connect = Connect("resume-sub", v, /*clean_start=*/false);
    if (protocol::IsV5(v)) connect.properties.session_expiry_interval = 300;
    auto sub = co_await RawOnline(ex, broker.port(), connect);
    CO_ASSERT(sub != nullptr);
    CO_ASSERT((co_await RawSubscribe(*sub, "resume/#", QoS::kExactlyOnce)).size() == 1);
    auto pub = co_await Online(ex, broker, "resume-pub", v);
    CO_ASSERT((co_await pub->Publish(Msg("resume/1", "a", QoS::kAtLeastOnce))).ok());
    CO_ASSERT((co_await pub->Publish(Msg("resume/2", "b", QoS::kExactlyOnce))).ok());
    CO_ASSERT((co_await pub->Publish(Msg("resume/3", "c", QoS::kExactlyOnce))).ok());

    uint16_t ids[3];
    for (int i = 0; i < 3; ++i) {
      std::optional<OwnedPacket> p = co_await Next(*sub);
      CO_ASSERT(p && p->get<protocol::PublishPacket>() != nullptr);
      EXPECT_FALSE(p->get<protocol::PublishPacket>()->dup);
      ids[i] = p->get<protocol::PublishPacket>()->packet_id;
    }
    // "b" gets as far as PUBREL; "a" and "c" are not acknowledged at all.
    sub->Send(Pubrec(ids[1]));
    std::optional<OwnedPacket> rel = co_await Next(*sub);
    CO_ASSERT(rel && rel->get<protocol::PubrelPacket>() != nullptr);
    sub->Close();

    OwnedPacket connack;
    auto again = co_await RawOnline(ex, broker.port(), connect, &connack);
    CO_ASSERT(again != nullptr);
    EXPECT_TRUE(connack.get<protocol::ConnackPacket>()->session_present);
    // [MQTT-4.4.0-1]: PUBLISH again with DUP=1 and the original ids, in the original order
    // [MQTT-4.6.0-1]; the PUBREL again for "b".
    std::vector<OwnedPacket> resent;
    for (int i = 0; i < 3; ++i) {
      std::optional<OwnedPacket> p = co_await Next(*again);
      CO_ASSERT(p.has_value());
      resent.push_back(std::move(*p));
    }
    std::vector<SeenPublish> publishes = Publishes(resent);
    CO_ASSERT(publishes.size() == 2);
    EXPECT_EQ(publishes[0].packet_id, ids[0]);
    EXPECT_EQ(publishes[0].payload, "a");
    EXPECT_EQ(publishes[0].qos, QoS::kAtLeastOnce);
    EXPECT_TRUE(publishes[0].dup);
    EXPECT_EQ(publishes[1].packet_id, ids[2]);
    EXPECT_EQ(publishes[1].payload, "c");
    EXPECT_EQ(publishes[1].qos, QoS::kExactlyOnce);
    EXPECT_TRUE(publishes[1].dup);
    int pubrels = 0;
    for (const OwnedPacket& p : resent) {
      if (const auto* r = p.get<protocol::PubrelPacket>()) {
        ++pubrels;
        EXPECT_EQ(r->packet_id, ids[1]);
      }
    }
    EXPECT_EQ(pubrels, 1);

    // Finish every flow; a further resume has nothing left to send.
    again->Send(Puback(ids[0]));
    again->Send(Pubcomp(ids[1]));
    again->Send(Pubrec(ids[2]));
    std::optional<OwnedPacket> rel_c = co_await Next(*again);
    CO_ASSERT(rel_c && rel_c->get<protocol::PubrelPacket>() != nullptr);
    EXPECT_EQ(rel_c->get<protocol::PubrelPacket>()->packet_id, ids[2]);
    again->Send(Pubcomp(ids[2]));
    EXPECT_TRUE((co_await Barrier(*again)).empty());
    again->Close();

    auto third = co_await RawOnline(ex, broker.port(), connect, &connack);
    CO_ASSERT(third != nullptr);
    EXPECT_TRUE(connack.get<protocol::ConnackPacket>()->session_present);
    EXPECT_TRUE((co_await Barrier(*third)).empty());
  });
}

TEST(QosTest, ResendOnResumeHonoursTheNewReceiveMaximum) {
  BrokerFixture broker;
  const std::string sub_id = IdOnWorker(broker, "rmresume-sub", 0);
  const std::string pub_id = IdOnWorker(broker, "rmresume-pub", 0);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    protocol::ConnectPacket connect =
        Connect(sub_id, ProtocolVersion::kMqtt5, /*clean_start=*/false);
    connect.properties.session_expiry_interval = 300;
    auto sub = co_await RawOnline(ex, broker.port(), connect);
    CO_ASSERT(sub != nullptr);
    CO_ASSERT((co_await RawSubscribe(*sub, "rmresume/t", QoS::kAtLeastOnce)).size() == 1);
    auto pub = co_await Online(ex, broker, pub_id, ProtocolVersion::kMqtt5);
    for (int i = 0; i < 3; ++i) {
      CO_ASSERT(
          (co_await pub->Publish(Msg("rmresume/t", "m" + std::to_string(i), QoS::kAtLeastOnce)))
              .ok());
    }
    std::vector<SeenPublish> first = Publishes(co_await Barrier(*sub));
    CO_ASSERT(first.size() == 3);
    sub->Close();

    // The client comes back with Receive Maximum 1. The send quota belongs to the new
    // connection (§4.9) and re-sent PUBLISH count against it [MQTT-3.3.4-9]: one at a time,
    // each still with DUP and its original packet identifier [MQTT-4.4.0-1].
    connect.properties.receive_maximum = 1;
    OwnedPacket connack;
    auto again = co_await RawOnline(ex, broker.port(), connect, &connack);
    CO_ASSERT(again != nullptr);
    EXPECT_TRUE(connack.get<protocol::ConnackPacket>()->session_present);
    for (int i = 0; i < 3; ++i) {
      std::vector<SeenPublish> resent = Publishes(co_await Barrier(*again));
      CO_ASSERT(resent.size() == 1);
      EXPECT_EQ(resent[0].packet_id, first[i].packet_id);
      EXPECT_EQ(resent[0].payload, first[i].payload);
      EXPECT_TRUE(resent[0].dup);
      again->Send(Puback(resent[0].packet_id));
    }
    // Then new messages flow as usual.
    CO_ASSERT((co_await pub->Publish(Msg("rmresume/t", "new", QoS::kAtLeastOnce))).ok());
    std::vector<SeenPublish> fresh = Publishes(co_await Barrier(*again));
    CO_ASSERT(fresh.size() == 1);
    EXPECT_EQ(fresh[0].payload, "new");
    EXPECT_FALSE(fresh[0].dup);
  });
}

// ---------------------------------------------------------------------------------------------
// Order

TEST_P(QosTest, PerTopicOrderIsKeptAcrossWorkers) {
  const ProtocolVersion v = GetParam();
  constexpr int kMessages = 200;
  BrokerFixture broker;
  ASSERT_EQ(broker.broker().worker_count(), 2u);
  const std::string pub_id = IdOnWorker(broker, "order-pub", 0);
  const std::string sub_id = IdOnWorker(broker, "order-sub", 1);
  std::vector<std::string> payloads;
  for (int i = 0; i < kMessages; ++i) payloads.push_back(std::to_string(i));
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    // A small Receive Maximum (MQTT 5) makes most messages wait in the session's queue.
    auto sub = Client::Create(ex);
    CO_ASSERT((co_await sub->Connect(WithReceiveMaximum(broker.Options(sub_id, v), 5))).ok());
    CO_ASSERT((co_await sub->Subscribe(Sub("order/#", QoS::kExactlyOnce))).ok());
    auto pub = co_await RawOnline(ex, broker.port(), Connect(pub_id, v));
    CO_ASSERT(pub != nullptr);

    for (int q = 1; q <= 2; ++q) {
      const QoS qos = static_cast<QoS>(q);
      const std::string topic = "order/q" + std::to_string(q);
      // Pipelined: all PUBLISH go out before the first acknowledgement is read.
      for (int i = 0; i < kMessages; ++i) {
        pub->Send(Pub(topic, payloads[i], qos, static_cast<uint16_t>(i + 1)));
      }
      int done = 0;
      while (done < kMessages) {
        std::optional<OwnedPacket> p = co_await Next(*pub);
        CO_ASSERT(p.has_value());
        if (p->get<protocol::PubackPacket>() != nullptr ||
            p->get<protocol::PubcompPacket>() != nullptr) {
          ++done;
        } else if (const auto* rec = p->get<protocol::PubrecPacket>()) {
          pub->Send(Pubrel(rec->packet_id));
        } else {
          ADD_FAILURE() << "unexpected packet type " << static_cast<int>(p->type());
          co_return;
        }
      }
      for (int i = 0; i < kMessages; ++i) {
        auto m = co_await sub->Receive(5s);
        CO_ASSERT(m.ok());
        EXPECT_EQ(m->topic, topic);
        EXPECT_EQ(m->qos, qos);
        if (m->payload != payloads[i]) {
          ADD_FAILURE() << "QoS " << q << ": message " << i << " arrived as " << m->payload;
          co_return;
        }
      }
    }
    EXPECT_TRUE(sub->last_error().ok()) << sub->last_error();
  });
}

// ---------------------------------------------------------------------------------------------
// Maximum QoS, interoperation

TEST(QosTest, MaximumQosFromConfig) {
  config::Config config = testing::TestConfig();
  config.mqtt.max_qos = 1;
  BrokerFixture broker(config);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    OwnedPacket connack;
    auto c = co_await RawOnline(ex, broker.port(), Connect("maxqos"), &connack);
    CO_ASSERT(c != nullptr);
    // Advertised in CONNACK [MQTT-3.2.2-9].
    EXPECT_EQ(connack.get<protocol::ConnackPacket>()->properties.maximum_qos, 1);
    // Subscriptions are granted at most QoS 1, in both versions.
    std::vector<ReasonCode> granted = co_await RawSubscribe(*c, "maxqos/#", QoS::kExactlyOnce);
    CO_ASSERT(granted.size() == 1);
    EXPECT_EQ(granted[0], ReasonCode::kGrantedQoS1);
    auto old = co_await Online(ex, broker, "maxqos-311", ProtocolVersion::kMqtt311);
    auto suback = co_await old->Subscribe(Sub("maxqos/#", QoS::kExactlyOnce));
    CO_ASSERT(suback.ok() && suback->reason_codes.size() == 1);
    EXPECT_EQ(suback->reason_codes[0], ReasonCode::kGrantedQoS1);
    // A QoS 2 message published at QoS 1 reaches both at QoS 1.
    auto pub = co_await Online(ex, broker, "maxqos-pub", ProtocolVersion::kMqtt5);
    CO_ASSERT((co_await pub->Publish(Msg("maxqos/t", "x", QoS::kAtLeastOnce))).ok());
    auto m = co_await old->Receive(5s);
    CO_ASSERT(m.ok());
    EXPECT_EQ(m->qos, QoS::kAtLeastOnce);
    std::optional<OwnedPacket> p = co_await Next(*c);
    CO_ASSERT(p && p->get<protocol::PublishPacket>() != nullptr);
    EXPECT_EQ(p->get<protocol::PublishPacket>()->qos, QoS::kAtLeastOnce);
    c->Send(Puback(p->get<protocol::PublishPacket>()->packet_id));

    // A QoS 2 PUBLISH: DISCONNECT 0x9B QoS not supported [MQTT-3.2.2-11].
    c->Send(Pub("maxqos/t", "too high", QoS::kExactlyOnce, 1));
    std::optional<OwnedPacket> d = co_await Next(*c);
    CO_ASSERT(d && d->get<protocol::DisconnectPacket>() != nullptr);
    EXPECT_EQ(d->get<protocol::DisconnectPacket>()->reason_code, ReasonCode::kQoSNotSupported);
    EXPECT_TRUE(co_await c->WaitClosed(5s));
  });
}

TEST(QosTest, Mqtt311AndMqtt5Interoperate) {
  BrokerFixture broker;
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto v3 = co_await Online(ex, broker, "interop-311", ProtocolVersion::kMqtt311);
    auto v5 = co_await Online(ex, broker, "interop-5", ProtocolVersion::kMqtt5);
    CO_ASSERT((co_await v3->Subscribe(Sub("interop/#", QoS::kExactlyOnce))).ok());
    CO_ASSERT((co_await v5->Subscribe(Sub("interop/#", QoS::kExactlyOnce))).ok());

    // 3.1.1 → 5.0 (and to itself).
    auto r1 = co_await v3->Publish(Msg("interop/from311", "old", QoS::kExactlyOnce));
    CO_ASSERT(r1.ok());
    // 5.0 → 3.1.1, with properties the 3.1.1 side cannot see but which must not break it.
    protocol::Properties props;
    props.content_type = "text/plain";
    auto r2 = co_await v5->Publish(Msg("interop/from5", "new", QoS::kAtLeastOnce, false, props));
    CO_ASSERT(r2.ok());

    auto a = co_await v5->Receive(5s);
    auto b = co_await v5->Receive(5s);
    CO_ASSERT(a.ok() && b.ok());
    EXPECT_EQ(a->topic, "interop/from311");
    EXPECT_EQ(a->payload, "old");
    EXPECT_EQ(a->qos, QoS::kExactlyOnce);
    EXPECT_EQ(b->topic, "interop/from5");
    EXPECT_EQ(b->properties.view().content_type, "text/plain");

    auto c = co_await v3->Receive(5s);
    auto d = co_await v3->Receive(5s);
    CO_ASSERT(c.ok() && d.ok());
    EXPECT_EQ(c->topic, "interop/from311");
    EXPECT_EQ(c->qos, QoS::kExactlyOnce);
    EXPECT_EQ(d->topic, "interop/from5");
    EXPECT_EQ(d->payload, "new");
    EXPECT_EQ(d->qos, QoS::kAtLeastOnce);
    EXPECT_TRUE(v3->last_error().ok()) << v3->last_error();
    EXPECT_TRUE(v3->connected());
  });
}

}  // namespace
}  // namespace simq::server
