// A trivial MQTT server that measures the load generator itself: `loadgen sink`.
//
// It accepts any CONNECT (CONNACK success), grants every SUBSCRIBE as asked, acknowledges
// PUBLISH at its QoS (PUBACK, PUBREC → PUBREL → PUBCOMP), answers PINGREQ, and forwards every
// PUBLISH to the connections whose filters match, as a QoS 0 copy (a `$share` group gets it
// once, members in turn). There is no session state, no queue, no backpressure beyond the
// sockets: per message it does a parse, a match against a short list, a memcpy and part of a
// send(). Pointing the load generator at it, instead of at a broker, shows the highest rate the
// generator can reach on this machine, so a broker result close to it is suspect.
//
// One thread, one epoll loop. Runs until SIGINT/SIGTERM; prints a line per second.
#pragma once

#include <string_view>

#include "loadgen/options.h"

namespace simq::loadgen {

// Returns the process exit status.
int RunSink(const Options& options);

// MQTT topic matching of `topic` against a plain (non-shared) `filter`: '+' one level, '#'
// the rest, and no leading wildcard matching a '$' topic [MQTT-4.7.2-1].
bool TopicMatches(std::string_view filter, std::string_view topic);

}  // namespace simq::loadgen
