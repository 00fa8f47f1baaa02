// Topic access rules from the ACL file: who may publish to and subscribe to what.
//
//   # Rules before any section line apply to every client, like those under "all".
//   read public/#
//   # %c: the client identifier, %u: the user name
//   readwrite devices/%c/#
//
//   # Clients authenticated as alice; $SYS is readable only through a rule that names it.
//   user alice
//   readwrite home/alice/#
//   deny home/alice/private/#
//   read $SYS/#
//
//   # The client with this identifier.
//   client dashboard-1
//   read #
//
// Comments are whole lines starting with '#' (a topic filter may contain " #" nowhere else).
// A rule is `<access> <topic filter>`, access one of read, write, readwrite, deny. The rules
// that apply to a client are those for everyone, those of its user name and those of its client
// identifier. Then:
//   * PUBLISH to a topic: refused if a deny rule matches it; allowed if a write or readwrite
//     rule matches it; else the default policy (config auth.acl_default) decides.
//   * SUBSCRIBE to a filter ($share/<group>/ is looked through): refused if a deny rule's filter
//     and it can match a common topic; allowed if a read or readwrite rule matches every topic
//     the filter can match; else the default policy. (Deliveries are not checked again, so a
//     subscription is granted only when everything it could receive is readable.)
//   * $SYS topics: never granted by the default policy, nor by a rule starting with a
//     wildcard (MQTT's $-rule, §4.7.2): a rule must name $SYS.
//   * %u and %c stand for the client's user name and client identifier. A rule whose value
//     would be empty, or would contain '/', '+' or '#', does not apply (so an identifier cannot
//     widen its own rule). %u rules never apply to anonymous clients.
//
// An Acl is an immutable value, safe to read from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

#include "broker/auth/auth_interface.h"

namespace simq::auth {

class Acl {
 public:
  // Errors name `source` and the line.
  static absl::StatusOr<Acl> Parse(std::string_view text, std::string_view source,
                                   bool default_allow);
  static absl::StatusOr<Acl> Load(const std::string& path, bool default_allow);

  bool CanPublish(const ClientInfo& client, std::string_view topic) const;
  bool CanSubscribe(const ClientInfo& client, std::string_view filter) const;

 private:
  enum Access : uint8_t { kRead = 1, kWrite = 2, kReadWrite = 3, kDeny = 4 };
  struct Rule {
    Access access;
    std::string filter;
    bool substitutes;  // contains %u or %c
  };

  template <typename F>
  void ForEachRule(const ClientInfo& client, F&& f) const;
  // Whether `access` to `filter` is granted (publish: a topic name, subscribe: a filter).
  bool Check(const ClientInfo& client, std::string_view filter, Access access) const;

  bool default_allow_ = false;
  std::vector<Rule> everyone_;
  absl::flat_hash_map<std::string, std::vector<Rule>> users_;
  absl::flat_hash_map<std::string, std::vector<Rule>> clients_;
};

// Topic filter algebra, with MQTT's rules for '+', '#' and '$' topics.
// Every topic `inner` matches is matched by `outer` too.
bool FilterCovers(std::string_view outer, std::string_view inner);
// Some topic is matched by both.
bool FiltersIntersect(std::string_view a, std::string_view b);

}  // namespace simq::auth
