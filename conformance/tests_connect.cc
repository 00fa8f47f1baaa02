// CONNECT and CONNACK: protocol name and level, connect flags, client identifiers, keep alive,
// CONNACK flags, reason codes and properties, enhanced authentication as a black box sees it.

#include <chrono>

#include "conformance/tests_util.h"

namespace simq::conformance {
namespace {

constexpr char kUnknownMethod[] = "SIMQ-CONFORMANCE-UNKNOWN-METHOD";

// ---- First packet, second CONNECT ----

asio::awaitable<void> FirstPacketMustBeConnect(T& t) {
  auto c = co_await t.Open();
  if (!c) co_return;
  c->Send(protocol::PingreqPacket{});
  std::vector<Event> got;
  const bool closed = co_await c->WaitClosed(t.wait(), &got);
  for (const Event& e : got) {
    SIMQ_FAIL_IF(true, "sent PINGREQ before CONNECT: the server answered {}", e.Describe());
  }
  SIMQ_FAIL_IF(!closed, "sent PINGREQ before CONNECT: the connection is still open after {} ms",
               t.wait().count());
}

asio::awaitable<void> SecondConnectIsProtocolError(T& t) {
  ConnectSpec spec = t.Spec("dup");
  auto c = co_await t.Connect(spec);
  if (!c) co_return;
  c->SendRaw(EncodeConnect(spec));
  co_await t.ExpectClosedWith(*c, "second CONNECT on one connection",
                              std::vector<ReasonCode>(1, ReasonCode::kProtocolError));
}

// ---- Protocol name and level ----

asio::awaitable<void> ProtocolNameNotMqtt(T& t) {
  const uint8_t level = static_cast<uint8_t>(t.version());
  std::string connect = RawConnect("MQTX", level, 0x02, Payload(t.Id()), nullptr, t.v5());
  if (t.v5()) {
    co_await SendAndExpectRefused(t, connect, "CONNECT with protocol name 'MQTX'",
                                  std::vector<uint8_t>(1, 0x84));
    co_return;
  }
  // 3.1.1: the server MAY disconnect or continue under another specification, but MUST NOT go
  // on as MQTT: no CONNACK accepting it, no answer to a following PINGREQ.
  auto c = co_await t.Open();
  if (!c) co_return;
  c->SendRaw(connect);
  c->Send(protocol::PingreqPacket{});
  std::vector<Event> got;
  co_await c->WaitClosed(t.quiet() * 2, &got);
  for (const Event& e : got) {
    if (IsConnackRaw(e) && ConnackCodeByte(e) != 0) continue;
    SIMQ_FAIL_IF(true, "CONNECT with protocol name 'MQTX' then PINGREQ: the server answered {}",
                 e.Describe());
  }
}

asio::awaitable<void> UnsupportedProtocolLevel(T& t) {
  if (t.v5()) {
    // Level 6 does not exist (yet): MAY CONNACK 0x84, MUST close.
    co_await SendAndExpectRefused(t, RawConnect("MQTT", 6, 0x02, Payload(t.Id()), nullptr, true),
                                  "CONNECT with protocol level 6", std::vector<uint8_t>(1, 0x84));
    co_return;
  }
  // 3.1.1: level 2 was never MQTT: CONNACK return code 0x01, then disconnect.
  auto c = co_await t.Open();
  if (!c) co_return;
  c->SendRaw(RawConnect("MQTT", 2, 0x02, Payload(t.Id()), nullptr, false));
  std::vector<Event> got;
  const bool closed = co_await c->WaitClosed(t.wait(), &got);
  SIMQ_FAIL_IF(
      got.empty() || !IsConnackRaw(got[0]),
      "CONNECT with protocol level 2: expected CONNACK 0x01, got {}",
      got.empty() ? std::string(closed ? "the connection closed" : "nothing") : got[0].Describe());
  SIMQ_FAIL_IF(got[0].raw != std::string("\x20\x02\x00\x01", 4),
               "CONNECT with protocol level 2: expected CONNACK 20 02 00 01, got {}",
               Hex(got[0].raw));
  SIMQ_FAIL_IF(got.size() > 1,
               "CONNECT with protocol level 2: after the CONNACK the server sent {}",
               got[1].Describe());
  SIMQ_FAIL_IF(!closed,
               "CONNECT with protocol level 2: CONNACK 0x01 but the connection is still "
               "open");
}

// ---- Connect flags ----

asio::awaitable<void> RefusedFlags(T& t, uint8_t flags, std::string what, RawPacket payload) {
  co_await SendAndExpectRefused(t, RawConnectFor(t.version(), flags, payload),
                                "CONNECT with " + what);
}

asio::awaitable<void> ReservedFlag(T& t) {
  co_await RefusedFlags(t, 0x03, "the reserved connect flag set", Payload(t.Id()));
}

asio::awaitable<void> WillFlagWithoutWillFields(T& t) {
  co_await RefusedFlags(t, 0x06, "the Will Flag set but no Will Topic and Will Payload",
                        Payload(t.Id()));
}

asio::awaitable<void> WillQoS1WithoutWillFlag(T& t) {
  co_await RefusedFlags(t, 0x0A, "Will QoS 1 but the Will Flag 0", Payload(t.Id()));
}

asio::awaitable<void> WillQoS2WithoutWillFlag(T& t) {
  co_await RefusedFlags(t, 0x12, "Will QoS 2 but the Will Flag 0", Payload(t.Id()));
}

asio::awaitable<void> WillRetainWithoutWillFlag(T& t) {
  co_await RefusedFlags(t, 0x22, "Will Retain 1 but the Will Flag 0", Payload(t.Id()));
}

asio::awaitable<void> WillQoS3(T& t) {
  RawPacket p;
  p.Str(t.Id());
  if (t.v5()) p.VarInt(0);  // empty Will Properties
  p.Str(t.Topic("will")).Str("w");
  co_await RefusedFlags(t, 0x1E, "Will QoS 3", p);
}

asio::awaitable<void> UserNameWithoutFlag(T& t) {
  RawPacket p;
  p.Str(t.Id()).Str("user");
  co_await RefusedFlags(t, 0x02, "a User Name in the payload but the User Name Flag 0", p);
}

asio::awaitable<void> UserNameFlagWithoutUserName(T& t) {
  co_await RefusedFlags(t, 0x82, "the User Name Flag 1 but no User Name", Payload(t.Id()));
}

asio::awaitable<void> PasswordWithoutFlag(T& t) {
  RawPacket p;
  p.Str(t.Id()).Str("user").Str("secret");
  co_await RefusedFlags(t, 0x82, "a Password in the payload but the Password Flag 0", p);
}

asio::awaitable<void> PasswordFlagWithoutPassword(T& t) {
  RawPacket p;
  p.Str(t.Id()).Str("user");
  co_await RefusedFlags(t, 0xC2, "the Password Flag 1 but no Password", p);
}

asio::awaitable<void> PasswordWithoutUserName311(T& t) {
  RawPacket p;
  p.Str(t.Id()).Str("secret");
  co_await RefusedFlags(t, 0x42, "the Password Flag 1 and the User Name Flag 0", p);
}

// ---- Client identifier ----

asio::awaitable<void> ClientIdMissing(T& t) {
  RawPacket empty;
  co_await RefusedFlags(t, 0x02, "no Client Identifier in the payload", empty);
}

asio::awaitable<void> ClientIdNotUtf8(T& t) {
  co_await RefusedFlags(t, 0x02, "a Client Identifier that is not UTF-8 (ED A0 80)",
                        Payload("id" + Surrogate()));
}

asio::awaitable<void> AllowsShortAlphanumericIds(T& t) {
  // 23 characters of [0-9a-zA-Z], and a single one.
  std::string id23 = t.Id("Z");
  id23.erase(std::remove(id23.begin(), id23.end(), '-'), id23.end());
  while (id23.size() < 23) id23 += "Az09";
  id23.resize(23);
  std::string id1 = std::string(1, t.v5() ? 'Q' : 'R');
  std::vector<std::string> ids;
  ids.push_back(id23);
  ids.push_back(id1);
  for (const std::string& id : ids) {
    ConnectSpec spec = t.Spec();
    spec.client_id = id;
    auto c = co_await t.Connect(spec);
    if (!c) co_return;
    c->Send(DisconnectPacket{});
  }
}

asio::awaitable<void> EmptyClientIdsGetUniqueIds(T& t) {
  ConnectSpec spec = t.Spec();
  spec.client_id = "";
  std::vector<std::unique_ptr<Conn>> conns;
  std::vector<std::string> topics;
  for (int i = 0; i < 2; ++i) {
    auto c = co_await t.Open();
    if (!c) co_return;
    Event e = co_await t.ConnectRaw(*c, spec);
    SIMQ_FAIL_IF(!e.is_packet(),
                 "CONNECT with an empty Client Identifier: expected CONNACK, got {}", e.Describe());
    if (ConnackCodeByte(e) != 0) {
      t.Skip("the server does not allow empty Client Identifiers (it MAY): CONNACK " + Hex(e.raw));
      co_return;
    }
    c->connack = *e.get<ConnackPacket>();
    c->connack_packet = std::move(e.packet);
    if (t.v5()) {
      SIMQ_FAIL_IF(!Props(*c).assigned_client_identifier,
                   "CONNACK to an empty Client Identifier has no Assigned Client Identifier");
      SIMQ_FAIL_IF(Props(*c).assigned_client_identifier->empty(),
                   "the Assigned Client Identifier is empty");
    }
    conns.push_back(std::move(c));
    topics.push_back(t.Topic("own" + std::to_string(i)));
  }
  if (t.v5()) {
    SIMQ_FAIL_IF(*Props(*conns[0]).assigned_client_identifier ==
                     *Props(*conns[1]).assigned_client_identifier,
                 "two clients with empty Client Identifiers were both assigned '{}'",
                 *Props(*conns[0]).assigned_client_identifier);
  }
  // Both stay connected, each with its own session: neither took the other over.
  for (int i = 0; i < 2; ++i) {
    if (!co_await t.Subscribe(*conns[i], topics[i], kQoS0)) co_return;
  }
  for (int i = 0; i < 2; ++i) {
    if (!co_await t.Publish(*conns[1 - i], Pub(topics[i], "for " + std::to_string(i)))) co_return;
    auto m = co_await t.ExpectPublishOn(*conns[i], topics[i]);
    if (!m) co_return;
  }
}

asio::awaitable<void> EmptyClientIdProcessedAsAssigned(T& t) {
  ConnectSpec spec = t.Spec();
  spec.client_id = "";
  spec.session_expiry = 30;
  auto c = co_await t.Open();
  if (!c) co_return;
  Event e = co_await t.ConnectRaw(*c, spec);
  SIMQ_FAIL_IF(!e.is_packet(), "CONNECT with an empty Client Identifier: expected CONNACK, got {}",
               e.Describe());
  if (ConnackCodeByte(e) != 0) {
    t.Skip("the server does not allow empty Client Identifiers (it MAY): CONNACK " + Hex(e.raw));
    co_return;
  }
  const auto* connack = e.get<ConnackPacket>();
  SIMQ_FAIL_IF(!connack->properties.assigned_client_identifier,
               "CONNACK to an empty Client Identifier has no Assigned Client Identifier");
  const std::string assigned(*connack->properties.assigned_client_identifier);
  const std::string topic = t.Topic("kept");
  if (!co_await t.Subscribe(*c, topic, kQoS1)) co_return;
  if (!co_await DisconnectAndWait(t, c)) co_return;
  // The session belongs to the assigned identifier, as if the client had sent it.
  ConnectSpec again = t.Spec();
  again.client_id = assigned;
  again.clean_start = false;
  again.session_expiry = 30;
  auto c2 = co_await t.Connect(again);
  if (!c2) co_return;
  SIMQ_FAIL_IF(!c2->connack.session_present,
               "reconnecting as the Assigned Client Identifier '{}' with Clean Start 0: Session "
               "Present 0, so the session was not kept under that identifier",
               assigned);
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "to the assigned id", kQoS1))) co_return;
  co_await t.ExpectPublishOn(*c2, topic);
  co_await t.EndSession(assigned);
}

asio::awaitable<void> AssignedClientIdIsNew(T& t) {
  auto existing = co_await t.Connect(t.Spec("existing"));
  if (!existing) co_return;
  ConnectSpec spec = t.Spec();
  spec.client_id = "";
  auto c = co_await t.Open();
  if (!c) co_return;
  Event e = co_await t.ConnectRaw(*c, spec);
  SIMQ_FAIL_IF(!e.is_packet(), "CONNECT with an empty Client Identifier: expected CONNACK, got {}",
               e.Describe());
  if (ConnackCodeByte(e) != 0) {
    t.Skip("the server does not allow empty Client Identifiers (it MAY): CONNACK " + Hex(e.raw));
    co_return;
  }
  const auto* connack = e.get<ConnackPacket>();
  SIMQ_FAIL_IF(!connack->properties.assigned_client_identifier,
               "CONNACK to an empty Client Identifier has no Assigned Client Identifier");
  SIMQ_FAIL_IF(*connack->properties.assigned_client_identifier == existing->client_id,
               "assigned the identifier '{}' of a connected client", existing->client_id);
  // The connected client keeps its session and connection.
  if (!co_await t.Ping(*existing)) co_return;
}

asio::awaitable<void> RejectedClientIdCloses(T& t) {
  // A long identifier is the one a server is most likely to refuse (servers MAY accept longer
  // ones; if this one does, nothing can be observed).
  std::string id = t.Id("long");
  while (id.size() < 200) id += "0123456789";
  auto c = co_await t.Open();
  if (!c) co_return;
  ConnectSpec spec = t.Spec();
  spec.client_id = id;
  c->SendRaw(EncodeConnect(spec));
  Event e = co_await c->Await([](const Event& ev) { return IsConnackRaw(ev); }, t.wait());
  if (e.is_packet() && ConnackCodeByte(e) == 0) {
    t.Skip("the server accepts a 200-byte Client Identifier, so a rejection cannot be provoked");
    c->Send(DisconnectPacket{});
    co_return;
  }
  if (e.kind == Event::Kind::kClosed) co_return;  // closed without CONNACK: allowed
  SIMQ_FAIL_IF(!IsConnackRaw(e), "CONNECT with a 200-byte Client Identifier: got {}", e.Describe());
  const uint8_t code = ConnackCodeByte(e);
  if (t.v5()) {
    SIMQ_FAIL_IF(code < 0x80, "refused the Client Identifier with CONNACK {}", CodeName(code));
  } else {
    SIMQ_FAIL_IF(code != 0x02,
                 "refused the Client Identifier with return code 0x{:02X}, expected 0x02 "
                 "(Identifier rejected)",
                 code);
  }
  co_await t.ExpectClosed(*c, "after CONNACK refusing the Client Identifier");
}

asio::awaitable<void> EmptyClientIdWithCleanSession0(T& t) {
  ConnectSpec spec = t.Spec();
  spec.client_id = "";
  spec.clean_start = false;
  auto c = co_await t.Open();
  if (!c) co_return;
  c->SendRaw(EncodeConnect(spec));
  std::vector<Event> got;
  const bool closed = co_await c->WaitClosed(t.wait(), &got);
  SIMQ_FAIL_IF(got.empty() || got[0].raw != std::string("\x20\x02\x00\x02", 4),
               "empty Client Identifier with CleanSession 0: expected CONNACK 20 02 00 02, got {}",
               got.empty() ? (closed ? "the connection closed" : "nothing") : Hex(got[0].raw));
  SIMQ_FAIL_IF(!closed, "CONNACK 0x02 but the connection is still open");
}

asio::awaitable<void> WillTopicNotUtf8(T& t) {
  RawPacket p;
  p.Str(t.Id());
  if (t.v5()) p.VarInt(0);
  p.Str("will" + Surrogate()).Str("payload");
  co_await RefusedFlags(t, 0x06, "a Will Topic that is not UTF-8", p);
}

asio::awaitable<void> UserNameNotUtf8(T& t) {
  RawPacket p;
  p.Str(t.Id()).Str("user" + Surrogate());
  co_await RefusedFlags(t, 0x82, "a User Name that is not UTF-8", p);
}

// ---- CONNECT validation and actions ----

asio::awaitable<void> MalformedConnect(T& t) {
  if (t.v5()) {
    // Property Length runs past the end of the packet.
    RawPacket p;
    p.Str("MQTT").U8(5).U8(0x02).U16(0).VarInt(50).U8(0x11).U32(10);
    p.Str(t.Id());
    co_await SendAndExpectRefused(t, p.Build(0x10),
                                  "CONNECT whose Property Length exceeds the packet");
    co_return;
  }
  // 3.1.1: a Client Identifier length beyond the packet; close without CONNACK.
  RawPacket p;
  p.Str("MQTT").U8(4).U8(0x02).U16(0).U16(40).Bytes("short");
  co_await SendAndExpectRefused(t, p.Build(0x10),
                                "CONNECT whose Client Identifier runs past the packet", {},
                                /*no_connack=*/true);
}

asio::awaitable<void> NoApplicableReturnCode311(T& t) {
  // A Will QoS of 3 has no return code of its own: close without CONNACK.
  RawPacket p;
  p.Str(t.Id()).Str(t.Topic("will")).Str("w");
  co_await SendAndExpectRefused(t, RawConnectFor(kV311, 0x1E, p), "CONNECT with Will QoS 3", {},
                                /*no_connack=*/true);
}

asio::awaitable<void> FailedConnectCheckCloses(T& t) {
  ConnectSpec spec = t.Spec();
  spec.auth_method = kUnknownMethod;
  auto c = co_await t.Open();
  if (!c) co_return;
  c->SendRaw(EncodeConnect(spec));
  std::vector<Event> got;
  const bool closed = co_await c->WaitClosed(t.wait(), &got);
  for (const Event& e : got) {
    if (IsConnackRaw(e) && ConnackCodeByte(e) == 0) {
      t.Skip(
          "the server accepted an unknown Authentication Method, so its CONNECT checks did "
          "not fail");
      co_return;
    }
  }
  SIMQ_FAIL_IF(!closed,
               "CONNECT with Authentication Method '{}': refused but the connection is still "
               "open (got {})",
               kUnknownMethod, got.empty() ? "nothing" : got[0].Describe());
}

asio::awaitable<void> AcceptsWithSuccess(T& t) {
  auto c = co_await t.Open();
  if (!c) co_return;
  Event e = co_await t.ConnectRaw(*c, t.Spec());
  SIMQ_FAIL_IF(!e.is_packet(), "CONNECT: expected CONNACK, got {}", e.Describe());
  SIMQ_FAIL_IF(ConnackCodeByte(e) != 0, "CONNECT: CONNACK {} ({})", Hex(e.raw),
               t.v5() ? CodeName(ConnackCodeByte(e)) : "return code not 0");
  if (!co_await t.Ping(*c)) co_return;
}

asio::awaitable<void> RejectedConnectDataIgnored(T& t) {
  if (!t.NeedRetain()) co_return;
  const std::string topic = t.Topic("ignored");
  ConnectSpec spec = t.Spec();
  std::string why;
  if (t.v5()) {
    spec.auth_method = kUnknownMethod;
    why = "CONNECT with an unknown Authentication Method";
  } else {
    spec.client_id = "";
    spec.clean_start = false;
    why = "CONNECT with an empty Client Identifier and CleanSession 0";
  }
  auto c = co_await t.Open();
  if (!c) co_return;
  // CONNECT and a retained PUBLISH in one write, before any CONNACK.
  c->SendRaw(EncodeConnect(spec) +
             EncodePublish(Pub(topic, "must be ignored", kQoS0, true), t.version()));
  std::vector<Event> got;
  co_await c->WaitClosed(t.wait(), &got);
  for (const Event& e : got) {
    if (IsConnackRaw(e) && ConnackCodeByte(e) == 0) {
      t.Skip(why + " was accepted, so no CONNECT could be rejected");
      co_return;
    }
  }
  auto sub = co_await t.Connect(t.Spec("check"));
  if (!sub) co_return;
  if (!co_await t.Subscribe(*sub, topic, kQoS0)) co_return;
  co_await t.ExpectNoPublish(*sub, {},
                             "no retained message from the PUBLISH sent after a refused CONNECT");
}

asio::awaitable<void> ConnackBeforeAnythingElse(T& t) {
  auto c = co_await t.Open();
  if (!c) co_return;
  ConnectSpec spec = t.Spec();
  SubSpec sub = Sub(t.Topic("early"), kQoS0);
  sub.packet_id = 1;
  c->SendRaw(EncodeConnect(spec) + EncodeSubscribe(sub, t.version()) +
             protocol::EncodeToString(protocol::PingreqPacket{}, t.version()));
  Event first = co_await c->Next(t.wait());
  SIMQ_FAIL_IF(!IsPacket(first, PacketType::kConnack),
               "CONNECT, SUBSCRIBE and PINGREQ in one write: the first packet from the server "
               "was {}, not CONNACK",
               first.Describe());
}

asio::awaitable<void> OnlyOneConnack(T& t) {
  ConnectSpec spec = t.Spec();
  auto c = co_await t.Connect(spec);
  if (!c) co_return;
  c->Send(protocol::PingreqPacket{});
  c->SendRaw(EncodeSubscribe(Sub(t.Topic("x"), kQoS0), t.version()));
  c->SendRaw(EncodeConnect(spec));  // a protocol error; it must not be answered with CONNACK
  std::vector<Event> got;
  co_await c->WaitClosed(t.wait(), &got);
  for (const Event& e : got) {
    SIMQ_FAIL_IF(IsConnackRaw(e), "a second CONNACK on the connection: {}", Hex(e.raw));
  }
}

asio::awaitable<void> ConnackReservedFlagsZero(T& t) {
  auto c = co_await t.Connect(t.Spec());
  if (!c) co_return;
  const std::string_view raw = c->connack_packet.bytes();
  SIMQ_FAIL_IF(
      raw.size() < 3 || (static_cast<uint8_t>(raw[2]) & 0xFE) != 0,
      "CONNACK Connect Acknowledge Flags byte is 0x{:02X}; bits 7-1 must be 0 (CONNACK {})",
      raw.size() < 3 ? 0xFF : static_cast<uint8_t>(raw[2]), Hex(raw));
}

// ---- Refusals: Session Present, closing, codes ----

asio::awaitable<void> RefusedConnackSessionPresent0(T& t) {
  // A session exists for the identifier; the refused CONNECT must still say Session Present 0.
  ConnectSpec spec = t.Spec("sp");
  spec.clean_start = false;
  spec.session_expiry = 30;
  {
    auto c = co_await t.Connect(spec);
    if (!c) co_return;
    c->Send(DisconnectPacket{});
  }
  auto c = co_await t.Open();
  if (!c) co_return;
  if (t.v5()) {
    ConnectSpec bad = spec;
    bad.auth_method = kUnknownMethod;
    c->SendRaw(EncodeConnect(bad));
  } else {
    c->SendRaw(RawConnect("MQTT", 2, 0x00, Payload(spec.client_id), nullptr, false));
  }
  Event e = co_await c->Await([](const Event& ev) { return IsConnackRaw(ev); }, t.wait());
  co_await t.EndSession(spec.client_id);
  if (!IsConnackRaw(e)) {
    t.Skip("the server refused the CONNECT without a CONNACK (" + e.Describe() + ")");
    co_return;
  }
  SIMQ_FAIL_IF(ConnackCodeByte(e) == 0, "the CONNECT was accepted; expected a refusal");
  SIMQ_FAIL_IF(e.raw.size() < 3 || (static_cast<uint8_t>(e.raw[2]) & 0x01) != 0,
               "CONNACK with a non-zero code has Session Present 1: {}", Hex(e.raw));
}

asio::awaitable<void> RefusedConnackCloses(T& t) {
  auto c = co_await t.Open();
  if (!c) co_return;
  c->SendRaw(RawConnect("MQTT", t.v5() ? 6 : 2, 0x02, Payload(t.Id()), nullptr, t.v5()));
  Event e = co_await c->Await([](const Event& ev) { return IsConnackRaw(ev); }, t.wait());
  if (e.kind == Event::Kind::kClosed) {
    t.Skip(
        "the server closed the connection without a CONNACK, so the rule has nothing to "
        "apply to");
    co_return;
  }
  SIMQ_FAIL_IF(!IsConnackRaw(e), "CONNECT with an unsupported protocol level: got {}",
               e.Describe());
  co_await t.ExpectClosed(*c, "after CONNACK " + Hex(e.raw));
}

asio::awaitable<void> ConnackCodesFromTable(T& t) {
  // Provoke several CONNACKs and check each reason code is one CONNACK may carry.
  std::vector<std::string> connects;
  std::vector<std::string> whats;
  connects.push_back(EncodeConnect(t.Spec()));
  whats.push_back("a valid CONNECT");
  connects.push_back(RawConnect("MQTT", 6, 0x02, Payload(t.Id()), nullptr, true));
  whats.push_back("protocol level 6");
  ConnectSpec auth = t.Spec();
  auth.auth_method = kUnknownMethod;
  connects.push_back(EncodeConnect(auth));
  whats.push_back("an unknown Authentication Method");
  connects.push_back(RawConnectFor(kV5, 0x03, Payload(t.Id())));
  whats.push_back("the reserved connect flag");
  ConnectSpec zero_rm = t.Spec();
  zero_rm.receive_maximum = 0;  // a Protocol Error
  connects.push_back(EncodeConnect(zero_rm));
  whats.push_back("Receive Maximum 0");
  for (size_t i = 0; i < connects.size(); ++i) {
    auto c = co_await t.Open();
    if (!c) co_return;
    c->SendRaw(connects[i]);
    Event e = co_await c->Await([](const Event& ev) { return IsConnackRaw(ev); }, t.wait());
    if (!IsConnackRaw(e)) continue;
    SIMQ_FAIL_IF(e.kind == Event::Kind::kBadPacket,
                 "CONNECT with {}: the CONNACK does not decode ({}): {}", whats[i],
                 std::string(e.error.message()), Hex(e.raw));
    const auto code = static_cast<ReasonCode>(ConnackCodeByte(e));
    SIMQ_FAIL_IF(!In(ConnackCodes(), code),
                 "CONNECT with {}: CONNACK reason code {} is not a Connect Reason Code", whats[i],
                 CodeName(code));
  }
}

// ---- Keep alive ----

asio::awaitable<void> KeepAliveTimeout(T& t) {
  ConnectSpec spec = t.Spec();
  spec.keep_alive = 1;
  auto c = co_await t.Connect(spec);
  if (!c) co_return;
  const uint16_t ka = t.v5() ? Props(*c).server_keep_alive.value_or(1) : 1;
  if (ka == 0 || ka > 4) {
    t.Skip(fmt::format("the server set Server Keep Alive {}; too long to wait for", ka));
    co_return;
  }
  const auto start = std::chrono::steady_clock::now();
  std::vector<Event> got;
  const Ms limit(ka * 1500 + 1500);
  const bool closed = co_await c->WaitClosed(limit, &got);
  const auto elapsed =
      std::chrono::duration_cast<Ms>(std::chrono::steady_clock::now() - start).count();
  SIMQ_FAIL_IF(!closed,
               "Keep Alive {} s and no packet from the client: still connected after {} ms", ka,
               elapsed);
  SIMQ_FAIL_IF(elapsed < ka * 1000 - 150,
               "Keep Alive {} s: the server closed the connection after only {} ms", ka, elapsed);
  for (const Event& e : got) {
    const auto* d = e.get<DisconnectPacket>();
    SIMQ_FAIL_IF(d == nullptr || !t.v5(), "before closing the idle connection the server sent {}",
                 e.Describe());
    SIMQ_FAIL_IF(d->reason_code != ReasonCode::kKeepAliveTimeout,
                 "keep alive expiry: DISCONNECT {}, expected 0x8D (Keep Alive timeout)",
                 CodeName(d->reason_code));
  }
}

asio::awaitable<void> UsesClientKeepAlive(T& t) {
  ConnectSpec spec = t.Spec();
  spec.keep_alive = 2;
  auto c = co_await t.Connect(spec);
  if (!c) co_return;
  if (Props(*c).server_keep_alive) {
    t.Skip(fmt::format("the server sent Server Keep Alive {}, so it does not use the client's",
                       *Props(*c).server_keep_alive));
    co_return;
  }
  // Activity every second keeps a 2 s keep alive alive for 5 s...
  for (int i = 0; i < 5; ++i) {
    co_await t.Sleep(Ms(1000));
    if (!co_await t.Ping(*c)) co_return;
  }
  // ...and silence ends it within one and a half times 2 s.
  std::vector<Event> got;
  const bool closed = co_await c->WaitClosed(Ms(3000 + 1500), &got);
  SIMQ_FAIL_IF(!closed, "Keep Alive 2 s: still connected 4.5 s after the last PINGREQ");
}

// ---- CONNACK properties ----

asio::awaitable<void> MaximumQoSAdvertised(T& t) {
  auto c = co_await t.Connect(t.Spec());
  if (!c) co_return;
  const uint8_t max = Props(*c).maximum_qos.value_or(2);
  const std::string topic = t.Topic("q");
  for (uint8_t q = 1; q <= max; ++q) {
    auto code = co_await t.Publish(*c, Pub(topic, "qos", static_cast<QoS>(q)));
    if (!code) co_return;
    SIMQ_FAIL_IF(protocol::IsError(*code),
                 "the server advertised Maximum QoS {} (absent means 2) but refused a QoS {} "
                 "PUBLISH with {}",
                 max, q, CodeName(*code));
  }
}

asio::awaitable<void> AcceptsSubscribeAtAnyQoS(T& t) {
  auto c = co_await t.Connect(t.Spec());
  if (!c) co_return;
  const uint8_t max = Props(*c).maximum_qos.value_or(2);
  SubSpec s;
  for (int q = 0; q <= 2; ++q) {
    s.filters.emplace_back(t.Topic("f" + std::to_string(q)), SubOpts(static_cast<QoS>(q)));
  }
  auto codes = co_await t.Subscribe(*c, s, /*expect_success=*/true);
  if (!codes) co_return;
  for (int q = 0; q <= 2; ++q) {
    SIMQ_FAIL_IF(static_cast<uint8_t>((*codes)[q]) > max,
                 "SUBSCRIBE at QoS {}: granted {} above the advertised Maximum QoS {}", q,
                 static_cast<int>((*codes)[q]), max);
  }
}

asio::awaitable<void> PublishAboveMaximumQoS(T& t) {
  if (t.caps().max_qos == 2) {
    t.Skip("the server supports QoS 2 (no Maximum QoS in CONNACK)");
    co_return;
  }
  auto c = co_await t.Connect(t.Spec());
  if (!c) co_return;
  const auto qos = static_cast<QoS>(t.caps().max_qos + 1);
  PubSpec p = Pub(t.Topic("q"), "too high", qos);
  p.packet_id = 1;
  c->SendRaw(EncodePublish(p, kV5));
  co_await t.ExpectClosedWith(*c,
                              fmt::format("PUBLISH at QoS {} above Maximum QoS {}",
                                          static_cast<int>(qos), t.caps().max_qos),
                              std::vector<ReasonCode>(1, ReasonCode::kQoSNotSupported));
}

asio::awaitable<void> WillQoSAboveMaximum(T& t) {
  if (t.caps().max_qos == 2) {
    t.Skip("the server supports QoS 2 (no Maximum QoS in CONNACK)");
    co_return;
  }
  ConnectSpec spec = t.Spec();
  WillSpec w;
  w.topic = t.Topic("will");
  w.qos = static_cast<QoS>(t.caps().max_qos + 1);
  spec.will = w;
  co_await SendAndExpectRefused(t, EncodeConnect(spec), "CONNECT with a Will QoS above Maximum QoS",
                                std::vector<uint8_t>(1, 0x9B));
}

asio::awaitable<void> WillRetainWithoutRetainSupport(T& t) {
  if (t.caps().retain_available) {
    t.Skip("the server supports retained messages");
    co_return;
  }
  ConnectSpec spec = t.Spec();
  WillSpec w;
  w.topic = t.Topic("will");
  w.retain = true;
  spec.will = w;
  co_await SendAndExpectRefused(t, EncodeConnect(spec),
                                "CONNECT with Will Retain 1 to a server without retained messages",
                                std::vector<uint8_t>(1, 0x9A));
}

asio::awaitable<void> RetainWithoutRetainSupport(T& t) {
  if (t.caps().retain_available) {
    t.Skip("the server supports retained messages");
    co_return;
  }
  auto c = co_await t.Connect(t.Spec());
  if (!c) co_return;
  c->SendRaw(EncodePublish(Pub(t.Topic("r"), "retained", kQoS0, true), kV5));
  co_await t.ExpectClosedWith(*c, "retained PUBLISH to a server with Retain Available 0",
                              std::vector<ReasonCode>(1, ReasonCode::kRetainNotSupported));
}

asio::awaitable<void> PacketAboveServerMaximum(T& t) {
  auto c = co_await t.Connect(t.Spec());
  if (!c) co_return;
  const auto max = Props(*c).maximum_packet_size;
  if (!max || *max > 16 * 1024 * 1024) {
    t.Skip(max ? fmt::format("the server's Maximum Packet Size {} is too large to exceed", *max)
               : "the server sets no Maximum Packet Size");
    co_return;
  }
  // Topic 'x' (3 bytes), no packet id, empty properties (1): 2 + 3 + 1 + payload.
  const size_t body = *max;  // header of at least 2 bytes makes the packet max + 2 or more
  PubSpec p = Pub(t.Topic("big"), std::string(body - t.Topic("big").size() - 3, 'b'));
  const std::string bytes = EncodePublish(p, kV5);
  c->SendRaw(bytes);
  co_await t.ExpectClosedWith(
      *c,
      fmt::format("PUBLISH of {} bytes to a server with Maximum Packet Size {}", bytes.size(),
                  *max),
      std::vector<ReasonCode>(1, ReasonCode::kPacketTooLarge));
}

asio::awaitable<void> TopicAliasAboveMaximum(T& t) {
  auto c = co_await t.Connect(t.Spec());
  if (!c) co_return;
  const uint16_t tam = Props(*c).topic_alias_maximum.value_or(0);
  if (tam == 0 || tam == 65535) {
    t.Skip(tam == 0 ? "the server accepts no Topic Aliases (see MQTT-3.2.2-18)"
                    : "Topic Alias Maximum 65535 cannot be exceeded");
    co_return;
  }
  PubSpec p = Pub(t.Topic("a"), "alias");
  p.topic_alias = static_cast<uint16_t>(tam + 1);
  c->SendRaw(EncodePublish(p, kV5));
  co_await t.ExpectClosedWith(
      *c, fmt::format("Topic Alias {} above Topic Alias Maximum {}", tam + 1, tam),
      std::vector<ReasonCode>(1, ReasonCode::kTopicAliasInvalid));
}

asio::awaitable<void> TopicAliasAboveMaximum65535(T& t) {
  auto c = co_await t.Connect(t.Spec());
  if (!c) co_return;
  const uint16_t tam = Props(*c).topic_alias_maximum.value_or(0);
  if (tam == 65535) {
    t.Skip("Topic Alias Maximum 65535 cannot be exceeded");
    co_return;
  }
  PubSpec p = Pub(t.Topic("a"), "alias");
  p.topic_alias = 65535;
  c->SendRaw(EncodePublish(p, kV5));
  co_await t.ExpectClosedWith(*c, fmt::format("Topic Alias 65535 with Topic Alias Maximum {}", tam),
                              std::vector<ReasonCode>(1, ReasonCode::kTopicAliasInvalid));
}

asio::awaitable<void> TopicAliasWhenMaximumZero(T& t) {
  auto c = co_await t.Connect(t.Spec());
  if (!c) co_return;
  if (Props(*c).topic_alias_maximum.value_or(0) != 0) {
    t.Skip(fmt::format("the server accepts Topic Aliases (Topic Alias Maximum {})",
                       *Props(*c).topic_alias_maximum));
    co_return;
  }
  PubSpec p = Pub(t.Topic("a"), "alias");
  p.topic_alias = 1;
  c->SendRaw(EncodePublish(p, kV5));
  co_await t.ExpectClosedWith(*c, "Topic Alias 1 to a server without Topic Alias Maximum",
                              std::vector<ReasonCode>(1, ReasonCode::kTopicAliasInvalid));
}

// CONNACK, Reason String / User Property and the client's Maximum Packet Size.
asio::awaitable<void> ConnackWithinMaximumPacketSize(T& t, bool user_property) {
  ConnectSpec spec = t.Spec();
  spec.auth_method = kUnknownMethod;  // provokes a refusal, which may carry diagnostics
  spec.max_packet_size = 8;
  spec.request_problem_info = 1;
  auto c = co_await t.Open();
  if (!c) co_return;
  c->SendRaw(EncodeConnect(spec));
  std::vector<Event> got;
  co_await c->WaitClosed(t.wait(), &got);
  for (const Event& e : got) {
    if (!IsConnackRaw(e)) continue;
    if (e.raw.size() <= 8) continue;
    const auto* connack = e.get<ConnackPacket>();
    const bool has =
        connack != nullptr && (user_property ? !connack->properties.user_properties.empty()
                                             : connack->properties.reason_string.has_value());
    SIMQ_FAIL_IF(has,
                 "client Maximum Packet Size 8: the CONNACK is {} bytes because of its {} "
                 "({})",
                 e.raw.size(), user_property ? "User Property" : "Reason String", Hex(e.raw));
    SIMQ_FAIL_IF(true,
                 "client Maximum Packet Size 8: CONNACK of {} bytes exceeds it "
                 "(MQTT-3.1.2-24): {}",
                 e.raw.size(), Hex(e.raw));
  }
}

asio::awaitable<void> NoResponseInformationUnlessRequested(T& t) {
  for (int variant = 0; variant < 2; ++variant) {
    ConnectSpec spec = t.Spec();
    if (variant == 1) spec.request_response_info = 0;
    auto c = co_await t.Connect(spec);
    if (!c) co_return;
    SIMQ_FAIL_IF(Props(*c).response_information.has_value(),
                 "CONNECT with Request Response Information {}: CONNACK has Response "
                 "Information '{}'",
                 variant == 0 ? "absent" : "0", *Props(*c).response_information);
  }
}

// Request Problem Information 0: no Reason String or User Property on anything but PUBLISH,
// CONNACK and DISCONNECT, even where the server explains itself otherwise (a refused PUBLISH to
// $SYS, an UNSUBSCRIBE of a filter never subscribed).
asio::awaitable<void> NoProblemInformationUnlessRequested(T& t) {
  ConnectSpec spec = t.Spec();
  spec.request_problem_info = 0;
  auto c = co_await t.Connect(spec);
  if (!c) co_return;
  PubSpec pub = Pub("$SYS/simq-conformance/" + t.Id("p"), "x", kQoS1);
  pub.packet_id = 1;
  c->SendRaw(EncodePublish(pub, kV5));
  auto puback = co_await t.Expect<PubackPacket>(*c, "PUBACK");
  if (!puback) co_return;
  const Properties& pp = puback->get<PubackPacket>()->properties;
  SIMQ_FAIL_IF(pp.reason_string || !pp.user_properties.empty(),
               "Request Problem Information 0, QoS 1 PUBLISH to $SYS: PUBACK {} carries a "
               "Reason String '{}' or {} User Properties",
               CodeName(puback->get<PubackPacket>()->reason_code), pp.reason_string.value_or(""),
               pp.user_properties.size());
  c->SendRaw(EncodeUnsubscribe(std::vector<std::string>(1, t.Topic("never")), 2, kV5));
  auto unsuback = co_await t.Expect<UnsubackPacket>(*c, "UNSUBACK");
  if (!unsuback) co_return;
  const Properties& up = unsuback->get<UnsubackPacket>()->properties;
  SIMQ_FAIL_IF(up.reason_string || !up.user_properties.empty(),
               "Request Problem Information 0, UNSUBSCRIBE of a filter never subscribed: UNSUBACK "
               "carries a Reason String '{}' or {} User Properties",
               up.reason_string.value_or(""), up.user_properties.size());
}

// ---- Enhanced authentication, as a black box ----

asio::awaitable<void> UnknownAuthMethodRefused(T& t) {
  ConnectSpec spec = t.Spec();
  spec.auth_method = kUnknownMethod;
  spec.auth_data = "data";
  std::vector<uint8_t> codes;
  codes.push_back(0x8C);
  codes.push_back(0x87);
  co_await SendAndExpectRefused(t, EncodeConnect(spec),
                                "CONNECT with an unknown Authentication Method", codes);
}

asio::awaitable<void> RejectedAuthenticationCloses(T& t) {
  ConnectSpec spec = t.Spec();
  spec.auth_method = kUnknownMethod;
  protocol::AuthPacket auth;
  auth.reason_code = ReasonCode::kContinueAuthentication;
  auth.properties.authentication_method = kUnknownMethod;
  auth.properties.authentication_data = "more";
  co_await SendAndExpectRefused(t, EncodeConnect(spec) + protocol::EncodeToString(auth, kV5),
                                "CONNECT with an unknown Authentication Method, then AUTH 0x18");
}

asio::awaitable<void> AuthMethodInSuccessfulConnack(T& t) {
  ConnectSpec spec = t.Spec();
  spec.auth_method = kUnknownMethod;
  auto c = co_await t.Open();
  if (!c) co_return;
  Event e = co_await t.ConnectRaw(*c, spec);
  if (!e.is_packet() || ConnackCodeByte(e) != 0) {
    t.Skip("the server refused the Authentication Method (no successful CONNACK to check)");
    co_return;
  }
  const auto* connack = e.get<ConnackPacket>();
  SIMQ_FAIL_IF(connack->properties.authentication_method != std::string_view(kUnknownMethod),
               "successful CONNACK after CONNECT with Authentication Method '{}' carries "
               "Authentication Method '{}'",
               kUnknownMethod, connack->properties.authentication_method.value_or("(none)"));
}

asio::awaitable<void> NoAuthWithoutMethod(T& t) {
  auto c = co_await t.Connect(t.Spec());
  if (!c) co_return;
  SIMQ_FAIL_IF(Props(*c).authentication_method.has_value(),
               "CONNECT without Authentication Method: CONNACK has Authentication Method '{}'",
               *Props(*c).authentication_method);
  if (!co_await t.Ping(*c)) co_return;
  Event e =
      co_await c->Await([](const Event& ev) { return IsPacket(ev, PacketType::kAuth); }, t.quiet());
  SIMQ_FAIL_IF(e.is_packet(), "CONNECT without Authentication Method: the server sent {}",
               e.Describe());
}

asio::awaitable<void> AuthWithoutMethodIsProtocolError(T& t) {
  auto c = co_await t.Connect(t.Spec());
  if (!c) co_return;
  protocol::AuthPacket auth;
  auth.reason_code = ReasonCode::kReAuthenticate;
  auth.properties.authentication_method = "SCRAM-SHA-1";
  c->Send(auth);
  co_await t.ExpectClosedWith(*c, "AUTH on a connection whose CONNECT had no Authentication Method",
                              std::vector<ReasonCode>(1, ReasonCode::kProtocolError));
}

asio::awaitable<void> AuthReservedFlags(T& t) {
  auto c = co_await t.Connect(t.Spec());
  if (!c) co_return;
  RawPacket p;
  p.U8(0x19).VarInt(0);
  c->SendRaw(p.Build(0xF1));
  std::vector<ReasonCode> codes;
  codes.push_back(ReasonCode::kMalformedPacket);
  codes.push_back(ReasonCode::kProtocolError);
  co_await t.ExpectClosedWith(*c, "AUTH with fixed header flags 0001", codes);
}

asio::awaitable<void> NoDisconnectBeforeConnack(T& t) {
  std::vector<std::string> connects;
  connects.push_back(RawConnect("MQTT", 6, 0x02, Payload(t.Id()), nullptr, true));
  connects.push_back(RawConnectFor(kV5, 0x03, Payload(t.Id())));
  ConnectSpec auth = t.Spec();
  auth.auth_method = kUnknownMethod;
  connects.push_back(EncodeConnect(auth));
  for (const std::string& connect : connects) {
    auto c = co_await t.Open();
    if (!c) co_return;
    c->SendRaw(connect);
    std::vector<Event> got;
    co_await c->WaitClosed(t.wait(), &got);
    for (const Event& e : got) {
      SIMQ_FAIL_IF(IsPacket(e, PacketType::kDisconnect),
                   "refused CONNECT {}: the server sent {} without a successful CONNACK",
                   Hex(connect, 16), e.Describe());
    }
  }
}

asio::awaitable<void> TakeoverDisconnectsOldConnection(T& t) {
  ConnectSpec spec = t.Spec("take");
  auto first = co_await t.Connect(spec);
  if (!first) co_return;
  auto second = co_await t.Connect(spec);
  if (!second) co_return;
  if (t.v5()) {
    co_await t.ExpectClosedWith(*first, "the client identifier connected again",
                                std::vector<ReasonCode>(1, ReasonCode::kSessionTakenOver));
  } else {
    co_await t.ExpectClosedWith(*first, "the client identifier connected again",
                                std::vector<ReasonCode>());
  }
  if (t.failed()) co_return;
  if (!co_await t.Ping(*second)) co_return;
}

}  // namespace

void RegisterConnectTests(Registry& r) {
  // MQTT 5.0
  r.Add(kV5, "MQTT-3.1.0-1", "ClosesWhenFirstPacketIsNotConnect", FirstPacketMustBeConnect);
  r.Add(kV5, "MQTT-3.1.0-2", "SecondConnectIsProtocolError", SecondConnectIsProtocolError);
  r.Add(kV5, "MQTT-3.1.2-1", "RefusesProtocolNameOtherThanMqtt", ProtocolNameNotMqtt);
  r.Add(kV5, "MQTT-3.1.2-2", "RefusesUnsupportedProtocolVersion", UnsupportedProtocolLevel);
  r.Add(kV5, "MQTT-3.1.2-3", "RefusesReservedConnectFlag", ReservedFlag);
  r.Add(kV5, "MQTT-3.1.2-9", "RefusesWillFlagWithoutWillFields", WillFlagWithoutWillFields);
  r.Add(kV5, "MQTT-3.1.2-11", "RefusesWillQoSWithoutWillFlag", WillQoS1WithoutWillFlag);
  r.Add(kV5, "MQTT-3.1.2-12", "RefusesWillQoS3", WillQoS3);
  r.Add(kV5, "MQTT-3.1.2-13", "RefusesWillRetainWithoutWillFlag", WillRetainWithoutWillFlag);
  r.Add(kV5, "MQTT-3.1.2-16", "RefusesUserNameWithoutFlag", UserNameWithoutFlag);
  r.Add(kV5, "MQTT-3.1.2-17", "RefusesUserNameFlagWithoutUserName", UserNameFlagWithoutUserName);
  r.Add(kV5, "MQTT-3.1.2-18", "RefusesPasswordWithoutFlag", PasswordWithoutFlag);
  r.Add(kV5, "MQTT-3.1.2-19", "RefusesPasswordFlagWithoutPassword", PasswordFlagWithoutPassword);
  r.Add(kV5, "MQTT-3.1.2-22", "ClosesAfterOneAndAHalfKeepAlive", KeepAliveTimeout);
  r.Add(kV5, "MQTT-3.1.2-28", "NoResponseInformationUnlessRequested",
        NoResponseInformationUnlessRequested);
  r.Add(kV5, "MQTT-3.1.2-29", "NoReasonStringOrUserPropertyWhenProblemInfoIs0",
        NoProblemInformationUnlessRequested);
  r.Add(kV5, "MQTT-3.1.3-3", "RefusesConnectWithoutClientId", ClientIdMissing);
  r.Add(kV5, "MQTT-3.1.3-4", "RefusesClientIdNotUtf8", ClientIdNotUtf8);
  r.Add(kV5, "MQTT-3.1.3-5", "AllowsAlphanumericClientIdsUpTo23", AllowsShortAlphanumericIds);
  r.Add(kV5, "MQTT-3.1.3-6", "AssignsUniqueIdsToEmptyClientIds", EmptyClientIdsGetUniqueIds);
  r.Add(kV5, "MQTT-3.1.3-7", "ProcessesEmptyClientIdAsAssignedId",
        EmptyClientIdProcessedAsAssigned);
  r.Add(kV5, "MQTT-3.1.3-8", "ClosesAfterRejectingClientId", RejectedClientIdCloses);
  r.Add(kV5, "MQTT-3.1.3-11", "RefusesWillTopicNotUtf8", WillTopicNotUtf8);
  r.Add(kV5, "MQTT-3.1.3-12", "RefusesUserNameNotUtf8", UserNameNotUtf8);
  r.Add(kV5, "MQTT-3.1.4-1", "ClosesOnMalformedConnect", MalformedConnect);
  r.Add(kV5, "MQTT-3.1.4-2", "ClosesAfterFailedConnectCheck", FailedConnectCheckCloses);
  r.Add(kV5, "MQTT-3.1.4-3", "TakeoverSendsDisconnect0x8EAndCloses",
        TakeoverDisconnectsOldConnection);
  r.Add(kV5, "MQTT-3.1.4-5", "AcknowledgesConnectWithSuccess", AcceptsWithSuccess);
  r.Add(kV5, "MQTT-3.1.4-6", "IgnoresDataAfterRejectedConnect", RejectedConnectDataIgnored);
  r.Add(kV5, "MQTT-3.2.0-1", "SendsConnackBeforeOtherPackets", ConnackBeforeAnythingElse);
  r.Add(kV5, "MQTT-3.2.0-2", "SendsOnlyOneConnack", OnlyOneConnack);
  r.Add(kV5, "MQTT-3.2.2-1", "ConnackReservedFlagsAreZero", ConnackReservedFlagsZero);
  r.Add(kV5, "MQTT-3.2.2-6", "RefusingConnackHasSessionPresent0", RefusedConnackSessionPresent0);
  r.Add(kV5, "MQTT-3.2.2-7", "ClosesAfterRefusingConnack", RefusedConnackCloses);
  r.Add(kV5, "MQTT-3.2.2-8", "UsesConnectReasonCodes", ConnackCodesFromTable);
  r.Add(kV5, "MQTT-3.2.2-9", "AcceptsEveryQoSUpToAdvertisedMaximum", MaximumQoSAdvertised);
  r.Add(kV5, "MQTT-3.2.2-10", "AcceptsSubscribeAtEveryQoS", AcceptsSubscribeAtAnyQoS);
  r.Add(kV5, "MQTT-3.2.2-11", "RefusesPublishAboveMaximumQoSWith0x9B", PublishAboveMaximumQoS);
  r.Add(kV5, "MQTT-3.2.2-12", "RefusesWillQoSAboveMaximumQoS", WillQoSAboveMaximum);
  r.Add(kV5, "MQTT-3.2.2-13", "RefusesWillRetainWithoutRetainSupport",
        WillRetainWithoutRetainSupport);
  r.Add(kV5, "MQTT-3.2.2-14", "RefusesRetainWithoutRetainSupportWith0x9A",
        RetainWithoutRetainSupport);
  r.Add(kV5, "MQTT-3.2.2-15", "RefusesPacketAboveMaximumPacketSizeWith0x95",
        PacketAboveServerMaximum);
  r.Add(kV5, "MQTT-3.2.2-17", "RefusesTopicAliasAboveMaximumWith0x94", TopicAliasAboveMaximum);
  r.Add(kV5, "MQTT-3.2.2-18", "RefusesTopicAliasWhenMaximumIsZero", TopicAliasWhenMaximumZero);
  r.Add(kV5, "MQTT-3.2.2-19", "ConnackReasonStringFitsClientMaximumPacketSize",
        [](T& t) { return ConnackWithinMaximumPacketSize(t, false); });
  r.Add(kV5, "MQTT-3.2.2-20", "ConnackUserPropertyFitsClientMaximumPacketSize",
        [](T& t) { return ConnackWithinMaximumPacketSize(t, true); });
  r.Add(kV5, "MQTT-3.2.2-16", "AssignedClientIdIsNotInUse", AssignedClientIdIsNew);
  r.Add(kV5, "MQTT-3.2.2-22", "UsesClientKeepAliveWithoutServerKeepAlive", UsesClientKeepAlive);
  r.Add(kV5, "MQTT-3.3.2-9", "RefusesTopicAlias65535AboveMaximum", TopicAliasAboveMaximum65535);
  r.Add(kV5, "MQTT-3.14.0-1", "NoDisconnectBeforeSuccessfulConnack", NoDisconnectBeforeConnack);
  r.Add(kV5, "MQTT-3.15.1-1", "ClosesOnAuthWithReservedFlags", AuthReservedFlags);
  r.Add(kV5, "MQTT-4.12.0-1", "RefusesUnknownAuthenticationMethod", UnknownAuthMethodRefused);
  r.Add(kV5, "MQTT-4.12.0-4", "ClosesAfterRejectingAuthentication", RejectedAuthenticationCloses);
  r.Add(kV5, "MQTT-4.12.0-5", "SuccessfulConnackCarriesAuthenticationMethod",
        AuthMethodInSuccessfulConnack);
  r.Add(kV5, "MQTT-4.12.0-6", "NoAuthWithoutAuthenticationMethod", NoAuthWithoutMethod);
  r.Add(kV5, "MQTT-4.12.0-7", "AuthWithoutAuthenticationMethodIsProtocolError",
        AuthWithoutMethodIsProtocolError);

  // MQTT 3.1.1
  r.Add(kV311, "MQTT-3.1.0-1", "ClosesWhenFirstPacketIsNotConnect", FirstPacketMustBeConnect);
  r.Add(kV311, "MQTT-3.1.0-2", "SecondConnectIsProtocolViolation", SecondConnectIsProtocolError);
  r.Add(kV311, "MQTT-3.1.2-1", "DoesNotProceedWithProtocolNameOtherThanMqtt", ProtocolNameNotMqtt);
  r.Add(kV311, "MQTT-3.1.2-2", "AnswersUnsupportedLevelWithReturnCode1", UnsupportedProtocolLevel);
  r.Add(kV311, "MQTT-3.1.2-3", "RefusesReservedConnectFlag", ReservedFlag);
  r.Add(kV311, "MQTT-3.1.2-9", "RefusesWillFlagWithoutWillFields", WillFlagWithoutWillFields);
  r.Add(kV311, "MQTT-3.1.2-11", "RefusesWillQoSWithoutWillFlag", WillQoS1WithoutWillFlag);
  r.Add(kV311, "MQTT-3.1.2-13", "RefusesWillQoS2WithoutWillFlag", WillQoS2WithoutWillFlag);
  r.Add(kV311, "MQTT-3.1.2-14", "RefusesWillQoS3", WillQoS3);
  r.Add(kV311, "MQTT-3.1.2-15", "RefusesWillRetainWithoutWillFlag", WillRetainWithoutWillFlag);
  r.Add(kV311, "MQTT-3.1.2-18", "RefusesUserNameWithoutFlag", UserNameWithoutFlag);
  r.Add(kV311, "MQTT-3.1.2-19", "RefusesUserNameFlagWithoutUserName", UserNameFlagWithoutUserName);
  r.Add(kV311, "MQTT-3.1.2-20", "RefusesPasswordWithoutFlag", PasswordWithoutFlag);
  r.Add(kV311, "MQTT-3.1.2-21", "RefusesPasswordFlagWithoutPassword", PasswordFlagWithoutPassword);
  r.Add(kV311, "MQTT-3.1.2-22", "RefusesPasswordWithoutUserName", PasswordWithoutUserName311);
  r.Add(kV311, "MQTT-3.1.2-24", "ClosesAfterOneAndAHalfKeepAlive", KeepAliveTimeout);
  r.Add(kV311, "MQTT-3.1.3-3", "RefusesConnectWithoutClientId", ClientIdMissing);
  r.Add(kV311, "MQTT-3.1.3-4", "RefusesClientIdNotUtf8", ClientIdNotUtf8);
  r.Add(kV311, "MQTT-3.1.3-5", "AllowsAlphanumericClientIdsUpTo23", AllowsShortAlphanumericIds);
  r.Add(kV311, "MQTT-3.1.3-6", "AssignsUniqueIdsToEmptyClientIds", EmptyClientIdsGetUniqueIds);
  r.Add(kV311, "MQTT-3.1.3-8", "RefusesEmptyClientIdWithCleanSession0",
        EmptyClientIdWithCleanSession0);
  r.Add(kV311, "MQTT-3.1.3-9", "RejectsClientIdWithReturnCode2", RejectedClientIdCloses);
  r.Add(kV311, "MQTT-3.1.3-10", "RefusesWillTopicNotUtf8", WillTopicNotUtf8);
  r.Add(kV311, "MQTT-3.1.3-11", "RefusesUserNameNotUtf8", UserNameNotUtf8);
  r.Add(kV311, "MQTT-3.1.4-1", "ClosesWithoutConnackOnMalformedConnect", MalformedConnect);
  r.Add(kV311, "MQTT-3.1.4-2", "DisconnectsExistingClientOnTakeover",
        TakeoverDisconnectsOldConnection);
  r.Add(kV311, "MQTT-3.1.4-4", "AcknowledgesConnectWithReturnCode0", AcceptsWithSuccess);
  r.Add(kV311, "MQTT-3.1.4-5", "IgnoresDataAfterRejectedConnect", RejectedConnectDataIgnored);
  r.Add(kV311, "MQTT-3.2.0-1", "SendsConnackFirst", ConnackBeforeAnythingElse);
  r.Add(kV311, "MQTT-3.2.2-4", "RefusingConnackHasSessionPresent0", RefusedConnackSessionPresent0);
  r.Add(kV311, "MQTT-3.2.2-5", "ClosesAfterRefusingConnack", RefusedConnackCloses);
  r.Add(kV311, "MQTT-3.2.2-6", "ClosesWithoutConnackWhenNoReturnCodeApplies",
        NoApplicableReturnCode311);
}

}  // namespace simq::conformance
