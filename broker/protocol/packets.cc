#include "broker/protocol/packets.h"

namespace simq::protocol {

PacketType TypeOf(const Packet& packet) {
  return std::visit(
      [](const auto& p) -> PacketType {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, ConnectPacket>) return PacketType::kConnect;
        if constexpr (std::is_same_v<T, ConnackPacket>) return PacketType::kConnack;
        if constexpr (std::is_same_v<T, PublishPacket>) return PacketType::kPublish;
        if constexpr (std::is_same_v<T, SubscribePacket>) return PacketType::kSubscribe;
        if constexpr (std::is_same_v<T, SubackPacket>) return PacketType::kSuback;
        if constexpr (std::is_same_v<T, UnsubscribePacket>) return PacketType::kUnsubscribe;
        if constexpr (std::is_same_v<T, UnsubackPacket>) return PacketType::kUnsuback;
        if constexpr (std::is_same_v<T, PingreqPacket>) return PacketType::kPingreq;
        if constexpr (std::is_same_v<T, PingrespPacket>) return PacketType::kPingresp;
        if constexpr (std::is_same_v<T, DisconnectPacket>) return PacketType::kDisconnect;
        if constexpr (std::is_same_v<T, AuthPacket>) return PacketType::kAuth;
        if constexpr (requires { T::kPacketType; }) return T::kPacketType;
        return PacketType::kReserved;
      },
      packet);
}

}  // namespace simq::protocol
