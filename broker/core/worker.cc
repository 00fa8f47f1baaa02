#include "broker/core/worker.h"

#include <algorithm>
#include <future>

#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/post.hpp"

#include "broker/base/log.h"
#include "broker/core/broker.h"
#include "broker/core/client_handler.h"
#include "broker/protocol/topic.h"

namespace simq::core {

using protocol::QoS;
using session::Delivery;

namespace {

// Whether a shared-subscription member is connected; like PickMember, a session without a
// presence record counts as online.
template <typename PresenceMap>
bool MemberOnline(const PresenceMap& presence, uint64_t session) {
  auto it = presence.find(session);
  return it == presence.end() || it->second.first->online.load(std::memory_order_relaxed);
}

}  // namespace

Worker::Worker(Broker& broker, uint32_t index, uint32_t worker_count)
    : broker_(broker),
      index_(index),
      io_(std::make_unique<asio::io_context>(1)),
      tick_timer_(std::make_unique<asio::steady_timer>(*io_)),
      outbox_(worker_count),
      rng_state_(0x9E3779B97F4A7C15ull * (index + 1)) {}

Worker::~Worker() {
  Stop();
  stopping_ = true;
  tick_timer_.reset();
  io_.reset();  // destroys pending handlers (and connections) while the members still exist
}

void Worker::Start() {
  ScheduleTick();
  thread_ = std::thread([this] {
    thread_id_ = std::this_thread::get_id();
    auto guard = asio::make_work_guard(*io_);
    io_->run();
  });
}

void Worker::Stop() {
  if (!thread_.joinable()) return;
  stopping_ = true;
  asio::post(*io_, [this] {
    std::vector<ClientHandler*> all(handlers_.begin(), handlers_.end());
    for (ClientHandler* h : all) h->Shutdown();
    tick_timer_->cancel();
    // Give the DISCONNECTs a moment to leave, then stop.
    auto deadline = std::make_shared<asio::steady_timer>(*io_, std::chrono::milliseconds(500));
    auto poll = std::make_shared<std::function<void()>>();
    *poll = [this, deadline, poll] {
      if (handlers_.empty() || deadline->expiry() <= asio::steady_timer::clock_type::now()) {
        io_->stop();
        *poll = nullptr;  // break the cycle
        return;
      }
      auto t = std::make_shared<asio::steady_timer>(*io_, std::chrono::milliseconds(10));
      t->async_wait([t, poll](const boost::system::error_code&) {
        if (*poll) (*poll)();
      });
    };
    (*poll)();
  });
  thread_.join();
  persistence_.Submit();  // the last batch of the last turn
}

void Worker::ScheduleTick() {
  tick_timer_->expires_after(broker_.options().tick_interval);
  tick_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    Tick();
    ScheduleTick();
  });
}

void Worker::Post(uint32_t worker, std::function<void()> fn) {
  if (stopping_) return;
  asio::post(broker_.worker(worker).io(), std::move(fn));
}

// ---------------------------------------------------------------------------------------------
// Sessions

LiveSession* Worker::FindSession(std::string_view client_id) {
  auto it = sessions_.find(std::string(client_id));
  return it == sessions_.end() ? nullptr : it->second.get();
}

LiveSession* Worker::FindSession(uint64_t session_id) {
  auto it = sessions_by_id_.find(session_id);
  return it == sessions_by_id_.end() ? nullptr : it->second;
}

LiveSession& Worker::CreateSession(std::string client_id) {
  auto session = std::make_unique<LiveSession>(broker_.NextSessionId(), client_id);
  LiveSession& ref = *session;
  sessions_by_id_[ref.state.id()] = &ref;
  sessions_[std::move(client_id)] = std::move(session);
  broker_.sessions().Add(1);
  return ref;
}

void Worker::SessionDisconnected(LiveSession& session, bool publish_will) {
  session::Session& s = session.state;
  if (!publish_will) s.will.reset();
  RedistributeShared(session, /*ending=*/false);
  if (s.expiry_interval == 0) {
    EndSession(session);  // the session ends with its connection [MQTT-3.1.2-?]
    return;
  }
  const base::MonoTime now = broker_.clock().Now();
  s.expires_at = s.expiry_interval == protocol::kSessionNeverExpires
                     ? base::MonoTime::max()
                     : now + std::chrono::seconds(s.expiry_interval);
  session.disconnected_at_ms = base::ToUnixMillis(broker_.clock().WallNow());
  if (s.will) {
    if (s.will->delay_seconds == 0) {
      PublishWill(session);
    } else {
      // Sent after the delay, or when the session ends, whichever comes first [MQTT-3.1.3-9].
      s.will_due = std::min(now + std::chrono::seconds(s.will->delay_seconds), s.expires_at);
    }
  }
  persistence_.WriteSession(session);
}

void Worker::EndSession(LiveSession& session) {
  session::Session& s = session.state;
  PublishWill(session);
  std::vector<SubscriptionChange> changes;
  for (const auto& [filter, record] : s.subscriptions) {
    SubscriptionChange change;
    change.add = false;
    if (std::optional<protocol::SharedFilter> shared = protocol::ParseSharedFilter(filter)) {
      change.share_name = std::string(shared->share_name);
      change.filter = std::string(shared->filter);
    } else {
      change.filter = filter;
    }
    change.subscriber.session = s.id();
    change.subscriber.worker = index_;
    changes.push_back(std::move(change));
  }
  broker_.subscriptions().Add(-static_cast<int64_t>(s.subscriptions.size()));
  s.subscriptions.clear();
  BroadcastChanges(std::move(changes), nullptr);
  persistence_.ForgetSession(session);  // before redistributing: moved messages are new entries
  RedistributeShared(session, /*ending=*/true);
  broker_.sessions().Add(-1);
  const uint64_t id = s.id();
  sessions_by_id_.erase(id);
  sessions_.erase(s.client_id());  // destroys `session`
}

void Worker::PublishWill(LiveSession& session) {
  session::Session& s = session.state;
  if (!s.will) return;
  session::WillState will = std::move(*s.will);
  s.will.reset();
  s.will_due = base::MonoTime::max();
  stats_.wills_published.Add();
  persistence_.WriteSession(session);  // the Will is gone from the record too
  Publish(session::MakeWillMessage(will.View(), s.id(), broker_.clock().Now()));
}

void Worker::RedistributeShared(LiveSession& session, bool ending) {
  session::Session& s = session.state;
  std::vector<Delivery> moving;
  bool any_shared = false;
  for (const auto& [filter, record] : s.subscriptions) {
    if (filter.starts_with(protocol::kSharePrefix)) any_shared = true;
  }
  if (!any_shared && !ending) return;
  // A member whose session stays keeps what no other online member could take: queued messages
  // wait, in-flight ones are re-sent with their packet ids when it returns [MQTT-4.4.0-1].
  auto movable = [&](const Delivery& d) {
    if (ending) return true;
    bool online = false;
    trie_.Match(
        d.message->topic, [](const topic::Subscriber&) {},
        [&](topic::SharedGroup& group) {
          if (group.share_name != d.share->share_name || group.filter != d.share->filter) return;
          for (const topic::Subscriber& m : group.members) {
            online |= m.session != s.id() && MemberOnline(presence_, m.session);
          }
        });
    return online;
  };
  std::deque<Delivery> queued = s.TakeQueue();
  session::QueueLimits unlimited;
  for (Delivery& d : queued) {
    if (d.share && movable(d)) {
      persistence_.RemoveQueued(session, d);
      moving.push_back(std::move(d));
    } else {
      s.Enqueue(std::move(d), unlimited, nullptr);  // they fitted before
    }
  }
  s.EraseInflightIf([&](uint16_t id, session::Inflight& entry) {
    if (!entry.delivery.share || !movable(entry.delivery)) return false;
    if (entry.delivery.qos == QoS::kAtLeastOnce &&
        entry.state == session::Inflight::State::kAwaitingAck) {
      persistence_.RemoveInflight(session, id, entry);
      moving.push_back(std::move(entry.delivery));
      return true;
    }
    if (ending) persistence_.RemoveInflight(session, id, entry);
    return ending;  // QoS 2: stays, or is lost with the session [MQTT-4.8.2-5]
  });
  for (Delivery& d : moving) Redistribute(std::move(d), s.id());
}

// ---------------------------------------------------------------------------------------------
// Routing

size_t Worker::Publish(const session::MessagePtr& message, const std::shared_ptr<Ticket>& ticket) {
  if (message->retain) {
    switch (broker_.retained().Set(message)) {
      case RetainedStore::SetResult::kStored: persistence_.WriteRetained(*message); break;
      case RetainedStore::SetResult::kCleared: persistence_.DeleteRetained(message->topic); break;
      case RetainedStore::SetResult::kRefused:
        stats_.Drop(DropReason::kRetainedLimit);
        persistence_.DeleteRetained(message->topic);  // a replaced topic was cleared
        break;
    }
    if (ticket && persistence_.enabled()) persistence_.BatchTicket()->Then(ticket);
  }
  matches_.clear();
  size_t delivered = 0;
  trie_.Match(
      message->topic,
      [&](const topic::Subscriber& sub) {
        matches_.push_back({sub.session, sub.worker, sub});
      },
      [&](topic::SharedGroup& group) {
        const topic::Subscriber* member = PickMember(group, 0);
        if (member == nullptr) {
          stats_.Drop(DropReason::kSharedNoMember);
          return;
        }
        Delivery d;
        d.message = message;
        d.qos = protocol::MinQoS(message->qos, member->options.max_qos);
        d.retain = message->retain && member->options.retain_as_published;
        if (member->subscription_id != 0) d.subscription_ids.push_back(member->subscription_id);
        d.share =
            std::make_shared<session::ShareRef>(session::ShareRef{group.share_name, group.filter});
        ++delivered;
        if (member->worker == index_) {
          if (LiveSession* s = FindSession(member->session)) Deliver(*s, std::move(d), ticket);
        } else {
          QueueRemote(member->worker, member->session, std::move(d), ticket);
        }
      });
  if (matches_.size() > 1) {
    std::sort(matches_.begin(), matches_.end(),
              [](const Match& a, const Match& b) { return a.session < b.session; });
  }
  // One copy per session at the highest granted QoS, with every matching subscription's
  // identifier [MQTT-3.3.4-2], [MQTT-3.3.4-3], [MQTT-3.3.4-4].
  for (size_t i = 0; i < matches_.size();) {
    size_t j = i;
    Delivery d;
    bool wanted = false;
    bool retain_as_published = false;
    QoS qos = QoS::kAtMostOnce;
    for (; j < matches_.size() && matches_[j].session == matches_[i].session; ++j) {
      const topic::Subscriber& sub = matches_[j].subscriber;
      if (sub.options.no_local && sub.session == message->publisher_session)
        continue;  // [MQTT-3.8.3-3]
      wanted = true;
      qos = std::max(qos, protocol::MinQoS(message->qos, sub.options.max_qos));
      retain_as_published |= sub.options.retain_as_published;
      if (sub.subscription_id != 0) d.subscription_ids.push_back(sub.subscription_id);
    }
    if (wanted) {
      d.message = message;
      d.qos = qos;
      // [MQTT-3.3.1-12], [MQTT-3.3.1-13]: the retain flag travels only with Retain As Published.
      d.retain = message->retain && retain_as_published;
      ++delivered;
      const Match& m = matches_[i];
      if (m.worker == index_) {
        if (LiveSession* s = FindSession(m.session)) Deliver(*s, std::move(d), ticket);
      } else {
        QueueRemote(m.worker, m.session, std::move(d), ticket);
      }
    }
    i = j;
  }
  broker_.backplane().Publish(message, nullptr);
  return delivered;
}

void Worker::Deliver(LiveSession& session, Delivery delivery,
                     const std::shared_ptr<Ticket>& ticket) {
  if (session.handler != nullptr) {
    session.handler->Deliver(std::move(delivery), ticket);
    return;
  }
  if (delivery.share) {
    // An offline member does not hold on to its group's messages when another is online.
    Redistribute(std::move(delivery), session.state.id(), ticket);
    return;
  }
  if (delivery.qos == QoS::kAtMostOnce && !broker_.config().queues.queue_qos0) {
    stats_.Drop(DropReason::kOfflineQoS0);
    return;
  }
  Enqueue(session, std::move(delivery), ticket);
}

void Worker::Enqueue(LiveSession& session, Delivery delivery,
                     const std::shared_ptr<Ticket>& ticket) {
  const config::QueueConfig& q = broker_.config().queues;
  session::QueueLimits limits{q.max_queued_messages, q.max_queued_bytes,
                              q.overflow_policy == config::QueueOverflowPolicy::kDropOldest};
  session::Session& s = session.state;
  const bool full =
      (limits.max_messages != 0 && s.queued_messages() >= limits.max_messages) ||
      (limits.max_bytes != 0 && s.queued_bytes() + delivery.size_bytes() > limits.max_bytes);
  if (full) {
    // Expired messages give up their room before the overflow policy drops a live one.
    std::vector<Delivery> expired = s.DropExpired(broker_.clock().Now());
    for (Delivery& d : expired) persistence_.RemoveQueued(session, d);
    if (!expired.empty()) stats_.Drop(DropReason::kExpired, expired.size());
  }
  persistence_.AddQueued(session, delivery);
  const bool stored = delivery.store_sequence != 0;
  std::vector<Delivery> dropped;
  switch (s.Enqueue(std::move(delivery), limits, &dropped)) {
    case session::EnqueueResult::kQueued: break;
    case session::EnqueueResult::kQueuedDroppedOldest:
      stats_.Drop(DropReason::kQueueOldest, dropped.size());
      break;
    case session::EnqueueResult::kDroppedNew: stats_.Drop(DropReason::kQueueFull); break;
  }
  for (Delivery& d : dropped) persistence_.RemoveQueued(session, d);
  if (stored && ticket) persistence_.BatchTicket()->Then(ticket);
}

void Worker::Redistribute(Delivery delivery, uint64_t except_session,
                          const std::shared_ptr<Ticket>& ticket) {
  const session::ShareRef& share = *delivery.share;
  bool done = false;
  trie_.Match(
      delivery.message->topic, [](const topic::Subscriber&) {},
      [&](topic::SharedGroup& group) {
        if (done || group.share_name != share.share_name || group.filter != share.filter) return;
        done = true;
        const topic::Subscriber* member = PickMember(group, except_session);
        if (member == nullptr || !MemberOnline(presence_, member->session)) {
          // No other member is online: an offline member whose session stays keeps the message
          // until it returns, instead of dropping it or passing it between offline members'
          // workers forever (§4.8.2).
          LiveSession* keeper = FindSession(except_session);
          if (keeper != nullptr && keeper->handler == nullptr &&
              keeper->state.subscriptions.contains(std::string(protocol::kSharePrefix) +
                                                   share.share_name + "/" + share.filter)) {
            Enqueue(*keeper, std::move(delivery), ticket);
            return;
          }
        }
        if (member == nullptr || member->session == except_session) {
          stats_.Drop(DropReason::kSharedNoMember);
          return;
        }
        delivery.qos = protocol::MinQoS(delivery.message->qos, member->options.max_qos);
        delivery.subscription_ids.clear();
        if (member->subscription_id != 0)
          delivery.subscription_ids.push_back(member->subscription_id);
        if (member->worker == index_) {
          if (LiveSession* s = FindSession(member->session)) {
            if (s->handler != nullptr) {
              s->handler->Deliver(std::move(delivery), ticket);
            } else {
              Enqueue(*s, std::move(delivery), ticket);  // no member online: wait with this one
            }
          }
        } else {
          QueueRemote(member->worker, member->session, std::move(delivery), ticket);
        }
      });
  if (!done) stats_.Drop(DropReason::kSharedNoMember);
}

const topic::Subscriber* Worker::PickMember(topic::SharedGroup& group, uint64_t except_session) {
  const size_t n = group.members.size();
  if (n == 0) return nullptr;
  auto online = [&](const topic::Subscriber& m) {
    auto it = presence_.find(m.session);
    return it == presence_.end() || it->second.first->online.load(std::memory_order_relaxed);
  };
  const config::SharedSubscriptionStrategy strategy =
      broker_.config().mqtt.shared_subscription_strategy;
  const topic::Subscriber* best = nullptr;
  if (strategy == config::SharedSubscriptionStrategy::kLeastInflight) {
    uint32_t best_inflight = UINT32_MAX;
    for (size_t k = 0; k < n; ++k) {
      const topic::Subscriber& m = group.members[(group.next + k) % n];
      if (m.session == except_session || !online(m)) continue;
      auto it = presence_.find(m.session);
      uint32_t inflight = it == presence_.end() ? 0 : it->second.first->inflight.load();
      if (inflight < best_inflight) {
        best_inflight = inflight;
        best = &m;
      }
    }
    ++group.next;
  } else {
    size_t start = group.next;
    if (strategy == config::SharedSubscriptionStrategy::kRandom) {
      rng_state_ ^= rng_state_ << 13;
      rng_state_ ^= rng_state_ >> 7;
      rng_state_ ^= rng_state_ << 17;
      start = rng_state_ % n;
    }
    for (size_t k = 0; k < n; ++k) {
      const topic::Subscriber& m = group.members[(start + k) % n];
      if (m.session == except_session || !online(m)) continue;
      best = &m;
      group.next = (start + k + 1) % n;
      break;
    }
  }
  if (best != nullptr) return best;
  // Nobody online: the next member that is not leaving keeps it until it returns.
  for (size_t k = 0; k < n; ++k) {
    const topic::Subscriber& m = group.members[(group.next + k) % n];
    if (m.session != except_session) return &m;
  }
  return nullptr;
}

void Worker::QueueRemote(uint32_t worker, uint64_t session, Delivery delivery,
                         const std::shared_ptr<Ticket>& ticket) {
  if (ticket) ticket->Depend();  // until the other worker has delivered (and stored) it
  outbox_[worker].push_back(RemoteDelivery{session, std::move(delivery), ticket});
  if (!flush_scheduled_) {
    flush_scheduled_ = true;
    asio::post(*io_, [this] { FlushOutboxes(); });
  }
}

void Worker::FlushOutboxes() {
  flush_scheduled_ = false;
  for (uint32_t w = 0; w < outbox_.size(); ++w) {
    if (outbox_[w].empty()) continue;
    std::vector<RemoteDelivery> batch;
    batch.swap(outbox_[w]);
    Worker* target = &broker_.worker(w);
    Post(w,
         [target, batch = std::move(batch)]() mutable { target->DeliverRemote(std::move(batch)); });
  }
}

void Worker::DeliverRemote(std::vector<RemoteDelivery> batch) {
  for (RemoteDelivery& r : batch) {
    LiveSession* s = FindSession(r.session);
    if (s != nullptr) {
      Deliver(*s, std::move(r.delivery), r.ticket);
    } else if (r.delivery.share) {
      Redistribute(std::move(r.delivery), r.session, r.ticket);
    } else {
      stats_.Drop(DropReason::kNoSession);
    }
    if (r.ticket) r.ticket->Resolve(absl::OkStatus());
  }
}

// ---------------------------------------------------------------------------------------------
// Subscriptions

void Worker::ApplyChanges(const std::vector<SubscriptionChange>& changes) {
  for (const SubscriptionChange& c : changes) {
    const uint64_t session = c.subscriber.session;
    if (c.share_name.empty()) {
      if (c.add) {
        trie_.Subscribe(c.filter, c.subscriber);
      } else {
        trie_.Unsubscribe(c.filter, session);
      }
      continue;
    }
    if (c.add) {
      if (trie_.SubscribeShared(c.share_name, c.filter, c.subscriber)) {
        auto& entry = presence_[session];
        entry.first = c.presence;
        ++entry.second;
      }
    } else if (trie_.UnsubscribeShared(c.share_name, c.filter, session)) {
      auto it = presence_.find(session);
      if (it != presence_.end() && --it->second.second == 0) presence_.erase(it);
    }
  }
}

void Worker::BroadcastChanges(std::vector<SubscriptionChange> changes, std::function<void()> done) {
  ApplyChanges(changes);
  const uint32_t n = broker_.worker_count();
  if (n == 1 || changes.empty()) {
    if (done) done();
    return;
  }
  auto shared_changes = std::make_shared<const std::vector<SubscriptionChange>>(std::move(changes));
  auto remaining = std::make_shared<uint32_t>(n - 1);
  auto shared_done = std::make_shared<std::function<void()>>(std::move(done));
  const uint32_t origin = index_;
  for (uint32_t w = 0; w < n; ++w) {
    if (w == index_) continue;
    Worker* target = &broker_.worker(w);
    Post(w, [this, target, origin, shared_changes, remaining, shared_done] {
      // Deliveries routed with the old replica go out before the acknowledgement, so nothing
      // matched by the old subscription arrives after UNSUBACK.
      target->FlushOutboxes();
      target->ApplyChanges(*shared_changes);
      target->Post(origin, [remaining, shared_done] {
        if (--*remaining == 0 && *shared_done) (*shared_done)();
      });
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Durability

void Worker::ScheduleSubmit() {
  if (submit_scheduled_) return;
  submit_scheduled_ = true;
  // After everything already queued on this event loop: one batch per turn.
  asio::post(*io_, [this] {
    submit_scheduled_ = false;
    persistence_.Submit();
  });
}

void Worker::TicketDone() {
  if (release_posted_.exchange(true, std::memory_order_acq_rel)) return;
  asio::post(*io_, [this] {
    release_posted_.store(false, std::memory_order_release);
    ReleaseGated();
  });
}

void Worker::ReleaseGated() {
  std::vector<ClientHandler*> gated(gated_.begin(), gated_.end());
  for (ClientHandler* h : gated) {
    if (!gated_.contains(h)) continue;
    if (!h->ReleaseGated()) gated_.erase(h);
  }
}

void Worker::Checkpoint() {
  for (auto& [id, session] : sessions_by_id_) persistence_.Checkpoint(*session);
  if (index_ == 0) {
    broker_.retained().ForEach(
        [&](const session::MessagePtr& m) { persistence_.WriteRetained(*m); });
  }
}

// ---------------------------------------------------------------------------------------------
// Housekeeping

void Worker::Tick() {
  const base::MonoTime now = broker_.clock().Now();
  std::vector<ClientHandler*> handlers(handlers_.begin(), handlers_.end());
  for (ClientHandler* h : handlers) {
    if (handlers_.contains(h)) h->Tick(now);
  }
  std::vector<LiveSession*> due;
  for (auto& [id, session] : sessions_by_id_) {
    if (session->handler != nullptr) continue;
    if (session->state.will_due <= now || session->state.expires_at <= now) due.push_back(session);
  }
  for (LiveSession* session : due) {
    if (session->state.expires_at <= now) {
      stats_.sessions_expired.Add();
      EndSession(*session);
    } else {
      PublishWill(*session);
    }
  }
  if (index_ == 0) {
    broker_.MaybePublishSys(now);
    broker_.MaybeRecoverStore();
  }
}

}  // namespace simq::core
