// Broker counters: one Stats per worker, written only by that worker (relaxed atomics), summed
// by whoever reports them ($SYS, metrics). Every message the broker drops is counted here by
// reason; nothing is dropped silently.
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

namespace simq::core {

// Why a message for a subscriber was not delivered.
enum class DropReason : uint8_t {
  kQoS0Backpressure,  // QoS 0 above the connection's high watermark
  kQueueFull,         // session queue limit (count or bytes), policy drop_new
  kQueueOldest,       // session queue limit, policy drop_oldest (the oldest one)
  kExpired,           // Message Expiry Interval ran out before delivery
  kTooLarge,          // larger than the client's Maximum Packet Size [MQTT-3.1.2-25]
  kOfflineQoS0,       // QoS 0 for an offline session (queues.queue_qos0 = false)
  kNoSession,         // the session ended while the message was on its way
  kSharedNoMember,    // a shared subscription group with no member left
  kInvalidPayload,    // Payload Format Indicator 1 with invalid UTF-8 (inbound, 0x99)
  kNotAuthorized,     // inbound PUBLISH denied by the ACL
  kRetainedLimit,     // retained store full: the retained copy was not kept
  kCount,
};

std::string_view DropReasonName(DropReason reason);

struct Counter {
  std::atomic<uint64_t> value{0};
  void Add(uint64_t n = 1) {
    value.store(value.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  uint64_t Get() const { return value.load(std::memory_order_relaxed); }
};

struct Stats {
  Counter packets_received;
  Counter packets_sent;
  Counter bytes_received;
  Counter bytes_sent;
  Counter publish_received;
  Counter publish_sent;
  Counter connections_accepted;
  Counter sessions_expired;
  Counter wills_published;
  Counter slow_consumers_disconnected;
  Counter dropped[static_cast<size_t>(DropReason::kCount)];

  void Drop(DropReason reason, uint64_t n = 1) { dropped[static_cast<size_t>(reason)].Add(n); }
};

// A gauge any thread may move (connected clients, sessions, subscriptions).
struct Gauge {
  std::atomic<int64_t> value{0};
  void Add(int64_t n) { value.fetch_add(n, std::memory_order_relaxed); }
  int64_t Get() const { return value.load(std::memory_order_relaxed); }
};

}  // namespace simq::core
