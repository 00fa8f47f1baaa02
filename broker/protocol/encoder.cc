#include "broker/protocol/encoder.h"

#include "broker/base/check.h"
#include "broker/protocol/wire.h"

namespace simq::protocol {
namespace {

constexpr uint8_t FirstByte(PacketType type, uint8_t flags = 0) {
  return static_cast<uint8_t>((static_cast<uint8_t>(type) << 4) | flags);
}

constexpr size_t FrameSize(size_t body) {
  return 1 + VarIntSize(static_cast<uint32_t>(body)) + body;
}

// Appends a packet whose body is `body_size` bytes written by `write_body`. Returns the offset
// of the body from the packet's start.
template <typename F>
size_t Emit(uint8_t first_byte, size_t body_size, std::string* out, F&& write_body) {
  SIMQ_CHECK(body_size <= kMaxVarInt, "packet larger than MQTT allows");
  const size_t start = out->size();
  const size_t header = 1 + VarIntSize(static_cast<uint32_t>(body_size));
  out->resize(start + header + body_size);
  Writer w(out->data() + start);
  w.Byte(first_byte);
  w.VarInt(static_cast<uint32_t>(body_size));
  write_body(w);
  SIMQ_DCHECK(w.position() == out->data() + out->size(), "encoder size pass disagrees");
  return header;
}

struct PropsSize {
  size_t block;
  size_t wire;  // block plus its length prefix
};

PropsSize SizeProps(const Properties& props) {
  size_t block = PropertiesSize(props);
  return {block, VarIntSize(static_cast<uint32_t>(block)) + block};
}

// --- CONNECT ---

size_t ConnectBodySize(const ConnectPacket& c, PropsSize props, PropsSize will_props) {
  const bool v5 = IsV5(c.version);
  size_t n = (c.version == ProtocolVersion::kMqtt31 ? 2 + 6 : 2 + 4) + 1 + 1 + 2;
  if (v5) n += props.wire;
  n += 2 + c.client_id.size();
  if (c.will) {
    if (v5) n += will_props.wire;
    n += 2 + c.will->topic.size() + 2 + c.will->payload.size();
  }
  if (c.username) n += 2 + c.username->size();
  if (c.password) n += 2 + c.password->size();
  return n;
}

// --- PUBLISH ---

size_t PublishBodySize(const PublishPacket& p, ProtocolVersion v, PropsSize props) {
  size_t n = 2 + p.topic.size() + (p.qos != QoS::kAtMostOnce ? 2 : 0) + p.payload.size();
  if (IsV5(v)) n += props.wire;
  return n;
}

// --- acknowledgements ---

template <PacketType kType>
void EncodeAck(const AckPacket<kType>& a, ProtocolVersion v, std::string* out) {
  constexpr uint8_t flags = kType == PacketType::kPubrel ? 0x2 : 0x0;
  if (!IsV5(v)) {
    Emit(FirstByte(kType, flags), 2, out, [&](Writer& w) { w.U16(a.packet_id); });
    return;
  }
  PropsSize props = SizeProps(a.properties);
  const bool with_props = props.block > 0;
  const bool with_reason = with_props || a.reason_code != ReasonCode::kSuccess;
  size_t body = 2 + (with_reason ? 1 : 0) + (with_props ? props.wire : 0);
  Emit(FirstByte(kType, flags), body, out, [&](Writer& w) {
    w.U16(a.packet_id);
    if (with_reason) w.Byte(static_cast<uint8_t>(a.reason_code));
    if (with_props) EncodeProperties(a.properties, props.block, w);
  });
}

// DISCONNECT and AUTH: Remaining Length 0 for Success without properties (§3.14.2.1, §3.15.2.1).
void EncodeReasonAndProperties(PacketType type, ReasonCode code, const Properties& properties,
                               std::string* out) {
  PropsSize props = SizeProps(properties);
  const bool with_props = props.block > 0;
  const bool with_reason = with_props || code != ReasonCode::kSuccess;
  size_t body = (with_reason ? 1 : 0) + (with_props ? props.wire : 0);
  Emit(FirstByte(type), body, out, [&](Writer& w) {
    if (with_reason) w.Byte(static_cast<uint8_t>(code));
    if (with_props) EncodeProperties(properties, props.block, w);
  });
}

}  // namespace

uint8_t EncodeSubscriptionOptions(const SubscriptionOptions& o, ProtocolVersion version) {
  uint8_t b = static_cast<uint8_t>(o.max_qos);
  if (IsV5(version)) {
    if (o.no_local) b |= 0x04;
    if (o.retain_as_published) b |= 0x08;
    b |= static_cast<uint8_t>(static_cast<uint8_t>(o.retain_handling) << 4);
  }
  return b;
}

void Encode(const ConnectPacket& c, std::string* out) {
  const bool v5 = IsV5(c.version);
  PropsSize props = SizeProps(c.properties);
  PropsSize will_props = c.will ? SizeProps(c.will->properties) : PropsSize{0, 1};
  uint8_t flags = 0;
  if (c.clean_start) flags |= 0x02;
  if (c.will) {
    flags |= 0x04;
    flags |= static_cast<uint8_t>(static_cast<uint8_t>(c.will->qos) << 3);
    if (c.will->retain) flags |= 0x20;
  }
  if (c.password) flags |= 0x40;
  if (c.username) flags |= 0x80;
  Emit(FirstByte(PacketType::kConnect), ConnectBodySize(c, props, will_props), out, [&](Writer& w) {
    w.LengthPrefixed(c.version == ProtocolVersion::kMqtt31 ? "MQIsdp" : "MQTT");
    w.Byte(static_cast<uint8_t>(c.version));
    w.Byte(flags);
    w.U16(c.keep_alive);
    if (v5) EncodeProperties(c.properties, props.block, w);
    w.LengthPrefixed(c.client_id);
    if (c.will) {
      if (v5) EncodeProperties(c.will->properties, will_props.block, w);
      w.LengthPrefixed(c.will->topic);
      w.LengthPrefixed(c.will->payload);
    }
    if (c.username) w.LengthPrefixed(*c.username);
    if (c.password) w.LengthPrefixed(*c.password);
  });
}

void Encode(const ConnackPacket& c, ProtocolVersion v, std::string* out) {
  if (!IsV5(v)) {
    // MQTT 3.1 has no Session Present: its first variable header byte is reserved (§3.2).
    const bool session_present = c.session_present && v != ProtocolVersion::kMqtt31;
    Emit(FirstByte(PacketType::kConnack), 2, out, [&](Writer& w) {
      w.Byte(session_present ? 1 : 0);
      w.Byte(static_cast<uint8_t>(ToConnectReturnCode(c.reason_code)));
    });
    return;
  }
  PropsSize props = SizeProps(c.properties);
  Emit(FirstByte(PacketType::kConnack), 2 + props.wire, out, [&](Writer& w) {
    w.Byte(c.session_present ? 1 : 0);
    w.Byte(static_cast<uint8_t>(c.reason_code));
    EncodeProperties(c.properties, props.block, w);
  });
}

size_t Encode(const PublishPacket& p, ProtocolVersion v, std::string* out) {
  PropsSize props = IsV5(v) ? SizeProps(p.properties) : PropsSize{0, 0};
  const size_t start = out->size();
  size_t id_offset = 0;
  Emit(PublishFirstByte(p.qos, p.retain, p.dup), PublishBodySize(p, v, props), out, [&](Writer& w) {
    w.LengthPrefixed(p.topic);
    if (p.qos != QoS::kAtMostOnce) {
      id_offset = static_cast<size_t>(w.position() - (out->data() + start));
      w.U16(p.packet_id);
    }
    if (IsV5(v)) EncodeProperties(p.properties, props.block, w);
    w.Bytes(p.payload);
  });
  return id_offset;
}

void Encode(const PubackPacket& p, ProtocolVersion v, std::string* out) {
  EncodeAck(p, v, out);
}
void Encode(const PubrecPacket& p, ProtocolVersion v, std::string* out) {
  EncodeAck(p, v, out);
}
void Encode(const PubrelPacket& p, ProtocolVersion v, std::string* out) {
  EncodeAck(p, v, out);
}
void Encode(const PubcompPacket& p, ProtocolVersion v, std::string* out) {
  EncodeAck(p, v, out);
}

void Encode(const SubscribePacket& p, ProtocolVersion v, std::string* out) {
  PropsSize props = IsV5(v) ? SizeProps(p.properties) : PropsSize{0, 0};
  size_t body = 2 + props.wire;
  for (const TopicSubscription& s : p.subscriptions) body += 2 + s.filter.size() + 1;
  Emit(FirstByte(PacketType::kSubscribe, 0x2), body, out, [&](Writer& w) {
    w.U16(p.packet_id);
    if (IsV5(v)) EncodeProperties(p.properties, props.block, w);
    for (const TopicSubscription& s : p.subscriptions) {
      w.LengthPrefixed(s.filter);
      w.Byte(EncodeSubscriptionOptions(s.options, v));
    }
  });
}

void Encode(const SubackPacket& p, ProtocolVersion v, std::string* out) {
  PropsSize props = IsV5(v) ? SizeProps(p.properties) : PropsSize{0, 0};
  Emit(FirstByte(PacketType::kSuback), 2 + props.wire + p.reason_codes.size(), out, [&](Writer& w) {
    w.U16(p.packet_id);
    if (IsV5(v)) EncodeProperties(p.properties, props.block, w);
    for (ReasonCode rc : p.reason_codes) {
      // 3.1.1 knows only Granted QoS 0..2 and Failure (0x80).
      w.Byte(!IsV5(v) && IsError(rc) ? 0x80 : static_cast<uint8_t>(rc));
    }
  });
}

void Encode(const UnsubscribePacket& p, ProtocolVersion v, std::string* out) {
  PropsSize props = IsV5(v) ? SizeProps(p.properties) : PropsSize{0, 0};
  size_t body = 2 + props.wire;
  for (std::string_view f : p.filters) body += 2 + f.size();
  Emit(FirstByte(PacketType::kUnsubscribe, 0x2), body, out, [&](Writer& w) {
    w.U16(p.packet_id);
    if (IsV5(v)) EncodeProperties(p.properties, props.block, w);
    for (std::string_view f : p.filters) w.LengthPrefixed(f);
  });
}

void Encode(const UnsubackPacket& p, ProtocolVersion v, std::string* out) {
  if (!IsV5(v)) {
    Emit(FirstByte(PacketType::kUnsuback), 2, out, [&](Writer& w) { w.U16(p.packet_id); });
    return;
  }
  PropsSize props = SizeProps(p.properties);
  Emit(FirstByte(PacketType::kUnsuback), 2 + props.wire + p.reason_codes.size(), out,
       [&](Writer& w) {
         w.U16(p.packet_id);
         EncodeProperties(p.properties, props.block, w);
         for (ReasonCode rc : p.reason_codes) w.Byte(static_cast<uint8_t>(rc));
       });
}

void Encode(const PingreqPacket&, ProtocolVersion, std::string* out) {
  Emit(FirstByte(PacketType::kPingreq), 0, out, [](Writer&) {});
}

void Encode(const PingrespPacket&, ProtocolVersion, std::string* out) {
  Emit(FirstByte(PacketType::kPingresp), 0, out, [](Writer&) {});
}

void Encode(const DisconnectPacket& p, ProtocolVersion v, std::string* out) {
  if (!IsV5(v)) {
    Emit(FirstByte(PacketType::kDisconnect), 0, out, [](Writer&) {});
    return;
  }
  EncodeReasonAndProperties(PacketType::kDisconnect, p.reason_code, p.properties, out);
}

void Encode(const AuthPacket& p, ProtocolVersion, std::string* out) {
  EncodeReasonAndProperties(PacketType::kAuth, p.reason_code, p.properties, out);
}

void EncodePacket(const Packet& packet, ProtocolVersion version, std::string* out) {
  std::visit(
      [&](const auto& p) {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, ConnectPacket>) {
          Encode(p, out);
        } else {
          Encode(p, version, out);
        }
      },
      packet);
}

std::string EncodeToString(const Packet& packet, ProtocolVersion version) {
  std::string out;
  EncodePacket(packet, version, &out);
  return out;
}

size_t EncodedSize(const PublishPacket& p, ProtocolVersion v) {
  PropsSize props = IsV5(v) ? SizeProps(p.properties) : PropsSize{0, 0};
  size_t body = PublishBodySize(p, v, props);
  if (body > kMaxVarInt) return size_t{kMaxPacketSize} + 1;
  return FrameSize(body);
}

size_t EncodedSize(const Packet& packet, ProtocolVersion version) {
  if (const auto* publish = std::get_if<PublishPacket>(&packet))
    return EncodedSize(*publish, version);
  // Other packets are small and bounded by their own content; encode to measure.
  return EncodeToString(packet, version).size();
}

}  // namespace simq::protocol
