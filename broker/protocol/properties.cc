#include "broker/protocol/properties.h"

#include "broker/protocol/error.h"
#include "broker/protocol/utf8.h"
#include "broker/protocol/wire.h"

namespace simq::protocol {
namespace {

enum class PropertyType : uint8_t {
  kNone,
  kByte,
  kTwoByte,
  kFourByte,
  kVarInt,
  kString,
  kBinary,
  kPair
};

constexpr uint16_t Ctx(PropertyContext c) {
  return uint16_t{1} << static_cast<int>(c);
}

constexpr uint16_t kAll = 0x3FFF;
constexpr uint16_t kPubWill = Ctx(PropertyContext::kPublish) | Ctx(PropertyContext::kWill);
constexpr uint16_t kConnectConnack =
    Ctx(PropertyContext::kConnect) | Ctx(PropertyContext::kConnack);
constexpr uint16_t kConnack = Ctx(PropertyContext::kConnack);

struct PropertyInfo {
  PropertyType type = PropertyType::kNone;
  uint16_t contexts = 0;
};

// §2.2.2.2 table 2-4, indexed by identifier.
constexpr auto kPropertyTable = [] {
  std::array<PropertyInfo, 0x2B> t{};
  auto set = [&t](PropertyId id, PropertyType type, uint16_t contexts) {
    t[static_cast<size_t>(id)] = PropertyInfo{type, contexts};
  };
  using P = PropertyId;
  using T = PropertyType;
  using C = PropertyContext;
  set(P::kPayloadFormatIndicator, T::kByte, kPubWill);
  set(P::kMessageExpiryInterval, T::kFourByte, kPubWill);
  set(P::kContentType, T::kString, kPubWill);
  set(P::kResponseTopic, T::kString, kPubWill);
  set(P::kCorrelationData, T::kBinary, kPubWill);
  set(P::kSubscriptionIdentifier, T::kVarInt, Ctx(C::kPublish) | Ctx(C::kSubscribe));
  set(P::kSessionExpiryInterval, T::kFourByte, kConnectConnack | Ctx(C::kDisconnect));
  set(P::kAssignedClientIdentifier, T::kString, kConnack);
  set(P::kServerKeepAlive, T::kTwoByte, kConnack);
  set(P::kAuthenticationMethod, T::kString, kConnectConnack | Ctx(C::kAuth));
  set(P::kAuthenticationData, T::kBinary, kConnectConnack | Ctx(C::kAuth));
  set(P::kRequestProblemInformation, T::kByte, Ctx(C::kConnect));
  set(P::kWillDelayInterval, T::kFourByte, Ctx(C::kWill));
  set(P::kRequestResponseInformation, T::kByte, Ctx(C::kConnect));
  set(P::kResponseInformation, T::kString, kConnack);
  set(P::kServerReference, T::kString, kConnack | Ctx(C::kDisconnect));
  set(P::kReasonString, T::kString,
      kConnack | Ctx(C::kPuback) | Ctx(C::kPubrec) | Ctx(C::kPubrel) | Ctx(C::kPubcomp) |
          Ctx(C::kSuback) | Ctx(C::kUnsuback) | Ctx(C::kDisconnect) | Ctx(C::kAuth));
  set(P::kReceiveMaximum, T::kTwoByte, kConnectConnack);
  set(P::kTopicAliasMaximum, T::kTwoByte, kConnectConnack);
  set(P::kTopicAlias, T::kTwoByte, Ctx(C::kPublish));
  set(P::kMaximumQoS, T::kByte, kConnack);
  set(P::kRetainAvailable, T::kByte, kConnack);
  set(P::kUserProperty, T::kPair, kAll);
  set(P::kMaximumPacketSize, T::kFourByte, kConnectConnack);
  set(P::kWildcardSubscriptionAvailable, T::kByte, kConnack);
  set(P::kSubscriptionIdentifierAvailable, T::kByte, kConnack);
  set(P::kSharedSubscriptionAvailable, T::kByte, kConnack);
  return t;
}();

const PropertyInfo* Lookup(uint32_t id) {
  if (id >= kPropertyTable.size() || kPropertyTable[id].type == PropertyType::kNone) return nullptr;
  return &kPropertyTable[id];
}

// Walks a block the decoder already validated, calling `f(id, value_reader)` positioned at each
// property value. Used to iterate repeatable properties without storing them.
template <typename F>
void WalkValidatedBlock(std::string_view block, F&& f) {
  Reader r(block);
  while (!r.empty()) {
    uint32_t id = 0;
    r.ReadVarInt(&id);
    const PropertyInfo* info = Lookup(id);
    SIMQ_DCHECK(info != nullptr, "unvalidated property block");
    std::string_view a, b;
    uint32_t v = 0;
    uint8_t byte = 0;
    uint16_t u16 = 0;
    switch (info->type) {
      case PropertyType::kByte: r.ReadByte(&byte); break;
      case PropertyType::kTwoByte: r.ReadU16(&u16); break;
      case PropertyType::kFourByte: r.ReadU32(&v); break;
      case PropertyType::kVarInt: r.ReadVarInt(&v); break;
      case PropertyType::kString:
      case PropertyType::kBinary: r.ReadLengthPrefixed(&a); break;
      case PropertyType::kPair:
        r.ReadLengthPrefixed(&a);
        r.ReadLengthPrefixed(&b);
        break;
      case PropertyType::kNone: return;
    }
    f(static_cast<PropertyId>(id), a, b, v);
  }
}

// Decodes a property block (without its length prefix) into `out`.
absl::Status DecodeBlock(std::string_view block, PropertyContext context, Properties* out);

bool ReadString(Reader& r, std::optional<std::string_view>* out) {
  std::string_view s;
  if (!r.ReadLengthPrefixed(&s) || !IsValidMqttString(s)) return false;
  *out = s;
  return true;
}

}  // namespace

bool IsPropertyAllowed(PropertyId id, PropertyContext context) {
  const PropertyInfo* info = Lookup(static_cast<uint32_t>(id));
  return info != nullptr && (info->contexts & Ctx(context)) != 0;
}

UserProperties UserProperties::FromWire(std::string_view block, uint32_t count) {
  UserProperties p;
  p.wire_ = block;
  p.count_ = count;
  return p;
}

void UserProperties::ForEach(
    absl::FunctionRef<void(std::string_view name, std::string_view value)> f) const {
  if (count_ == 0) return;
  if (!wire_.empty()) {
    WalkValidatedBlock(wire_, [&](PropertyId id, std::string_view a, std::string_view b, uint32_t) {
      if (id == PropertyId::kUserProperty) f(a, b);
    });
    return;
  }
  for (const StringPair& pair : pairs_) f(pair.name, pair.value);
}

std::vector<StringPair> UserProperties::ToVector() const {
  std::vector<StringPair> out;
  out.reserve(count_);
  ForEach([&](std::string_view name, std::string_view value) { out.push_back({name, value}); });
  return out;
}

SubscriptionIds SubscriptionIds::FromWire(std::string_view block, uint32_t count) {
  SubscriptionIds s;
  s.wire_ = block;
  s.count_ = count;
  return s;
}

void SubscriptionIds::ForEach(absl::FunctionRef<void(uint32_t id)> f) const {
  if (count_ == 0) return;
  if (!wire_.empty()) {
    WalkValidatedBlock(wire_, [&](PropertyId id, std::string_view, std::string_view, uint32_t v) {
      if (id == PropertyId::kSubscriptionIdentifier) f(v);
    });
    return;
  }
  for (uint32_t id : ids_) f(id);
}

std::vector<uint32_t> SubscriptionIds::ToVector() const {
  std::vector<uint32_t> out;
  out.reserve(count_);
  ForEach([&](uint32_t id) { out.push_back(id); });
  return out;
}

uint32_t SubscriptionIds::front() const {
  SIMQ_CHECK(count_ > 0, "front() of empty SubscriptionIds");
  if (wire_.empty()) return ids_.front();
  uint32_t first = 0;
  bool found = false;
  WalkValidatedBlock(wire_, [&](PropertyId id, std::string_view, std::string_view, uint32_t v) {
    if (id == PropertyId::kSubscriptionIdentifier && !found) {
      first = v;
      found = true;
    }
  });
  return first;
}

absl::Status DecodeProperties(Reader& reader, PropertyContext context, Properties* out) {
  uint32_t length = 0;
  if (!reader.ReadVarInt(&length)) return MalformedPacket("bad property length");
  std::string_view block;
  if (!reader.ReadBytes(length, &block)) {
    return MalformedPacket("property length exceeds the packet");
  }
  return DecodeBlock(block, context, out);
}

namespace {

absl::Status DecodeBlock(std::string_view block, PropertyContext context, Properties* out) {
  // A stored block (kAny) is held to the wire's structure, not to each property's value range:
  // it may carry what a caller chose to send, right or wrong, and the receiver judges that.
  const bool strict = context != PropertyContext::kAny;
  Reader r(block);
  uint64_t seen = 0;
  uint32_t user_properties = 0;
  uint32_t subscription_ids = 0;
  while (!r.empty()) {
    uint32_t id = 0;
    if (!r.ReadVarInt(&id)) return MalformedPacket("bad property identifier");
    const PropertyInfo* info = Lookup(id);
    if (info == nullptr ||
        (context != PropertyContext::kAny && (info->contexts & Ctx(context)) == 0)) {
      return MalformedPacket("property not allowed in this packet");
    }
    const auto pid = static_cast<PropertyId>(id);
    const bool repeatable =
        pid == PropertyId::kUserProperty ||
        (pid == PropertyId::kSubscriptionIdentifier &&
         (context == PropertyContext::kPublish || context == PropertyContext::kAny));
    if (!repeatable) {
      if ((seen & (uint64_t{1} << id)) != 0) return ProtocolViolation("property included twice");
      seen |= uint64_t{1} << id;
    }
    bool ok = true;
    uint8_t byte = 0;
    uint16_t u16 = 0;
    uint32_t u32 = 0;
    std::string_view bin;
    switch (pid) {
      case PropertyId::kPayloadFormatIndicator:
        ok = r.ReadByte(&byte);
        if (strict && ok && byte > 1)
          return ProtocolViolation("payload format indicator not 0 or 1");
        out->payload_format_indicator = byte;
        break;
      case PropertyId::kMessageExpiryInterval:
        ok = r.ReadU32(&u32);
        out->message_expiry_interval = u32;
        break;
      case PropertyId::kContentType: ok = ReadString(r, &out->content_type); break;
      case PropertyId::kResponseTopic: ok = ReadString(r, &out->response_topic); break;
      case PropertyId::kCorrelationData:
        ok = r.ReadLengthPrefixed(&bin);
        out->correlation_data = bin;
        break;
      case PropertyId::kSubscriptionIdentifier:
        ok = r.ReadVarInt(&u32);
        if (strict && ok && u32 == 0) return ProtocolViolation("subscription identifier 0");
        ++subscription_ids;
        break;
      case PropertyId::kSessionExpiryInterval:
        ok = r.ReadU32(&u32);
        out->session_expiry_interval = u32;
        break;
      case PropertyId::kAssignedClientIdentifier:
        ok = ReadString(r, &out->assigned_client_identifier);
        break;
      case PropertyId::kServerKeepAlive:
        ok = r.ReadU16(&u16);
        out->server_keep_alive = u16;
        break;
      case PropertyId::kAuthenticationMethod:
        ok = ReadString(r, &out->authentication_method);
        break;
      case PropertyId::kAuthenticationData:
        ok = r.ReadLengthPrefixed(&bin);
        out->authentication_data = bin;
        break;
      case PropertyId::kRequestProblemInformation:
        ok = r.ReadByte(&byte);
        if (strict && ok && byte > 1)
          return ProtocolViolation("request problem information not 0 or 1");
        out->request_problem_information = byte;
        break;
      case PropertyId::kWillDelayInterval:
        ok = r.ReadU32(&u32);
        out->will_delay_interval = u32;
        break;
      case PropertyId::kRequestResponseInformation:
        ok = r.ReadByte(&byte);
        if (strict && ok && byte > 1)
          return ProtocolViolation("request response information not 0 or 1");
        out->request_response_information = byte;
        break;
      case PropertyId::kResponseInformation: ok = ReadString(r, &out->response_information); break;
      case PropertyId::kServerReference: ok = ReadString(r, &out->server_reference); break;
      case PropertyId::kReasonString: ok = ReadString(r, &out->reason_string); break;
      case PropertyId::kReceiveMaximum:
        ok = r.ReadU16(&u16);
        if (strict && ok && u16 == 0) return ProtocolViolation("receive maximum 0");
        out->receive_maximum = u16;
        break;
      case PropertyId::kTopicAliasMaximum:
        ok = r.ReadU16(&u16);
        out->topic_alias_maximum = u16;
        break;
      case PropertyId::kTopicAlias:
        // 0 and values above the receiver's maximum are the receiver's call (0x94).
        ok = r.ReadU16(&u16);
        out->topic_alias = u16;
        break;
      case PropertyId::kMaximumQoS:
        ok = r.ReadByte(&byte);
        if (strict && ok && byte > 1) return ProtocolViolation("maximum QoS not 0 or 1");
        out->maximum_qos = byte;
        break;
      case PropertyId::kRetainAvailable:
        ok = r.ReadByte(&byte);
        if (strict && ok && byte > 1) return ProtocolViolation("retain available not 0 or 1");
        out->retain_available = byte;
        break;
      case PropertyId::kUserProperty: {
        std::string_view name, value;
        ok = r.ReadLengthPrefixed(&name) && r.ReadLengthPrefixed(&value) &&
             IsValidMqttString(name) && IsValidMqttString(value);
        ++user_properties;
        break;
      }
      case PropertyId::kMaximumPacketSize:
        ok = r.ReadU32(&u32);
        if (strict && ok && u32 == 0) return ProtocolViolation("maximum packet size 0");
        out->maximum_packet_size = u32;
        break;
      case PropertyId::kWildcardSubscriptionAvailable:
        ok = r.ReadByte(&byte);
        if (strict && ok && byte > 1)
          return ProtocolViolation("wildcard subscription available not 0 or 1");
        out->wildcard_subscription_available = byte;
        break;
      case PropertyId::kSubscriptionIdentifierAvailable:
        ok = r.ReadByte(&byte);
        if (strict && ok && byte > 1) {
          return ProtocolViolation("subscription identifier available not 0 or 1");
        }
        out->subscription_identifier_available = byte;
        break;
      case PropertyId::kSharedSubscriptionAvailable:
        ok = r.ReadByte(&byte);
        if (strict && ok && byte > 1)
          return ProtocolViolation("shared subscription available not 0 or 1");
        out->shared_subscription_available = byte;
        break;
    }
    if (!ok) return MalformedPacket("bad property value");
  }
  if (user_properties > 0) out->user_properties = UserProperties::FromWire(block, user_properties);
  if (subscription_ids > 0)
    out->subscription_ids = SubscriptionIds::FromWire(block, subscription_ids);
  return absl::OkStatus();
}

}  // namespace

OwnedProperties::OwnedProperties(const Properties& properties) {
  bool fits = true;
  auto check = [&fits](const std::optional<std::string_view>& v) {
    if (v && v->size() > 0xFFFF) fits = false;
  };
  for (const auto* v :
       {&properties.content_type, &properties.response_topic, &properties.correlation_data,
        &properties.assigned_client_identifier, &properties.authentication_method,
        &properties.authentication_data, &properties.response_information,
        &properties.server_reference, &properties.reason_string}) {
    check(*v);
  }
  properties.user_properties.ForEach([&fits](std::string_view k, std::string_view v) {
    if (k.size() > 0xFFFF || v.size() > 0xFFFF) fits = false;
  });
  properties.subscription_ids.ForEach([&fits](uint32_t id) {
    if (id > kMaxVarInt) fits = false;
  });
  const size_t block = fits ? PropertiesSize(properties) : 0;
  if (!fits || block > kMaxVarInt) {
    valid_ = false;
    return;
  }
  if (block == 0) return;
  std::string encoded(VarIntSize(static_cast<uint32_t>(block)) + block, '\0');
  Writer w(encoded.data());
  EncodeProperties(properties, block, w);
  wire_ = encoded.substr(encoded.size() - block);
  Rebuild();
}

OwnedProperties OwnedProperties::FromWire(std::string_view block) {
  OwnedProperties owned;
  owned.wire_.assign(block);
  owned.Rebuild();
  return owned;
}

OwnedProperties::OwnedProperties(const OwnedProperties& other)
    : wire_(other.wire_), valid_(other.valid_) {
  Rebuild();
}

OwnedProperties& OwnedProperties::operator=(const OwnedProperties& other) {
  if (this != &other) {
    wire_ = other.wire_;
    valid_ = other.valid_;
    Rebuild();
  }
  return *this;
}

OwnedProperties::OwnedProperties(OwnedProperties&& other) noexcept
    : wire_(std::move(other.wire_)), valid_(other.valid_) {
  Rebuild();
  other.wire_.clear();
  other.view_ = Properties();
}

OwnedProperties& OwnedProperties::operator=(OwnedProperties&& other) noexcept {
  if (this != &other) {
    wire_ = std::move(other.wire_);
    valid_ = other.valid_;
    Rebuild();
    other.wire_.clear();
    other.view_ = Properties();
  }
  return *this;
}

void OwnedProperties::Rebuild() {
  view_ = Properties();
  if (wire_.empty()) return;
  if (!DecodeBlock(wire_, PropertyContext::kAny, &view_).ok()) {
    // Only a caller's invalid strings (bad UTF-8) get here; the block is kept out of use.
    view_ = Properties();
    wire_.clear();
    valid_ = false;
  }
}

size_t PropertiesSize(const Properties& p) {
  size_t n = 0;
  auto byte = [&n](const std::optional<uint8_t>& v) { n += v ? 2 : 0; };
  auto u16 = [&n](const std::optional<uint16_t>& v) { n += v ? 3 : 0; };
  auto u32 = [&n](const std::optional<uint32_t>& v) { n += v ? 5 : 0; };
  auto str = [&n](const std::optional<std::string_view>& v) { n += v ? 3 + v->size() : 0; };
  byte(p.payload_format_indicator);
  u32(p.message_expiry_interval);
  str(p.content_type);
  str(p.response_topic);
  str(p.correlation_data);
  p.subscription_ids.ForEach([&n](uint32_t id) { n += 1 + VarIntSize(id); });
  u32(p.session_expiry_interval);
  str(p.assigned_client_identifier);
  u16(p.server_keep_alive);
  str(p.authentication_method);
  str(p.authentication_data);
  byte(p.request_problem_information);
  u32(p.will_delay_interval);
  byte(p.request_response_information);
  str(p.response_information);
  str(p.server_reference);
  str(p.reason_string);
  u16(p.receive_maximum);
  u16(p.topic_alias_maximum);
  u16(p.topic_alias);
  byte(p.maximum_qos);
  byte(p.retain_available);
  p.user_properties.ForEach(
      [&n](std::string_view k, std::string_view v) { n += 5 + k.size() + v.size(); });
  u32(p.maximum_packet_size);
  byte(p.wildcard_subscription_available);
  byte(p.subscription_identifier_available);
  byte(p.shared_subscription_available);
  return n;
}

size_t PropertiesWireSize(const Properties& props) {
  size_t n = PropertiesSize(props);
  return VarIntSize(static_cast<uint32_t>(n)) + n;
}

void EncodeProperties(const Properties& p, size_t block_size, Writer& w) {
  w.VarInt(static_cast<uint32_t>(block_size));
  auto byte = [&w](PropertyId id, const std::optional<uint8_t>& v) {
    if (v) {
      w.Byte(static_cast<uint8_t>(id));
      w.Byte(*v);
    }
  };
  auto u16 = [&w](PropertyId id, const std::optional<uint16_t>& v) {
    if (v) {
      w.Byte(static_cast<uint8_t>(id));
      w.U16(*v);
    }
  };
  auto u32 = [&w](PropertyId id, const std::optional<uint32_t>& v) {
    if (v) {
      w.Byte(static_cast<uint8_t>(id));
      w.U32(*v);
    }
  };
  auto str = [&w](PropertyId id, const std::optional<std::string_view>& v) {
    if (v) {
      w.Byte(static_cast<uint8_t>(id));
      w.LengthPrefixed(*v);
    }
  };
  using P = PropertyId;
  byte(P::kPayloadFormatIndicator, p.payload_format_indicator);
  u32(P::kMessageExpiryInterval, p.message_expiry_interval);
  str(P::kContentType, p.content_type);
  str(P::kResponseTopic, p.response_topic);
  str(P::kCorrelationData, p.correlation_data);
  p.subscription_ids.ForEach([&w](uint32_t id) {
    w.Byte(static_cast<uint8_t>(P::kSubscriptionIdentifier));
    w.VarInt(id);
  });
  u32(P::kSessionExpiryInterval, p.session_expiry_interval);
  str(P::kAssignedClientIdentifier, p.assigned_client_identifier);
  u16(P::kServerKeepAlive, p.server_keep_alive);
  str(P::kAuthenticationMethod, p.authentication_method);
  str(P::kAuthenticationData, p.authentication_data);
  byte(P::kRequestProblemInformation, p.request_problem_information);
  u32(P::kWillDelayInterval, p.will_delay_interval);
  byte(P::kRequestResponseInformation, p.request_response_information);
  str(P::kResponseInformation, p.response_information);
  str(P::kServerReference, p.server_reference);
  str(P::kReasonString, p.reason_string);
  u16(P::kReceiveMaximum, p.receive_maximum);
  u16(P::kTopicAliasMaximum, p.topic_alias_maximum);
  u16(P::kTopicAlias, p.topic_alias);
  byte(P::kMaximumQoS, p.maximum_qos);
  byte(P::kRetainAvailable, p.retain_available);
  p.user_properties.ForEach([&w](std::string_view k, std::string_view v) {
    w.Byte(static_cast<uint8_t>(P::kUserProperty));
    w.LengthPrefixed(k);
    w.LengthPrefixed(v);
  });
  u32(P::kMaximumPacketSize, p.maximum_packet_size);
  byte(P::kWildcardSubscriptionAvailable, p.wildcard_subscription_available);
  byte(P::kSubscriptionIdentifierAvailable, p.subscription_identifier_available);
  byte(P::kSharedSubscriptionAvailable, p.shared_subscription_available);
}

}  // namespace simq::protocol
