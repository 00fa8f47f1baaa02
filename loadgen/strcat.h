// Cat(): string concatenation over fmt, for std::string_view, absl::string_view (Debian's
// Abseil keeps the two distinct, so absl::StrCat does not take std::string_view) and numbers.
//
//   std::string s = Cat("connect to ", host, ": ", strerror(err));
//   std::string h = Cat("0x", Hex(reason));
#pragma once

#include <iterator>
#include <string>
#include <string_view>

#include "absl/strings/string_view.h"
#include "fmt/format.h"

#include "broker/base/format.h"

namespace simq::loadgen {

template <typename... Args>
std::string Cat(const Args&... args) {
  std::string out;
  (fmt::format_to(std::back_inserter(out), "{}", args), ...);
  return out;
}

// Two lowercase hex digits at least: Cat("0x", Hex(0x97)) == "0x97".
inline std::string Hex(unsigned value) {
  return fmt::format("{:02x}", value);
}

inline absl::string_view Av(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

}  // namespace simq::loadgen
