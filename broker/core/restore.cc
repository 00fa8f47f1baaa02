// Broker::Restore: the durable store's state back into sessions, tries and retained messages.

#include "absl/container/flat_hash_map.h"

#include "broker/base/log.h"
#include "broker/core/broker.h"
#include "broker/protocol/topic.h"

namespace simq::core {
namespace {

protocol::SubscriptionOptions OptionsFromByte(uint32_t b) {
  protocol::SubscriptionOptions o;
  o.max_qos = static_cast<protocol::QoS>(b & 0x3);
  o.no_local = (b & 0x04) != 0;
  o.retain_as_published = (b & 0x08) != 0;
  o.retain_handling = static_cast<protocol::RetainHandling>((b >> 4) & 0x3);
  return o;
}

}  // namespace

absl::Status Broker::Restore(store::LoadedState state) {
  const base::MonoTime now = clock_.Now();
  const int64_t now_ms = base::ToUnixMillis(clock_.WallNow());
  next_message_id_.store(state.max_message_id);

  absl::flat_hash_map<uint64_t, std::shared_ptr<session::Message>> messages;
  auto message_of = [&](uint64_t id) -> std::shared_ptr<session::Message> {
    auto it = messages.find(id);
    if (it != messages.end()) return it->second;
    const store::MessageRecord& r = state.messages.at(id);
    auto m = std::make_shared<session::Message>();
    m->topic = r.topic();
    m->payload = r.payload();
    m->qos = static_cast<protocol::QoS>(r.qos());
    m->retain = r.retain();
    m->properties = protocol::OwnedProperties::FromWire(r.properties());
    m->expires_at = FromUnixMillis(clock_, r.expires_at_ms());
    m->store_id.store(id);
    messages.emplace(id, m);
    return m;
  };

  size_t retained = 0;
  for (const store::MessageRecord& r : state.retained) {
    auto m = std::make_shared<session::Message>();
    m->topic = r.topic();
    m->payload = r.payload();
    m->qos = static_cast<protocol::QoS>(r.qos());
    m->retain = true;
    m->properties = protocol::OwnedProperties::FromWire(r.properties());
    m->expires_at = FromUnixMillis(clock_, r.expires_at_ms());
    if (m->expired(now)) continue;  // dropped from the store when it is next written
    retained_.Set(m);
    ++retained;
  }

  std::vector<SubscriptionChange> changes;
  size_t queued = 0, inflight = 0, was_connected = 0;
  for (store::StoredSession& stored : state.sessions) {
    const store::SessionRecord& r = stored.record;
    Worker& worker = *workers_[HomeWorker(r.client_id())];
    LiveSession& live = worker.CreateSession(r.client_id());
    live.stored = true;
    session::Session& s = live.state;
    s.version = static_cast<protocol::ProtocolVersion>(r.protocol_version());
    s.expiry_interval = r.expiry_interval();
    for (const store::SubscriptionRecord& sub : r.subscriptions()) {
      session::SubscriptionRecord record{OptionsFromByte(sub.options()), sub.subscription_id()};
      s.subscriptions[sub.filter()] = record;
      subscriptions_.Add(1);
      SubscriptionChange change;
      change.add = true;
      if (std::optional<protocol::SharedFilter> shared =
              protocol::ParseSharedFilter(sub.filter())) {
        change.share_name = std::string(shared->share_name);
        change.filter = std::string(shared->filter);
        change.presence = live.presence;
      } else {
        change.filter = sub.filter();
      }
      change.subscriber =
          topic::Subscriber{s.id(), worker.index(), record.options, record.subscription_id};
      changes.push_back(std::move(change));
    }
    if (r.has_will()) {
      session::WillState will;
      will.topic = r.will().topic();
      will.payload = r.will().payload();
      will.qos = static_cast<protocol::QoS>(r.will().qos());
      will.retain = r.will().retain();
      will.properties = protocol::OwnedProperties::FromWire(r.will().properties());
      will.delay_seconds = r.will().delay_seconds();
      s.will = std::move(will);
    }
    const bool never = s.expiry_interval == protocol::kSessionNeverExpires;
    if (r.connected()) {
      // Its client was connected when the broker stopped: that connection ended now, not by
      // a DISCONNECT, so the Will goes out as for an abnormal disconnect (after its delay).
      ++was_connected;
      live.disconnected_at_ms = now_ms;
      s.expires_at = never ? base::MonoTime::max() : now + std::chrono::seconds(s.expiry_interval);
      if (s.will) {
        s.will_due = std::min(now + std::chrono::seconds(s.will->delay_seconds), s.expires_at);
      }
    } else {
      // Expiry continues by the wall clock from when the client left.
      live.disconnected_at_ms = r.disconnected_at_ms();
      s.expires_at =
          never
              ? base::MonoTime::max()
              : FromUnixMillis(clock_, r.disconnected_at_ms() + int64_t{s.expiry_interval} * 1000);
      if (s.will) s.will_due = FromUnixMillis(clock_, r.will_due_ms());
    }
    uint64_t max_sequence = 0;
    for (auto& [sequence, d] : stored.queue) {
      session::Delivery delivery;
      delivery.message = message_of(d.message_id());
      delivery.message->store_refs.fetch_add(1);
      delivery.qos = static_cast<protocol::QoS>(d.qos());
      delivery.retain = d.retain();
      for (uint32_t id : d.subscription_ids()) delivery.subscription_ids.push_back(id);
      if (!d.share_name().empty()) {
        delivery.share = std::make_shared<session::ShareRef>(
            session::ShareRef{d.share_name(), d.share_filter()});
      }
      delivery.store_sequence = sequence;
      max_sequence = std::max(max_sequence, sequence);
      s.Enqueue(std::move(delivery), session::QueueLimits{}, nullptr);
      ++queued;
    }
    s.set_queue_sequence(max_sequence);
    for (auto& [packet_id, d] : stored.inflight) {
      session::Inflight entry;
      entry.delivery.message = message_of(d.message_id());
      entry.delivery.message->store_refs.fetch_add(1);
      entry.delivery.qos = static_cast<protocol::QoS>(d.qos());
      entry.delivery.retain = d.retain();
      for (uint32_t id : d.subscription_ids()) entry.delivery.subscription_ids.push_back(id);
      if (!d.share_name().empty()) {
        entry.delivery.share = std::make_shared<session::ShareRef>(
            session::ShareRef{d.share_name(), d.share_filter()});
      }
      entry.state = d.inflight_state() == 1 ? session::Inflight::State::kAwaitingComp
                                            : session::Inflight::State::kAwaitingAck;
      entry.sequence = d.sequence();
      entry.stored = true;
      s.RestoreInflight(packet_id, std::move(entry));
      ++inflight;
    }
    for (uint16_t id : stored.inbound_qos2) s.inbound_qos2.insert(id);
    // The record now says "disconnected": a second restart must not publish the Will again.
    if (r.connected()) worker.persistence().WriteSession(live);
  }
  for (auto& w : workers_) w->RestoreSubscriptions(changes);
  SIMQ_LOG_INFO(
      "restored {} sessions ({} were connected), {} queued and {} in-flight messages, {} "
      "retained messages",
      state.sessions.size(), was_connected, queued, inflight, retained);
  if (state.dropped_dangling_deliveries != 0 || state.dropped_unreferenced_messages != 0) {
    SIMQ_LOG_WARN(
        "store repair: dropped {} deliveries without a message and {} unreferenced "
        "messages (writes interrupted by a crash; none was acknowledged)",
        state.dropped_dangling_deliveries, state.dropped_unreferenced_messages);
  }
  return absl::OkStatus();
}

}  // namespace simq::core
