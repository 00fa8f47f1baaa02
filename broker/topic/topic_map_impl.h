// TopicMap<T> member definitions. Include topic_map.h, not this file.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"

#include "broker/topic/levels.h"
#include "broker/topic/topic_map.h"

namespace simq::topic {

template <typename T>
std::optional<T> TopicMap<T>::Set(std::string_view topic, T value) {
  Node* node = &root_;
  size_t pos = 0;
  while (pos != kNoLevel) {
    std::string_view level = NextLevel(topic, pos);
    auto it = node->children.find(AsKey(level));
    if (it == node->children.end()) {
      it = node->children.emplace(std::string(level), std::make_unique<Node>()).first;
      ++node_count_;
    }
    node = it->second.get();
  }
  if (node->value.has_value()) {
    std::optional<T> previous = std::exchange(node->value, std::move(value));
    return previous;
  }
  node->value.emplace(std::move(value));
  node->topic = std::string(topic);
  ++size_;
  return std::nullopt;
}

template <typename T>
std::optional<T> TopicMap<T>::Erase(std::string_view topic) {
  // (parent, level) for every level of `topic`.
  absl::InlinedVector<std::pair<Node*, std::string_view>, 16> path;
  Node* node = &root_;
  size_t pos = 0;
  while (pos != kNoLevel) {
    std::string_view level = NextLevel(topic, pos);
    auto it = node->children.find(AsKey(level));
    if (it == node->children.end()) return std::nullopt;
    path.emplace_back(node, level);
    node = it->second.get();
  }
  if (!node->value.has_value()) return std::nullopt;
  std::optional<T> removed = std::move(node->value);
  node->value.reset();
  node->topic = std::string();  // frees the name's memory, unlike clear()
  --size_;
  for (size_t i = path.size(); i-- > 0;) {
    auto [parent, level] = path[i];
    auto it = parent->children.find(AsKey(level));
    if (it->second->value.has_value() || !it->second->children.empty()) break;
    parent->children.erase(it);
    --node_count_;
  }
  return removed;
}

template <typename T>
const typename TopicMap<T>::Node* TopicMap<T>::FindNode(std::string_view topic) const {
  const Node* node = &root_;
  size_t pos = 0;
  while (pos != kNoLevel) {
    auto it = node->children.find(AsKey(NextLevel(topic, pos)));
    if (it == node->children.end()) return nullptr;
    node = it->second.get();
  }
  return node;
}

template <typename T>
const T* TopicMap<T>::Find(std::string_view topic) const {
  const Node* node = FindNode(topic);
  return node != nullptr && node->value.has_value() ? &*node->value : nullptr;
}

template <typename T>
void TopicMap<T>::Match(std::string_view filter,
                        absl::FunctionRef<void(std::string_view topic, const T& value)> f) const {
  struct Branch {
    const Node* node;
    size_t pos;    // next filter level; kNoLevel once the filter is used up
    bool subtree;  // under a '#': everything below `node` matches
  };
  std::vector<Branch> stack = {{&root_, 0, false}};
  while (!stack.empty()) {
    Branch b = stack.back();
    stack.pop_back();
    if (b.subtree || b.pos == kNoLevel) {
      if (b.node->value.has_value()) f(b.node->topic, *b.node->value);
      if (!b.subtree) continue;
      for (const auto& [level, child] : b.node->children) stack.push_back({child.get(), 0, true});
      continue;
    }
    std::string_view level = NextLevel(filter, b.pos);
    if (level == "+" || level == "#") {
      // '#' also matches the parent level: "a/#" matches "a" [MQTT-4.7.1-2].
      if (level == "#" && b.node->value.has_value()) f(b.node->topic, *b.node->value);
      const bool at_root = b.node == &root_;
      for (const auto& [name, child] : b.node->children) {
        // A leading wildcard does not match a topic starting with '$' [MQTT-4.7.2-1].
        if (at_root && !name.empty() && name.front() == '$') continue;
        stack.push_back({child.get(), b.pos, level == "#"});
      }
    } else if (auto it = b.node->children.find(AsKey(level)); it != b.node->children.end()) {
      stack.push_back({it->second.get(), b.pos, false});
    }
  }
}

template <typename T>
void TopicMap<T>::ForEach(absl::FunctionRef<void(std::string_view topic, const T& value)> f) const {
  std::vector<const Node*> stack = {&root_};
  while (!stack.empty()) {
    const Node* node = stack.back();
    stack.pop_back();
    if (node->value.has_value()) f(node->topic, *node->value);
    for (const auto& [level, child] : node->children) stack.push_back(child.get());
  }
}

}  // namespace simq::topic
