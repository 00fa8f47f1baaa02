// MQTT 5 reason codes (§2.4) and the MQTT 3.1/3.1.1 CONNACK return codes.
//
// Every decode error in the codec carries one of these so that the broker answers with the code
// the specification names: CONNACK before a session exists, DISCONNECT after (MQTT 5), or a
// silent close (3.1.1, which has no DISCONNECT from the server).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "broker/protocol/types.h"

namespace simq::protocol {

enum class ReasonCode : uint8_t {
  kSuccess = 0x00,  // also Normal Disconnection, Granted QoS 0
  kGrantedQoS1 = 0x01,
  kGrantedQoS2 = 0x02,
  kDisconnectWithWillMessage = 0x04,
  kNoMatchingSubscribers = 0x10,
  kNoSubscriptionExisted = 0x11,
  kContinueAuthentication = 0x18,
  kReAuthenticate = 0x19,
  kUnspecifiedError = 0x80,
  kMalformedPacket = 0x81,
  kProtocolError = 0x82,
  kImplementationSpecificError = 0x83,
  kUnsupportedProtocolVersion = 0x84,
  kClientIdentifierNotValid = 0x85,
  kBadUserNameOrPassword = 0x86,
  kNotAuthorized = 0x87,
  kServerUnavailable = 0x88,
  kServerBusy = 0x89,
  kBanned = 0x8A,
  kServerShuttingDown = 0x8B,
  kBadAuthenticationMethod = 0x8C,
  kKeepAliveTimeout = 0x8D,
  kSessionTakenOver = 0x8E,
  kTopicFilterInvalid = 0x8F,
  kTopicNameInvalid = 0x90,
  kPacketIdentifierInUse = 0x91,
  kPacketIdentifierNotFound = 0x92,
  kReceiveMaximumExceeded = 0x93,
  kTopicAliasInvalid = 0x94,
  kPacketTooLarge = 0x95,
  kMessageRateTooHigh = 0x96,
  kQuotaExceeded = 0x97,
  kAdministrativeAction = 0x98,
  kPayloadFormatInvalid = 0x99,
  kRetainNotSupported = 0x9A,
  kQoSNotSupported = 0x9B,
  kUseAnotherServer = 0x9C,
  kServerMoved = 0x9D,
  kSharedSubscriptionsNotSupported = 0x9E,
  kConnectionRateExceeded = 0x9F,
  kMaximumConnectTime = 0xA0,
  kSubscriptionIdentifiersNotSupported = 0xA1,
  kWildcardSubscriptionsNotSupported = 0xA2,
};

// MQTT 3.1 / 3.1.1 CONNACK return codes (§3.2.2.3 of 3.1.1).
enum class ConnectReturnCode : uint8_t {
  kAccepted = 0x00,
  kUnacceptableProtocolVersion = 0x01,
  kIdentifierRejected = 0x02,
  kServerUnavailable = 0x03,
  kBadUserNameOrPassword = 0x04,
  kNotAuthorized = 0x05,
};

// "Malformed Packet", "Session taken over", ... as the specification names them.
std::string_view ReasonCodeName(ReasonCode code);

inline constexpr bool IsError(ReasonCode code) {
  return static_cast<uint8_t>(code) >= 0x80;
}

// The 3.1.1 CONNACK return code closest to an MQTT 5 CONNACK reason (§3.2.2.2 of 5.0 gives the
// correspondence for the ones that exist in both).
ConnectReturnCode ToConnectReturnCode(ReasonCode code);

// Which reason codes each packet may carry (§2.4 table 2-6). Used by the decoder to reject
// values a peer is not allowed to send and by tests to walk every legal code.
bool IsValidReasonCode(PacketType type, ReasonCode code);

}  // namespace simq::protocol
