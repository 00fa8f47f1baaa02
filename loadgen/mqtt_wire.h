// The load generator's hot-path MQTT framing: a PUBLISH encoded once per publisher by the
// codec (//broker/protocol) and then stamped per message, and zero-copy parsing of what
// brokers send in bulk (PUBLISH, the four acknowledgements). Everything else (CONNACK, SUBACK,
// DISCONNECT) goes through the codec's full decoders.
//
//   PublishTemplate t("lg/1/0", /*qos=*/1, ProtocolVersion::kMqtt5, /*payload=*/16);
//   t.Write(out.Append(t.size()), /*packet_id=*/7, Stamp{now, 0, seq});
//
//   FrameHeader h;
//   while (SplitFrame(buf, len, &h) == Split::kOk && len >= h.total()) { ... }
//
// Pure functions and immutable templates: safe on any thread.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "broker/protocol/types.h"
#include "loadgen/stamp.h"

namespace simq::loadgen {

struct FrameHeader {
  uint8_t first = 0;  // type << 4 | flags
  uint8_t header_size = 0;
  uint32_t remaining = 0;
  uint8_t type() const { return first >> 4; }
  size_t total() const { return size_t{header_size} + remaining; }
};

enum class Split { kOk, kNeedMore, kMalformed };

// Reads the fixed header at `p`; kNeedMore if `n` bytes end inside it.
inline Split SplitFrame(const char* p, size_t n, FrameHeader* h) {
  if (n < 2) return Split::kNeedMore;
  const auto* u = reinterpret_cast<const uint8_t*>(p);
  h->first = u[0];
  uint32_t value = 0;
  for (size_t i = 1; i <= 4; ++i) {
    if (i >= n) return Split::kNeedMore;
    value |= uint32_t{u[i] & 0x7Fu} << (7 * (i - 1));
    if ((u[i] & 0x80) == 0) {
      h->header_size = static_cast<uint8_t>(i + 1);
      h->remaining = value;
      return Split::kOk;
    }
  }
  return Split::kMalformed;
}

// A PUBLISH as received, viewing the frame.
struct IncomingPublish {
  std::string_view topic;  // empty when an MQTT 5 topic alias stands for it
  uint8_t qos = 0;
  bool dup = false;
  bool retain = false;
  uint16_t packet_id = 0;
  uint16_t topic_alias = 0;  // 0: none
  std::string_view payload;
};

// Parses a PUBLISH body. False if malformed (truncated fields, QoS 3, properties that do not
// parse). MQTT 5 properties are walked only for the Topic Alias.
bool ParsePublish(uint8_t first, std::string_view body, bool v5, IncomingPublish* out);

struct IncomingAck {
  uint16_t packet_id = 0;
  uint8_t reason = 0;  // MQTT 5 reason code; 0 when absent (and always in 3.1.1)
};

// PUBACK, PUBREC, PUBREL, PUBCOMP bodies.
bool ParseAck(std::string_view body, IncomingAck* out);

// Appends a 4-byte acknowledgement (success, no properties: valid in 3.1.1 and 5.0).
// `first` is 0x40 PUBACK, 0x50 PUBREC, 0x62 PUBREL, 0x70 PUBCOMP.
inline void WriteAck(char* out, uint8_t first, uint16_t packet_id) {
  out[0] = static_cast<char>(first);
  out[1] = 2;
  out[2] = static_cast<char>(packet_id >> 8);
  out[3] = static_cast<char>(packet_id);
}
inline constexpr uint8_t kPuback = 0x40, kPubrec = 0x50, kPubrel = 0x62, kPubcomp = 0x70;
inline constexpr size_t kAckSize = 4;

// One publisher's PUBLISH, encoded once with the codec; Write() copies it and fills in the
// packet identifier and the stamp.
class PublishTemplate {
 public:
  PublishTemplate() = default;
  // `topic_alias` != 0 adds a Topic Alias property (MQTT 5); `send_topic` false leaves the
  // Topic Name empty so the alias alone names the topic.
  PublishTemplate(std::string_view topic, int qos, protocol::ProtocolVersion version,
                  size_t payload_size, uint16_t topic_alias = 0, bool send_topic = true);

  size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }
  void Write(char* out, uint16_t packet_id, const Stamp& stamp) const {
    std::memcpy(out, bytes_.data(), bytes_.size());
    if (packet_id_offset_ != 0) {
      out[packet_id_offset_] = static_cast<char>(packet_id >> 8);
      out[packet_id_offset_ + 1] = static_cast<char>(packet_id);
    }
    WriteStamp(out + payload_offset_, stamp);
  }
  std::string_view bytes() const { return bytes_; }

 private:
  std::string bytes_;
  size_t packet_id_offset_ = 0;
  size_t payload_offset_ = 0;
};

}  // namespace simq::loadgen
