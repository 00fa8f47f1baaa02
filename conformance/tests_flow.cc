// Flow control (Receive Maximum in both directions) and the client's Maximum Packet Size.

#include "conformance/tests_util.h"

namespace simq::conformance {
namespace {

// A subscriber with Receive Maximum `rm` (auto_ack off) and a publisher that has sent `count`
// messages at `qos`.
struct Flow {
  std::unique_ptr<Conn> sub;
  std::unique_ptr<Conn> pub;
  std::string topic;
};

asio::awaitable<std::optional<Flow>> StartFlow(T& t, uint16_t rm, QoS qos, int count) {
  Flow f;
  f.topic = t.Topic("flow");
  ConnectSpec spec = t.Spec("sub");
  spec.receive_maximum = rm;
  f.sub = co_await t.Connect(spec);
  if (!f.sub) co_return std::nullopt;
  f.sub->set_auto_ack(false);
  if (!co_await t.Subscribe(*f.sub, f.topic, qos)) co_return std::nullopt;
  f.pub = co_await t.Connect(t.Spec("pub"));
  if (!f.pub) co_return std::nullopt;
  for (int i = 0; i < count; ++i) {
    if (!co_await t.Publish(*f.pub, Pub(f.topic, std::to_string(i), qos))) co_return std::nullopt;
  }
  co_return f;
}

asio::awaitable<void> ExceedingServerReceiveMaximum(T& t) {
  if (!t.NeedQoS(kQoS2)) co_return;
  auto c = co_await t.Connect(t.Spec());
  if (!c) co_return;
  const uint16_t rm = Props(*c).receive_maximum.value_or(65535);
  if (rm >= 65535) {
    t.Skip("the server's Receive Maximum is 65535, which 65535 Packet Identifiers cannot exceed");
    co_return;
  }
  if (rm > 20000) {
    t.Skip(fmt::format("the server's Receive Maximum {} is too large to exceed quickly", rm));
    co_return;
  }
  // Receive Maximum + 1 QoS 2 PUBLISHes, none completed (no PUBREL): the last one exceeds it.
  const std::string topic = t.Topic("rm");
  std::string bytes;
  for (uint32_t i = 1; i <= uint32_t{rm} + 1; ++i) {
    PubSpec s = Pub(topic, "q", kQoS2);
    s.packet_id = static_cast<uint16_t>(i);
    bytes += EncodePublish(s, kV5);
  }
  c->SendRaw(bytes);
  std::vector<Event> got;
  const bool closed = co_await c->WaitClosed(t.wait(), &got);
  std::optional<ReasonCode> disconnect;
  int pubrecs = 0;
  for (const Event& e : got) {
    if (const auto* d = e.get<DisconnectPacket>()) disconnect = d->reason_code;
    if (IsPacket(e, PacketType::kPubrec)) ++pubrecs;
  }
  SIMQ_FAIL_IF(!closed,
               "{} unacknowledged QoS 2 PUBLISHes to a server with Receive Maximum {}: the "
               "connection is still open ({} PUBRECs)",
               rm + 1, rm, pubrecs);
  SIMQ_FAIL_IF(disconnect != ReasonCode::kReceiveMaximumExceeded,
               "{} QoS 2 PUBLISHes to a server with Receive Maximum {}: closed {}; expected "
               "DISCONNECT 0x93 (Receive Maximum exceeded)",
               rm + 1, rm,
               disconnect ? "after DISCONNECT " + CodeName(*disconnect) : "without DISCONNECT");
}

asio::awaitable<void> RespectsClientReceiveMaximum(T& t) {
  auto f = co_await StartFlow(t, 2, kQoS1, 5);
  if (!f) co_return;
  std::vector<Msg> got;
  for (int i = 0; i < 2; ++i) {
    auto m = co_await t.ExpectPublishOn(*f->sub, f->topic);
    if (!m) co_return;
    got.push_back(std::move(*m));
  }
  if (!co_await t.ExpectNoPublish(*f->sub, {},
                                  "no third QoS 1 PUBLISH while 2 are unacknowledged (Receive "
                                  "Maximum 2)"))
    co_return;
  PubackPacket ack;
  ack.packet_id = got[0].packet_id;
  f->sub->Send(ack);
  auto third = co_await t.ExpectPublishOn(*f->sub, f->topic);
  if (!third) co_return;
  if (!co_await t.ExpectNoPublish(*f->sub, {},
                                  "exactly one more PUBLISH after one PUBACK (Receive Maximum 2)"))
    co_return;
  ack.packet_id = got[1].packet_id;
  f->sub->Send(ack);
  ack.packet_id = third->packet_id;
  f->sub->Send(ack);
  for (int i = 0; i < 2; ++i) {
    auto m = co_await t.ExpectPublishOn(*f->sub, f->topic);
    if (!m) co_return;
  }
}

asio::awaitable<void> OtherPacketsNotDelayed(T& t) {
  auto f = co_await StartFlow(t, 1, kQoS1, 3);
  if (!f) co_return;
  if (!co_await t.ExpectPublishOn(*f->sub, f->topic)) co_return;
  // Quota 0 now: everything else still flows.
  if (!co_await t.Ping(*f->sub)) co_return;
  if (!co_await t.Subscribe(*f->sub, t.Topic("other"), kQoS0)) co_return;
  if (!co_await t.Unsubscribe(*f->sub, std::vector<std::string>(1, t.Topic("other")))) co_return;
}

asio::awaitable<void> InitialQuotaWithinReceiveMaximum(T& t) {
  const QoS qos = t.caps().max_qos >= 2 ? kQoS2 : kQoS1;
  auto f = co_await StartFlow(t, 1, qos, 3);
  if (!f) co_return;
  if (!co_await t.ExpectPublishOn(*f->sub, f->topic)) co_return;  // the quota is not zero
  co_await t.ExpectNoPublish(*f->sub, {}, "no second PUBLISH with Receive Maximum 1");
}

asio::awaitable<void> PubrecDoesNotReplenishQuota(T& t) {
  if (!t.NeedQoS(kQoS2)) co_return;
  auto f = co_await StartFlow(t, 1, kQoS2, 2);
  if (!f) co_return;
  auto m = co_await t.ExpectPublishOn(*f->sub, f->topic);
  if (!m) co_return;
  PubrecPacket rec;
  rec.packet_id = m->packet_id;
  f->sub->Send(rec);
  if (!co_await t.Expect<PubrelPacket>(*f->sub, "PUBREL")) co_return;
  if (!co_await t.ExpectNoPublish(*f->sub, {},
                                  "no second QoS 2 PUBLISH before PUBCOMP (Receive Maximum 1)"))
    co_return;
  PubcompPacket comp;
  comp.packet_id = m->packet_id;
  f->sub->Send(comp);
  co_await t.ExpectPublishOn(*f->sub, f->topic);
}

asio::awaitable<void> ProcessesOtherPacketsAtZeroQuota(T& t) {
  auto f = co_await StartFlow(t, 1, kQoS1, 2);
  if (!f) co_return;
  if (!co_await t.ExpectPublishOn(*f->sub, f->topic)) co_return;
  // The subscriber's own publications and pings are answered while its quota is 0.
  if (!co_await t.Publish(*f->sub, Pub(t.Topic("mine"), "q1", kQoS1))) co_return;
  if (t.caps().max_qos >= 2 && !co_await t.Publish(*f->sub, Pub(t.Topic("mine"), "q2", kQoS2)))
    co_return;
  co_await t.Ping(*f->sub);
}

// ---- The client's Maximum Packet Size ----

asio::awaitable<void> RespectsClientMaximumPacketSize(T& t) {
  ConnectSpec spec = t.Spec("sub");
  spec.max_packet_size = 256;
  auto sub = co_await t.Connect(spec);
  if (!sub) co_return;
  const std::string topic = t.Topic("mps");
  if (!co_await t.Subscribe(*sub, topic, kQoS0)) co_return;
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, std::string(1000, 'L')))) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "small"))) co_return;
  auto m = co_await t.ExpectPublishOn(*sub, topic);
  if (!m) co_return;
  SIMQ_FAIL_IF(m->raw.size() > 256, "client Maximum Packet Size 256: received a {}-byte PUBLISH",
               m->raw.size());
  SIMQ_FAIL_IF(m->payload != "small", "expected only the small message, got {}", m->Describe());
}

asio::awaitable<void> DropsOversizedPacket(T& t) {
  ConnectSpec spec = t.Spec("sub");
  spec.max_packet_size = 256;
  spec.session_expiry = 30;
  auto sub = co_await t.Connect(spec);
  if (!sub) co_return;
  const std::string topic = t.Topic("big");
  if (!co_await t.Subscribe(*sub, topic, kQoS1)) co_return;
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, std::string(1000, 'L'), kQoS1))) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "after", kQoS1))) co_return;
  auto m = co_await t.ExpectPublishOn(*sub, topic);
  if (!m) co_return;
  SIMQ_FAIL_IF(m->payload != "after",
               "a 1000-byte QoS 1 message to a client with Maximum Packet Size 256: got {}",
               m->Describe());
  // Treated as delivered: not kept for a later connection either.
  sub->Drop();
  ConnectSpec again = spec;
  again.clean_start = false;
  auto c = co_await t.Connect(again);
  if (!c) co_return;
  SIMQ_FAIL_IF(!c->connack.session_present, "the session did not survive (Session Present 0)");
  if (!co_await t.ExpectNoPublish(*c, {},
                                  "no re-delivery of the discarded oversized message after "
                                  "reconnecting"))
    co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "later", kQoS1))) co_return;
  auto later = co_await t.ExpectPublishOn(*c, topic);
  if (!later) co_return;
  co_await t.EndSession(spec.client_id);
}

}  // namespace

void RegisterFlowTests(Registry& r) {
  r.Add(kV5, "MQTT-3.1.2-24", "NeverExceedsClientMaximumPacketSize",
        RespectsClientMaximumPacketSize);
  r.Add(kV5, "MQTT-3.1.2-25", "DropsOversizedPacket", DropsOversizedPacket);
  r.Add(kV5, "MQTT-3.3.4-7", "DisconnectsClientExceedingReceiveMaximumWith0x93",
        ExceedingServerReceiveMaximum);
  r.Add(kV5, "MQTT-3.3.4-9", "NeverExceedsClientReceiveMaximum", RespectsClientReceiveMaximum);
  r.Add(kV5, "MQTT-3.3.4-10", "DoesNotDelayOtherPacketsAtReceiveMaximum", OtherPacketsNotDelayed);
  r.Add(kV5, "MQTT-4.9.0-1", "InitialSendQuotaIsNonZeroWithinReceiveMaximum",
        InitialQuotaWithinReceiveMaximum);
  r.Add(kV5, "MQTT-4.9.0-2", "StopsQoSPublishesAtZeroQuota", PubrecDoesNotReplenishQuota);
  r.Add(kV5, "MQTT-4.9.0-3", "ProcessesOtherPacketsAtZeroQuota", ProcessesOtherPacketsAtZeroQuota);
}

}  // namespace simq::conformance
