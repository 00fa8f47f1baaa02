// Runs a list of conformance tests against one server and prints one line per test:
//
//   PASS MQTT_3_1_2_25_DropsOversizedPacket
//   FAIL MQTT_3_3_4_9_...: <what was sent, what was expected, what was observed>
//   SKIP MQTT_3_2_2_12_...: <why the test does not apply to this server>
//   ...
//   212 passed, 1 failed, 9 skipped
//
// Tests run `jobs` at a time on one io_context thread (each uses its own client identifiers and
// topics, so they do not interfere); lines are printed in list order. Before the tests, one MQTT
// 5 connection reads the server's CONNACK properties (Capabilities).
#pragma once

#include <ostream>
#include <vector>

#include "conformance/harness.h"

namespace simq::conformance {

struct RunResult {
  int passed = 0;
  int failed = 0;
  int skipped = 0;
};

RunResult RunTests(const std::vector<const TestCase*>& tests, const Options& options, int jobs,
                   std::ostream& out);

}  // namespace simq::conformance
