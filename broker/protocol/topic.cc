#include "broker/protocol/topic.h"

namespace simq::protocol {
namespace {

bool IsValidFilterLevels(std::string_view filter) {
  if (filter.empty()) return false;
  size_t start = 0;
  while (true) {
    size_t slash = filter.find('/', start);
    std::string_view level = filter.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (level.find_first_of("+#") != std::string_view::npos) {
      if (level.size() != 1) return false;                                   // "a+", "#b"
      if (level[0] == '#' && slash != std::string_view::npos) return false;  // "#/a"
    }
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

}  // namespace

ReasonCode ValidateTopicName(std::string_view topic) {
  if (topic.empty() || HasWildcard(topic)) return ReasonCode::kTopicNameInvalid;
  return ReasonCode::kSuccess;
}

std::optional<SharedFilter> ParseSharedFilter(std::string_view filter) {
  if (!filter.starts_with(kSharePrefix)) return std::nullopt;
  std::string_view rest = filter.substr(kSharePrefix.size());
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return SharedFilter{rest, std::string_view()};
  return SharedFilter{rest.substr(0, slash), rest.substr(slash + 1)};
}

ReasonCode ValidateTopicFilter(std::string_view filter) {
  if (std::optional<SharedFilter> shared = ParseSharedFilter(filter)) {
    if (shared->share_name.empty() ||
        shared->share_name.find_first_of("+#") != std::string_view::npos ||
        filter.size() ==
            kSharePrefix.size() + shared->share_name.size()) {  // no "/" after the name
      return ReasonCode::kTopicFilterInvalid;
    }
    return IsValidFilterLevels(shared->filter) ? ReasonCode::kSuccess
                                               : ReasonCode::kTopicFilterInvalid;
  }
  return IsValidFilterLevels(filter) ? ReasonCode::kSuccess : ReasonCode::kTopicFilterInvalid;
}

}  // namespace simq::protocol
