#include "broker/topic/subscription_trie.h"

#include <algorithm>
#include <utility>

#include "absl/container/inlined_vector.h"

#include "broker/base/check.h"
#include "broker/protocol/topic.h"
#include "broker/topic/levels.h"

namespace simq::topic {
namespace {

// A node's subscriber list gets a session index once it is this long, so that subscribing many
// sessions to one fan-out filter stays linear overall; it is dropped again below half of it.
constexpr size_t kIndexThreshold = 16;

bool IsDollarTopic(std::string_view topic) {
  return !topic.empty() && topic.front() == '$';
}

}  // namespace

struct SubscriptionTrie::Node {
  absl::flat_hash_map<std::string, std::unique_ptr<Node>> children;  // literal levels
  std::unique_ptr<Node> plus;
  std::unique_ptr<Node> hash;  // a leaf: '#' is always the last level
  // Non-shared subscriptions to the filter that ends here, in no particular order (removal
  // swaps the last one into the gap).
  std::vector<Subscriber> subscribers;
  // session -> position in `subscribers`, only while the list is long (kIndexThreshold).
  std::unique_ptr<absl::flat_hash_map<uint64_t, uint32_t>> index;
  // Share groups on the filter that ends here. A vector: Match visits all of them, lookups by
  // name happen only on (un)subscribe, and a filter rarely has more than a few share names.
  std::vector<SharedGroup> groups;

  bool empty() const {
    return subscribers.empty() && groups.empty() && children.empty() && !plus && !hash;
  }

  // The child for one filter level, or null.
  Node* Child(std::string_view level) const {
    if (level == "+") return plus.get();
    if (level == "#") return hash.get();
    auto it = children.find(AsKey(level));
    return it == children.end() ? nullptr : it->second.get();
  }

  // Removes the child for one filter level; it must exist.
  void RemoveChild(std::string_view level) {
    if (level == "+") {
      plus.reset();
    } else if (level == "#") {
      hash.reset();
    } else {
      children.erase(children.find(AsKey(level)));
    }
  }

  Subscriber* FindSubscriber(uint64_t session) {
    if (index) {
      auto it = index->find(session);
      return it == index->end() ? nullptr : &subscribers[it->second];
    }
    for (Subscriber& s : subscribers) {
      if (s.session == session) return &s;
    }
    return nullptr;
  }

  void AddSubscriber(const Subscriber& subscriber) {
    subscribers.push_back(subscriber);
    if (index) {
      index->emplace(subscriber.session, static_cast<uint32_t>(subscribers.size() - 1));
    } else if (subscribers.size() >= kIndexThreshold) {
      index = std::make_unique<absl::flat_hash_map<uint64_t, uint32_t>>();
      index->reserve(subscribers.size());
      for (uint32_t i = 0; i < subscribers.size(); ++i) index->emplace(subscribers[i].session, i);
    }
  }

  bool RemoveSubscriber(uint64_t session) {
    Subscriber* found = FindSubscriber(session);
    if (found == nullptr) return false;
    Subscriber& last = subscribers.back();
    if (found != &last) {
      *found = last;
      if (index) (*index)[found->session] = static_cast<uint32_t>(found - subscribers.data());
    }
    subscribers.pop_back();
    if (index) {
      index->erase(session);
      if (subscribers.size() < kIndexThreshold / 2) index.reset();
    }
    return true;
  }

  SharedGroup* FindGroup(std::string_view share_name) {
    for (SharedGroup& g : groups) {
      if (g.share_name == share_name) return &g;
    }
    return nullptr;
  }
};

SubscriptionTrie::SubscriptionTrie() : root_(std::make_unique<Node>()) {}
SubscriptionTrie::~SubscriptionTrie() = default;

SubscriptionTrie::Node* SubscriptionTrie::FindOrCreate(std::string_view filter) {
  Node* node = root_.get();
  size_t pos = 0;
  while (pos != kNoLevel) {
    std::string_view level = NextLevel(filter, pos);
    std::unique_ptr<Node>* slot;
    if (level == "+") {
      slot = &node->plus;
    } else if (level == "#") {
      slot = &node->hash;
    } else {
      auto it = node->children.find(AsKey(level));
      if (it == node->children.end()) {
        it = node->children.emplace(std::string(level), nullptr).first;
      }
      slot = &it->second;
    }
    if (*slot == nullptr) {
      *slot = std::make_unique<Node>();
      ++node_count_;
    }
    node = slot->get();
  }
  return node;
}

SubscriptionTrie::Node* SubscriptionTrie::Find(std::string_view filter) const {
  Node* node = root_.get();
  size_t pos = 0;
  while (node != nullptr && pos != kNoLevel) node = node->Child(NextLevel(filter, pos));
  return node;
}

void SubscriptionTrie::Prune(std::string_view filter) {
  // (parent, level) for every level of `filter`; most filters are short.
  absl::InlinedVector<std::pair<Node*, std::string_view>, 16> path;
  Node* node = root_.get();
  size_t pos = 0;
  while (pos != kNoLevel) {
    std::string_view level = NextLevel(filter, pos);
    path.emplace_back(node, level);
    node = node->Child(level);
    if (node == nullptr) return;
  }
  for (size_t i = path.size(); i-- > 0;) {
    auto [parent, level] = path[i];
    if (!parent->Child(level)->empty()) return;
    parent->RemoveChild(level);
    --node_count_;
  }
}

bool SubscriptionTrie::Subscribe(std::string_view filter, const Subscriber& subscriber) {
  SIMQ_DCHECK(protocol::ValidateTopicFilter(filter) == protocol::ReasonCode::kSuccess,
              "invalid topic filter");
  SIMQ_DCHECK(!filter.starts_with(protocol::kSharePrefix), "use SubscribeShared");
  Node* node = FindOrCreate(filter);
  if (Subscriber* existing = node->FindSubscriber(subscriber.session)) {
    *existing = subscriber;
    return false;
  }
  node->AddSubscriber(subscriber);
  ++count_;
  return true;
}

bool SubscriptionTrie::Unsubscribe(std::string_view filter, uint64_t session) {
  Node* node = Find(filter);
  if (node == nullptr || !node->RemoveSubscriber(session)) return false;
  --count_;
  if (node->empty()) Prune(filter);
  return true;
}

bool SubscriptionTrie::SubscribeShared(std::string_view share_name, std::string_view filter,
                                       const Subscriber& subscriber) {
  SIMQ_DCHECK(protocol::ValidateTopicFilter(filter) == protocol::ReasonCode::kSuccess,
              "invalid topic filter");
  Node* node = FindOrCreate(filter);
  SharedGroup* group = node->FindGroup(share_name);
  if (group == nullptr) {
    group = &node->groups.emplace_back();
    group->share_name = std::string(share_name);
    group->filter = std::string(filter);
  }
  for (Subscriber& member : group->members) {
    if (member.session == subscriber.session) {
      member = subscriber;  // keeps its place in the rotation
      return false;
    }
  }
  group->members.push_back(subscriber);
  ++count_;
  return true;
}

bool SubscriptionTrie::UnsubscribeShared(std::string_view share_name, std::string_view filter,
                                         uint64_t session) {
  Node* node = Find(filter);
  if (node == nullptr) return false;
  SharedGroup* group = node->FindGroup(share_name);
  if (group == nullptr) return false;
  auto member = std::find_if(group->members.begin(), group->members.end(),
                             [&](const Subscriber& s) { return s.session == session; });
  if (member == group->members.end()) return false;
  group->members.erase(member);
  --count_;
  if (group->members.empty()) {
    node->groups.erase(node->groups.begin() + (group - node->groups.data()));
    if (node->empty()) Prune(filter);
  }
  return true;
}

void SubscriptionTrie::Match(std::string_view topic,
                             absl::FunctionRef<void(const Subscriber&)> on_subscriber,
                             absl::FunctionRef<void(SharedGroup&)> on_group) {
  auto report = [&](Node& node) {
    for (const Subscriber& s : node.subscribers) on_subscriber(s);
    for (SharedGroup& g : node.groups) on_group(g);
  };
  // Depth-first. `node` has matched the levels before `pos`; only the '+' branch of a fork is
  // deferred to `pending`, so a topic without '+' subscriptions never touches it.
  struct Branch {
    Node* node;
    size_t pos;
  };
  absl::InlinedVector<Branch, 16> pending;
  // A leading '+' or '#' does not match a topic starting with '$' [MQTT-4.7.2-1].
  const bool dollar = IsDollarTopic(topic);
  Node* node = root_.get();
  size_t pos = 0;
  while (true) {
    // '#' matches the rest, zero levels included: "a/#" matches "a" [MQTT-4.7.1-2].
    if (node->hash != nullptr && !(dollar && node == root_.get())) report(*node->hash);
    Node* next = nullptr;
    if (pos == kNoLevel) {
      report(*node);
    } else {
      std::string_view level = NextLevel(topic, pos);
      if (auto it = node->children.find(AsKey(level)); it != node->children.end()) {
        next = it->second.get();
      }
      if (node->plus != nullptr && !(dollar && node == root_.get())) {
        if (next == nullptr) {
          next = node->plus.get();
        } else {
          pending.push_back({node->plus.get(), pos});
        }
      }
    }
    if (next == nullptr) {
      if (pending.empty()) return;
      next = pending.back().node;
      pos = pending.back().pos;
      pending.pop_back();
    }
    node = next;
  }
}

}  // namespace simq::topic
