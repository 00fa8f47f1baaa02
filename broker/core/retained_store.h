// The retained messages of the node: one per topic, shared by all workers.
//
//   store.Set(message);                        // retain; an empty payload clears the topic
//   store.Match("sensors/#", now, [](const MessagePtr& m) { ... });
//
// Limits on count and bytes (config [retained]): a store at its count limit refuses new topics
// but keeps replacing and clearing existing ones; a message that would exceed the byte limit
// is refused, and if it was replacing a retained message that one is cleared too, so no
// subscriber gets a stale value. The caller counts every refusal.
// Expired messages are never returned and are removed when met.
//
// Thread-safe: a mutex guards it; reads happen on SUBSCRIBE, writes on retained PUBLISH.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/synchronization/mutex.h"

#include "broker/base/clock.h"
#include "broker/session/message.h"
#include "broker/topic/topic_map.h"

namespace simq::core {

class RetainedStore {
 public:
  RetainedStore(uint64_t max_messages, uint64_t max_bytes)
      : max_messages_(max_messages), max_bytes_(max_bytes) {}

  enum class SetResult { kStored, kCleared, kRefused };
  // Stores `message` under its topic, or clears the topic when the payload is empty
  // [MQTT-3.3.1-6]. kRefused when a new topic would exceed a limit.
  SetResult Set(const session::MessagePtr& message);

  // Every live retained message whose topic matches `filter`.
  std::vector<session::MessagePtr> Match(std::string_view filter, base::MonoTime now);

  // Calls `f` for every retained message (with the lock held: `f` must not call back in).
  void ForEach(absl::FunctionRef<void(const session::MessagePtr&)> f) const;

  size_t size() const;
  uint64_t bytes() const;

 private:
  const uint64_t max_messages_;
  const uint64_t max_bytes_;
  mutable absl::Mutex mu_;
  topic::TopicMap<session::MessagePtr> map_ ABSL_GUARDED_BY(mu_);
  uint64_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace simq::core
