// An asynchronous MQTT 3.1.1 / 5.0 client on Boost.Asio coroutines: the client the bridge,
// the load generator, the conformance suite and the tests use.
//
//   auto client = Client::Create(executor);
//   ConnectOptions options;
//   options.client_id = "sensor-1";
//   absl::StatusOr<ConnackResult> connack = co_await client->Connect(options);
//   co_await client->Subscribe({{"sensors/#", {.max_qos = QoS::kAtLeastOnce}}});
//   co_await client->Publish(Message{.topic = "sensors/1", .payload = "21.5", .qos =
//   QoS::kExactlyOnce}); absl::StatusOr<Message> m = co_await
//   client->Receive(std::chrono::seconds(5)); co_await client->Disconnect();
//
// What it does for you: packet identifiers; QoS 1 and 2 flows in both directions (inbound QoS 2
// delivered once even when the server re-sends it); an outbound in-flight window that honours
// the server's Receive Maximum; topic aliases both ways; keepalive pings; enhanced
// authentication rounds; and session resume: on a reconnect that finds its session
// (Session Present), unacknowledged PUBLISH are re-sent with DUP and PUBREL re-sent, in order.
//
// It also checks the server: a PUBLISH over the client's Receive Maximum, an unknown topic
// alias or a malformed packet closes the connection with the reason code the specification
// names (DISCONNECT in MQTT 5) and is reported by `last_error()`.
//
// Thread and lifetime: every call runs on the client's executor (one thread, or a strand).
// Created shared; background loops hold only weak references, so dropping the last reference
// closes the connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "boost/asio/any_io_executor.hpp"
#include "boost/asio/awaitable.hpp"

#include "broker/base/event.h"
#include "broker/client/packet_stream.h"
#include "broker/client/transport.h"
#include "broker/protocol/packets.h"
#include "broker/protocol/properties.h"

namespace simq::client {

// An application message, owned by whoever holds it.
struct Message {
  std::string topic;
  std::string payload;
  protocol::QoS qos = protocol::QoS::kAtMostOnce;
  bool retain = false;
  // MQTT 5 PUBLISH (or Will) properties: expiry, content type, response topic, correlation
  // data, user properties, payload format; on received messages also subscription ids.
  protocol::OwnedProperties properties;
  // Received messages only.
  bool dup = false;
  uint16_t packet_id = 0;
};

struct ConnectOptions {
  Endpoint endpoint;
  protocol::ProtocolVersion version = protocol::ProtocolVersion::kMqtt5;
  std::string client_id;
  bool clean_start = true;
  uint16_t keep_alive_seconds = 60;  // 0 disables keepalive
  std::optional<std::string> username;
  std::optional<std::string> password;
  // The Will; its properties (MQTT 5) include Will Delay Interval.
  std::optional<Message> will;
  // CONNECT properties (MQTT 5): Session Expiry Interval, Receive Maximum, Maximum Packet Size,
  // Topic Alias Maximum, Request Response/Problem Information, Authentication Method and
  // Data, User Properties.
  protocol::OwnedProperties properties;
  // Enhanced authentication: given each AUTH the server sends with Continue Authentication
  // (0x18), returns the Authentication Data to answer with.
  std::function<absl::StatusOr<std::string>(const protocol::AuthPacket&)> on_auth;
  // Assign topic aliases to outgoing PUBLISH when the server's Topic Alias Maximum allows.
  bool use_topic_aliases = false;
  // Inbound QoS 1/2 are acknowledged only when Ack() is called (at-least-once consumers).
  bool manual_acks = false;
  std::chrono::milliseconds connect_timeout{10'000};
};

struct ConnackResult {
  bool session_present = false;
  protocol::ReasonCode reason_code = protocol::ReasonCode::kSuccess;
  protocol::OwnedProperties properties;
};

// The outcome of a QoS 1/2 publish: the PUBACK or PUBREC/PUBCOMP reason code (QoS 0: Success).
struct PublishResult {
  protocol::ReasonCode reason_code = protocol::ReasonCode::kSuccess;
  protocol::OwnedProperties properties;
  uint16_t packet_id = 0;
};

struct Subscription {
  std::string filter;
  protocol::SubscriptionOptions options;
};

// SUBACK or UNSUBACK: one reason code per filter (UNSUBACK in 3.1.1 has none).
struct AckResult {
  std::vector<protocol::ReasonCode> reason_codes;
  protocol::OwnedProperties properties;
};

// A DISCONNECT the server sent.
struct ServerDisconnect {
  protocol::ReasonCode reason_code = protocol::ReasonCode::kSuccess;
  protocol::OwnedProperties properties;
};

class Client : public std::enable_shared_from_this<Client> {
 public:
  static std::shared_ptr<Client> Create(asio::any_io_executor executor);
  ~Client();

  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Connects, or reconnects keeping this client's session state, and completes at CONNACK.
  // A CONNACK that refuses the connection is a result (see reason_code), not an error; errors
  // are transport failures, timeouts and protocol violations by the server.
  asio::awaitable<absl::StatusOr<ConnackResult>> Connect(ConnectOptions options);

  // QoS 0 completes once queued; QoS 1 at PUBACK; QoS 2 at PUBCOMP (or at a PUBREC with an
  // error code). Waits for an in-flight slot when the server's Receive Maximum is reached.
  asio::awaitable<absl::StatusOr<PublishResult>> Publish(Message message);
  asio::awaitable<absl::StatusOr<AckResult>> Subscribe(std::vector<Subscription> subscriptions,
                                                       protocol::OwnedProperties properties = {});
  asio::awaitable<absl::StatusOr<AckResult>> Unsubscribe(std::vector<std::string> filters,
                                                         protocol::OwnedProperties properties = {});

  // The next received message. DeadlineExceeded after `timeout`; Unavailable once the
  // connection is gone and nothing is left to read.
  asio::awaitable<absl::StatusOr<Message>> Receive(std::chrono::milliseconds timeout);
  // With manual_acks: acknowledges a received QoS 1 (PUBACK) or QoS 2 (PUBREC) message.
  void Ack(uint16_t packet_id, protocol::ReasonCode reason = protocol::ReasonCode::kSuccess);
  // Delivers received PUBLISH packets synchronously, without copying, instead of queueing them
  // for Receive(). The packet (topic resolved from aliases) is valid during the call only.
  void set_message_handler(std::function<void(const protocol::PublishPacket&)> handler) {
    handler_ = std::move(handler);
  }

  // MQTT 5 re-authentication (AUTH 0x19); completes when the server answers AUTH Success.
  asio::awaitable<absl::StatusOr<protocol::ReasonCode>> Reauthenticate(std::string data);

  // Sends DISCONNECT and closes the connection.
  asio::awaitable<absl::Status> Disconnect(
      protocol::ReasonCode reason = protocol::ReasonCode::kSuccess,
      protocol::OwnedProperties properties = {});
  // Drops the network connection without DISCONNECT: the server publishes the Will.
  void Abort();

  // Waits until the server closes the connection (e.g. after DISCONNECT, takeover, keepalive
  // timeout). True if it closed before `timeout`.
  asio::awaitable<bool> WaitClosed(std::chrono::milliseconds timeout);

  bool connected() const { return connected_; }
  const std::optional<ServerDisconnect>& server_disconnect() const { return server_disconnect_; }
  // Why the last connection ended (OK while connected or after a clean Disconnect()).
  const absl::Status& last_error() const { return last_error_; }
  const protocol::OwnedProperties& connack_properties() const { return connack_properties_; }
  // The properties of the AUTH Success that completed the last re-authentication (its
  // Authentication Data, e.g. a SCRAM server signature).
  const protocol::OwnedProperties& last_auth_properties() const { return last_auth_properties_; }
  uint16_t server_receive_maximum() const { return server_receive_maximum_; }
  size_t inflight() const { return outgoing_.size(); }
  asio::any_io_executor executor() const { return executor_; }

 private:
  enum class OutState { kAwaitPuback, kAwaitPubrec, kAwaitPubcomp };

  template <typename T>
  class Completion;

  struct Outgoing {
    uint64_t sequence = 0;
    OutState state = OutState::kAwaitPuback;
    std::string encoded;  // the PUBLISH with its full topic, for re-sending with DUP
    std::shared_ptr<Completion<PublishResult>> done;
  };

  explicit Client(asio::any_io_executor executor);

  static asio::awaitable<void> ReadLoop(std::weak_ptr<Client> weak,
                                        std::shared_ptr<PacketStream> stream);
  static asio::awaitable<void> KeepAliveLoop(std::weak_ptr<Client> weak,
                                             std::shared_ptr<PacketStream> stream,
                                             std::chrono::seconds interval);

  absl::Status HandleFrame(const protocol::Frame& frame);
  absl::Status HandlePublish(protocol::PublishPacket& publish);
  void HandleAck(protocol::PacketType type, uint16_t packet_id, protocol::ReasonCode reason,
                 const protocol::Properties& properties);
  // Closes the current connection with `error`; in MQTT 5 a protocol error is first answered
  // with DISCONNECT carrying its reason code.
  void Fail(const absl::Status& error);
  void ConnectionLost(const absl::Status& error);
  void ResendSession();
  void DropSession();
  uint16_t NextPacketId();
  void Send(const protocol::Packet& packet);

  asio::any_io_executor executor_;
  ConnectOptions options_;
  std::shared_ptr<PacketStream> stream_;
  bool connected_ = false;
  protocol::ProtocolVersion version_ = protocol::ProtocolVersion::kMqtt5;

  // Server limits from CONNACK.
  uint16_t server_receive_maximum_ = 65535;
  uint32_t server_maximum_packet_size_ = protocol::kMaxPacketSize;
  uint16_t server_topic_alias_maximum_ = 0;
  uint8_t server_maximum_qos_ = 2;
  bool server_retain_available_ = true;
  protocol::OwnedProperties connack_properties_;
  protocol::OwnedProperties last_auth_properties_;

  // Session state (survives reconnects that find the session).
  std::map<uint16_t, Outgoing> outgoing_;
  uint64_t next_sequence_ = 0;
  uint16_t next_packet_id_ = 0;
  absl::flat_hash_set<uint16_t> inbound_qos2_;     // PUBREC sent, PUBREL not yet received
  absl::flat_hash_set<uint16_t> unacked_inbound_;  // manual acks outstanding (QoS 1 and 2)
  absl::flat_hash_map<uint16_t, std::shared_ptr<Completion<AckResult>>> pending_acks_;
  std::shared_ptr<Completion<protocol::ReasonCode>> pending_reauth_;
  base::Event window_;

  // Topic aliases (per network connection).
  std::vector<std::string> inbound_aliases_;
  absl::flat_hash_map<std::string, uint16_t> outbound_aliases_;

  // Received messages for Receive().
  std::deque<Message> received_;
  base::Event received_event_;
  std::function<void(const protocol::PublishPacket&)> handler_;

  bool ping_outstanding_ = false;
  std::optional<ServerDisconnect> server_disconnect_;
  absl::Status last_error_;
  base::Event closed_event_;
};

}  // namespace simq::client
