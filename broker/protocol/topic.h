// Topic Name and Topic Filter rules (§4.7) and shared subscription syntax (§4.8.2).
//
// These live in the codec because they are part of the wire rules; the subscription trie in
// broker/topic builds on them. All functions take strings the decoder already checked for
// UTF-8 validity.
//
//   if (ReasonCode rc = ValidateTopicFilter(filter); rc != ReasonCode::kSuccess) {
//     suback.reason_codes.push_back(rc);   // 0x8F Topic Filter invalid
//   }
#pragma once

#include <optional>
#include <string_view>

#include "broker/protocol/reason_code.h"

namespace simq::protocol {

inline constexpr std::string_view kSharePrefix = "$share/";

// kSuccess, or kTopicNameInvalid for an empty name [MQTT-4.7.3-1] or one with a wildcard
// character [MQTT-4.7.1-1].
ReasonCode ValidateTopicName(std::string_view topic);

// kSuccess or kTopicFilterInvalid: empty [MQTT-4.7.3-1]; '#' not alone in the last level
// [MQTT-4.7.1-2]; '+' not alone in its level [MQTT-4.7.1-3]; a "$share/" filter whose share
// name is empty or holds '/', '+' or '#', or that lacks a filter [MQTT-4.8.2-1], [MQTT-4.8.2-2].
ReasonCode ValidateTopicFilter(std::string_view filter);

inline bool HasWildcard(std::string_view filter) {
  return filter.find_first_of("+#") != std::string_view::npos;
}

struct SharedFilter {
  std::string_view share_name;
  std::string_view filter;  // the topic filter after "$share/{ShareName}/"
};

// Splits "$share/{ShareName}/{filter}"; nullopt if `filter` is not a shared subscription.
// Syntax is checked by ValidateTopicFilter, not here.
std::optional<SharedFilter> ParseSharedFilter(std::string_view filter);

}  // namespace simq::protocol
