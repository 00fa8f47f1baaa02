// UTF-8 validation for MQTT strings (§1.5.4).
#pragma once

#include <string_view>

namespace simq::protocol {

// True if `s` is an MQTT UTF-8 Encoded String's content: well-formed UTF-8 (no overlong forms,
// no code points above U+10FFFF) [MQTT-1.5.4-1], no UTF-16 surrogates U+D800..U+DFFF
// [MQTT-1.5.4-1], and no U+0000 [MQTT-1.5.4-2]. A leading U+FEFF is kept, not stripped
// [MQTT-1.5.4-3]. Control characters and non-characters, which the specification says SHOULD
// NOT appear, are accepted.
bool IsValidMqttString(std::string_view s);

// True if `s` is well-formed UTF-8 (U+0000 allowed): the check for a payload whose Payload
// Format Indicator is 1 (§3.3.2.3.2).
bool IsWellFormedUtf8(std::string_view s);

}  // namespace simq::protocol
