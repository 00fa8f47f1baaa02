#include "broker/session/session.h"

#include <algorithm>

namespace simq::session {

protocol::Will WillState::View() const {
  protocol::Will w;
  w.topic = topic;
  w.payload = payload;
  w.qos = qos;
  w.retain = retain;
  w.properties = properties.view();
  return w;
}

Session::Session(uint64_t id, std::string client_id) : id_(id), client_id_(std::move(client_id)) {}

uint16_t Session::AllocatePacketId() {
  if (inflight_.size() >= 65535) return 0;
  // Cycle through the id space so a just-released id is not reused at once, which keeps late
  // duplicate acknowledgements from a previous use harmless.
  while (true) {
    last_packet_id_ = static_cast<uint16_t>(last_packet_id_ + 1);
    if (last_packet_id_ == 0) last_packet_id_ = 1;
    if (!inflight_.contains(last_packet_id_)) return last_packet_id_;
  }
}

Inflight& Session::AddInflight(uint16_t packet_id, Delivery delivery) {
  Inflight& entry = inflight_[packet_id];
  entry.delivery = std::move(delivery);
  entry.state = Inflight::State::kAwaitingAck;
  entry.sequence = next_sequence_++;
  return entry;
}

Inflight* Session::FindInflight(uint16_t packet_id) {
  auto it = inflight_.find(packet_id);
  return it == inflight_.end() ? nullptr : &it->second;
}

void Session::RestoreInflight(uint16_t packet_id, Inflight entry) {
  next_sequence_ = std::max(next_sequence_, entry.sequence + 1);
  inflight_[packet_id] = std::move(entry);
  last_packet_id_ = packet_id;
}

std::optional<Inflight> Session::TakeInflight(uint16_t packet_id) {
  auto it = inflight_.find(packet_id);
  if (it == inflight_.end()) return std::nullopt;
  Inflight entry = std::move(it->second);
  inflight_.erase(it);
  return entry;
}

std::vector<uint16_t> Session::InflightInOrder() const {
  std::vector<std::pair<uint64_t, uint16_t>> order;
  order.reserve(inflight_.size());
  for (const auto& [id, entry] : inflight_) order.emplace_back(entry.sequence, id);
  std::sort(order.begin(), order.end());
  std::vector<uint16_t> ids;
  ids.reserve(order.size());
  for (const auto& [sequence, id] : order) ids.push_back(id);
  return ids;
}

EnqueueResult Session::Enqueue(Delivery delivery, const QueueLimits& limits,
                               std::vector<Delivery>* dropped) {
  const size_t bytes = delivery.size_bytes();
  auto full = [&] {
    return (limits.max_messages != 0 && queue_.size() + 1 > limits.max_messages) ||
           (limits.max_bytes != 0 && queued_bytes_ + bytes > limits.max_bytes);
  };
  EnqueueResult result = EnqueueResult::kQueued;
  if (full()) {
    if (!limits.drop_oldest || queue_.empty()) {
      if (dropped != nullptr) dropped->push_back(std::move(delivery));
      return EnqueueResult::kDroppedNew;
    }
    // Make room from the front; a single message larger than the byte limit is refused.
    while (full() && !queue_.empty()) {
      queued_bytes_ -= queue_.front().size_bytes();
      if (dropped != nullptr) dropped->push_back(std::move(queue_.front()));
      queue_.pop_front();
      result = EnqueueResult::kQueuedDroppedOldest;
    }
    if (full()) {
      if (dropped != nullptr) dropped->push_back(std::move(delivery));
      return EnqueueResult::kDroppedNew;
    }
  }
  queued_bytes_ += bytes;
  queue_.push_back(std::move(delivery));
  return result;
}

std::optional<Delivery> Session::PopQueued() {
  if (queue_.empty()) return std::nullopt;
  Delivery d = std::move(queue_.front());
  queue_.pop_front();
  queued_bytes_ -= d.size_bytes();
  return d;
}

std::vector<Delivery> Session::DropExpired(base::MonoTime now) {
  std::vector<Delivery> expired;
  std::deque<Delivery> kept;
  for (Delivery& d : queue_) {
    if (d.message->expired(now)) {
      queued_bytes_ -= d.size_bytes();
      expired.push_back(std::move(d));
    } else {
      kept.push_back(std::move(d));
    }
  }
  queue_.swap(kept);
  return expired;
}

std::deque<Delivery> Session::TakeQueue() {
  std::deque<Delivery> out;
  out.swap(queue_);
  queued_bytes_ = 0;
  return out;
}

}  // namespace simq::session
