#include "broker/core/stats.h"

namespace simq::core {

std::string_view DropReasonName(DropReason reason) {
  switch (reason) {
    case DropReason::kQoS0Backpressure: return "qos0_backpressure";
    case DropReason::kQueueFull: return "queue_full";
    case DropReason::kQueueOldest: return "queue_oldest";
    case DropReason::kExpired: return "expired";
    case DropReason::kTooLarge: return "too_large";
    case DropReason::kOfflineQoS0: return "offline_qos0";
    case DropReason::kNoSession: return "no_session";
    case DropReason::kSharedNoMember: return "shared_no_member";
    case DropReason::kInvalidPayload: return "invalid_payload";
    case DropReason::kNotAuthorized: return "not_authorized";
    case DropReason::kRetainedLimit: return "retained_limit";
    case DropReason::kCount: break;
  }
  return "unknown";
}

}  // namespace simq::core
