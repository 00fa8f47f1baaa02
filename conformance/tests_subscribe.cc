// SUBSCRIBE / SUBACK / UNSUBSCRIBE / UNSUBACK, subscription options (No Local), overlapping
// subscriptions and Subscription Identifiers, topic filter rules, `$` topics, shared
// subscriptions.

#include <set>

#include "conformance/tests_util.h"

namespace simq::conformance {
namespace {

// SUBSCRIBE with `filter` alone must be refused: a SUBACK failure code, or the connection closed.
asio::awaitable<bool> ExpectFilterRefused(T& t, std::string filter) {
  auto c = co_await t.Connect(t.Spec("f"));
  if (!c) co_return false;
  SubSpec s = Sub(filter, kQoS0);
  s.packet_id = 1;
  c->SendRaw(EncodeSubscribe(s, t.version()));
  Event e = co_await c->Await([](const Event& ev) { return IsPacket(ev, PacketType::kSuback); },
                              t.wait());
  if (e.kind == Event::Kind::kClosed) co_return true;
  if (!e.is_packet()) {
    co_return t.Fail("SUBSCRIBE to '" + Hex(filter) + "': expected a refusal, got " + e.Describe());
  }
  const auto* suback = e.get<SubackPacket>();
  if (suback->reason_codes.size() != 1 || !protocol::IsError(suback->reason_codes[0])) {
    co_return t.Fail("SUBSCRIBE to the invalid Topic Filter '" + filter +
                     "' was granted: " + e.Describe());
  }
  co_return true;
}

asio::awaitable<void> FiltersRefused(T& t, std::vector<std::string> filters) {
  for (const std::string& f : filters) {
    if (!co_await ExpectFilterRefused(t, f)) co_return;
  }
}

// ---- SUBACK / UNSUBACK basics ----

asio::awaitable<void> AcksCarryPacketIds(T& t) {
  auto c = co_await t.Connect(t.Spec());
  if (!c) co_return;
  const std::string topic = t.Topic("s");
  SubSpec s = Sub(topic, kQoS1);
  s.packet_id = 0x0102;
  c->SendRaw(EncodeSubscribe(s, t.version()));
  auto suback = co_await t.Expect<SubackPacket>(*c, "SUBACK");
  if (!suback) co_return;
  SIMQ_FAIL_IF(suback->get<SubackPacket>()->packet_id != 0x0102,
               "SUBACK for SUBSCRIBE 0x0102 has Packet Identifier 0x{:04X}",
               suback->get<SubackPacket>()->packet_id);
  c->SendRaw(EncodeUnsubscribe(std::vector<std::string>(1, topic), 0x0304, t.version()));
  auto unsuback = co_await t.Expect<UnsubackPacket>(*c, "UNSUBACK");
  if (!unsuback) co_return;
  SIMQ_FAIL_IF(unsuback->get<UnsubackPacket>()->packet_id != 0x0304,
               "UNSUBACK for UNSUBSCRIBE 0x0304 has Packet Identifier 0x{:04X}",
               unsuback->get<UnsubackPacket>()->packet_id);
}

asio::awaitable<void> RespondsWithSuback(T& t) {
  auto c = co_await t.Connect(t.Spec());
  if (!c) co_return;
  co_await t.Subscribe(*c, Sub(t.Topic("s"), kQoS1));
}

asio::awaitable<void> SubackSamePacketId(T& t) {
  auto c = co_await t.Connect(t.Spec());
  if (!c) co_return;
  for (uint16_t id : std::vector<uint16_t>{1, 0xABCD, 0xFFFF}) {
    SubSpec s = Sub(t.Topic("s" + std::to_string(id)), kQoS0);
    s.packet_id = id;
    c->SendRaw(EncodeSubscribe(s, t.version()));
    auto suback = co_await t.Expect<SubackPacket>(*c, "SUBACK");
    if (!suback) co_return;
    SIMQ_FAIL_IF(suback->get<SubackPacket>()->packet_id != id,
                 "SUBACK for SUBSCRIBE {} has Packet Identifier {}", id,
                 suback->get<SubackPacket>()->packet_id);
  }
}

asio::awaitable<void> IdenticalFilterReplaces(T& t) {
  auto c = co_await t.Connect(t.Spec("sub"));
  if (!c) co_return;
  const std::string topic = t.Topic("s");
  if (!co_await t.Subscribe(*c, topic, kQoS0)) co_return;
  auto codes = co_await t.Subscribe(*c, Sub(topic, kQoS1));
  if (!codes) co_return;
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "once", kQoS1))) co_return;
  auto m = co_await t.ExpectPublishOn(*c, topic);
  if (!m) co_return;
  SIMQ_FAIL_IF(m->qos != static_cast<QoS>(std::min<uint8_t>(1, static_cast<uint8_t>((*codes)[0]))),
               "after re-subscribing at QoS 1 (granted {}), a QoS 1 message arrived as {}",
               static_cast<int>((*codes)[0]), m->Describe());
  co_await t.ExpectNoPublish(*c, {}, "one copy: the second SUBSCRIBE replaced the first");
}

asio::awaitable<void> ReplacesSubscription311(T& t) {
  if (!t.NeedRetain()) co_return;
  const std::string topic = t.Topic("s");
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "state", kQoS1, true))) co_return;
  auto c = co_await t.Connect(t.Spec("sub"));
  if (!c) co_return;
  if (!co_await t.Subscribe(*c, topic, kQoS0)) co_return;
  if (!co_await t.ExpectPublishOn(*c, topic)) co_return;
  if (!co_await t.Subscribe(*c, topic, kQoS1)) co_return;
  auto again = co_await t.ExpectPublishOn(*c, topic);
  if (!again) co_return;
  SIMQ_FAIL_IF(again->payload != "state" || !again->retain,
               "re-subscribing with the same filter: expected the retained message again, got {}",
               again->Describe());
  if (!co_await t.Publish(*pub, Pub(topic, "live", kQoS1))) co_return;
  auto live = co_await t.ExpectPublishOn(*c, topic);
  if (!live) co_return;
  SIMQ_FAIL_IF(live->qos != kQoS1 || live->payload != "live",
               "after replacing the subscription (QoS 1): {}", live->Describe());
  if (!co_await t.ExpectNoPublish(*c, {}, "one copy of the live message")) co_return;
  co_await t.Publish(*pub, Pub(topic, "", kQoS0, true));
}

asio::awaitable<void> MultipleFiltersOneSuback(T& t) {
  auto c = co_await t.Connect(t.Spec("sub"));
  if (!c) co_return;
  std::vector<std::string> topics;
  for (int i = 0; i < 3; ++i) topics.push_back(t.Topic("m" + std::to_string(i)));
  SubSpec s;
  for (int i = 0; i < 3; ++i) s.filters.emplace_back(topics[i], SubOpts(static_cast<QoS>(i)));
  auto codes = co_await t.Subscribe(*c, s);
  if (!codes) co_return;
  Event extra = co_await c->Await([](const Event& ev) { return IsPacket(ev, PacketType::kSuback); },
                                  t.quiet());
  SIMQ_FAIL_IF(extra.is_packet(), "a second SUBACK for one SUBSCRIBE: {}", extra.Describe());
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  for (int i = 0; i < 3; ++i) {
    if (!co_await t.Publish(*pub, Pub(topics[i], "to " + std::to_string(i),
                                      kQoS2 <= static_cast<QoS>(t.caps().max_qos) ? kQoS2 : kQoS1)))
      co_return;
    auto m = co_await t.ExpectPublishOn(*c, topics[i]);
    if (!m) co_return;
    SIMQ_FAIL_IF(
        static_cast<uint8_t>(m->qos) != std::min<uint8_t>(i, static_cast<uint8_t>((*codes)[i])),
        "filter {} of one SUBSCRIBE (granted {}): message delivered at QoS {}", i,
        static_cast<int>((*codes)[i]), static_cast<int>(m->qos));
  }
}

asio::awaitable<void> ReasonCodePerFilter(T& t) {
  auto c = co_await t.Connect(t.Spec());
  if (!c) co_return;
  SubSpec s;
  for (int i = 0; i < 4; ++i)
    s.filters.emplace_back(t.Topic("p" + std::to_string(i)), SubOpts(kQoS1));
  s.packet_id = 3;
  c->SendRaw(EncodeSubscribe(s, t.version()));
  auto suback = co_await t.Expect<SubackPacket>(*c, "SUBACK");
  if (!suback) co_return;
  SIMQ_FAIL_IF(suback->get<SubackPacket>()->reason_codes.size() != 4,
               "SUBSCRIBE with 4 Topic Filters answered with {} Reason Codes",
               suback->get<SubackPacket>()->reason_codes.size());
}

asio::awaitable<void> GrantedQoSOrFailure(T& t) {
  auto c = co_await t.Connect(t.Spec());
  if (!c) co_return;
  SubSpec s;
  for (int q = 0; q <= 2; ++q)
    s.filters.emplace_back(t.Topic("g" + std::to_string(q)), SubOpts(static_cast<QoS>(q)));
  auto codes = co_await t.Subscribe(*c, s, /*expect_success=*/false);
  if (!codes) co_return;
  for (int q = 0; q <= 2; ++q) {
    const auto code = static_cast<uint8_t>((*codes)[q]);
    SIMQ_FAIL_IF(code > q && code < 0x80,
                 "SUBSCRIBE at QoS {}: Reason Code 0x{:02X} is neither a granted QoS up to {} nor "
                 "a failure",
                 q, code, q);
  }
}

asio::awaitable<void> DeliveredQoSIsMinimum(T& t) {
  const int max = t.caps().max_qos;
  auto c = co_await t.Connect(t.Spec("sub"));
  if (!c) co_return;
  std::vector<std::string> topics;
  SubSpec s;
  for (int q = 0; q <= 2; ++q) {
    topics.push_back(t.Topic("min" + std::to_string(q)));
    s.filters.emplace_back(topics.back(), SubOpts(static_cast<QoS>(q)));
  }
  auto codes = co_await t.Subscribe(*c, s);
  if (!codes) co_return;
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  for (int sq = 0; sq <= 2; ++sq) {
    for (int pq = 0; pq <= max; ++pq) {
      if (!co_await t.Publish(*pub,
                              Pub(topics[sq], fmt::format("{}{}", sq, pq), static_cast<QoS>(pq))))
        co_return;
      auto m = co_await t.ExpectPublishOn(*c, topics[sq]);
      if (!m) co_return;
      const int granted = static_cast<int>((*codes)[sq]);
      SIMQ_FAIL_IF(static_cast<int>(m->qos) != std::min(pq, granted),
                   "QoS {} message to a subscription granted QoS {}: delivered at QoS {}", pq,
                   granted, static_cast<int>(m->qos));
    }
  }
}

asio::awaitable<void> SubackOrder(T& t) {
  if (t.caps().max_qos < 2) {
    t.Skip("the server grants at most QoS " + std::to_string(t.caps().max_qos) +
           ", so distinct codes cannot show the order");
    co_return;
  }
  auto c = co_await t.Connect(t.Spec());
  if (!c) co_return;
  SubSpec s;
  std::vector<int> order = {2, 0, 1, 0, 2};
  for (size_t i = 0; i < order.size(); ++i) {
    s.filters.emplace_back(t.Topic("o" + std::to_string(i)), SubOpts(static_cast<QoS>(order[i])));
  }
  auto codes = co_await t.Subscribe(*c, s);
  if (!codes) co_return;
  for (size_t i = 0; i < order.size(); ++i) {
    SIMQ_FAIL_IF(static_cast<int>((*codes)[i]) != order[i],
                 "SUBSCRIBE at QoS 2, 0, 1, 0, 2: Reason Code #{} is 0x{:02X}", i,
                 static_cast<int>((*codes)[i]));
  }
}

asio::awaitable<void> SubackCodesValid(T& t) {
  auto c = co_await t.Connect(t.Spec());
  if (!c) co_return;
  SubSpec s;
  for (int q = 0; q <= 2; ++q)
    s.filters.emplace_back(t.Topic("v" + std::to_string(q)), SubOpts(static_cast<QoS>(q)));
  s.filters.emplace_back("$SYS/simq-conformance/" + t.Topic("x"), SubOpts(kQoS1));
  auto codes = co_await t.Subscribe(*c, s, /*expect_success=*/false);
  if (!codes) co_return;
  for (ReasonCode code : *codes) {
    if (t.v5()) {
      SIMQ_FAIL_IF(!In(SubackCodes(), code), "SUBACK Reason Code {} is not a Subscribe Reason Code",
                   CodeName(code));
    } else {
      const auto v = static_cast<uint8_t>(code);
      SIMQ_FAIL_IF(v > 2 && v != 0x80, "SUBACK return code 0x{:02X} (only 0x00, 0x01, 0x02, 0x80)",
                   v);
    }
  }
}

asio::awaitable<void> SubackFitsMaximumPacketSize(T& t, bool user_property) {
  constexpr uint32_t kMax = 8;  // one reason code: 2 + 2 + 1 + 1 bytes
  ConnectSpec spec = t.Spec();
  spec.max_packet_size = kMax;
  spec.request_problem_info = 1;
  auto c = co_await t.Connect(spec);
  if (!c) co_return;
  SubSpec s = Sub("$SYS/simq-conformance/" + Repeat('x', 80) + "/" + t.Topic("x"), kQoS1);
  s.packet_id = 5;
  c->SendRaw(EncodeSubscribe(s, kV5));
  Event e = co_await c->Await([](const Event& ev) { return IsPacket(ev, PacketType::kSuback); },
                              t.wait());
  if (e.kind == Event::Kind::kClosed) co_return;
  SIMQ_FAIL_IF(!e.is_packet(), "expected SUBACK, got {}", e.Describe());
  if (e.raw.size() <= kMax) co_return;
  const auto& props = e.get<SubackPacket>()->properties;
  const bool culprit =
      user_property ? !props.user_properties.empty() : props.reason_string.has_value();
  SIMQ_FAIL_IF(culprit, "client Maximum Packet Size {}: SUBACK of {} bytes because of its {}: {}",
               kMax, e.raw.size(), user_property ? "User Property" : "Reason String", Hex(e.raw));
  SIMQ_FAIL_IF(true, "client Maximum Packet Size {}: SUBACK of {} bytes (MQTT-3.1.2-24): {}", kMax,
               e.raw.size(), Hex(e.raw));
}

// ---- UNSUBSCRIBE ----

asio::awaitable<void> UnsubscribeExactMatch(T& t) {
  auto c = co_await t.Connect(t.Spec("sub"));
  if (!c) co_return;
  const std::string base = t.Topic("u");
  const bool wild = t.caps().wildcard_subscriptions;
  const std::string filter = wild ? base + "/+" : base + "/a";
  const std::string topic = base + "/a";
  if (!co_await t.Subscribe(*c, filter, kQoS1)) co_return;
  // A filter that matches the topic but is not the subscription's filter deletes nothing.
  std::vector<std::string> others;
  others.push_back(wild ? topic : base + "/A");
  others.push_back(wild ? base + "/#" : base + "/a/");
  if (!co_await t.Unsubscribe(*c, others)) co_return;
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "still", kQoS1))) co_return;
  auto m = co_await t.ExpectPublishOn(*c, topic);
  if (!m) co_return;
  if (!co_await t.Unsubscribe(*c, std::vector<std::string>(1, filter))) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "gone", kQoS1))) co_return;
  co_await t.ExpectNoPublish(*c, {}, "nothing after unsubscribing the exact filter");
}

asio::awaitable<void> StopsAfterUnsubscribe(T& t) {
  auto c = co_await t.Connect(t.Spec("sub"));
  if (!c) co_return;
  const std::string topic = t.Topic("u");
  if (!co_await t.Subscribe(*c, topic, kQoS1)) co_return;
  if (!co_await t.Unsubscribe(*c, std::vector<std::string>(1, topic))) co_return;
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  for (int i = 0; i < 3; ++i) {
    if (!co_await t.Publish(*pub, Pub(topic, "after", static_cast<QoS>(i % 2)))) co_return;
  }
  co_await t.ExpectNoPublish(*c, {}, "no message after UNSUBACK");
}

asio::awaitable<void> CompletesInflightAfterUnsubscribe(T& t) {
  if (!t.NeedQoS(kQoS2)) co_return;
  auto c = co_await t.Connect(t.Spec("sub"));
  if (!c) co_return;
  c->set_auto_ack(false);
  const std::string topic = t.Topic("u");
  if (!co_await t.Subscribe(*c, topic, kQoS2)) co_return;
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "in flight", kQoS2))) co_return;
  auto m = co_await t.ExpectPublishOn(*c, topic);
  if (!m) co_return;
  if (!co_await t.Unsubscribe(*c, std::vector<std::string>(1, topic))) co_return;
  PubrecPacket rec;
  rec.packet_id = m->packet_id;
  c->Send(rec);
  auto rel = co_await t.Expect<PubrelPacket>(*c,
                                             "PUBREL completing the delivery started before "
                                             "UNSUBSCRIBE");
  if (!rel) co_return;
  SIMQ_FAIL_IF(rel->get<PubrelPacket>()->packet_id != m->packet_id ||
                   protocol::IsError(rel->get<PubrelPacket>()->reason_code),
               "PUBREL after UNSUBSCRIBE: Packet Identifier {} Reason Code {} (expected {}, "
               "Success)",
               rel->get<PubrelPacket>()->packet_id, CodeName(rel->get<PubrelPacket>()->reason_code),
               m->packet_id);
  PubcompPacket comp;
  comp.packet_id = m->packet_id;
  c->Send(comp);
}

asio::awaitable<void> RespondsWithUnsuback(T& t) {
  auto c = co_await t.Connect(t.Spec());
  if (!c) co_return;
  const std::string topic = t.Topic("u");
  if (!co_await t.Subscribe(*c, topic, kQoS0)) co_return;
  co_await t.Unsubscribe(*c, std::vector<std::string>(1, topic));
}

asio::awaitable<void> UnsubackEvenWhenNothingDeleted(T& t) {
  auto c = co_await t.Connect(t.Spec());
  if (!c) co_return;
  c->SendRaw(EncodeUnsubscribe(std::vector<std::string>(1, t.Topic("never")), 0x5555, t.version()));
  auto unsuback = co_await t.Expect<UnsubackPacket>(*c, "UNSUBACK for a filter never subscribed");
  if (!unsuback) co_return;
  SIMQ_FAIL_IF(unsuback->get<UnsubackPacket>()->packet_id != 0x5555,
               "UNSUBACK has Packet Identifier 0x{:04X}, expected 0x5555",
               unsuback->get<UnsubackPacket>()->packet_id);
}

asio::awaitable<void> MultipleFiltersOneUnsuback(T& t) {
  auto c = co_await t.Connect(t.Spec("sub"));
  if (!c) co_return;
  const std::string a = t.Topic("a"), b = t.Topic("b");
  std::vector<std::string> filters;
  filters.push_back(a);
  filters.push_back(b);
  if (!co_await t.Subscribe(*c, Subs(filters, kQoS1))) co_return;
  filters.push_back(t.Topic("c"));
  auto codes = co_await t.Unsubscribe(*c, filters);
  if (!codes) co_return;
  if (t.v5()) {
    SIMQ_FAIL_IF(codes->size() != 3, "UNSUBSCRIBE with 3 filters: UNSUBACK with {} Reason Codes",
                 codes->size());
  }
  Event extra = co_await c->Await(
      [](const Event& ev) { return IsPacket(ev, PacketType::kUnsuback); }, t.quiet());
  SIMQ_FAIL_IF(extra.is_packet(), "a second UNSUBACK for one UNSUBSCRIBE: {}", extra.Describe());
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  if (!co_await t.Publish(*pub, Pub(a, "a", kQoS1))) co_return;
  if (!co_await t.Publish(*pub, Pub(b, "b", kQoS1))) co_return;
  co_await t.ExpectNoPublish(*c, {}, "nothing for either unsubscribed filter");
}

asio::awaitable<void> UnsubackFitsMaximumPacketSize(T& t, bool user_property) {
  constexpr uint32_t kMax = 8;
  ConnectSpec spec = t.Spec();
  spec.max_packet_size = kMax;
  spec.request_problem_info = 1;
  auto c = co_await t.Connect(spec);
  if (!c) co_return;
  c->SendRaw(EncodeUnsubscribe(std::vector<std::string>(1, t.Topic(Repeat('n', 100))), 6, kV5));
  Event e = co_await c->Await([](const Event& ev) { return IsPacket(ev, PacketType::kUnsuback); },
                              t.wait());
  if (e.kind == Event::Kind::kClosed) co_return;
  SIMQ_FAIL_IF(!e.is_packet(), "expected UNSUBACK, got {}", e.Describe());
  if (e.raw.size() <= kMax) co_return;
  const auto& props = e.get<UnsubackPacket>()->properties;
  const bool culprit =
      user_property ? !props.user_properties.empty() : props.reason_string.has_value();
  SIMQ_FAIL_IF(culprit, "client Maximum Packet Size {}: UNSUBACK of {} bytes because of its {}: {}",
               kMax, e.raw.size(), user_property ? "User Property" : "Reason String", Hex(e.raw));
  SIMQ_FAIL_IF(true, "client Maximum Packet Size {}: UNSUBACK of {} bytes (MQTT-3.1.2-24): {}",
               kMax, e.raw.size(), Hex(e.raw));
}

asio::awaitable<void> UnsubackOrder(T& t) {
  auto c = co_await t.Connect(t.Spec());
  if (!c) co_return;
  const std::string a = t.Topic("a");
  if (!co_await t.Subscribe(*c, a, kQoS0)) co_return;
  std::vector<std::string> filters;
  filters.push_back(t.Topic("none"));
  filters.push_back(a);
  filters.push_back(t.Topic("none2"));
  auto codes = co_await t.Unsubscribe(*c, filters);
  if (!codes) co_return;
  SIMQ_FAIL_IF(codes->size() != 3, "UNSUBACK with {} Reason Codes for 3 filters", codes->size());
  if ((*codes)[0] == (*codes)[1]) {
    t.Skip("the server answers " + CodeName((*codes)[0]) +
           " whether or not a subscription existed, so the order cannot be observed");
    co_return;
  }
  SIMQ_FAIL_IF((*codes)[0] != ReasonCode::kNoSubscriptionExisted ||
                   (*codes)[1] != ReasonCode::kSuccess ||
                   (*codes)[2] != ReasonCode::kNoSubscriptionExisted,
               "UNSUBSCRIBE [none, subscribed, none]: Reason Codes {}, {}, {}; expected 0x11, "
               "0x00, 0x11",
               CodeName((*codes)[0]), CodeName((*codes)[1]), CodeName((*codes)[2]));
}

asio::awaitable<void> UnsubackCodesValid(T& t) {
  auto c = co_await t.Connect(t.Spec());
  if (!c) co_return;
  const std::string a = t.Topic("a");
  if (!co_await t.Subscribe(*c, a, kQoS0)) co_return;
  std::vector<std::string> filters;
  filters.push_back(a);
  filters.push_back(t.Topic("none"));
  auto codes = co_await t.Unsubscribe(*c, filters);
  if (!codes) co_return;
  for (ReasonCode code : *codes) {
    SIMQ_FAIL_IF(!In(UnsubackCodes(), code),
                 "UNSUBACK Reason Code {} is not an Unsubscribe Reason Code", CodeName(code));
  }
}

// ---- No Local, overlapping subscriptions, Subscription Identifiers ----

asio::awaitable<void> NoLocal(T& t) {
  const std::string topic = t.Topic("nl");
  auto self = co_await t.Connect(t.Spec("self"));
  if (!self) co_return;
  if (!co_await t.Subscribe(*self, Sub(topic, SubOpts(kQoS1, /*no_local=*/true)))) co_return;
  auto other = co_await t.Connect(t.Spec("other"));
  if (!other) co_return;
  if (!co_await t.Publish(*self, Pub(topic, "own", kQoS1))) co_return;
  if (!co_await t.Publish(*other, Pub(topic, "foreign", kQoS1))) co_return;
  auto m = co_await t.ExpectPublishOn(*self, topic);
  if (!m) co_return;
  SIMQ_FAIL_IF(m->payload == "own", "No Local 1: the client received its own message back ({})",
               m->Describe());
  co_await t.ExpectNoPublish(*self, {}, "no copy of its own message");
}

asio::awaitable<void> NoLocalOnSharedIsProtocolError(T& t) {
  if (!t.NeedSharedSubscriptions()) co_return;
  auto c = co_await t.Connect(t.Spec());
  if (!c) co_return;
  SubSpec s = Sub("$share/g" + t.Id("g") + "/" + t.Topic("s"), SubOpts(kQoS1, /*no_local=*/true));
  s.packet_id = 1;
  c->SendRaw(EncodeSubscribe(s, kV5));
  co_await t.ExpectClosedWith(*c, "SUBSCRIBE to a Shared Subscription with No Local 1",
                              std::vector<ReasonCode>(1, ReasonCode::kProtocolError));
}

asio::awaitable<void> OverlappingMaxQoS(T& t) {
  if (!t.NeedWildcards()) co_return;
  const int max = t.caps().max_qos;
  if (max < 1) {
    t.Skip("the server supports QoS 0 only");
    co_return;
  }
  const std::string base = t.Topic("ov");
  auto c = co_await t.Connect(t.Spec("sub"));
  if (!c) co_return;
  SubSpec s;
  s.filters.emplace_back(base + "/+", SubOpts(kQoS0));
  s.filters.emplace_back(base + "/#", SubOpts(static_cast<QoS>(max)));
  if (!co_await t.Subscribe(*c, s)) co_return;
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  if (!co_await t.Publish(*pub, Pub(base + "/x", "overlap", static_cast<QoS>(max)))) co_return;
  int best = -1;
  auto m = co_await t.ExpectPublishOn(*c, base + "/x");
  if (!m) co_return;
  best = static_cast<int>(m->qos);
  Event e = co_await c->Await([](const Event& ev) { return IsPacket(ev, PacketType::kPublish); },
                              t.quiet());
  if (e.is_packet()) best = std::max(best, static_cast<int>(c->ToMsg(e).qos));
  SIMQ_FAIL_IF(best != max,
               "subscriptions at QoS 0 and {} both match a QoS {} message: delivered at most at "
               "QoS {}",
               max, max, best);
}

// Two overlapping subscriptions with identifiers 1 and 2; what arrives.
asio::awaitable<std::optional<std::vector<Msg>>> OverlappingIds(T& t) {
  if (!t.NeedWildcards() || !t.NeedSubscriptionIds()) co_return std::nullopt;
  const std::string base = t.Topic("sid");
  auto c = co_await t.Connect(t.Spec("sub"));
  if (!c) co_return std::nullopt;
  if (!co_await t.Subscribe(*c, SubWithId(base + "/+", kQoS1, 1))) co_return std::nullopt;
  if (!co_await t.Subscribe(*c, SubWithId(base + "/#", kQoS1, 2))) co_return std::nullopt;
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return std::nullopt;
  if (!co_await t.Publish(*pub, Pub(base + "/x", "overlap", kQoS1))) co_return std::nullopt;
  std::vector<Msg> got;
  auto m = co_await t.ExpectPublishOn(*c, base + "/x");
  if (!m) co_return std::nullopt;
  got.push_back(std::move(*m));
  Event e = co_await c->Await([](const Event& ev) { return IsPacket(ev, PacketType::kPublish); },
                              t.quiet());
  if (e.is_packet()) got.push_back(c->ToMsg(e));
  co_return got;
}

std::string Ids(const Msg& m) {
  std::string s = "[";
  for (uint32_t id : m.p().subscription_ids.ToVector())
    s += (s.size() > 1 ? ", " : "") + std::to_string(id);
  return s + "]";
}

asio::awaitable<void> SubscriptionIdsSent(T& t) {
  auto got = co_await OverlappingIds(t);
  if (!got) co_return;
  std::set<uint32_t> ids;
  std::string seen;
  for (const Msg& m : *got) {
    for (uint32_t id : m.p().subscription_ids.ToVector()) ids.insert(id);
    seen += Ids(m) + " ";
  }
  SIMQ_FAIL_IF(ids != std::set<uint32_t>({1, 2}),
               "overlapping subscriptions with identifiers 1 and 2: the PUBLISH(es) carried {}",
               seen);
}

asio::awaitable<void> SingleCopyCarriesAllIds(T& t) {
  auto got = co_await OverlappingIds(t);
  if (!got) co_return;
  if (got->size() != 1) {
    t.Skip("the server sends one copy per matching subscription (see MQTT-3.3.4-5)");
    co_return;
  }
  auto ids = (*got)[0].p().subscription_ids.ToVector();
  std::sort(ids.begin(), ids.end());
  SIMQ_FAIL_IF(ids != std::vector<uint32_t>({1, 2}),
               "one PUBLISH for subscriptions with identifiers 1 and 2 carried {}", Ids((*got)[0]));
}

asio::awaitable<void> EachCopyCarriesItsId(T& t) {
  auto got = co_await OverlappingIds(t);
  if (!got) co_return;
  if (got->size() != 2) {
    t.Skip("the server sends a single copy for overlapping subscriptions (see MQTT-3.3.4-4)");
    co_return;
  }
  std::set<uint32_t> seen;
  for (const Msg& m : *got) {
    auto ids = m.p().subscription_ids.ToVector();
    SIMQ_FAIL_IF(ids.size() != 1, "one of two copies carried Subscription Identifiers {}", Ids(m));
    seen.insert(ids[0]);
  }
  SIMQ_FAIL_IF(seen != std::set<uint32_t>({1, 2}),
               "two copies carried identifiers {} and {}, expected 1 and 2", Ids((*got)[0]),
               Ids((*got)[1]));
}

// ---- Topic filter rules, $ topics ----

asio::awaitable<void> MultiLevelWildcardRules(T& t) {
  if (!t.NeedWildcards()) co_return;
  std::vector<std::string> f;
  f.push_back(t.Topic("a") + "/#/b");
  f.push_back(t.Topic("a") + "#");
  f.push_back(t.Topic("a") + "/##");
  co_await FiltersRefused(t, f);
}

asio::awaitable<void> SingleLevelWildcardRules(T& t) {
  if (!t.NeedWildcards()) co_return;
  std::vector<std::string> f;
  f.push_back(t.Topic("a") + "+");
  f.push_back(t.Topic("a") + "/+b");
  f.push_back(t.Topic("a") + "/b+/c");
  co_await FiltersRefused(t, f);
}

asio::awaitable<void> WildcardsRefusedWhenUnsupported(T& t) {
  if (t.caps().wildcard_subscriptions) {
    t.Skip("the server supports wildcard subscriptions");
    co_return;
  }
  std::vector<std::string> f;
  f.push_back(t.Topic("w") + "/+");
  f.push_back(t.Topic("w") + "/#");
  co_await FiltersRefused(t, f);
}

asio::awaitable<void> DollarTopicsNotMatchedByWildcards(T& t) {
  if (!t.NeedWildcards()) co_return;
  const std::string rest = t.Topic("d");  // simq-conf/<run>/<test>/d
  const std::string dollar = "$simqconf/" + rest;
  auto wild = co_await t.Connect(t.Spec("wild"));
  if (!wild) co_return;
  SubSpec s;
  s.filters.emplace_back("#", SubOpts(kQoS0));
  s.filters.emplace_back("+/" + rest, SubOpts(kQoS0));
  if (!co_await t.Subscribe(*wild, s)) co_return;
  auto exact = co_await t.Connect(t.Spec("exact"));
  if (!exact) co_return;
  if (!co_await t.Subscribe(*exact, "$simqconf/" + t.Topic("#"), kQoS0)) co_return;
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  auto code = co_await t.Publish(*pub, Pub(dollar, "dollar", kQoS1), /*accept_errors=*/true);
  if (!code) co_return;
  if (protocol::IsError(*code)) {
    t.Skip("the server refuses PUBLISH to '" + dollar + "' (" + CodeName(*code) + ")");
    co_return;
  }
  if (!co_await t.ExpectPublishOn(*exact, dollar)) co_return;
  Event e = co_await wild->Await(
      [&dollar](const Event& ev) {
        return IsPacket(ev, PacketType::kPublish) && ev.topic == dollar;
      },
      t.quiet());
  SIMQ_FAIL_IF(e.is_packet(), "subscriptions '#' and '+/{}' received '{}'", rest, dollar);
}

asio::awaitable<void> EmptyTopicRefused(T& t) {
  if (!co_await ExpectFilterRefused(t, "")) co_return;
  auto c = co_await t.Connect(t.Spec("p"));
  if (!c) co_return;
  c->SendRaw(EncodePublish(Pub("", "no topic"), t.version()));
  std::vector<ReasonCode> codes;
  codes.push_back(ReasonCode::kProtocolError);
  codes.push_back(ReasonCode::kTopicNameInvalid);
  codes.push_back(ReasonCode::kMalformedPacket);
  co_await t.ExpectClosedWith(*c, "PUBLISH with an empty Topic Name and no Topic Alias", codes);
}

asio::awaitable<void> NullInTopicRefused(T& t) {
  auto c = co_await t.Connect(t.Spec("s"));
  if (!c) co_return;
  SubSpec s = Sub(t.Topic("a") + std::string("\0b", 2), kQoS0);
  s.packet_id = 1;
  c->SendRaw(EncodeSubscribe(s, t.version()));
  if (!co_await t.ExpectClosedWith(*c, "SUBSCRIBE with U+0000 in the Topic Filter",
                                   std::vector<ReasonCode>(1, ReasonCode::kMalformedPacket)))
    co_return;
  auto p = co_await t.Connect(t.Spec("p"));
  if (!p) co_return;
  p->SendRaw(EncodePublish(Pub(t.Topic("a") + std::string("\0b", 2), "x"), t.version()));
  co_await t.ExpectClosedWith(*p, "PUBLISH with U+0000 in the Topic Name",
                              std::vector<ReasonCode>(1, ReasonCode::kMalformedPacket));
}

asio::awaitable<void> NoNormalization(T& t) {
  const std::string base = t.Topic("n");
  auto c = co_await t.Connect(t.Spec("sub"));
  if (!c) co_return;
  std::vector<std::string> filters;
  filters.push_back(base + "/Case");
  filters.push_back(base + "/caf\xC3\xA9");  // é precomposed (NFC)
  if (!co_await t.Subscribe(*c, Subs(filters, kQoS1))) co_return;
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  std::vector<std::string> near;
  near.push_back(base + "/case");
  near.push_back(base + "/CASE");
  near.push_back(base + "/cafe\xCC\x81");  // e + combining acute (NFD)
  near.push_back(base + "/Case/");
  for (const std::string& topic : near) {
    if (!co_await t.Publish(*pub, Pub(topic, topic, kQoS1))) co_return;
  }
  if (!co_await t.Publish(*pub, Pub(base + "/Case", "exact", kQoS1))) co_return;
  auto m = co_await t.ExpectPublish(*c);
  if (!m) co_return;
  SIMQ_FAIL_IF(m->payload != "exact",
               "subscriptions '{}/Case' and '{}/caf\\u00e9' received a message for '{}'", base,
               base, m->topic);
}

// ---- Shared subscriptions ----

// The first PUBLISH on `topic` at any of `conns` within `timeout`: its index and the message.
asio::awaitable<std::optional<std::pair<size_t, Msg>>> FirstOf(T& t, std::vector<Conn*> conns,
                                                               std::string topic, Ms timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    for (size_t i = 0; i < conns.size(); ++i) {
      Event e = co_await conns[i]->Await(
          [&topic](const Event& ev) {
            return IsPacket(ev, PacketType::kPublish) && ev.topic == topic;
          },
          Ms(30));
      if (e.is_packet()) co_return std::make_pair(i, conns[i]->ToMsg(e));
    }
  }
  co_return std::nullopt;
}

std::string ShareFilter(T& t, const std::string& topic) {
  return "$share/" + t.Id("grp") + "/" + topic;
}

asio::awaitable<void> ShareNameNotEmpty(T& t) {
  if (!t.NeedSharedSubscriptions()) co_return;
  std::vector<std::string> f;
  f.push_back("$share//" + t.Topic("s"));
  co_await FiltersRefused(t, f);
}

asio::awaitable<void> ShareNameRules(T& t) {
  if (!t.NeedSharedSubscriptions()) co_return;
  std::vector<std::string> f;
  f.push_back("$share/a+b/" + t.Topic("s"));
  f.push_back("$share/a#b/" + t.Topic("s"));
  f.push_back("$share/" + t.Id("onlyname"));
  co_await FiltersRefused(t, f);
}

asio::awaitable<void> SharedRespectsGrantedQoS(T& t) {
  if (!t.NeedSharedSubscriptions()) co_return;
  const std::string topic = t.Topic("sq");
  const std::string filter = ShareFilter(t, topic);
  auto a = co_await t.Connect(t.Spec("a"));
  if (!a) co_return;
  auto b = co_await t.Connect(t.Spec("b"));
  if (!b) co_return;
  if (!co_await t.Subscribe(*a, filter, kQoS0)) co_return;
  if (!co_await t.Subscribe(*b, filter, kQoS1)) co_return;
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  const QoS pq = t.caps().max_qos >= 2 ? kQoS2 : kQoS1;
  for (int i = 0; i < 6; ++i) {
    if (!co_await t.Publish(*pub, Pub(topic, std::to_string(i), pq))) co_return;
  }
  std::vector<Conn*> conns = {a.get(), b.get()};
  std::set<std::string> payloads;
  for (int i = 0; i < 6; ++i) {
    auto got = co_await FirstOf(t, conns, topic, t.wait());
    SIMQ_FAIL_IF(!got, "6 messages to a shared subscription: only {} delivered", i);
    const int limit = got->first == 0 ? 0 : 1;
    SIMQ_FAIL_IF(static_cast<int>(got->second.qos) > limit,
                 "member granted QoS {} received a message at QoS {}", limit,
                 static_cast<int>(got->second.qos));
    SIMQ_FAIL_IF(!payloads.insert(got->second.payload).second,
                 "message '{}' delivered twice to the share group", got->second.payload);
  }
}

asio::awaitable<void> QoS2CompletesWithSameMember(T& t, bool session_ends) {
  if (!t.NeedSharedSubscriptions() || !t.NeedQoS(kQoS2)) co_return;
  const std::string topic = t.Topic("s2");
  const std::string filter = ShareFilter(t, topic);
  std::vector<ConnectSpec> specs;
  std::vector<std::unique_ptr<Conn>> members;
  for (int i = 0; i < 2; ++i) {
    ConnectSpec s = t.Spec(i == 0 ? "a" : "b");
    s.session_expiry = session_ends ? 1 : 30;
    specs.push_back(s);
    auto c = co_await t.Connect(s);
    if (!c) co_return;
    c->set_auto_ack(false);
    if (!co_await t.Subscribe(*c, filter, kQoS2)) co_return;
    members.push_back(std::move(c));
  }
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "qos2 in flight", kQoS2))) co_return;
  std::vector<Conn*> conns = {members[0].get(), members[1].get()};
  auto got = co_await FirstOf(t, conns, topic, t.wait());
  SIMQ_FAIL_IF(!got, "the QoS 2 message to the share group was not delivered");
  const size_t chosen = got->first, other = 1 - chosen;
  members[chosen]->Drop();
  if (session_ends) co_await t.Sleep(Ms(2500));
  Event e = co_await members[other]->Await(
      [&topic](const Event& ev) { return IsPacket(ev, PacketType::kPublish) && ev.topic == topic; },
      session_ends ? t.quiet() : Ms(1000));
  SIMQ_FAIL_IF(e.is_packet(),
               "a QoS 2 message in flight to one member was sent to the other member after the "
               "first {}",
               session_ends ? "member's session ended" : "lost its connection");
  if (!session_ends) {
    ConnectSpec again = specs[chosen];
    again.clean_start = false;
    auto c = co_await t.Connect(again);
    if (!c) co_return;
    auto m = co_await t.ExpectPublishOn(*c, topic);
    if (!m) co_return;
    SIMQ_FAIL_IF(m->payload != "qos2 in flight" || !m->dup,
                 "the member reconnected and got {}; expected the in-flight QoS 2 message again "
                 "(DUP 1)",
                 m->Describe());
  }
  for (const auto& s : specs) co_await t.EndSession(s.client_id);
}

asio::awaitable<void> ErrorAckDiscardsSharedMessage(T& t) {
  if (!t.NeedSharedSubscriptions()) co_return;
  const std::string topic = t.Topic("se");
  const std::string filter = ShareFilter(t, topic);
  std::vector<std::unique_ptr<Conn>> members;
  for (int i = 0; i < 2; ++i) {
    auto c = co_await t.Connect(t.Spec(i == 0 ? "a" : "b"));
    if (!c) co_return;
    c->set_auto_ack(false);
    if (!co_await t.Subscribe(*c, filter, kQoS1)) co_return;
    members.push_back(std::move(c));
  }
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "refused by its member", kQoS1))) co_return;
  std::vector<Conn*> conns = {members[0].get(), members[1].get()};
  auto got = co_await FirstOf(t, conns, topic, t.wait());
  SIMQ_FAIL_IF(!got, "the message to the share group was not delivered");
  PubackPacket ack;
  ack.packet_id = got->second.packet_id;
  ack.reason_code = ReasonCode::kUnspecifiedError;
  members[got->first]->Send(ack);
  Event e = co_await members[1 - got->first]->Await(
      [&topic](const Event& ev) { return IsPacket(ev, PacketType::kPublish) && ev.topic == topic; },
      Ms(1500));
  SIMQ_FAIL_IF(e.is_packet(),
               "a member answered PUBACK 0x80 and the message went to another member");
}

}  // namespace

void RegisterSubscribeTests(Registry& r) {
  // MQTT 5.0
  r.Add(kV5, "MQTT-2.2.1-6", "SubackAndUnsubackCarryPacketId", AcksCarryPacketIds);
  r.Add(kV5, "MQTT-3.3.4-2", "OverlappingSubscriptionsGetMaximumQoS", OverlappingMaxQoS);
  r.Add(kV5, "MQTT-3.3.4-3", "SendsSubscriptionIdsOfOverlappingSubscriptions", SubscriptionIdsSent);
  r.Add(kV5, "MQTT-3.3.4-4", "SingleCopyCarriesAllSubscriptionIds", SingleCopyCarriesAllIds);
  r.Add(kV5, "MQTT-3.3.4-5", "EachCopyCarriesItsSubscriptionId", EachCopyCarriesItsId);
  r.Add(kV5, "MQTT-3.8.3-3", "NoLocalSuppressesOwnMessages", NoLocal);
  r.Add(kV5, "MQTT-3.8.3-4", "NoLocalOnSharedSubscriptionIsProtocolError",
        NoLocalOnSharedIsProtocolError);
  r.Add(kV5, "MQTT-3.8.4-1", "RespondsToSubscribeWithSuback", RespondsWithSuback);
  r.Add(kV5, "MQTT-3.8.4-2", "SubackHasSubscribePacketId", SubackSamePacketId);
  r.Add(kV5, "MQTT-3.8.4-3", "IdenticalFilterReplacesSubscription", IdenticalFilterReplaces);
  r.Add(kV5, "MQTT-3.8.4-5", "MultipleFiltersGetOneSuback", MultipleFiltersOneSuback);
  r.Add(kV5, "MQTT-3.8.4-6", "SubackHasReasonCodePerFilter", ReasonCodePerFilter);
  r.Add(kV5, "MQTT-3.8.4-7", "ReasonCodeIsGrantedQoSOrFailure", GrantedQoSOrFailure);
  r.Add(kV5, "MQTT-3.8.4-8", "DeliversAtMinimumOfPublishedAndGrantedQoS", DeliveredQoSIsMinimum);
  r.Add(kV5, "MQTT-3.9.2-1", "SubackReasonStringFitsMaximumPacketSize",
        [](T& t) { return SubackFitsMaximumPacketSize(t, false); });
  r.Add(kV5, "MQTT-3.9.2-2", "SubackUserPropertyFitsMaximumPacketSize",
        [](T& t) { return SubackFitsMaximumPacketSize(t, true); });
  r.Add(kV5, "MQTT-3.9.3-1", "SubackReasonCodesInFilterOrder", SubackOrder);
  r.Add(kV5, "MQTT-3.9.3-2", "UsesSubscribeReasonCodes", SubackCodesValid);
  r.Add(kV5, "MQTT-3.10.4-1", "UnsubscribeDeletesOnlyExactFilter", UnsubscribeExactMatch);
  r.Add(kV5, "MQTT-3.10.4-2", "StopsDeliveringAfterUnsubscribe", StopsAfterUnsubscribe);
  r.Add(kV5, "MQTT-3.10.4-3", "CompletesInFlightDeliveryAfterUnsubscribe",
        CompletesInflightAfterUnsubscribe);
  r.Add(kV5, "MQTT-3.10.4-4", "RespondsToUnsubscribeWithUnsuback", RespondsWithUnsuback);
  r.Add(kV5, "MQTT-3.10.4-5", "UnsubackEvenWhenNothingDeleted", UnsubackEvenWhenNothingDeleted);
  r.Add(kV5, "MQTT-3.10.4-6", "MultipleFiltersGetOneUnsuback", MultipleFiltersOneUnsuback);
  r.Add(kV5, "MQTT-3.11.2-1", "UnsubackReasonStringFitsMaximumPacketSize",
        [](T& t) { return UnsubackFitsMaximumPacketSize(t, false); });
  r.Add(kV5, "MQTT-3.11.2-2", "UnsubackUserPropertyFitsMaximumPacketSize",
        [](T& t) { return UnsubackFitsMaximumPacketSize(t, true); });
  r.Add(kV5, "MQTT-3.11.3-1", "UnsubackReasonCodesInFilterOrder", UnsubackOrder);
  r.Add(kV5, "MQTT-3.11.3-2", "UsesUnsubscribeReasonCodes", UnsubackCodesValid);
  r.Add(kV5, "MQTT-4.7.1-1", "RefusesMisplacedMultiLevelWildcard", MultiLevelWildcardRules);
  r.Add(kV5, "MQTT-4.7.1-2", "RefusesPartialLevelSingleLevelWildcard", SingleLevelWildcardRules);
  r.Add(kV5, "MQTT-4.7.2-1", "WildcardsDoNotMatchDollarTopics", DollarTopicsNotMatchedByWildcards);
  r.Add(kV5, "MQTT-4.7.3-1", "RefusesEmptyTopicNameAndFilter", EmptyTopicRefused);
  r.Add(kV5, "MQTT-4.7.3-2", "RefusesNullCharacterInTopics", NullInTopicRefused);
  r.Add(kV5, "MQTT-4.7.3-4", "DoesNotNormalizeTopics", NoNormalization);
  r.Add(kV5, "MQTT-4.8.2-1", "RefusesEmptyShareName", ShareNameNotEmpty);
  r.Add(kV5, "MQTT-4.8.2-2", "RefusesInvalidShareName", ShareNameRules);
  r.Add(kV5, "MQTT-4.8.2-3", "SharedDeliveryRespectsGrantedQoS", SharedRespectsGrantedQoS);
  r.Add(kV5, "MQTT-4.8.2-4", "CompletesQoS2WithSameShareMember",
        [](T& t) { return QoS2CompletesWithSameMember(t, false); });
  r.Add(kV5, "MQTT-4.8.2-5", "NoQoS2RedirectAfterMemberSessionEnds",
        [](T& t) { return QoS2CompletesWithSameMember(t, true); });
  r.Add(kV5, "MQTT-4.8.2-6", "DiscardsSharedMessageRefusedByMember", ErrorAckDiscardsSharedMessage);

  // MQTT 3.1.1
  r.Add(kV311, "MQTT-2.3.1-7", "SubackAndUnsubackCarryPacketId", AcksCarryPacketIds);
  r.Add(kV311, "MQTT-3.3.5-1", "OverlappingSubscriptionsGetMaximumQoS", OverlappingMaxQoS);
  r.Add(kV311, "MQTT-3.8.3-2", "RefusesWildcardsWhenUnsupported", WildcardsRefusedWhenUnsupported);
  r.Add(kV311, "MQTT-3.8.4-1", "RespondsToSubscribeWithSuback", RespondsWithSuback);
  r.Add(kV311, "MQTT-3.8.4-2", "SubackHasSubscribePacketId", SubackSamePacketId);
  r.Add(kV311, "MQTT-3.8.4-3", "IdenticalFilterReplacesAndResendsRetained",
        ReplacesSubscription311);
  r.Add(kV311, "MQTT-3.8.4-4", "MultipleFiltersGetOneSuback", MultipleFiltersOneSuback);
  r.Add(kV311, "MQTT-3.8.4-5", "SubackHasReturnCodePerFilter", ReasonCodePerFilter);
  r.Add(kV311, "MQTT-3.8.4-6", "DeliversAtMinimumOfPublishedAndGrantedQoS", DeliveredQoSIsMinimum);
  r.Add(kV311, "MQTT-3.9.3-1", "SubackReturnCodesInFilterOrder", SubackOrder);
  r.Add(kV311, "MQTT-3.9.3-2", "UsesOnlyDefinedSubackReturnCodes", SubackCodesValid);
  r.Add(kV311, "MQTT-3.10.4-1", "UnsubscribeDeletesOnlyExactFilter", UnsubscribeExactMatch);
  r.Add(kV311, "MQTT-3.10.4-2", "StopsDeliveringAfterUnsubscribe", StopsAfterUnsubscribe);
  r.Add(kV311, "MQTT-3.10.4-3", "CompletesInFlightDeliveryAfterUnsubscribe",
        CompletesInflightAfterUnsubscribe);
  r.Add(kV311, "MQTT-3.10.4-4", "RespondsToUnsubscribeWithUnsuback", RespondsWithUnsuback);
  r.Add(kV311, "MQTT-3.10.4-5", "UnsubackEvenWhenNothingDeleted", UnsubackEvenWhenNothingDeleted);
  r.Add(kV311, "MQTT-3.10.4-6", "MultipleFiltersGetOneUnsuback", MultipleFiltersOneUnsuback);
  r.Add(kV311, "MQTT-4.7.1-2", "RefusesMisplacedMultiLevelWildcard", MultiLevelWildcardRules);
  r.Add(kV311, "MQTT-4.7.1-3", "RefusesPartialLevelSingleLevelWildcard", SingleLevelWildcardRules);
  r.Add(kV311, "MQTT-4.7.2-1", "WildcardsDoNotMatchDollarTopics",
        DollarTopicsNotMatchedByWildcards);
  r.Add(kV311, "MQTT-4.7.3-1", "RefusesEmptyTopicNameAndFilter", EmptyTopicRefused);
  r.Add(kV311, "MQTT-4.7.3-2", "RefusesNullCharacterInTopics", NullInTopicRefused);
  r.Add(kV311, "MQTT-4.7.3-4", "DoesNotNormalizeTopics", NoNormalization);
}

}  // namespace simq::conformance
