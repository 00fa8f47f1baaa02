// Protocol errors as absl::Status values that carry their MQTT reason code.
//
// The codec and the broker return these for anything wrong on the wire; the connection turns
// the reason code into the answer the specification names:
//
//   absl::StatusOr<PublishPacket> publish = DecodePublish(frame, version);
//   if (!publish.ok()) {
//     ReasonCode code = ReasonCodeOf(publish.status());  // e.g. kMalformedPacket
//     ...send DISCONNECT(code) (MQTT 5) and close...
//   }
#pragma once

#include <string_view>

#include "absl/status/status.h"

#include "broker/protocol/reason_code.h"

namespace simq::protocol {

// An InvalidArgument status whose payload holds `code`. `detail` is human-readable context
// (e.g. "topic name contains a wildcard") for logs and MQTT 5 Reason Strings.
absl::Status ProtocolError(ReasonCode code, std::string_view detail);

// The reason code a ProtocolError carries. A status that is not a protocol error maps to
// kUnspecifiedError, and OK to kSuccess.
ReasonCode ReasonCodeOf(const absl::Status& status);

// Shorthands for the two most frequent answers.
inline absl::Status MalformedPacket(std::string_view detail) {
  return ProtocolError(ReasonCode::kMalformedPacket, detail);
}
inline absl::Status ProtocolViolation(std::string_view detail) {
  return ProtocolError(ReasonCode::kProtocolError, detail);
}

}  // namespace simq::protocol
