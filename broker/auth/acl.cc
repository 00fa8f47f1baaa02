#include "broker/auth/acl.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "fmt/format.h"

#include "broker/protocol/topic.h"

namespace simq::auth {
namespace {

using Levels = std::vector<std::string_view>;

Levels Split(std::string_view s) {
  Levels levels;
  for (size_t start = 0;;) {
    const size_t end = s.find('/', start);
    levels.push_back(s.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return levels;
    start = end + 1;
  }
}

bool Wildcard(std::string_view level) {
  return level == "+" || level == "#";
}

// MQTT §4.7.2: a filter starting with a wildcard matches no topic starting with '$'.
bool DollarMismatch(const Levels& a, const Levels& b) {
  return a[0].starts_with('$') && Wildcard(b[0]);
}

std::string_view Trim(std::string_view s) {
  const size_t begin = s.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  const size_t end = s.find_last_not_of(" \t\r");
  return s.substr(begin, end - begin + 1);
}

bool IsSys(std::string_view filter) {
  return filter == "$SYS" || filter.starts_with("$SYS/");
}

// `filter` with %u and %c replaced; false if the rule does not apply to this client.
bool Substitute(std::string_view filter, const ClientInfo& client, std::string* out) {
  out->clear();
  for (size_t i = 0; i < filter.size(); ++i) {
    if (filter[i] == '%' && i + 1 < filter.size() &&
        (filter[i + 1] == 'u' || filter[i + 1] == 'c')) {
      const std::string* value = nullptr;
      if (filter[i + 1] == 'c') {
        value = &client.client_id;
      } else if (client.username) {
        value = &*client.username;
      }
      if (value == nullptr || value->empty() || value->find_first_of("/+#") != std::string::npos) {
        return false;
      }
      out->append(*value);
      ++i;
    } else {
      out->push_back(filter[i]);
    }
  }
  return true;
}

}  // namespace

bool FilterCovers(std::string_view outer_text, std::string_view inner_text) {
  const Levels outer = Split(outer_text);
  const Levels inner = Split(inner_text);
  if (DollarMismatch(inner, outer)) return false;
  size_t i = 0;
  for (; i < outer.size(); ++i) {
    if (outer[i] == "#") return true;  // also matches the parent level
    if (i >= inner.size() || inner[i] == "#") return false;
    if (outer[i] == "+") continue;
    if (inner[i] == "+" || outer[i] != inner[i]) return false;
  }
  return i == inner.size();
}

bool FiltersIntersect(std::string_view a_text, std::string_view b_text) {
  const Levels a = Split(a_text);
  const Levels b = Split(b_text);
  if (DollarMismatch(a, b) || DollarMismatch(b, a)) return false;
  for (size_t i = 0;; ++i) {
    if ((i < a.size() && a[i] == "#") || (i < b.size() && b[i] == "#")) return true;
    if (i == a.size() || i == b.size()) return a.size() == b.size();
    if (a[i] == "+" || b[i] == "+") continue;
    if (a[i] != b[i]) return false;
  }
}

absl::StatusOr<Acl> Acl::Parse(std::string_view text, std::string_view source, bool default_allow) {
  Acl acl;
  acl.default_allow_ = default_allow;
  std::vector<Rule>* section = &acl.everyone_;
  size_t line_number = 0;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    line = Trim(line);
    if (line.empty() || line.front() == '#') continue;
    auto fail = [&](std::string problem) {
      return absl::InvalidArgumentError(fmt::format("{}:{}: {}", source, line_number, problem));
    };
    const size_t space = line.find_first_of(" \t");
    const std::string_view keyword = line.substr(0, space);
    const std::string_view argument =
        space == std::string_view::npos ? std::string_view() : Trim(line.substr(space));
    if (keyword == "all") {
      if (!argument.empty()) return fail("\"all\" takes no argument");
      section = &acl.everyone_;
      continue;
    }
    if (keyword == "user" || keyword == "client") {
      if (argument.empty()) return fail(fmt::format("\"{}\" needs a name", keyword));
      auto& sections = keyword == "user" ? acl.users_ : acl.clients_;
      section = &sections[std::string(argument)];
      continue;
    }
    Access access;
    if (keyword == "read") {
      access = kRead;
    } else if (keyword == "write") {
      access = kWrite;
    } else if (keyword == "readwrite") {
      access = kReadWrite;
    } else if (keyword == "deny") {
      access = kDeny;
    } else {
      return fail(fmt::format(
          "unknown keyword \"{}\" (expected all, user, client, read, write, readwrite, deny)",
          keyword));
    }
    if (argument.empty()) return fail(fmt::format("\"{}\" needs a topic filter", keyword));
    if (protocol::ValidateTopicFilter(argument) != protocol::ReasonCode::kSuccess) {
      return fail(fmt::format("\"{}\" is not a valid topic filter", argument));
    }
    section->push_back(Rule{access, std::string(argument),
                            argument.find("%u") != std::string_view::npos ||
                                argument.find("%c") != std::string_view::npos});
  }
  return acl;
}

absl::StatusOr<Acl> Acl::Load(const std::string& path, bool default_allow) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return Parse(text.str(), path, default_allow);
}

template <typename F>
void Acl::ForEachRule(const ClientInfo& client, F&& f) const {
  for (const Rule& r : everyone_) f(r);
  if (client.username) {
    if (auto it = users_.find(*client.username); it != users_.end()) {
      for (const Rule& r : it->second) f(r);
    }
  }
  if (auto it = clients_.find(client.client_id); it != clients_.end()) {
    for (const Rule& r : it->second) f(r);
  }
}

bool Acl::Check(const ClientInfo& client, std::string_view filter, Access access) const {
  bool denied = false;
  bool granted = false;
  std::string substituted;
  ForEachRule(client, [&](const Rule& rule) {
    if (denied) return;
    std::string_view rule_filter = rule.filter;
    if (rule.substitutes) {
      if (!Substitute(rule.filter, client, &substituted)) return;
      rule_filter = substituted;
    }
    if (rule.access == kDeny) {
      denied = FiltersIntersect(rule_filter, filter);
    } else if ((rule.access & access) != 0 && !granted) {
      granted = FilterCovers(rule_filter, filter);
    }
  });
  if (denied) return false;
  return granted || (default_allow_ && !IsSys(filter));
}

bool Acl::CanPublish(const ClientInfo& client, std::string_view topic) const {
  return Check(client, topic, kWrite);
}

bool Acl::CanSubscribe(const ClientInfo& client, std::string_view filter) const {
  if (std::optional<protocol::SharedFilter> shared = protocol::ParseSharedFilter(filter)) {
    return Check(client, shared->filter, kRead);
  }
  return Check(client, filter, kRead);
}

}  // namespace simq::auth
