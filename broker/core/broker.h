// The broker core of one node: its workers, the retained store, the configuration snapshot and
// the seams to authentication, authorization and the cluster.
//
//   core::Broker broker(config, base::RealClock::Get(), {});
//   broker.Start();
//   ... listeners hand accepted connections to broker.worker(i) ...
//   broker.Stop();
//
// Thread-safe where marked; workers own everything else.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "boost/asio/thread_pool.hpp"

#include "broker/auth/auth_interface.h"
#include "broker/base/clock.h"
#include "broker/cluster/backplane_interface.h"
#include "broker/config/config.h"
#include "broker/core/retained_store.h"
#include "broker/core/stats.h"
#include "broker/core/worker.h"
#include "broker/store/store_interface.h"

namespace simq::core {

struct BrokerOptions {
  // Defaults to AllowAll when null.
  std::shared_ptr<auth::Authenticator> authenticator;
  std::shared_ptr<auth::Authorizer> authorizer;
  // Defaults to LocalBackplane when null.
  std::shared_ptr<cluster::Backplane> backplane;
  // Period of the housekeeping tick (keepalive, expiry, will delay, $SYS).
  std::chrono::milliseconds tick_interval{250};
  // The durable store (owned by the caller, outliving the broker); null keeps everything in
  // memory only.
  store::Store* store = nullptr;
};

// Totals across workers, for $SYS and metrics.
struct StatsSnapshot {
  uint64_t packets_received = 0, packets_sent = 0, bytes_received = 0, bytes_sent = 0;
  uint64_t publish_received = 0, publish_sent = 0, connections_accepted = 0;
  uint64_t sessions_expired = 0, wills_published = 0, slow_consumers_disconnected = 0;
  uint64_t dropped[static_cast<size_t>(DropReason::kCount)] = {};
  uint64_t dropped_total = 0;
  int64_t clients_connected = 0, clients_maximum = 0, sessions = 0, subscriptions = 0;
  uint64_t retained = 0;
};

class Broker {
 public:
  Broker(const config::Config& config, const base::Clock& clock, BrokerOptions options);
  ~Broker();

  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  // Puts back what the store held (before Start): sessions on their home workers with their
  // subscriptions, queues, in-flight messages and Wills; retained messages. Sessions of
  // clients that were connected when the broker stopped are treated as abnormally
  // disconnected now: their Wills follow the Will Delay rules.
  absl::Status Restore(store::LoadedState state);
  void Start();
  // Disconnects every client (MQTT 5: 0x8B Server shutting down) and joins the workers.
  void Stop();

  const config::Config& config() const { return config_; }
  const base::Clock& clock() const { return clock_; }
  const BrokerOptions& options() const { return options_; }
  auth::Authenticator& authenticator() { return *options_.authenticator; }
  auth::Authorizer& authorizer() { return *options_.authorizer; }
  cluster::Backplane& backplane() { return *options_.backplane; }
  RetainedStore& retained() { return retained_; }

  uint32_t worker_count() const { return static_cast<uint32_t>(workers_.size()); }
  Worker& worker(uint32_t i) { return *workers_[i]; }
  // The worker that owns the session of `client_id`. Thread-safe.
  uint32_t HomeWorker(std::string_view client_id) const;
  // A fresh client identifier whose home is `worker` (for clients that send an empty one).
  std::string AssignClientId(uint32_t worker);
  uint64_t NextSessionId() { return next_session_id_.fetch_add(1) + 1; }
  uint64_t NextMessageId() { return next_message_id_.fetch_add(1) + 1; }

  // --- The durable store ---
  store::Store* store() { return options_.store; }
  // False after a failed write until the store recovers: new QoS 1/2 work is refused then
  // (PUBACK/PUBREC 0x97, SUBACK 0x97, CONNACK 0x97; 3.1.1: closed, 0x80, 0x03).
  bool store_healthy() const { return store_healthy_.load(std::memory_order_acquire); }
  // A commit failed (any thread).
  void StoreFailed(const absl::Status& status);
  // On worker 0's tick: tries to make a failed store writable again, then rewrites everything.
  void MaybeRecoverStore();

  // Connected clients (CONNACK sent and not yet closed). Thread-safe.
  Gauge& clients_connected() { return clients_connected_; }
  Gauge& subscriptions() { return subscriptions_; }
  Gauge& sessions() { return sessions_; }
  void NoteConnected();
  // Connections currently open, CONNECT or not. Thread-safe.
  std::atomic<int64_t>& open_connections() { return open_connections_; }

  StatsSnapshot Snapshot() const;
  base::MonoTime started() const { return started_; }

  // Runs every worker's periodic checks now and waits for them (tests, fake clock).
  void TickAll();

  // Runs `work` on a small thread pool for blocking work (slow password hashes), never on a
  // worker; `work` posts its result back to the worker that asked. Thread-safe. Work still
  // queued when the broker is destroyed is dropped.
  void RunBlocking(std::function<void()> work);

 private:
  // On worker 0's tick: publishes the $SYS topics when they are due.
  void MaybePublishSys(base::MonoTime now);
  friend class Worker;

  config::Config config_;
  const base::Clock& clock_;
  BrokerOptions options_;
  RetainedStore retained_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<uint64_t> next_session_id_{0};
  std::atomic<uint64_t> next_message_id_{0};
  std::atomic<bool> store_healthy_{true};
  base::MonoTime next_recovery_attempt_;
  std::atomic<uint64_t> next_assigned_id_{0};
  Gauge clients_connected_;
  Gauge clients_maximum_;
  Gauge subscriptions_;
  Gauge sessions_;
  std::atomic<int64_t> open_connections_{0};
  base::MonoTime started_;
  base::MonoTime next_sys_;
  bool running_ = false;
  // Declared last, so destroyed (stopped and joined) first, while the workers its work posts
  // to still exist.
  std::once_flag created_blocking_;
  std::unique_ptr<asio::thread_pool> blocking_;
};

}  // namespace simq::core
