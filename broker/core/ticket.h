// A durability ticket: completes once everything it waits for is durable (or failed).
//
// Each worker's store batch has one; a QoS 1/2 PUBLISH has one that waits for every batch, on
// any worker, holding its deliveries. A connection holds back a packet that depends on durable
// state (PUBACK to the publisher, PUBLISH to a persistent subscriber, PUBREL, SUBACK, ...)
// until its ticket is done (ClientHandler's output gate), so nothing is acknowledged before it
// is stored (docs/adr/0003-durability.md).
//
//   auto ticket = std::make_shared<Ticket>(&worker);     // waits for one thing: the routing
//   batch_ticket->Then(ticket);                          // ...and for this batch
//   ticket->Resolve(absl::OkStatus());                   // routing done
//   // when the batch commits, `ticket` completes; its worker then releases gated output
//
// Thread-safe: dependencies complete on store and worker threads. On completion the owner
// worker is told (posted to it), never called synchronously.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace simq::core {

class Worker;

class Ticket : public std::enable_shared_from_this<Ticket> {
 public:
  // Waits for `pending` things; `owner` is told when it completes (null: nobody).
  explicit Ticket(Worker* owner, int32_t pending = 1) : owner_(owner), pending_(pending) {}

  Ticket(const Ticket&) = delete;
  Ticket& operator=(const Ticket&) = delete;

  // One more thing to wait for. Only while not done.
  void Depend() { pending_.fetch_add(1, std::memory_order_relaxed); }
  // One thing finished; a failure makes the whole ticket fail.
  void Resolve(const absl::Status& status);
  // `dependent` also waits for this ticket (resolved at once if this one is already done).
  void Then(const std::shared_ptr<Ticket>& dependent);

  bool done() const { return done_.load(std::memory_order_acquire); }
  bool failed() const { return failed_.load(std::memory_order_acquire); }

 private:
  void Complete();

  Worker* const owner_;
  std::atomic<int32_t> pending_;
  std::atomic<bool> failed_{false};
  std::atomic<bool> done_{false};
  absl::Mutex mu_;
  std::vector<std::shared_ptr<Ticket>> dependents_ ABSL_GUARDED_BY(mu_);
};

}  // namespace simq::core
