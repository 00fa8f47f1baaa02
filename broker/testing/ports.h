// Free loopback ports for servers that tests start.
#pragma once

#include <chrono>
#include <cstdint>

namespace simq::testing {

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
uint16_t PickFreePort();

// True once something accepts TCP connections on 127.0.0.1:`port`, polling until `timeout`.
bool WaitForPort(uint16_t port, std::chrono::milliseconds timeout);

}  // namespace simq::testing
