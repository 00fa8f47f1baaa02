#include "broker/protocol/decoder.h"

#include "broker/protocol/error.h"
#include "broker/protocol/topic.h"
#include "broker/protocol/utf8.h"
#include "broker/protocol/wire.h"

namespace simq::protocol {
namespace {

// §2.1.3: the flags every packet type except PUBLISH must carry.
uint8_t RequiredFlags(PacketType type) {
  switch (type) {
    case PacketType::kPubrel:
    case PacketType::kSubscribe:
    case PacketType::kUnsubscribe: return 0x2;
    default: return 0x0;
  }
}

absl::Status CheckFlags(const Frame& frame) {
  if (frame.header.flags != RequiredFlags(frame.header.type)) {
    return MalformedPacket("reserved fixed header flags are wrong");
  }
  return absl::OkStatus();
}

bool ReadString(Reader& r, std::string_view* out) {
  return r.ReadLengthPrefixed(out) && IsValidMqttString(*out);
}

absl::Status ReadPacketId(Reader& r, uint16_t* id) {
  if (!r.ReadU16(id)) return MalformedPacket("packet too short for a packet identifier");
  if (*id == 0) return ProtocolViolation("packet identifier 0");
  return absl::OkStatus();
}

absl::Status ExpectEnd(const Reader& r) {
  if (!r.empty()) return MalformedPacket("bytes after the end of the packet");
  return absl::OkStatus();
}

PropertyContext ContextOf(PacketType type) {
  switch (type) {
    case PacketType::kPuback: return PropertyContext::kPuback;
    case PacketType::kPubrec: return PropertyContext::kPubrec;
    case PacketType::kPubrel: return PropertyContext::kPubrel;
    default: return PropertyContext::kPubcomp;
  }
}

template <PacketType kType>
absl::StatusOr<AckPacket<kType>> DecodeAck(const Frame& frame, ProtocolVersion version) {
  if (absl::Status s = CheckFlags(frame); !s.ok()) return s;
  Reader r(frame.body);
  AckPacket<kType> ack;
  if (absl::Status s = ReadPacketId(r, &ack.packet_id); !s.ok()) return s;
  if (!IsV5(version)) {
    if (absl::Status s = ExpectEnd(r); !s.ok()) return s;
    return ack;
  }
  // MQTT 5 §3.4.2.1: Reason Code and properties may be omitted.
  if (r.empty()) return ack;
  uint8_t code = 0;
  r.ReadByte(&code);
  ack.reason_code = static_cast<ReasonCode>(code);
  if (!IsValidReasonCode(kType, ack.reason_code)) {
    return ProtocolViolation("reason code not allowed in this packet");
  }
  if (r.empty()) return ack;
  if (absl::Status s = DecodeProperties(r, ContextOf(kType), &ack.properties); !s.ok()) return s;
  if (absl::Status s = ExpectEnd(r); !s.ok()) return s;
  return ack;
}

// Reason code plus optional properties, as DISCONNECT and AUTH carry them (§3.14.2, §3.15.2).
absl::Status DecodeReasonAndProperties(Reader& r, PacketType type, PropertyContext context,
                                       ReasonCode* code, Properties* props) {
  if (r.empty()) return absl::OkStatus();  // Remaining Length 0: Success, no properties
  uint8_t byte = 0;
  r.ReadByte(&byte);
  *code = static_cast<ReasonCode>(byte);
  if (!IsValidReasonCode(type, *code))
    return ProtocolViolation("reason code not allowed in this packet");
  if (r.empty()) return absl::OkStatus();
  if (absl::Status s = DecodeProperties(r, context, props); !s.ok()) return s;
  return ExpectEnd(r);
}

}  // namespace

absl::StatusOr<std::optional<FixedHeader>> ParseFixedHeader(std::string_view buffer,
                                                            uint32_t max_packet_size) {
  if (buffer.size() < 2) return std::optional<FixedHeader>();
  FixedHeader h;
  uint8_t first = static_cast<uint8_t>(buffer[0]);
  h.type = static_cast<PacketType>(first >> 4);
  h.flags = first & 0x0F;
  size_t length_size = 0;
  switch (DecodeVarInt(buffer.substr(1), &h.remaining_length, &length_size)) {
    case VarIntStatus::kNeedMore: return std::optional<FixedHeader>();
    case VarIntStatus::kMalformed: return MalformedPacket("bad remaining length");
    case VarIntStatus::kOk: break;
  }
  h.header_size = static_cast<uint8_t>(1 + length_size);
  if (uint64_t{h.header_size} + h.remaining_length > max_packet_size) {
    return ProtocolError(ReasonCode::kPacketTooLarge, "packet exceeds the maximum packet size");
  }
  return std::optional<FixedHeader>(h);
}

std::optional<uint8_t> PeekProtocolLevel(const Frame& frame) {
  Reader r(frame.body);
  std::string_view name;
  uint8_t level = 0;
  if (!r.ReadLengthPrefixed(&name) || !r.ReadByte(&level)) return std::nullopt;
  return level;
}

absl::StatusOr<ConnectPacket> DecodeConnect(const Frame& frame) {
  if (absl::Status s = CheckFlags(frame); !s.ok()) return s;
  Reader r(frame.body);
  std::string_view name;
  uint8_t level = 0;
  if (!r.ReadLengthPrefixed(&name) || !r.ReadByte(&level)) {
    return MalformedPacket("CONNECT too short for protocol name and level");
  }
  ConnectPacket c;
  if (name == "MQTT" && level == 4) {
    c.version = ProtocolVersion::kMqtt311;
  } else if (name == "MQTT" && level == 5) {
    c.version = ProtocolVersion::kMqtt5;
  } else if (name == "MQIsdp" && level == 3) {
    c.version = ProtocolVersion::kMqtt31;
  } else {
    return ProtocolError(ReasonCode::kUnsupportedProtocolVersion,
                         "unsupported protocol name or level");
  }
  uint8_t flags = 0;
  if (!r.ReadByte(&flags) || !r.ReadU16(&c.keep_alive)) return MalformedPacket("CONNECT too short");
  if ((flags & 0x01) != 0) return MalformedPacket("CONNECT reserved flag set");
  c.clean_start = (flags & 0x02) != 0;
  const bool will = (flags & 0x04) != 0;
  const uint8_t will_qos = (flags >> 3) & 0x3;
  const bool will_retain = (flags & 0x20) != 0;
  const bool has_password = (flags & 0x40) != 0;
  const bool has_username = (flags & 0x80) != 0;
  if (will_qos == 3) return MalformedPacket("will QoS 3");
  if (!will && (will_qos != 0 || will_retain)) {
    return MalformedPacket("will QoS or retain set without a will");
  }
  if (!IsV5(c.version) && has_password && !has_username) {
    return MalformedPacket("password without user name");
  }
  if (IsV5(c.version)) {
    if (absl::Status s = DecodeProperties(r, PropertyContext::kConnect, &c.properties); !s.ok()) {
      return s;
    }
    if (c.properties.authentication_data && !c.properties.authentication_method) {
      return ProtocolViolation("authentication data without authentication method");
    }
  }
  if (!ReadString(r, &c.client_id)) return MalformedPacket("bad client identifier");
  if (will) {
    Will w;
    w.qos = static_cast<QoS>(will_qos);
    w.retain = will_retain;
    if (IsV5(c.version)) {
      if (absl::Status s = DecodeProperties(r, PropertyContext::kWill, &w.properties); !s.ok()) {
        return s;
      }
    }
    if (!ReadString(r, &w.topic)) return MalformedPacket("bad will topic");
    if (ValidateTopicName(w.topic) != ReasonCode::kSuccess) {
      return ProtocolError(ReasonCode::kTopicNameInvalid, "will topic is not a valid topic name");
    }
    if (!r.ReadLengthPrefixed(&w.payload)) return MalformedPacket("bad will payload");
    c.will = w;
  }
  if (has_username) {
    std::string_view username;
    if (!ReadString(r, &username)) return MalformedPacket("bad user name");
    c.username = username;
  }
  if (has_password) {
    std::string_view password;
    if (!r.ReadLengthPrefixed(&password)) return MalformedPacket("bad password");
    c.password = password;
  }
  if (absl::Status s = ExpectEnd(r); !s.ok()) return s;
  return c;
}

absl::StatusOr<ConnackPacket> DecodeConnack(const Frame& frame, ProtocolVersion version) {
  if (absl::Status s = CheckFlags(frame); !s.ok()) return s;
  Reader r(frame.body);
  ConnackPacket c;
  uint8_t flags = 0;
  uint8_t code = 0;
  if (!r.ReadByte(&flags) || !r.ReadByte(&code)) return MalformedPacket("CONNACK too short");
  // MQTT 3.1 §3.2: the whole first byte is reserved ("not used"); Session Present is 3.1.1's.
  if (version == ProtocolVersion::kMqtt31) flags = 0;
  if ((flags & 0xFE) != 0) return MalformedPacket("CONNACK reserved flags set");
  c.session_present = (flags & 0x01) != 0;
  if (!IsV5(version)) {
    switch (static_cast<ConnectReturnCode>(code)) {
      case ConnectReturnCode::kAccepted: c.reason_code = ReasonCode::kSuccess; break;
      case ConnectReturnCode::kUnacceptableProtocolVersion:
        c.reason_code = ReasonCode::kUnsupportedProtocolVersion;
        break;
      case ConnectReturnCode::kIdentifierRejected:
        c.reason_code = ReasonCode::kClientIdentifierNotValid;
        break;
      case ConnectReturnCode::kServerUnavailable:
        c.reason_code = ReasonCode::kServerUnavailable;
        break;
      case ConnectReturnCode::kBadUserNameOrPassword:
        c.reason_code = ReasonCode::kBadUserNameOrPassword;
        break;
      case ConnectReturnCode::kNotAuthorized: c.reason_code = ReasonCode::kNotAuthorized; break;
      default: return MalformedPacket("unknown CONNACK return code");
    }
    if (absl::Status s = ExpectEnd(r); !s.ok()) return s;
    return c;
  }
  c.reason_code = static_cast<ReasonCode>(code);
  if (!IsValidReasonCode(PacketType::kConnack, c.reason_code)) {
    return ProtocolViolation("reason code not allowed in CONNACK");
  }
  if (absl::Status s = DecodeProperties(r, PropertyContext::kConnack, &c.properties); !s.ok()) {
    return s;
  }
  if (absl::Status s = ExpectEnd(r); !s.ok()) return s;
  return c;
}

absl::StatusOr<PublishPacket> DecodePublish(const Frame& frame, ProtocolVersion version) {
  PublishPacket p;
  const uint8_t flags = frame.header.flags;
  p.retain = (flags & 0x1) != 0;
  const uint8_t qos = (flags >> 1) & 0x3;
  p.dup = (flags & 0x8) != 0;
  if (qos == 3) return MalformedPacket("PUBLISH with QoS 3");
  p.qos = static_cast<QoS>(qos);
  if (p.dup && qos == 0) return MalformedPacket("DUP set on a QoS 0 PUBLISH");
  Reader r(frame.body);
  if (!r.ReadLengthPrefixed(&p.topic)) return MalformedPacket("PUBLISH too short for its topic");
  if (!IsValidMqttString(p.topic)) return MalformedPacket("topic name is not valid UTF-8");
  if (HasWildcard(p.topic)) {
    return ProtocolError(ReasonCode::kTopicNameInvalid, "topic name contains a wildcard");
  }
  if (p.topic.empty() && !IsV5(version)) return MalformedPacket("empty topic name");
  if (qos > 0) {
    if (absl::Status s = ReadPacketId(r, &p.packet_id); !s.ok()) return s;
  }
  if (IsV5(version)) {
    if (absl::Status s = DecodeProperties(r, PropertyContext::kPublish, &p.properties); !s.ok()) {
      return s;
    }
  }
  p.payload = r.ReadRest();
  return p;
}

absl::StatusOr<PubackPacket> DecodePuback(const Frame& frame, ProtocolVersion version) {
  return DecodeAck<PacketType::kPuback>(frame, version);
}
absl::StatusOr<PubrecPacket> DecodePubrec(const Frame& frame, ProtocolVersion version) {
  return DecodeAck<PacketType::kPubrec>(frame, version);
}
absl::StatusOr<PubrelPacket> DecodePubrel(const Frame& frame, ProtocolVersion version) {
  return DecodeAck<PacketType::kPubrel>(frame, version);
}
absl::StatusOr<PubcompPacket> DecodePubcomp(const Frame& frame, ProtocolVersion version) {
  return DecodeAck<PacketType::kPubcomp>(frame, version);
}

absl::StatusOr<SubscribePacket> DecodeSubscribe(const Frame& frame, ProtocolVersion version) {
  if (absl::Status s = CheckFlags(frame); !s.ok()) return s;
  Reader r(frame.body);
  SubscribePacket p;
  if (absl::Status s = ReadPacketId(r, &p.packet_id); !s.ok()) return s;
  if (IsV5(version)) {
    if (absl::Status s = DecodeProperties(r, PropertyContext::kSubscribe, &p.properties); !s.ok()) {
      return s;
    }
  }
  if (r.empty()) return ProtocolViolation("SUBSCRIBE without topic filters");
  while (!r.empty()) {
    TopicSubscription sub;
    uint8_t options = 0;
    if (!r.ReadLengthPrefixed(&sub.filter) || !r.ReadByte(&options)) {
      return MalformedPacket("truncated topic filter");
    }
    if (!IsValidMqttString(sub.filter)) return MalformedPacket("topic filter is not valid UTF-8");
    const uint8_t qos = options & 0x3;
    if (qos == 3) return MalformedPacket("subscription QoS 3");
    sub.options.max_qos = static_cast<QoS>(qos);
    if (IsV5(version)) {
      if ((options & 0xC0) != 0) return MalformedPacket("reserved subscription option bits set");
      sub.options.no_local = (options & 0x04) != 0;
      sub.options.retain_as_published = (options & 0x08) != 0;
      const uint8_t handling = (options >> 4) & 0x3;
      if (handling == 3) return ProtocolViolation("retain handling 3");
      sub.options.retain_handling = static_cast<RetainHandling>(handling);
      if (sub.options.no_local && sub.filter.starts_with(kSharePrefix)) {
        return ProtocolViolation("no local on a shared subscription");
      }
    } else if ((options & 0xFC) != 0) {
      return MalformedPacket("reserved subscription option bits set");
    }
    p.subscriptions.push_back(sub);
  }
  return p;
}

absl::StatusOr<SubackPacket> DecodeSuback(const Frame& frame, ProtocolVersion version) {
  if (absl::Status s = CheckFlags(frame); !s.ok()) return s;
  Reader r(frame.body);
  SubackPacket p;
  if (absl::Status s = ReadPacketId(r, &p.packet_id); !s.ok()) return s;
  if (IsV5(version)) {
    if (absl::Status s = DecodeProperties(r, PropertyContext::kSuback, &p.properties); !s.ok()) {
      return s;
    }
  }
  if (r.empty()) return ProtocolViolation("SUBACK without reason codes");
  while (!r.empty()) {
    uint8_t code = 0;
    r.ReadByte(&code);
    auto rc = static_cast<ReasonCode>(code);
    bool valid =
        IsV5(version) ? IsValidReasonCode(PacketType::kSuback, rc) : (code <= 2 || code == 0x80);
    if (!valid) return ProtocolViolation("reason code not allowed in SUBACK");
    p.reason_codes.push_back(rc);
  }
  return p;
}

absl::StatusOr<UnsubscribePacket> DecodeUnsubscribe(const Frame& frame, ProtocolVersion version) {
  if (absl::Status s = CheckFlags(frame); !s.ok()) return s;
  Reader r(frame.body);
  UnsubscribePacket p;
  if (absl::Status s = ReadPacketId(r, &p.packet_id); !s.ok()) return s;
  if (IsV5(version)) {
    if (absl::Status s = DecodeProperties(r, PropertyContext::kUnsubscribe, &p.properties);
        !s.ok()) {
      return s;
    }
  }
  if (r.empty()) return ProtocolViolation("UNSUBSCRIBE without topic filters");
  while (!r.empty()) {
    std::string_view filter;
    if (!r.ReadLengthPrefixed(&filter)) return MalformedPacket("truncated topic filter");
    if (!IsValidMqttString(filter)) return MalformedPacket("topic filter is not valid UTF-8");
    p.filters.push_back(filter);
  }
  return p;
}

absl::StatusOr<UnsubackPacket> DecodeUnsuback(const Frame& frame, ProtocolVersion version) {
  if (absl::Status s = CheckFlags(frame); !s.ok()) return s;
  Reader r(frame.body);
  UnsubackPacket p;
  if (absl::Status s = ReadPacketId(r, &p.packet_id); !s.ok()) return s;
  if (!IsV5(version)) {
    if (absl::Status s = ExpectEnd(r); !s.ok()) return s;
    return p;
  }
  if (absl::Status s = DecodeProperties(r, PropertyContext::kUnsuback, &p.properties); !s.ok()) {
    return s;
  }
  // §3.11.3: one Reason Code per Topic Filter of the UNSUBSCRIBE, which has at least one.
  if (r.empty()) return ProtocolViolation("UNSUBACK without reason codes");
  while (!r.empty()) {
    uint8_t code = 0;
    r.ReadByte(&code);
    auto rc = static_cast<ReasonCode>(code);
    if (!IsValidReasonCode(PacketType::kUnsuback, rc)) {
      return ProtocolViolation("reason code not allowed in UNSUBACK");
    }
    p.reason_codes.push_back(rc);
  }
  return p;
}

absl::StatusOr<DisconnectPacket> DecodeDisconnect(const Frame& frame, ProtocolVersion version) {
  if (absl::Status s = CheckFlags(frame); !s.ok()) return s;
  Reader r(frame.body);
  DisconnectPacket p;
  if (!IsV5(version)) {
    if (absl::Status s = ExpectEnd(r); !s.ok()) return s;
    return p;
  }
  if (absl::Status s = DecodeReasonAndProperties(
          r, PacketType::kDisconnect, PropertyContext::kDisconnect, &p.reason_code, &p.properties);
      !s.ok()) {
    return s;
  }
  return p;
}

absl::StatusOr<AuthPacket> DecodeAuth(const Frame& frame, ProtocolVersion version) {
  if (!IsV5(version)) return MalformedPacket("AUTH is not an MQTT 3 packet");
  if (absl::Status s = CheckFlags(frame); !s.ok()) return s;
  Reader r(frame.body);
  AuthPacket p;
  if (absl::Status s = DecodeReasonAndProperties(r, PacketType::kAuth, PropertyContext::kAuth,
                                                 &p.reason_code, &p.properties);
      !s.ok()) {
    return s;
  }
  return p;
}

absl::StatusOr<Packet> DecodePacket(const Frame& frame, ProtocolVersion version) {
  auto wrap = [](auto&& result) -> absl::StatusOr<Packet> {
    if (!result.ok()) return std::move(result).status();
    return Packet(*std::move(result));
  };
  switch (frame.header.type) {
    case PacketType::kConnect: return wrap(DecodeConnect(frame));
    case PacketType::kConnack: return wrap(DecodeConnack(frame, version));
    case PacketType::kPublish: return wrap(DecodePublish(frame, version));
    case PacketType::kPuback: return wrap(DecodePuback(frame, version));
    case PacketType::kPubrec: return wrap(DecodePubrec(frame, version));
    case PacketType::kPubrel: return wrap(DecodePubrel(frame, version));
    case PacketType::kPubcomp: return wrap(DecodePubcomp(frame, version));
    case PacketType::kSubscribe: return wrap(DecodeSubscribe(frame, version));
    case PacketType::kSuback: return wrap(DecodeSuback(frame, version));
    case PacketType::kUnsubscribe: return wrap(DecodeUnsubscribe(frame, version));
    case PacketType::kUnsuback: return wrap(DecodeUnsuback(frame, version));
    case PacketType::kPingreq:
    case PacketType::kPingresp: {
      if (absl::Status s = CheckFlags(frame); !s.ok()) return s;
      if (!frame.body.empty()) return MalformedPacket("PINGREQ/PINGRESP with a body");
      if (frame.header.type == PacketType::kPingreq) return Packet(PingreqPacket{});
      return Packet(PingrespPacket{});
    }
    case PacketType::kDisconnect: return wrap(DecodeDisconnect(frame, version));
    case PacketType::kAuth: return wrap(DecodeAuth(frame, version));
    case PacketType::kReserved: break;
  }
  return MalformedPacket("reserved packet type 0");
}

}  // namespace simq::protocol
