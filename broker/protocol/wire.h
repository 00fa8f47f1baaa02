// Primitive MQTT data representations (§1.5): big-endian integers, Variable Byte Integers,
// length-prefixed strings and binary data. Internal to the codec.
//
// `Reader` is a bounds-checked cursor over one packet body; every read reports failure instead
// of reading past the end. `Writer` writes into a buffer already sized by the encoder's size
// pass, so it never checks bounds in release builds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "broker/base/check.h"

namespace simq::protocol {

// Bytes needed to encode `value` as a Variable Byte Integer (1..4); value <= kMaxVarInt.
inline constexpr size_t VarIntSize(uint32_t value) {
  return value < 128 ? 1 : value < 16'384 ? 2 : value < 2'097'152 ? 3 : 4;
}

enum class VarIntStatus { kOk, kNeedMore, kMalformed };

// Decodes a Variable Byte Integer from the start of `bytes`. kMalformed if a fifth byte would
// be needed or the encoding is longer than the minimum [MQTT-1.5.5-1]; kNeedMore if `bytes`
// ends inside the integer.
VarIntStatus DecodeVarInt(std::string_view bytes, uint32_t* value, size_t* length);

class Reader {
 public:
  explicit Reader(std::string_view bytes) : data_(bytes.data()), left_(bytes.size()) {}

  size_t remaining() const { return left_; }
  bool empty() const { return left_ == 0; }
  const char* position() const { return data_; }

  bool ReadByte(uint8_t* out) {
    if (left_ < 1) return false;
    *out = static_cast<uint8_t>(*data_);
    Skip(1);
    return true;
  }
  bool ReadU16(uint16_t* out) {
    if (left_ < 2) return false;
    const auto* p = reinterpret_cast<const uint8_t*>(data_);
    *out = static_cast<uint16_t>((p[0] << 8) | p[1]);
    Skip(2);
    return true;
  }
  bool ReadU32(uint32_t* out) {
    if (left_ < 4) return false;
    const auto* p = reinterpret_cast<const uint8_t*>(data_);
    *out = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
    Skip(4);
    return true;
  }
  // False on truncation or a malformed integer.
  bool ReadVarInt(uint32_t* out) {
    size_t length = 0;
    if (DecodeVarInt(std::string_view(data_, left_), out, &length) != VarIntStatus::kOk) {
      return false;
    }
    Skip(length);
    return true;
  }
  bool ReadBytes(size_t n, std::string_view* out) {
    if (left_ < n) return false;
    *out = std::string_view(data_, n);
    Skip(n);
    return true;
  }
  // Two-byte length then that many bytes: Binary Data, and the raw form of a UTF-8 string.
  bool ReadLengthPrefixed(std::string_view* out) {
    uint16_t n = 0;
    return ReadU16(&n) && ReadBytes(n, out);
  }
  std::string_view ReadRest() {
    std::string_view rest(data_, left_);
    Skip(left_);
    return rest;
  }

 private:
  void Skip(size_t n) {
    data_ += n;
    left_ -= n;
  }

  const char* data_;
  size_t left_;
};

class Writer {
 public:
  explicit Writer(char* out) : p_(out) {}

  char* position() const { return p_; }

  void Byte(uint8_t v) { *p_++ = static_cast<char>(v); }
  void U16(uint16_t v) {
    p_[0] = static_cast<char>(v >> 8);
    p_[1] = static_cast<char>(v);
    p_ += 2;
  }
  void U32(uint32_t v) {
    p_[0] = static_cast<char>(v >> 24);
    p_[1] = static_cast<char>(v >> 16);
    p_[2] = static_cast<char>(v >> 8);
    p_[3] = static_cast<char>(v);
    p_ += 4;
  }
  void VarInt(uint32_t v) {
    SIMQ_DCHECK(v <= 268'435'455u, "variable byte integer out of range");
    do {
      uint8_t b = v & 0x7F;
      v >>= 7;
      if (v != 0) b |= 0x80;
      *p_++ = static_cast<char>(b);
    } while (v != 0);
  }
  void Bytes(std::string_view s) {
    if (!s.empty()) std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
  }
  // Two-byte length then the bytes. The caller guarantees s.size() <= 65535.
  void LengthPrefixed(std::string_view s) {
    SIMQ_DCHECK(s.size() <= 0xFFFF, "string longer than 65535 bytes");
    U16(static_cast<uint16_t>(s.size()));
    Bytes(s);
  }

 private:
  char* p_;
};

}  // namespace simq::protocol
