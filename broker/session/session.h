// A session's state, without sockets: what MQTT says must outlive a network connection
// (§4.1): subscriptions, the outbound QoS 1/2 in-flight window and queue, inbound QoS 2 packet
// identifiers awaiting PUBREL, the Will, and expiry.
//
// The broker's worker that owns the session (its "home" worker) is the only thread that
// touches it. A network connection attaches to it (core::ClientHandler) and detaches when it
// ends; the session outlives it for as long as its Session Expiry Interval says (STYLE §20).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"

#include "broker/base/clock.h"
#include "broker/protocol/packets.h"
#include "broker/session/message.h"

namespace simq::session {

using SubscriptionIdList = absl::InlinedVector<uint32_t, 2>;

// The shared subscription ("$share/{share_name}/{filter}") a delivery came through.
struct ShareRef {
  std::string share_name;
  std::string filter;
};

// One message on its way to one session: the message plus what the matching subscriptions
// decided (granted QoS, retain flag, subscription identifiers).
struct Delivery {
  MessagePtr message;
  protocol::QoS qos = protocol::QoS::kAtMostOnce;
  bool retain = false;
  SubscriptionIdList subscription_ids;
  std::shared_ptr<const ShareRef> share;  // set for deliveries through a shared subscription
  uint64_t store_sequence = 0;            // its key in the session's stored queue (0: not stored)

  size_t size_bytes() const { return message ? message->size_bytes() : 0; }
};

// A subscription as the session remembers it (the key is the full filter, "$share/..." kept).
struct SubscriptionRecord {
  protocol::SubscriptionOptions options;
  uint32_t subscription_id = 0;
};

// The Will of the current or last connection, kept until published or cancelled.
struct WillState {
  std::string topic;
  std::string payload;
  protocol::QoS qos = protocol::QoS::kAtMostOnce;
  bool retain = false;
  protocol::OwnedProperties properties;  // Will Properties minus Will Delay Interval
  uint32_t delay_seconds = 0;

  protocol::Will View() const;
};

// An outbound QoS 1/2 message the client has not finished acknowledging.
struct Inflight {
  enum class State : uint8_t {
    kAwaitingAck,   // PUBLISH sent; waiting for PUBACK (QoS 1) or PUBREC (QoS 2)
    kAwaitingComp,  // PUBREL sent; waiting for PUBCOMP
  };
  Delivery delivery;
  State state = State::kAwaitingAck;
  uint64_t sequence = 0;  // send order, for re-sending in order [MQTT-4.6.0-1]
  bool stored = false;    // written to the durable store
};

struct QueueLimits {
  uint32_t max_messages = 0;  // 0 = unlimited
  uint64_t max_bytes = 0;     // 0 = unlimited
  bool drop_oldest = false;   // else drop the new message
};

enum class EnqueueResult {
  kQueued,
  kQueuedDroppedOldest,  // queued; the oldest queued message was discarded to make room
  kDroppedNew,           // not queued: the queue is full
};

class Session {
 public:
  Session(uint64_t id, std::string client_id);

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  uint64_t id() const { return id_; }
  const std::string& client_id() const { return client_id_; }

  // --- Configuration of the current (or last) connection ---
  protocol::ProtocolVersion version = protocol::ProtocolVersion::kMqtt5;
  uint32_t expiry_interval = 0;  // seconds; kSessionNeverExpires = never
  // When an offline session expires; max() while connected or if it never expires.
  base::MonoTime expires_at = base::MonoTime::max();

  // --- Subscriptions, keyed by the full filter ---
  absl::flat_hash_map<std::string, SubscriptionRecord> subscriptions;

  // --- Will ---
  std::optional<WillState> will;
  // When a delayed Will is due (offline, delay running); max() if none.
  base::MonoTime will_due = base::MonoTime::max();

  // --- Outbound QoS 1/2 ---
  // A packet identifier not in use by an in-flight message, or 0 if all 65,535 are.
  uint16_t AllocatePacketId();
  // Records `delivery` as sent with `packet_id`.
  Inflight& AddInflight(uint16_t packet_id, Delivery delivery);
  // Puts back an entry read from the store, keeping its state and send order.
  void RestoreInflight(uint16_t packet_id, Inflight entry);
  Inflight* FindInflight(uint16_t packet_id);
  // Removes and returns the entry, if any.
  std::optional<Inflight> TakeInflight(uint16_t packet_id);
  size_t inflight_count() const { return inflight_.size(); }
  // Packet identifiers of in-flight messages in the order they were first sent.
  std::vector<uint16_t> InflightInOrder() const;
  // Calls `f(packet_id, entry)` for each in-flight entry.
  template <typename F>
  void ForEachInflight(F&& f) {
    for (auto& [id, entry] : inflight_) f(id, entry);
  }
  // Calls `f` for each in-flight entry and removes those for which it returns true.
  template <typename F>
  void EraseInflightIf(F&& f) {
    absl::erase_if(inflight_, [&](auto& kv) { return f(kv.first, kv.second); });
  }

  // --- Queue: deliveries waiting for an in-flight slot, or for the client to come back ---
  // Appends `delivery` within `limits`; every delivery dropped to stay within them (the new one,
  // or the oldest ones) is appended to `dropped` if given.
  EnqueueResult Enqueue(Delivery delivery, const QueueLimits& limits,
                        std::vector<Delivery>* dropped);
  // The next number for a stored queue entry (increasing for the session's life).
  uint64_t NextQueueSequence() { return ++queue_sequence_; }
  void set_queue_sequence(uint64_t sequence) { queue_sequence_ = sequence; }
  std::optional<Delivery> PopQueued();
  bool queue_empty() const { return queue_.empty(); }
  size_t queued_messages() const { return queue_.size(); }
  uint64_t queued_bytes() const { return queued_bytes_; }
  // Calls `f(delivery)` for each queued delivery, oldest first.
  template <typename F>
  void ForEachQueued(F&& f) {
    for (Delivery& d : queue_) f(d);
  }
  // Removes every queued delivery, returning them in order.
  std::deque<Delivery> TakeQueue();
  // Removes queued deliveries whose message expired by `now` and returns them.
  std::vector<Delivery> DropExpired(base::MonoTime now);

  // --- Inbound QoS 2: packet identifiers received (PUBREC sent), PUBREL not yet received ---
  absl::flat_hash_set<uint16_t> inbound_qos2;

 private:
  const uint64_t id_;
  const std::string client_id_;
  absl::flat_hash_map<uint16_t, Inflight> inflight_;
  uint16_t last_packet_id_ = 0;
  uint64_t next_sequence_ = 0;
  std::deque<Delivery> queue_;
  uint64_t queued_bytes_ = 0;
  uint64_t queue_sequence_ = 0;
};

}  // namespace simq::session
