// Every test of the suite, in the order the runner lists them.

#include "conformance/harness.h"

namespace simq::conformance {

void RegisterAllTests(Registry& r) {
  RegisterConnectTests(r);
  RegisterSessionTests(r);
  RegisterPublishTests(r);
  RegisterSubscribeTests(r);
  RegisterFlowTests(r);
  RegisterErrorTests(r);
}

}  // namespace simq::conformance
