#include "broker/protocol/error.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/types/optional.h"

namespace simq::protocol {
namespace {

// The payload type URL under which a protocol error stores its reason code byte.
constexpr char kReasonPayload[] = "simq.mqtt/reason_code";

}  // namespace

absl::Status ProtocolError(ReasonCode code, std::string_view detail) {
  absl::Status status(absl::StatusCode::kInvalidArgument,
                      absl::string_view(detail.data(), detail.size()));
  char byte = static_cast<char>(code);
  status.SetPayload(kReasonPayload, absl::Cord(absl::string_view(&byte, 1)));
  return status;
}

ReasonCode ReasonCodeOf(const absl::Status& status) {
  if (status.ok()) return ReasonCode::kSuccess;
  absl::optional<absl::Cord> payload = status.GetPayload(kReasonPayload);
  if (!payload.has_value() || payload->size() != 1) return ReasonCode::kUnspecifiedError;
  return static_cast<ReasonCode>(static_cast<uint8_t>((*payload)[0]));
}

}  // namespace simq::protocol
