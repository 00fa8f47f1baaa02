#include "conformance/harness.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <iostream>
#include <span>

#include "boost/asio/as_tuple.hpp"
#include "boost/asio/experimental/awaitable_operators.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "fmt/format.h"

#include "broker/protocol/encoder.h"

namespace simq::conformance {

using protocol::OwnedProperties;
using protocol::Properties;
using protocol::StringPair;

// ---- formatting ----

std::string CodeName(ReasonCode code) {
  return fmt::format("0x{:02X} ({})", static_cast<unsigned>(code), protocol::ReasonCodeName(code));
}

std::string CodeName(uint8_t code) {
  return CodeName(static_cast<ReasonCode>(code));
}

std::string Hex(std::string_view bytes, size_t max) {
  std::string out;
  for (size_t i = 0; i < bytes.size() && i < max; ++i) {
    if (i > 0) out += ' ';
    out += fmt::format("{:02X}", static_cast<uint8_t>(bytes[i]));
  }
  if (bytes.size() > max) out += fmt::format(" ... ({} bytes)", bytes.size());
  return out;
}

bool IsPacket(const Event& e, PacketType type) {
  return e.is_packet() && e.type() == type;
}

std::string Capabilities::Describe() const {
  if (!v5) return "server did not accept an MQTT 5 CONNECT";
  return fmt::format(
      "Maximum QoS {}, Retain Available {}, Wildcard Subscription Available {}, Subscription "
      "Identifiers Available {}, Shared Subscription Available {}, Receive Maximum {}, Maximum "
      "Packet Size {}, Topic Alias Maximum {}, Server Keep Alive {}",
      max_qos, retain_available, wildcard_subscriptions, subscription_identifiers,
      shared_subscriptions, receive_maximum,
      max_packet_size ? std::to_string(*max_packet_size) : "(none)", topic_alias_maximum,
      server_keep_alive ? std::to_string(*server_keep_alive) : "(none)");
}

namespace {

bool Tracing() {
  static const bool on = [] {
    const char* v = std::getenv("SIMQ_CONFORMANCE_TRACE");
    return v != nullptr && *v != '\0' && std::string_view(v) != "0";
  }();
  return on;
}

std::string DescribePacket(const client::OwnedPacket& p) {
  std::string s(protocol::PacketTypeName(p.type()));
  if (const auto* x = p.get<protocol::PublishPacket>()) {
    s += fmt::format(" qos={} retain={} dup={}", static_cast<int>(x->qos), x->retain, x->dup);
    if (x->qos != QoS::kAtMostOnce) s += fmt::format(" id={}", x->packet_id);
    s += fmt::format(" topic='{}'", x->topic);
    if (x->properties.topic_alias) s += fmt::format(" alias={}", *x->properties.topic_alias);
    s += fmt::format(" payload={}B", x->payload.size());
  } else if (const auto* x = p.get<protocol::ConnackPacket>()) {
    s += fmt::format(" session_present={} reason={}", x->session_present, CodeName(x->reason_code));
  } else if (const auto* x = p.get<protocol::DisconnectPacket>()) {
    s += " reason=" + CodeName(x->reason_code);
    if (x->properties.reason_string) s += fmt::format(" ('{}')", *x->properties.reason_string);
  } else if (const auto* x = p.get<protocol::PubackPacket>()) {
    s += fmt::format(" id={} reason={}", x->packet_id, CodeName(x->reason_code));
  } else if (const auto* x = p.get<protocol::PubrecPacket>()) {
    s += fmt::format(" id={} reason={}", x->packet_id, CodeName(x->reason_code));
  } else if (const auto* x = p.get<protocol::PubrelPacket>()) {
    s += fmt::format(" id={} reason={}", x->packet_id, CodeName(x->reason_code));
  } else if (const auto* x = p.get<protocol::PubcompPacket>()) {
    s += fmt::format(" id={} reason={}", x->packet_id, CodeName(x->reason_code));
  } else if (const auto* x = p.get<protocol::SubackPacket>()) {
    s += fmt::format(" id={} codes=[", x->packet_id);
    for (size_t i = 0; i < x->reason_codes.size(); ++i) {
      s += (i ? ", " : "") + fmt::format("0x{:02X}", static_cast<unsigned>(x->reason_codes[i]));
    }
    s += "]";
  } else if (const auto* x = p.get<protocol::UnsubackPacket>()) {
    s += fmt::format(" id={} codes=[", x->packet_id);
    for (size_t i = 0; i < x->reason_codes.size(); ++i) {
      s += (i ? ", " : "") + fmt::format("0x{:02X}", static_cast<unsigned>(x->reason_codes[i]));
    }
    s += "]";
  } else if (const auto* x = p.get<protocol::AuthPacket>()) {
    s += " reason=" + CodeName(x->reason_code);
  }
  return s;
}

}  // namespace

std::string Event::Describe() const {
  switch (kind) {
    case Kind::kPacket: return DescribePacket(packet);
    case Kind::kTimeout: return "nothing (" + std::string(error.message()) + ")";
    case Kind::kClosed: return "the connection closed";
    case Kind::kBadPacket:
      return fmt::format("a packet the client could not decode ({}): {}",
                         std::string(error.message()), Hex(raw));
  }
  return "?";
}

std::string Msg::Describe() const {
  return fmt::format("PUBLISH qos={} retain={} dup={} id={} topic='{}' payload='{}'",
                     static_cast<int>(qos), retain, dup, packet_id, topic,
                     payload.size() > 40 ? payload.substr(0, 40) + "..." : payload);
}

// ---- Conn ----

asio::awaitable<absl::StatusOr<std::unique_ptr<Conn>>> Conn::Open(asio::any_io_executor executor,
                                                                  const client::Endpoint& endpoint,
                                                                  ProtocolVersion version,
                                                                  Ms timeout) {
  absl::StatusOr<std::unique_ptr<client::Transport>> transport =
      co_await client::ConnectTransport(executor, endpoint, timeout);
  if (!transport.ok()) co_return transport.status();
  auto stream = client::PacketStream::Create(*std::move(transport));
  stream->set_version(version);
  co_return std::make_unique<Conn>(std::move(stream), version);
}

Conn::Conn(std::shared_ptr<client::PacketStream> stream, ProtocolVersion version)
    : stream_(std::move(stream)), version_(version) {}

Conn::~Conn() {
  stream_->Close();
}

void Conn::Send(const protocol::Packet& packet) {
  if (Tracing())
    SendRaw(protocol::EncodeToString(packet, version_));
  else
    stream_->Send(packet);
}

void Conn::SendRaw(std::string_view bytes) {
  if (Tracing()) std::cerr << fmt::format("[{} {}] > {}\n", label, client_id, Hex(bytes, 64));
  stream_->SendRaw(bytes);
}

void Conn::Drop() {
  stream_->Close();
  closed_ = true;
}

uint16_t Conn::NextPacketId() {
  if (++next_packet_id_ == 0) next_packet_id_ = 1;
  return next_packet_id_;
}

asio::awaitable<Event> Conn::Read(Ms timeout) {
  using namespace asio::experimental::awaitable_operators;
  Event e;
  if (closed_) {
    e.kind = Event::Kind::kClosed;
    co_return e;
  }
  asio::steady_timer timer(stream_->executor(), timeout);
  auto result =
      co_await (stream_->NextFrame() || timer.async_wait(asio::as_tuple(asio::use_awaitable)));
  if (result.index() == 1) {
    e.kind = Event::Kind::kTimeout;
    e.error = absl::DeadlineExceededError(fmt::format("within {} ms", timeout.count()));
    co_return e;
  }
  absl::StatusOr<protocol::Frame> frame = std::get<0>(std::move(result));
  if (!frame.ok()) {
    closed_ = true;
    if (absl::IsUnavailable(frame.status())) {
      e.kind = Event::Kind::kClosed;
    } else {
      // A framing error (Remaining Length): the stream cannot be resynchronised.
      e.kind = Event::Kind::kBadPacket;
      e.error = frame.status();
      stream_->Close();
    }
    co_return e;
  }
  e.raw.assign(frame->body.data() - frame->header.header_size, frame->header.total_size());
  absl::StatusOr<client::OwnedPacket> owned = client::OwnedPacket::Decode(*frame, version_);
  if (!owned.ok()) {
    e.kind = Event::Kind::kBadPacket;
    e.error = owned.status();
    co_return e;
  }
  e.kind = Event::Kind::kPacket;
  e.packet = *std::move(owned);
  if (const auto* p = e.packet.get<protocol::PublishPacket>()) {
    e.topic = std::string(p->topic);
    if (p->properties.topic_alias) {
      if (!p->topic.empty()) {
        inbound_aliases_[*p->properties.topic_alias] = e.topic;
      } else if (auto it = inbound_aliases_.find(*p->properties.topic_alias);
                 it != inbound_aliases_.end()) {
        e.topic = it->second;
      }
    }
    if (auto_ack_ && p->qos == QoS::kAtLeastOnce) {
      protocol::PubackPacket ack;
      ack.packet_id = p->packet_id;
      Send(ack);
    } else if (auto_ack_ && p->qos == QoS::kExactlyOnce) {
      protocol::PubrecPacket ack;
      ack.packet_id = p->packet_id;
      Send(ack);
    }
  } else if (const auto* rel = e.packet.get<protocol::PubrelPacket>()) {
    if (auto_ack_) {
      protocol::PubcompPacket comp;
      comp.packet_id = rel->packet_id;
      Send(comp);
    }
  }
  if (Tracing()) std::cerr << fmt::format("[{} {}] < {}\n", label, client_id, e.Describe());
  co_return e;
}

Msg Conn::ToMsg(const Event& e) {
  Msg m;
  const auto* p = e.get<protocol::PublishPacket>();
  if (p == nullptr) return m;
  m.wire_topic = std::string(p->topic);
  m.topic = e.topic;
  m.alias = p->properties.topic_alias;
  m.payload = std::string(p->payload);
  m.qos = p->qos;
  m.retain = p->retain;
  m.dup = p->dup;
  m.packet_id = p->packet_id;
  m.props = OwnedProperties(p->properties);
  m.raw = e.raw;
  return m;
}

asio::awaitable<Event> Conn::Next(Ms timeout) {
  if (!kept_.empty()) {
    Event e = std::move(kept_.front());
    kept_.pop_front();
    co_return e;
  }
  co_return co_await Read(timeout);
}

asio::awaitable<Event> Conn::Await(std::function<bool(const Event&)> match, Ms timeout) {
  for (auto it = kept_.begin(); it != kept_.end(); ++it) {
    if (match(*it)) {
      Event e = std::move(*it);
      kept_.erase(it);
      co_return e;
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<Ms>(deadline - std::chrono::steady_clock::now());
    if (left.count() < 0) left = Ms(0);
    Event e = co_await Read(left);
    if (!e.is_packet()) {
      if (e.kind == Event::Kind::kClosed) {
        // Say why, if the server explained itself first.
        for (const Event& k : kept_) {
          if (const auto* d = k.get<protocol::DisconnectPacket>()) {
            e.error = absl::UnavailableError("after DISCONNECT " + CodeName(d->reason_code));
          }
        }
      }
      co_return e;
    }
    if (match(e)) co_return e;
    kept_.push_back(std::move(e));
  }
}

asio::awaitable<bool> Conn::WaitClosed(Ms timeout, std::vector<Event>* received) {
  while (!kept_.empty()) {
    received->push_back(std::move(kept_.front()));
    kept_.pop_front();
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<Ms>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) co_return false;
    Event e = co_await Read(left);
    if (e.kind == Event::Kind::kClosed) co_return true;
    if (e.kind == Event::Kind::kTimeout) co_return false;
    received->push_back(std::move(e));
    if (closed_) co_return true;  // a framing error closed it
  }
}

// ---- encoders ----

namespace {

std::vector<StringPair> Pairs(const StringPairs& in) {
  std::vector<StringPair> out;
  for (const auto& [k, v] : in) out.push_back(StringPair{k, v});
  return out;
}

}  // namespace

std::string EncodeConnect(const ConnectSpec& s) {
  protocol::ConnectPacket c;
  c.version = s.version;
  c.clean_start = s.clean_start;
  c.keep_alive = s.keep_alive;
  c.client_id = s.client_id;
  std::vector<StringPair> user = Pairs(s.user_properties);
  c.properties.session_expiry_interval = s.session_expiry;
  c.properties.receive_maximum = s.receive_maximum;
  c.properties.maximum_packet_size = s.max_packet_size;
  c.properties.topic_alias_maximum = s.topic_alias_maximum;
  c.properties.request_response_information = s.request_response_info;
  c.properties.request_problem_information = s.request_problem_info;
  if (s.auth_method) c.properties.authentication_method = *s.auth_method;
  if (s.auth_data) c.properties.authentication_data = *s.auth_data;
  c.properties.user_properties = protocol::UserProperties(user);
  std::vector<StringPair> will_user;
  if (s.will) {
    protocol::Will w;
    w.topic = s.will->topic;
    w.payload = s.will->payload;
    w.qos = s.will->qos;
    w.retain = s.will->retain;
    w.properties.will_delay_interval = s.will->delay;
    w.properties.message_expiry_interval = s.will->message_expiry;
    w.properties.payload_format_indicator = s.will->payload_format;
    if (s.will->content_type) w.properties.content_type = *s.will->content_type;
    if (s.will->response_topic) w.properties.response_topic = *s.will->response_topic;
    if (s.will->correlation_data) w.properties.correlation_data = *s.will->correlation_data;
    will_user = Pairs(s.will->user_properties);
    w.properties.user_properties = protocol::UserProperties(will_user);
    c.will = w;
  }
  if (s.username) c.username = *s.username;
  if (s.password) c.password = *s.password;
  return protocol::EncodeToString(c, s.version);
}

std::string EncodePublish(const PubSpec& s, ProtocolVersion version) {
  protocol::PublishPacket p;
  p.topic = s.topic;
  p.payload = s.payload;
  p.qos = s.qos;
  p.retain = s.retain;
  p.dup = s.dup;
  p.packet_id = s.packet_id;
  p.properties.message_expiry_interval = s.message_expiry;
  p.properties.payload_format_indicator = s.payload_format;
  if (s.content_type) p.properties.content_type = *s.content_type;
  if (s.response_topic) p.properties.response_topic = *s.response_topic;
  if (s.correlation_data) p.properties.correlation_data = *s.correlation_data;
  p.properties.topic_alias = s.topic_alias;
  p.properties.subscription_ids = protocol::SubscriptionIds(s.subscription_ids);
  std::vector<StringPair> user = Pairs(s.user_properties);
  p.properties.user_properties = protocol::UserProperties(user);
  return protocol::EncodeToString(p, version);
}

PubSpec Pub(std::string topic, std::string payload, QoS qos, bool retain) {
  PubSpec s;
  s.topic = std::move(topic);
  s.payload = std::move(payload);
  s.qos = qos;
  s.retain = retain;
  return s;
}

protocol::SubscriptionOptions SubOpts(QoS qos, bool no_local, bool rap,
                                      protocol::RetainHandling rh) {
  protocol::SubscriptionOptions o;
  o.max_qos = qos;
  o.no_local = no_local;
  o.retain_as_published = rap;
  o.retain_handling = rh;
  return o;
}

SubSpec Sub(std::string filter, QoS qos) {
  return Sub(std::move(filter), SubOpts(qos));
}

SubSpec Sub(std::string filter, protocol::SubscriptionOptions options) {
  SubSpec s;
  s.filters.emplace_back(std::move(filter), options);
  return s;
}

SubSpec SubWithId(std::string filter, QoS qos, uint32_t id) {
  SubSpec s = Sub(std::move(filter), qos);
  s.subscription_id = id;
  return s;
}

SubSpec Subs(std::vector<std::string> filters, QoS qos) {
  SubSpec s;
  for (auto& f : filters) s.filters.emplace_back(std::move(f), SubOpts(qos));
  return s;
}

std::string EncodeSubscribe(const SubSpec& s, ProtocolVersion version) {
  protocol::SubscribePacket p;
  p.packet_id = s.packet_id;
  std::vector<uint32_t> ids;
  if (s.subscription_id) ids.push_back(*s.subscription_id);
  p.properties.subscription_ids = protocol::SubscriptionIds(ids);
  for (const auto& [filter, options] : s.filters) {
    protocol::TopicSubscription ts;
    ts.filter = filter;
    ts.options = options;
    p.subscriptions.push_back(ts);
  }
  return protocol::EncodeToString(p, version);
}

std::string EncodeUnsubscribe(const std::vector<std::string>& filters, uint16_t packet_id,
                              ProtocolVersion version) {
  protocol::UnsubscribePacket p;
  p.packet_id = packet_id;
  for (const auto& f : filters) p.filters.push_back(f);
  return protocol::EncodeToString(p, version);
}

// ---- RawPacket ----

RawPacket& RawPacket::U8(uint8_t v) {
  body_.push_back(static_cast<char>(v));
  return *this;
}

RawPacket& RawPacket::U16(uint16_t v) {
  U8(static_cast<uint8_t>(v >> 8));
  return U8(static_cast<uint8_t>(v));
}

RawPacket& RawPacket::U32(uint32_t v) {
  U16(static_cast<uint16_t>(v >> 16));
  return U16(static_cast<uint16_t>(v));
}

RawPacket& RawPacket::VarInt(uint32_t v) {
  do {
    uint8_t b = v & 0x7F;
    v >>= 7;
    if (v != 0) b |= 0x80;
    U8(b);
  } while (v != 0);
  return *this;
}

RawPacket& RawPacket::Str(std::string_view s) {
  U16(static_cast<uint16_t>(s.size()));
  return Bytes(s);
}

RawPacket& RawPacket::Bytes(std::string_view s) {
  body_.append(s);
  return *this;
}

RawPacket& RawPacket::Props(const RawPacket& props) {
  VarInt(static_cast<uint32_t>(props.body().size()));
  return Bytes(props.body());
}

std::string RawPacket::Build(uint8_t first_byte) const {
  RawPacket header;
  header.U8(first_byte).VarInt(static_cast<uint32_t>(body_.size()));
  return header.body() + body_;
}

// ---- T ----

namespace {

std::string Base36(uint32_t v, size_t width) {
  static constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string s;
  do {
    s.insert(s.begin(), kDigits[v % 36]);
    v /= 36;
  } while (v != 0);
  while (s.size() < width) s.insert(s.begin(), '0');
  return s;
}

}  // namespace

T::T(asio::any_io_executor executor, const Options& options, const Capabilities& caps,
     ProtocolVersion version, std::string name, std::string run_tag, int index)
    : executor_(std::move(executor)),
      options_(options),
      caps_(caps),
      version_(version),
      name_(std::move(name)),
      run_tag_(std::move(run_tag)),
      index_(index) {}

std::string T::Id(std::string_view tag) {
  // "q" + run (4) + test (3) + counter (2) = 10 characters, then up to 13 of the tag.
  std::string id = "q" + run_tag_ + Base36(static_cast<uint32_t>(index_), 3) +
                   Base36(static_cast<uint32_t>(ids_++), 2);
  for (char ch : tag) {
    if (id.size() >= 23) break;
    if (std::isalnum(static_cast<unsigned char>(ch))) id += ch;
  }
  return id;
}

std::string T::Topic(std::string_view tag) {
  return fmt::format("simq-conf/{}/{}/{}", run_tag_, index_, tag);
}

ConnectSpec T::Spec(std::string_view tag) {
  ConnectSpec s;
  s.version = version_;
  s.client_id = Id(tag);
  return s;
}

bool T::Fail(std::string message) {
  if (!failed_ && !skipped_) {
    failed_ = true;
    message_ = std::move(message);
  }
  return false;
}

void T::Skip(std::string message) {
  if (!failed_ && !skipped_) {
    skipped_ = true;
    message_ = std::move(message);
  }
}

bool T::NeedRetain() {
  if (caps_.retain_available) return true;
  Skip("the server does not support retained messages (CONNACK Retain Available 0)");
  return false;
}

bool T::NeedWildcards() {
  if (caps_.wildcard_subscriptions) return true;
  Skip(
      "the server does not support wildcard subscriptions (CONNACK Wildcard Subscription "
      "Available 0)");
  return false;
}

bool T::NeedSharedSubscriptions() {
  if (caps_.shared_subscriptions) return true;
  Skip(
      "the server does not support shared subscriptions (CONNACK Shared Subscription "
      "Available 0)");
  return false;
}

bool T::NeedSubscriptionIds() {
  if (caps_.subscription_identifiers) return true;
  Skip(
      "the server does not support subscription identifiers (CONNACK Subscription "
      "Identifiers Available 0)");
  return false;
}

bool T::NeedQoS(QoS qos) {
  if (static_cast<uint8_t>(qos) <= caps_.max_qos) return true;
  Skip(fmt::format("the server does not support QoS {} (CONNACK Maximum QoS {})",
                   static_cast<int>(qos), caps_.max_qos));
  return false;
}

asio::awaitable<std::unique_ptr<Conn>> T::Open(ProtocolVersion version) {
  absl::StatusOr<std::unique_ptr<Conn>> c =
      co_await Conn::Open(executor_, options_.endpoint, version, options_.wait);
  if (!c.ok()) {
    Fail("cannot connect to the server: " + std::string(c.status().message()));
    co_return nullptr;
  }
  (*c)->label = name_;
  co_return *std::move(c);
}

asio::awaitable<Event> T::ConnectRaw(Conn& c, const ConnectSpec& spec) {
  c.client_id = spec.client_id;
  c.SendRaw(EncodeConnect(spec));
  co_return co_await c.Await([](const Event& e) { return IsPacket(e, PacketType::kConnack); },
                             wait());
}

asio::awaitable<std::unique_ptr<Conn>> T::Connect(ConnectSpec spec) {
  std::unique_ptr<Conn> c = co_await Open(spec.version);
  if (!c) co_return nullptr;
  Event e = co_await ConnectRaw(*c, spec);
  if (e.kind == Event::Kind::kClosed && spec.max_packet_size && *spec.max_packet_size < 64) {
    // A server whose CONNACK exceeds the client's tiny Maximum Packet Size cannot send it
    // [MQTT-3.1.2-24]: closing is its only choice, and the test cannot proceed.
    Skip(
        fmt::format("the server closed the connection instead of sending a CONNACK larger than "
                    "the client's Maximum Packet Size {}",
                    *spec.max_packet_size));
    co_return nullptr;
  }
  if (!e.is_packet()) {
    Fail(fmt::format("CONNECT of '{}': expected CONNACK, got {}", spec.client_id, e.Describe()));
    co_return nullptr;
  }
  const auto* connack = e.get<protocol::ConnackPacket>();
  if (connack->reason_code != ReasonCode::kSuccess) {
    Fail(fmt::format("CONNECT of '{}' refused: {}", spec.client_id, e.Describe()));
    co_return nullptr;
  }
  c->connack = *connack;
  c->connack_packet = std::move(e.packet);
  co_return c;
}

asio::awaitable<std::optional<std::vector<ReasonCode>>> T::Subscribe(Conn& c, SubSpec spec,
                                                                     bool expect_success) {
  if (spec.packet_id == 0) spec.packet_id = c.NextPacketId();
  const uint16_t id = spec.packet_id;
  c.SendRaw(EncodeSubscribe(spec, c.version()));
  Event e =
      co_await c.Await([](const Event& ev) { return IsPacket(ev, PacketType::kSuback); }, wait());
  if (!e.is_packet()) {
    Fail("SUBSCRIBE to '" + spec.filters[0].first + "': expected SUBACK, got " + e.Describe());
    co_return std::nullopt;
  }
  const auto* suback = e.get<protocol::SubackPacket>();
  if (suback->packet_id != id) {
    Fail(fmt::format("SUBACK packet id {} for SUBSCRIBE {}", suback->packet_id, id));
    co_return std::nullopt;
  }
  if (suback->reason_codes.size() != spec.filters.size()) {
    Fail(fmt::format("SUBACK has {} reason codes for {} topic filters", suback->reason_codes.size(),
                     spec.filters.size()));
    co_return std::nullopt;
  }
  if (expect_success) {
    for (size_t i = 0; i < suback->reason_codes.size(); ++i) {
      if (protocol::IsError(suback->reason_codes[i])) {
        Fail("SUBSCRIBE to '" + spec.filters[i].first + "' refused: " + e.Describe());
        co_return std::nullopt;
      }
    }
  }
  co_return suback->reason_codes;
}

asio::awaitable<bool> T::Subscribe(Conn& c, std::string filter, QoS qos) {
  auto codes = co_await Subscribe(c, Sub(std::move(filter), qos));
  co_return codes.has_value();
}

asio::awaitable<std::optional<std::vector<ReasonCode>>> T::Unsubscribe(
    Conn& c, std::vector<std::string> filters) {
  const uint16_t id = c.NextPacketId();
  c.SendRaw(EncodeUnsubscribe(filters, id, c.version()));
  Event e =
      co_await c.Await([](const Event& ev) { return IsPacket(ev, PacketType::kUnsuback); }, wait());
  if (!e.is_packet()) {
    Fail("UNSUBSCRIBE: expected UNSUBACK, got " + e.Describe());
    co_return std::nullopt;
  }
  const auto* unsuback = e.get<protocol::UnsubackPacket>();
  if (unsuback->packet_id != id) {
    Fail(fmt::format("UNSUBACK packet id {} for UNSUBSCRIBE {}", unsuback->packet_id, id));
    co_return std::nullopt;
  }
  co_return unsuback->reason_codes;
}

asio::awaitable<std::optional<ReasonCode>> T::Publish(Conn& c, PubSpec spec, bool accept_errors) {
  if (spec.qos != QoS::kAtMostOnce && spec.packet_id == 0) spec.packet_id = c.NextPacketId();
  const uint16_t id = spec.packet_id;
  c.SendRaw(EncodePublish(spec, c.version()));
  if (spec.qos == QoS::kAtMostOnce) co_return ReasonCode::kSuccess;
  if (spec.qos == QoS::kAtLeastOnce) {
    Event e = co_await c.Await(
        [id](const Event& ev) {
          const auto* a = ev.get<protocol::PubackPacket>();
          return a != nullptr && a->packet_id == id;
        },
        wait());
    if (!e.is_packet()) {
      Fail(fmt::format("QoS 1 PUBLISH to '{}' (id {}): expected PUBACK, got {}", spec.topic, id,
                       e.Describe()));
      co_return std::nullopt;
    }
    const ReasonCode code = e.get<protocol::PubackPacket>()->reason_code;
    if (protocol::IsError(code) && !accept_errors) {
      Fail(fmt::format("QoS 1 PUBLISH to '{}': PUBACK {}", spec.topic, CodeName(code)));
      co_return std::nullopt;
    }
    co_return code;
  }
  Event rec = co_await c.Await(
      [id](const Event& ev) {
        const auto* a = ev.get<protocol::PubrecPacket>();
        return a != nullptr && a->packet_id == id;
      },
      wait());
  if (!rec.is_packet()) {
    Fail(fmt::format("QoS 2 PUBLISH to '{}' (id {}): expected PUBREC, got {}", spec.topic, id,
                     rec.Describe()));
    co_return std::nullopt;
  }
  const ReasonCode code = rec.get<protocol::PubrecPacket>()->reason_code;
  if (protocol::IsError(code)) {
    if (accept_errors) co_return code;
    Fail(fmt::format("QoS 2 PUBLISH to '{}': PUBREC {}", spec.topic, CodeName(code)));
    co_return std::nullopt;
  }
  protocol::PubrelPacket rel;
  rel.packet_id = id;
  c.Send(rel);
  Event comp = co_await c.Await(
      [id](const Event& ev) {
        const auto* a = ev.get<protocol::PubcompPacket>();
        return a != nullptr && a->packet_id == id;
      },
      wait());
  if (!comp.is_packet()) {
    Fail(fmt::format("PUBREL {}: expected PUBCOMP, got {}", id, comp.Describe()));
    co_return std::nullopt;
  }
  co_return code;
}

asio::awaitable<std::optional<Msg>> T::ExpectPublish(Conn& c, std::optional<Ms> timeout) {
  Event e = co_await c.Await([](const Event& ev) { return IsPacket(ev, PacketType::kPublish); },
                             timeout.value_or(wait()));
  if (!e.is_packet()) {
    Fail("expected a PUBLISH, got " + e.Describe());
    co_return std::nullopt;
  }
  co_return c.ToMsg(e);
}

asio::awaitable<std::optional<Msg>> T::ExpectPublishOn(Conn& c, std::string topic,
                                                       std::optional<Ms> timeout) {
  Event e = co_await c.Await(
      [&topic](const Event& ev) { return IsPacket(ev, PacketType::kPublish) && ev.topic == topic; },
      timeout.value_or(wait()));
  if (!e.is_packet()) {
    Fail("expected a PUBLISH on '" + topic + "', got " + e.Describe());
    co_return std::nullopt;
  }
  co_return c.ToMsg(e);
}

asio::awaitable<bool> T::ExpectNoPublish(Conn& c, std::optional<Ms> window, std::string_view what) {
  Event e = co_await c.Await([](const Event& ev) { return IsPacket(ev, PacketType::kPublish); },
                             window.value_or(quiet()));
  if (e.kind == Event::Kind::kTimeout) co_return true;
  if (e.is_packet()) {
    Fail("expected " + std::string(what) + ", got " + c.ToMsg(e).Describe());
  } else {
    Fail("expected " + std::string(what) + ", got " + e.Describe());
  }
  co_return false;
}

asio::awaitable<bool> T::ExpectClosed(Conn& c, std::string_view why,
                                      std::optional<ReasonCode>* disconnect) {
  std::vector<Event> received;
  const bool closed = co_await c.WaitClosed(wait(), &received);
  std::string seen;
  for (const Event& e : received) {
    if (const auto* d = e.get<protocol::DisconnectPacket>()) {
      if (disconnect != nullptr) *disconnect = d->reason_code;
    }
    seen += (seen.empty() ? "" : ", ") + e.Describe();
  }
  if (!closed) {
    Fail(fmt::format("{}: the server did not close the connection within {} ms{}", why,
                     wait().count(), seen.empty() ? "" : " (it sent: " + seen + ")"));
    co_return false;
  }
  co_return true;
}

asio::awaitable<bool> T::ExpectClosedWith(Conn& c, std::string_view why,
                                          std::vector<ReasonCode> codes) {
  std::optional<ReasonCode> disconnect;
  if (!co_await ExpectClosed(c, why, &disconnect)) co_return false;
  if (!disconnect) co_return true;
  if (!c.v5()) {
    co_return Fail(std::string(why) +
                   ": the server sent a DISCONNECT, which MQTT 3.1.1 servers "
                   "do not send");
  }
  if (std::find(codes.begin(), codes.end(), *disconnect) == codes.end()) {
    std::string expected;
    for (ReasonCode code : codes) expected += (expected.empty() ? "" : " or ") + CodeName(code);
    co_return Fail(
        fmt::format("{}: DISCONNECT {}, expected {}", why, CodeName(*disconnect), expected));
  }
  co_return true;
}

asio::awaitable<void> T::Sleep(Ms d) {
  asio::steady_timer timer(executor_, d);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<void> T::EndSession(std::string client_id) {
  absl::StatusOr<std::unique_ptr<Conn>> c =
      co_await Conn::Open(executor_, options_.endpoint, version_, options_.wait);
  if (!c.ok()) co_return;
  ConnectSpec s;
  s.version = version_;
  s.client_id = std::move(client_id);
  s.clean_start = true;
  (*c)->SendRaw(EncodeConnect(s));
  Event e = co_await (*c)->Await([](const Event& ev) { return IsPacket(ev, PacketType::kConnack); },
                                 wait());
  if (e.is_packet()) (*c)->Send(protocol::DisconnectPacket{});
  std::vector<Event> ignored;
  co_await (*c)->WaitClosed(Ms(200), &ignored);
}

asio::awaitable<bool> T::Ping(Conn& c) {
  c.Send(protocol::PingreqPacket{});
  Event e =
      co_await c.Await([](const Event& ev) { return IsPacket(ev, PacketType::kPingresp); }, wait());
  if (!e.is_packet()) co_return Fail("PINGREQ: expected PINGRESP, got " + e.Describe());
  co_return true;
}

// ---- Registry ----

void Registry::Add(ProtocolVersion version, std::string statement, std::string what, TestFn fn) {
  std::string name = version == kV311 ? "V311_" : "";
  for (char ch : statement) name += (ch == '.' || ch == '-') ? '_' : ch;
  name += "_" + what;
  TestCase tc;
  tc.name = std::move(name);
  tc.statement = std::move(statement);
  tc.version = version;
  tc.fn = std::move(fn);
  tests_.push_back(std::move(tc));
}

}  // namespace simq::conformance
