// fmt formatters for Abseil types, so logs and messages can say
//   SIMQ_LOG_WARN("{}", status);            // absl::Status
//   fmt::format("bad: {}", status.message()) // absl::string_view
// Debian's Abseil keeps absl::string_view distinct from std::string_view, which fmt does not
// know; these forward to the std::string_view formatter.
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "fmt/format.h"

template <>
struct fmt::formatter<absl::string_view> : fmt::formatter<std::string_view> {
  auto format(absl::string_view s, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(std::string_view(s.data(), s.size()), ctx);
  }
};

template <>
struct fmt::formatter<absl::Status> : fmt::formatter<std::string_view> {
  auto format(const absl::Status& s, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(s.ToString(), ctx);
  }
};
