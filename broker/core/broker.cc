#include "broker/core/broker.h"

#include <future>

#include "boost/asio/post.hpp"
#include "fmt/format.h"

#include "broker/base/log.h"
#include "broker/base/version.h"

namespace simq::core {
namespace {

// FNV-1a: stable across runs and builds, so a session's home worker is a pure function of its
// client identifier and the worker count.
uint64_t StableHash(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

uint32_t WorkerCount(const config::Config& config) {
  if (config.workers != 0) return config.workers;
  uint32_t cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : cores;
}

}  // namespace

Broker::Broker(const config::Config& config, const base::Clock& clock, BrokerOptions options)
    : config_(config),
      clock_(clock),
      options_(std::move(options)),
      retained_(config.retained.max_messages, config.retained.max_bytes) {
  if (!options_.authenticator || !options_.authorizer) {
    auto allow = std::make_shared<auth::AllowAll>();
    if (!options_.authenticator) options_.authenticator = allow;
    if (!options_.authorizer) options_.authorizer = allow;
  }
  if (!options_.backplane) options_.backplane = std::make_shared<cluster::LocalBackplane>();
  const uint32_t n = WorkerCount(config_);
  for (uint32_t i = 0; i < n; ++i) workers_.push_back(std::make_unique<Worker>(*this, i, n));
  for (auto& w : workers_) w->persistence().set_store(options_.store);
}

Broker::~Broker() {
  Stop();
  if (blocking_) {
    blocking_->stop();
    blocking_->join();
  }
}

void Broker::RunBlocking(std::function<void()> work) {
  // Two threads: argon2id is memory-hard (19 MiB per check) and CONNECT storms are throttled.
  std::call_once(created_blocking_, [this] { blocking_ = std::make_unique<asio::thread_pool>(2); });
  asio::post(*blocking_, std::move(work));
}

void Broker::Start() {
  if (running_) return;
  running_ = true;
  started_ = clock_.Now();
  next_sys_ = started_;
  for (auto& w : workers_) w->Start();
}

void Broker::Stop() {
  if (!running_) return;
  running_ = false;
  for (auto& w : workers_) w->Stop();
  // Every batch the workers submitted is on disk before the store goes.
  if (options_.store != nullptr) options_.store->Flush();
}

void Broker::StoreFailed(const absl::Status& status) {
  if (store_healthy_.exchange(false, std::memory_order_acq_rel)) {
    SIMQ_LOG_ERROR("durable store failed: {}; refusing new QoS 1/2 work until it recovers", status);
  }
}

void Broker::MaybeRecoverStore() {
  if (options_.store == nullptr || store_healthy()) return;
  const base::MonoTime now = clock_.Now();
  if (now < next_recovery_attempt_) return;
  next_recovery_attempt_ = now + std::chrono::seconds(1);
  if (absl::Status s = options_.store->Recover(); !s.ok()) return;
  SIMQ_LOG_INFO("durable store writable again; writing every persistent session");
  store_healthy_.store(true, std::memory_order_release);
  // Whatever failed batches held is written again, from memory.
  for (auto& w : workers_) {
    Worker* worker = w.get();
    boost::asio::post(worker->io(), [worker] { worker->Checkpoint(); });
  }
}

uint32_t Broker::HomeWorker(std::string_view client_id) const {
  return static_cast<uint32_t>(StableHash(client_id) % workers_.size());
}

std::string Broker::AssignClientId(uint32_t worker) {
  // Pick an identifier whose home is the asking worker, so the connection need not move.
  while (true) {
    std::string id = fmt::format(
        "simq-{:016x}", StableHash(fmt::format("{}-{}", next_assigned_id_.fetch_add(1),
                                               clock_.WallNow().time_since_epoch().count())));
    if (HomeWorker(id) == worker) return id;
  }
}

void Broker::NoteConnected() {
  clients_connected_.Add(1);
  int64_t now = clients_connected_.Get();
  int64_t max = clients_maximum_.Get();
  while (now > max && !clients_maximum_.value.compare_exchange_weak(max, now)) {
  }
}

StatsSnapshot Broker::Snapshot() const {
  StatsSnapshot s;
  for (const auto& w : workers_) {
    const Stats& st = w->stats();
    s.packets_received += st.packets_received.Get();
    s.packets_sent += st.packets_sent.Get();
    s.bytes_received += st.bytes_received.Get();
    s.bytes_sent += st.bytes_sent.Get();
    s.publish_received += st.publish_received.Get();
    s.publish_sent += st.publish_sent.Get();
    s.connections_accepted += st.connections_accepted.Get();
    s.sessions_expired += st.sessions_expired.Get();
    s.wills_published += st.wills_published.Get();
    s.slow_consumers_disconnected += st.slow_consumers_disconnected.Get();
    for (size_t r = 0; r < static_cast<size_t>(DropReason::kCount); ++r) {
      s.dropped[r] += st.dropped[r].Get();
      s.dropped_total += st.dropped[r].Get();
    }
  }
  s.clients_connected = clients_connected_.Get();
  s.clients_maximum = clients_maximum_.Get();
  s.sessions = sessions_.Get();
  s.subscriptions = subscriptions_.Get();
  s.retained = retained_.size();
  return s;
}

void Broker::TickAll() {
  std::vector<std::future<void>> done;
  for (auto& w : workers_) {
    auto promise = std::make_shared<std::promise<void>>();
    done.push_back(promise->get_future());
    Worker* worker = w.get();
    boost::asio::post(worker->io(), [worker, promise] {
      worker->Tick();
      promise->set_value();
    });
  }
  for (auto& f : done) f.wait();
}

void Broker::MaybePublishSys(base::MonoTime now) {
  if (config_.sys.interval_seconds == 0 || now < next_sys_) return;
  next_sys_ = now + std::chrono::seconds(config_.sys.interval_seconds);
  const StatsSnapshot s = Snapshot();
  const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(now - started_).count();
  std::vector<std::pair<std::string, std::string>> values = {
      // Names follow Mosquitto's where one exists.
      {"$SYS/broker/version", fmt::format("simq version {}", kVersion)},
      {"$SYS/broker/uptime", fmt::format("{} seconds", uptime)},
      {"$SYS/broker/clients/connected", std::to_string(s.clients_connected)},
      {"$SYS/broker/clients/total", std::to_string(s.sessions)},
      {"$SYS/broker/clients/disconnected", std::to_string(s.sessions - s.clients_connected)},
      {"$SYS/broker/clients/maximum", std::to_string(s.clients_maximum)},
      {"$SYS/broker/clients/expired", std::to_string(s.sessions_expired)},
      {"$SYS/broker/messages/received", std::to_string(s.packets_received)},
      {"$SYS/broker/messages/sent", std::to_string(s.packets_sent)},
      {"$SYS/broker/publish/messages/received", std::to_string(s.publish_received)},
      {"$SYS/broker/publish/messages/sent", std::to_string(s.publish_sent)},
      {"$SYS/broker/publish/messages/dropped", std::to_string(s.dropped_total)},
      {"$SYS/broker/bytes/received", std::to_string(s.bytes_received)},
      {"$SYS/broker/bytes/sent", std::to_string(s.bytes_sent)},
      {"$SYS/broker/subscriptions/count", std::to_string(s.subscriptions)},
      {"$SYS/broker/retained messages/count", std::to_string(s.retained)},
  };
  for (size_t r = 0; r < static_cast<size_t>(DropReason::kCount); ++r) {
    values.emplace_back(fmt::format("$SYS/broker/publish/messages/dropped/{}",
                                    DropReasonName(static_cast<DropReason>(r))),
                        std::to_string(s.dropped[r]));
  }
  Worker& w = *workers_[0];
  for (auto& [topic, payload] : values) {
    auto m = std::make_shared<session::Message>();
    m->topic = std::move(topic);
    m->payload = std::move(payload);
    m->retain = true;
    w.Publish(m);
  }
}

}  // namespace simq::core
