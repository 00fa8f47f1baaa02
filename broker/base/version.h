// The simq version, logged at start and published on $SYS/broker/version.
#pragma once

namespace simq {

inline constexpr char kVersion[] = "0.1.0";

}  // namespace simq
