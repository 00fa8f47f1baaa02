#include "broker/session/message.h"

namespace simq::session {
namespace {

// The properties that travel with a message from publisher to subscriber (§3.3.2.3).
protocol::Properties PassThrough(const protocol::Properties& in) {
  protocol::Properties out;
  out.payload_format_indicator = in.payload_format_indicator;
  out.content_type = in.content_type;
  out.response_topic = in.response_topic;
  out.correlation_data = in.correlation_data;
  out.user_properties = in.user_properties;
  return out;
}

base::MonoTime ExpiryOf(const protocol::Properties& props, base::MonoTime now) {
  if (!props.message_expiry_interval) return base::MonoTime::max();
  return now + std::chrono::seconds(*props.message_expiry_interval);
}

}  // namespace

std::optional<uint32_t> Message::RemainingExpiry(base::MonoTime now) const {
  if (expires_at == base::MonoTime::max()) return std::nullopt;
  if (now >= expires_at) return 0;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(expires_at - now).count();
  return static_cast<uint32_t>((left + 999) / 1000);
}

MessagePtr MakeMessage(const protocol::PublishPacket& publish, uint64_t publisher_session,
                       base::MonoTime now) {
  auto m = std::make_shared<Message>();
  m->topic.assign(publish.topic);
  m->payload.assign(publish.payload);
  m->qos = publish.qos;
  m->retain = publish.retain;
  m->properties = protocol::OwnedProperties(PassThrough(publish.properties));
  m->expires_at = ExpiryOf(publish.properties, now);
  m->publisher_session = publisher_session;
  return m;
}

MessagePtr MakeWillMessage(const protocol::Will& will, uint64_t publisher_session,
                           base::MonoTime now) {
  auto m = std::make_shared<Message>();
  m->topic.assign(will.topic);
  m->payload.assign(will.payload);
  m->qos = will.qos;
  m->retain = will.retain;
  m->properties = protocol::OwnedProperties(PassThrough(will.properties));
  m->expires_at = ExpiryOf(will.properties, now);
  m->publisher_session = publisher_session;
  return m;
}

}  // namespace simq::session
