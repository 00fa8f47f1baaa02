// A real Mosquitto broker (Debian's `mosquitto`) for a test: own config file, free loopback
// port, log in the test's temp directory, stopped when the object goes.
//
//   MosquittoServer mosquitto;
//   ASSERT_TRUE(mosquitto.Start()) << mosquitto.error();
//   endpoint.port = mosquitto.port();
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "broker/testing/process.h"

namespace simq::testing {

class MosquittoServer {
 public:
  // `extra_config` lines are appended to the generated mosquitto.conf.
  explicit MosquittoServer(std::string extra_config = "");
  ~MosquittoServer();

  // Starts it and waits until it accepts connections. False (see error()) if the binary is
  // missing or it did not come up; the message says how to install it.
  bool Start();
  void Stop();

  uint16_t port() const { return port_; }
  const std::string& error() const { return error_; }
  std::string Log() const { return process_ ? process_->Log() : ""; }

 private:
  std::string extra_config_;
  uint16_t port_ = 0;
  std::unique_ptr<Process> process_;
  std::string error_;
};

}  // namespace simq::testing
