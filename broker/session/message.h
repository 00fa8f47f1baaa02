// An application message inside the broker: immutable once built, shared by every session it
// is delivered to, across worker threads.
//
//   MessagePtr m = MakeMessage(publish, publisher_session, clock.Now());
//   // ... route m; sessions keep MessagePtr in their queues and in-flight windows.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "broker/base/clock.h"
#include "broker/protocol/packets.h"
#include "broker/protocol/properties.h"

namespace simq::session {

struct Message {
  std::string topic;
  std::string payload;
  protocol::QoS qos = protocol::QoS::kAtMostOnce;
  bool retain = false;
  // PUBLISH properties passed through to subscribers: Payload Format Indicator, Content Type,
  // Response Topic, Correlation Data, User Properties. Message Expiry is kept as `expires_at`
  // (sent as the remaining interval); Topic Alias and Subscription Identifiers are per hop and
  // never stored.
  protocol::OwnedProperties properties;
  // When the Message Expiry Interval runs out; max() if it has none.
  base::MonoTime expires_at = base::MonoTime::max();
  // The session that published it (0 for the broker's own: $SYS, wills of gone sessions are
  // still attributed to their session). NoLocal compares against it [MQTT-3.8.3-3].
  uint64_t publisher_session = 0;

  // Durable store bookkeeping (core::Persistence): the message's id in the store (0 until it
  // is first stored) and how many stored deliveries reference it. Workers share the message,
  // hence atomics.
  mutable std::atomic<uint64_t> store_id{0};
  mutable std::atomic<uint32_t> store_refs{0};

  bool expired(base::MonoTime now) const { return now >= expires_at; }
  // Seconds left of the Message Expiry Interval, rounded up; nullopt if it has none.
  std::optional<uint32_t> RemainingExpiry(base::MonoTime now) const;
  // Bytes this message accounts for in queue and retained limits.
  size_t size_bytes() const { return topic.size() + payload.size() + properties.wire().size(); }
};

using MessagePtr = std::shared_ptr<const Message>;

// Builds a Message from a decoded PUBLISH (topic already resolved from any alias): copies what
// must outlive the frame and drops per-hop properties.
MessagePtr MakeMessage(const protocol::PublishPacket& publish, uint64_t publisher_session,
                       base::MonoTime now);

// Builds a Message from a Will (published when its session's connection ends).
MessagePtr MakeWillMessage(const protocol::Will& will, uint64_t publisher_session,
                           base::MonoTime now);

}  // namespace simq::session
