#include "broker/protocol/wire.h"

namespace simq::protocol {

VarIntStatus DecodeVarInt(std::string_view bytes, uint32_t* value, size_t* length) {
  uint32_t result = 0;
  for (size_t i = 0; i < 4; ++i) {
    if (i >= bytes.size()) return VarIntStatus::kNeedMore;
    uint8_t b = static_cast<uint8_t>(bytes[i]);
    result |= uint32_t{b & 0x7Fu} << (7 * i);
    if ((b & 0x80) == 0) {
      // A last byte of zero after a continuation is a longer-than-minimal encoding.
      if (b == 0 && i > 0) return VarIntStatus::kMalformed;
      *value = result;
      *length = i + 1;
      return VarIntStatus::kOk;
    }
  }
  return VarIntStatus::kMalformed;
}

}  // namespace simq::protocol
