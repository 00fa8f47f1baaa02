// The server side of MQTT for one network connection: CONNECT and authentication, then every
// packet of the connected client, and the sending side of its session's deliveries.
//
// The transport (a Link) feeds it complete frames; it answers by appending encoded packets to
// the Link's output. Errors get the reason code the specification names: CONNACK before the
// session exists, DISCONNECT after (MQTT 5), or a plain close (3.1/3.1.1).
//
// Owner and thread: created and owned by its Link, on the Link's worker. After a successful
// CONNECT it is attached to its session (LiveSession::handler) until the connection ends; the
// session outlives it.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"

#include "broker/auth/auth_interface.h"
#include "broker/base/clock.h"
#include "broker/core/link.h"
#include "broker/core/ticket.h"
#include "broker/core/worker.h"
#include "broker/protocol/decoder.h"
#include "broker/protocol/packets.h"

namespace simq::core {

class ClientHandler {
 public:
  ClientHandler(Worker& worker, Link& link);
  ~ClientHandler();

  ClientHandler(const ClientHandler&) = delete;
  ClientHandler& operator=(const ClientHandler&) = delete;

  // --- From the transport ---
  // The size limit for the next packet: smaller before CONNECT is accepted.
  uint32_t max_inbound_packet_size() const;
  // Handles one complete packet (its views are valid during the call only). False once the
  // handler has closed or migrated the connection: feed it nothing more.
  bool OnFrame(const protocol::Frame& frame);
  // A framing error the transport found (bad Remaining Length, packet too large).
  void OnFramingError(const absl::Status& error);
  // Bytes were read / written (for statistics and keepalive).
  void OnBytesRead(size_t n);
  void OnBytesWritten(size_t n);
  // The output buffer drained below the low watermark: send what waited.
  void OnDrained();
  // The transport is closed (peer, error, or our own Close): detach from the session.
  void OnTransportClosed();

  // --- From the worker ---
  // `ticket`, if given, waits for the store writes this delivery needs.
  void Deliver(session::Delivery delivery, const std::shared_ptr<Ticket>& ticket = nullptr);
  // Writes gated output whose tickets are done (Worker, after tickets complete). False once
  // nothing is left behind the gate.
  bool ReleaseGated();
  // Periodic checks: CONNECT timeout, keepalive, slow consumer.
  void Tick(base::MonoTime now);
  // Another connection took this session over [MQTT-3.1.4-3].
  void TakeOver();
  // The broker is stopping.
  void Shutdown();

  bool connected() const { return state_ == State::kConnected; }
  const std::string& client_id() const { return client_.client_id; }

 private:
  // kCheckingPassword: the CONNECT waits for CheckPassword on the blocking pool.
  enum class State { kAwaitConnect, kAuthenticating, kCheckingPassword, kConnected, kClosed };

  bool HandleConnect(const protocol::Frame& frame);
  bool ContinueConnect();
  bool CheckPasswordOffWorker(std::optional<std::string_view> password);
  bool PasswordChecked(protocol::ReasonCode code);
  bool Accept();
  bool RefuseConnect(protocol::ReasonCode code, std::string_view reason = {});
  bool HandleAuth(const protocol::Frame& frame);
  bool HandlePublish(const protocol::Frame& frame);
  bool HandlePuback(uint16_t packet_id);
  bool HandlePubrec(uint16_t packet_id, protocol::ReasonCode reason);
  bool HandlePubrel(uint16_t packet_id);
  bool HandlePubcomp(uint16_t packet_id);
  bool HandleSubscribe(const protocol::Frame& frame);
  bool HandleUnsubscribe(const protocol::Frame& frame);
  bool HandleDisconnect(const protocol::Frame& frame);

  // Ends the connection for a protocol error: MQTT 5 gets DISCONNECT(code) first.
  bool Fail(protocol::ReasonCode code, std::string_view reason);
  // The same for a ProtocolError status: its reason code and message.
  bool Fail(const absl::Status& error);
  // Closes and detaches; `publish_will` per the rules of §3.1.2.5.
  void CloseConnection(bool publish_will);
  void Detach(bool publish_will);

  // Sending. Every packet goes through the output gate: one that depends on store writes
  // (`ticket` not done) waits, and so does everything sent after it, in order.
  template <typename P>
  void Send(const P& packet, const std::shared_ptr<Ticket>& ticket = nullptr);
  // Where to encode the next packet: the link's output, or the gate.
  std::string& Output(const std::shared_ptr<Ticket>& ticket);
  void Flushed(const std::string& output);
  // PUBACK/PUBREC to a publisher once `ticket` (its message stored) is done; if storing failed:
  // 0x97 Quota exceeded (MQTT 5), or the connection closes (3.1.1 cannot refuse).
  void SendPublisherAck(protocol::PacketType type, uint16_t packet_id, protocol::ReasonCode code,
                        const std::shared_ptr<Ticket>& ticket);
  // An acknowledgement or DISCONNECT with a Reason String, when the client allows it.
  void SendPublishAck(protocol::PacketType type, uint16_t packet_id, protocol::ReasonCode code,
                      std::string_view reason = {},
                      const std::shared_ptr<Ticket>& ticket = nullptr);
  bool SendPublish(const session::Delivery& delivery, uint16_t packet_id, bool dup,
                   const std::shared_ptr<Ticket>& ticket = nullptr);
  // Moves `delivery` into the in-flight window under a new packet id, stores it if the session
  // is persistent, and sends it (after the store write). False if it was too large to send.
  bool SendInflight(session::Delivery delivery);
  // The current batch's ticket if this session is persistent, else null.
  std::shared_ptr<Ticket> DurableTicket();
  void SendRetained(const std::string& filter, const protocol::SubscriptionOptions& options,
                    uint32_t subscription_id);
  // Moves queued deliveries into the in-flight window while it and the buffer have room.
  void Pump();
  void ResendInflight();
  uint16_t SendWindow() const;
  bool BelowHighWatermark() const;
  bool v5() const { return version_ == protocol::ProtocolVersion::kMqtt5; }
  bool problem_info() const { return request_problem_information_; }
  void Log(std::string_view what) const;

  Worker& worker_;
  Link& link_;
  const base::Clock& clock_;
  State state_ = State::kAwaitConnect;
  protocol::ProtocolVersion version_ = protocol::ProtocolVersion::kMqtt311;
  auth::ClientInfo client_;
  LiveSession* session_ = nullptr;
  bool debug_ = false;

  base::MonoTime accepted_at_;
  base::MonoTime last_received_;
  std::chrono::milliseconds keepalive_{0};  // 1.5 × the negotiated keep alive; 0 = none
  base::MonoTime above_watermark_since_ = base::MonoTime::max();

  // CONNECT in progress (kept across enhanced authentication rounds).
  struct PendingConnect {
    std::string bytes;  // the CONNECT packet, owning the views below
    protocol::ConnectPacket packet;
    std::unique_ptr<auth::AuthExchange> exchange;
    std::string auth_method;
    std::string server_auth_data;
  };
  std::unique_ptr<PendingConnect> pending_;
  // Enhanced authentication of the connected client (for re-authentication).
  std::string auth_method_;
  std::unique_ptr<auth::AuthExchange> reauth_;

  // Negotiated with the client.
  uint16_t client_receive_maximum_ = 65535;
  uint32_t client_maximum_packet_size_ = protocol::kMaxPacketSize;
  uint16_t client_topic_alias_maximum_ = 0;
  bool request_problem_information_ = true;
  uint32_t connect_expiry_interval_ = 0;

  // Topic aliases of this connection: inbound (client → server) and outbound.
  std::vector<std::string> inbound_aliases_;
  absl::flat_hash_map<std::string, uint16_t> outbound_aliases_;

  // Inbound QoS 1 not yet acknowledged (waiting for durability), counted with the session's
  // inbound QoS 2 against the server's Receive Maximum.
  uint32_t inbound_inflight_ = 0;

  // In-flight PUBLISH of a resumed session not yet re-sent on this connection because the
  // client's Receive Maximum is smaller than what was in flight [MQTT-3.3.4-9]. Pump re-sends
  // them (DUP, original packet id) before anything new as acknowledgements free the quota.
  std::deque<uint16_t> resend_;

  // The output gate (docs/adr/0003-durability.md).
  struct Gated {
    std::shared_ptr<Ticket> ticket;  // null: waits only for the entries before it
    std::string bytes;
    // A publisher acknowledgement, encoded on release (its code depends on the outcome).
    bool publisher_ack = false;
    protocol::PacketType ack_type = protocol::PacketType::kPuback;
    uint16_t packet_id = 0;
    protocol::ReasonCode code = protocol::ReasonCode::kSuccess;
  };
  std::deque<Gated> gated_;

  // Callbacks that outlive a call (SUBACK after the broadcast) check this is still alive.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace simq::core
