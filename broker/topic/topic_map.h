// A map from topic names to values that can be searched with a topic filter: the retained
// message index (one value per topic, found by the filters of new subscriptions).
//
//   TopicMap<RetainedPtr> retained;
//   retained.Set("sensors/kitchen/temp", message);
//   retained.Match("sensors/+/temp", [](std::string_view topic, const RetainedPtr& m) { ... });
//   retained.Erase("sensors/kitchen/temp");
//
// Stored as a tree of topic levels, so a filter visits only the branches it can match.
// Wildcards follow the same rules as SubscriptionTrie: a leading '+' or '#' never matches a
// topic starting with '$' [MQTT-4.7.2-1]; "a/#" matches "a" itself.
//
// Owner and thread: not thread-safe; the owner serialises access.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"

namespace simq::topic {

template <typename T>
class TopicMap {
 public:
  // Inserts or replaces. Returns the previous value, if any.
  std::optional<T> Set(std::string_view topic, T value);
  // Removes; returns the removed value, if any. Empty branches are pruned.
  std::optional<T> Erase(std::string_view topic);
  const T* Find(std::string_view topic) const;
  // Calls `f(topic, value)` for every entry whose topic matches `filter` (a valid, non-shared
  // topic filter), in no particular order. `f` must not change the map. Walks only the branches
  // the filter can match; its work stack is the only allocation.
  void Match(std::string_view filter,
             absl::FunctionRef<void(std::string_view topic, const T& value)> f) const;
  // Calls `f` for every entry.
  void ForEach(absl::FunctionRef<void(std::string_view topic, const T& value)> f) const;
  size_t size() const { return size_; }
  // Nodes currently allocated, the root included: 1 when empty (memory accounting; tests that
  // check pruning).
  size_t node_count() const { return node_count_; }

 private:
  struct Node {
    absl::flat_hash_map<std::string, std::unique_ptr<Node>> children;
    std::optional<T> value;
    std::string topic;  // full topic name, set while `value` is
  };

  const Node* FindNode(std::string_view topic) const;

  Node root_;
  size_t size_ = 0;
  size_t node_count_ = 1;
};

}  // namespace simq::topic

#include "broker/topic/topic_map_impl.h"  // IWYU pragma: export
