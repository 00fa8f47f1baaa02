// The durable store: one interface for everything that must outlive the process (DESIGN §5):
// sessions (expiry, subscriptions, Will), outbound QoS 1/2 in flight, offline queues, inbound
// QoS 2 packet identifiers awaiting PUBREL, and retained messages. Backends: RocksDB (the
// embedded default), in-memory (tests), later MySQL and MongoDB; all pass the same conformance
// suite (store_conformance.h).
//
//   std::unique_ptr<WriteBatch> batch = store.NewBatch();
//   batch->PutMessage(7, message);
//   batch->PutQueued("client-1", 42, delivery);      // references message 7
//   store.Commit(std::move(batch), [](absl::Status s) { ...durable, or failed... });
//
// A message is stored once and referenced by the deliveries of every session it is queued or
// in flight for; the caller keeps the reference counts and deletes a message with its last
// reference (Load() drops messages nothing references, and deliveries whose message is gone).
//
// Threads: NewBatch and Commit may be called from any thread; batches are applied atomically
// and in the order Commit was called; `done` runs on a store thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

#include "broker/store/store.pb.h"

namespace simq::store {

// A session with everything stored under it.
struct StoredSession {
  SessionRecord record;
  std::vector<std::pair<uint64_t, DeliveryRecord>> queue;     // by queue sequence, ascending
  std::vector<std::pair<uint16_t, DeliveryRecord>> inflight;  // by DeliveryRecord.sequence
  std::vector<uint16_t> inbound_qos2;                         // ascending
};

struct LoadedState {
  std::vector<StoredSession> sessions;
  absl::flat_hash_map<uint64_t, MessageRecord> messages;  // every message a delivery references
  std::vector<MessageRecord> retained;
  uint64_t max_message_id = 0;  // new message ids must be larger
  // What Load() repaired: deliveries without their message, messages nothing references.
  uint64_t dropped_dangling_deliveries = 0;
  uint64_t dropped_unreferenced_messages = 0;
};

class WriteBatch {
 public:
  virtual ~WriteBatch() = default;

  virtual void PutSession(const SessionRecord& session) = 0;
  // Removes the session and its queue, in-flight and inbound QoS 2 entries.
  virtual void DeleteSession(std::string_view client_id) = 0;
  virtual void PutMessage(uint64_t id, const MessageRecord& message) = 0;
  virtual void DeleteMessage(uint64_t id) = 0;
  virtual void PutQueued(std::string_view client_id, uint64_t sequence,
                         const DeliveryRecord& delivery) = 0;
  virtual void DeleteQueued(std::string_view client_id, uint64_t sequence) = 0;
  virtual void PutInflight(std::string_view client_id, uint16_t packet_id,
                           const DeliveryRecord& delivery) = 0;
  virtual void DeleteInflight(std::string_view client_id, uint16_t packet_id) = 0;
  virtual void PutInboundQos2(std::string_view client_id, uint16_t packet_id) = 0;
  virtual void DeleteInboundQos2(std::string_view client_id, uint16_t packet_id) = 0;
  // Retained messages are keyed by their topic.
  virtual void PutRetained(const MessageRecord& message) = 0;
  virtual void DeleteRetained(std::string_view topic) = 0;

  virtual size_t operation_count() const = 0;
  bool empty() const { return operation_count() == 0; }
};

class Store {
 public:
  virtual ~Store() = default;

  // Everything stored, repaired of dangling references (and the repair committed).
  virtual absl::StatusOr<LoadedState> Load() = 0;

  virtual std::unique_ptr<WriteBatch> NewBatch() = 0;
  // Applies `batch` atomically after every batch committed before it. `done` gets OK once it
  // is durable under the configured mode, or the error (e.g. ResourceExhausted: disk full).
  virtual void Commit(std::unique_ptr<WriteBatch> batch,
                      std::function<void(absl::Status)> done) = 0;
  // Waits until every batch committed so far is done.
  virtual void Flush() = 0;

  // After a failed commit: one attempt to make the store writable again (OK once it is;
  // an error, e.g. still recovering or still full, means try again later). Never blocks long.
  virtual absl::Status Recover() = 0;
  // Where the data lives, for messages ("/var/lib/simq", "memory").
  virtual std::string location() const = 0;
};

}  // namespace simq::store
