// Splitting topic names and filters into levels without allocating, shared by SubscriptionTrie
// and TopicMap.
//
//   size_t pos = 0;
//   while (pos != kNoLevel) {
//     std::string_view level = NextLevel(topic, pos);  // "a/" gives "a", then ""
//   }
//
// Every string has at least one level: "" is one empty level, "/" two, "a//b" three [MQTT-4.7.1].
#pragma once

#include <cstddef>
#include <string_view>

#include "absl/strings/string_view.h"

namespace simq::topic {

// The position after the last level.
inline constexpr size_t kNoLevel = std::string_view::npos;

// Returns the level of `text` starting at `pos` and moves `pos` to the start of the next level,
// or to kNoLevel after the last one. `pos` must not be kNoLevel. A trailing '/' is followed by
// one more, empty, level: that is why the end is kNoLevel and not text.size().
inline std::string_view NextLevel(std::string_view text, size_t& pos) {
  const size_t start = pos;
  const size_t slash = text.find('/', start);
  if (slash == std::string_view::npos) {
    pos = kNoLevel;
    return text.substr(start);
  }
  pos = slash + 1;
  return text.substr(start, slash - start);
}

// Debian's Abseil has its own absl::string_view (ABSL_OPTION_USE_STD_STRING_VIEW=0); the
// flat_hash_map<std::string, ...> hasher is transparent for it, so lookups by level view do
// not build a std::string.
inline absl::string_view AsKey(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

}  // namespace simq::topic
