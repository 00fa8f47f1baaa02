// A broker worker: one thread, one io_context, and everything that thread owns (STYLE §17).
//
// Sessions have a home worker, chosen by hashing the client identifier (Broker::HomeWorker);
// a connection moves to its session's home worker right after its CONNECT is decoded
// (docs/adr/0002-session-home-workers.md). So a session, its connection and every decision
// about them (takeover, packet ids, in-flight windows, queues, wills, expiry) belong to one
// thread and need no lock.
//
// Routing: each worker holds a full replica of the subscription trie. A PUBLISH is matched on
// the publisher's worker; deliveries for sessions of the same worker happen at once, those for
// other workers are batched per event-loop turn and posted (STYLE §19). Posts between two
// workers are FIFO, so one publisher's messages reach each subscriber in order.
//
// Subscription changes are applied to every replica (broadcast) before SUBACK / UNSUBACK.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/steady_timer.hpp"

#include "broker/core/persistence.h"
#include "broker/core/stats.h"
#include "broker/core/ticket.h"
#include "broker/session/session.h"
#include "broker/topic/subscription_trie.h"

namespace simq::core {

class Broker;
class ClientHandler;

namespace asio = boost::asio;

// What other workers may know about a session without touching it: read by shared
// subscription balancing, written by the session's home worker.
struct SessionPresence {
  std::atomic<bool> online{false};
  std::atomic<uint32_t> inflight{0};
};

// A session and, while connected, its connection's handler. Owned by its home worker.
struct LiveSession {
  LiveSession(uint64_t id, std::string client_id) : state(id, std::move(client_id)) {}
  session::Session state;
  ClientHandler* handler = nullptr;
  std::shared_ptr<SessionPresence> presence = std::make_shared<SessionPresence>();
  // Durable store bookkeeping (Persistence): whether the store holds this session, and when
  // its last connection ended (Unix ms), which its stored expiry counts from.
  bool stored = false;
  int64_t disconnected_at_ms = 0;
};

// One change to the subscription trie, applied by every worker's replica.
struct SubscriptionChange {
  bool add = true;
  std::string share_name;  // empty for an ordinary subscription
  std::string filter;      // without the "$share/{name}/" prefix
  topic::Subscriber subscriber;
  std::shared_ptr<SessionPresence> presence;  // for shared subscriptions
};

class Worker {
 public:
  Worker(Broker& broker, uint32_t index, uint32_t worker_count);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Starts the thread (and the periodic tick). Stop() waits for it.
  void Start();
  // Closes every connection (v5 clients get DISCONNECT 0x8B), then stops the thread.
  void Stop();

  uint32_t index() const { return index_; }
  asio::io_context& io() { return *io_; }
  // True once Stop() began: connections closing now leave their sessions alone.
  bool stopping() const { return stopping_; }
  Broker& broker() { return broker_; }
  Stats& stats() { return stats_; }
  bool in_thread() const { return std::this_thread::get_id() == thread_id_; }

  // --- Connections ---
  void AddHandler(ClientHandler* handler) { handlers_.insert(handler); }
  void RemoveHandler(ClientHandler* handler) {
    handlers_.erase(handler);
    gated_.erase(handler);
  }
  size_t handler_count() const { return handlers_.size(); }

  // --- Sessions (home worker only) ---
  LiveSession* FindSession(std::string_view client_id);
  LiveSession* FindSession(uint64_t session_id);
  LiveSession& CreateSession(std::string client_id);
  // Ends a session: publishes a pending Will, removes its subscriptions everywhere,
  // redistributes its shared-subscription messages, forgets it. The handler, if any, must
  // already be detached.
  void EndSession(LiveSession& session);
  // The connection of `session` is gone: keep or end the session per its expiry interval,
  // publish or schedule the Will if `publish_will`.
  void SessionDisconnected(LiveSession& session, bool publish_will);
  size_t session_count() const { return sessions_by_id_.size(); }

  // --- Routing ---
  // Routes a message accepted from a client (or a Will, or $SYS): retained store, matching,
  // delivery. Returns the number of sessions it was delivered or queued to. `ticket`, if
  // given, is made to wait for every store write holding the message (on any worker).
  size_t Publish(const session::MessagePtr& message,
                 const std::shared_ptr<Ticket>& ticket = nullptr);
  // Delivers to a session of this worker (connected: send or queue; offline: queue).
  void Deliver(LiveSession& session, session::Delivery delivery,
               const std::shared_ptr<Ticket>& ticket = nullptr);
  // Queues for later within the session's limits; every drop is counted.
  void Enqueue(LiveSession& session, session::Delivery delivery,
               const std::shared_ptr<Ticket>& ticket = nullptr);
  // Sends `delivery` to another member of its shared subscription group. When no other member
  // is online, `except_session` keeps it (queued) if it is an offline member that stays.
  void Redistribute(session::Delivery delivery, uint64_t except_session,
                    const std::shared_ptr<Ticket>& ticket = nullptr);

  // --- Durability (docs/adr/0003-durability.md) ---
  Persistence& persistence() { return persistence_; }
  // Submits the store batch at the end of this event-loop turn.
  void ScheduleSubmit();
  // A ticket of this worker completed (any thread): release connections' gated output.
  void TicketDone();
  // `handler` holds output that waits for a ticket.
  void AddGated(ClientHandler* handler) { gated_.insert(handler); }
  // Writes every persistent session again (after the store recovered from a failure).
  void Checkpoint();

  // --- Subscriptions ---
  // Applies restored subscriptions to this worker's replica (before the workers start).
  void RestoreSubscriptions(const std::vector<SubscriptionChange>& changes) {
    ApplyChanges(changes);
  }
  // Applies `changes` here and on every other worker, then runs `done` on this worker.
  void BroadcastChanges(std::vector<SubscriptionChange> changes, std::function<void()> done);

  // Runs the periodic checks now (tests with a fake clock call it through Broker::TickAll).
  void Tick();

 private:
  struct RemoteDelivery {
    uint64_t session;
    session::Delivery delivery;
    std::shared_ptr<Ticket> ticket;  // the publish's, resolved once delivered here
  };

  void ApplyChanges(const std::vector<SubscriptionChange>& changes);
  void Post(uint32_t worker, std::function<void()> fn);
  void QueueRemote(uint32_t worker, uint64_t session, session::Delivery delivery,
                   const std::shared_ptr<Ticket>& ticket);
  void ReleaseGated();
  void FlushOutboxes();
  void DeliverRemote(std::vector<RemoteDelivery> batch);
  // Picks a member of `group` for a message; nullptr if it has none.
  const topic::Subscriber* PickMember(topic::SharedGroup& group, uint64_t except_session);
  void PublishWill(LiveSession& session);
  // Moves a departing member's shared-subscription messages to other members: everything
  // queued, and QoS 1 in flight (unless `ending`, only those another online member can take). QoS 2
  // in flight stays with it [MQTT-4.8.2-4] unless `ending`, in which case it is dropped
  // [MQTT-4.8.2-5].
  void RedistributeShared(LiveSession& session, bool ending);
  void ScheduleTick();

  Broker& broker_;
  const uint32_t index_;
  // Destroyed explicitly in ~Worker, first: pending handlers own connections whose
  // destructors still use the members below.
  std::unique_ptr<asio::io_context> io_;
  std::unique_ptr<asio::steady_timer> tick_timer_;
  std::thread thread_;
  std::thread::id thread_id_;
  std::atomic<bool> stopping_{false};
  Stats stats_;

  topic::SubscriptionTrie trie_;
  // Presence of sessions with shared subscriptions, for balancing: session → (presence, count).
  absl::flat_hash_map<uint64_t, std::pair<std::shared_ptr<SessionPresence>, uint32_t>> presence_;

  absl::flat_hash_set<ClientHandler*> handlers_;
  absl::flat_hash_set<ClientHandler*> gated_;  // handlers with output waiting for a ticket
  Persistence persistence_{*this};
  bool submit_scheduled_ = false;
  std::atomic<bool> release_posted_{false};
  absl::flat_hash_map<std::string, std::unique_ptr<LiveSession>> sessions_;
  absl::flat_hash_map<uint64_t, LiveSession*> sessions_by_id_;

  // Deliveries for other workers, flushed once per event-loop turn.
  std::vector<std::vector<RemoteDelivery>> outbox_;
  bool flush_scheduled_ = false;

  // Scratch for Publish (reused to avoid allocation per message).
  struct Match {
    uint64_t session;
    uint32_t worker;
    topic::Subscriber subscriber;
  };
  std::vector<Match> matches_;
  uint64_t rng_state_;
};

}  // namespace simq::core
