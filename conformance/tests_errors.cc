// Malformed packets and protocol errors after CONNECT (the reason codes the specification
// names), PINGREQ, and the server's own DISCONNECT.

#include "conformance/tests_util.h"

namespace simq::conformance {
namespace {

std::vector<ReasonCode> Codes(ReasonCode a) {
  return std::vector<ReasonCode>(1, a);
}

std::vector<ReasonCode> Codes(ReasonCode a, ReasonCode b) {
  std::vector<ReasonCode> v;
  v.push_back(a);
  v.push_back(b);
  return v;
}

// Connects, sends `bytes` and expects the server to close the connection (MQTT 5: with a
// DISCONNECT carrying one of `codes`, if it sends one).
asio::awaitable<void> SendAndExpectClose(T& t, std::string bytes, std::string why,
                                         std::vector<ReasonCode> codes) {
  auto c = co_await t.Connect(t.Spec());
  if (!c) co_return;
  c->SendRaw(bytes);
  co_await t.ExpectClosedWith(*c, why, codes);
}

// A PUBLISH (QoS 0) with the raw topic bytes and raw property block.
std::string RawPublish(ProtocolVersion v, std::string_view topic, const RawPacket* props,
                       uint8_t first = 0x30) {
  RawPacket p;
  p.Str(topic);
  if (v == kV5) {
    RawPacket empty;
    p.Props(props != nullptr ? *props : empty);
  }
  p.Bytes("payload");
  return p.Build(first);
}

asio::awaitable<void> IllFormedUtf8(T& t) {
  co_await SendAndExpectClose(t, RawPublish(t.version(), t.Topic("u") + Surrogate(), nullptr),
                              "PUBLISH whose Topic Name contains ED A0 80 (a UTF-16 surrogate)",
                              Codes(ReasonCode::kMalformedPacket));
}

asio::awaitable<void> NullCharacter(T& t) {
  co_await SendAndExpectClose(
      t, RawPublish(t.version(), t.Topic("u") + std::string("\0x", 2), nullptr),
      "PUBLISH whose Topic Name contains U+0000", Codes(ReasonCode::kMalformedPacket));
}

asio::awaitable<void> TopicNotUtf8(T& t) {
  co_await SendAndExpectClose(t, RawPublish(t.version(), t.Topic("u") + Overlong(), nullptr),
                              "PUBLISH whose Topic Name is not UTF-8 (overlong C0 AF)",
                              Codes(ReasonCode::kMalformedPacket));
}

asio::awaitable<void> StringPairNotUtf8(T& t) {
  RawPacket props;
  props.U8(0x26).Str("key").Str("value" + Surrogate());
  co_await SendAndExpectClose(t, RawPublish(kV5, t.Topic("u"), &props),
                              "PUBLISH with a User Property value that is not UTF-8",
                              Codes(ReasonCode::kMalformedPacket));
}

asio::awaitable<void> ResponseTopicNotUtf8(T& t) {
  RawPacket props;
  props.U8(0x08).Str("reply" + Surrogate());
  co_await SendAndExpectClose(t, RawPublish(kV5, t.Topic("u"), &props),
                              "PUBLISH with a Response Topic that is not UTF-8",
                              Codes(ReasonCode::kMalformedPacket));
}

asio::awaitable<void> ContentTypeNotUtf8(T& t) {
  RawPacket props;
  props.U8(0x03).Str("text/" + Surrogate());
  co_await SendAndExpectClose(t, RawPublish(kV5, t.Topic("u"), &props),
                              "PUBLISH with a Content Type that is not UTF-8",
                              Codes(ReasonCode::kMalformedPacket));
}

asio::awaitable<void> ReservedFixedHeaderFlags(T& t) {
  // SUBSCRIBE, UNSUBSCRIBE and PUBREL need 0010; PINGREQ needs 0000.
  std::vector<std::pair<std::string, std::string>> cases;
  RawPacket sub;
  sub.U16(1);
  if (t.v5()) sub.VarInt(0);
  sub.Str(t.Topic("f")).U8(0);
  cases.emplace_back(sub.Build(0x80), "SUBSCRIBE with flags 0000");
  RawPacket ping;
  cases.emplace_back(ping.Build(0xC1), "PINGREQ with flags 0001");
  RawPacket rel;
  rel.U16(1);
  cases.emplace_back(rel.Build(0x60), "PUBREL with flags 0000");
  for (const auto& [bytes, why] : cases) {
    co_await SendAndExpectClose(t, bytes, why, Codes(ReasonCode::kMalformedPacket));
    if (t.failed()) co_return;
  }
}

asio::awaitable<void> PublishQoS3(T& t) {
  RawPacket p;
  p.Str(t.Topic("q3")).U16(1);
  if (t.v5()) p.VarInt(0);
  p.Bytes("x");
  co_await SendAndExpectClose(t, p.Build(0x36), "PUBLISH with both QoS bits set",
                              Codes(ReasonCode::kMalformedPacket));
}

asio::awaitable<void> WildcardInTopicName(T& t, std::string wildcard) {
  co_await SendAndExpectClose(t,
                              EncodePublish(Pub(t.Topic("w") + "/" + wildcard, "x"), t.version()),
                              "PUBLISH to a Topic Name containing '" + wildcard + "'",
                              Codes(ReasonCode::kTopicNameInvalid, ReasonCode::kProtocolError));
}

asio::awaitable<void> SubscriptionIdFromClient(T& t) {
  PubSpec s = Pub(t.Topic("sid"), "x");
  s.subscription_ids.push_back(7);
  co_await SendAndExpectClose(t, EncodePublish(s, kV5),
                              "PUBLISH from the client with a Subscription Identifier",
                              Codes(ReasonCode::kProtocolError));
}

asio::awaitable<void> PubrelFlags(T& t) {
  RawPacket rel;
  rel.U16(1);
  co_await SendAndExpectClose(t, rel.Build(0x63), "PUBREL with flags 0011",
                              Codes(ReasonCode::kMalformedPacket));
}

asio::awaitable<void> SubscribeFlags(T& t) {
  RawPacket sub;
  sub.U16(1);
  if (t.v5()) sub.VarInt(0);
  sub.Str(t.Topic("f")).U8(0);
  co_await SendAndExpectClose(t, sub.Build(0x83), "SUBSCRIBE with flags 0011",
                              Codes(ReasonCode::kMalformedPacket));
}

asio::awaitable<void> UnsubscribeFlags(T& t) {
  RawPacket unsub;
  unsub.U16(1);
  if (t.v5()) unsub.VarInt(0);
  unsub.Str(t.Topic("f"));
  co_await SendAndExpectClose(t, unsub.Build(0xA0), "UNSUBSCRIBE with flags 0000",
                              Codes(ReasonCode::kMalformedPacket));
}

asio::awaitable<void> FilterNotUtf8(T& t, bool unsubscribe) {
  RawPacket p;
  p.U16(1);
  if (t.v5()) p.VarInt(0);
  p.Str(t.Topic("f") + Surrogate());
  if (!unsubscribe) p.U8(0);
  co_await SendAndExpectClose(t, p.Build(unsubscribe ? 0xA2 : 0x82),
                              std::string(unsubscribe ? "UNSUBSCRIBE" : "SUBSCRIBE") +
                                  " with a Topic Filter that is not UTF-8",
                              Codes(ReasonCode::kMalformedPacket));
}

asio::awaitable<void> NoFilters(T& t, bool unsubscribe) {
  RawPacket p;
  p.U16(1);
  if (t.v5()) p.VarInt(0);
  co_await SendAndExpectClose(
      t, p.Build(unsubscribe ? 0xA2 : 0x82),
      std::string(unsubscribe ? "UNSUBSCRIBE" : "SUBSCRIBE") + " without any Topic Filter",
      Codes(ReasonCode::kProtocolError, ReasonCode::kMalformedPacket));
}

asio::awaitable<void> SubscriptionOptionsReserved(T& t) {
  RawPacket p;
  p.U16(1);
  if (t.v5()) p.VarInt(0);
  // MQTT 5: bits 6-7 reserved. 3.1.1: bits 2-7 reserved; also QoS 3 (tested with 0x03 below).
  p.Str(t.Topic("o")).U8(t.v5() ? 0xC1 : 0x05);
  co_await SendAndExpectClose(t, p.Build(0x82),
                              "SUBSCRIBE with reserved Subscription Options bits set",
                              Codes(ReasonCode::kMalformedPacket));
  if (t.failed() || t.v5()) co_return;
  RawPacket q3;
  q3.U16(1).Str(t.Topic("o")).U8(0x03);
  co_await SendAndExpectClose(t, q3.Build(0x82), "SUBSCRIBE with Requested QoS 3",
                              Codes(ReasonCode::kMalformedPacket));
}

asio::awaitable<void> PingResp(T& t) {
  auto c = co_await t.Connect(t.Spec());
  if (!c) co_return;
  for (int i = 0; i < 3; ++i) {
    c->Send(protocol::PingreqPacket{});
    Event e = co_await c->Next(t.wait());
    SIMQ_FAIL_IF(!IsPacket(e, PacketType::kPingresp), "PINGREQ #{} answered by {}", i + 1,
                 e.Describe());
    SIMQ_FAIL_IF(e.raw != std::string("\xD0\x00", 2), "PINGRESP bytes {}", Hex(e.raw));
  }
}

asio::awaitable<void> DisconnectReservedBits(T& t) {
  // An invalid DISCONNECT is not a normal disconnection: the Will is published.
  const std::string topic = t.Topic("will");
  auto watch = co_await t.Connect(t.Spec("watch"));
  if (!watch) co_return;
  if (!co_await t.Subscribe(*watch, topic, kQoS1)) co_return;
  ConnectSpec spec = t.Spec("bad");
  WillSpec w;
  w.topic = topic;
  w.payload = "bad disconnect";
  spec.will = w;
  auto c = co_await t.Connect(spec);
  if (!c) co_return;
  RawPacket d;
  if (t.v5()) d.U8(0x00);
  c->SendRaw(d.Build(0xE1));
  if (!co_await t.ExpectClosedWith(*c, "DISCONNECT with fixed header flags 0001",
                                   Codes(ReasonCode::kMalformedPacket)))
    co_return;
  Event e = co_await watch->Await(
      [&topic](const Event& ev) { return IsPacket(ev, PacketType::kPublish) && ev.topic == topic; },
      t.wait());
  SIMQ_FAIL_IF(!e.is_packet(),
               "DISCONNECT with reserved bits set was treated as a normal DISCONNECT: the Will "
               "Message was not published ({})",
               e.Describe());
}

// Provokes a server DISCONNECT (takeover) and returns what the old connection received.
asio::awaitable<std::optional<std::vector<Event>>> ProvokeDisconnect(T& t, ConnectSpec spec) {
  auto first = co_await t.Connect(spec);
  if (!first) co_return std::nullopt;
  ConnectSpec plain = spec;
  plain.max_packet_size.reset();
  auto second = co_await t.Connect(plain);
  if (!second) co_return std::nullopt;
  std::vector<Event> got;
  const bool closed = co_await first->WaitClosed(t.wait(), &got);
  if (!closed) {
    t.Fail("takeover: the old connection is still open");
    co_return std::nullopt;
  }
  co_return got;
}

asio::awaitable<void> ServerDisconnectCodes(T& t) {
  auto got = co_await ProvokeDisconnect(t, t.Spec("take"));
  if (!got) co_return;
  for (const Event& e : *got) {
    SIMQ_FAIL_IF(e.kind == Event::Kind::kBadPacket, "the server sent an undecodable packet: {}",
                 e.Describe());
    if (const auto* d = e.get<DisconnectPacket>()) {
      SIMQ_FAIL_IF(!In(DisconnectCodes(), d->reason_code),
                   "DISCONNECT Reason Code {} is not a Disconnect Reason Code",
                   CodeName(d->reason_code));
    }
  }
  // And one for a protocol error.
  auto c = co_await t.Connect(t.Spec("err"));
  if (!c) co_return;
  c->SendRaw(EncodeConnect(t.Spec("again")));
  std::vector<Event> err;
  co_await c->WaitClosed(t.wait(), &err);
  for (const Event& e : err) {
    if (const auto* d = e.get<DisconnectPacket>()) {
      SIMQ_FAIL_IF(!In(DisconnectCodes(), d->reason_code),
                   "DISCONNECT Reason Code {} is not a Disconnect Reason Code",
                   CodeName(d->reason_code));
    }
  }
}

asio::awaitable<void> NoSessionExpiryInServerDisconnect(T& t) {
  ConnectSpec spec = t.Spec("take");
  spec.session_expiry = 5;
  auto got = co_await ProvokeDisconnect(t, spec);
  if (!got) co_return;
  bool saw = false;
  for (const Event& e : *got) {
    if (const auto* d = e.get<DisconnectPacket>()) {
      saw = true;
      SIMQ_FAIL_IF(d->properties.session_expiry_interval.has_value(),
                   "the server's DISCONNECT carries Session Expiry Interval {}",
                   *d->properties.session_expiry_interval);
    }
  }
  if (!saw) t.Skip("the server closed the taken-over connection without DISCONNECT");
  co_await t.EndSession(spec.client_id);
}

asio::awaitable<void> DisconnectFitsMaximumPacketSize(T& t, bool user_property) {
  constexpr uint32_t kMax = 4;  // DISCONNECT with a Reason Code and no properties: 3 bytes
  ConnectSpec spec = t.Spec("take");
  spec.max_packet_size = kMax;
  spec.request_problem_info = 1;
  auto got = co_await ProvokeDisconnect(t, spec);
  if (!got) co_return;
  for (const Event& e : *got) {
    if (!IsPacket(e, PacketType::kDisconnect) || e.raw.size() <= kMax) continue;
    const auto& props = e.get<DisconnectPacket>()->properties;
    const bool culprit =
        user_property ? !props.user_properties.empty() : props.reason_string.has_value();
    SIMQ_FAIL_IF(culprit, "client Maximum Packet Size {}: DISCONNECT of {} bytes because of its {}",
                 kMax, e.raw.size(), user_property ? "User Property" : "Reason String");
    SIMQ_FAIL_IF(true, "client Maximum Packet Size {}: DISCONNECT of {} bytes (MQTT-3.1.2-24): {}",
                 kMax, e.raw.size(), Hex(e.raw));
  }
}

asio::awaitable<void> NothingAfterServerDisconnect(T& t) {
  // A busy connection is taken over: after its DISCONNECT nothing else may arrive.
  const std::string topic = t.Topic("busy");
  ConnectSpec spec = t.Spec("take");
  auto first = co_await t.Connect(spec);
  if (!first) co_return;
  if (!co_await t.Subscribe(*first, topic, kQoS0)) co_return;
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  std::string burst;
  for (int i = 0; i < 200; ++i) burst += EncodePublish(Pub(topic, std::to_string(i)), kV5);
  pub->SendRaw(burst);
  auto second = co_await t.Connect(spec);
  if (!second) co_return;
  pub->SendRaw(burst);
  std::vector<Event> got;
  const bool closed = co_await first->WaitClosed(t.wait(), &got);
  SIMQ_FAIL_IF(!closed, "taken-over connection still open");
  bool after = false;
  for (const Event& e : got) {
    if (after) {
      SIMQ_FAIL_IF(true, "after its DISCONNECT the server sent {}", e.Describe());
    }
    if (IsPacket(e, PacketType::kDisconnect)) after = true;
  }
  if (!after) t.Skip("the server closed the taken-over connection without DISCONNECT");
}

asio::awaitable<void> ClosesAfterServerDisconnect(T& t) {
  auto c = co_await t.Connect(t.Spec());
  if (!c) co_return;
  RawPacket zero;
  c->SendRaw(zero.Build(0x00));  // reserved packet type 0
  std::vector<Event> got;
  const bool closed = co_await c->WaitClosed(t.wait(), &got);
  bool disconnect = false;
  for (const Event& e : got) disconnect = disconnect || IsPacket(e, PacketType::kDisconnect);
  if (!disconnect && closed) {
    t.Skip("the server closed without DISCONNECT, so the rule has nothing to apply to");
    co_return;
  }
  SIMQ_FAIL_IF(!closed, "the server sent DISCONNECT but did not close the connection");
}

asio::awaitable<void> ClosesOnMalformedPacket(T& t) {
  RawPacket zero;
  co_await SendAndExpectClose(t, zero.Build(0x00), "a packet of reserved type 0",
                              Codes(ReasonCode::kMalformedPacket, ReasonCode::kProtocolError));
}

asio::awaitable<void> ClosesOnProtocolViolation311(T& t) {
  // Packet type 15 is reserved in MQTT 3.1.1 (AUTH in MQTT 5).
  RawPacket reserved;
  co_await SendAndExpectClose(t, reserved.Build(0xF0), "a packet of reserved type 15",
                              std::vector<ReasonCode>());
}

asio::awaitable<void> ClosesAfterErrorDisconnect(T& t) {
  auto c = co_await t.Connect(t.Spec());
  if (!c) co_return;
  c->SendRaw(EncodePublish(Pub(t.Topic("w") + "/#", "x"), kV5));
  std::vector<Event> got;
  const bool closed = co_await c->WaitClosed(t.wait(), &got);
  std::optional<ReasonCode> code;
  for (const Event& e : got) {
    if (const auto* d = e.get<DisconnectPacket>()) code = d->reason_code;
  }
  SIMQ_FAIL_IF(code && protocol::IsError(*code) && !closed,
               "DISCONNECT {} but the connection stays open", CodeName(*code));
  SIMQ_FAIL_IF(!closed, "PUBLISH to a wildcard Topic Name: the connection stays open");
}

}  // namespace

void RegisterErrorTests(Registry& r) {
  // MQTT 5.0
  r.Add(kV5, "MQTT-1.5.4-1", "IllFormedUtf8IsMalformed", IllFormedUtf8);
  r.Add(kV5, "MQTT-1.5.4-2", "NullCharacterIsMalformed", NullCharacter);
  r.Add(kV5, "MQTT-1.5.7-1", "StringPairNotUtf8IsMalformed", StringPairNotUtf8);
  r.Add(kV5, "MQTT-2.1.3-1", "WrongFixedHeaderFlagsAreMalformed", ReservedFixedHeaderFlags);
  r.Add(kV5, "MQTT-3.3.1-4", "PublishQoS3IsMalformed", PublishQoS3);
  r.Add(kV5, "MQTT-3.3.2-1", "TopicNameNotUtf8IsMalformed", TopicNotUtf8);
  r.Add(kV5, "MQTT-3.3.2-2", "RefusesWildcardInTopicName",
        [](T& t) { return WildcardInTopicName(t, "+"); });
  r.Add(kV5, "MQTT-3.3.2-13", "ResponseTopicNotUtf8IsMalformed", ResponseTopicNotUtf8);
  r.Add(kV5, "MQTT-3.3.2-19", "ContentTypeNotUtf8IsMalformed", ContentTypeNotUtf8);
  r.Add(kV5, "MQTT-3.3.4-6", "SubscriptionIdFromClientIsProtocolError", SubscriptionIdFromClient);
  r.Add(kV5, "MQTT-3.6.1-1", "PubrelWithWrongFlagsIsMalformed", PubrelFlags);
  r.Add(kV5, "MQTT-3.8.1-1", "SubscribeWithWrongFlagsIsMalformed", SubscribeFlags);
  r.Add(kV5, "MQTT-3.8.3-1", "SubscribeFilterNotUtf8IsMalformed",
        [](T& t) { return FilterNotUtf8(t, false); });
  r.Add(kV5, "MQTT-3.8.3-2", "SubscribeWithoutFiltersIsProtocolError",
        [](T& t) { return NoFilters(t, false); });
  r.Add(kV5, "MQTT-3.8.3-5", "ReservedSubscriptionOptionBitsAreMalformed",
        SubscriptionOptionsReserved);
  r.Add(kV5, "MQTT-3.10.1-1", "UnsubscribeWithWrongFlagsIsMalformed", UnsubscribeFlags);
  r.Add(kV5, "MQTT-3.10.3-1", "UnsubscribeFilterNotUtf8IsMalformed",
        [](T& t) { return FilterNotUtf8(t, true); });
  r.Add(kV5, "MQTT-3.10.3-2", "UnsubscribeWithoutFiltersIsProtocolError",
        [](T& t) { return NoFilters(t, true); });
  r.Add(kV5, "MQTT-3.12.4-1", "AnswersPingreqWithPingresp", PingResp);
  r.Add(kV5, "MQTT-3.14.1-1", "DisconnectWithReservedBitsIsMalformed", DisconnectReservedBits);
  r.Add(kV5, "MQTT-3.14.2-1", "UsesDisconnectReasonCodes", ServerDisconnectCodes);
  r.Add(kV5, "MQTT-3.14.2-2", "NoSessionExpiryIntervalInServerDisconnect",
        NoSessionExpiryInServerDisconnect);
  r.Add(kV5, "MQTT-3.14.2-3", "DisconnectReasonStringFitsMaximumPacketSize",
        [](T& t) { return DisconnectFitsMaximumPacketSize(t, false); });
  r.Add(kV5, "MQTT-3.14.2-4", "DisconnectUserPropertyFitsMaximumPacketSize",
        [](T& t) { return DisconnectFitsMaximumPacketSize(t, true); });
  r.Add(kV5, "MQTT-3.14.4-1", "SendsNothingAfterDisconnect", NothingAfterServerDisconnect);
  r.Add(kV5, "MQTT-3.14.4-2", "ClosesAfterSendingDisconnect", ClosesAfterServerDisconnect);
  r.Add(kV5, "MQTT-4.7.0-1", "RefusesWildcardInTopicName",
        [](T& t) { return WildcardInTopicName(t, "#"); });
  r.Add(kV5, "MQTT-4.13.1-1", "ClosesOnMalformedPacket", ClosesOnMalformedPacket);
  r.Add(kV5, "MQTT-4.13.2-1", "ClosesAfterErrorDisconnect", ClosesAfterErrorDisconnect);

  // MQTT 3.1.1
  r.Add(kV311, "MQTT-1.5.3-1", "ClosesOnIllFormedUtf8", IllFormedUtf8);
  r.Add(kV311, "MQTT-1.5.3-2", "ClosesOnNullCharacter", NullCharacter);
  r.Add(kV311, "MQTT-2.2.2-2", "ClosesOnInvalidFixedHeaderFlags", ReservedFixedHeaderFlags);
  r.Add(kV311, "MQTT-3.3.1-4", "ClosesOnPublishQoS3", PublishQoS3);
  r.Add(kV311, "MQTT-3.3.2-1", "ClosesOnTopicNameNotUtf8", TopicNotUtf8);
  r.Add(kV311, "MQTT-3.3.2-2", "ClosesOnWildcardInTopicName",
        [](T& t) { return WildcardInTopicName(t, "+"); });
  r.Add(kV311, "MQTT-3.6.1-1", "ClosesOnPubrelWithWrongFlags", PubrelFlags);
  r.Add(kV311, "MQTT-3.8.1-1", "ClosesOnSubscribeWithWrongFlags", SubscribeFlags);
  r.Add(kV311, "MQTT-3.8.3-1", "ClosesOnSubscribeFilterNotUtf8",
        [](T& t) { return FilterNotUtf8(t, false); });
  r.Add(kV311, "MQTT-3.8.3-3", "ClosesOnSubscribeWithoutFilters",
        [](T& t) { return NoFilters(t, false); });
  r.Add(kV311, "MQTT-3.8.3-4", "ClosesOnReservedOptionBitsOrQoS3", SubscriptionOptionsReserved);
  r.Add(kV311, "MQTT-3.10.1-1", "ClosesOnUnsubscribeWithWrongFlags", UnsubscribeFlags);
  r.Add(kV311, "MQTT-3.10.3-1", "ClosesOnUnsubscribeFilterNotUtf8",
        [](T& t) { return FilterNotUtf8(t, true); });
  r.Add(kV311, "MQTT-3.10.3-2", "ClosesOnUnsubscribeWithoutFilters",
        [](T& t) { return NoFilters(t, true); });
  r.Add(kV311, "MQTT-3.12.4-1", "AnswersPingreqWithPingresp", PingResp);
  r.Add(kV311, "MQTT-3.14.1-1", "DisconnectWithReservedBitsIsNotNormal", DisconnectReservedBits);
  r.Add(kV311, "MQTT-4.7.1-1", "ClosesOnWildcardInTopicName",
        [](T& t) { return WildcardInTopicName(t, "#"); });
  r.Add(kV311, "MQTT-4.8.0-1", "ClosesOnProtocolViolation", ClosesOnProtocolViolation311);
}

}  // namespace simq::conformance
