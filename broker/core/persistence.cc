#include "broker/core/persistence.h"

#include "boost/asio/post.hpp"

#include "broker/core/broker.h"
#include "broker/core/worker.h"
#include "broker/protocol/encoder.h"

namespace simq::core {

int64_t ToUnixMillis(const base::Clock& clock, base::MonoTime t) {
  if (t == base::MonoTime::max()) return 0;
  const int64_t delta =
      std::chrono::duration_cast<std::chrono::milliseconds>(t - clock.Now()).count();
  return std::max<int64_t>(1, base::ToUnixMillis(clock.WallNow()) + delta);
}

base::MonoTime FromUnixMillis(const base::Clock& clock, int64_t ms) {
  if (ms == 0) return base::MonoTime::max();
  return clock.Now() + std::chrono::milliseconds(ms - base::ToUnixMillis(clock.WallNow()));
}

bool Persistence::Persists(const LiveSession& session) const {
  return store_ != nullptr && session.state.expiry_interval != 0;
}

store::WriteBatch& Persistence::Batch() {
  if (!batch_) {
    batch_ = store_->NewBatch();
    batch_ticket_ = std::make_shared<Ticket>(&worker_);
    worker_.ScheduleSubmit();
  }
  return *batch_;
}

std::shared_ptr<Ticket> Persistence::BatchTicket() {
  if (store_ == nullptr) return nullptr;
  Batch();
  return batch_ticket_;
}

void Persistence::Submit() {
  if (!batch_) return;
  std::shared_ptr<Ticket> ticket = std::move(batch_ticket_);
  std::unique_ptr<store::WriteBatch> batch = std::move(batch_);
  Broker* broker = &worker_.broker();
  store_->Commit(std::move(batch), [ticket, broker](absl::Status status) {
    if (!status.ok()) broker->StoreFailed(status);
    ticket->Resolve(status);
  });
}

uint64_t Persistence::MessageId(const session::Message& message) {
  uint64_t id = message.store_id.load(std::memory_order_acquire);
  if (id != 0) return id;
  const uint64_t fresh = worker_.broker().NextMessageId();
  if (message.store_id.compare_exchange_strong(id, fresh, std::memory_order_acq_rel)) return fresh;
  return id;  // another worker named it first
}

void Persistence::Ref(const session::Message& message) {
  const uint64_t id = MessageId(message);
  if (message.store_refs.fetch_add(1, std::memory_order_acq_rel) == 0) {
    Batch().PutMessage(id, ToRecord(message));
  }
}

void Persistence::Unref(const session::Message& message) {
  if (message.store_refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    Batch().DeleteMessage(message.store_id.load(std::memory_order_acquire));
  }
}

store::MessageRecord Persistence::ToRecord(const session::Message& m) const {
  store::MessageRecord r;
  r.set_topic(m.topic);
  r.set_payload(m.payload);
  r.set_qos(static_cast<uint32_t>(m.qos));
  r.set_retain(m.retain);
  r.set_properties(std::string(m.properties.wire()));
  r.set_expires_at_ms(ToUnixMillis(worker_.broker().clock(), m.expires_at));
  return r;
}

store::DeliveryRecord Persistence::ToRecord(const session::Delivery& d) const {
  store::DeliveryRecord r;
  r.set_message_id(d.message->store_id.load(std::memory_order_acquire));
  r.set_qos(static_cast<uint32_t>(d.qos));
  r.set_retain(d.retain);
  for (uint32_t id : d.subscription_ids) r.add_subscription_ids(id);
  if (d.share) {
    r.set_share_name(d.share->share_name);
    r.set_share_filter(d.share->filter);
  }
  return r;
}

void Persistence::WriteSession(LiveSession& session) {
  if (!Persists(session)) return;
  const session::Session& s = session.state;
  store::SessionRecord r;
  r.set_client_id(s.client_id());
  r.set_protocol_version(static_cast<uint32_t>(s.version));
  r.set_expiry_interval(s.expiry_interval);
  r.set_connected(session.handler != nullptr);
  r.set_disconnected_at_ms(session.disconnected_at_ms);
  for (const auto& [filter, record] : s.subscriptions) {
    store::SubscriptionRecord* sub = r.add_subscriptions();
    sub->set_filter(filter);
    sub->set_options(
        protocol::EncodeSubscriptionOptions(record.options, protocol::ProtocolVersion::kMqtt5));
    sub->set_subscription_id(record.subscription_id);
  }
  if (s.will) {
    store::WillRecord* w = r.mutable_will();
    w->set_topic(s.will->topic);
    w->set_payload(s.will->payload);
    w->set_qos(static_cast<uint32_t>(s.will->qos));
    w->set_retain(s.will->retain);
    w->set_properties(std::string(s.will->properties.wire()));
    w->set_delay_seconds(s.will->delay_seconds);
    r.set_will_due_ms(ToUnixMillis(worker_.broker().clock(), s.will_due));
  }
  Batch().PutSession(r);
  session.stored = true;
}

void Persistence::ForgetSession(LiveSession& session) {
  if (store_ == nullptr || !session.stored) return;
  Batch().DeleteSession(session.state.client_id());
  session.state.ForEachQueued([&](session::Delivery& d) {
    if (d.store_sequence == 0) return;
    Unref(*d.message);
    d.store_sequence = 0;
  });
  session.state.ForEachInflight([&](uint16_t, session::Inflight& e) {
    if (!e.stored) return;
    Unref(*e.delivery.message);
    e.stored = false;
  });
  session.stored = false;
}

void Persistence::Checkpoint(LiveSession& session) {
  if (!Persists(session)) return;
  WriteSession(session);
  const std::string& client_id = session.state.client_id();
  session.state.ForEachQueued([&](session::Delivery& d) {
    if (d.store_sequence == 0) {
      AddQueued(session, d);
      return;
    }
    Batch().PutMessage(MessageId(*d.message), ToRecord(*d.message));
    Batch().PutQueued(client_id, d.store_sequence, ToRecord(d));
  });
  session.state.ForEachInflight([&](uint16_t id, session::Inflight& e) {
    if (!e.stored) {
      AddInflight(session, id, e);
      return;
    }
    Batch().PutMessage(MessageId(*e.delivery.message), ToRecord(*e.delivery.message));
    UpdateInflight(session, id, e);
  });
  for (uint16_t id : session.state.inbound_qos2) Batch().PutInboundQos2(client_id, id);
}

void Persistence::AddQueued(LiveSession& session, session::Delivery& delivery) {
  if (!Persists(session)) return;
  delivery.store_sequence = session.state.NextQueueSequence();
  Ref(*delivery.message);
  Batch().PutQueued(session.state.client_id(), delivery.store_sequence, ToRecord(delivery));
}

void Persistence::RemoveQueued(LiveSession& session, session::Delivery& delivery) {
  if (store_ == nullptr || delivery.store_sequence == 0) return;
  Batch().DeleteQueued(session.state.client_id(), delivery.store_sequence);
  Unref(*delivery.message);
  delivery.store_sequence = 0;
}

void Persistence::AddInflight(LiveSession& session, uint16_t packet_id, session::Inflight& entry) {
  if (!Persists(session)) return;
  Ref(*entry.delivery.message);
  entry.stored = true;
  UpdateInflight(session, packet_id, entry);
}

void Persistence::UpdateInflight(LiveSession& session, uint16_t packet_id,
                                 const session::Inflight& entry) {
  if (store_ == nullptr || !entry.stored) return;
  store::DeliveryRecord r = ToRecord(entry.delivery);
  r.set_inflight_state(entry.state == session::Inflight::State::kAwaitingComp ? 1 : 0);
  r.set_sequence(entry.sequence);
  Batch().PutInflight(session.state.client_id(), packet_id, r);
}

void Persistence::RemoveInflight(LiveSession& session, uint16_t packet_id,
                                 session::Inflight& entry) {
  if (store_ == nullptr || !entry.stored) return;
  Batch().DeleteInflight(session.state.client_id(), packet_id);
  Unref(*entry.delivery.message);
  entry.stored = false;
}

void Persistence::AddInboundQos2(LiveSession& session, uint16_t packet_id) {
  if (!Persists(session)) return;
  Batch().PutInboundQos2(session.state.client_id(), packet_id);
}

void Persistence::RemoveInboundQos2(LiveSession& session, uint16_t packet_id) {
  if (store_ == nullptr || !session.stored) return;
  Batch().DeleteInboundQos2(session.state.client_id(), packet_id);
}

void Persistence::WriteRetained(const session::Message& message) {
  if (store_ == nullptr) return;
  Batch().PutRetained(ToRecord(message));
}

void Persistence::DeleteRetained(std::string_view topic) {
  if (store_ == nullptr) return;
  Batch().DeleteRetained(topic);
}

}  // namespace simq::core
