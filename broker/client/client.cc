#include "broker/client/client.h"

#include <algorithm>

#include "boost/asio/as_tuple.hpp"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/experimental/awaitable_operators.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "fmt/format.h"

#include "broker/protocol/decoder.h"
#include "broker/protocol/encoder.h"
#include "broker/protocol/error.h"
#include "broker/protocol/topic.h"

namespace simq::client {

using protocol::PacketType;
using protocol::ProtocolVersion;
using protocol::QoS;
using protocol::ReasonCode;

// A result that one coroutine waits for and another sets, on the client's executor.
template <typename T>
class Client::Completion {
 public:
  explicit Completion(asio::any_io_executor executor) : event_(std::move(executor)) {}

  void Set(absl::StatusOr<T> value) {
    if (value_.has_value()) return;
    value_ = std::move(value);
    event_.NotifyAll();
  }
  bool done() const { return value_.has_value(); }

  asio::awaitable<absl::StatusOr<T>> Wait() {
    while (!value_.has_value()) co_await event_.Wait();
    co_return std::move(*value_);
  }

 private:
  base::Event event_;
  std::optional<absl::StatusOr<T>> value_;
};

namespace {

absl::Status NotConnected() {
  return absl::FailedPreconditionError("not connected");
}

absl::Status InvalidProperties() {
  return absl::InvalidArgumentError(
      "properties cannot be encoded (a string over 65,535 bytes or invalid UTF-8)");
}

}  // namespace

std::shared_ptr<Client> Client::Create(asio::any_io_executor executor) {
  return std::shared_ptr<Client>(new Client(std::move(executor)));
}

Client::Client(asio::any_io_executor executor)
    : executor_(executor), window_(executor), received_event_(executor), closed_event_(executor) {}

Client::~Client() {
  if (stream_) stream_->Close();
}

void Client::Send(const protocol::Packet& packet) {
  if (stream_) stream_->Send(packet);
}

asio::awaitable<absl::StatusOr<ConnackResult>> Client::Connect(ConnectOptions options) {
  using namespace asio::experimental::awaitable_operators;
  if (stream_) {
    stream_->Close();
    stream_.reset();
  }
  if (!options.properties.valid() || (options.will && !options.will->properties.valid())) {
    co_return InvalidProperties();
  }
  connected_ = false;
  options_ = std::move(options);
  version_ = options_.version;
  server_disconnect_.reset();
  last_error_ = absl::OkStatus();

  absl::StatusOr<std::unique_ptr<Transport>> transport =
      co_await ConnectTransport(executor_, options_.endpoint, options_.connect_timeout);
  if (!transport.ok()) co_return transport.status();
  auto stream = PacketStream::Create(*std::move(transport));
  stream->set_version(version_);
  const protocol::Properties& props = options_.properties.view();
  if (props.maximum_packet_size) stream->set_max_incoming_packet_size(*props.maximum_packet_size);

  protocol::ConnectPacket connect;
  connect.version = version_;
  connect.clean_start = options_.clean_start;
  connect.keep_alive = options_.keep_alive_seconds;
  connect.client_id = options_.client_id;
  connect.username = options_.username;
  connect.password = options_.password;
  if (protocol::IsV5(version_)) connect.properties = props;
  if (options_.will) {
    protocol::Will will;
    will.topic = options_.will->topic;
    will.payload = options_.will->payload;
    will.qos = options_.will->qos;
    will.retain = options_.will->retain;
    if (protocol::IsV5(version_)) will.properties = options_.will->properties.view();
    connect.will = will;
  }
  stream->Send(connect);

  asio::steady_timer deadline(executor_, options_.connect_timeout);
  while (true) {
    auto next =
        co_await (stream->NextFrame() || deadline.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (next.index() == 1) {
      stream->Close();
      co_return absl::DeadlineExceededError("no CONNACK before the connect timeout");
    }
    absl::StatusOr<protocol::Frame> frame = std::get<0>(std::move(next));
    if (!frame.ok()) {
      stream->Close();
      co_return frame.status();
    }
    if (frame->header.type == PacketType::kAuth && protocol::IsV5(version_)) {
      absl::StatusOr<protocol::AuthPacket> auth = protocol::DecodeAuth(*frame, version_);
      if (!auth.ok()) {
        stream->Close();
        co_return auth.status();
      }
      if (auth->reason_code != ReasonCode::kContinueAuthentication || !options_.on_auth) {
        stream->Close();
        co_return protocol::ProtocolViolation("unexpected AUTH during connect");
      }
      absl::StatusOr<std::string> data = options_.on_auth(*auth);
      if (!data.ok()) {
        stream->Close();
        co_return data.status();
      }
      protocol::AuthPacket answer;
      answer.reason_code = ReasonCode::kContinueAuthentication;
      answer.properties.authentication_method = props.authentication_method;
      answer.properties.authentication_data = *data;
      stream->Send(answer);
      continue;
    }
    if (frame->header.type != PacketType::kConnack) {
      stream->Close();
      co_return protocol::ProtocolViolation(
          fmt::format("expected CONNACK, got {}", protocol::PacketTypeName(frame->header.type)));
    }
    absl::StatusOr<protocol::ConnackPacket> connack = protocol::DecodeConnack(*frame, version_);
    if (!connack.ok()) {
      stream->Close();
      co_return connack.status();
    }
    ConnackResult result;
    result.session_present = connack->session_present;
    result.reason_code = connack->reason_code;
    result.properties = protocol::OwnedProperties(connack->properties);
    if (connack->reason_code != ReasonCode::kSuccess) {
      stream->Close();
      co_return result;
    }
    const protocol::Properties& cp = connack->properties;
    server_receive_maximum_ = cp.receive_maximum.value_or(65535);
    server_maximum_packet_size_ = cp.maximum_packet_size.value_or(protocol::kMaxPacketSize);
    server_topic_alias_maximum_ = cp.topic_alias_maximum.value_or(0);
    server_maximum_qos_ = cp.maximum_qos.value_or(2);
    server_retain_available_ = cp.retain_available.value_or(1) == 1;
    connack_properties_ = result.properties;
    if (cp.assigned_client_identifier) options_.client_id = *cp.assigned_client_identifier;

    stream_ = stream;
    connected_ = true;
    ping_outstanding_ = false;
    inbound_aliases_.assign(props.topic_alias_maximum.value_or(0), std::string());
    outbound_aliases_.clear();
    if (result.session_present) {
      ResendSession();
    } else {
      DropSession();
    }
    std::weak_ptr<Client> weak = weak_from_this();
    asio::co_spawn(executor_, ReadLoop(weak, stream), asio::detached);
    uint16_t keep_alive = cp.server_keep_alive.value_or(options_.keep_alive_seconds);
    if (keep_alive > 0) {
      asio::co_spawn(executor_, KeepAliveLoop(weak, stream, std::chrono::seconds(keep_alive)),
                     asio::detached);
    }
    co_return result;
  }
}

void Client::ResendSession() {
  // [MQTT-4.4.0-1]: re-send unacknowledged PUBLISH (DUP = 1) and PUBREL, in original order.
  std::vector<std::pair<uint64_t, uint16_t>> order;
  for (const auto& [id, out] : outgoing_) order.emplace_back(out.sequence, id);
  std::sort(order.begin(), order.end());
  for (const auto& [sequence, id] : order) {
    const Outgoing& out = outgoing_.at(id);
    if (out.state == OutState::kAwaitPubcomp) {
      protocol::PubrelPacket rel;
      rel.packet_id = id;
      Send(rel);
    } else {
      std::string dup = out.encoded;
      dup[0] = static_cast<char>(dup[0] | 0x08);
      stream_->SendRaw(dup);
    }
  }
}

void Client::DropSession() {
  for (auto& [id, out] : outgoing_) {
    if (out.done) out.done->Set(absl::AbortedError("the server did not resume the session"));
  }
  outgoing_.clear();
  inbound_qos2_.clear();
  unacked_inbound_.clear();
  window_.NotifyAll();
}

uint16_t Client::NextPacketId() {
  for (int tries = 0; tries < 65536; ++tries) {
    next_packet_id_ = static_cast<uint16_t>(next_packet_id_ + 1);
    if (next_packet_id_ == 0) next_packet_id_ = 1;
    if (!outgoing_.contains(next_packet_id_) && !pending_acks_.contains(next_packet_id_)) {
      return next_packet_id_;
    }
  }
  return 0;
}

asio::awaitable<absl::StatusOr<PublishResult>> Client::Publish(Message message) {
  if (!connected_) co_return NotConnected();
  if (!message.properties.valid()) co_return InvalidProperties();
  if (message.topic.size() > 0xFFFF) co_return absl::InvalidArgumentError("topic too long");
  if (protocol::ValidateTopicName(message.topic) != ReasonCode::kSuccess) {
    co_return absl::InvalidArgumentError("invalid topic name: " + message.topic);
  }
  if (static_cast<uint8_t>(message.qos) > server_maximum_qos_) {
    co_return absl::InvalidArgumentError("QoS above the server's Maximum QoS");
  }
  if (message.retain && !server_retain_available_) {
    co_return absl::InvalidArgumentError("the server does not support retained messages");
  }

  protocol::PublishPacket publish;
  publish.topic = message.topic;
  publish.qos = message.qos;
  publish.retain = message.retain;
  publish.payload = message.payload;
  if (protocol::IsV5(version_)) publish.properties = message.properties.view();
  if (protocol::EncodedSize(publish, version_) > server_maximum_packet_size_) {
    co_return absl::InvalidArgumentError("PUBLISH exceeds the server's Maximum Packet Size");
  }

  // Outbound topic alias: the first PUBLISH on a topic sets it, later ones send only the alias.
  std::optional<protocol::PublishPacket> aliased;
  if (options_.use_topic_aliases && server_topic_alias_maximum_ > 0 && protocol::IsV5(version_)) {
    aliased = publish;
    auto it = outbound_aliases_.find(message.topic);
    if (it != outbound_aliases_.end()) {
      aliased->topic = std::string_view();
      aliased->properties.topic_alias = it->second;
    } else if (outbound_aliases_.size() < server_topic_alias_maximum_) {
      uint16_t alias = static_cast<uint16_t>(outbound_aliases_.size() + 1);
      outbound_aliases_.emplace(message.topic, alias);
      aliased->properties.topic_alias = alias;
    } else {
      aliased.reset();
    }
  }

  if (message.qos == QoS::kAtMostOnce) {
    Send(aliased ? *aliased : publish);
    co_return PublishResult{};
  }

  while (connected_ && outgoing_.size() >= server_receive_maximum_) co_await window_.Wait();
  if (!connected_) co_return NotConnected();
  uint16_t id = NextPacketId();
  if (id == 0) co_return absl::ResourceExhaustedError("no free packet identifier");
  publish.packet_id = id;
  Outgoing& out = outgoing_[id];
  out.sequence = next_sequence_++;
  out.state = message.qos == QoS::kAtLeastOnce ? OutState::kAwaitPuback : OutState::kAwaitPubrec;
  protocol::Encode(publish, version_, &out.encoded);
  out.done = std::make_shared<Completion<PublishResult>>(executor_);
  auto done = out.done;
  if (aliased) {
    aliased->packet_id = id;
    Send(*aliased);
  } else {
    stream_->SendRaw(out.encoded);
  }
  absl::StatusOr<PublishResult> result = co_await done->Wait();
  if (result.ok()) result->packet_id = id;
  co_return result;
}

asio::awaitable<absl::StatusOr<AckResult>> Client::Subscribe(
    std::vector<Subscription> subscriptions, protocol::OwnedProperties properties) {
  if (!connected_) co_return NotConnected();
  if (!properties.valid()) co_return InvalidProperties();
  protocol::SubscribePacket packet;
  packet.packet_id = NextPacketId();
  if (protocol::IsV5(version_)) packet.properties = properties.view();
  for (const Subscription& s : subscriptions) packet.subscriptions.push_back({s.filter, s.options});
  auto done = std::make_shared<Completion<AckResult>>(executor_);
  pending_acks_[packet.packet_id] = done;
  Send(packet);
  co_return co_await done->Wait();
}

asio::awaitable<absl::StatusOr<AckResult>> Client::Unsubscribe(
    std::vector<std::string> filters, protocol::OwnedProperties properties) {
  if (!connected_) co_return NotConnected();
  if (!properties.valid()) co_return InvalidProperties();
  protocol::UnsubscribePacket packet;
  packet.packet_id = NextPacketId();
  if (protocol::IsV5(version_)) packet.properties = properties.view();
  for (const std::string& f : filters) packet.filters.push_back(f);
  auto done = std::make_shared<Completion<AckResult>>(executor_);
  pending_acks_[packet.packet_id] = done;
  Send(packet);
  co_return co_await done->Wait();
}

asio::awaitable<absl::StatusOr<Message>> Client::Receive(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (received_.empty()) {
    if (!connected_) co_return absl::UnavailableError("disconnected: " + last_error_.ToString());
    if (std::chrono::steady_clock::now() >= deadline ||
        !co_await received_event_.WaitUntil(deadline)) {
      if (received_.empty()) co_return absl::DeadlineExceededError("no message received in time");
    }
  }
  Message m = std::move(received_.front());
  received_.pop_front();
  co_return m;
}

void Client::Ack(uint16_t packet_id, ReasonCode reason) {
  if (!unacked_inbound_.erase(packet_id)) return;
  if (inbound_qos2_.contains(packet_id)) {
    protocol::PubrecPacket rec;
    rec.packet_id = packet_id;
    rec.reason_code = reason;
    Send(rec);
    if (protocol::IsError(reason)) inbound_qos2_.erase(packet_id);
  } else {
    protocol::PubackPacket ack;
    ack.packet_id = packet_id;
    ack.reason_code = reason;
    Send(ack);
  }
}

asio::awaitable<absl::StatusOr<ReasonCode>> Client::Reauthenticate(std::string data) {
  if (!connected_) co_return NotConnected();
  protocol::AuthPacket auth;
  auth.reason_code = ReasonCode::kReAuthenticate;
  auth.properties.authentication_method = options_.properties.view().authentication_method;
  auth.properties.authentication_data = data;
  pending_reauth_ = std::make_shared<Completion<ReasonCode>>(executor_);
  auto done = pending_reauth_;
  Send(auth);
  co_return co_await done->Wait();
}

asio::awaitable<absl::Status> Client::Disconnect(ReasonCode reason,
                                                 protocol::OwnedProperties properties) {
  if (!connected_ || !stream_) co_return NotConnected();
  if (!properties.valid()) co_return InvalidProperties();
  protocol::DisconnectPacket packet;
  packet.reason_code = reason;
  if (protocol::IsV5(version_)) packet.properties = properties.view();
  auto stream = stream_;
  stream->Send(packet);
  absl::Status flushed = co_await stream->Flush();
  connected_ = false;
  stream->Close();
  if (stream_ == stream) stream_.reset();
  ConnectionLost(absl::OkStatus());
  co_return flushed;
}

void Client::Abort() {
  if (stream_) stream_->Close();
  ConnectionLost(absl::CancelledError("aborted by the client"));
}

asio::awaitable<bool> Client::WaitClosed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (connected_) {
    if (!co_await closed_event_.WaitUntil(deadline) && connected_) co_return false;
  }
  co_return true;
}

asio::awaitable<void> Client::ReadLoop(std::weak_ptr<Client> weak,
                                       std::shared_ptr<PacketStream> stream) {
  while (true) {
    {
      std::shared_ptr<Client> self = weak.lock();
      if (!self || self->stream_ != stream) co_return;
      absl::Status error;
      while (std::optional<protocol::Frame> frame = stream->TryNextFrame(&error)) {
        if (absl::Status s = self->HandleFrame(*frame); !s.ok()) {
          self->Fail(s);
          co_return;
        }
        if (self->stream_ != stream) co_return;
      }
      if (!error.ok()) {
        self->Fail(error);
        co_return;
      }
    }
    absl::Status read = co_await stream->ReadMore();
    if (!read.ok()) {
      if (std::shared_ptr<Client> self = weak.lock(); self && self->stream_ == stream) {
        self->ConnectionLost(read);
      }
      co_return;
    }
  }
}

asio::awaitable<void> Client::KeepAliveLoop(std::weak_ptr<Client> weak,
                                            std::shared_ptr<PacketStream> stream,
                                            std::chrono::seconds interval) {
  asio::steady_timer timer(stream->executor());
  while (true) {
    timer.expires_after(interval);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    std::shared_ptr<Client> self = weak.lock();
    if (!self || self->stream_ != stream || !self->connected_) co_return;
    if (self->ping_outstanding_) {
      self->ConnectionLost(absl::DeadlineExceededError("no PINGRESP within the keepalive"));
      co_return;
    }
    self->ping_outstanding_ = true;
    self->Send(protocol::PingreqPacket{});
  }
}

void Client::Fail(const absl::Status& error) {
  if (stream_ && protocol::IsV5(version_)) {
    ReasonCode code = protocol::ReasonCodeOf(error);
    if (protocol::IsError(code)) {
      protocol::DisconnectPacket d;
      d.reason_code = code;
      stream_->Send(d);
    }
  }
  ConnectionLost(error);
}

void Client::ConnectionLost(const absl::Status& error) {
  if (!stream_ && !connected_) return;
  if (stream_) {
    auto stream = std::move(stream_);
    // Let a queued DISCONNECT go out before closing.
    asio::co_spawn(
        executor_,
        [stream]() -> asio::awaitable<void> {
          co_await stream->Flush();
          stream->Close();
        },
        asio::detached);
  }
  connected_ = false;
  if (!error.ok()) last_error_ = error;
  for (auto& [id, done] : pending_acks_) done->Set(absl::UnavailableError("connection lost"));
  pending_acks_.clear();
  if (pending_reauth_) pending_reauth_->Set(absl::UnavailableError("connection lost"));
  pending_reauth_.reset();
  // Outgoing QoS 1/2 stay in the session for a resume; their callers learn of the loss now.
  for (auto& [id, out] : outgoing_) {
    if (out.done) out.done->Set(absl::UnavailableError("connection lost before acknowledgement"));
    out.done.reset();
  }
  window_.NotifyAll();
  received_event_.NotifyAll();
  closed_event_.NotifyAll();
}

absl::Status Client::HandleFrame(const protocol::Frame& frame) {
  absl::StatusOr<protocol::Packet> decoded = protocol::DecodePacket(frame, version_);
  if (!decoded.ok()) return decoded.status();
  protocol::Packet& packet = *decoded;
  switch (frame.header.type) {
    case PacketType::kPublish: return HandlePublish(std::get<protocol::PublishPacket>(packet));
    case PacketType::kPuback: {
      auto& a = std::get<protocol::PubackPacket>(packet);
      HandleAck(PacketType::kPuback, a.packet_id, a.reason_code, a.properties);
      return absl::OkStatus();
    }
    case PacketType::kPubrec: {
      auto& a = std::get<protocol::PubrecPacket>(packet);
      HandleAck(PacketType::kPubrec, a.packet_id, a.reason_code, a.properties);
      return absl::OkStatus();
    }
    case PacketType::kPubcomp: {
      auto& a = std::get<protocol::PubcompPacket>(packet);
      HandleAck(PacketType::kPubcomp, a.packet_id, a.reason_code, a.properties);
      return absl::OkStatus();
    }
    case PacketType::kPubrel: {
      auto& rel = std::get<protocol::PubrelPacket>(packet);
      protocol::PubcompPacket comp;
      comp.packet_id = rel.packet_id;
      if (!inbound_qos2_.erase(rel.packet_id)) {
        comp.reason_code = ReasonCode::kPacketIdentifierNotFound;
      }
      Send(comp);
      return absl::OkStatus();
    }
    case PacketType::kSuback:
    case PacketType::kUnsuback: {
      uint16_t id;
      AckResult result;
      if (auto* s = std::get_if<protocol::SubackPacket>(&packet)) {
        id = s->packet_id;
        result.reason_codes = s->reason_codes;
        result.properties = protocol::OwnedProperties(s->properties);
      } else {
        auto& u = std::get<protocol::UnsubackPacket>(packet);
        id = u.packet_id;
        result.reason_codes = u.reason_codes;
        result.properties = protocol::OwnedProperties(u.properties);
      }
      auto it = pending_acks_.find(id);
      if (it == pending_acks_.end()) {
        return protocol::ProtocolViolation("SUBACK/UNSUBACK for an unknown packet identifier");
      }
      it->second->Set(std::move(result));
      pending_acks_.erase(it);
      return absl::OkStatus();
    }
    case PacketType::kPingresp: ping_outstanding_ = false; return absl::OkStatus();
    case PacketType::kDisconnect: {
      auto& d = std::get<protocol::DisconnectPacket>(packet);
      server_disconnect_ = ServerDisconnect{d.reason_code, protocol::OwnedProperties(d.properties)};
      ConnectionLost(absl::UnavailableError(
          fmt::format("server sent DISCONNECT: {}", protocol::ReasonCodeName(d.reason_code))));
      return absl::OkStatus();
    }
    case PacketType::kAuth: {
      auto& a = std::get<protocol::AuthPacket>(packet);
      if (!pending_reauth_) return protocol::ProtocolViolation("unexpected AUTH");
      if (a.reason_code == ReasonCode::kSuccess) {
        last_auth_properties_ = protocol::OwnedProperties(a.properties);
        pending_reauth_->Set(ReasonCode::kSuccess);
        pending_reauth_.reset();
        return absl::OkStatus();
      }
      if (a.reason_code != ReasonCode::kContinueAuthentication || !options_.on_auth) {
        return protocol::ProtocolViolation("unexpected AUTH reason code");
      }
      absl::StatusOr<std::string> data = options_.on_auth(a);
      if (!data.ok()) return data.status();
      protocol::AuthPacket answer;
      answer.reason_code = ReasonCode::kContinueAuthentication;
      answer.properties.authentication_method = options_.properties.view().authentication_method;
      answer.properties.authentication_data = *data;
      Send(answer);
      return absl::OkStatus();
    }
    default:
      return protocol::ProtocolViolation(
          fmt::format("server sent {}", protocol::PacketTypeName(frame.header.type)));
  }
}

absl::Status Client::HandlePublish(protocol::PublishPacket& publish) {
  if (protocol::IsV5(version_)) {
    if (std::optional<uint16_t> alias = publish.properties.topic_alias) {
      if (*alias == 0 || *alias > inbound_aliases_.size()) {
        return protocol::ProtocolError(ReasonCode::kTopicAliasInvalid, "topic alias out of range");
      }
      std::string& mapped = inbound_aliases_[*alias - 1];
      if (!publish.topic.empty()) {
        mapped.assign(publish.topic);
      } else if (mapped.empty()) {
        return protocol::ProtocolViolation("unknown topic alias");
      } else {
        publish.topic = mapped;
      }
    } else if (publish.topic.empty()) {
      return protocol::ProtocolViolation("empty topic without a topic alias");
    }
  }
  if (publish.qos != QoS::kAtMostOnce) {
    const uint16_t receive_maximum = options_.properties.view().receive_maximum.value_or(65535);
    const bool redelivery =
        publish.qos == QoS::kExactlyOnce && inbound_qos2_.contains(publish.packet_id);
    if (!redelivery && inbound_qos2_.size() + unacked_inbound_.size() >= receive_maximum &&
        protocol::IsV5(version_)) {
      return protocol::ProtocolError(ReasonCode::kReceiveMaximumExceeded,
                                     "server exceeded the client's Receive Maximum");
    }
    if (redelivery) {
      // Already delivered once; answer again without delivering [MQTT-4.3.3-10].
      if (!unacked_inbound_.contains(publish.packet_id)) {
        protocol::PubrecPacket rec;
        rec.packet_id = publish.packet_id;
        Send(rec);
      }
      return absl::OkStatus();
    }
  }

  if (handler_) {
    handler_(publish);
  } else {
    Message m;
    m.topic.assign(publish.topic);
    m.payload.assign(publish.payload);
    m.qos = publish.qos;
    m.retain = publish.retain;
    m.dup = publish.dup;
    m.packet_id = publish.packet_id;
    if (protocol::IsV5(version_)) m.properties = protocol::OwnedProperties(publish.properties);
    received_.push_back(std::move(m));
    received_event_.NotifyAll();
  }

  if (publish.qos == QoS::kExactlyOnce) inbound_qos2_.insert(publish.packet_id);
  if (publish.qos != QoS::kAtMostOnce) {
    if (options_.manual_acks) {
      unacked_inbound_.insert(publish.packet_id);
    } else if (publish.qos == QoS::kAtLeastOnce) {
      protocol::PubackPacket ack;
      ack.packet_id = publish.packet_id;
      Send(ack);
    } else {
      protocol::PubrecPacket rec;
      rec.packet_id = publish.packet_id;
      Send(rec);
    }
  }
  return absl::OkStatus();
}

void Client::HandleAck(PacketType type, uint16_t packet_id, ReasonCode reason,
                       const protocol::Properties& properties) {
  auto it = outgoing_.find(packet_id);
  const OutState expected = type == PacketType::kPuback   ? OutState::kAwaitPuback
                            : type == PacketType::kPubrec ? OutState::kAwaitPubrec
                                                          : OutState::kAwaitPubcomp;
  if (it == outgoing_.end() || it->second.state != expected) {
    if (type == PacketType::kPubrec) {
      // Unknown PUBREC: answer so the server can release its state [MQTT-4.3.3].
      protocol::PubrelPacket rel;
      rel.packet_id = packet_id;
      rel.reason_code = ReasonCode::kPacketIdentifierNotFound;
      Send(rel);
    }
    return;
  }
  Outgoing& out = it->second;
  if (type == PacketType::kPubrec && !protocol::IsError(reason)) {
    out.state = OutState::kAwaitPubcomp;
    protocol::PubrelPacket rel;
    rel.packet_id = packet_id;
    Send(rel);
    return;
  }
  if (out.done) {
    PublishResult result;
    result.reason_code = reason;
    result.properties = protocol::OwnedProperties(properties);
    out.done->Set(std::move(result));
  }
  outgoing_.erase(it);
  window_.NotifyAll();
}

}  // namespace simq::client
