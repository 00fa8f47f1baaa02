// PUBLISH and its acknowledgements: packet identifiers, QoS 0/1/2 in both directions with
// retransmission and DUP, retained messages and their subscription options, properties
// forwarded unaltered, message expiry, Topic Aliases in both directions, ordering.

#include <set>

#include "conformance/tests_util.h"

namespace simq::conformance {
namespace {

ConnectSpec Persistent(T& t, std::string_view tag, uint32_t expiry = 30) {
  ConnectSpec s = t.Spec(tag);
  if (t.v5()) {
    s.session_expiry = expiry;
  } else {
    s.clean_start = false;
  }
  return s;
}

ConnectSpec Resume(ConnectSpec s) {
  s.clean_start = false;
  return s;
}

// A subscriber to `topic` at `qos` (auto_ack as given) and a publisher.
struct Pair {
  std::unique_ptr<Conn> sub;
  std::unique_ptr<Conn> pub;
  std::string topic;
  ConnectSpec sub_spec;
};

asio::awaitable<std::optional<Pair>> MakePair(T& t, QoS qos, bool auto_ack = true,
                                              ConnectSpec sub_spec = ConnectSpec(),
                                              protocol::SubscriptionOptions opts = SubOpts(kQoS0)) {
  Pair p;
  p.topic = t.Topic("pt");
  if (sub_spec.client_id.empty()) sub_spec = t.Spec("sub");
  p.sub_spec = sub_spec;
  p.sub = co_await t.Connect(sub_spec);
  if (!p.sub) co_return std::nullopt;
  p.sub->set_auto_ack(auto_ack);
  opts.max_qos = qos;
  if (!co_await t.Subscribe(*p.sub, Sub(p.topic, opts))) co_return std::nullopt;
  p.pub = co_await t.Connect(t.Spec("pub"));
  if (!p.pub) co_return std::nullopt;
  co_return p;
}

asio::awaitable<void> ClearRetained(T& t, std::string topic) {
  auto c = co_await t.Connect(t.Spec("clr"));
  if (c) co_await t.Publish(*c, Pub(topic, "", kQoS0, true));
}

// ---- Packet identifiers ----

asio::awaitable<void> QoS0PublishHasNoPacketId(T& t) {
  auto p = co_await MakePair(t, kQoS0);
  if (!p) co_return;
  if (!co_await t.Publish(*p->pub, Pub(p->topic, "abc", kQoS1))) co_return;
  auto m = co_await t.ExpectPublishOn(*p->sub, p->topic);
  if (!m) co_return;
  // A Packet Identifier would show up as two extra bytes in front of the payload.
  SIMQ_FAIL_IF(m->qos != kQoS0 || m->payload != "abc",
               "QoS 0 delivery of payload 'abc': {} (bytes {})", m->Describe(), Hex(m->raw));
}

asio::awaitable<void> ServerPacketIdsUniqueNonZero(T& t, QoS qos) {
  if (!t.NeedQoS(qos)) co_return;
  auto p = co_await MakePair(t, qos, /*auto_ack=*/false);
  if (!p) co_return;
  for (int i = 0; i < 5; ++i) {
    if (!co_await t.Publish(*p->pub, Pub(p->topic, "m" + std::to_string(i), qos))) co_return;
  }
  std::set<uint16_t> ids;
  for (int i = 0; i < 5; ++i) {
    auto m = co_await t.ExpectPublishOn(*p->sub, p->topic);
    if (!m) co_return;
    SIMQ_FAIL_IF(m->packet_id == 0, "QoS {} PUBLISH with Packet Identifier 0",
                 static_cast<int>(qos));
    SIMQ_FAIL_IF(!ids.insert(m->packet_id).second,
                 "Packet Identifier {} reused while still unacknowledged", m->packet_id);
  }
}

asio::awaitable<void> AcksCarryPacketId(T& t) {
  auto c = co_await t.Connect(t.Spec());
  if (!c) co_return;
  const std::string topic = t.Topic("ids");
  PubSpec q1 = Pub(topic, "one", kQoS1);
  q1.packet_id = 0x1234;
  c->SendRaw(EncodePublish(q1, t.version()));
  auto ack = co_await t.Expect<PubackPacket>(*c, "PUBACK");
  if (!ack) co_return;
  SIMQ_FAIL_IF(ack->get<PubackPacket>()->packet_id != 0x1234,
               "PUBACK for PUBLISH 0x1234 has Packet Identifier 0x{:04X}",
               ack->get<PubackPacket>()->packet_id);
  if (!t.NeedQoS(kQoS2)) co_return;
  PubSpec q2 = Pub(topic, "two", kQoS2);
  q2.packet_id = 0x4321;
  c->SendRaw(EncodePublish(q2, t.version()));
  auto rec = co_await t.Expect<PubrecPacket>(*c, "PUBREC");
  if (!rec) co_return;
  SIMQ_FAIL_IF(rec->get<PubrecPacket>()->packet_id != 0x4321,
               "PUBREC for PUBLISH 0x4321 has Packet Identifier 0x{:04X}",
               rec->get<PubrecPacket>()->packet_id);
  PubrelPacket rel;
  rel.packet_id = 0x4321;
  c->Send(rel);
  auto comp = co_await t.Expect<PubcompPacket>(*c, "PUBCOMP");
  if (!comp) co_return;
  SIMQ_FAIL_IF(comp->get<PubcompPacket>()->packet_id != 0x4321,
               "PUBCOMP for PUBREL 0x4321 has Packet Identifier 0x{:04X}",
               comp->get<PubcompPacket>()->packet_id);
  // The server as sender: its PUBREL answers our PUBREC with the PUBLISH's identifier.
  auto p = co_await MakePair(t, kQoS2, /*auto_ack=*/false);
  if (!p) co_return;
  if (!co_await t.Publish(*p->pub, Pub(p->topic, "down", kQoS2))) co_return;
  auto m = co_await t.ExpectPublishOn(*p->sub, p->topic);
  if (!m) co_return;
  PubrecPacket ours;
  ours.packet_id = m->packet_id;
  p->sub->Send(ours);
  auto srel = co_await t.Expect<PubrelPacket>(*p->sub, "PUBREL");
  if (!srel) co_return;
  SIMQ_FAIL_IF(srel->get<PubrelPacket>()->packet_id != m->packet_id,
               "PUBREL for the server's PUBLISH {} has Packet Identifier {}", m->packet_id,
               srel->get<PubrelPacket>()->packet_id);
}

asio::awaitable<void> PropertyLengthZero(T& t) {
  auto p = co_await MakePair(t, kQoS0);
  if (!p) co_return;
  if (!co_await t.Publish(*p->pub, Pub(p->topic, "np"))) co_return;
  auto m = co_await t.ExpectPublishOn(*p->sub, p->topic);
  if (!m) co_return;
  if (!m->props.empty()) {
    t.Skip("the server added properties to a message published without any");
    co_return;
  }
  // Fixed header, Remaining Length, topic (2 + n), then the Property Length.
  size_t pos = 1;
  while (pos < m->raw.size() && (static_cast<uint8_t>(m->raw[pos]) & 0x80)) ++pos;
  pos += 1 + 2 + p->topic.size();
  SIMQ_FAIL_IF(pos >= m->raw.size() || m->raw[pos] != 0,
               "PUBLISH without properties: expected Property Length 00 after the topic, bytes {}",
               Hex(m->raw));
}

asio::awaitable<void> ReservedFlagValuesInServerPackets(T& t) {
  // 3.1.1 Table 2.2: CONNACK 0x20, PUBACK 0x40, PUBREC 0x50, PUBREL 0x62, PUBCOMP 0x70,
  // SUBACK 0x90, UNSUBACK 0xB0, PINGRESP 0xD0.
  if (!t.NeedQoS(kQoS2)) co_return;
  auto c = co_await t.Connect(t.Spec());
  if (!c) co_return;
  std::vector<std::pair<std::string, uint8_t>> seen;
  seen.emplace_back(std::string(c->connack_packet.bytes()), 0x20);
  c->set_auto_ack(false);
  const std::string topic = t.Topic("flags");
  SubSpec sub = Sub(topic, kQoS2);
  sub.packet_id = 9;
  c->SendRaw(EncodeSubscribe(sub, kV311));
  auto suback = co_await t.Expect<SubackPacket>(*c, "SUBACK");
  if (!suback) co_return;
  seen.emplace_back(std::string(suback->bytes()), 0x90);
  PubSpec q1 = Pub(t.Topic("other"), "q1", kQoS1);
  q1.packet_id = 10;
  c->SendRaw(EncodePublish(q1, kV311));
  auto puback = co_await t.Expect<PubackPacket>(*c, "PUBACK");
  if (!puback) co_return;
  seen.emplace_back(std::string(puback->bytes()), 0x40);
  PubSpec q2 = Pub(topic, "q2", kQoS2);
  q2.packet_id = 11;
  c->SendRaw(EncodePublish(q2, kV311));
  auto pubrec = co_await t.Expect<PubrecPacket>(*c, "PUBREC");
  if (!pubrec) co_return;
  seen.emplace_back(std::string(pubrec->bytes()), 0x50);
  PubrelPacket rel;
  rel.packet_id = 11;
  c->Send(rel);
  auto pubcomp = co_await t.Expect<PubcompPacket>(*c, "PUBCOMP");
  if (!pubcomp) co_return;
  seen.emplace_back(std::string(pubcomp->bytes()), 0x70);
  // Our own message comes back at QoS 2: PUBREC from us, PUBREL from the server.
  auto m = co_await t.ExpectPublishOn(*c, topic);
  if (!m) co_return;
  PubrecPacket ours;
  ours.packet_id = m->packet_id;
  c->Send(ours);
  auto pubrel = co_await t.Expect<PubrelPacket>(*c, "PUBREL");
  if (!pubrel) co_return;
  seen.emplace_back(std::string(pubrel->bytes()), 0x62);
  PubcompPacket comp;
  comp.packet_id = m->packet_id;
  c->Send(comp);
  c->SendRaw(EncodeUnsubscribe(std::vector<std::string>(1, topic), 12, kV311));
  auto unsuback = co_await t.Expect<UnsubackPacket>(*c, "UNSUBACK");
  if (!unsuback) co_return;
  seen.emplace_back(std::string(unsuback->bytes()), 0xB0);
  c->Send(protocol::PingreqPacket{});
  auto pingresp = co_await t.Expect<protocol::PingrespPacket>(*c, "PINGRESP");
  if (!pingresp) co_return;
  seen.emplace_back(std::string(pingresp->bytes()), 0xD0);
  for (const auto& [bytes, first] : seen) {
    SIMQ_FAIL_IF(static_cast<uint8_t>(bytes[0]) != first,
                 "server packet starts with 0x{:02X}, expected 0x{:02X} (bytes {})",
                 static_cast<uint8_t>(bytes[0]), first, Hex(bytes));
  }
}

// ---- DUP ----

asio::awaitable<void> RedeliveryHasDup(T& t) {
  ConnectSpec spec = Persistent(t, "dup");
  auto p = co_await MakePair(t, kQoS1, /*auto_ack=*/false, spec);
  if (!p) co_return;
  if (!co_await t.Publish(*p->pub, Pub(p->topic, "again", kQoS1))) co_return;
  auto first = co_await t.ExpectPublishOn(*p->sub, p->topic);
  if (!first) co_return;
  SIMQ_FAIL_IF(first->dup, "first delivery already has DUP 1");
  p->sub->Drop();
  auto c = co_await t.Connect(Resume(spec));
  if (!c) co_return;
  auto again = co_await t.ExpectPublishOn(*c, p->topic);
  if (!again) co_return;
  SIMQ_FAIL_IF(!again->dup || again->packet_id != first->packet_id,
               "re-delivery after reconnecting: {} (first delivery had id {}); expected DUP 1 "
               "and the same Packet Identifier",
               again->Describe(), first->packet_id);
  co_await t.EndSession(spec.client_id);
}

asio::awaitable<void> QoS0DeliveryHasDup0(T& t, QoS sub_qos, QoS pub_qos, bool pub_dup) {
  if (!t.NeedQoS(sub_qos)) co_return;
  auto p = co_await MakePair(t, sub_qos);
  if (!p) co_return;
  PubSpec s = Pub(p->topic, "d", pub_qos);
  s.dup = pub_dup;
  if (!co_await t.Publish(*p->pub, s)) co_return;
  auto m = co_await t.ExpectPublishOn(*p->sub, p->topic);
  if (!m) co_return;
  SIMQ_FAIL_IF(m->dup, "PUBLISH QoS {}{} delivered to a QoS {} subscription with DUP 1",
               static_cast<int>(pub_qos), pub_dup ? " DUP 1" : "", static_cast<int>(sub_qos));
}

asio::awaitable<void> FirstDeliveryDup0(T& t, QoS qos) {
  if (!t.NeedQoS(qos)) co_return;
  auto p = co_await MakePair(t, qos);
  if (!p) co_return;
  if (!co_await t.Publish(*p->pub, Pub(p->topic, "first", qos))) co_return;
  auto m = co_await t.ExpectPublishOn(*p->sub, p->topic);
  if (!m) co_return;
  SIMQ_FAIL_IF(m->dup || m->qos != qos || m->packet_id == 0,
               "first delivery of a QoS {} message: {}", static_cast<int>(qos), m->Describe());
}

// ---- Retained messages ----

asio::awaitable<std::unique_ptr<Conn>> SubscribeWith(T& t, std::string topic,
                                                     protocol::SubscriptionOptions opts) {
  auto c = co_await t.Connect(t.Spec("rsub"));
  if (!c) co_return nullptr;
  if (!co_await t.Subscribe(*c, Sub(topic, opts))) co_return nullptr;
  co_return c;
}

asio::awaitable<void> ReplacesRetained(T& t) {
  if (!t.NeedRetain()) co_return;
  const std::string topic = t.Topic("r");
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "first", kQoS1, true))) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "second", kQoS1, true))) co_return;
  auto sub = co_await SubscribeWith(t, topic, SubOpts(kQoS1));
  if (!sub) co_return;
  auto m = co_await t.ExpectPublishOn(*sub, topic);
  if (!m) co_return;
  SIMQ_FAIL_IF(m->payload != "second" || !m->retain,
               "after retained 'first' then 'second', a new subscriber got {}", m->Describe());
  if (!co_await t.ExpectNoPublish(*sub, {}, "only one retained message")) co_return;
  co_await ClearRetained(t, topic);
}

asio::awaitable<void> StoresRetainedWithQoS(T& t) {
  if (!t.NeedRetain()) co_return;
  const std::string topic = t.Topic("r");
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "kept", kQoS1, true))) co_return;
  auto sub = co_await SubscribeWith(t, topic, SubOpts(kQoS2));
  if (!sub) co_return;
  auto m = co_await t.ExpectPublishOn(*sub, topic);
  if (!m) co_return;
  SIMQ_FAIL_IF(m->payload != "kept" || !m->retain || m->qos != kQoS1,
               "retained QoS 1 message to a QoS 2 subscriber: {}", m->Describe());
  co_await ClearRetained(t, topic);
}

asio::awaitable<void> EmptyRetainedRemoves(T& t) {
  if (!t.NeedRetain()) co_return;
  const std::string topic = t.Topic("r");
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "doomed", kQoS1, true))) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "", kQoS1, true))) co_return;
  auto sub = co_await SubscribeWith(t, topic, SubOpts(kQoS1));
  if (!sub) co_return;
  co_await t.ExpectNoPublish(*sub, {}, "no retained message after an empty retained PUBLISH");
}

asio::awaitable<void> NewSubscriptionGetsRetained(T& t) {
  if (!t.NeedRetain()) co_return;
  const std::string topic = t.Topic("r");
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "last", kQoS0, true))) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "last", kQoS1, true))) co_return;
  auto sub = co_await SubscribeWith(t, topic, SubOpts(kQoS1));
  if (!sub) co_return;
  auto m = co_await t.ExpectPublishOn(*sub, topic);
  if (!m) co_return;
  SIMQ_FAIL_IF(m->payload != "last" || !m->retain, "new subscription got {}", m->Describe());
  co_await ClearRetained(t, topic);
}

asio::awaitable<void> EmptyRetainedNotStored(T& t) {
  if (!t.NeedRetain()) co_return;
  const std::string topic = t.Topic("r");
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "", kQoS1, true))) co_return;
  auto sub = co_await SubscribeWith(t, topic, SubOpts(kQoS1));
  if (!sub) co_return;
  co_await t.ExpectNoPublish(*sub, {}, "no retained message: a zero-byte one is not stored");
}

asio::awaitable<void> QoS0RetainedReplaces(T& t) {
  if (!t.NeedRetain()) co_return;
  const std::string topic = t.Topic("r");
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "old", kQoS1, true))) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "new", kQoS0, true))) co_return;
  if (!co_await t.Ping(*pub)) co_return;  // the QoS 0 PUBLISH has been read
  auto sub = co_await SubscribeWith(t, topic, SubOpts(kQoS1));
  if (!sub) co_return;
  Event e = co_await sub->Await([](const Event& ev) { return IsPacket(ev, PacketType::kPublish); },
                                t.quiet());
  if (e.is_packet()) {
    Msg m = sub->ToMsg(e);
    SIMQ_FAIL_IF(m.payload == "old",
                 "a retained QoS 0 message did not replace the retained QoS 1 one: got {}",
                 m.Describe());
  }
  co_await ClearRetained(t, topic);
}

asio::awaitable<void> NonRetainedKeepsRetained(T& t) {
  if (!t.NeedRetain()) co_return;
  const std::string topic = t.Topic("r");
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "retained", kQoS1, true))) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "plain", kQoS1, false))) co_return;
  auto sub = co_await SubscribeWith(t, topic, SubOpts(kQoS1));
  if (!sub) co_return;
  auto m = co_await t.ExpectPublishOn(*sub, topic);
  if (!m) co_return;
  SIMQ_FAIL_IF(m->payload != "retained" || !m->retain,
               "after retained 'retained' and non-retained 'plain', a new subscriber got {}",
               m->Describe());
  co_await ClearRetained(t, topic);
}

asio::awaitable<void> RetainedSentWithRetain1(T& t, RetainHandling rh) {
  if (!t.NeedRetain()) co_return;
  const std::string topic = t.Topic("r");
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "state", kQoS1, true))) co_return;
  auto sub = co_await SubscribeWith(t, topic, SubOpts(kQoS1, false, false, rh));
  if (!sub) co_return;
  auto m = co_await t.ExpectPublishOn(*sub, topic);
  if (!m) co_return;
  SIMQ_FAIL_IF(m->payload != "state" || !m->retain,
               "retained message sent for a new subscription: {} (expected RETAIN 1)",
               m->Describe());
  co_await ClearRetained(t, topic);
}

asio::awaitable<void> LiveMessageHasRetain0(T& t) {
  if (!t.NeedRetain()) co_return;
  const std::string topic = t.Topic("r");
  auto sub = co_await SubscribeWith(t, topic, SubOpts(kQoS1));
  if (!sub) co_return;
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "live", kQoS1, true))) co_return;
  auto m = co_await t.ExpectPublishOn(*sub, topic);
  if (!m) co_return;
  SIMQ_FAIL_IF(m->retain,
               "a retained PUBLISH forwarded to an established subscription kept "
               "RETAIN 1");
  co_await ClearRetained(t, topic);
}

asio::awaitable<void> RetainHandling1(T& t) {
  if (!t.NeedRetain()) co_return;
  const std::string topic = t.Topic("r");
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "state", kQoS1, true))) co_return;
  auto sub = co_await SubscribeWith(
      t, topic, SubOpts(kQoS1, false, false, RetainHandling::kSendIfNewSubscription));
  if (!sub) co_return;
  auto m = co_await t.ExpectPublishOn(*sub, topic);
  if (!m) co_return;
  SIMQ_FAIL_IF(!m->retain, "Retain Handling 1, new subscription: got {}", m->Describe());
  if (!co_await t.Subscribe(
          *sub, Sub(topic, SubOpts(kQoS1, false, false, RetainHandling::kSendIfNewSubscription))))
    co_return;
  if (!co_await t.ExpectNoPublish(*sub, {},
                                  "no retained message when re-subscribing with Retain "
                                  "Handling 1"))
    co_return;
  co_await ClearRetained(t, topic);
}

asio::awaitable<void> RetainHandling2(T& t) {
  if (!t.NeedRetain()) co_return;
  const std::string topic = t.Topic("r");
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "state", kQoS1, true))) co_return;
  auto sub =
      co_await SubscribeWith(t, topic, SubOpts(kQoS1, false, false, RetainHandling::kDoNotSend));
  if (!sub) co_return;
  if (!co_await t.ExpectNoPublish(*sub, {}, "no retained message with Retain Handling 2"))
    co_return;
  co_await ClearRetained(t, topic);
}

asio::awaitable<void> EmptyRetainedDeliveredAndRemoves(T& t) {
  if (!t.NeedRetain()) co_return;
  const std::string topic = t.Topic("r");
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "doomed", kQoS1, true))) co_return;
  auto sub = co_await SubscribeWith(t, topic, SubOpts(kQoS1));
  if (!sub) co_return;
  if (!co_await t.ExpectPublishOn(*sub, topic)) co_return;  // the retained one
  if (!co_await t.Publish(*pub, Pub(topic, "", kQoS1, true))) co_return;
  auto m = co_await t.ExpectPublishOn(*sub, topic);
  if (!m) co_return;
  SIMQ_FAIL_IF(!m->payload.empty() || m->retain,
               "a zero-byte retained PUBLISH reached an existing subscriber as {}; expected an "
               "empty payload with RETAIN 0",
               m->Describe());
  auto late = co_await SubscribeWith(t, topic, SubOpts(kQoS1));
  if (!late) co_return;
  co_await t.ExpectNoPublish(*late, {}, "no retained message after it was removed");
}

asio::awaitable<void> RetainAsPublished(T& t, bool rap) {
  if (!t.NeedRetain()) co_return;
  const std::string topic = t.Topic("r");
  auto sub = co_await SubscribeWith(t, topic, SubOpts(kQoS1, false, rap));
  if (!sub) co_return;
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "retained", kQoS1, true))) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "plain", kQoS1, false))) co_return;
  auto m1 = co_await t.ExpectPublishOn(*sub, topic);
  if (!m1) co_return;
  auto m2 = co_await t.ExpectPublishOn(*sub, topic);
  if (!m2) co_return;
  SIMQ_FAIL_IF(m1->retain != rap,
               "Retain As Published {}: retained PUBLISH forwarded with RETAIN {}", rap,
               m1->retain);
  SIMQ_FAIL_IF(m2->retain, "Retain As Published {}: non-retained PUBLISH forwarded with RETAIN 1",
               rap);
  co_await ClearRetained(t, topic);
}

asio::awaitable<void> ResubscribeResendsRetained(T& t) {
  if (!t.NeedRetain()) co_return;
  const std::string topic = t.Topic("r");
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "state", kQoS1, true))) co_return;
  auto sub = co_await SubscribeWith(t, topic, SubOpts(kQoS0));
  if (!sub) co_return;
  if (!co_await t.ExpectPublishOn(*sub, topic)) co_return;
  // Same filter again (a higher QoS): the subscription is replaced, the retained message is sent
  // again, and a message published meanwhile is not lost.
  SubSpec again = Sub(topic, kQoS1);
  again.packet_id = sub->NextPacketId();
  sub->SendRaw(EncodeSubscribe(again, t.version()));
  if (!co_await t.Publish(*pub, Pub(topic, "live", kQoS1))) co_return;
  bool retained = false, live = false;
  for (int i = 0; i < 2; ++i) {
    auto m = co_await t.ExpectPublishOn(*sub, topic);
    if (!m) co_return;
    if (m->payload == "state") retained = true;
    if (m->payload == "live") live = true;
  }
  SIMQ_FAIL_IF(!retained, "re-subscribing did not re-send the retained message");
  SIMQ_FAIL_IF(!live, "a message published while re-subscribing was lost");
  co_await t.ExpectNoPublish(*sub, {}, "one copy of each (the subscription was replaced)");
  co_await ClearRetained(t, topic);
}

// ---- Properties forwarded unaltered ----

asio::awaitable<std::optional<Msg>> RoundTrip(T& t, PubSpec spec) {
  auto p = co_await MakePair(t, kQoS1);
  if (!p) co_return std::nullopt;
  spec.topic = p->topic;
  if (!co_await t.Publish(*p->pub, spec)) co_return std::nullopt;
  co_return co_await t.ExpectPublishOn(*p->sub, p->topic);
}

asio::awaitable<void> PayloadFormatForwarded(T& t) {
  PubSpec s = Pub("", "h\xC3\xA9llo", kQoS1);
  s.payload_format = 1;
  auto m = co_await RoundTrip(t, s);
  if (!m) co_return;
  SIMQ_FAIL_IF(m->p().payload_format_indicator != 1, "Payload Format Indicator 1 forwarded as {}",
               m->p().payload_format_indicator ? std::to_string(*m->p().payload_format_indicator)
                                               : "absent");
}

asio::awaitable<void> ResponseTopicForwarded(T& t) {
  PubSpec s = Pub("", "request", kQoS1);
  s.response_topic = t.Topic("reply/to/me");
  auto m = co_await RoundTrip(t, s);
  if (!m) co_return;
  SIMQ_FAIL_IF(m->p().response_topic != *s.response_topic, "Response Topic '{}' forwarded as '{}'",
               *s.response_topic, m->p().response_topic.value_or("(absent)"));
}

asio::awaitable<void> CorrelationDataForwarded(T& t) {
  PubSpec s = Pub("", "request", kQoS1);
  s.correlation_data = std::string("\x00\x01\xFF\xFEid-42", 9);
  auto m = co_await RoundTrip(t, s);
  if (!m) co_return;
  SIMQ_FAIL_IF(m->p().correlation_data != *s.correlation_data,
               "Correlation Data {} forwarded as {}", Hex(*s.correlation_data),
               m->p().correlation_data ? Hex(*m->p().correlation_data) : "(absent)");
}

asio::awaitable<void> UserPropertiesForwarded(T& t, bool order) {
  PubSpec s = Pub("", "props", kQoS1);
  if (order) {
    s.user_properties.emplace_back("z", "1");
    s.user_properties.emplace_back("a", "2");
    s.user_properties.emplace_back("m", "3");
    s.user_properties.emplace_back("a", "4");
    s.user_properties.emplace_back("b", "5");
  } else {
    s.user_properties.emplace_back("key", "value");
    s.user_properties.emplace_back("key", "second value");
    s.user_properties.emplace_back("empty", "");
    s.user_properties.emplace_back("utf8", "\xE2\x82\xAC");
  }
  auto m = co_await RoundTrip(t, s);
  if (!m) co_return;
  const auto got = m->p().user_properties.ToVector();
  std::vector<protocol::StringPair> want;
  for (const auto& [k, v] : s.user_properties) want.push_back(protocol::StringPair{k, v});
  if (order) {
    SIMQ_FAIL_IF(got != want, "User Properties {} forwarded as {} (order changed?)",
                 FormatPairs(want), FormatPairs(got));
  } else {
    auto sorted_got = got, sorted_want = want;
    auto less = [](const protocol::StringPair& a, const protocol::StringPair& b) {
      return std::tie(a.name, a.value) < std::tie(b.name, b.value);
    };
    std::sort(sorted_got.begin(), sorted_got.end(), less);
    std::sort(sorted_want.begin(), sorted_want.end(), less);
    SIMQ_FAIL_IF(sorted_got != sorted_want, "User Properties {} forwarded as {}", FormatPairs(want),
                 FormatPairs(got));
  }
}

asio::awaitable<void> ContentTypeForwarded(T& t) {
  PubSpec s = Pub("", "{}", kQoS1);
  s.content_type = "application/json; charset=utf-8";
  auto m = co_await RoundTrip(t, s);
  if (!m) co_return;
  SIMQ_FAIL_IF(m->p().content_type != *s.content_type, "Content Type '{}' forwarded as '{}'",
               *s.content_type, m->p().content_type.value_or("(absent)"));
}

asio::awaitable<void> TopicNameMatchesFilter(T& t) {
  if (!t.NeedWildcards()) co_return;
  const std::string base = t.Topic("m");
  auto sub = co_await t.Connect(t.Spec("sub"));
  if (!sub) co_return;
  if (!co_await t.Subscribe(*sub, base + "/+/c", kQoS1)) co_return;
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  std::vector<std::string> topics;
  topics.push_back(base + "/b/d");
  topics.push_back(base + "/b/c/d");
  topics.push_back(base + "/b/c");
  for (const auto& topic : topics) {
    if (!co_await t.Publish(*pub, Pub(topic, topic, kQoS1))) co_return;
  }
  auto m = co_await t.ExpectPublish(*sub);
  if (!m) co_return;
  SIMQ_FAIL_IF(m->topic != base + "/b/c",
               "subscription '{}/+/c' received a PUBLISH with Topic Name '{}'", base, m->topic);
  co_await t.ExpectNoPublish(*sub, {}, "nothing else for '" + base + "/+/c'");
}

// ---- Message expiry ----

asio::awaitable<void> ExpiredMessageNotDelivered(T& t) {
  ConnectSpec spec = Persistent(t, "exp");
  auto p = co_await MakePair(t, kQoS1, true, spec);
  if (!p) co_return;
  if (!co_await DisconnectAndWait(t, p->sub)) co_return;
  PubSpec s = Pub(p->topic, "short-lived", kQoS1);
  s.message_expiry = 1;
  if (!co_await t.Publish(*p->pub, s)) co_return;
  if (!co_await t.Publish(*p->pub, Pub(p->topic, "durable", kQoS1))) co_return;
  co_await t.Sleep(Ms(2200));
  auto c = co_await t.Connect(Resume(spec));
  if (!c) co_return;
  auto m = co_await t.ExpectPublishOn(*c, p->topic);
  if (!m) co_return;
  SIMQ_FAIL_IF(m->payload != "durable",
               "a message with Message Expiry Interval 1 s was delivered 2.2 s later: {}",
               m->Describe());
  co_await t.EndSession(spec.client_id);
}

asio::awaitable<void> ExpiryIntervalDecremented(T& t) {
  ConnectSpec spec = Persistent(t, "exp");
  auto p = co_await MakePair(t, kQoS1, true, spec);
  if (!p) co_return;
  if (!co_await DisconnectAndWait(t, p->sub)) co_return;
  PubSpec s = Pub(p->topic, "waits", kQoS1);
  s.message_expiry = 10;
  if (!co_await t.Publish(*p->pub, s)) co_return;
  co_await t.Sleep(Ms(2200));
  auto c = co_await t.Connect(Resume(spec));
  if (!c) co_return;
  auto m = co_await t.ExpectPublishOn(*c, p->topic);
  if (!m) co_return;
  const auto left = m->p().message_expiry_interval;
  SIMQ_FAIL_IF(!left, "Message Expiry Interval 10 s, delivered after 2.2 s without one");
  SIMQ_FAIL_IF(*left > 8 || *left == 0,
               "Message Expiry Interval 10 s, delivered after 2.2 s with {} s left (expected "
               "1..8)",
               *left);
  co_await t.EndSession(spec.client_id);
}

// ---- Topic Aliases ----

asio::awaitable<void> AliasNotCarriedAcrossConnections(T& t) {
  if (t.caps().topic_alias_maximum == 0) {
    t.Skip("the server accepts no Topic Aliases (Topic Alias Maximum 0)");
    co_return;
  }
  auto p = co_await MakePair(t, kQoS1);
  if (!p) co_return;
  PubSpec set = Pub(p->topic, "sets alias 1", kQoS1);
  set.topic_alias = 1;
  if (!co_await t.Publish(*p->pub, set)) co_return;
  if (!co_await t.ExpectPublishOn(*p->sub, p->topic)) co_return;
  if (!co_await DisconnectAndWait(t, p->pub)) co_return;
  auto c = co_await t.Connect(t.Spec("pub2"));
  if (!c) co_return;
  PubSpec use = Pub("", "uses alias 1", kQoS1);
  use.topic_alias = 1;
  use.packet_id = 1;
  c->SendRaw(EncodePublish(use, kV5));
  if (!co_await t.ExpectClosedWith(*c,
                                   "a new connection's first PUBLISH uses Topic Alias 1 "
                                   "with an empty Topic Name",
                                   std::vector<ReasonCode>(1, ReasonCode::kProtocolError)))
    co_return;
  co_await t.ExpectNoPublish(*p->sub, {}, "no message through an alias of an old connection");
}

asio::awaitable<void> AliasZeroRefused(T& t) {
  auto c = co_await t.Connect(t.Spec());
  if (!c) co_return;
  PubSpec s = Pub(t.Topic("a"), "alias 0");
  s.topic_alias = 0;
  c->SendRaw(EncodePublish(s, kV5));
  co_await t.ExpectClosedWith(*c, "PUBLISH with Topic Alias 0",
                              std::vector<ReasonCode>(1, ReasonCode::kTopicAliasInvalid));
}

// The server's aliases towards a client with Topic Alias Maximum `tam` (nullopt: absent).
asio::awaitable<void> OutboundAliases(T& t, std::optional<uint16_t> tam, int topics, int rounds) {
  ConnectSpec spec = t.Spec("sub");
  spec.topic_alias_maximum = tam;
  auto sub = co_await t.Connect(spec);
  if (!sub) co_return;
  const std::string base = t.Topic("al");
  SubSpec subs;
  for (int i = 0; i < topics; ++i) {
    subs.filters.emplace_back(base + "/" + std::to_string(i), SubOpts(kQoS0));
  }
  if (!co_await t.Subscribe(*sub, subs)) co_return;
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  for (int r = 0; r < rounds; ++r) {
    for (int i = 0; i < topics; ++i) {
      const std::string topic = base + "/" + std::to_string(i);
      if (!co_await t.Publish(*pub, Pub(topic, topic))) co_return;
    }
  }
  for (int n = 0; n < topics * rounds; ++n) {
    auto m = co_await t.ExpectPublish(*sub);
    if (!m) co_return;
    if (m->alias) {
      SIMQ_FAIL_IF(!tam || *tam == 0, "Topic Alias Maximum {}: the server sent Topic Alias {}",
                   tam ? "0" : "absent", *m->alias);
      SIMQ_FAIL_IF(*m->alias == 0, "the server sent Topic Alias 0");
      SIMQ_FAIL_IF(*m->alias > *tam, "Topic Alias Maximum {}: the server sent Topic Alias {}", *tam,
                   *m->alias);
    }
    SIMQ_FAIL_IF(m->topic != m->payload,
                 "message published to '{}' arrived as Topic Name '{}' (alias {})", m->payload,
                 m->topic, m->alias ? std::to_string(*m->alias) : "none");
  }
}

asio::awaitable<void> NoAliasWithoutMaximum(T& t) {
  co_await OutboundAliases(t, std::nullopt, 2, 4);
  if (t.failed()) co_return;
  co_await OutboundAliases(t, uint16_t{0}, 2, 4);
}

asio::awaitable<void> AcceptsAliasesUpToMaximum(T& t) {
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  const uint16_t tam = Props(*pub).topic_alias_maximum.value_or(0);
  if (tam == 0) {
    t.Skip("the server accepts no Topic Aliases (Topic Alias Maximum 0)");
    co_return;
  }
  const std::string a = t.Topic("a"), b = t.Topic("b");
  auto sub = co_await t.Connect(t.Spec("sub"));
  if (!sub) co_return;
  std::vector<std::string> both;
  both.push_back(a);
  both.push_back(b);
  if (!co_await t.Subscribe(*sub, Subs(both, kQoS1))) co_return;
  // alias 1 -> a; alias max -> b; alias 1 re-mapped -> b. Each mapping is then used alone.
  std::vector<std::tuple<std::string, uint16_t, std::string>> steps;
  steps.emplace_back(a, 1, "set 1=a");
  steps.emplace_back("", 1, "use 1");
  steps.emplace_back(b, tam, "set max=b");
  steps.emplace_back("", tam, "use max");
  steps.emplace_back(b, 1, "set 1=b");
  steps.emplace_back("", 1, "use 1 again");
  std::vector<std::string> expected;
  expected.push_back(a);
  expected.push_back(a);
  for (int i = 0; i < 4; ++i) expected.push_back(b);
  for (const auto& [topic, alias, what] : steps) {
    PubSpec s = Pub(topic, what, kQoS1);
    s.topic_alias = alias;
    if (!co_await t.Publish(*pub, s)) co_return;
  }
  for (size_t i = 0; i < steps.size(); ++i) {
    auto m = co_await t.ExpectPublish(*sub);
    if (!m) co_return;
    SIMQ_FAIL_IF(m->topic != expected[i] || m->payload != std::get<2>(steps[i]),
                 "Topic Alias step '{}' (Topic Alias Maximum {}): subscriber got {}, expected "
                 "topic '{}'",
                 std::get<2>(steps[i]), tam, m->Describe(), expected[i]);
  }
}

// ---- QoS flows, the server as receiver ----

asio::awaitable<void> RespondsAccordingToQoS(T& t) {
  auto c = co_await t.Connect(t.Spec());
  if (!c) co_return;
  const std::string topic = t.Topic("q");
  c->SendRaw(EncodePublish(Pub(topic, "q0"), t.version()));
  c->Send(protocol::PingreqPacket{});
  Event e = co_await c->Next(t.wait());
  SIMQ_FAIL_IF(!IsPacket(e, PacketType::kPingresp),
               "QoS 0 PUBLISH then PINGREQ: the first answer was {} (QoS 0 gets no response)",
               e.Describe());
  PubSpec q1 = Pub(topic, "q1", kQoS1);
  q1.packet_id = 7;
  c->SendRaw(EncodePublish(q1, t.version()));
  e = co_await c->Next(t.wait());
  SIMQ_FAIL_IF(!IsPacket(e, PacketType::kPuback), "QoS 1 PUBLISH answered by {}, expected PUBACK",
               e.Describe());
  if (!t.NeedQoS(kQoS2)) co_return;
  PubSpec q2 = Pub(topic, "q2", kQoS2);
  q2.packet_id = 8;
  c->SendRaw(EncodePublish(q2, t.version()));
  e = co_await c->Next(t.wait());
  SIMQ_FAIL_IF(!IsPacket(e, PacketType::kPubrec), "QoS 2 PUBLISH answered by {}, expected PUBREC",
               e.Describe());
}

asio::awaitable<void> SamePacketIdAfterPubackIsNew(T& t) {
  auto p = co_await MakePair(t, kQoS1);
  if (!p) co_return;
  PubSpec first = Pub(p->topic, "first", kQoS1);
  first.packet_id = 5;
  if (!co_await t.Publish(*p->pub, first)) co_return;
  PubSpec second = Pub(p->topic, "second", kQoS1);
  second.packet_id = 5;
  second.dup = true;
  if (!co_await t.Publish(*p->pub, second)) co_return;
  auto m1 = co_await t.ExpectPublishOn(*p->sub, p->topic);
  if (!m1) co_return;
  auto m2 = co_await t.ExpectPublishOn(*p->sub, p->topic);
  if (!m2) co_return;
  SIMQ_FAIL_IF(m1->payload != "first" || m2->payload != "second",
               "two QoS 1 PUBLISHes with Packet Identifier 5 (the second after PUBACK, DUP 1): "
               "delivered '{}' and '{}'",
               m1->payload, m2->payload);
}

asio::awaitable<void> DuplicateBeforePubrelNotRedelivered(T& t) {
  if (!t.NeedQoS(kQoS2)) co_return;
  auto p = co_await MakePair(t, kQoS2);
  if (!p) co_return;
  PubSpec s = Pub(p->topic, "exactly once", kQoS2);
  s.packet_id = 9;
  p->pub->SendRaw(EncodePublish(s, t.version()));
  auto rec1 = co_await t.Expect<PubrecPacket>(*p->pub, "PUBREC");
  if (!rec1) co_return;
  s.dup = true;
  p->pub->SendRaw(EncodePublish(s, t.version()));
  auto rec2 = co_await t.Expect<PubrecPacket>(*p->pub, "PUBREC for the duplicate PUBLISH");
  if (!rec2) co_return;
  SIMQ_FAIL_IF(rec2->get<PubrecPacket>()->packet_id != 9,
               "PUBREC for the duplicate has Packet Identifier {}",
               rec2->get<PubrecPacket>()->packet_id);
  PubrelPacket rel;
  rel.packet_id = 9;
  p->pub->Send(rel);
  if (!co_await t.Expect<PubcompPacket>(*p->pub, "PUBCOMP")) co_return;
  if (!co_await t.ExpectPublishOn(*p->sub, p->topic)) co_return;
  co_await t.ExpectNoPublish(*p->sub, {}, "one delivery of a QoS 2 message sent twice");
}

asio::awaitable<void> SamePacketIdAfterPubcompIsNew(T& t) {
  if (!t.NeedQoS(kQoS2)) co_return;
  auto p = co_await MakePair(t, kQoS2);
  if (!p) co_return;
  PubSpec a = Pub(p->topic, "a", kQoS2);
  a.packet_id = 11;
  if (!co_await t.Publish(*p->pub, a)) co_return;
  PubSpec b = Pub(p->topic, "b", kQoS2);
  b.packet_id = 11;
  if (!co_await t.Publish(*p->pub, b)) co_return;
  auto m1 = co_await t.ExpectPublishOn(*p->sub, p->topic);
  if (!m1) co_return;
  auto m2 = co_await t.ExpectPublishOn(*p->sub, p->topic);
  if (!m2) co_return;
  SIMQ_FAIL_IF(m1->payload != "a" || m2->payload != "b",
               "two QoS 2 messages with Packet Identifier 11, the second after PUBCOMP: "
               "delivered '{}' and '{}'",
               m1->payload, m2->payload);
}

asio::awaitable<void> QoS2CompletesAfterExpiry(T& t) {
  if (!t.NeedQoS(kQoS2)) co_return;
  auto c = co_await t.Connect(t.Spec());
  if (!c) co_return;
  PubSpec s = Pub(t.Topic("e"), "expires", kQoS2);
  s.packet_id = 12;
  s.message_expiry = 1;
  c->SendRaw(EncodePublish(s, kV5));
  if (!co_await t.Expect<PubrecPacket>(*c, "PUBREC")) co_return;
  co_await t.Sleep(Ms(2200));
  PubrelPacket rel;
  rel.packet_id = 12;
  c->Send(rel);
  auto comp = co_await t.Expect<PubcompPacket>(*c, "PUBCOMP after the message expired");
  if (!comp) co_return;
  SIMQ_FAIL_IF(comp->get<PubcompPacket>()->packet_id != 12, "PUBCOMP has Packet Identifier {}",
               comp->get<PubcompPacket>()->packet_id);
}

asio::awaitable<void> PublishAfterErrorPubrecIsNew(T& t) {
  if (!t.NeedQoS(kQoS2)) co_return;
  auto p = co_await MakePair(t, kQoS2);
  if (!p) co_return;
  // Payload Format Indicator 1 with bytes that are not UTF-8: servers MAY refuse it with 0x99.
  PubSpec bad = Pub(p->topic, std::string("\xFF\xFE", 2), kQoS2);
  bad.payload_format = 1;
  bad.packet_id = 13;
  p->pub->SendRaw(EncodePublish(bad, kV5));
  Event e = co_await p->pub->Await(
      [](const Event& ev) { return IsPacket(ev, PacketType::kPubrec); }, t.wait());
  if (!e.is_packet()) {
    t.Skip("the server did not answer an invalid Payload Format with PUBREC (" + e.Describe() +
           "), so no error PUBREC can be provoked");
    co_return;
  }
  if (!protocol::IsError(e.get<PubrecPacket>()->reason_code)) {
    t.Skip(
        "the server accepted a payload that is not UTF-8 with Payload Format Indicator 1, so "
        "no error PUBREC can be provoked");
    co_await t.ExpectPublishOn(*p->sub, p->topic);
    co_return;
  }
  PubSpec good = Pub(p->topic, "new message", kQoS2);
  good.packet_id = 13;
  auto code = co_await t.Publish(*p->pub, good);
  if (!code) co_return;
  auto m = co_await t.ExpectPublishOn(*p->sub, p->topic);
  if (!m) co_return;
  SIMQ_FAIL_IF(m->payload != "new message", "delivered {}", m->Describe());
}

// ---- QoS flows, the server as sender ----

asio::awaitable<void> UnackedQoS1Redelivered(T& t) {
  ConnectSpec spec = Persistent(t, "q1");
  auto p = co_await MakePair(t, kQoS1, /*auto_ack=*/false, spec);
  if (!p) co_return;
  if (!co_await t.Publish(*p->pub, Pub(p->topic, "acked", kQoS1))) co_return;
  if (!co_await t.Publish(*p->pub, Pub(p->topic, "unacked", kQoS1))) co_return;
  auto m1 = co_await t.ExpectPublishOn(*p->sub, p->topic);
  if (!m1) co_return;
  auto m2 = co_await t.ExpectPublishOn(*p->sub, p->topic);
  if (!m2) co_return;
  PubackPacket ack;
  ack.packet_id = m1->packet_id;
  p->sub->Send(ack);
  if (!co_await t.Ping(*p->sub)) co_return;  // the PUBACK was read
  p->sub->Drop();
  auto c = co_await t.Connect(Resume(spec));
  if (!c) co_return;
  auto again = co_await t.ExpectPublishOn(*c, p->topic);
  if (!again) co_return;
  SIMQ_FAIL_IF(again->payload != "unacked" || again->packet_id != m2->packet_id,
               "after reconnecting: {}; expected only 'unacked' again with id {}",
               again->Describe(), m2->packet_id);
  if (!co_await t.ExpectNoPublish(*c, {}, "no re-delivery of the acknowledged message")) co_return;
  co_await t.EndSession(spec.client_id);
}

asio::awaitable<void> ResendsOnlyOnReconnect(T& t) {
  ConnectSpec spec = Persistent(t, "rs");
  auto p = co_await MakePair(t, kQoS1, /*auto_ack=*/false, spec);
  if (!p) co_return;
  if (!co_await t.Publish(*p->pub, Pub(p->topic, "pending", kQoS1))) co_return;
  auto m = co_await t.ExpectPublishOn(*p->sub, p->topic);
  if (!m) co_return;
  if (!co_await t.ExpectNoPublish(*p->sub, Ms(2000),
                                  "no re-send of an unacknowledged PUBLISH on the same "
                                  "connection"))
    co_return;
  p->sub->Drop();
  auto c = co_await t.Connect(Resume(spec));
  if (!c) co_return;
  auto again = co_await t.ExpectPublishOn(*c, p->topic);
  if (!again) co_return;
  SIMQ_FAIL_IF(again->packet_id != m->packet_id,
               "re-sent on reconnect with Packet Identifier {}, originally {}", again->packet_id,
               m->packet_id);
  co_await t.EndSession(spec.client_id);
}

asio::awaitable<void> ErrorAckNotRetransmitted(T& t) {
  ConnectSpec spec = Persistent(t, "ea");
  auto p = co_await MakePair(t, kQoS1, /*auto_ack=*/false, spec);
  if (!p) co_return;
  if (!co_await t.Publish(*p->pub, Pub(p->topic, "refused", kQoS1))) co_return;
  auto m = co_await t.ExpectPublishOn(*p->sub, p->topic);
  if (!m) co_return;
  PubackPacket ack;
  ack.packet_id = m->packet_id;
  ack.reason_code = ReasonCode::kUnspecifiedError;
  p->sub->Send(ack);
  if (!co_await t.Ping(*p->sub)) co_return;
  p->sub->Drop();
  auto c = co_await t.Connect(Resume(spec));
  if (!c) co_return;
  if (!co_await t.ExpectNoPublish(*c, {}, "no re-send of a PUBLISH answered by PUBACK 0x80"))
    co_return;
  co_await t.EndSession(spec.client_id);
}

asio::awaitable<void> QoS2RedeliveredUntilPubrec(T& t) {
  if (!t.NeedQoS(kQoS2)) co_return;
  ConnectSpec spec = Persistent(t, "q2");
  auto p = co_await MakePair(t, kQoS2, /*auto_ack=*/false, spec);
  if (!p) co_return;
  if (!co_await t.Publish(*p->pub, Pub(p->topic, "pending", kQoS2))) co_return;
  auto m = co_await t.ExpectPublishOn(*p->sub, p->topic);
  if (!m) co_return;
  p->sub->Drop();
  auto c = co_await t.Connect(Resume(spec));
  if (!c) co_return;
  auto again = co_await t.ExpectPublishOn(*c, p->topic);
  if (!again) co_return;
  SIMQ_FAIL_IF(!again->dup || again->packet_id != m->packet_id || again->qos != kQoS2,
               "QoS 2 PUBLISH without PUBREC, after reconnecting: {} (expected DUP 1, id {})",
               again->Describe(), m->packet_id);
  co_await t.EndSession(spec.client_id);
}

// PUBLISH (QoS 2) -> our PUBREC -> server PUBREL; returns the Packet Identifier.
asio::awaitable<std::optional<uint16_t>> ReceiveUntilPubrel(T& t, Pair& p) {
  if (!co_await t.Publish(*p.pub, Pub(p.topic, "two-step", kQoS2))) co_return std::nullopt;
  auto m = co_await t.ExpectPublishOn(*p.sub, p.topic);
  if (!m) co_return std::nullopt;
  PubrecPacket rec;
  rec.packet_id = m->packet_id;
  p.sub->Send(rec);
  auto rel = co_await t.Expect<PubrelPacket>(*p.sub, "PUBREL after our PUBREC");
  if (!rel) co_return std::nullopt;
  const auto* r = rel->get<PubrelPacket>();
  if (r->packet_id != m->packet_id) {
    t.Fail(
        fmt::format("PUBREL for PUBLISH {} has Packet Identifier {}", m->packet_id, r->packet_id));
    co_return std::nullopt;
  }
  if (static_cast<uint8_t>(rel->bytes()[0]) != 0x62) {
    t.Fail("PUBREL fixed header " + Hex(rel->bytes()) + " (expected 62 ...)");
    co_return std::nullopt;
  }
  co_return m->packet_id;
}

asio::awaitable<void> PubrelAfterPubrec(T& t) {
  if (!t.NeedQoS(kQoS2)) co_return;
  auto p = co_await MakePair(t, kQoS2, /*auto_ack=*/false);
  if (!p) co_return;
  co_await ReceiveUntilPubrel(t, *p);
}

asio::awaitable<void> PubrelResentUntilPubcomp(T& t, bool check_no_publish) {
  if (!t.NeedQoS(kQoS2)) co_return;
  ConnectSpec spec = Persistent(t, "rel");
  auto p = co_await MakePair(t, kQoS2, /*auto_ack=*/false, spec);
  if (!p) co_return;
  auto id = co_await ReceiveUntilPubrel(t, *p);
  if (!id) co_return;
  p->sub->Drop();
  auto c = co_await t.Connect(Resume(spec));
  if (!c) co_return;
  c->set_auto_ack(false);
  Event e = co_await c->Next(t.wait());
  if (check_no_publish) {
    SIMQ_FAIL_IF(IsPacket(e, PacketType::kPublish),
                 "after PUBREL was sent, reconnecting brought the PUBLISH again: {}", e.Describe());
  }
  SIMQ_FAIL_IF(!IsPacket(e, PacketType::kPubrel) || e.get<PubrelPacket>()->packet_id != *id,
               "PUBREL {} without PUBCOMP, after reconnecting: got {}; expected PUBREL {}", *id,
               e.Describe(), *id);
  if (check_no_publish) {
    PubcompPacket comp;
    comp.packet_id = *id;
    c->Send(comp);
    if (!co_await t.ExpectNoPublish(*c, {}, "no PUBLISH re-sent after PUBREL")) co_return;
  }
  co_await t.EndSession(spec.client_id);
}

asio::awaitable<void> NoExpiryOnceSent(T& t) {
  if (!t.NeedQoS(kQoS2)) co_return;
  ConnectSpec spec = Persistent(t, "ne");
  auto p = co_await MakePair(t, kQoS2, /*auto_ack=*/false, spec);
  if (!p) co_return;
  PubSpec s = Pub(p->topic, "sent before expiry", kQoS2);
  s.message_expiry = 1;
  if (!co_await t.Publish(*p->pub, s)) co_return;
  auto m = co_await t.ExpectPublishOn(*p->sub, p->topic);
  if (!m) co_return;
  p->sub->Drop();
  co_await t.Sleep(Ms(2200));
  auto c = co_await t.Connect(Resume(spec));
  if (!c) co_return;
  auto again = co_await t.ExpectPublishOn(*c, p->topic);
  if (!again) co_return;
  SIMQ_FAIL_IF(again->packet_id != m->packet_id, "re-sent with id {}, originally {}",
               again->packet_id, m->packet_id);
  co_await t.EndSession(spec.client_id);
}

// ---- Reason codes of acknowledgements (MQTT 5) ----

asio::awaitable<void> AckCodesValid(T& t, QoS qos) {
  if (!t.NeedQoS(qos)) co_return;
  auto p = co_await MakePair(t, kQoS1);
  if (!p) co_return;
  std::vector<std::string> topics;
  topics.push_back(p->topic);                                 // a subscriber
  topics.push_back(t.Topic("nobody"));                        // no subscriber: 0x00 or 0x10
  topics.push_back("$SYS/simq-conformance/" + t.Topic("x"));  // perhaps not authorized
  for (const std::string& topic : topics) {
    auto code = co_await t.Publish(*p->pub, Pub(topic, "codes", qos), /*accept_errors=*/true);
    if (!code) co_return;
    SIMQ_FAIL_IF(!In(PubackCodes(), *code),
                 "{} for a QoS {} PUBLISH to '{}': {} is not a {} "
                 "Reason Code",
                 qos == kQoS1 ? "PUBACK" : "PUBREC", static_cast<int>(qos), topic, CodeName(*code),
                 qos == kQoS1 ? "PUBACK" : "PUBREC");
  }
}

asio::awaitable<void> PubrelCodesValid(T& t) {
  if (!t.NeedQoS(kQoS2)) co_return;
  auto p = co_await MakePair(t, kQoS2, /*auto_ack=*/false);
  if (!p) co_return;
  auto id = co_await ReceiveUntilPubrel(t, *p);
  if (!id) co_return;
  // ReceiveUntilPubrel decoded the PUBREL (its Reason Code is checked by the decoder); also a
  // PUBREC for an identifier the server never used.
  PubrecPacket stray;
  stray.packet_id = static_cast<uint16_t>(*id + 1000);
  p->sub->Send(stray);
  Event e = co_await p->sub->Await(
      [](const Event& ev) { return IsPacket(ev, PacketType::kPubrel); }, t.quiet());
  if (e.kind == Event::Kind::kBadPacket) {
    SIMQ_FAIL_IF(true, "PUBREL does not decode ({}): {}", std::string(e.error.message()),
                 Hex(e.raw));
  }
  if (const auto* r = e.get<PubrelPacket>()) {
    SIMQ_FAIL_IF(!In(PubrelCodes(), r->reason_code), "PUBREL with Reason Code {}",
                 CodeName(r->reason_code));
  }
}

asio::awaitable<void> PubcompCodesValid(T& t) {
  if (!t.NeedQoS(kQoS2)) co_return;
  auto c = co_await t.Connect(t.Spec());
  if (!c) co_return;
  if (!co_await t.Publish(*c, Pub(t.Topic("c"), "known", kQoS2))) co_return;
  PubrelPacket rel;
  rel.packet_id = 4242;  // never used
  c->Send(rel);
  Event e = co_await c->Await([](const Event& ev) { return IsPacket(ev, PacketType::kPubcomp); },
                              t.wait());
  SIMQ_FAIL_IF(e.kind == Event::Kind::kBadPacket, "PUBCOMP does not decode ({}): {}",
               std::string(e.error.message()), Hex(e.raw));
  SIMQ_FAIL_IF(!e.is_packet(),
               "PUBREL for unknown Packet Identifier 4242: expected PUBCOMP, got {}", e.Describe());
  const auto* comp = e.get<PubcompPacket>();
  SIMQ_FAIL_IF(!In(PubrelCodes(), comp->reason_code), "PUBCOMP with Reason Code {}",
               CodeName(comp->reason_code));
}

// Acknowledgements with a Reason String or User Property must fit the client's Maximum Packet
// Size; the server provokes them with refusals (not authorized, packet identifier not found).
asio::awaitable<void> AckFitsMaximumPacketSize(T& t, PacketType type, bool user_property) {
  if ((type != PacketType::kPuback) && !t.NeedQoS(kQoS2)) co_return;
  constexpr uint32_t kMax = 16;
  ConnectSpec spec = t.Spec();
  spec.max_packet_size = kMax;
  spec.request_problem_info = 1;
  auto c = co_await t.Connect(spec);
  if (!c) co_return;
  c->set_auto_ack(false);
  // A long topic in a place a server is likely to refuse, so that a diagnostic is tempting.
  const std::string refused = "$SYS/simq-conformance/" + Repeat('x', 60);
  switch (type) {
    case PacketType::kPuback: {
      PubSpec s = Pub(refused, "x", kQoS1);
      s.packet_id = 1;
      c->SendRaw(EncodePublish(s, kV5));
      PubSpec n = Pub(t.Topic("nobody-" + Repeat('y', 40)), "x", kQoS1);
      n.packet_id = 2;
      c->SendRaw(EncodePublish(n, kV5));
      break;
    }
    case PacketType::kPubrec: {
      PubSpec s = Pub(refused, "x", kQoS2);
      s.packet_id = 1;
      c->SendRaw(EncodePublish(s, kV5));
      PubSpec n = Pub(t.Topic("nobody-" + Repeat('y', 40)), "x", kQoS2);
      n.packet_id = 2;
      c->SendRaw(EncodePublish(n, kV5));
      break;
    }
    case PacketType::kPubrel: {
      // Our message comes back at QoS 2; a PUBREC for an unknown identifier, then the real one.
      const std::string topic = t.Topic("rel");
      if (!co_await t.Subscribe(*c, topic, kQoS2)) co_return;
      PubrecPacket stray;
      stray.packet_id = 999;
      c->Send(stray);
      PubSpec s = Pub(topic, "x", kQoS2);
      s.packet_id = 3;
      c->SendRaw(EncodePublish(s, kV5));
      break;
    }
    default: {
      PubrelPacket rel;
      rel.packet_id = 999;  // never used: PUBCOMP 0x92 perhaps with a Reason String
      c->Send(rel);
      break;
    }
  }
  std::vector<Event> got;
  for (int i = 0; i < 8; ++i) {
    Event e = co_await c->Next(t.quiet());
    if (e.kind == Event::Kind::kTimeout) break;
    if (e.kind == Event::Kind::kClosed) break;
    if (e.is_packet() && e.type() == PacketType::kPublish) {
      const auto* pub = e.get<PublishPacket>();
      PubrecPacket rec;
      rec.packet_id = pub->packet_id;
      c->Send(rec);
    }
    if (e.is_packet() && e.type() == PacketType::kPubrec) {
      const auto* rec = e.get<PubrecPacket>();
      if (!protocol::IsError(rec->reason_code)) {
        PubrelPacket rel;
        rel.packet_id = rec->packet_id;
        c->Send(rel);
      }
    }
    got.push_back(std::move(e));
  }
  bool saw = false;
  for (const Event& e : got) {
    if (!IsPacket(e, type)) continue;
    saw = true;
    if (e.raw.size() <= kMax) continue;
    const protocol::Properties* props = nullptr;
    if (const auto* a = e.get<PubackPacket>()) props = &a->properties;
    if (const auto* a = e.get<PubrecPacket>()) props = &a->properties;
    if (const auto* a = e.get<PubrelPacket>()) props = &a->properties;
    if (const auto* a = e.get<PubcompPacket>()) props = &a->properties;
    const bool culprit = props != nullptr && (user_property ? !props->user_properties.empty()
                                                            : props->reason_string.has_value());
    SIMQ_FAIL_IF(culprit, "client Maximum Packet Size {}: {} of {} bytes because of its {}: {}",
                 kMax, protocol::PacketTypeName(type), e.raw.size(),
                 user_property ? "User Property" : "Reason String", Hex(e.raw));
    SIMQ_FAIL_IF(true, "client Maximum Packet Size {}: {} of {} bytes (MQTT-3.1.2-24): {}", kMax,
                 protocol::PacketTypeName(type), e.raw.size(), Hex(e.raw));
  }
  SIMQ_FAIL_IF(!saw && type != PacketType::kPubrel, "expected a {} from the server, got none",
               protocol::PacketTypeName(type));
}

// ---- 3.1.1 QoS rules ----

asio::awaitable<void> UnauthorizedPublishAckedOrClosed311(T& t) {
  auto c = co_await t.Connect(t.Spec());
  if (!c) co_return;
  PubSpec s = Pub("$SYS/simq-conformance/" + t.Topic("x"), "x", kQoS1);
  s.packet_id = 3;
  c->SendRaw(EncodePublish(s, kV311));
  Event e = co_await c->Next(t.wait());
  if (e.kind == Event::Kind::kClosed) co_return;
  SIMQ_FAIL_IF(!IsPacket(e, PacketType::kPuback) || e.get<PubackPacket>()->packet_id != 3,
               "QoS 1 PUBLISH to a $SYS topic: expected PUBACK 3 or the connection closed, got {}",
               e.Describe());
}

asio::awaitable<void> QoS1SenderRules311(T& t) {
  ConnectSpec spec = Persistent(t, "s1");
  auto p = co_await MakePair(t, kQoS1, /*auto_ack=*/false, spec);
  if (!p) co_return;
  if (!co_await t.Publish(*p->pub, Pub(p->topic, "m1", kQoS1))) co_return;
  if (!co_await t.Publish(*p->pub, Pub(p->topic, "m2", kQoS1))) co_return;
  auto m1 = co_await t.ExpectPublishOn(*p->sub, p->topic);
  if (!m1) co_return;
  auto m2 = co_await t.ExpectPublishOn(*p->sub, p->topic);
  if (!m2) co_return;
  SIMQ_FAIL_IF(m1->packet_id == 0 || m2->packet_id == 0 || m1->packet_id == m2->packet_id,
               "two unacknowledged QoS 1 PUBLISHes with Packet Identifiers {} and {}",
               m1->packet_id, m2->packet_id);
  SIMQ_FAIL_IF(m1->dup || m2->dup || m1->qos != kQoS1, "first sends: {} / {}", m1->Describe(),
               m2->Describe());
  p->sub->Drop();
  auto c = co_await t.Connect(Resume(spec));
  if (!c) co_return;
  auto r1 = co_await t.ExpectPublishOn(*c, p->topic);
  if (!r1) co_return;
  auto r2 = co_await t.ExpectPublishOn(*c, p->topic);
  if (!r2) co_return;
  SIMQ_FAIL_IF(r1->packet_id != m1->packet_id || r2->packet_id != m2->packet_id,
               "unacknowledged messages re-sent with ids {} and {}, originally {} and {}",
               r1->packet_id, r2->packet_id, m1->packet_id, m2->packet_id);
  co_await t.EndSession(spec.client_id);
}

asio::awaitable<void> QoS1ReceiverRules311(T& t) {
  co_await AcksCarryPacketId(t);
  if (t.failed() || t.skipped()) co_return;
  co_await SamePacketIdAfterPubackIsNew(t);
}

asio::awaitable<void> QoS2SenderRules311(T& t) {
  co_await PubrelResentUntilPubcomp(t, /*check_no_publish=*/true);
}

asio::awaitable<void> QoS2ReceiverRules311(T& t) {
  co_await DuplicateBeforePubrelNotRedelivered(t);
  if (t.failed() || t.skipped()) co_return;
  co_await SamePacketIdAfterPubcompIsNew(t);
}

// ---- Ordering, transport, strings ----

asio::awaitable<void> DeliversInOrder(T& t, QoS qos, int count) {
  if (!t.NeedQoS(qos)) co_return;
  // Never more unacknowledged QoS 1/2 PUBLISHes than the server's Receive Maximum.
  if (qos != kQoS0) count = std::min<int>(count, t.caps().receive_maximum);
  auto p = co_await MakePair(t, qos);
  if (!p) co_return;
  // Everything in one write, acknowledgements collected afterwards.
  std::string bytes;
  for (int i = 0; i < count; ++i) {
    PubSpec s = Pub(p->topic, std::to_string(i), qos);
    if (qos != kQoS0) s.packet_id = static_cast<uint16_t>(i + 1);
    bytes += EncodePublish(s, t.version());
  }
  p->pub->SendRaw(bytes);
  if (qos == kQoS2) {
    // A server may hold a QoS 2 message back until its PUBREL (MQTT 5 §4.3.3, method B).
    for (int i = 0; i < count; ++i) {
      auto rec = co_await t.Expect<PubrecPacket>(*p->pub, "PUBREC");
      if (!rec) co_return;
      PubrelPacket rel;
      rel.packet_id = rec->get<PubrecPacket>()->packet_id;
      p->pub->Send(rel);
    }
  }
  for (int i = 0; i < count; ++i) {
    auto m = co_await t.ExpectPublishOn(*p->sub, p->topic);
    if (!m) co_return;
    SIMQ_FAIL_IF(m->payload != std::to_string(i),
                 "QoS {} messages 0..{} published in order by one client; message #{} received "
                 "was '{}'",
                 static_cast<int>(qos), count - 1, i, m->payload);
  }
}

asio::awaitable<void> EveryTopicOrdered(T& t) {
  co_await DeliversInOrder(t, kQoS0, 50);
  if (t.failed() || t.skipped()) co_return;
  co_await DeliversInOrder(t, t.caps().max_qos >= 2 ? kQoS2 : kQoS1, 20);
}

asio::awaitable<void> BomNotStripped(T& t) {
  const std::string topic = "\xEF\xBB\xBF" + t.Topic("bom");
  auto p = co_await MakePair(t, kQoS0);
  if (!p) co_return;
  if (!co_await t.Subscribe(*p->sub, topic, kQoS1)) co_return;
  if (!co_await t.Publish(*p->pub, Pub(topic, "bom", kQoS1))) co_return;
  auto m = co_await t.ExpectPublish(*p->sub);
  if (!m) co_return;
  SIMQ_FAIL_IF(m->topic != topic,
               "Topic Name starting with EF BB BF delivered as {} (the BOM must not be stripped)",
               Hex(m->topic));
  // The subscription to the same name without BOM (p->topic's sibling) must not match.
  co_await t.ExpectNoPublish(*p->sub, {}, "one delivery");
}

asio::awaitable<void> MinimalVarInts(T& t) {
  auto p = co_await MakePair(t, kQoS0);
  if (!p) co_return;
  std::vector<size_t> sizes = {100, 200, 20000};
  for (size_t size : sizes) {
    if (!co_await t.Publish(*p->pub, Pub(p->topic, std::string(size, 'v')))) co_return;
    auto m = co_await t.ExpectPublishOn(*p->sub, p->topic);
    if (!m) co_return;
    size_t n = 1;
    while (n < m->raw.size() && (static_cast<uint8_t>(m->raw[n]) & 0x80)) ++n;
    const size_t used = n;  // bytes of Remaining Length
    const size_t remaining = m->raw.size() - 1 - used;
    const size_t minimal = remaining < 128       ? 1
                           : remaining < 16384   ? 2
                           : remaining < 2097152 ? 3
                                                 : 4;
    SIMQ_FAIL_IF(used != minimal,
                 "PUBLISH with Remaining Length {} encoded in {} bytes (minimum {}): {}", remaining,
                 used, minimal, Hex(m->raw, 8));
  }
}

asio::awaitable<void> OrderedLosslessTransport(T& t) {
  co_await DeliversInOrder(t, kQoS0, 200);
}

}  // namespace

void RegisterPublishTests(Registry& r) {
  // MQTT 5.0
  r.Add(kV5, "MQTT-1.5.4-3", "KeepsByteOrderMarkInTopicName", BomNotStripped);
  r.Add(kV5, "MQTT-1.5.5-1", "UsesMinimalVariableByteIntegers", MinimalVarInts);
  r.Add(kV5, "MQTT-2.2.1-2", "QoS0PublishHasNoPacketId", QoS0PublishHasNoPacketId);
  r.Add(kV5, "MQTT-2.2.1-4", "AssignsUnusedNonZeroPacketIds",
        [](T& t) { return ServerPacketIdsUniqueNonZero(t, kQoS1); });
  r.Add(kV5, "MQTT-2.2.1-5", "AcknowledgementsCarryPublishPacketId", AcksCarryPacketId);
  r.Add(kV5, "MQTT-2.2.2-1", "SendsPropertyLengthZeroWithoutProperties", PropertyLengthZero);
  r.Add(kV5, "MQTT-3.3.1-1", "SetsDupOnRedelivery", RedeliveryHasDup);
  r.Add(kV5, "MQTT-3.3.1-2", "QoS0DeliveryHasDup0",
        [](T& t) { return QoS0DeliveryHasDup0(t, kQoS0, kQoS1, true); });
  r.Add(kV5, "MQTT-3.3.1-3", "DupNotPropagatedToSubscribers",
        [](T& t) { return QoS0DeliveryHasDup0(t, kQoS1, kQoS1, true); });
  r.Add(kV5, "MQTT-3.3.1-5", "RetainedMessageReplacesPrevious", ReplacesRetained);
  r.Add(kV5, "MQTT-3.3.1-6", "EmptyRetainedMessageRemovesRetained", EmptyRetainedRemoves);
  r.Add(kV5, "MQTT-3.3.1-7", "EmptyRetainedMessageIsNotStored", EmptyRetainedNotStored);
  r.Add(kV5, "MQTT-3.3.1-8", "NonRetainedPublishKeepsRetained", NonRetainedKeepsRetained);
  r.Add(kV5, "MQTT-3.3.1-9", "RetainHandling0SendsRetained",
        [](T& t) { return RetainedSentWithRetain1(t, RetainHandling::kSendOnSubscribe); });
  r.Add(kV5, "MQTT-3.3.1-10", "RetainHandling1SendsOnlyForNewSubscription", RetainHandling1);
  r.Add(kV5, "MQTT-3.3.1-11", "RetainHandling2SendsNoRetained", RetainHandling2);
  r.Add(kV5, "MQTT-3.3.1-12", "RetainAsPublished0ClearsRetain",
        [](T& t) { return RetainAsPublished(t, false); });
  r.Add(kV5, "MQTT-3.3.1-13", "RetainAsPublished1KeepsRetain",
        [](T& t) { return RetainAsPublished(t, true); });
  r.Add(kV5, "MQTT-3.3.2-3", "TopicNameMatchesSubscription", TopicNameMatchesFilter);
  r.Add(kV5, "MQTT-3.3.2-4", "ForwardsPayloadFormatIndicator", PayloadFormatForwarded);
  r.Add(kV5, "MQTT-3.3.2-5", "DropsMessageExpiredBeforeDelivery", ExpiredMessageNotDelivered);
  r.Add(kV5, "MQTT-3.3.2-6", "ForwardsRemainingMessageExpiryInterval", ExpiryIntervalDecremented);
  r.Add(kV5, "MQTT-3.3.2-7", "DoesNotCarryTopicAliasesAcrossConnections",
        AliasNotCarriedAcrossConnections);
  r.Add(kV5, "MQTT-3.3.2-8", "RefusesTopicAliasZeroWith0x94", AliasZeroRefused);
  r.Add(kV5, "MQTT-3.3.2-11", "NoTopicAliasAboveClientMaximum",
        [](T& t) { return OutboundAliases(t, uint16_t{1}, 4, 3); });
  r.Add(kV5, "MQTT-3.3.2-12", "AcceptsTopicAliasesUpToMaximum", AcceptsAliasesUpToMaximum);
  r.Add(kV5, "MQTT-3.1.2-26", "NoTopicAliasAboveTopicAliasMaximum",
        [](T& t) { return OutboundAliases(t, uint16_t{2}, 6, 2); });
  r.Add(kV5, "MQTT-3.1.2-27", "NoTopicAliasWhenMaximumAbsentOrZero", NoAliasWithoutMaximum);
  r.Add(kV5, "MQTT-3.3.2-15", "ForwardsResponseTopic", ResponseTopicForwarded);
  r.Add(kV5, "MQTT-3.3.2-16", "ForwardsCorrelationData", CorrelationDataForwarded);
  r.Add(kV5, "MQTT-3.3.2-17", "ForwardsUserProperties",
        [](T& t) { return UserPropertiesForwarded(t, false); });
  r.Add(kV5, "MQTT-3.3.2-18", "KeepsUserPropertyOrder",
        [](T& t) { return UserPropertiesForwarded(t, true); });
  r.Add(kV5, "MQTT-3.3.2-20", "ForwardsContentType", ContentTypeForwarded);
  r.Add(kV5, "MQTT-3.3.4-1", "RespondsAccordingToQoS", RespondsAccordingToQoS);
  r.Add(kV5, "MQTT-3.4.2-1", "UsesPubackReasonCodes", [](T& t) { return AckCodesValid(t, kQoS1); });
  r.Add(kV5, "MQTT-3.4.2-2", "PubackReasonStringFitsMaximumPacketSize",
        [](T& t) { return AckFitsMaximumPacketSize(t, PacketType::kPuback, false); });
  r.Add(kV5, "MQTT-3.4.2-3", "PubackUserPropertyFitsMaximumPacketSize",
        [](T& t) { return AckFitsMaximumPacketSize(t, PacketType::kPuback, true); });
  r.Add(kV5, "MQTT-3.5.2-1", "UsesPubrecReasonCodes", [](T& t) { return AckCodesValid(t, kQoS2); });
  r.Add(kV5, "MQTT-3.5.2-2", "PubrecReasonStringFitsMaximumPacketSize",
        [](T& t) { return AckFitsMaximumPacketSize(t, PacketType::kPubrec, false); });
  r.Add(kV5, "MQTT-3.5.2-3", "PubrecUserPropertyFitsMaximumPacketSize",
        [](T& t) { return AckFitsMaximumPacketSize(t, PacketType::kPubrec, true); });
  r.Add(kV5, "MQTT-3.6.2-1", "UsesPubrelReasonCodes", PubrelCodesValid);
  r.Add(kV5, "MQTT-3.6.2-2", "PubrelReasonStringFitsMaximumPacketSize",
        [](T& t) { return AckFitsMaximumPacketSize(t, PacketType::kPubrel, false); });
  r.Add(kV5, "MQTT-3.6.2-3", "PubrelUserPropertyFitsMaximumPacketSize",
        [](T& t) { return AckFitsMaximumPacketSize(t, PacketType::kPubrel, true); });
  r.Add(kV5, "MQTT-3.7.2-1", "UsesPubcompReasonCodes", PubcompCodesValid);
  r.Add(kV5, "MQTT-3.7.2-2", "PubcompReasonStringFitsMaximumPacketSize",
        [](T& t) { return AckFitsMaximumPacketSize(t, PacketType::kPubcomp, false); });
  r.Add(kV5, "MQTT-3.7.2-3", "PubcompUserPropertyFitsMaximumPacketSize",
        [](T& t) { return AckFitsMaximumPacketSize(t, PacketType::kPubcomp, true); });
  r.Add(kV5, "MQTT-3.8.4-4", "ResubscribeResendsRetainedWithoutLoss", ResubscribeResendsRetained);
  r.Add(kV5, "MQTT-4.2.0-1", "DeliversOverAnOrderedLosslessStream", OrderedLosslessTransport);
  r.Add(kV5, "MQTT-4.3.1-1", "QoS0DeliveryHasDup0",
        [](T& t) { return QoS0DeliveryHasDup0(t, kQoS2, kQoS0, false); });
  r.Add(kV5, "MQTT-4.3.2-1", "QoS1UsesUnusedPacketIds",
        [](T& t) { return ServerPacketIdsUniqueNonZero(t, kQoS1); });
  r.Add(kV5, "MQTT-4.3.2-2", "QoS1FirstDeliveryHasDup0",
        [](T& t) { return FirstDeliveryDup0(t, kQoS1); });
  r.Add(kV5, "MQTT-4.3.2-3", "QoS1UnacknowledgedUntilPuback", UnackedQoS1Redelivered);
  r.Add(kV5, "MQTT-4.3.2-4", "PubackCarriesPacketId", AcksCarryPacketId);
  r.Add(kV5, "MQTT-4.3.2-5", "SamePacketIdAfterPubackIsNewMessage", SamePacketIdAfterPubackIsNew);
  r.Add(kV5, "MQTT-4.3.3-1", "QoS2UsesUnusedPacketIds",
        [](T& t) { return ServerPacketIdsUniqueNonZero(t, kQoS2); });
  r.Add(kV5, "MQTT-4.3.3-2", "QoS2FirstDeliveryHasDup0",
        [](T& t) { return FirstDeliveryDup0(t, kQoS2); });
  r.Add(kV5, "MQTT-4.3.3-3", "QoS2UnacknowledgedUntilPubrec", QoS2RedeliveredUntilPubrec);
  r.Add(kV5, "MQTT-4.3.3-4", "SendsPubrelWithSamePacketId", PubrelAfterPubrec);
  r.Add(kV5, "MQTT-4.3.3-5", "PubrelUnacknowledgedUntilPubcomp",
        [](T& t) { return PubrelResentUntilPubcomp(t, false); });
  r.Add(kV5, "MQTT-4.3.3-6", "NoPublishResendAfterPubrel",
        [](T& t) { return PubrelResentUntilPubcomp(t, true); });
  r.Add(kV5, "MQTT-4.3.3-7", "NoMessageExpiryAfterPublishSent", NoExpiryOnceSent);
  r.Add(kV5, "MQTT-4.3.3-8", "PubrecCarriesPacketId", AcksCarryPacketId);
  r.Add(kV5, "MQTT-4.3.3-9", "PublishAfterErrorPubrecIsNewMessage", PublishAfterErrorPubrecIsNew);
  r.Add(kV5, "MQTT-4.3.3-10", "DuplicatePublishBeforePubrelDeliveredOnce",
        DuplicateBeforePubrelNotRedelivered);
  r.Add(kV5, "MQTT-4.3.3-11", "PubcompCarriesPacketId", AcksCarryPacketId);
  r.Add(kV5, "MQTT-4.3.3-12", "SamePacketIdAfterPubcompIsNewMessage",
        SamePacketIdAfterPubcompIsNew);
  r.Add(kV5, "MQTT-4.3.3-13", "CompletesQoS2AfterMessageExpiry", QoS2CompletesAfterExpiry);
  r.Add(kV5, "MQTT-4.4.0-1", "ResendsOnlyWhenSessionResumes", ResendsOnlyOnReconnect);
  r.Add(kV5, "MQTT-4.4.0-2", "NoResendAfterErrorAcknowledgement", ErrorAckNotRetransmitted);
  r.Add(kV5, "MQTT-4.6.0-5", "DeliversInPublishOrder",
        [](T& t) { return DeliversInOrder(t, kQoS1, 30); });
  r.Add(kV5, "MQTT-4.6.0-6", "TreatsEveryTopicAsOrdered", EveryTopicOrdered);

  // MQTT 3.1.1
  r.Add(kV311, "MQTT-1.5.3-3", "KeepsByteOrderMarkInTopicName", BomNotStripped);
  r.Add(kV311, "MQTT-2.2.2-1", "SetsReservedFlagsAsListed", ReservedFlagValuesInServerPackets);
  r.Add(kV311, "MQTT-2.3.1-1", "QoSAbove0PublishHasNonZeroPacketId",
        [](T& t) { return ServerPacketIdsUniqueNonZero(t, kQoS1); });
  r.Add(kV311, "MQTT-2.3.1-4", "ReusesPacketIdOnlyForResend", QoS1SenderRules311);
  r.Add(kV311, "MQTT-2.3.1-5", "QoS0PublishHasNoPacketId", QoS0PublishHasNoPacketId);
  r.Add(kV311, "MQTT-2.3.1-6", "AcknowledgementsCarryPublishPacketId", AcksCarryPacketId);
  r.Add(kV311, "MQTT-3.3.1-1", "SetsDupOnRedelivery", RedeliveryHasDup);
  r.Add(kV311, "MQTT-3.3.1-2", "QoS0DeliveryHasDup0",
        [](T& t) { return QoS0DeliveryHasDup0(t, kQoS0, kQoS1, true); });
  r.Add(kV311, "MQTT-3.3.1-3", "DupNotPropagatedToSubscribers",
        [](T& t) { return QoS0DeliveryHasDup0(t, kQoS1, kQoS1, true); });
  r.Add(kV311, "MQTT-3.3.1-5", "StoresRetainedMessageAndQoS", StoresRetainedWithQoS);
  r.Add(kV311, "MQTT-3.3.1-6", "NewSubscriptionGetsLastRetained", NewSubscriptionGetsRetained);
  r.Add(kV311, "MQTT-3.3.1-7", "RetainedQoS0ReplacesRetained", QoS0RetainedReplaces);
  r.Add(kV311, "MQTT-3.3.1-8", "RetainedDeliveryHasRetain1",
        [](T& t) { return RetainedSentWithRetain1(t, RetainHandling::kSendOnSubscribe); });
  r.Add(kV311, "MQTT-3.3.1-9", "LiveDeliveryHasRetain0", LiveMessageHasRetain0);
  r.Add(kV311, "MQTT-3.3.1-10", "EmptyRetainedRemovesAndIsDelivered",
        EmptyRetainedDeliveredAndRemoves);
  r.Add(kV311, "MQTT-3.3.1-11", "EmptyRetainedMessageIsNotStored", EmptyRetainedNotStored);
  r.Add(kV311, "MQTT-3.3.1-12", "NonRetainedPublishKeepsRetained", NonRetainedKeepsRetained);
  r.Add(kV311, "MQTT-3.3.2-3", "TopicNameMatchesSubscription", TopicNameMatchesFilter);
  r.Add(kV311, "MQTT-3.3.4-1", "RespondsAccordingToQoS", RespondsAccordingToQoS);
  r.Add(kV311, "MQTT-3.3.5-2", "AcknowledgesOrClosesUnauthorizedPublish",
        UnauthorizedPublishAckedOrClosed311);
  r.Add(kV311, "MQTT-4.3.1-1", "QoS0DeliveryHasDup0",
        [](T& t) { return QoS0DeliveryHasDup0(t, kQoS2, kQoS0, false); });
  r.Add(kV311, "MQTT-4.3.2-1", "FollowsQoS1SenderRules", QoS1SenderRules311);
  r.Add(kV311, "MQTT-4.3.2-2", "FollowsQoS1ReceiverRules", QoS1ReceiverRules311);
  r.Add(kV311, "MQTT-4.3.3-1", "FollowsQoS2SenderRules", QoS2SenderRules311);
  r.Add(kV311, "MQTT-4.3.3-2", "FollowsQoS2ReceiverRules", QoS2ReceiverRules311);
  r.Add(kV311, "MQTT-4.4.0-1", "ResendsWhenSessionResumes", ResendsOnlyOnReconnect);
  r.Add(kV311, "MQTT-4.6.0-5", "TreatsEveryTopicAsOrdered", EveryTopicOrdered);
  r.Add(kV311, "MQTT-4.6.0-6", "DeliversInPublishOrder",
        [](T& t) { return DeliversInOrder(t, kQoS1, 30); });
  r.Add(kV311, "MQTT-7.1.1-1", "DeliversOverAnOrderedLosslessStream", OrderedLosslessTransport);
}

}  // namespace simq::conformance
