#include "broker/core/retained_store.h"

namespace simq::core {

RetainedStore::SetResult RetainedStore::Set(const session::MessagePtr& message) {
  absl::MutexLock lock(&mu_);
  if (message->payload.empty()) {
    if (std::optional<session::MessagePtr> old = map_.Erase(message->topic)) {
      bytes_ -= (*old)->size_bytes();
    }
    return SetResult::kCleared;
  }
  const session::MessagePtr* existing = map_.Find(message->topic);
  const uint64_t old_bytes = existing ? (*existing)->size_bytes() : 0;
  const uint64_t new_bytes = bytes_ - old_bytes + message->size_bytes();
  if (existing == nullptr && max_messages_ != 0 && map_.size() + 1 > max_messages_) {
    return SetResult::kRefused;
  }
  if (max_bytes_ != 0 && new_bytes > max_bytes_) {
    // A stale value is worse than none: a replacement that does not fit clears the topic.
    if (existing != nullptr) {
      bytes_ -= old_bytes;
      map_.Erase(message->topic);
    }
    return SetResult::kRefused;
  }
  map_.Set(message->topic, message);
  bytes_ = new_bytes;
  return SetResult::kStored;
}

std::vector<session::MessagePtr> RetainedStore::Match(std::string_view filter, base::MonoTime now) {
  std::vector<session::MessagePtr> out;
  std::vector<std::string> expired;
  {
    absl::ReaderMutexLock lock(&mu_);
    map_.Match(filter, [&](std::string_view topic, const session::MessagePtr& m) {
      if (m->expired(now)) {
        expired.emplace_back(topic);
      } else {
        out.push_back(m);
      }
    });
  }
  if (!expired.empty()) {
    absl::MutexLock lock(&mu_);
    for (const std::string& topic : expired) {
      const session::MessagePtr* m = map_.Find(topic);
      if (m != nullptr && (*m)->expired(now)) {
        bytes_ -= (*m)->size_bytes();
        map_.Erase(topic);
      }
    }
  }
  return out;
}

void RetainedStore::ForEach(absl::FunctionRef<void(const session::MessagePtr&)> f) const {
  absl::ReaderMutexLock lock(&mu_);
  map_.ForEach([&](std::string_view, const session::MessagePtr& m) { f(m); });
}

size_t RetainedStore::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return map_.size();
}

uint64_t RetainedStore::bytes() const {
  absl::ReaderMutexLock lock(&mu_);
  return bytes_;
}

}  // namespace simq::core
