#include "broker/protocol/reason_code.h"

namespace simq::protocol {
namespace {

constexpr uint16_t Bit(PacketType t) {
  return uint16_t{1} << static_cast<int>(t);
}

constexpr uint16_t kConnack = Bit(PacketType::kConnack);
constexpr uint16_t kPuback = Bit(PacketType::kPuback);
constexpr uint16_t kPubrec = Bit(PacketType::kPubrec);
constexpr uint16_t kPubrel = Bit(PacketType::kPubrel);
constexpr uint16_t kPubcomp = Bit(PacketType::kPubcomp);
constexpr uint16_t kSuback = Bit(PacketType::kSuback);
constexpr uint16_t kUnsuback = Bit(PacketType::kUnsuback);
constexpr uint16_t kDisconnect = Bit(PacketType::kDisconnect);
constexpr uint16_t kAuth = Bit(PacketType::kAuth);

// Table 2-6 of MQTT 5.0: which packets may carry each reason code.
uint16_t AllowedIn(ReasonCode code) {
  switch (code) {
    case ReasonCode::kSuccess:
      return kConnack | kPuback | kPubrec | kPubrel | kPubcomp | kUnsuback | kAuth | kDisconnect |
             kSuback;
    case ReasonCode::kGrantedQoS1:
    case ReasonCode::kGrantedQoS2: return kSuback;
    case ReasonCode::kDisconnectWithWillMessage: return kDisconnect;
    case ReasonCode::kNoMatchingSubscribers: return kPuback | kPubrec;
    case ReasonCode::kNoSubscriptionExisted: return kUnsuback;
    case ReasonCode::kContinueAuthentication:
    case ReasonCode::kReAuthenticate: return kAuth;
    case ReasonCode::kUnspecifiedError:
    case ReasonCode::kImplementationSpecificError:
    case ReasonCode::kNotAuthorized:
      return kConnack | kPuback | kPubrec | kSuback | kUnsuback | kDisconnect;
    case ReasonCode::kMalformedPacket:
    case ReasonCode::kProtocolError:
    case ReasonCode::kServerBusy:
    case ReasonCode::kBadAuthenticationMethod:
    case ReasonCode::kPacketTooLarge:
    case ReasonCode::kRetainNotSupported:
    case ReasonCode::kQoSNotSupported:
    case ReasonCode::kUseAnotherServer:
    case ReasonCode::kServerMoved:
    case ReasonCode::kConnectionRateExceeded: return kConnack | kDisconnect;
    case ReasonCode::kUnsupportedProtocolVersion:
    case ReasonCode::kClientIdentifierNotValid:
    case ReasonCode::kBadUserNameOrPassword:
    case ReasonCode::kServerUnavailable:
    case ReasonCode::kBanned: return kConnack;
    case ReasonCode::kServerShuttingDown:
    case ReasonCode::kKeepAliveTimeout:
    case ReasonCode::kSessionTakenOver:
    case ReasonCode::kReceiveMaximumExceeded:
    case ReasonCode::kTopicAliasInvalid:
    case ReasonCode::kMessageRateTooHigh:
    case ReasonCode::kAdministrativeAction:
    case ReasonCode::kMaximumConnectTime: return kDisconnect;
    case ReasonCode::kTopicFilterInvalid: return kSuback | kUnsuback | kDisconnect;
    case ReasonCode::kTopicNameInvalid:
    case ReasonCode::kPayloadFormatInvalid: return kConnack | kPuback | kPubrec | kDisconnect;
    case ReasonCode::kPacketIdentifierInUse: return kPuback | kPubrec | kSuback | kUnsuback;
    case ReasonCode::kPacketIdentifierNotFound: return kPubrel | kPubcomp;
    case ReasonCode::kQuotaExceeded: return kConnack | kPuback | kPubrec | kSuback | kDisconnect;
    case ReasonCode::kSharedSubscriptionsNotSupported:
    case ReasonCode::kSubscriptionIdentifiersNotSupported:
    case ReasonCode::kWildcardSubscriptionsNotSupported: return kSuback | kDisconnect;
  }
  return 0;
}

}  // namespace

std::string_view ProtocolVersionName(ProtocolVersion v) {
  switch (v) {
    case ProtocolVersion::kMqtt31: return "MQTT 3.1";
    case ProtocolVersion::kMqtt311: return "MQTT 3.1.1";
    case ProtocolVersion::kMqtt5: return "MQTT 5.0";
  }
  return "MQTT ?";
}

std::string_view PacketTypeName(PacketType type) {
  switch (type) {
    case PacketType::kReserved: return "RESERVED";
    case PacketType::kConnect: return "CONNECT";
    case PacketType::kConnack: return "CONNACK";
    case PacketType::kPublish: return "PUBLISH";
    case PacketType::kPuback: return "PUBACK";
    case PacketType::kPubrec: return "PUBREC";
    case PacketType::kPubrel: return "PUBREL";
    case PacketType::kPubcomp: return "PUBCOMP";
    case PacketType::kSubscribe: return "SUBSCRIBE";
    case PacketType::kSuback: return "SUBACK";
    case PacketType::kUnsubscribe: return "UNSUBSCRIBE";
    case PacketType::kUnsuback: return "UNSUBACK";
    case PacketType::kPingreq: return "PINGREQ";
    case PacketType::kPingresp: return "PINGRESP";
    case PacketType::kDisconnect: return "DISCONNECT";
    case PacketType::kAuth: return "AUTH";
  }
  return "?";
}

std::string_view ReasonCodeName(ReasonCode code) {
  switch (code) {
    case ReasonCode::kSuccess: return "Success";
    case ReasonCode::kGrantedQoS1: return "Granted QoS 1";
    case ReasonCode::kGrantedQoS2: return "Granted QoS 2";
    case ReasonCode::kDisconnectWithWillMessage: return "Disconnect with Will Message";
    case ReasonCode::kNoMatchingSubscribers: return "No matching subscribers";
    case ReasonCode::kNoSubscriptionExisted: return "No subscription existed";
    case ReasonCode::kContinueAuthentication: return "Continue authentication";
    case ReasonCode::kReAuthenticate: return "Re-authenticate";
    case ReasonCode::kUnspecifiedError: return "Unspecified error";
    case ReasonCode::kMalformedPacket: return "Malformed Packet";
    case ReasonCode::kProtocolError: return "Protocol Error";
    case ReasonCode::kImplementationSpecificError: return "Implementation specific error";
    case ReasonCode::kUnsupportedProtocolVersion: return "Unsupported Protocol Version";
    case ReasonCode::kClientIdentifierNotValid: return "Client Identifier not valid";
    case ReasonCode::kBadUserNameOrPassword: return "Bad User Name or Password";
    case ReasonCode::kNotAuthorized: return "Not authorized";
    case ReasonCode::kServerUnavailable: return "Server unavailable";
    case ReasonCode::kServerBusy: return "Server busy";
    case ReasonCode::kBanned: return "Banned";
    case ReasonCode::kServerShuttingDown: return "Server shutting down";
    case ReasonCode::kBadAuthenticationMethod: return "Bad authentication method";
    case ReasonCode::kKeepAliveTimeout: return "Keep Alive timeout";
    case ReasonCode::kSessionTakenOver: return "Session taken over";
    case ReasonCode::kTopicFilterInvalid: return "Topic Filter invalid";
    case ReasonCode::kTopicNameInvalid: return "Topic Name invalid";
    case ReasonCode::kPacketIdentifierInUse: return "Packet Identifier in use";
    case ReasonCode::kPacketIdentifierNotFound: return "Packet Identifier not found";
    case ReasonCode::kReceiveMaximumExceeded: return "Receive Maximum exceeded";
    case ReasonCode::kTopicAliasInvalid: return "Topic Alias invalid";
    case ReasonCode::kPacketTooLarge: return "Packet too large";
    case ReasonCode::kMessageRateTooHigh: return "Message rate too high";
    case ReasonCode::kQuotaExceeded: return "Quota exceeded";
    case ReasonCode::kAdministrativeAction: return "Administrative action";
    case ReasonCode::kPayloadFormatInvalid: return "Payload format invalid";
    case ReasonCode::kRetainNotSupported: return "Retain not supported";
    case ReasonCode::kQoSNotSupported: return "QoS not supported";
    case ReasonCode::kUseAnotherServer: return "Use another server";
    case ReasonCode::kServerMoved: return "Server moved";
    case ReasonCode::kSharedSubscriptionsNotSupported: return "Shared Subscriptions not supported";
    case ReasonCode::kConnectionRateExceeded: return "Connection rate exceeded";
    case ReasonCode::kMaximumConnectTime: return "Maximum connect time";
    case ReasonCode::kSubscriptionIdentifiersNotSupported:
      return "Subscription Identifiers not supported";
    case ReasonCode::kWildcardSubscriptionsNotSupported:
      return "Wildcard Subscriptions not supported";
  }
  return "Unknown reason code";
}

ConnectReturnCode ToConnectReturnCode(ReasonCode code) {
  switch (code) {
    case ReasonCode::kSuccess: return ConnectReturnCode::kAccepted;
    case ReasonCode::kUnsupportedProtocolVersion:
      return ConnectReturnCode::kUnacceptableProtocolVersion;
    case ReasonCode::kClientIdentifierNotValid: return ConnectReturnCode::kIdentifierRejected;
    case ReasonCode::kBadUserNameOrPassword:
    case ReasonCode::kBadAuthenticationMethod: return ConnectReturnCode::kBadUserNameOrPassword;
    case ReasonCode::kNotAuthorized:
    case ReasonCode::kBanned: return ConnectReturnCode::kNotAuthorized;
    default: return ConnectReturnCode::kServerUnavailable;
  }
}

bool IsValidReasonCode(PacketType type, ReasonCode code) {
  return (AllowedIn(code) & Bit(type)) != 0;
}

}  // namespace simq::protocol
