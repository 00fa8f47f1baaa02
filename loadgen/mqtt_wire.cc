#include "loadgen/mqtt_wire.h"

#include "broker/base/check.h"
#include "broker/protocol/encoder.h"
#include "broker/protocol/packets.h"

namespace simq::loadgen {
namespace {

uint16_t U16(const char* p) {
  return static_cast<uint16_t>((static_cast<uint8_t>(p[0]) << 8) | static_cast<uint8_t>(p[1]));
}

// Reads a Variable Byte Integer from [*p, end); false if truncated or longer than 4 bytes.
bool VarInt(const char** p, const char* end, uint32_t* value) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    if (*p >= end) return false;
    const uint8_t b = static_cast<uint8_t>(*(*p)++);
    v |= uint32_t{b & 0x7Fu} << (7 * i);
    if ((b & 0x80) == 0) {
      *value = v;
      return true;
    }
  }
  return false;
}

// Walks a PUBLISH property block for the Topic Alias (§3.3.2.3); false if it does not parse.
bool WalkPublishProperties(const char* p, const char* end, uint16_t* alias) {
  while (p < end) {
    const uint8_t id = static_cast<uint8_t>(*p++);
    switch (id) {
      case 0x01: p += 1; break;  // Payload Format Indicator
      case 0x02: p += 4; break;  // Message Expiry Interval
      case 0x23:                 // Topic Alias
        if (end - p < 2) return false;
        *alias = U16(p);
        p += 2;
        break;
      case 0x0B: {  // Subscription Identifier
        uint32_t ignored = 0;
        if (!VarInt(&p, end, &ignored)) return false;
        break;
      }
      case 0x03:
      case 0x08:
      case 0x09: {  // Content Type, Response Topic, Corr. Data
        if (end - p < 2) return false;
        p += 2 + U16(p);
        break;
      }
      case 0x26: {  // User Property: two strings
        for (int i = 0; i < 2; ++i) {
          if (end - p < 2) return false;
          p += 2 + U16(p);
          if (p > end) return false;
        }
        break;
      }
      default: return false;
    }
    if (p > end) return false;
  }
  return true;
}

}  // namespace

bool ParsePublish(uint8_t first, std::string_view body, bool v5, IncomingPublish* out) {
  const char* p = body.data();
  const char* end = p + body.size();
  out->qos = (first >> 1) & 3;
  out->dup = (first & 0x08) != 0;
  out->retain = (first & 0x01) != 0;
  if (out->qos == 3 || end - p < 2) return false;
  const uint16_t topic_len = U16(p);
  p += 2;
  if (end - p < topic_len) return false;
  out->topic = std::string_view(p, topic_len);
  p += topic_len;
  out->packet_id = 0;
  if (out->qos > 0) {
    if (end - p < 2) return false;
    out->packet_id = U16(p);
    p += 2;
    if (out->packet_id == 0) return false;
  }
  out->topic_alias = 0;
  if (v5) {
    uint32_t props_len = 0;
    if (!VarInt(&p, end, &props_len) || static_cast<size_t>(end - p) < props_len) return false;
    if (props_len != 0 && !WalkPublishProperties(p, p + props_len, &out->topic_alias)) return false;
    p += props_len;
  }
  out->payload = std::string_view(p, static_cast<size_t>(end - p));
  return true;
}

bool ParseAck(std::string_view body, IncomingAck* out) {
  if (body.size() < 2) return false;
  out->packet_id = U16(body.data());
  out->reason = body.size() >= 3 ? static_cast<uint8_t>(body[2]) : 0;
  return out->packet_id != 0;
}

PublishTemplate::PublishTemplate(std::string_view topic, int qos, protocol::ProtocolVersion version,
                                 size_t payload_size, uint16_t topic_alias, bool send_topic) {
  SIMQ_CHECK(payload_size >= kStampSize);
  const std::string payload(payload_size, kFiller);
  protocol::PublishPacket publish;
  publish.topic = send_topic ? topic : std::string_view();
  publish.qos = static_cast<protocol::QoS>(qos);
  publish.packet_id = qos > 0 ? 1 : 0;
  if (topic_alias != 0) publish.properties.topic_alias = topic_alias;
  publish.payload = payload;
  packet_id_offset_ = protocol::Encode(publish, version, &bytes_);
  payload_offset_ = bytes_.size() - payload_size;
}

}  // namespace simq::loadgen
