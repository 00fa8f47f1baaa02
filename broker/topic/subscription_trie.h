// The subscription trie: which sessions' subscriptions match a topic name.
//
//   SubscriptionTrie trie;
//   trie.Subscribe("sensors/+/temp", Subscriber{.session = 7, .worker = 0, .options = {...}});
//   trie.SubscribeShared("workers", "jobs/#", Subscriber{.session = 9, ...});
//   trie.Match("sensors/kitchen/temp", [](const Subscriber& s) { ... },
//              [](SharedGroup& g) { ... pick one member ... });
//
// Levels are split on '/'. A node has a map of literal children plus dedicated '+' and '#'
// children (STYLE §30). Topic names starting with '$' are not matched by a leading '+' or '#'
// [MQTT-4.7.2-1]. "a/#" also matches "a" [MQTT-4.7.1-2]. Shared subscriptions
// ("$share/{group}/{filter}") are kept as groups on the node of their filter; matching reports
// each matching group once, and the caller picks a member.
//
// Owner and thread: not thread-safe. Each broker worker holds its own replica and applies every
// change in the same order, so matching never takes a lock.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"

#include "broker/protocol/packets.h"

namespace simq::topic {

// One session's subscription to one filter.
struct Subscriber {
  uint64_t session = 0;  // broker-wide unique session id
  uint32_t worker = 0;   // the worker that owns the session
  protocol::SubscriptionOptions options;
  uint32_t subscription_id = 0;  // MQTT 5 Subscription Identifier; 0 = none
};

// The members of one share name on one filter, in subscription order.
struct SharedGroup {
  std::string share_name;
  std::string filter;
  std::vector<Subscriber> members;
  uint64_t next = 0;  // round-robin cursor, advanced by whoever picks members
};

class SubscriptionTrie {
 public:
  SubscriptionTrie();
  ~SubscriptionTrie();
  SubscriptionTrie(const SubscriptionTrie&) = delete;
  SubscriptionTrie& operator=(const SubscriptionTrie&) = delete;

  // Adds `subscriber` to `filter`, or replaces the options and identifier of the same session's
  // existing subscription to it [MQTT-3.8.4-3]. True if it is new. `filter` must be valid
  // (protocol::ValidateTopicFilter) and not a "$share/" filter. A replacement stores the whole
  // `subscriber`, so it also carries over a new `worker` after a takeover.
  bool Subscribe(std::string_view filter, const Subscriber& subscriber);
  // True if the session had a subscription to `filter`. Nodes left empty are freed.
  bool Unsubscribe(std::string_view filter, uint64_t session);

  // The same for the shared subscription "$share/{share_name}/{filter}". A group is keyed by
  // (share_name, filter): "$share/g/a" and "$share/g/b" are two groups. A new member goes last
  // in SharedGroup::members; a re-subscribe replaces the member in place, keeping its position.
  // The last member to leave removes the group. `filter` is the part after the share name.
  bool SubscribeShared(std::string_view share_name, std::string_view filter,
                       const Subscriber& subscriber);
  bool UnsubscribeShared(std::string_view share_name, std::string_view filter, uint64_t session);

  // Calls `on_subscriber` for every non-shared subscription matching `topic` (a valid topic
  // name), once per (session, filter), and `on_group` once for every share group with a
  // matching filter. A session with several matching filters is reported once per filter;
  // merging them is the caller's job [MQTT-3.3.4-2]. The order of the calls is unspecified.
  //
  // Allocation-free unless more than 16 '+' branches are pending at once. The callbacks must
  // not subscribe or unsubscribe; `on_group` may change the group's `next` cursor. References
  // passed to the callbacks are valid until the next change to the trie.
  void Match(std::string_view topic, absl::FunctionRef<void(const Subscriber&)> on_subscriber,
             absl::FunctionRef<void(SharedGroup&)> on_group);

  // Non-shared subscriptions plus shared-group members.
  size_t subscription_count() const { return count_; }
  // Nodes currently allocated, the root included: 1 for an empty trie (for memory accounting
  // and tests that check pruning).
  size_t node_count() const { return node_count_; }

 private:
  struct Node;

  Node* FindOrCreate(std::string_view filter);
  // The node of `filter`, or null.
  Node* Find(std::string_view filter) const;
  // Removes empty nodes on the path to `filter`, deepest first.
  void Prune(std::string_view filter);

  std::unique_ptr<Node> root_;
  size_t count_ = 0;
  size_t node_count_ = 1;
};

}  // namespace simq::topic
