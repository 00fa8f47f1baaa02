#include "broker/core/client_handler.h"

#include <algorithm>

#include "boost/asio/post.hpp"
#include "fmt/format.h"

#include "broker/base/log.h"
#include "broker/core/broker.h"
#include "broker/protocol/encoder.h"
#include "broker/protocol/error.h"
#include "broker/protocol/topic.h"
#include "broker/protocol/utf8.h"

namespace simq::core {

using protocol::Frame;
using protocol::PacketType;
using protocol::ProtocolVersion;
using protocol::QoS;
using protocol::ReasonCode;
using session::Delivery;

namespace {

constexpr uint32_t kMqtt31MaxClientId = 23;

bool ValidPayload(const protocol::Properties& props, std::string_view payload) {
  return props.payload_format_indicator.value_or(0) != 1 || protocol::IsWellFormedUtf8(payload);
}

}  // namespace

ClientHandler::ClientHandler(Worker& worker, Link& link)
    : worker_(worker), link_(link), clock_(worker.broker().clock()) {
  accepted_at_ = clock_.Now();
  last_received_ = accepted_at_;
  client_.listener = link.listener_name();
  client_.remote_address = link.remote_address();
  worker_.AddHandler(this);
  worker_.broker().open_connections().fetch_add(1, std::memory_order_relaxed);
}

ClientHandler::~ClientHandler() {
  if (state_ != State::kClosed) {
    state_ = State::kClosed;
    Detach(/*publish_will=*/true);
  }
  worker_.RemoveHandler(this);
  worker_.broker().open_connections().fetch_sub(1, std::memory_order_relaxed);
}

uint32_t ClientHandler::max_inbound_packet_size() const {
  const config::MqttConfig& mqtt = worker_.broker().config().mqtt;
  return state_ == State::kConnected ? mqtt.max_packet_size : mqtt.max_packet_size_before_connect;
}

void ClientHandler::Log(std::string_view what) const {
  if (debug_) SIMQ_LOG_INFO("client {} [{}]: {}", client_.client_id, client_.remote_address, what);
}

std::string& ClientHandler::Output(const std::shared_ptr<Ticket>& ticket) {
  const bool waits = ticket != nullptr && !ticket->done();
  if (!waits && gated_.empty()) return link_.output();
  // Behind the gate: join the last entry when that keeps the order and waits for no less.
  if (!gated_.empty() && !gated_.back().publisher_ack &&
      (!waits || gated_.back().ticket == ticket)) {
    return gated_.back().bytes;
  }
  gated_.push_back(Gated{waits ? ticket : nullptr});
  worker_.AddGated(this);
  return gated_.back().bytes;
}

void ClientHandler::Flushed(const std::string& output) {
  if (&output == &link_.output()) link_.Flush();
}

template <typename P>
void ClientHandler::Send(const P& packet, const std::shared_ptr<Ticket>& ticket) {
  if (state_ == State::kClosed) return;
  std::string& out = Output(ticket);
  protocol::Encode(packet, version_, &out);
  Flushed(out);
  worker_.stats().packets_sent.Add();
}

void ClientHandler::SendPublisherAck(PacketType type, uint16_t packet_id, ReasonCode code,
                                     const std::shared_ptr<Ticket>& ticket) {
  if (state_ == State::kClosed) return;
  if ((ticket == nullptr || ticket->done()) && gated_.empty() &&
      (ticket == nullptr || !ticket->failed())) {
    SendPublishAck(type, packet_id, code);
    return;
  }
  Gated g{ticket};
  g.publisher_ack = true;
  g.ack_type = type;
  g.packet_id = packet_id;
  g.code = code;
  if (type == PacketType::kPuback) ++inbound_inflight_;  // QoS 1 still in flight until acked
  gated_.push_back(std::move(g));
  worker_.AddGated(this);
  ReleaseGated();
}

bool ClientHandler::ReleaseGated() {
  if (state_ == State::kClosed) {
    gated_.clear();
    return false;
  }
  bool wrote = false;
  while (!gated_.empty()) {
    Gated& g = gated_.front();
    if (g.ticket != nullptr && !g.ticket->done()) break;
    std::string bytes = std::move(g.bytes);
    if (g.publisher_ack) {
      if (g.ack_type == PacketType::kPuback) --inbound_inflight_;
      const bool failed = g.ticket != nullptr && g.ticket->failed();
      const PacketType type = g.ack_type;
      const uint16_t id = g.packet_id;
      const ReasonCode code = failed ? ReasonCode::kQuotaExceeded : g.code;
      gated_.pop_front();
      if (wrote) link_.Flush();
      wrote = false;
      if (failed && !v5()) {
        // 3.1.1 cannot refuse a PUBLISH: close, so the client sends it again later.
        gated_.clear();
        CloseConnection(/*publish_will=*/true);
        return false;
      }
      if (failed && type == PacketType::kPubrec) session_->state.inbound_qos2.erase(id);
      SendPublishAck(type, id, code, failed ? "the message could not be stored" : "");
      continue;
    }
    gated_.pop_front();
    link_.output().append(bytes);
    wrote = true;
  }
  if (wrote) link_.Flush();
  return !gated_.empty();
}

std::shared_ptr<Ticket> ClientHandler::DurableTicket() {
  if (session_ == nullptr || !worker_.persistence().Persists(*session_)) return nullptr;
  return worker_.persistence().BatchTicket();
}

void ClientHandler::OnBytesRead(size_t n) {
  worker_.stats().bytes_received.Add(n);
}
void ClientHandler::OnBytesWritten(size_t n) {
  worker_.stats().bytes_sent.Add(n);
}

// ---------------------------------------------------------------------------------------------
// Inbound dispatch

bool ClientHandler::OnFrame(const Frame& frame) {
  if (state_ == State::kClosed) return false;
  worker_.stats().packets_received.Add();
  last_received_ = clock_.Now();
  const PacketType type = frame.header.type;
  if (state_ == State::kAwaitConnect) {
    if (type != PacketType::kConnect) {
      // [MQTT-3.1.0-1]: the first packet must be CONNECT.
      CloseConnection(false);
      return false;
    }
    return HandleConnect(frame);
  }
  if (state_ == State::kAuthenticating) {
    if (type != PacketType::kAuth) return RefuseConnect(ReasonCode::kProtocolError);
    return HandleAuth(frame);
  }
  if (state_ == State::kCheckingPassword) {
    // Links pause reading while the password is checked (Link::PauseReading); a frame here is
    // a transport bug, not the client's.
    return RefuseConnect(ReasonCode::kImplementationSpecificError);
  }
  switch (type) {
    case PacketType::kPublish: return HandlePublish(frame);
    case PacketType::kPuback:
    case PacketType::kPubrec:
    case PacketType::kPubrel:
    case PacketType::kPubcomp: {
      absl::StatusOr<protocol::Packet> p = protocol::DecodePacket(frame, version_);
      if (!p.ok()) return Fail(p.status());
      if (auto* a = std::get_if<protocol::PubackPacket>(&*p)) return HandlePuback(a->packet_id);
      if (auto* a = std::get_if<protocol::PubrecPacket>(&*p)) {
        return HandlePubrec(a->packet_id, a->reason_code);
      }
      if (auto* a = std::get_if<protocol::PubrelPacket>(&*p)) return HandlePubrel(a->packet_id);
      return HandlePubcomp(std::get<protocol::PubcompPacket>(*p).packet_id);
    }
    case PacketType::kSubscribe: return HandleSubscribe(frame);
    case PacketType::kUnsubscribe: return HandleUnsubscribe(frame);
    case PacketType::kPingreq: {
      absl::StatusOr<protocol::Packet> p = protocol::DecodePacket(frame, version_);
      if (!p.ok()) return Fail(p.status());
      Send(protocol::PingrespPacket{});
      return true;
    }
    case PacketType::kDisconnect: return HandleDisconnect(frame);
    case PacketType::kAuth: return HandleAuth(frame);
    case PacketType::kConnect:
      return Fail(ReasonCode::kProtocolError, "second CONNECT");  // [MQTT-3.1.0-2]
    default:
      // Server-to-client packets and the reserved type.
      if (type == PacketType::kReserved)
        return Fail(ReasonCode::kMalformedPacket, "reserved packet type");
      return Fail(ReasonCode::kProtocolError, "packet type not sent by clients");
  }
}

void ClientHandler::OnFramingError(const absl::Status& error) {
  if (state_ == State::kClosed) return;
  if (state_ == State::kConnected) {
    Fail(error);
  } else {
    CloseConnection(false);
  }
}

void ClientHandler::OnTransportClosed() {
  if (state_ == State::kClosed) return;
  Log("connection closed by the network");
  state_ = State::kClosed;
  Detach(/*publish_will=*/true);
}

// ---------------------------------------------------------------------------------------------
// CONNECT

bool ClientHandler::HandleConnect(const Frame& frame) {
  absl::StatusOr<protocol::ConnectPacket> decoded = protocol::DecodeConnect(frame);
  if (!decoded.ok()) {
    ReasonCode code = protocol::ReasonCodeOf(decoded.status());
    std::optional<uint8_t> level = protocol::PeekProtocolLevel(frame);
    if (code == ReasonCode::kUnsupportedProtocolVersion) {
      // Answer in a format the client can read: MQTT 5 for level 5 (a wrong protocol name) and
      // newer levels [MQTT-3.1.2-1], else 3.1.1's 0x01.
      version_ = level && *level >= 5 ? ProtocolVersion::kMqtt5 : ProtocolVersion::kMqtt311;
      return RefuseConnect(code);
    }
    if (level == 5) {
      version_ = ProtocolVersion::kMqtt5;
      return RefuseConnect(code, std::string(decoded.status().message()));
    }
    // [MQTT-3.1.4-1] (3.1.1): close without CONNACK.
    CloseConnection(false);
    return false;
  }
  protocol::ConnectPacket& c = *decoded;
  version_ = c.version;

  const config::Config& config = worker_.broker().config();
  // Client identifier: validate, assign, and find the session's home worker.
  bool assigned = false;
  std::string client_id(c.client_id);
  if (client_id.empty()) {
    const bool allowed = config.mqtt.allow_empty_client_id &&
                         c.version != ProtocolVersion::kMqtt31 &&
                         (c.version == ProtocolVersion::kMqtt5 || c.clean_start);
    if (!allowed) return RefuseConnect(ReasonCode::kClientIdentifierNotValid);  // [MQTT-3.1.3-8]
    client_id = worker_.broker().AssignClientId(worker_.index());
    assigned = true;
  } else if ((c.version == ProtocolVersion::kMqtt31 && client_id.size() > kMqtt31MaxClientId) ||
             client_id.size() > config.mqtt.max_client_id_length) {
    return RefuseConnect(ReasonCode::kClientIdentifierNotValid);
  }
  const uint32_t home = worker_.broker().HomeWorker(client_id);
  if (home != worker_.index()) {
    state_ = State::kClosed;  // this handler is done; the home worker's handler takes over
    worker_.RemoveHandler(this);
    link_.MigrateTo(home);
    return false;
  }

  client_.client_id = std::move(client_id);
  client_.version = c.version;
  client_.username =
      c.username ? std::optional<std::string>(std::string(*c.username)) : std::nullopt;
  if (std::optional<std::string> identity = link_.certificate_username()) {
    client_.username = std::move(identity);  // the verified certificate, not the CONNECT
    client_.certificate_authenticated = true;
  }
  debug_ = std::find(config.log.debug_client_ids.begin(), config.log.debug_client_ids.end(),
                     client_.client_id) != config.log.debug_client_ids.end();
  Log(fmt::format("CONNECT {} clean_start={} keep_alive={}",
                  protocol::ProtocolVersionName(version_), c.clean_start, c.keep_alive));

  // Keep the CONNECT (it owns the views) until the connection is accepted.
  pending_ = std::make_unique<PendingConnect>();
  const char* start = frame.body.data() - frame.header.header_size;
  pending_->bytes.assign(start, frame.header.total_size());
  Frame copy{frame.header, std::string_view(pending_->bytes).substr(frame.header.header_size)};
  pending_->packet = *protocol::DecodeConnect(copy);
  const protocol::ConnectPacket& connect = pending_->packet;
  if (assigned) pending_->packet.client_id = std::string_view();

  // Will checks: [MQTT-3.2.2-12], [MQTT-3.2.2-13], Payload Format Indicator.
  if (connect.will) {
    if (static_cast<uint8_t>(connect.will->qos) > config.mqtt.max_qos) {
      return RefuseConnect(ReasonCode::kQoSNotSupported);
    }
    if (connect.will->retain && !config.mqtt.retain_available) {
      return RefuseConnect(ReasonCode::kRetainNotSupported);
    }
    if (!ValidPayload(connect.will->properties, connect.will->payload)) {
      return RefuseConnect(ReasonCode::kPayloadFormatInvalid);
    }
  }
  if (config.redirect.enabled) {
    return RefuseConnect(config.redirect.permanent ? ReasonCode::kServerMoved
                                                   : ReasonCode::kUseAnotherServer);
  }
  if (const ReasonCode refusal = link_.admission(); refusal != ReasonCode::kSuccess) {
    return RefuseConnect(refusal, "connection limit of this listener reached");
  }
  if (config.mqtt.max_connections != 0 &&
      worker_.broker().clients_connected().Get() >= config.mqtt.max_connections) {
    return RefuseConnect(ReasonCode::kQuotaExceeded, "maximum connections reached");
  }

  // Authentication.
  auth::Authenticator& authenticator = worker_.broker().authenticator();
  if (v5() && connect.properties.authentication_method) {
    pending_->auth_method = std::string(*connect.properties.authentication_method);
    pending_->exchange = authenticator.StartExchange(pending_->auth_method, client_);
    if (!pending_->exchange) return RefuseConnect(ReasonCode::kBadAuthenticationMethod);
    auth::AuthStep step =
        pending_->exchange->Next(connect.properties.authentication_data.value_or(""));
    if (step.code == ReasonCode::kContinueAuthentication) {
      state_ = State::kAuthenticating;
      protocol::AuthPacket auth;
      auth.reason_code = ReasonCode::kContinueAuthentication;
      auth.properties.authentication_method = pending_->auth_method;
      auth.properties.authentication_data = step.data;
      Send(auth);
      return true;
    }
    if (step.code != ReasonCode::kSuccess) return RefuseConnect(step.code);
    pending_->server_auth_data = std::move(step.data);
    if (std::optional<std::string> user = pending_->exchange->username()) client_.username = user;
    return Accept();
  }
  const std::optional<std::string_view> password =
      connect.password ? std::optional<std::string_view>(*connect.password) : std::nullopt;
  if (authenticator.password_check_blocks()) return CheckPasswordOffWorker(password);
  return PasswordChecked(authenticator.CheckPassword(client_, password));
}

bool ClientHandler::CheckPasswordOffWorker(std::optional<std::string_view> password) {
  // A slow hash must not stall this event loop: it runs on the broker's blocking pool and the
  // CONNECT resumes here. Packets the client sent after its CONNECT wait in the transport
  // meanwhile (reading is paused), to be handled in order once CONNACK is out [MQTT-3.1.4-?].
  state_ = State::kCheckingPassword;
  link_.PauseReading();
  std::optional<std::string> copy;
  if (password) copy.emplace(*password);
  std::weak_ptr<int> alive = alive_;
  Worker* worker = &worker_;
  worker_.broker().RunBlocking([this, alive, worker, client = client_, password = std::move(copy),
                                authenticator = worker_.broker().options().authenticator] {
    const ReasonCode code = authenticator->CheckPassword(
        client, password ? std::optional<std::string_view>(*password) : std::nullopt);
    asio::post(worker->io(), [this, alive, code] {
      if (alive.expired() || state_ != State::kCheckingPassword) return;  // closed meanwhile
      if (PasswordChecked(code)) link_.ResumeReading();
    });
  });
  return true;
}

bool ClientHandler::PasswordChecked(ReasonCode code) {
  if (code != ReasonCode::kSuccess) return RefuseConnect(code);
  return Accept();
}

bool ClientHandler::HandleAuth(const Frame& frame) {
  absl::StatusOr<protocol::AuthPacket> auth = protocol::DecodeAuth(frame, version_);
  if (!auth.ok()) {
    if (state_ == State::kAuthenticating)
      return RefuseConnect(protocol::ReasonCodeOf(auth.status()));
    return Fail(auth.status());
  }
  const std::string_view method = auth->properties.authentication_method.value_or("");
  const std::string_view data = auth->properties.authentication_data.value_or("");
  if (state_ == State::kAuthenticating) {
    // [MQTT-4.12.0-?]: during CONNECT only Continue Authentication with the same method.
    if (auth->reason_code != ReasonCode::kContinueAuthentication ||
        method != pending_->auth_method) {
      return RefuseConnect(ReasonCode::kProtocolError);
    }
    auth::AuthStep step = pending_->exchange->Next(data);
    if (step.code == ReasonCode::kContinueAuthentication) {
      protocol::AuthPacket answer;
      answer.reason_code = ReasonCode::kContinueAuthentication;
      answer.properties.authentication_method = pending_->auth_method;
      answer.properties.authentication_data = step.data;
      Send(answer);
      return true;
    }
    if (step.code != ReasonCode::kSuccess) return RefuseConnect(step.code);
    pending_->server_auth_data = std::move(step.data);
    if (std::optional<std::string> user = pending_->exchange->username()) client_.username = user;
    return Accept();
  }
  // Re-authentication (§4.12.1): only for a connection that authenticated with a method, and
  // with the same method [MQTT-4.12.1-1].
  if (auth_method_.empty() || method != auth_method_) {
    return Fail(ReasonCode::kProtocolError, "AUTH without enhanced authentication");
  }
  if (auth->reason_code == ReasonCode::kReAuthenticate) {
    reauth_ = worker_.broker().authenticator().StartExchange(auth_method_, client_);
    if (!reauth_) return Fail(ReasonCode::kBadAuthenticationMethod, "method no longer supported");
  } else if (auth->reason_code != ReasonCode::kContinueAuthentication || !reauth_) {
    return Fail(ReasonCode::kProtocolError, "unexpected AUTH reason code");
  }
  auth::AuthStep step = reauth_->Next(data);
  protocol::AuthPacket answer;
  answer.properties.authentication_method = auth_method_;
  if (!step.data.empty()) answer.properties.authentication_data = step.data;
  if (step.code == ReasonCode::kContinueAuthentication) {
    answer.reason_code = ReasonCode::kContinueAuthentication;
    Send(answer);
    return true;
  }
  if (step.code != ReasonCode::kSuccess) {
    // [MQTT-4.12.1-2]: a failed re-authentication closes the connection.
    reauth_.reset();
    return Fail(step.code, "re-authentication failed");
  }
  reauth_.reset();
  answer.reason_code = ReasonCode::kSuccess;
  Send(answer);
  return true;
}

bool ClientHandler::RefuseConnect(ReasonCode code, std::string_view reason) {
  Log(fmt::format("CONNECT refused: {}", protocol::ReasonCodeName(code)));
  protocol::ConnackPacket connack;
  connack.reason_code = code;
  const config::Config& config = worker_.broker().config();
  if (v5() && (code == ReasonCode::kUseAnotherServer || code == ReasonCode::kServerMoved)) {
    std::string refs;
    for (const std::string& s : config.redirect.servers) refs += (refs.empty() ? "" : " ") + s;
    connack.properties.server_reference = refs;
    protocol::Encode(connack, version_, &link_.output());
  } else {
    if (v5() && !reason.empty()) connack.properties.reason_string = reason;
    // [MQTT-3.2.2-19]: not when it would exceed the Maximum Packet Size the CONNECT asked for.
    if (connack.properties.reason_string && pending_ &&
        protocol::EncodedSize(connack, version_) >
            pending_->packet.properties.maximum_packet_size.value_or(protocol::kMaxPacketSize)) {
      connack.properties.reason_string.reset();
    }
    protocol::Encode(connack, version_, &link_.output());
  }
  link_.Flush();
  CloseConnection(false);
  return false;
}

bool ClientHandler::Accept() {
  const config::Config& config = worker_.broker().config();
  const protocol::ConnectPacket& c = pending_->packet;
  Broker& broker = worker_.broker();

  // Session Expiry Interval: MQTT 5 property; 3.1.1 Clean Session 0 keeps it forever.
  uint32_t requested_expiry = v5() ? c.properties.session_expiry_interval.value_or(0)
                                   : (c.clean_start ? 0 : protocol::kSessionNeverExpires);
  uint32_t expiry = std::min(requested_expiry, config.mqtt.max_session_expiry_interval);
  // What the CONNECT asked for, not what was granted: the DISCONNECT rule of §3.14.2.2.2.
  connect_expiry_interval_ = requested_expiry;
  if (expiry != 0 && worker_.persistence().enabled() && !broker.store_healthy()) {
    // A persistent session cannot be stored now (full disk): refuse rather than pretend.
    return RefuseConnect(ReasonCode::kQuotaExceeded, "the session cannot be stored now");
  }

  // Takeover [MQTT-3.1.4-3]: the old connection goes (with its Will, per the rules), then the
  // session is resumed or discarded.
  LiveSession* session = worker_.FindSession(client_.client_id);
  if (session != nullptr && session->handler != nullptr) {
    session->handler->TakeOver();
    session = worker_.FindSession(client_.client_id);  // it may have ended with its connection
  }
  if (session != nullptr && session->handler == nullptr &&
      session->state.expires_at <= clock_.Now()) {
    // Expired but not yet swept by Worker::Tick: it has ended [MQTT-3.1.2-23].
    worker_.stats().sessions_expired.Add();
    worker_.EndSession(*session);
    session = nullptr;
  }
  bool session_present = false;
  if (session != nullptr && c.clean_start) {
    worker_.EndSession(*session);
    session = nullptr;
  }
  if (session != nullptr) {
    session_present = true;
  } else {
    session = &worker_.CreateSession(client_.client_id);
  }
  session_ = session;
  session::Session& s = session->state;
  s.version = version_;
  s.expiry_interval = expiry;
  s.expires_at = base::MonoTime::max();
  // A new connection cancels a delayed Will of the previous one [MQTT-3.1.3-9], unless its
  // delay already ran out (Worker::Tick had not sent it yet).
  if (s.will && s.will_due <= clock_.Now()) {
    worker_.stats().wills_published.Add();
    worker_.Publish(session::MakeWillMessage(s.will->View(), s.id(), clock_.Now()));
  }
  s.will.reset();
  s.will_due = base::MonoTime::max();
  if (c.will) {
    session::WillState will;
    will.topic = std::string(c.will->topic);
    will.payload = std::string(c.will->payload);
    will.qos = c.will->qos;
    will.retain = c.will->retain;
    protocol::Properties props = c.will->properties;
    will.delay_seconds = props.will_delay_interval.value_or(0);
    props.will_delay_interval.reset();
    if (const uint32_t cap = config.mqtt.max_message_expiry_interval; cap != 0) {
      props.message_expiry_interval = std::min(props.message_expiry_interval.value_or(cap), cap);
    }
    will.properties = protocol::OwnedProperties(props);
    s.will = std::move(will);
  }
  session->handler = this;
  session->presence->online.store(true, std::memory_order_relaxed);

  // Negotiated limits.
  client_receive_maximum_ = c.properties.receive_maximum.value_or(65535);
  client_maximum_packet_size_ = c.properties.maximum_packet_size.value_or(protocol::kMaxPacketSize);
  client_topic_alias_maximum_ = v5() ? c.properties.topic_alias_maximum.value_or(0) : 0;
  request_problem_information_ = c.properties.request_problem_information.value_or(1) == 1;
  inbound_aliases_.assign(v5() ? config.mqtt.topic_alias_maximum : 0, std::string());
  outbound_aliases_.clear();
  uint16_t keep_alive = c.keep_alive;
  std::optional<uint16_t> server_keep_alive;
  if (v5()) {
    if (config.mqtt.server_keep_alive != 0) {
      server_keep_alive = config.mqtt.server_keep_alive;
    } else if (config.mqtt.max_keep_alive != 0 &&
               (keep_alive == 0 || keep_alive > config.mqtt.max_keep_alive)) {
      server_keep_alive = config.mqtt.max_keep_alive;
    }
    if (server_keep_alive) keep_alive = *server_keep_alive;
  }
  // [MQTT-3.1.2-22]: one and a half times the keep alive without a packet closes the connection.
  keepalive_ = std::chrono::milliseconds(uint64_t{keep_alive} * 1500);
  if (!pending_->auth_method.empty()) auth_method_ = pending_->auth_method;

  std::string response_information;  // outlives `connack`, which views it
  protocol::ConnackPacket connack;
  connack.session_present = session_present;
  if (v5()) {
    protocol::Properties& p = connack.properties;
    if (expiry != requested_expiry) p.session_expiry_interval = expiry;
    if (config.mqtt.receive_maximum != 65535) p.receive_maximum = config.mqtt.receive_maximum;
    if (config.mqtt.max_qos < 2) p.maximum_qos = config.mqtt.max_qos;
    if (!config.mqtt.retain_available) p.retain_available = 0;
    if (config.mqtt.max_packet_size < protocol::kMaxPacketSize) {
      p.maximum_packet_size = config.mqtt.max_packet_size;
    }
    if (c.client_id.empty()) p.assigned_client_identifier = client_.client_id;
    if (config.mqtt.topic_alias_maximum > 0)
      p.topic_alias_maximum = config.mqtt.topic_alias_maximum;
    if (!config.mqtt.wildcard_subscriptions) p.wildcard_subscription_available = 0;
    if (!config.mqtt.subscription_identifiers) p.subscription_identifier_available = 0;
    if (!config.mqtt.shared_subscriptions) p.shared_subscription_available = 0;
    if (server_keep_alive) p.server_keep_alive = *server_keep_alive;
    // Only to clients that asked for it [MQTT-3.1.2-28].
    if (c.properties.request_response_information.value_or(0) == 1 &&
        !config.mqtt.response_information.empty()) {
      response_information = config.mqtt.response_information;
      for (size_t at = response_information.find("%c"); at != std::string::npos;
           at = response_information.find("%c", at + client_.client_id.size())) {
        response_information.replace(at, 2, client_.client_id);
      }
      p.response_information = response_information;
    }
    if (!auth_method_.empty()) {
      p.authentication_method = auth_method_;
      if (!pending_->server_auth_data.empty()) p.authentication_data = pending_->server_auth_data;
    }
  }
  state_ = State::kConnected;
  broker.NoteConnected();
  // The session record is stored before CONNACK acknowledges it (a persistent session that
  // became non-persistent is removed from the store).
  worker_.persistence().WriteSession(*session);
  if (!worker_.persistence().Persists(*session)) worker_.persistence().ForgetSession(*session);
  Send(connack, DurableTicket());
  Log(fmt::format("CONNACK session_present={}", session_present));
  pending_.reset();

  ResendInflight();
  Pump();
  return true;
}

// ---------------------------------------------------------------------------------------------
// PUBLISH and its acknowledgements

bool ClientHandler::HandlePublish(const Frame& frame) {
  absl::StatusOr<protocol::PublishPacket> decoded = protocol::DecodePublish(frame, version_);
  if (!decoded.ok()) return Fail(decoded.status());
  protocol::PublishPacket& p = *decoded;
  const config::MqttConfig& mqtt = worker_.broker().config().mqtt;
  worker_.stats().publish_received.Add();

  if (v5()) {
    if (!p.properties.subscription_ids.empty()) {
      return Fail(ReasonCode::kProtocolError,
                  "subscription identifier in a PUBLISH");  // [MQTT-3.3.4-6]
    }
    if (std::optional<uint16_t> alias = p.properties.topic_alias) {
      if (*alias == 0 || *alias > inbound_aliases_.size()) {
        return Fail(ReasonCode::kTopicAliasInvalid, "topic alias out of range");  // [MQTT-3.3.2-9]
      }
      std::string& mapped = inbound_aliases_[*alias - 1];
      if (!p.topic.empty()) {
        mapped.assign(p.topic);
      } else if (mapped.empty()) {
        return Fail(ReasonCode::kProtocolError, "unknown topic alias");
      } else {
        p.topic = mapped;
      }
    } else if (p.topic.empty()) {
      return Fail(ReasonCode::kProtocolError, "empty topic name without topic alias");
    }
  }
  if (static_cast<uint8_t>(p.qos) > mqtt.max_qos) {
    return Fail(ReasonCode::kQoSNotSupported,
                "QoS above the server's Maximum QoS");  // [MQTT-3.2.2-11]
  }
  if (p.retain && !mqtt.retain_available) {
    return Fail(ReasonCode::kRetainNotSupported, "retain is not available");  // [MQTT-3.2.2-14]
  }
  const PacketType ack_type =
      p.qos == QoS::kExactlyOnce ? PacketType::kPubrec : PacketType::kPuback;
  session::Session& s = session_->state;
  if (p.qos == QoS::kExactlyOnce && s.inbound_qos2.contains(p.packet_id)) {
    // A re-sent QoS 2 PUBLISH we already have: acknowledge again, deliver nothing [MQTT-4.3.3-10].
    SendPublishAck(PacketType::kPubrec, p.packet_id, ReasonCode::kSuccess, {}, DurableTicket());
    return true;
  }
  if (p.qos != QoS::kAtMostOnce && worker_.persistence().enabled() &&
      !worker_.broker().store_healthy()) {
    // The store cannot take it (full disk): refuse instead of acknowledging what may be lost.
    if (!v5()) return Fail(ReasonCode::kQuotaExceeded, "the message cannot be stored now");
    SendPublishAck(ack_type, p.packet_id, ReasonCode::kQuotaExceeded,
                   "the message cannot be stored now");
    return true;
  }
  // Only MQTT 5 clients are told the server's Receive Maximum; a 3.1.1 client's QoS 2 state is
  // bounded by its 65,535 packet identifiers.
  if (v5() && p.qos != QoS::kAtMostOnce &&
      s.inbound_qos2.size() + inbound_inflight_ >= mqtt.receive_maximum) {
    return Fail(ReasonCode::kReceiveMaximumExceeded, "too many QoS 1/2 PUBLISH in flight");
  }
  if (!ValidPayload(p.properties, p.payload)) {
    worker_.stats().Drop(DropReason::kInvalidPayload);
    if (p.qos != QoS::kAtMostOnce) {
      SendPublishAck(ack_type, p.packet_id, ReasonCode::kPayloadFormatInvalid,
                     "payload is not valid UTF-8");
    }
    return true;
  }
  // $SYS belongs to the broker (§4.7.2): clients may read it, never write it. Only the "$SYS"
  // level itself: "$SYSTEM/x" is an ordinary $-topic like "$foo/x".
  const bool sys_topic = p.topic == "$SYS" || p.topic.starts_with("$SYS/");
  if (sys_topic || !worker_.broker().authorizer().CanPublish(client_, p.topic)) {
    worker_.stats().Drop(DropReason::kNotAuthorized);
    Log(fmt::format("PUBLISH to {} not authorized", p.topic));
    if (p.qos != QoS::kAtMostOnce) {
      // MQTT 3.1.1 has no way to say no: acknowledge normally [MQTT-3.3.5-2].
      SendPublishAck(ack_type, p.packet_id,
                     v5() ? ReasonCode::kNotAuthorized : ReasonCode::kSuccess, "not authorized");
    }
    return true;
  }

  // mqtt.max_message_expiry_interval: a longer interval, or none, is cut to the cap.
  if (const uint32_t cap = mqtt.max_message_expiry_interval; cap != 0) {
    p.properties.message_expiry_interval =
        std::min(p.properties.message_expiry_interval.value_or(cap), cap);
  }
  session::MessagePtr message = session::MakeMessage(p, s.id(), clock_.Now());
  if (p.qos == QoS::kAtMostOnce) {
    worker_.Publish(message);
    return true;
  }
  // The acknowledgement waits for every store write holding the message, on any worker.
  std::shared_ptr<Ticket> ticket =
      worker_.persistence().enabled() ? std::make_shared<Ticket>(&worker_) : nullptr;
  size_t receivers = worker_.Publish(message, ticket);
  if (p.qos == QoS::kExactlyOnce) {
    s.inbound_qos2.insert(p.packet_id);
    worker_.persistence().AddInboundQos2(*session_, p.packet_id);
    if (std::shared_ptr<Ticket> batch = DurableTicket()) batch->Then(ticket);
  }
  if (ticket) ticket->Resolve(absl::OkStatus());
  SendPublisherAck(ack_type, p.packet_id,
                   receivers == 0 ? ReasonCode::kNoMatchingSubscribers : ReasonCode::kSuccess,
                   ticket);
  return true;
}

void ClientHandler::SendPublishAck(PacketType type, uint16_t packet_id, ReasonCode code,
                                   std::string_view reason, const std::shared_ptr<Ticket>& ticket) {
  protocol::Properties props;
  if (!reason.empty() && problem_info() && protocol::IsError(code)) props.reason_string = reason;
  // [MQTT-3.4.2-2], [MQTT-3.5.2-2], [MQTT-3.6.2-2], [MQTT-3.7.2-2]: no Reason String that would
  // take the packet over the client's Maximum Packet Size (all four have PUBACK's size).
  if (props.reason_string && protocol::EncodedSize(protocol::PubackPacket{packet_id, code, props},
                                                   version_) > client_maximum_packet_size_) {
    props.reason_string.reset();
  }
  switch (type) {
    case PacketType::kPuback: Send(protocol::PubackPacket{packet_id, code, props}, ticket); break;
    case PacketType::kPubrec: Send(protocol::PubrecPacket{packet_id, code, props}, ticket); break;
    case PacketType::kPubrel: Send(protocol::PubrelPacket{packet_id, code, props}, ticket); break;
    default: Send(protocol::PubcompPacket{packet_id, code, props}, ticket); break;
  }
}

bool ClientHandler::HandlePubrel(uint16_t packet_id) {
  session::Session& s = session_->state;
  // [MQTT-4.3.3-11]: release the packet identifier; unknown ones get 0x92 (MQTT 5).
  bool known = s.inbound_qos2.erase(packet_id) > 0;
  if (known) worker_.persistence().RemoveInboundQos2(*session_, packet_id);
  // PUBCOMP only once the release is stored: the client may reuse the id right after.
  SendPublishAck(PacketType::kPubcomp, packet_id,
                 known || !v5() ? ReasonCode::kSuccess : ReasonCode::kPacketIdentifierNotFound, {},
                 DurableTicket());
  return true;
}

bool ClientHandler::HandlePuback(uint16_t packet_id) {
  session::Session& s = session_->state;
  session::Inflight* entry = s.FindInflight(packet_id);
  if (entry == nullptr || entry->delivery.qos != QoS::kAtLeastOnce) return true;  // stale
  worker_.persistence().RemoveInflight(*session_, packet_id, *entry);
  s.TakeInflight(packet_id);
  Pump();
  return true;
}

bool ClientHandler::HandlePubrec(uint16_t packet_id, ReasonCode reason) {
  session::Session& s = session_->state;
  session::Inflight* entry = s.FindInflight(packet_id);
  if (entry == nullptr || entry->delivery.qos != QoS::kExactlyOnce ||
      entry->state != session::Inflight::State::kAwaitingAck) {
    if (v5()) SendPublishAck(PacketType::kPubrel, packet_id, ReasonCode::kPacketIdentifierNotFound);
    return true;
  }
  if (protocol::IsError(reason)) {
    // The client refused the message: its delivery is over [MQTT-4.3.3-4 note].
    worker_.persistence().RemoveInflight(*session_, packet_id, *entry);
    s.TakeInflight(packet_id);
    Pump();
    return true;
  }
  entry->state = session::Inflight::State::kAwaitingComp;
  // PUBREL once the new state is stored: after a restart the broker must not send the
  // PUBLISH again to a client that already released it.
  worker_.persistence().UpdateInflight(*session_, packet_id, *entry);
  SendPublishAck(PacketType::kPubrel, packet_id, ReasonCode::kSuccess, {},
                 entry->stored ? DurableTicket() : nullptr);
  return true;
}

bool ClientHandler::HandlePubcomp(uint16_t packet_id) {
  session::Session& s = session_->state;
  session::Inflight* entry = s.FindInflight(packet_id);
  if (entry == nullptr || entry->state != session::Inflight::State::kAwaitingComp) return true;
  worker_.persistence().RemoveInflight(*session_, packet_id, *entry);
  s.TakeInflight(packet_id);
  Pump();
  return true;
}

// ---------------------------------------------------------------------------------------------
// SUBSCRIBE / UNSUBSCRIBE

bool ClientHandler::HandleSubscribe(const Frame& frame) {
  absl::StatusOr<protocol::SubscribePacket> decoded = protocol::DecodeSubscribe(frame, version_);
  if (!decoded.ok()) return Fail(decoded.status());
  const config::MqttConfig& mqtt = worker_.broker().config().mqtt;
  const protocol::SubscribePacket& p = *decoded;
  const uint32_t subscription_id =
      p.properties.subscription_ids.empty() ? 0 : p.properties.subscription_ids.front();
  session::Session& s = session_->state;

  struct Granted {
    std::string filter;
    protocol::SubscriptionOptions options;
    bool is_new;
  };
  auto granted = std::make_shared<std::vector<Granted>>();
  std::vector<SubscriptionChange> changes;
  protocol::SubackPacket suback;
  suback.packet_id = p.packet_id;
  // A persistent session's subscriptions cannot be stored now (full disk): refuse them.
  const bool unstorable =
      worker_.persistence().Persists(*session_) && !worker_.broker().store_healthy();
  for (const protocol::TopicSubscription& sub : p.subscriptions) {
    ReasonCode rc = protocol::ValidateTopicFilter(sub.filter);
    std::optional<protocol::SharedFilter> shared = protocol::ParseSharedFilter(sub.filter);
    if (rc == ReasonCode::kSuccess) {
      if (unstorable) {
        rc = ReasonCode::kQuotaExceeded;
      } else if (shared && !mqtt.shared_subscriptions) {
        rc = ReasonCode::kSharedSubscriptionsNotSupported;
      } else if (!mqtt.wildcard_subscriptions &&
                 protocol::HasWildcard(shared ? shared->filter : sub.filter)) {
        rc = ReasonCode::kWildcardSubscriptionsNotSupported;
      } else if (subscription_id != 0 && !mqtt.subscription_identifiers) {
        rc = ReasonCode::kSubscriptionIdentifiersNotSupported;
      } else if (!worker_.broker().authorizer().CanSubscribe(client_, sub.filter)) {
        rc = ReasonCode::kNotAuthorized;
      }
    }
    if (rc != ReasonCode::kSuccess) {
      suback.reason_codes.push_back(v5() ? rc : ReasonCode::kUnspecifiedError);
      continue;
    }
    protocol::SubscriptionOptions options = sub.options;
    options.max_qos = protocol::MinQoS(options.max_qos, static_cast<QoS>(mqtt.max_qos));
    std::string filter(sub.filter);
    auto [it, inserted] = s.subscriptions.try_emplace(filter);
    it->second.options = options;
    it->second.subscription_id = subscription_id;
    SubscriptionChange change;
    change.add = true;
    if (shared) {
      change.share_name = std::string(shared->share_name);
      change.filter = std::string(shared->filter);
      change.presence = session_->presence;
    } else {
      change.filter = filter;
    }
    change.subscriber = topic::Subscriber{s.id(), worker_.index(), options, subscription_id};
    changes.push_back(std::move(change));
    if (inserted) worker_.broker().subscriptions().Add(1);
    if (!shared) granted->push_back(Granted{filter, options, inserted});
    suback.reason_codes.push_back(static_cast<ReasonCode>(options.max_qos));
  }
  Log(fmt::format("SUBSCRIBE {} filters", p.subscriptions.size()));

  // SUBACK once every worker routes the new subscriptions and a persistent session's record
  // holds them; then the retained messages [MQTT-3.3.1-9..11] (never for shared subscriptions).
  std::shared_ptr<Ticket> durable;
  if (!changes.empty()) {
    worker_.persistence().WriteSession(*session_);
    durable = DurableTicket();
  }
  std::weak_ptr<int> alive = alive_;
  worker_.BroadcastChanges(std::move(changes), [this, alive, suback = std::move(suback), granted,
                                                subscription_id, durable] {
    if (alive.expired() || state_ != State::kConnected) return;
    Send(suback, durable);
    for (const Granted& g : *granted) {
      const protocol::RetainHandling handling = g.options.retain_handling;
      if (handling == protocol::RetainHandling::kDoNotSend) continue;
      if (handling == protocol::RetainHandling::kSendIfNewSubscription && !g.is_new) continue;
      SendRetained(g.filter, g.options, subscription_id);
    }
  });
  return true;
}

void ClientHandler::SendRetained(const std::string& filter,
                                 const protocol::SubscriptionOptions& options,
                                 uint32_t subscription_id) {
  base::MonoTime now = clock_.Now();
  for (const session::MessagePtr& m : worker_.broker().retained().Match(filter, now)) {
    Delivery d;
    d.message = m;
    d.qos = protocol::MinQoS(m->qos, options.max_qos);
    d.retain = true;  // retained on subscribe always carries the flag [MQTT-3.3.1-9]
    if (subscription_id != 0) d.subscription_ids.push_back(subscription_id);
    Deliver(std::move(d));
  }
}

bool ClientHandler::HandleUnsubscribe(const Frame& frame) {
  absl::StatusOr<protocol::UnsubscribePacket> decoded =
      protocol::DecodeUnsubscribe(frame, version_);
  if (!decoded.ok()) return Fail(decoded.status());
  session::Session& s = session_->state;
  protocol::UnsubackPacket unsuback;
  unsuback.packet_id = decoded->packet_id;
  std::vector<SubscriptionChange> changes;
  for (std::string_view filter : decoded->filters) {
    if (protocol::ValidateTopicFilter(filter) != ReasonCode::kSuccess) {
      unsuback.reason_codes.push_back(ReasonCode::kTopicFilterInvalid);
      continue;
    }
    auto it = s.subscriptions.find(std::string(filter));
    if (it == s.subscriptions.end()) {
      unsuback.reason_codes.push_back(ReasonCode::kNoSubscriptionExisted);
      continue;
    }
    SubscriptionChange change;
    change.add = false;
    if (std::optional<protocol::SharedFilter> shared = protocol::ParseSharedFilter(filter)) {
      change.share_name = std::string(shared->share_name);
      change.filter = std::string(shared->filter);
    } else {
      change.filter = std::string(filter);
    }
    change.subscriber.session = s.id();
    change.subscriber.worker = worker_.index();
    changes.push_back(std::move(change));
    s.subscriptions.erase(it);
    worker_.broker().subscriptions().Add(-1);
    unsuback.reason_codes.push_back(ReasonCode::kSuccess);
  }
  std::shared_ptr<Ticket> durable;
  if (!changes.empty()) {
    worker_.persistence().WriteSession(*session_);
    durable = DurableTicket();
  }
  std::weak_ptr<int> alive = alive_;
  worker_.BroadcastChanges(std::move(changes),
                           [this, alive, unsuback = std::move(unsuback), durable] {
                             if (alive.expired() || state_ != State::kConnected) return;
                             Send(unsuback, durable);
                           });
  return true;
}

// ---------------------------------------------------------------------------------------------
// DISCONNECT, errors, closing

bool ClientHandler::HandleDisconnect(const Frame& frame) {
  absl::StatusOr<protocol::DisconnectPacket> d = protocol::DecodeDisconnect(frame, version_);
  if (!d.ok()) return Fail(d.status());
  Log(fmt::format("DISCONNECT {}", protocol::ReasonCodeName(d->reason_code)));
  if (v5()) {
    if (std::optional<uint32_t> expiry = d->properties.session_expiry_interval) {
      // [MQTT-3.14.2-2]: from 0 to non-zero is a protocol error.
      if (connect_expiry_interval_ == 0 && *expiry != 0) {
        return Fail(ReasonCode::kProtocolError, "session expiry interval changed from 0");
      }
      session_->state.expiry_interval =
          std::min(*expiry, worker_.broker().config().mqtt.max_session_expiry_interval);
    }
  }
  // [MQTT-3.14.4-3], [MQTT-3.1.2-8]: only 0x00 discards the Will; 0x04 and error codes keep
  // it (3.1.1's DISCONNECT decodes as 0x00).
  CloseConnection(d->reason_code != ReasonCode::kSuccess);
  return false;
}

bool ClientHandler::Fail(const absl::Status& error) {
  const absl::string_view message = error.message();
  return Fail(protocol::ReasonCodeOf(error), std::string_view(message.data(), message.size()));
}

bool ClientHandler::Fail(ReasonCode code, std::string_view reason) {
  Log(fmt::format("protocol error {}: {}", protocol::ReasonCodeName(code), reason));
  if (v5() && state_ == State::kConnected &&
      protocol::IsValidReasonCode(PacketType::kDisconnect, code)) {
    protocol::DisconnectPacket d;
    d.reason_code = code;
    std::string text(reason);
    if (!text.empty()) d.properties.reason_string = text;
    // [MQTT-3.14.2-3]: left out when it would exceed the client's Maximum Packet Size.
    if (protocol::EncodedSize(d, version_) > client_maximum_packet_size_) {
      d.properties.reason_string.reset();
    }
    // The connection ends here: what still waits behind the gate for the store (acks of
    // PUBLISHes being made durable) is never sent, and the DISCONNECT must not wait behind it,
    // or closing discards it with them [MQTT-3.3.4-7].
    gated_.clear();
    Send(d);
  }
  CloseConnection(/*publish_will=*/true);
  return false;
}

void ClientHandler::CloseConnection(bool publish_will) {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  link_.Close();
  Detach(publish_will);
}

void ClientHandler::Detach(bool publish_will) {
  pending_.reset();
  if (session_ == nullptr) return;
  LiveSession* session = session_;
  session_ = nullptr;
  session->handler = nullptr;
  if (worker_.stopping()) return;  // the broker is going away with its sessions
  session->presence->online.store(false, std::memory_order_relaxed);
  worker_.broker().clients_connected().Add(-1);
  worker_.SessionDisconnected(*session, publish_will);
}

void ClientHandler::TakeOver() {
  Log("session taken over by a new connection");
  if (v5() && state_ == State::kConnected) {
    protocol::DisconnectPacket d;
    d.reason_code = ReasonCode::kSessionTakenOver;
    Send(d);
  }
  CloseConnection(/*publish_will=*/true);
}

void ClientHandler::Shutdown() {
  if (state_ == State::kClosed) return;
  if (v5() && state_ == State::kConnected) {
    protocol::DisconnectPacket d;
    d.reason_code = ReasonCode::kServerShuttingDown;
    Send(d);
  }
  CloseConnection(/*publish_will=*/false);
}

void ClientHandler::Tick(base::MonoTime now) {
  const config::Config& config = worker_.broker().config();
  if (state_ == State::kAwaitConnect || state_ == State::kAuthenticating ||
      state_ == State::kCheckingPassword) {
    if (now - accepted_at_ > std::chrono::milliseconds(config.mqtt.connect_timeout_ms)) {
      Log("no CONNECT in time");
      CloseConnection(false);
    }
    return;
  }
  if (state_ != State::kConnected) return;
  if (keepalive_.count() > 0 && now - last_received_ > keepalive_) {
    Fail(ReasonCode::kKeepAliveTimeout, "keep alive timeout");
    return;
  }
  if (BelowHighWatermark()) {
    above_watermark_since_ = base::MonoTime::max();
  } else if (above_watermark_since_ == base::MonoTime::max()) {
    above_watermark_since_ = now;
  } else if (config.backpressure.slow_consumer_timeout_ms != 0 &&
             now - above_watermark_since_ >
                 std::chrono::milliseconds(config.backpressure.slow_consumer_timeout_ms)) {
    SIMQ_LOG_WARN("client {}: disconnecting slow consumer ({} bytes waiting)", client_.client_id,
                  link_.buffered_bytes());
    worker_.stats().slow_consumers_disconnected.Add();
    state_ = State::kClosed;
    link_.Abort();
    Detach(/*publish_will=*/true);
  }
}

// ---------------------------------------------------------------------------------------------
// Outbound

uint16_t ClientHandler::SendWindow() const {
  return std::min<uint16_t>(client_receive_maximum_,
                            worker_.broker().config().mqtt.max_inflight_messages);
}

bool ClientHandler::BelowHighWatermark() const {
  return link_.buffered_bytes() <
         worker_.broker().config().backpressure.write_buffer_high_watermark;
}

void ClientHandler::OnDrained() {
  Pump();
}

void ClientHandler::Deliver(Delivery d, const std::shared_ptr<Ticket>& ticket) {
  if (state_ != State::kConnected || session_ == nullptr) return;
  const base::MonoTime now = clock_.Now();
  if (d.message->expired(now)) {
    worker_.stats().Drop(DropReason::kExpired);
    return;
  }
  session::Session& s = session_->state;
  if (d.qos == QoS::kAtMostOnce) {
    if (!BelowHighWatermark()) {
      worker_.stats().Drop(DropReason::kQoS0Backpressure);
      return;
    }
    SendPublish(d, 0, false);
    return;
  }
  if (resend_.empty() && s.queue_empty() && s.inflight_count() < SendWindow() &&
      BelowHighWatermark()) {
    if (SendInflight(std::move(d)) && ticket && worker_.persistence().Persists(*session_)) {
      worker_.persistence().BatchTicket()->Then(ticket);
    }
    return;
  }
  worker_.Enqueue(*session_, std::move(d), ticket);
}

bool ClientHandler::SendInflight(Delivery d) {
  session::Session& s = session_->state;
  const uint16_t id = s.AllocatePacketId();
  session::Inflight& entry = s.AddInflight(id, std::move(d));
  worker_.persistence().AddInflight(*session_, id, entry);
  // A persistent session's PUBLISH leaves once its in-flight record is stored, so the broker
  // never sends a message it could forget (a QoS 2 one twice) after a restart.
  if (!SendPublish(entry.delivery, id, false, entry.stored ? DurableTicket() : nullptr)) {
    worker_.persistence().RemoveInflight(*session_, id, entry);
    s.TakeInflight(id);
    return false;
  }
  session_->presence->inflight.store(static_cast<uint32_t>(s.inflight_count()),
                                     std::memory_order_relaxed);
  return true;
}

void ClientHandler::Pump() {
  if (state_ != State::kConnected || session_ == nullptr) return;
  session::Session& s = session_->state;
  const base::MonoTime now = clock_.Now();
  // Deferred re-sends of a resumed session first (entries acknowledged meanwhile are done).
  std::erase_if(resend_, [&s](uint16_t id) {
    const session::Inflight* entry = s.FindInflight(id);
    return entry == nullptr || entry->state != session::Inflight::State::kAwaitingAck;
  });
  while (!resend_.empty() && s.inflight_count() - resend_.size() < SendWindow() &&
         BelowHighWatermark()) {
    const uint16_t id = resend_.front();
    resend_.pop_front();
    session::Inflight* entry = s.FindInflight(id);
    if (!SendPublish(entry->delivery, id, /*dup=*/true, DurableTicket())) {
      worker_.persistence().RemoveInflight(*session_, id, *entry);
      s.TakeInflight(id);
    }
  }
  while (!s.queue_empty() && s.inflight_count() < SendWindow() && BelowHighWatermark()) {
    Delivery d = *s.PopQueued();
    // Its queue record goes once the in-flight one is written (same batch, in that order).
    Delivery stored = d;
    if (d.message->expired(now)) {
      worker_.stats().Drop(DropReason::kExpired);  // [MQTT-3.3.2-5]
    } else if (d.qos == QoS::kAtMostOnce) {
      SendPublish(d, 0, false);
    } else {
      d.store_sequence = 0;
      SendInflight(std::move(d));
    }
    worker_.persistence().RemoveQueued(*session_, stored);
  }
  session_->presence->inflight.store(static_cast<uint32_t>(s.inflight_count()),
                                     std::memory_order_relaxed);
}

void ClientHandler::ResendInflight() {
  session::Session& s = session_->state;
  // [MQTT-4.4.0-1]: unacknowledged PUBLISH again with DUP, and PUBREL, in the original order.
  // The re-sent PUBLISH count against this connection's send quota (§4.9, [MQTT-3.3.4-9]):
  // those beyond the client's Receive Maximum wait in resend_ for Pump.
  // Re-sends wait for the current store batch, so what they repeat is stored first.
  const std::shared_ptr<Ticket> durable = DurableTicket();
  size_t on_wire = 0;
  for (uint16_t id : s.InflightInOrder()) {
    session::Inflight* entry = s.FindInflight(id);
    if (entry->state == session::Inflight::State::kAwaitingComp) {
      SendPublishAck(PacketType::kPubrel, id, ReasonCode::kSuccess, {}, durable);
      ++on_wire;
    } else if (on_wire >= SendWindow()) {
      resend_.push_back(id);
    } else if (SendPublish(entry->delivery, id, true, durable)) {
      ++on_wire;
    } else {
      worker_.persistence().RemoveInflight(*session_, id, *entry);
      s.TakeInflight(id);
    }
  }
}

bool ClientHandler::SendPublish(const Delivery& d, uint16_t packet_id, bool dup,
                                const std::shared_ptr<Ticket>& ticket) {
  const session::Message& m = *d.message;
  protocol::PublishPacket p;
  p.topic = m.topic;
  p.qos = d.qos;
  p.retain = d.retain;
  p.dup = dup;
  p.packet_id = packet_id;
  p.payload = m.payload;
  bool new_alias = false;
  if (v5()) {
    p.properties = m.properties.view();
    p.properties.message_expiry_interval = m.RemainingExpiry(clock_.Now());
    if (!d.subscription_ids.empty()) {
      p.properties.subscription_ids = protocol::SubscriptionIds(
          std::span<const uint32_t>(d.subscription_ids.data(), d.subscription_ids.size()));
    }
    if (client_topic_alias_maximum_ > 0) {
      auto it = outbound_aliases_.find(m.topic);
      if (it != outbound_aliases_.end()) {
        p.properties.topic_alias = it->second;
        p.topic = std::string_view();
      } else if (outbound_aliases_.size() < client_topic_alias_maximum_) {
        p.properties.topic_alias = static_cast<uint16_t>(outbound_aliases_.size() + 1);
        new_alias = true;
      }
    }
  }
  if (protocol::EncodedSize(p, version_) > client_maximum_packet_size_) {
    // [MQTT-3.1.2-25]: discard it and behave as if its delivery completed.
    worker_.stats().Drop(DropReason::kTooLarge);
    return false;
  }
  if (new_alias) outbound_aliases_.emplace(m.topic, *p.properties.topic_alias);
  std::string& out = Output(ticket);
  protocol::Encode(p, version_, &out);
  Flushed(out);
  worker_.stats().packets_sent.Add();
  worker_.stats().publish_sent.Add();
  return true;
}

}  // namespace simq::core
