// The durable side of one worker's sessions: turns every change to a persistent session into
// store records, in the worker's current batch, and tells what must wait for that batch.
//
//   persistence.AddQueued(session, delivery);          // record + message reference
//   batch_ticket = persistence.BatchTicket();          // done when this batch is durable
//   ... at the end of the event-loop turn, the batch is committed (group commit) ...
//
// A session is persistent while its Session Expiry Interval is not 0 (3.1.1: Clean Session 0);
// others never touch the store. Messages are stored once with a reference count kept in the
// Message itself (atomics: workers share messages).
//
// Owner and thread: its worker; every call on the worker's thread. With no store, every call
// is a no-op and BatchTicket() is null.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "broker/core/ticket.h"
#include "broker/session/session.h"
#include "broker/store/store_interface.h"

namespace simq::core {

class Worker;
struct LiveSession;

class Persistence {
 public:
  explicit Persistence(Worker& worker) : worker_(worker) {}

  void set_store(store::Store* store) { store_ = store; }
  bool enabled() const { return store_ != nullptr; }
  bool Persists(const LiveSession& session) const;

  // The ticket of the batch being built (null without a store): done once it is durable.
  std::shared_ptr<Ticket> BatchTicket();

  // The session record: client id, expiry, subscriptions, Will, connection state.
  void WriteSession(LiveSession& session);
  // Removes the session and everything stored under it (no-op if it was never stored).
  void ForgetSession(LiveSession& session);
  // Writes the session and all its entries again (after the store recovered from a failure).
  void Checkpoint(LiveSession& session);

  void AddQueued(LiveSession& session, session::Delivery& delivery);
  void RemoveQueued(LiveSession& session, session::Delivery& delivery);
  void AddInflight(LiveSession& session, uint16_t packet_id, session::Inflight& entry);
  void UpdateInflight(LiveSession& session, uint16_t packet_id, const session::Inflight& entry);
  void RemoveInflight(LiveSession& session, uint16_t packet_id, session::Inflight& entry);
  void AddInboundQos2(LiveSession& session, uint16_t packet_id);
  void RemoveInboundQos2(LiveSession& session, uint16_t packet_id);

  void WriteRetained(const session::Message& message);
  void DeleteRetained(std::string_view topic);

  // Commits the batch being built (called at the end of the event-loop turn).
  void Submit();

  // Record conversions, also used when loading (Broker::Restore).
  store::MessageRecord ToRecord(const session::Message& message) const;
  store::DeliveryRecord ToRecord(const session::Delivery& delivery) const;

 private:
  store::WriteBatch& Batch();
  uint64_t MessageId(const session::Message& message);
  void Ref(const session::Message& message);
  void Unref(const session::Message& message);

  Worker& worker_;
  store::Store* store_ = nullptr;
  std::unique_ptr<store::WriteBatch> batch_;
  std::shared_ptr<Ticket> batch_ticket_;
};

// Wall-clock milliseconds ↔ the process's monotonic time, for deadlines that outlive it.
int64_t ToUnixMillis(const base::Clock& clock, base::MonoTime t);
base::MonoTime FromUnixMillis(const base::Clock& clock, int64_t ms);

}  // namespace simq::core
